//! The command line, as clap sees it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "agentwatch",
    version,
    about = "A local, private monitor for AI coding agents: sessions, liveness and costs.",
    long_about = None,
    propagate_version = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Where agentwatch keeps its database (default: the platform data dir).
    #[arg(long, global = true, env = "AGENTWATCH_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Log more (repeat for even more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read new usage from the agents' transcripts into the database.
    Ingest(IngestArgs),
    /// Token and cost reports (ccusage-compatible JSON).
    #[command(subcommand)]
    Costs(CostsCmd),
    /// List, inspect and summarise agent sessions.
    Sessions(SessionsArgs),
    /// Show the model prices in use, or import a newer price list.
    #[command(subcommand)]
    Prices(PricesCmd),
    /// Run the live collector in the foreground: detect running agents,
    /// follow their state, raise alerts.
    Daemon(DaemonArgs),
    /// Stop a running agent: SIGTERM, then SIGKILL after a grace period (Windows: TerminateProcess).
    Kill(KillArgs),
    /// Alerts raised so far; snooze or resume them.
    Alerts(AlertsArgs),
    /// Whether a monitor is running, and what the database holds.
    Status(StatusArgs),
    /// Every agent agentwatch knows: found here or not, what is read of it
    /// and from where, how many of its sessions the database holds, and
    /// what it cost over the last 30 days and all time, with where each
    /// cost comes from.
    Agents(AgentsArgs),
    /// The local HTTP API: where it is, and its token.
    #[command(subcommand)]
    Api(ApiCmd),
    /// Record an agent hook event (run by the hooks `agentwatch hooks
    /// install` sets up, and Codex's notify).
    Hook(HookArgs),
    /// Install or remove agentwatch's hooks in an agent's settings.
    #[command(subcommand)]
    Hooks(InstallCmd),
    /// Run an MCP server through agentwatch (`-- <server command…>`), or
    /// install/uninstall the wrapping of an agent's MCP servers.
    McpProxy(McpProxyArgs),
    /// Plan limits: how much of the 5-hour and weekly windows of Claude and
    /// Codex subscriptions is used, as the agents report it.
    Limits(LimitsArgs),
    /// Claude Code's status line (reads its JSON on stdin, records the plan
    /// windows, prints one line), or install/uninstall it.
    Statusline(StatuslineArgs),
    /// Send an agent's OpenTelemetry (Claude Code, Codex, Gemini CLI) to
    /// agentwatch: live usage and tool calls ahead of the transcript. The
    /// API must have run once (it holds the port and token).
    #[command(subcommand)]
    Telemetry(InstallCmd),
    /// Sending the figures to a team's OpenTelemetry Collector
    /// (`[export.otlp]` in config.toml): off until configured.
    #[command(subcommand)]
    Export(ExportCmd),
}

