//! One static file as the cache holds it: the plain file and its precompressed variants
//! (`FILE.br`, `FILE.gz`), each with its validators, its `200` and `304` heads serialized
//! once and, when small enough, its content; and the answer to one GET or HEAD from them
//! (`200`, `206`, `304`, `412`, `416`), its body from memory or a region of the file on disk.

use super::accept_encoding::{self, Coding};
use super::file_request::FileRequest;
use super::mime::mime_type;
use super::range::{parse_range, ByteRange, RangeRequest};
use super::reply::{FileRegion, Reply};
use super::static_files::{find, sibling};
use super::validators::{evaluate, if_range_matches, Precondition, Validators};
use super::{PreparedResponse, Response};
use bytes::Bytes;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// How entries are built: limits, and the caching header every file response carries.
#[derive(Debug, Clone)]
pub struct FilePolicy {
    /// Largest file served: a larger plain file is a `500`, a larger variant is left out.
    pub max_file_bytes: u64,
    /// Most bytes of content one entry keeps in memory; variants that do not fit are read
    /// from disk, as the socket drains, for each request.
    pub max_memory_bytes: u64,
    /// The `Cache-Control` value of file responses; empty: none is sent.
    pub cache_control: String,
}

/// A file's length and modification time: what says it changed.
type Stamp = (u64, Option<SystemTime>);

/// The variant that was to be sent changed on disk since the entry was built: build it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stale;

/// A static file and its precompressed variants.
#[derive(Debug)]
pub struct FileEntry {
    plain: Variant,
    /// In the server's order of preference ([`Coding::ALL`]).
    encoded: Vec<Variant>,
    /// Every path looked at when the entry was built and what was there (`None`: no file),
    /// so a recheck sees a variant appear or go as well as a change.
    observed: Vec<(PathBuf, Option<Stamp>)>,
}

/// One file of an entry: the plain file or one precompressed variant.
#[derive(Debug)]
struct Variant {
    coding: Option<Coding>,
    path: PathBuf,
    stamp: Stamp,
    validators: Option<Validators>,
    /// The content, when kept in memory (else read from disk per request).
    memory: Option<Bytes>,
    /// The `200` head (and body when in memory), serialized once.
    whole: PreparedResponse,
    /// The `304` head.
    not_modified: PreparedResponse,
    /// Headers a `206` repeats from the `200` (the range's are added per request).
    content_type: &'static str,
    common: Vec<(&'static str, String)>,
}

impl FileEntry {
    /// Resolve `request_path` under `root` and open the file and its variants; errors come
    /// back as the response to send (`400`, `404`, `500`).
    pub fn load(
        root: &Path,
        request_path: &str,
        policy: &FilePolicy,
        now: SystemTime,
    ) -> Result<FileEntry, Response> {
        let path = find(root, request_path)?;
        let plain = Opened::open(&path).map_err(open_error)?;
        if plain.len() > policy.max_file_bytes {
            return Err(Response::error(500, "file too large to serve"));
        }
        let mut observed = vec![(path.clone(), stamp_of(&path))];
        let mut encoded = Vec::new();
        for coding in Coding::ALL {
            let mut name = path.as_os_str().to_owned();
            name.push(coding.suffix());
            let name = PathBuf::from(name);
            observed.push((name.clone(), stamp_of(&name)));
            let variant = sibling(root, &path, coding.suffix())
                .and_then(|variant| Some((Opened::open(&variant).ok()?, variant)))
                .filter(|(opened, _)| opened.len() <= policy.max_file_bytes);
            encoded.extend(variant.map(|(opened, path)| (coding, opened, path)));
        }
        // Memory goes to the variants first (what browsers fetch), then the plain file.
        let mut room = policy.max_memory_bytes;
        let mut keep = |len: u64| {
            let fits = len <= room;
            room -= if fits { len } else { 0 };
            fits
        };
        let in_memory: Vec<bool> = encoded.iter().map(|(_, o, _)| keep(o.len())).collect();
        let plain_in_memory = keep(plain.len());
        let shared = Shared {
            content_type: mime_type(&path),
            cache_control: &policy.cache_control,
            vary: !encoded.is_empty(),
            now,
        };
        let encoded = encoded
            .into_iter()
            .zip(in_memory)
            .map(|((coding, opened, path), memory)| {
                shared.variant(Some(coding), opened, path, memory)
            })
            .collect::<io::Result<_>>()
            .map_err(read_error)?;
        let plain = shared
            .variant(None, plain, path, plain_in_memory)
            .map_err(read_error)?;
        Ok(FileEntry {
            plain,
            encoded,
            observed,
        })
    }

