//! `agentwatch api info|rotate-token`

use std::path::Path;

use agentwatch_core::Result;
use agentwatch_core::api::ApiInfo;
use agentwatch_core::config::Config;
use agentwatch_core::paths::Dirs;

use crate::cli::ApiCmd;
use crate::output::emit;

pub fn run(data_dir: Option<&Path>, c: &ApiCmd) -> Result<()> {
    let dirs = Dirs::resolve(data_dir)?;
    let (config, problems) = Config::load_or_defaults(&dirs)?;
    for p in &problems {
        crate::output::warn(p);
    }
    let port = config.api.port;
    let file = dirs.data.join("api.json");
    match c {
        ApiCmd::Info => {
            let info = ApiInfo::ensure(&dirs, ApiInfo::read(&dirs)?.map_or(port, |i| i.port))?;
            emit(&format!(
                "URL      http://127.0.0.1:{port}  (REST under /api, MCP at /mcp, events at /api/events)\n\
                 Token    in {file} (mode 0600); send it as `Authorization: Bearer <token>`\n\
                 Running  {running}\n\n\
                 Claude Code, in .mcp.json:\n  {{\"mcpServers\": {{\"agentwatch\": {{\"type\": \"http\", \"url\": \"http://127.0.0.1:{port}/mcp\",\n     \"headers\": {{\"Authorization\": \"Bearer <token from api.json>\"}}}}}}}}",
                port = info.port,
                file = file.display(),
                running = if agentwatch_core::monitor::holder(&dirs).is_some() {
                    "yes (agentwatch daemon or the desktop app)"
                } else {
                    "no: start `agentwatch daemon`"
                },
            ));
        }
        ApiCmd::RotateToken => {
            ApiInfo::rotate(&dirs, ApiInfo::read(&dirs)?.map_or(port, |i| i.port))?;
            emit(&format!(
                "A new token is in {}; the old one no longer works. Give the new one to your MCP clients.",
                file.display()
            ));
        }
    }
    Ok(())
}
