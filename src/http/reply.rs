//! What a request is answered with: a prepared response, and for a file too large to keep in
//! memory, the region of the open file that is its body, read from disk piece by piece as the
//! socket drains (never whole).

use super::{PreparedResponse, Response};
use std::fs::File;
use std::io;
#[cfg(unix)]
use std::os::unix::fs::FileExt;

/// A response ready to send.
#[derive(Debug)]
pub struct Reply {
    /// The head, and the body when it is in memory.
    pub response: PreparedResponse,
    /// The body, when it is read from disk instead (the head's `Content-Length` is its
    /// length; `response` then has no body of its own).
    pub file: Option<FileRegion>,
}

impl From<PreparedResponse> for Reply {
    fn from(response: PreparedResponse) -> Self {
        Reply {
            response,
            file: None,
        }
    }
}

impl From<Response> for Reply {
    fn from(response: Response) -> Self {
        PreparedResponse::from(response).into()
    }
}

/// Bytes `next..end` of an open file: one file descriptor per transfer, read with positioned
/// reads (`pread`), so what the socket did not take is simply read again from the page cache
/// next time rather than held in a buffer per connection.
#[derive(Debug)]
pub struct FileRegion {
    file: File,
    next: u64,
    end: u64,
}

impl FileRegion {
    /// `len` bytes of `file` from offset `first`.
    pub fn new(file: File, first: u64, len: u64) -> Self {
        FileRegion {
            file,
            next: first,
            end: first.saturating_add(len),
        }
    }

    /// Bytes not yet sent.
    pub fn remaining(&self) -> u64 {
        self.end - self.next
    }

    /// Read the next bytes into `buf` (at most its length, and at most what remains) without
    /// moving on: [`advance`](FileRegion::advance) by what the socket took. A file that
    /// ends before the region does (it shrank after its length was sent) is an error.
    pub fn peek<'b>(&self, buf: &'b mut [u8]) -> io::Result<&'b [u8]> {
        let want = usize::try_from(self.remaining()).map_or(buf.len(), |left| left.min(buf.len()));
        let buf = &mut buf[..want];
        if buf.is_empty() {
            return Ok(buf);
        }
        loop {
            match read_at(&self.file, buf, self.next) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the file shrank while it was being sent",
                    ))
                }
                Ok(n) => return Ok(&buf[..n]),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
        }
    }

    /// The socket took `n` more bytes of the region.
    pub fn advance(&mut self, n: usize) {
        self.next = (self.next + n as u64).min(self.end);
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    file.read_at(buf, offset)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_region_piece_by_piece_and_again_what_was_not_taken() {
        let path = std::env::temp_dir().join(format!("wsloop-region-{}", std::process::id()));
        std::fs::write(&path, b"0123456789").unwrap();
        let mut region = FileRegion::new(File::open(&path).unwrap(), 2, 6);
        let mut buf = [0; 4];
        assert_eq!(region.peek(&mut buf).unwrap(), b"2345");
        // The socket took one byte: the next read starts right after it.
        region.advance(1);
        assert_eq!(region.peek(&mut buf).unwrap(), b"3456");
        region.advance(4);
        assert_eq!(region.remaining(), 1);
        assert_eq!(region.peek(&mut buf).unwrap(), b"7");
        region.advance(1);
        assert_eq!(region.peek(&mut buf).unwrap(), b"");

        let mut past_the_end = FileRegion::new(File::open(&path).unwrap(), 8, 5);
        assert_eq!(past_the_end.peek(&mut buf).unwrap(), b"89");
        past_the_end.advance(2);
        let err = past_the_end.peek(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        std::fs::remove_file(path).unwrap();
    }
}
