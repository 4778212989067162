// The app's commands (src/command_names.rs, shared with the app) are listed
// so that capabilities/default.json can allow exactly them
// (`allow-<command>`); nothing else is callable.
include!("src/command_names.rs");

fn main() {
    println!("cargo:rerun-if-changed=../ui/dist");
    tauri_build::try_build(
        tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(NAMES)),
    )
    .expect("tauri build step");
}
