//! Static files served from memory: each answered request path keeps its [`FileEntry`] (the
//! file and its precompressed variants, their heads serialized once, their content when it
//! fits), checked against the disk (one `stat` per file) at most once per
//! `static_recheck_interval`, within a total of `static_cache_bytes`. A hit that sends the
//! whole file costs no system call, no allocation, no formatting and no copy of the body;
//! files too large for memory are opened per request and read as the socket drains.

use super::file_entry::{FileEntry, FilePolicy};
use super::file_request::FileRequest;
use super::reply::Reply;
use super::Response;
use crate::config::Config;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// The www root and the files answered from it so far.
#[derive(Debug)]
pub struct FileCache {
    root: PathBuf,
    entries: HashMap<String, Cached>,
    cached_bytes: usize,
    max_cached_bytes: usize,
    recheck: Duration,
    policy: FilePolicy,
}

#[derive(Debug)]
struct Cached {
    entry: FileEntry,
    /// What it counts against `max_cached_bytes`.
    size: usize,
    checked: Instant,
}

impl FileCache {
    /// Serve files under `root` (already canonical) with `config`'s static file limits
    /// (`static_cache_bytes`, `static_recheck_interval`, `max_static_file_bytes`) and
    /// `cache_control`.
    pub fn new(root: PathBuf, config: &Config) -> Self {
        FileCache {
            root,
            entries: HashMap::new(),
            cached_bytes: 0,
            max_cached_bytes: config.static_cache_bytes,
            recheck: config.static_recheck_interval,
            policy: FilePolicy {
                max_file_bytes: config.max_static_file_bytes,
                max_memory_bytes: config.static_cache_bytes as u64,
                cache_control: config.cache_control.clone(),
            },
        }
    }

    /// The www root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Bytes of file content and heads held in memory.
    pub fn cached_bytes(&self) -> usize {
        self.cached_bytes
    }

    /// The reply to a GET or HEAD of a file.
    pub fn respond(&mut self, request: &FileRequest<'_>, now: Instant) -> Reply {
        let path = request.path;
        if let Some(cached) = self.entries.get_mut(path) {
            // The interval runs from the last look at the disk, not from the last request:
            // a file asked for every few milliseconds is still rechecked once per interval.
            let due = now.saturating_duration_since(cached.checked) >= self.recheck;
            let fresh = !due || cached.entry.unchanged_on_disk();
            if due && fresh {
                cached.checked = now;
            }
            if fresh {
                if let Ok(reply) = cached.entry.answer(request) {
                    return reply;
                }
            }
            self.forget(path);
        }
        match FileEntry::load(&self.root, path, &self.policy, SystemTime::now()) {
            Ok(entry) => {
                let reply = entry.answer(request).unwrap_or_else(|_| {
                    Response::error(503, "the file changed while it was opened").into()
                });
                self.remember(path, entry, now);
                reply
            }
            // Errors are not cached: a file that appears is served at once.
            Err(response) => response.into(),
        }
    }

    fn remember(&mut self, request_path: &str, entry: FileEntry, now: Instant) {
        let size = entry.held_bytes() + request_path.len();
        if size > self.max_cached_bytes {
            return;
        }
        if self.cached_bytes + size > self.max_cached_bytes {
            // Simplest fair eviction for a small www folder: start over.
            self.entries.clear();
            self.cached_bytes = 0;
        }
        self.cached_bytes += size;
        let cached = Cached {
            entry,
            size,
            checked: now,
        };
        self.entries.insert(request_path.to_owned(), cached);
    }