    /// True if every path looked at still holds what it held (one `stat` each).
    pub fn unchanged_on_disk(&self) -> bool {
        self.observed
            .iter()
            .all(|(path, stamp)| stamp_of(path) == *stamp)
    }

    /// Bytes of memory the entry holds: contents and heads.
    pub fn held_bytes(&self) -> usize {
        self.variants().map(Variant::held_bytes).sum()
    }

    /// The response to a GET or HEAD, in the order of RFC 9110 §13.2.2: the variant
    /// `Accept-Encoding` allows, its preconditions (`412`, `304`), then `Range` (`206`,
    /// `416`) unless `If-Range` says the client's copy is another version; else `200`.
    pub fn answer(&self, request: &FileRequest<'_>) -> Result<Reply, Stale> {
        let variant = self.variant_for(request.accept_encoding.as_deref());
        match evaluate(&request.conditions(), variant.validators.as_ref()) {
            Precondition::Failed => {
                return Ok(Response::error(412, "precondition failed").into());
            }
            Precondition::NotModified => return Ok(variant.not_modified.clone().into()),
            Precondition::Proceed => {}
        }
        let len = variant.stamp.0;
        let if_range_holds = |value: &[u8]| if_range_matches(value, variant.validators.as_ref());
        let range = match request.range() {
            Some(range) if request.if_range.as_deref().is_none_or(if_range_holds) => {
                parse_range(range, len)
            }
            _ => RangeRequest::Whole,
        };
        match range {
            RangeRequest::Whole => variant.send(variant.whole.clone(), 0, len, request.head_only),
            RangeRequest::Part(part) => {
                variant.send(variant.partial(part), part.first, part.len(), false)
            }
            RangeRequest::Unsatisfiable => Ok(Response::error(416, "range not satisfiable")
                .with_header("Content-Range", format!("bytes */{len}"))
                .into()),
        }
    }

    fn variants(&self) -> impl Iterator<Item = &Variant> {
        std::iter::once(&self.plain).chain(&self.encoded)
    }

    fn variant_for(&self, accept_encoding: Option<&[u8]>) -> &Variant {
        if self.encoded.is_empty() {
            return &self.plain;
        }
        let chosen = accept_encoding::choose(
            accept_encoding,
            self.encoded.iter().filter_map(|v| v.coding),
        );
        self.encoded
            .iter()
            .find(|variant| chosen.is_some() && variant.coding == chosen)
            .unwrap_or(&self.plain)
    }
}

impl Variant {
    /// `head`, with its body: in it already when the variant is in memory, else the region
    /// `first..first + len` of the file, opened again now (and checked to be the same file).
    fn send(
        &self,
        head: PreparedResponse,
        first: u64,
        len: u64,
        head_only: bool,
    ) -> Result<Reply, Stale> {
        if self.memory.is_some() || head_only {
            return Ok(head.into());
        }
        let opened = Opened::open(&self.path).map_err(|_| Stale)?;
        if opened.stamp != self.stamp {
            return Err(Stale);
        }
        Ok(Reply {
            response: head,
            file: Some(FileRegion::new(opened.file, first, len)),
        })
    }

    /// The `206` head (and body from memory) for `part`.
    fn partial(&self, part: ByteRange) -> PreparedResponse {
        let body = match &self.memory {
            // The range lies within the content: `parse_range` saw its length.
            Some(content) => content.slice(part.first as usize..=part.last as usize),
            None => Bytes::new(),
        };
        let mut response = Response::new(206).with_body(self.content_type, body);
        for (name, value) in &self.common {
            response = response.with_header(*name, value.as_str());
        }
        let response = response.with_header("Content-Range", part.content_range(self.stamp.0));
        if self.memory.is_some() {
            response.into()
        } else {
            PreparedResponse::for_length(&response, part.len())
        }
    }

