//! What `agentwatch hooks install --agent qwen-code` edits: `settings.json`.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::install::{Editor, Target};
use crate::sources::SourceEnv;

pub(crate) fn files(target: Target, env: &SourceEnv) -> Result<Vec<(PathBuf, Editor)>> {
    if target != Target::Hooks {
        return Err(Error::Usage(format!("Qwen Code has no {} agentwatch installs", target.name())));
    }
    // `QWEN_HOME` moves it, as it moves Qwen's.
    let dir = super::paths::qwen_dir(env).ok_or_else(|| Error::Other("cannot find the home directory".into()))?;
    Ok(vec![(dir.join("settings.json"), Editor::QwenHooks)])
}
