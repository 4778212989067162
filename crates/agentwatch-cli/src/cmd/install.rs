//! `agentwatch hooks install|uninstall`, `agentwatch mcp-proxy install|uninstall`
//! `agentwatch statusline install|uninstall` and
//! `agentwatch telemetry install|uninstall`.

use std::path::Path;

use agentwatch_core::api::ApiInfo;
use agentwatch_core::install::{Agent, Exe, Target, apply, plan};
use agentwatch_core::paths::{DATA_DIR_ENV, Dirs};
use agentwatch_core::sources::SourceEnv;
use agentwatch_core::{Error, Result};

use crate::cli::{InstallArgs, InstallCmd};
use crate::output::emit;

pub fn run(data_dir: Option<&Path>, target: Target, c: &InstallCmd) -> Result<()> {
    let (a, uninstall): (&InstallArgs, bool) = match c {
        InstallCmd::Install(a) => (a, false),
        InstallCmd::Uninstall(a) => (a, true),
    };
    let agent = Agent::parse(&a.agent)?;
    let exe = std::env::current_exe()
        .and_then(|e| e.canonicalize())
        .map_err(|e| Error::Other(format!("cannot find the agentwatch binary: {e}")))?;
    let mut exe = Exe::new(&exe);
    // A data dir the person chose (flag or variable) goes into the installed
    // commands: the agents run them without that variable.
    if data_dir.is_some() || std::env::var_os(DATA_DIR_ENV).is_some_and(|v| !v.is_empty()) {
        let dirs = Dirs::resolve(data_dir)?;
        exe.data_dir = Some(std::path::absolute(&dirs.data).map_err(|e| Error::io(&dirs.data, e))?);
    }
    if target == Target::Telemetry {
        agentwatch_core::install::check_telemetry_agent(agent)?;
    }
    // Telemetry is always sent to the API, with the hook token.
    if (a.http || target == Target::Telemetry) && !uninstall {
        let dirs = Dirs::resolve(data_dir)?;
        let info = ApiInfo::read(&dirs)?.ok_or_else(|| {
            Error::Other(
                "the API has not run yet (start `agentwatch daemon` or the app first): no port or token".into(),
            )
        })?;
        let token = info.hook_token.ok_or_else(|| {
            Error::Other("api.json has no hook token yet: start `agentwatch daemon` once, then try again".into())
        })?;
        exe.http = Some((format!("http://127.0.0.1:{}", info.port), token));
    }
    let p = plan(target, agent, uninstall, &SourceEnv::from_process(), &exe)?;
    let what = match target {
        Target::Hooks => "agentwatch hooks",
        Target::McpProxy => "the agentwatch MCP proxy",
        Target::Statusline => "the agentwatch status line",
        Target::Telemetry => "telemetry to agentwatch",
    };
    let mut out = String::new();
    for n in &p.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    if p.done {
        out.push_str(&if uninstall {
            format!(
                "{what} {} not installed for {}; nothing to change.",
                if target == Target::Hooks { "are" } else { "is" },
                agent.id()
            )
        } else {
            format!(
                "{what} {} already installed for {}; nothing to change.",
                if target == Target::Hooks { "are" } else { "is" },
                agent.id()
            )
        });
        emit(&out);
        return Ok(());
    }
    for c in &p.changes {
        out.push_str(&c.diff);
    }
    if a.dry_run {
        out.push_str("\n(dry run: nothing was changed)");
        emit(&out);
        return Ok(());
    }
    let backups = apply(&p)?;
    for b in &backups {
        out.push_str(&format!("\nBacked up the previous version to {}", b.display()));
    }
    let files: Vec<String> = p.changes.iter().map(|c| c.path.display().to_string()).collect();
    out.push_str(&format!(
        "\n{} {what} for {} in {}.",
        if uninstall { "Removed" } else { "Installed" },
        agent.id(),
        files.join(", ")
    ));
    if !uninstall && matches!(target, Target::McpProxy | Target::Telemetry) {
        out.push_str(" Restart the agent to use it.");
    }
    emit(&out);
    Ok(())
}