    fn held_bytes(&self) -> usize {
        let heads = self.whole.head_len() + self.not_modified.head_len();
        self.memory.as_ref().map_or(0, Bytes::len) + heads
    }
}

/// What every variant of an entry shares while it is built.
struct Shared<'a> {
    content_type: &'static str,
    cache_control: &'a str,
    /// Some variant exists: responses say they depend on `Accept-Encoding`.
    vary: bool,
    now: SystemTime,
}

impl Shared<'_> {
    /// Finish an opened file as a variant: read it if it is kept in memory, and serialize its
    /// `200` and `304` heads.
    fn variant(
        &self,
        coding: Option<Coding>,
        opened: Opened,
        path: PathBuf,
        in_memory: bool,
    ) -> io::Result<Variant> {
        let stamp = opened.stamp;
        let validators = Validators::new(stamp.0, stamp.1, coding.map(Coding::token), self.now);
        let memory = if in_memory {
            Some(opened.read_whole()?)
        } else {
            None
        };
        let mut revalidation = Vec::new();
        if let Some(v) = &validators {
            revalidation.push(("ETag", v.etag().to_owned()));
            revalidation.push(("Last-Modified", v.last_modified().to_owned()));
        }
        if !self.cache_control.is_empty() {
            revalidation.push(("Cache-Control", self.cache_control.to_owned()));
        }
        if self.vary {
            revalidation.push(("Vary", "Accept-Encoding".to_owned()));
        }
        let not_modified = with_headers(Response::new(304), &revalidation).into();
        let mut common = revalidation;
        common.push(("Accept-Ranges", "bytes".to_owned()));
        if let Some(coding) = coding {
            common.push(("Content-Encoding", coding.token().to_owned()));
        }
        let body = memory.clone().unwrap_or_default();
        let whole = with_headers(
            Response::new(200).with_body(self.content_type, body),
            &common,
        );
        let whole = match memory {
            Some(_) => whole.into(),
            None => PreparedResponse::for_length(&whole, stamp.0),
        };
        Ok(Variant {
            coding,
            path,
            stamp,
            validators,
            memory,
            whole,
            not_modified,
            content_type: self.content_type,
            common,
        })
    }
}

fn with_headers(mut response: Response, headers: &[(&'static str, String)]) -> Response {
    for (name, value) in headers {
        response = response.with_header(*name, value.as_str());
    }
    response
}

/// An open regular file and its stamp, from the descriptor itself (`fstat`).
struct Opened {
    file: File,
    stamp: Stamp,
}

impl Opened {
    fn open(path: &Path) -> io::Result<Opened> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::ErrorKind::NotFound.into());
        }
        Ok(Opened {
            file,
            stamp: (meta.len(), meta.modified().ok()),
        })
    }

    fn len(&self) -> u64 {
        self.stamp.0
    }

    /// The whole file, which must still have the length it was opened with.
    fn read_whole(self) -> io::Result<Bytes> {
        let len = self.len();
        let mut content = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        self.file
            .take(len.saturating_add(1))
            .read_to_end(&mut content)?;
        if content.len() as u64 != len {
            return Err(io::Error::other("the file changed while it was read"));
        }
        Ok(content.into())
    }
}

/// What `stat` says of `path` now (`None`: no regular file there).
fn stamp_of(path: &Path) -> Option<Stamp> {
    fs::metadata(path)
        .ok()
        .filter(fs::Metadata::is_file)
        .map(|meta| (meta.len(), meta.modified().ok()))
}

/// The response for a resolved file that could not be opened.
fn open_error(err: io::Error) -> Response {
    match err.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied => {
            Response::error(404, "no such file")
        }
        _ => read_error(err),
    }
}

/// The response for a file that could not be read.
fn read_error(err: io::Error) -> Response {
    log::warn!("reading static file failed: {err}");
    Response::error(500, "could not read file")
}

#[cfg(test)]
mod tests;
