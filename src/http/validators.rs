//! What tells one version of a file from the next (its entity tag and modification date, RFC
//! 9110 §8.8), and the conditional request headers evaluated against them (§13): `If-Match`,
//! `If-Unmodified-Since`, `If-None-Match`, `If-Modified-Since` and `If-Range`. Pure functions
//! over header values.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A file's validators, formatted once when its cache entry is built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// The strong entity tag, quotes included: `"<length hex>-<mtime ns hex>"` plus the
    /// content coding of a precompressed variant (`"...-gzip"`), so every version and every
    /// variant has its own.
    etag: String,
    /// The modification time, to the second (never later than when the entry was built).
    modified: SystemTime,
    /// `modified` as an IMF-fixdate, the `Last-Modified` value.
    last_modified: String,
    /// RFC 9110 §8.8.2.2: a date is a strong validator only if the file was last modified at
    /// least a second before the server looked at it (no second change can hide in it).
    date_is_strong: bool,
}

impl Validators {
    /// The validators of a file of `len` bytes last modified at `modified` (`None` if the
    /// filesystem keeps no time: then there are none, and every request gets the whole file),
    /// seen at `now`; `coding` names a precompressed variant.
    pub fn new(
        len: u64,
        modified: Option<SystemTime>,
        coding: Option<&str>,
        now: SystemTime,
    ) -> Option<Self> {
        let exact = modified?.duration_since(UNIX_EPOCH).ok()?;
        let etag = match coding {
            Some(coding) => format!("\"{len:x}-{:x}-{coding}\"", exact.as_nanos()),
            None => format!("\"{len:x}-{:x}\"", exact.as_nanos()),
        };
        // A file "modified in the future" is reported as modified now (RFC 9110 §8.8.2.1).
        let now_secs = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let secs = exact.as_secs().min(now_secs);
        let modified = UNIX_EPOCH + Duration::from_secs(secs);
        Some(Validators {
            etag,
            modified,
            last_modified: httpdate::fmt_http_date(modified),
            date_is_strong: secs < now_secs,
        })
    }

    /// The `ETag` value.
    pub fn etag(&self) -> &str {
        &self.etag
    }

    /// The `Last-Modified` value.
    pub fn last_modified(&self) -> &str {
        &self.last_modified
    }
}

/// The conditional headers of a request, as received (`None`: absent).
#[derive(Debug, Clone, Copy, Default)]
pub struct Conditions<'a> {
    /// `If-Match`: send only this version (`412` otherwise).
    pub if_match: Option<&'a [u8]>,
    /// `If-None-Match`: the client has these versions (`304` for them).
    pub if_none_match: Option<&'a [u8]>,
    /// `If-Modified-Since`: the client has the version of that date.
    pub if_modified_since: Option<&'a [u8]>,
    /// `If-Unmodified-Since`: send only a version no newer (`412` otherwise).
    pub if_unmodified_since: Option<&'a [u8]>,
}

/// What the preconditions say about a GET or HEAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Send the file (or the range asked for).
    Proceed,
    /// `304 Not Modified`: the client's copy is current.
    NotModified,
    /// `412 Precondition Failed`.
    Failed,
}

/// Evaluate the preconditions of a GET or HEAD in the order of RFC 9110 §13.2.2. Without
/// validators no tag and no date can match: `If-Match` fails, the rest let the file go out.
pub fn evaluate(conditions: &Conditions<'_>, validators: Option<&Validators>) -> Precondition {
    // 1 and 2: the client wants this exact version (If-Unmodified-Since only without If-Match).
    if let Some(if_match) = conditions.if_match {
        let matches = match validators {
            Some(v) => tag_list_matches(if_match, &v.etag, Comparison::Strong),
            None => false,
        };
        if !matches {
            return Precondition::Failed;
        }
    } else if let (Some(date), Some(v)) = (conditions.if_unmodified_since, validators) {
        if parse_date(date).is_some_and(|date| v.modified > date) {
            return Precondition::Failed;
        }
    }
    // 3 and 4: the client has a copy; If-Modified-Since only without If-None-Match.
    if let Some(if_none_match) = conditions.if_none_match {
        if validators.is_some_and(|v| tag_list_matches(if_none_match, &v.etag, Comparison::Weak)) {
            return Precondition::NotModified;
        }
    } else if let (Some(date), Some(v)) = (conditions.if_modified_since, validators) {
        if parse_date(date).is_some_and(|date| v.modified <= date) {
            return Precondition::NotModified;
        }
    }
    Precondition::Proceed
}

/// True if an `If-Range` value lets a `Range` apply (RFC 9110 §13.1.5): an entity tag equal to
/// the current one by strong comparison, or a date equal to `Last-Modified` when that date is
/// strong. Anything else (a weak tag, another date, garbage) means: send the whole file.
pub fn if_range_matches(value: &[u8], validators: Option<&Validators>) -> bool {
    let Some(v) = validators else {
        return false;
    };
    let value = value.trim_ascii();
    if value.starts_with(b"\"") || value.starts_with(b"W/") {
        return matches!(parse_entity_tag(value), Some((tag, b"")) if tag.strongly_equals(&v.etag));
    }
    v.date_is_strong && parse_date(value) == Some(v.modified)
}

