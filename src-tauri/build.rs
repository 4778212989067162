// The app's commands are listed here so that capabilities/default.json can
// allow exactly them (`allow-<command>`); nothing else is callable.
const COMMANDS: &[&str] = &[
    "list_sessions",
    "history",
    "get_session",
    "transcript_tail",
    "kill_session",
    "clear_completed",
    "cost_summary",
    "cost_blocks",
    "get_settings",
    "save_settings",
    "install_preview",
    "install_apply",
    "open_session_window",
];

fn main() {
    println!("cargo:rerun-if-changed=../ui/dist");
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build step");
}