#[derive(Debug, Subcommand)]
pub enum ExportCmd {
    /// What would be sent, exactly, with the values of now.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct LimitsArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Do not read new transcript data first.
    #[arg(long)]
    pub no_ingest: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct StatuslineArgs {
    #[command(subcommand)]
    pub command: Option<InstallCmd>,
    /// Then run this status line command too (given the same JSON), and
    /// print its output after agentwatch's line.
    #[arg(long, value_name = "COMMAND")]
    pub then: Option<String>,
}

#[derive(Debug, Args)]
pub struct HookArgs {
    /// Which agent calls, by the id `hooks install` wrote (the payload on
    /// stdin; Codex's notify passes it as the last argument).
    #[arg(long, default_value = "claude-code", value_name = "AGENT")]
    pub agent: String,
    /// The payload, for agents that pass it as an argument (Codex).
    pub payload: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum InstallCmd {
    /// Add agentwatch (a backup is made first; a diff is shown).
    Install(InstallArgs),
    /// Take agentwatch out again.
    Uninstall(InstallArgs),
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The agent's id (claude-code, codex, gemini-cli, …; an agent this
    /// command cannot set up is answered with those it can).
    #[arg(long, value_name = "AGENT")]
    pub agent: String,
    /// Show what would change, change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Claude Code: post hook events to the local API (`"type": "http"`
    /// hooks, no process per event; a token that can only post hook events
    /// is written into settings.json). The API must be running.
    #[arg(long)]
    pub http: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct McpProxyArgs {
    #[command(subcommand)]
    pub command: Option<InstallCmd>,
    /// The server's name, as the agent's config calls it.
    #[arg(long, value_name = "NAME")]
    pub label: Option<String>,
    /// The MCP server to run, after `--`.
    #[arg(last = true, value_name = "SERVER COMMAND")]
    pub server: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ApiCmd {
    /// The API's address, token file, and how to point an MCP client at it.
    Info,
    /// Replace the API token (clients must be given the new one).
    RotateToken,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct AgentsArgs {
    /// Timezone for the last 30 days: an IANA name such as Europe/Berlin, UTC, or local.
    #[arg(long, default_value = "local", value_name = "TZ")]
    pub timezone: String,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Show the database as it is, without reading new transcript data first.
    #[arg(long)]
    pub no_ingest: bool,
}

#[derive(Debug, Args)]
pub struct DaemonArgs {
    /// Show alerts as desktop notifications.
    #[arg(long)]
    pub notify: bool,
    /// Seconds between process scans, 0.01 to 60 (default: from config.toml,
    /// else 2). Below 1 is for benchmarks such as bench/soak.
    #[arg(long, value_name = "SECS", value_parser = parse_scan_interval)]
    pub scan_interval: Option<std::time::Duration>,
    /// Do not serve the local HTTP API and MCP endpoint.
    #[arg(long)]
    pub no_api: bool,
    /// The API's port on 127.0.0.1 (default: from config.toml, else 47821).
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// The session's id, or a unique prefix of it.
    pub session: String,
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub yes: bool,
    /// Seconds to wait after SIGTERM before SIGKILL (not used on Windows, which has no SIGTERM).
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub grace: u64,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AlertsArgs {
    #[command(subcommand)]
    pub command: Option<AlertsCmd>,
    /// Show at most this many alerts.
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = parse_limit)]
    pub limit: usize,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCmd {
    /// Silence alerts for one session, or for all with `all`.
    Snooze(SnoozeArgs),
    /// End every snooze.
    Resume,
}

#[derive(Debug, Args)]
pub struct SnoozeArgs {
    /// A session id (or unique prefix), or `all`.
    pub target: String,
    /// How long: 30m, 1h, 2h30m, 1d.
    #[arg(long = "for", default_value = "1h", value_parser = parse_duration, value_name = "DURATION")]
    pub duration: std::time::Duration,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    #[default]
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum CostsCmd {
    /// Usage and cost per day.
    Daily(CostArgs),
    /// Usage and cost per week (weeks start on Monday).
    Weekly(CostArgs),
    /// Usage and cost per month.
    Monthly(CostArgs),
    /// Usage and cost per session.
    Session(CostArgs),
    /// 5-hour billing blocks of Claude Code (of another agent with
    /// --agent), with burn rate and projection for the active one.
    Blocks(BlocksArgs),
}

#[derive(Debug, Args, Clone)]
pub struct BlocksArgs {
    #[command(flatten)]
    pub common: CostArgs,
    /// Only the active block (the one of now).
    #[arg(short, long)]
    pub active: bool,
    /// Only the blocks of the last 3 days (and the active one).
    #[arg(short, long)]
    pub recent: bool,
    /// A token limit to compare each block, and the active block's
    /// projection, with; `max`: the most tokens a finished block listed used.
    #[arg(short, long, value_name = "TOKENS|max", value_parser = agentwatch_core::reports::TokenLimit::parse)]
    pub token_limit: Option<agentwatch_core::reports::TokenLimit>,
    /// Oldest block first (asc) or newest first (desc).
    #[arg(short, long, value_enum, default_value_t)]
    pub order: Order,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

#[derive(Debug, Args, Clone)]
pub struct CostArgs {
    /// First day to include (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date, value_name = "DATE")]
    pub since: Option<chrono::NaiveDate>,
    /// Last day to include (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date, value_name = "DATE")]
    pub until: Option<chrono::NaiveDate>,
    /// Only this agent type (claude-code, codex, …).
    #[arg(long, value_name = "TYPE", value_parser = parse_agent_type)]
    pub agent: Option<String>,
    /// Only sessions whose project path contains this text.
    #[arg(long, value_name = "TEXT")]
    pub project: Option<String>,
    /// Timezone for dates: an IANA name such as Europe/Berlin, UTC, or local.
    #[arg(long, default_value = "local", value_name = "TZ")]
    pub timezone: String,
    /// Show one line per model under each row.
    #[arg(long)]
    pub breakdown: bool,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Report on the database as it is, without reading new transcript data first.
    #[arg(long)]
    pub no_ingest: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SessionsArgs {
    #[command(subcommand)]
    pub command: Option<SessionsCmd>,
    #[command(flatten)]
    pub list: ListArgs,
}

#[derive(Debug, Args, Clone, Default)]
pub struct FilterArgs {
    /// Only this agent type (claude-code, codex, …).
    #[arg(long, value_name = "TYPE", value_parser = parse_agent_type)]
    pub agent_type: Option<String>,
    /// Only agents with this name or label.
    #[arg(long, value_name = "NAME")]
    pub agent: Option<String>,
    /// Only sessions whose project path contains this text.
    #[arg(long, value_name = "TEXT")]
    pub project: Option<String>,
    /// Only sessions found through this signal: transcript, process, mcp, proxy or hook.
    #[arg(long, value_name = "SOURCE", value_parser = clap::builder::PossibleValuesParser::new(agentwatch_core::model::SESSION_SOURCES))]
    pub source: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Use the database as it is, without reading new transcript data first.
    #[arg(long)]
    pub no_ingest: bool,
}

#[derive(Debug, Args, Clone, Default)]
pub struct ListArgs {
    /// Only sessions that are running now.
    #[arg(long)]
    pub active: bool,
    /// Show at most this many sessions.
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = parse_limit)]
    pub limit: usize,
    #[command(flatten)]
    pub filter: FilterArgs,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCmd {
    /// Sessions that have ended.
    History(HistoryArgs),
    /// Totals and averages over a time range.
    Stats(StatsArgs),
    /// Everything about one session.
    Show(ShowArgs),
}

pub use agentwatch_core::reports::Range;

fn parse_range(s: &str) -> Result<Range, String> {
    Range::parse(s).map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// today, yesterday, 7d (week), 30d (month), thismonth, lastmonth or all.
    #[arg(long, default_value = "all", value_parser = parse_range, value_name = "RANGE")]
    pub range: Range,
    #[arg(long, default_value_t = 20, value_name = "N", value_parser = parse_limit)]
    pub limit: usize,
    #[command(flatten)]
    pub filter: FilterArgs,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// today, yesterday, 7d (week), 30d (month), thismonth, lastmonth or all.
    #[arg(long, default_value = "all", value_parser = parse_range, value_name = "RANGE")]
    pub range: Range,
    #[command(flatten)]
    pub filter: FilterArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The session's id, or a unique prefix of it.
    pub id: String,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Use the database as it is, without reading new transcript data first.
    #[arg(long)]
    pub no_ingest: bool,
}

#[derive(Debug, Subcommand)]
pub enum PricesCmd {
    /// The price lists in use, and the prices of the models you used.
    Show(PricesShowArgs),
    /// Import a newer LiteLLM price list (model_prices_and_context_window.json).
    Update(PricesUpdateArgs),
}

#[derive(Debug, Args)]
pub struct PricesShowArgs {
    /// Show the price of these models (default: every model in the database).
    pub models: Vec<String>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PricesUpdateArgs {
    /// The price list to import. agentwatch never downloads prices itself.
    #[arg(long, value_name = "FILE", required = true)]
    pub from: PathBuf,
}

/// The longest duration a flag takes: a year.
const MAX_DURATION_SECS: u64 = 365 * 86_400;

/// `30m`, `1h`, `2h30m`, `1d`, `45s`; at most a year.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let err = || format!("'{s}' is not a duration (e.g. 30m, 1h, 2h30m, 1d)");
    let too_long = || format!("'{s}' is too long (at most 365d)");
    let mut total = 0u64;
    let mut num = String::new();
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        if num.is_empty() {
            return Err(err());
        }
        // Only digits: a number that does not parse is too big.
        let n: u64 = num.parse().map_err(|_| too_long())?;
        num.clear();
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return Err(err()),
        };
        total = n.checked_mul(unit).and_then(|s| total.checked_add(s)).ok_or_else(too_long)?;
    }
    if !num.is_empty() || total == 0 {
        return Err(err());
    }
    if total > MAX_DURATION_SECS {
        return Err(too_long());
    }
    Ok(std::time::Duration::from_secs(total))
}

fn parse_scan_interval(s: &str) -> Result<std::time::Duration, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.01..=60.0).contains(&x) => Ok(std::time::Duration::from_secs_f64(x)),
        _ => Err("expected seconds from 0.01 to 60, such as 2 or 0.5".into()),
    }
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(s, "%Y%m%d"))
        .map_err(|_| format!("'{s}' is not a date (expected YYYY-MM-DD)"))
}

/// A count of rows to show: 1 or more.
fn parse_limit(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        Ok(_) => Err("must be at least 1 (leave it out for the default of 20)".into()),
        Err(_) => Err(format!("'{s}' is not a number of rows")),
    }
}

/// Accepts the agent type ids, and ccusage's short names for them.
fn parse_agent_type(s: &str) -> Result<String, String> {
    let id = match s.to_ascii_lowercase().as_str() {
        "claude" => "claude-code".to_string(),
        "gemini" => "gemini-cli".to_string(),
        "cursor" => "cursor-agent".to_string(),
        other => other.to_string(),
    };
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(format!("'{s}' is not an agent type (e.g. claude-code, codex)"));
    }
    Ok(id)
}