/// An HTTP-date in any of the three forms RFC 9110 §5.6.7 requires recipients to accept.
fn parse_date(value: &[u8]) -> Option<SystemTime> {
    let text = std::str::from_utf8(value.trim_ascii()).ok()?;
    httpdate::parse_http_date(text).ok()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Comparison {
    /// Both tags strong and equal (If-Match, If-Range).
    Strong,
    /// Equal opaque parts, weak or not (If-None-Match).
    Weak,
}

/// One entity tag from a request.
#[derive(Debug, PartialEq, Eq)]
struct EntityTag<'a> {
    weak: bool,
    /// The opaque tag, quotes included.
    opaque: &'a [u8],
}

impl EntityTag<'_> {
    fn strongly_equals(&self, ours: &str) -> bool {
        !self.weak && self.opaque == ours.as_bytes()
    }
}

/// True if the `If-Match`/`If-None-Match` value is `*` (there is a current version: we have
/// one) or lists a tag equal to `ours`. A malformed list matches nothing.
fn tag_list_matches(value: &[u8], ours: &str, comparison: Comparison) -> bool {
    let mut rest = value.trim_ascii();
    if rest == b"*" {
        return true;
    }
    let mut found = false;
    loop {
        rest = skip_separators(rest);
        if rest.is_empty() {
            return found;
        }
        let Some((tag, after)) = parse_entity_tag(rest) else {
            return false;
        };
        found |= match comparison {
            Comparison::Strong => tag.strongly_equals(ours),
            Comparison::Weak => tag.opaque == ours.as_bytes(),
        };
        rest = after.trim_ascii_start();
        if !rest.is_empty() && !rest.starts_with(b",") {
            return false;
        }
    }
}

/// Skip the whitespace and (empty) list elements before the next entity tag.
fn skip_separators(mut value: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b',', rest @ ..] = value {
        value = rest;
    }
    value
}

