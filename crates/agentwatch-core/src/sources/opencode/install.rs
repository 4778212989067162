//! What `agentwatch hooks install --agent opencode` writes: agentwatch's
//! plugin in OpenCode's plugin folder.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::install::{Editor, Target};
use crate::sources::SourceEnv;

pub(crate) fn files(target: Target, env: &SourceEnv) -> Result<Vec<(PathBuf, Editor)>> {
    if target != Target::Hooks {
        return Err(Error::Usage(format!("OpenCode has no {} agentwatch installs", target.name())));
    }
    let dir = super::config_dir(env).ok_or_else(|| Error::Other("cannot find the home directory".into()))?;
    Ok(vec![(dir.join("plugin").join(super::PLUGIN_FILE), Editor::OpenCodePlugin)])
}
