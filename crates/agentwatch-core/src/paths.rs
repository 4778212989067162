//! Where agentwatch keeps its own files.
//!
//! - data dir: the SQLite database, the API token, logs. Platform data dir
//!   (`~/.local/share/agentwatch` on Linux), or `--data-dir`, or
//!   `AGENTWATCH_DATA_DIR`.
//! - config dir: `config.toml` and the price override file `prices.json`.
//!   Platform config dir (`~/.config/agentwatch` on Linux), or
//!   `AGENTWATCH_CONFIG_DIR`.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub const DATA_DIR_ENV: &str = "AGENTWATCH_DATA_DIR";
pub const CONFIG_DIR_ENV: &str = "AGENTWATCH_CONFIG_DIR";
pub const DB_FILE: &str = "agentwatch.db";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirs {
    pub data: PathBuf,
    pub config: PathBuf,
}

impl Dirs {
    /// Resolves the directories: an explicit data dir wins over the
    /// environment, which wins over the platform default.
    pub fn resolve(data_dir: Option<&Path>) -> Result<Dirs> {
        let project = directories::ProjectDirs::from("dev", "agentwatch", "agentwatch");
        let env_path = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let data = match (data_dir, env_path(DATA_DIR_ENV)) {
            (Some(d), _) => d.to_path_buf(),
            (None, Some(d)) => d,
            (None, None) => project
                .as_ref()
                .map(|p| p.data_dir().to_path_buf())
                .ok_or_else(|| Error::Other(format!("cannot find a home directory; set {DATA_DIR_ENV}")))?,
        };
        let config = match env_path(CONFIG_DIR_ENV) {
            Some(c) => c,
            None => project.as_ref().map(|p| p.config_dir().to_path_buf()).unwrap_or_else(|| data.join("config")),
        };
        Ok(Dirs { data, config })
    }

    /// Directories under one root, for tests and the benchmark.
    pub fn under(root: &Path) -> Dirs {
        Dirs { data: root.join("data"), config: root.join("config") }
    }

    pub fn db_path(&self) -> PathBuf {
        self.data.join(DB_FILE)
    }

    pub fn config_file(&self) -> PathBuf {
        self.config.join("config.toml")
    }

    /// The user's own prices, which win over every other price list.
    pub fn price_override_file(&self) -> PathBuf {
        self.config.join("prices.json")
    }

    /// A price list imported with `agentwatch prices update --from FILE`.
    pub fn imported_prices_file(&self) -> PathBuf {
        self.data.join("prices-imported.json")
    }

    /// Creates the data dir (mode 0700 on Unix) if it is missing. One that
    /// other users can write to gets a warning on stderr, once a process.
    pub fn ensure_data_dir(&self) -> Result<()> {
        create_private_dir(&self.data)?;
        if writable_by_others(&self.data) {
            static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
            if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                let d: String =
                    self.data.display().to_string().chars().map(|c| if c.is_control() { '?' } else { c }).collect();
                let msg = format!(
                    "data dir {d} is writable by other users, who could replace agentwatch's files there \
                     (the API will not start); run `chmod 700 {d}`"
                );
                eprintln!("warning: {msg}");
                // For the daemon's and the app's log files; at warn, the CLI
                // would print it a second time.
                tracing::info!("{msg}");
            }
        }
        Ok(())
    }
}

/// Whether users other than the owner may create, replace or remove files in
/// `dir` (its group or other write bit is set).
pub fn writable_by_others(dir: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o022 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        false
    }
}

/// Creates a directory readable only by the user.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir).map_err(|e| Error::io(dir, e))?;
    // Files created inside inherit the directory's owner-only ACL.
    #[cfg(windows)]
    restrict_to_owner(dir).map_err(|e| Error::io(dir, e))?;
    Ok(())
}

/// Windows: lets only the owner of `path` (the user who created it) open
/// it, as mode 0600/0700 does on Unix. The DACL is protected (nothing
/// inherited from the parent folder) and holds one entry, full access for
/// OWNER RIGHTS (S-1-3-4), inherited by files and folders created inside.
/// Administrators can still take ownership, as root can read a 0600 file.
#[cfg(windows)]
pub fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    use windows_permissions::constants::{SeObjectType, SecurityInformation};
    use windows_permissions::{LocalBox, SecurityDescriptor, wrappers::SetNamedSecurityInfo};
    let sd: LocalBox<SecurityDescriptor> = OWNER_ONLY_SDDL.parse()?;
    SetNamedSecurityInfo(
        path.as_os_str(),
        SeObjectType::SE_FILE_OBJECT,
        SecurityInformation::Dacl | SecurityInformation::ProtectedDacl,
        None,
        None,
        sd.dacl(),
        None,
    )
}

/// The owner-only security descriptor, in SDDL: `D:P` a protected DACL;
/// `A;OICI;FA;;;OW` allow, inherited by files and folders, full access, to
/// the owner.
#[cfg(windows)]
const OWNER_ONLY_SDDL: &str = "D:P(A;OICI;FA;;;OW)";

/// The user's home directory.
pub fn home_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_data_dir_wins() {
        let d = Dirs::resolve(Some(Path::new("/tmp/x"))).unwrap();
        assert_eq!(d.db_path(), PathBuf::from("/tmp/x/agentwatch.db"));
    }

    #[test]
    fn private_dir_is_0700() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("a/b");
        create_private_dir(&d).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&d).unwrap().permissions().mode() & 0o777, 0o700);
        }
    }
}
