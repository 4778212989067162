// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // WebKitGTK reports the "C"/"POSIX" locale as navigator.language "C",
    // which is no BCP 47 tag: `Intl.NumberFormat(navigator.language)` (the
    // chart library does that) throws and the UI does not start. Give the
    // webview a real language then (GLib reads it from LC_MESSAGES; other
    // categories stay as they are); formats stay the UI's own (en-US).
    #[cfg(target_os = "linux")]
    if agentwatch_desktop::needs_language_fallback(|k| std::env::var(k).ok()) {
        // SAFETY: first thing in main, before any other thread exists.
        unsafe {
            if let Some(all) = std::env::var_os("LC_ALL") {
                std::env::remove_var("LC_ALL");
                std::env::set_var("LANG", all);
            }
            std::env::set_var("LC_MESSAGES", "en_US.UTF-8");
        }
    }
    agentwatch_desktop::run();
}
