//! Where Amp kept its threads: `$XDG_DATA_HOME/amp/threads/T-<id>.json`
//! (else `~/.local/share/amp/threads`), one JSON document per thread,
//! rewritten as the thread grew. Amp stopped writing threads locally in
//! 2026; the ones it wrote stay.

use std::path::{Path, PathBuf};

use crate::sources::SourceEnv;

/// The `threads` folder.
pub fn threads_dir(env: &SourceEnv) -> Option<PathBuf> {
    env.var("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| env.home.as_ref().map(|h| h.join(".local/share")))
        .map(|d| d.join("amp").join("threads"))
}

/// Whether `path` is a thread file by its name.
pub fn is_thread(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "json")
}

/// Every thread under `dir` (links not followed).
pub fn threads(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    crate::sources::find_files(dir, &|name| name.ends_with(".json"), &mut out);
    out
}
