//! Where ZCode (Z.ai's desktop coding agent) keeps its usage ledger:
//! `~/.zcode/cli/db/db.sqlite` (the home folder's `.zcode` on Linux, macOS
//! and Windows alike), or under each folder of `ZCODE_HOME` (comma-separated;
//! ccusage's variable: whether ZCode itself honours it is not known).

use std::path::PathBuf;

use crate::sources::SourceEnv;

/// The database's folder below a ZCode home.
pub const DB_DIR: &str = "cli/db";

/// The database's name in its folder.
pub const DATABASE: &str = "db.sqlite";

/// The folders a ZCode database may be in, whether they exist yet or not.
pub fn db_dirs(env: &SourceEnv) -> Vec<PathBuf> {
    let homes = env
        .path_list("ZCODE_HOME")
        .unwrap_or_else(|| env.home.as_ref().map(|h| h.join(".zcode")).into_iter().collect());
    crate::sources::dedup_dirs(homes.into_iter().map(|h| h.join(DB_DIR)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zcode_home_or_the_home_folder() {
        let env = |vars: &[(&str, &str)]| SourceEnv::of("/home/u", vars);
        assert_eq!(db_dirs(&env(&[])), vec![PathBuf::from("/home/u/.zcode/cli/db")]);
        assert_eq!(
            db_dirs(&env(&[("ZCODE_HOME", "/srv/a, /srv/b,")])),
            vec![PathBuf::from("/srv/a/cli/db"), PathBuf::from("/srv/b/cli/db")]
        );
        assert_eq!(db_dirs(&env(&[("ZCODE_HOME", " , ")])), vec![PathBuf::from("/home/u/.zcode/cli/db")]);
    }
}
