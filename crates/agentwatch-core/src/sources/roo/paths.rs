//! Where Roo Code keeps its tasks: `rooveterinaryinc.roo-cline/tasks/<task
//! id>/` in each editor's `User/globalStorage` (the folders of Cline's
//! extension, `../cline/paths.rs`), as Roo-Code `src/utils/storage.ts`
//! `getStorageBasePath` decides without a custom storage path.

use std::path::PathBuf;

use crate::sources::SourceEnv;

/// Roo Code's extension id, its folder in `globalStorage`.
pub const EXTENSION: &str = "rooveterinaryinc.roo-cline";

/// Its `tasks` folders, in every editor, and that of its CLI (`roo`,
/// Roo-Code `apps/cli`), which runs the extension with its global storage
/// in `~/.vscode-mock/global-storage` (`packages/vscode-shim/src/context/
/// ExtensionContext.ts`).
pub fn task_roots(env: &SourceEnv) -> Vec<PathBuf> {
    let mut roots = crate::sources::cline::paths::task_roots(env, EXTENSION);
    roots.extend(cli_tasks(env));
    roots
}

/// The `tasks` folder of its CLI (`apps/cli/src/lib/task-history`
/// `getDefaultCliTaskStoragePath`: `~/.vscode-mock/global-storage`).
pub fn cli_tasks(env: &SourceEnv) -> Option<PathBuf> {
    env.home.as_ref().map(|h| h.join(".vscode-mock/global-storage/tasks"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_every_editor_s_global_storage() {
        let env = SourceEnv { home: Some("/home/u".into()), vars: Default::default() };
        let roots = task_roots(&env);
        if cfg!(target_os = "linux") {
            assert_eq!(
                roots[0],
                PathBuf::from("/home/u/.config/Code/User/globalStorage/rooveterinaryinc.roo-cline/tasks")
            );
            assert!(
                roots.contains(&"/home/u/.config/Windsurf/User/globalStorage/rooveterinaryinc.roo-cline/tasks".into())
            );
        }
        assert!(
            roots.contains(&"/home/u/.vscode-server/data/User/globalStorage/rooveterinaryinc.roo-cline/tasks".into())
        );
        assert_eq!(roots.last(), Some(&PathBuf::from("/home/u/.vscode-mock/global-storage/tasks")), "its CLI's");
    }
}