    fn forget(&mut self, request_path: &str) {
        if let Some(cached) = self.entries.remove(request_path) {
            self.cached_bytes -= cached.size;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::HttpDate;
    use std::fs;

    fn temp_root(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wsloop-cache-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir.canonicalize().unwrap()
    }

    fn cache(root: &Path, cache_bytes: usize) -> FileCache {
        let config = Config::default()
            .with_static_cache_bytes(cache_bytes)
            .with_static_recheck_interval(Duration::from_secs(3600));
        FileCache::new(root.to_owned(), &config)
    }

    fn body(reply: Reply) -> Vec<u8> {
        assert!(reply.file.is_none(), "served from memory");
        reply.response.into_body().to_vec()
    }

    fn head(reply: &Reply) -> String {
        let mut head = Vec::new();
        reply
            .response
            .write_head(&mut head, &HttpDate::from_unix_seconds(0), true, false);
        String::from_utf8(head).unwrap()
    }

    #[test]
    fn serves_from_memory_until_the_recheck_sees_a_change() {
        let root = temp_root("change");
        fs::write(root.join("a.txt"), "one").unwrap();
        let mut cache = cache(&root, 1 << 20);
        let t0 = Instant::now();
        let first = cache.respond(&FileRequest::get("/a.txt"), t0);
        let first_tag = head(&first)
            .lines()
            .find(|l| l.starts_with("ETag"))
            .unwrap()
            .to_owned();
        assert_eq!(body(first), b"one");
        fs::write(root.join("a.txt"), "two!").unwrap();
        // Within the recheck interval the cached copy is served without a stat.
        assert_eq!(body(cache.respond(&FileRequest::get("/a.txt"), t0)), b"one");
        // After it, the changed length is noticed, and the head (and its tag) follow.
        let later = t0 + Duration::from_secs(3601);
        let changed = cache.respond(&FileRequest::get("/a.txt"), later);
        let changed_head = head(&changed);
        assert!(changed_head.contains("Content-Length: 4\r\n"));
        assert!(
            !changed_head.contains(&first_tag),
            "the ETag changed with the file"
        );
        assert_eq!(body(changed), b"two!");
        assert!(cache.cached_bytes() > 4 + "/a.txt".len());
        fs::remove_file(root.join("a.txt")).unwrap();
        let much_later = later + Duration::from_secs(3601);
        let gone = cache.respond(&FileRequest::get("/a.txt"), much_later);
        assert_eq!(gone.response.status(), 404);
        assert_eq!(cache.cached_bytes(), 0);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn frequent_requests_do_not_postpone_the_recheck() {
        let root = temp_root("frequent");
        fs::write(root.join("a.txt"), "one").unwrap();
        let mut cache = cache(&root, 1 << 20);
        let t0 = Instant::now();
        assert_eq!(body(cache.respond(&FileRequest::get("/a.txt"), t0)), b"one");
        fs::write(root.join("a.txt"), "two").unwrap();
        let step = Duration::from_secs(1000);
        assert_eq!(
            body(cache.respond(&FileRequest::get("/a.txt"), t0 + step)),
            b"one"
        );
        let due = t0 + step * 4;
        assert_eq!(
            body(cache.respond(&FileRequest::get("/a.txt"), due)),
            b"two"
        );
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn files_too_large_for_memory_are_read_from_disk() {
        let root = temp_root("budget");
        fs::write(root.join("big"), vec![b'x'; 1000]).unwrap();
        fs::write(root.join("small"), "s").unwrap();
        let mut cache = cache(&root, 500);
        let now = Instant::now();
        let big = cache.respond(&FileRequest::get("/big"), now);
        assert_eq!(big.response.status(), 200);
        assert!(big.response.body().is_empty());
        assert_eq!(
            big.file.as_ref().map(|region| region.remaining()),
            Some(1000)
        );
        // Its entry (heads only) is kept: the next request opens the file again.
        let held = cache.cached_bytes();
        assert!(held > 0 && held < 500, "{held}");
        assert!(cache.respond(&FileRequest::get("/big"), now).file.is_some());
        assert_eq!(cache.cached_bytes(), held);
        assert_eq!(body(cache.respond(&FileRequest::get("/small"), now)), b"s");
        assert_eq!(
            cache
                .respond(&FileRequest::get("/../x"), now)
                .response
                .status(),
            400
        );
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_large_file_replaced_within_the_recheck_interval_is_served_as_it_is_now() {
        let root = temp_root("replaced");
        fs::write(root.join("big"), vec![b'x'; 1000]).unwrap();
        let mut cache = cache(&root, 100);
        let now = Instant::now();
        assert!(cache.respond(&FileRequest::get("/big"), now).file.is_some());
        fs::write(root.join("big"), vec![b'y'; 2000]).unwrap();
        // The recheck has not come due, but the file opened for the body is not the one the
        // cached head describes: the entry is built again rather than send a wrong length.
        let reply = cache.respond(&FileRequest::get("/big"), now);
        assert_eq!(reply.file.map(|region| region.remaining()), Some(2000));
        assert!(head(&cache.respond(&FileRequest::get("/big"), now))
            .contains("Content-Length: 2000\r\n"));
        fs::remove_dir_all(root).unwrap();
    }
}
