//! Bearer tokens (RFC 6750): the secret a request must present as `Authorization: Bearer
//! TOKEN`, checked in constant time, and never shown in logs or `Debug` output.

use std::fmt;

/// A secret that `Authorization: Bearer` must match exactly. Made with [`BearerToken::new`]
/// from a non-empty `token68` (RFC 9110 §11.2: letters, digits, `-._~+/`, then `=`s).
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken(String);

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BearerToken(<secret>)")
    }
}

impl BearerToken {
    /// The token `text`, or why it cannot be one.
    pub fn new(text: &str) -> Result<Self, String> {
        let body = text.trim_end_matches('=');
        let valid = !body.is_empty()
            && body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
        if valid {
            Ok(BearerToken(text.to_owned()))
        } else {
            Err("expected a token of letters, digits and -._~+/ (then any =)".into())
        }
    }

    /// True if `authorization` (an `Authorization` header's value) is `Bearer` (any case),
    /// one space or more, and exactly this token. The comparison takes the same time
    /// whichever byte differs, and depends on the length of what was sent, not on the secret.
    pub fn admits(&self, authorization: &[u8]) -> bool {
        let Some(sent) = strip_scheme(authorization) else {
            return false;
        };
        let secret = self.0.as_bytes();
        let mut difference = sent.len() ^ secret.len();
        for (i, &byte) in sent.iter().enumerate() {
            // `secret` is never empty (see `new`).
            let expected = secret.get(i % secret.len().max(1)).copied().unwrap_or(0);
            difference |= usize::from(byte ^ expected);
        }
        std::hint::black_box(difference) == 0
    }
}

/// What follows `Bearer` and its spaces, if the value starts with that scheme.
fn strip_scheme(value: &[u8]) -> Option<&[u8]> {
    let scheme = value.get(..6)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let rest = value.get(6..)?;
    let spaces = rest.iter().take_while(|&&b| b == b' ').count();
    if spaces == 0 {
        return None;
    }
    let token = rest.get(spaces..)?;
    Some(token.trim_ascii_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_made_and_refused() {
        for good in ["s3cret", "a-b.c_d~e+f/g", "abc==", "x"] {
            assert!(BearerToken::new(good).is_ok(), "{good}");
        }
        for bad in ["", "=", "two words", "tab\t", "quote\"", "ü"] {
            assert!(BearerToken::new(bad).is_err(), "{bad:?}");
        }
        let debug = format!("{:?}", BearerToken::new("hunter2").unwrap());
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn authorization_values() {
        let token = BearerToken::new("s3cret").unwrap();
        for (value, want) in [
            (&b"Bearer s3cret"[..], true),
            (b"bearer s3cret", true),
            (b"BEARER   s3cret ", true),
            (b"Bearer s3cre", false),
            (b"Bearer s3cret2", false),
            (b"Bearer s3creT", false),
            (b"Bearer s3cret3cret", false),
            (b"Bearer ", false),
            (b"Bearers3cret", false),
            (b"Basic s3cret", false),
            (b"s3cret", false),
            (b"", false),
        ] {
            assert_eq!(
                token.admits(value),
                want,
                "{:?}",
                String::from_utf8_lossy(value)
            );
        }
    }
}
