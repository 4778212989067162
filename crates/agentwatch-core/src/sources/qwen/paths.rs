//! Where Qwen Code keeps its files, as its `Storage` decides: settings in
//! `QWEN_HOME` (else `~/.qwen`); chats under the runtime directory,
//! `QWEN_RUNTIME_DIR` (else that same folder), in
//! `projects/<cwd, every character but letters and digits as "-">/chats/`.
//! (The `advanced.runtimeOutputDir` setting moves them too; it is not read.)

use std::path::{Path, PathBuf};

use crate::sources::{SourceEnv, find_jsonl};

/// A directory a variable names: `~/…` is under the home, as Qwen Code's
/// `resolvePath` takes it.
fn dir_of(env: &SourceEnv, key: &str) -> Option<PathBuf> {
    let v = env.var(key)?;
    match v.strip_prefix("~/").or((v == "~").then_some("")) {
        Some(rest) => env.home.as_ref().map(|h| h.join(rest)),
        None => Some(PathBuf::from(v)),
    }
}

/// `~/.qwen`, or `QWEN_HOME`.
pub fn qwen_dir(env: &SourceEnv) -> Option<PathBuf> {
    dir_of(env, "QWEN_HOME").or_else(|| env.home.as_ref().map(|h| h.join(".qwen")))
}

/// The `projects` folder the chats are in.
pub fn projects_dir(env: &SourceEnv) -> Option<PathBuf> {
    dir_of(env, "QWEN_RUNTIME_DIR").or_else(|| qwen_dir(env)).map(|d| d.join("projects"))
}

/// Every chat: `<projects>/<project>/chats/*.jsonl`.
pub fn chats(projects: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(projects) else { return out };
    for d in dirs.flatten() {
        if d.file_type().is_ok_and(|t| t.is_dir()) {
            let mut found = Vec::new();
            find_jsonl(&d.path().join("chats"), &|_| true, &mut found);
            // Only the chats themselves, not anything in a folder below.
            out.extend(found.into_iter().filter(|p| p.parent().and_then(Path::file_name) == Some("chats".as_ref())));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qwen_home_and_the_runtime_dir_move_the_chats() {
        let env = |vars: &[(&str, &str)]| SourceEnv::of("/home/u", vars);
        assert_eq!(projects_dir(&env(&[])), Some("/home/u/.qwen/projects".into()));
        assert_eq!(projects_dir(&env(&[("QWEN_HOME", "/srv/q")])), Some("/srv/q/projects".into()));
        assert_eq!(qwen_dir(&env(&[("QWEN_HOME", "~/q")])), Some("/home/u/q".into()));
        let both = env(&[("QWEN_HOME", "/srv/q"), ("QWEN_RUNTIME_DIR", "/run/q")]);
        assert_eq!((qwen_dir(&both), projects_dir(&both)), (Some("/srv/q".into()), Some("/run/q/projects".into())));
    }

    #[test]
    fn chats_are_the_jsonl_files_of_each_projects_chats_folder() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path();
        for d in ["-home-u-lib/chats/old", "-home-u-app/chats", "-home-u-x"] {
            std::fs::create_dir_all(p.join(d)).unwrap();
        }
        for f in [
            "-home-u-lib/chats/a.jsonl",
            "-home-u-lib/chats/old/b.jsonl",
            "-home-u-app/chats/c.jsonl",
            "-home-u-x/d.jsonl",
        ] {
            std::fs::write(p.join(f), "").unwrap();
        }
        let mut found = chats(p);
        found.sort();
        assert_eq!(found, [p.join("-home-u-app/chats/c.jsonl"), p.join("-home-u-lib/chats/a.jsonl")]);
    }
}