/// `[W/] DQUOTE *etagc DQUOTE` at the start of `value`, and what follows it.
fn parse_entity_tag(value: &[u8]) -> Option<(EntityTag<'_>, &[u8])> {
    let (weak, quoted) = match value.strip_prefix(b"W/") {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let inner = quoted.strip_prefix(b"\"")?;
    let close = inner.iter().position(|&b| b == b'"')?;
    if !inner[..close].iter().all(|&b| is_etagc(b)) {
        return None;
    }
    let (opaque, rest) = quoted.split_at(close + 2);
    Some((EntityTag { weak, opaque }, rest))
}

/// `etagc = %x21 / %x23-7E / obs-text`.
fn is_etagc(b: u8) -> bool {
    b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-01 10:00:00 UTC and a little, as a file's mtime.
    fn mtime() -> SystemTime {
        UNIX_EPOCH + Duration::new(1_796_119_200, 123_456_789)
    }

    fn validators() -> Validators {
        Validators::new(
            0x1234,
            Some(mtime()),
            None,
            mtime() + Duration::from_secs(60),
        )
        .unwrap()
    }

    #[test]
    fn formats_tag_and_date_once() {
        let v = validators();
        assert_eq!(
            v.etag(),
            format!(
                "\"1234-{:x}\"",
                mtime().duration_since(UNIX_EPOCH).unwrap().as_nanos()
            )
        );
        assert_eq!(v.last_modified(), "Tue, 01 Dec 2026 10:00:00 GMT");
        let gz = Validators::new(0x1234, Some(mtime()), Some("gzip"), SystemTime::now()).unwrap();
        assert!(gz.etag().ends_with("-gzip\"") && gz.etag() != v.etag());
        assert!(Validators::new(1, None, None, SystemTime::now()).is_none());
    }

    #[test]
    fn a_future_mtime_is_reported_as_now() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let v = Validators::new(1, Some(now + Duration::from_secs(3600)), None, now).unwrap();
        assert_eq!(v.last_modified(), httpdate::fmt_http_date(now));
        assert!(!v.date_is_strong);
    }

    fn eval(
        if_match: Option<&str>,
        if_none_match: Option<&str>,
        ims: Option<&str>,
        ius: Option<&str>,
    ) -> Precondition {
        let conditions = Conditions {
            if_match: if_match.map(str::as_bytes),
            if_none_match: if_none_match.map(str::as_bytes),
            if_modified_since: ims.map(str::as_bytes),
            if_unmodified_since: ius.map(str::as_bytes),
        };
        evaluate(&conditions, Some(&validators()))
    }

    #[test]
    fn preconditions_table() {
        use Precondition::*;
        let tag = validators().etag().to_owned();
        let weak = format!("W/{tag}");
        let list = format!("\"other\", {weak} ,\"x\"");
        let exact = "Tue, 01 Dec 2026 10:00:00 GMT";
        let before = "Tue, 01 Dec 2026 09:59:59 GMT";
        let after = "Tue, 01 Dec 2026 10:00:01 GMT";
        let rfc850 = "Tuesday, 01-Dec-26 10:00:00 GMT";
        let asctime = "Tue Dec  1 10:00:00 2026";
        for (if_match, inm, ims, ius, want) in [
            (None, None, None, None, Proceed),
            // If-None-Match: weak comparison, lists, *, malformed lists.
            (None, Some(tag.as_str()), None, None, NotModified),
            (None, Some(weak.as_str()), None, None, NotModified),
            (None, Some(list.as_str()), None, None, NotModified),
            (None, Some("*"), None, None, NotModified),
            (None, Some("\"other\""), None, None, Proceed),
            (None, Some("garbage"), None, None, Proceed),
            (None, Some(&tag[1..]), None, None, Proceed),
            // If-Modified-Since, in all three date forms; bad dates are ignored.
            (None, None, Some(exact), None, NotModified),
            (None, None, Some(after), None, NotModified),
            (None, None, Some(before), None, Proceed),
            (None, None, Some(rfc850), None, NotModified),
            (None, None, Some(asctime), None, NotModified),
            (None, None, Some("yesterday"), None, Proceed),
            (
                None,
                None,
                Some("Tue, 01 Dec 2026 10:00:00 GMT, x"),
                None,
                Proceed,
            ),
            // If-None-Match wins over If-Modified-Since, both ways.
            (None, Some("\"other\""), Some(after), None, Proceed),
            (None, Some(tag.as_str()), Some(before), None, NotModified),
            // If-Match: strong comparison; a weak tag never matches.
            (Some(tag.as_str()), None, None, None, Proceed),
            (Some("*"), None, None, None, Proceed),
            (Some(weak.as_str()), None, None, None, Failed),
            (Some("\"other\""), None, None, None, Failed),
            (
                Some(tag.as_str()),
                Some(tag.as_str()),
                None,
                None,
                NotModified,
            ),
            // If-Unmodified-Since, ignored when If-Match is present.
            (None, None, None, Some(before), Failed),
            (None, None, None, Some(exact), Proceed),
            (Some(tag.as_str()), None, None, Some(before), Proceed),
            (None, None, None, Some("nonsense"), Proceed),
        ] {
            assert_eq!(
                eval(if_match, inm, ims, ius),
                want,
                "If-Match {if_match:?} If-None-Match {inm:?} IMS {ims:?} IUS {ius:?}"
            );
        }
    }

    #[test]
    fn without_validators_nothing_matches() {
        let conditions = Conditions {
            if_none_match: Some(b"*"),
            ..Default::default()
        };
        assert_eq!(evaluate(&conditions, None), Precondition::Proceed);
        let conditions = Conditions {
            if_match: Some(b"*"),
            ..Default::default()
        };
        assert_eq!(evaluate(&conditions, None), Precondition::Failed);
        assert!(!if_range_matches(b"\"x\"", None));
    }

    #[test]
    fn if_range_table() {
        let v = validators();
        let tag = v.etag().to_owned();
        for (value, want) in [
            (tag.as_str(), true),
            (&format!("  {tag} "), true),
            (&format!("W/{tag}"), false),
            ("\"other\"", false),
            (&format!("{tag}, \"other\""), false),
            ("Tue, 01 Dec 2026 10:00:00 GMT", true),
            ("Tue, 01 Dec 2026 10:00:01 GMT", false),
            ("Tue, 01 Dec 2026 09:59:59 GMT", false),
            ("", false),
            ("junk", false),
        ] {
            assert_eq!(
                if_range_matches(value.as_bytes(), Some(&v)),
                want,
                "{value:?}"
            );
        }
        // A date that is not strong (the file changed in the second it was looked at) never
        // lets a range through.
        let now = mtime();
        let weak_date = Validators::new(1, Some(now), None, now).unwrap();
        assert!(!if_range_matches(
            weak_date.last_modified().as_bytes(),
            Some(&weak_date)
        ));
    }

    #[test]
    fn entity_tag_lexing() {
        assert_eq!(
            parse_entity_tag(b"W/\"a\" rest"),
            Some((
                EntityTag {
                    weak: true,
                    opaque: b"\"a\""
                },
                &b" rest"[..]
            ))
        );
        assert_eq!(
            parse_entity_tag(b"\"\""),
            Some((
                EntityTag {
                    weak: false,
                    opaque: b"\"\""
                },
                &b""[..]
            ))
        );
        assert_eq!(parse_entity_tag(b"\"a"), None);
        assert_eq!(parse_entity_tag(b"a\""), None);
        assert_eq!(parse_entity_tag(b"\"a b\""), None);
        assert!(tag_list_matches(
            b"\"a,b\", \"c\"",
            "\"c\"",
            Comparison::Weak
        ));
        assert!(tag_list_matches(b"\"a,b\"", "\"a,b\"", Comparison::Weak));
        assert!(!tag_list_matches(b"\"a\" \"c\"", "\"c\"", Comparison::Weak));
        assert!(!tag_list_matches(b"", "\"c\"", Comparison::Weak));
    }
}
