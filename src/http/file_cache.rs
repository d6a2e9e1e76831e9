//! Static files served from memory: each answered request path keeps its file and its
//! serialized response head, checked against the disk (one `stat`) at most once per
//! `static_recheck_interval`, within a total of `static_cache_bytes`. A hit costs no system
//! call, no allocation, no formatting and no copy of the body.

use super::static_files::{load, LoadedFile};
use super::PreparedResponse;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The www root and the files answered from it so far.
#[derive(Debug)]
pub struct FileCache {
    root: PathBuf,
    entries: HashMap<String, Entry>,
    cached_bytes: usize,
    max_cached_bytes: usize,
    recheck: Duration,
    max_file_bytes: u64,
}

#[derive(Debug)]
struct Entry {
    file: LoadedFile,
    /// `file.response()`, serialized.
    response: PreparedResponse,
    checked: Instant,
}

impl FileCache {
    /// Serve files under `root` (already canonical), caching up to `max_cached_bytes` of them.
    pub fn new(
        root: PathBuf,
        max_cached_bytes: usize,
        recheck: Duration,
        max_file_bytes: u64,
    ) -> Self {
        FileCache {
            root,
            entries: HashMap::new(),
            cached_bytes: 0,
            max_cached_bytes,
            recheck,
            max_file_bytes,
        }
    }

    /// The www root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Bytes of file content held in memory.
    pub fn cached_bytes(&self) -> usize {
        self.cached_bytes
    }

    /// The response to a GET or HEAD of `request_path` (the path part, still encoded).
    pub fn respond(&mut self, request_path: &str, now: Instant) -> PreparedResponse {
        if let Some(entry) = self.entries.get_mut(request_path) {
            let fresh = now.saturating_duration_since(entry.checked) < self.recheck
                || entry.file.unchanged_on_disk();
            if fresh {
                entry.checked = now;
                return entry.response.clone();
            }
            self.forget(request_path);
        }
        match load(&self.root, request_path, self.max_file_bytes) {
            Ok(file) => {
                let response = PreparedResponse::from(file.response());
                self.remember(request_path, file, response.clone(), now);
                response
            }
            // Errors are not cached: a file that appears is served at once.
            Err(response) => response.into(),
        }
    }

    fn remember(
        &mut self,
        request_path: &str,
        file: LoadedFile,
        response: PreparedResponse,
        now: Instant,
    ) {
        let size = file.body.len() + request_path.len();
        if size > self.max_cached_bytes {
            return;
        }
        if self.cached_bytes + size > self.max_cached_bytes {
            // Simplest fair eviction for a small www folder: start over.
            self.entries.clear();
            self.cached_bytes = 0;
        }
        self.cached_bytes += size;
        let entry = Entry {
            file,
            response,
            checked: now,
        };
        self.entries.insert(request_path.to_owned(), entry);
    }

    fn forget(&mut self, request_path: &str) {
        if let Some(entry) = self.entries.remove(request_path) {
            self.cached_bytes -= entry.file.body.len() + request_path.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn temp_root(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wsloop-cache-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir.canonicalize().unwrap()
    }

    #[test]
    fn serves_from_memory_until_the_recheck_sees_a_change() {
        let root = temp_root("change");
        fs::write(root.join("a.txt"), "one").unwrap();
        let mut cache = FileCache::new(root.clone(), 1 << 20, Duration::from_secs(3600), 1 << 20);
        let t0 = Instant::now();
        assert_eq!(cache.respond("/a.txt", t0).body(), "one");
        fs::write(root.join("a.txt"), "two!").unwrap();
        // Within the recheck interval the cached copy is served without a stat.
        assert_eq!(cache.respond("/a.txt", t0).body(), "one");
        // After it, the changed length is noticed, and the head follows.
        let later = t0 + Duration::from_secs(3601);
        let changed = cache.respond("/a.txt", later);
        assert_eq!(changed.body(), "two!");
        let mut head = Vec::new();
        changed.write_head(&mut head, true, false);
        assert!(head.ends_with(b"Content-Length: 4\r\n\r\n"));
        assert_eq!(cache.cached_bytes(), 4 + "/a.txt".len());
        fs::remove_file(root.join("a.txt")).unwrap();
        let much_later = later + Duration::from_secs(3601);
        assert_eq!(cache.respond("/a.txt", much_later).status(), 404);
        assert_eq!(cache.cached_bytes(), 0);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn the_budget_bounds_what_is_kept() {
        let root = temp_root("budget");
        fs::write(root.join("big"), vec![b'x'; 100]).unwrap();
        fs::write(root.join("small"), "s").unwrap();
        let mut cache = FileCache::new(root.clone(), 50, Duration::from_secs(3600), 1 << 20);
        let now = Instant::now();
        assert_eq!(cache.respond("/big", now).body().len(), 100);
        assert_eq!(
            cache.cached_bytes(),
            0,
            "larger than the whole budget: not kept"
        );
        assert_eq!(cache.respond("/small", now).status(), 200);
        assert_eq!(cache.cached_bytes(), 1 + "/small".len());
        assert_eq!(cache.respond("/../x", now).status(), 400);
        fs::remove_dir_all(root).unwrap();
    }
}
