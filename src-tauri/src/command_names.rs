/// The command names, as the capability file must allow them.
pub const NAMES: &[&str] = &[
    "list_sessions",
    "history",
    "get_session",
    "transcript_tail",
    "kill_session",
    "clear_completed",
    "cost_summary",
    "cost_blocks",
    "limits",
    "agents",
    "get_settings",
    "save_settings",
    "install_options",
    "install_preview",
    "install_apply",
    "open_session_window",
];
