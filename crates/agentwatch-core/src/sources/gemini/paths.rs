//! Where Gemini CLI keeps its chats: `~/.gemini/tmp/<project>/chats/`,
//! where `<project>` is the short name `~/.gemini/projects.json` gives the
//! working directory (its base name, lower case, other characters as `-`;
//! `-1`, `-2` … when two projects share one).

use std::path::{Path, PathBuf};

use crate::sources::SourceEnv;

/// `~/.gemini`.
pub fn gemini_dir(env: &SourceEnv) -> Option<PathBuf> {
    env.home.as_ref().map(|h| h.join(".gemini"))
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
}
