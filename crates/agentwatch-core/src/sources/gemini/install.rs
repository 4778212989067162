//! What `agentwatch <target> install --agent gemini-cli` edits: `settings.json`.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::install::{Editor, Target};
use crate::sources::SourceEnv;

pub(crate) fn files(target: Target, env: &SourceEnv) -> Result<Vec<(PathBuf, Editor)>> {
    let editor = match target {
        Target::Hooks => Editor::GeminiHooks,
        Target::Telemetry => Editor::GeminiTelemetry,
        Target::McpProxy | Target::Statusline => {
            return Err(Error::Usage(format!("Gemini CLI has no {} agentwatch installs", target.name())));
        }
    };
    // `GEMINI_CLI_HOME` moves it, as it moves the CLI's.
    let dir = super::paths::gemini_dir(env).ok_or_else(|| Error::Other("cannot find the home directory".into()))?;
    Ok(vec![(dir.join("settings.json"), editor)])
}
