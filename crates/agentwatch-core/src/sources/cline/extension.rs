//! The tasks a VS Code extension of Cline's lineage (Cline 3, Roo Code,
//! Kilo Code) keeps in each editor's `globalStorage/<extension>/tasks`:
//! which files are read, and the files beside a task's `ui_messages.json`
//! that name its model and folder (`task_metadata.json`, Roo's
//! `api_conversation_history.json` and `history_item.json`, and the
//! extension's `state/taskHistory.json`).
//! Shared by the `cline`, `roo-code` and `kilo` sources; the parsing is in
//! `tasks.rs`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::paths;
use super::tasks::{self, Input, TaskMeta};
use crate::sources::{LineError, Record, mtime_ms, plainly_within};

/// An extension's task list as read: task id → folder.
type History = Arc<HashMap<String, String>>;

/// One extension's task folders, in every editor.
pub struct ExtensionTasks {
    agent: &'static str,
    input: Input,
    /// The `tasks` folders, whether they exist or not.
    roots: Vec<PathBuf>,
    /// Each `state/taskHistory.json` read, with its time: task id → folder.
    history: Mutex<HashMap<PathBuf, (i64, History)>>,
}

impl ExtensionTasks {
    pub fn new(agent: &'static str, input: Input, roots: Vec<PathBuf>) -> ExtensionTasks {
        ExtensionTasks { agent, input, roots, history: Mutex::new(HashMap::new()) }
    }

    /// The `tasks` folders that exist.
    pub fn roots(&self) -> Vec<PathBuf> {
        self.roots.iter().filter(|d| d.is_dir()).cloned().collect()
    }

    /// The `tasks` folders to watch: those of the editors installed (their
    /// `globalStorage` exists), so an extension's first task is seen.
    pub fn watch_roots(&self) -> Vec<PathBuf> {
        self.roots.iter().filter(|d| d.parent().and_then(Path::parent).is_some_and(Path::is_dir)).cloned().collect()
    }

    pub fn discover(&self) -> Vec<PathBuf> {
        self.roots().iter().flat_map(|r| paths::ui_messages_files(r)).collect()
    }

    /// Whether `path` is a task's `ui_messages.json` in one of the folders.
    pub fn reads_file(&self, path: &Path) -> bool {
        paths::task_of(path).is_some()
            && path.parent().and_then(Path::parent).is_some_and(|tasks| self.roots.iter().any(|r| r == tasks))
            && plainly_within(&self.roots, path)
    }

    /// What a task's `ui_messages.json` says, with what the files beside it
    /// say about the task.
    pub fn parse(&self, path: &Path, bytes: &[u8], out: &mut Vec<Record>) -> Result<(), LineError> {
        let task = paths::task_of(path).ok_or(LineError::Malformed)?;
        let dir = path.parent().ok_or(LineError::Malformed)?;
        let mut meta = TaskMeta::default();
        if let Ok(b) = std::fs::read(dir.join("task_metadata.json")) {
            meta.read_task_metadata(&b);
        }
        if meta.models.is_empty()
            && self.input == Input::Roo
            && let Ok(b) = std::fs::read(dir.join("api_conversation_history.json"))
        {
            meta.read_api_history(&b);
        }
        if let Ok(b) = std::fs::read(dir.join("history_item.json")) {
            meta.read_history_item(&b);
        }
        if meta.project.is_none()
            && let Some(ext) = dir.parent().and_then(Path::parent)
        {
            meta.project = self.history(&ext.join("state").join("taskHistory.json")).get(&task).cloned();
        }
        tasks::ui_messages(self.agent, &task, bytes, &meta, self.input, out)
    }

    /// The extension's task list, read again only when it changed.
    fn history(&self, file: &Path) -> History {
        let Some(at) = mtime_ms(file) else { return Arc::default() };
        let mut cache = self.history.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((t, h)) = cache.get(file)
            && *t == at
        {
            return h.clone();
        }
        let h = Arc::new(std::fs::read(file).map(|b| tasks::task_history(&b)).unwrap_or_default());
        cache.insert(file.to_path_buf(), (at, h.clone()));
        h
    }
}
