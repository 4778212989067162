//! Where Codebuff keeps its chats: `~/.config/manicode/projects/<project
//! folder's name>/chats/<chat id>/chat-messages.json` (the chat's messages,
//! one JSON array rewritten after every turn) beside `run-state.json`. The
//! folder is `os.homedir()/.config/manicode` on every platform (Windows
//! too); a development or staging build (`NEXT_PUBLIC_CB_ENVIRONMENT`
//! other than `prod`) writes `manicode-<environment>` instead. ccusage's
//! `CODEBUFF_DATA_DIR` (comma-separated channel or `projects` folders) is
//! honoured too, so both read the same chats.

use std::path::{Path, PathBuf};

use crate::sources::SourceEnv;

/// The file of a chat's messages.
pub const MESSAGES: &str = "chat-messages.json";

/// The SDK's run state, written beside the messages at each save.
pub const RUN_STATE: &str = "run-state.json";

/// The channels a Codebuff build writes: its production one, and those of
/// the development and staging builds.
const CHANNELS: &[&str] = &["manicode", "manicode-dev", "manicode-staging"];

/// The `projects` folders, whether they exist or not.
pub fn projects_dirs(env: &SourceEnv) -> Vec<PathBuf> {
    let roots: Vec<PathBuf> = if let Some(list) = env.path_list("CODEBUFF_DATA_DIR") {
        list
    } else {
        let Some(config) = env.home.as_ref().map(|h| h.join(".config")) else { return Vec::new() };
        let mut channels: Vec<String> = CHANNELS.iter().map(|c| c.to_string()).collect();
        if let Some(e) = env.var("NEXT_PUBLIC_CB_ENVIRONMENT").filter(|e| *e != "prod") {
            let own = format!("manicode-{e}");
            if !channels.contains(&own) {
                channels.push(own);
            }
        }
        channels.iter().map(|c| config.join(c)).collect()
    };
    let mut out: Vec<PathBuf> = Vec::new();
    for r in roots {
        let p = if r.file_name().is_some_and(|n| n == "projects") { r } else { r.join("projects") };
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// Whether `path` is a chat's messages by its name.
pub fn is_chat(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == MESSAGES)
}

/// Every chat under `dir` (links not followed).
pub fn chats(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    crate::sources::find_files(dir, &|name| name == MESSAGES, &mut out);
    out
}

/// The chat's parts from its path, `<channel>/projects/<project>/chats/<chat
/// id>/chat-messages.json`: (channel, project, chat id). The channel is
/// `manicode` when the folders above are not named so.
pub fn chat_parts(path: &Path) -> (String, String, String) {
    let name = |p: Option<&Path>, default: &str| {
        p.and_then(Path::file_name).and_then(|n| n.to_str()).filter(|n| !n.is_empty()).unwrap_or(default).to_string()
    };
    let chat = path.parent();
    let project = chat.and_then(Path::parent).and_then(Path::parent);
    let channel = project.and_then(Path::parent).and_then(Path::parent);
    (name(channel, "manicode"), name(project, "unknown"), name(chat, "unknown"))
}

/// The session id of a chat: `<channel>/<project>/<chat id>` (a chat id is
/// the time it began, unique only within its project).
pub fn session_of(path: &Path) -> String {
    let (channel, project, chat) = chat_parts(path);
    format!("{channel}/{project}/{chat}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> SourceEnv {
        SourceEnv::of("/home/u", vars)
    }

    #[test]
    fn where_and_which() {
        assert_eq!(
            projects_dirs(&env(&[])),
            [
                PathBuf::from("/home/u/.config/manicode/projects"),
                "/home/u/.config/manicode-dev/projects".into(),
                "/home/u/.config/manicode-staging/projects".into()
            ]
        );
        let test = projects_dirs(&env(&[("NEXT_PUBLIC_CB_ENVIRONMENT", "test")]));
        assert_eq!(test.last(), Some(&PathBuf::from("/home/u/.config/manicode-test/projects")));
        assert_eq!(projects_dirs(&env(&[("NEXT_PUBLIC_CB_ENVIRONMENT", "prod")])).len(), 3);
        assert_eq!(
            projects_dirs(&env(&[("CODEBUFF_DATA_DIR", "/a/manicode, /b/projects,/a/manicode")])),
            [PathBuf::from("/a/manicode/projects"), "/b/projects".into()]
        );
        let p =
            Path::new("/home/u/.config/manicode-dev/projects/app/chats/2026-01-02T03-04-05.000Z/chat-messages.json");
        assert!(is_chat(p));
        assert!(!is_chat(&p.with_file_name("run-state.json")));
        assert_eq!(session_of(p), "manicode-dev/app/2026-01-02T03-04-05.000Z");
        assert_eq!(session_of(Path::new("chat-messages.json")), "manicode/unknown/unknown");
    }
}
