//! Where Gemini CLI keeps its chats: `~/.gemini/tmp/<project>/chats/`,
//! where `<project>` is the short name `~/.gemini/projects.json` gives the
//! working directory (its base name, lower case, other characters as `-`;
//! `-1`, `-2` … when two projects share one).

use std::path::{Path, PathBuf};

use crate::sources::{SourceEnv, find_files};

/// `~/.gemini`, or `$GEMINI_CLI_HOME/.gemini`: Gemini CLI takes that
/// variable for the home directory (`homedir()` in its core's `paths`).
pub fn gemini_dir(env: &SourceEnv) -> Option<PathBuf> {
    let home = env.var("GEMINI_CLI_HOME").map(PathBuf::from).or_else(|| env.home.clone());
    home.map(|h| h.join(".gemini"))
}

/// Every chat file under `tmp/<project>/chats/` (a sub-agent's chat sits in
/// a folder named after its parent's): `*.jsonl`, and the single-document
/// `*.json` chats Gemini CLI wrote before April 2026.
pub fn chats(gemini: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(projects) = std::fs::read_dir(gemini.join("tmp")) else { return out };
    for p in projects.flatten() {
        if p.file_type().is_ok_and(|t| t.is_dir()) {
            find_files(&p.path().join("chats"), &|n| n.ends_with(".jsonl") || n.ends_with(".json"), &mut out);
        }
    }
    out
}

/// Whether a chat file is a legacy single-document one.
pub fn is_document(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "json")
}

/// The working directory of the project a chat file belongs to: the
/// `.project_root` Gemini CLI writes into `tmp/<project>/`, else the entry
/// of `projects.json` that names that folder.
pub fn project_of(gemini: &Path, chat: &Path) -> Option<String> {
    let slug = chat.strip_prefix(gemini.join("tmp")).ok()?.components().next()?;
    let dir = gemini.join("tmp").join(slug);
    if let Ok(root) = std::fs::read_to_string(dir.join(".project_root")) {
        let root = root.trim();
        if !root.is_empty() && !root.contains('\n') {
            return Some(root.to_string());
        }
    }
    let slug = slug.as_os_str().to_str()?;
    let text = std::fs::read_to_string(gemini.join("projects.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v.get("projects")?.as_object()?.iter().find(|(_, s)| s.as_str() == Some(slug)).map(|(cwd, _)| cwd.clone())
}

/// The project's folder name under `tmp/`: from `projects.json`, else the
/// name Gemini CLI would give it.
pub fn project_slug(gemini: &Path, cwd: &str) -> String {
    let listed = std::fs::read_to_string(gemini.join("projects.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.pointer("/projects")?.get(cwd)?.as_str().map(str::to_string))
        .filter(|s| !s.is_empty() && !s.contains(['/', '\\']) && s != ".." && s != ".");
    listed.unwrap_or_else(|| {
        let base = Path::new(cwd).file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        base.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_project_folder_comes_from_projects_json_or_the_base_name() {
        let t = tempfile::tempdir().unwrap();
        let g = t.path();
        assert_eq!(project_slug(g, "/home/u/My App"), "my-app");
        std::fs::write(g.join("projects.json"), r#"{"projects": {"/home/u/My App": "my-app-1", "/x": "../etc"}}"#)
            .unwrap();
        assert_eq!(project_slug(g, "/home/u/My App"), "my-app-1");
        assert_eq!(project_slug(g, "/x"), "x", "a name that climbs out is not used");
    }

    #[test]
    fn chats_and_their_projects() {
        let t = tempfile::tempdir().unwrap();
        let g = t.path();
        for d in ["tmp/app/chats/parent-id", "tmp/site/chats", "tmp/bin"] {
            std::fs::create_dir_all(g.join(d)).unwrap();
        }
        for f in
            ["tmp/app/chats/session-1.jsonl", "tmp/app/chats/parent-id/sub.jsonl", "tmp/site/chats/session-2.jsonl"]
        {
            std::fs::write(g.join(f), "").unwrap();
        }
        std::fs::write(g.join("tmp/app/chats/session-0.json"), "{}").unwrap();
        std::fs::write(g.join("tmp/bin/other.jsonl"), "").unwrap();
        let mut found = chats(g);
        found.sort();
        assert_eq!(
            found,
            [
                "tmp/app/chats/parent-id/sub.jsonl",
                "tmp/app/chats/session-0.json",
                "tmp/app/chats/session-1.jsonl",
                "tmp/site/chats/session-2.jsonl"
            ]
            .map(|f| g.join(f))
        );
        assert!(is_document(&found[1]) && !is_document(&found[2]));
        std::fs::write(g.join("tmp/app/.project_root"), "/home/u/app\n").unwrap();
        std::fs::write(g.join("projects.json"), r#"{"projects": {"/home/u/site": "site"}}"#).unwrap();
        assert_eq!(project_of(g, &found[2]).as_deref(), Some("/home/u/app"));
        assert_eq!(project_of(g, &found[3]).as_deref(), Some("/home/u/site"));
        assert_eq!(project_of(g, Path::new("/elsewhere/tmp/x/chats/a.jsonl")), None);
    }

    #[test]
    fn gemini_cli_home_moves_the_folder() {
        let env = SourceEnv {
            home: Some(PathBuf::from("/home/u")),
            vars: [("GEMINI_CLI_HOME".to_string(), "/srv/g".to_string())].into(),
        };
        assert_eq!(gemini_dir(&env), Some(PathBuf::from("/srv/g/.gemini")));
        assert_eq!(
            gemini_dir(&SourceEnv { home: Some("/home/u".into()), ..Default::default() }),
            Some("/home/u/.gemini".into())
        );
    }
}
