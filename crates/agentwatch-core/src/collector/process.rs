//! Reading the process table with `sysinfo`, refreshing only what is needed.
//!
//! Every scan lists all processes with their parent, start time and name.
//! Command line, executable, working directory and owner are read once per
//! process (they do not change). CPU and memory are refreshed only for agent
//! process trees. Environments are never read, and only the current user's
//! processes are considered.

use std::collections::HashMap;
use std::path::PathBuf;

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System, UpdateKind};

use crate::error::{Error, Result};

/// (pid, start time in seconds since the epoch): a process's identity. A
/// reused pid has a different start time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcKey {
    pub pid: u32,
    pub start: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProcInfo {
    pub key: ProcKey,
    pub ppid: Option<u32>,
    pub name: String,
    pub cmd: Vec<String>,
    pub exe: Option<PathBuf>,
    pub cwd: Option<PathBuf>,
}

/// CPU (% of one core) and memory (bytes) of a set of processes.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub cpu: f64,
    pub memory: u64,
}

/// Limits scans to processes working inside one directory (for tests and
/// sandboxes).
pub const SCOPE_ENV: &str = "AGENTWATCH_PROCESS_SCOPE";

/// Processes younger than this (seconds) have their command line, exe and
/// cwd read again at every scan: an `exec` right after the fork changes them.
const SETTLE_SECS: u64 = 10;

pub struct Scanner {
    sys: System,
    uid: Option<sysinfo::Uid>,
    scope: Option<PathBuf>,
}

impl Scanner {
    pub fn new() -> Result<Scanner> {
        let mut sys = System::new().map_err(|e| Error::Other(format!("cannot read the process table: {e}")))?;
        let me = sysinfo::get_current_pid().map_err(|e| Error::Other(format!("cannot find own pid: {e}")))?;
        sys.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[me]),
            false,
            ProcessRefreshKind::nothing().without_tasks().with_user(UpdateKind::Always),
        );
        let uid = sys.process(me).and_then(|p| p.user_id().cloned());
        let scope = std::env::var_os(SCOPE_ENV).filter(|v| !v.is_empty()).map(PathBuf::from);
        Ok(Scanner { sys, uid, scope })
    }

    /// Lists the current user's processes.
    pub fn scan(&mut self) -> Vec<ProcInfo> {
        self.sys.refresh_processes_specifics(
            ProcessesToUpdate::All,
            true,
            ProcessRefreshKind::nothing()
                .without_tasks()
                .with_cmd(UpdateKind::OnlyIfNotSet)
                .with_exe(UpdateKind::OnlyIfNotSet)
                .with_cwd(UpdateKind::OnlyIfNotSet)
                .with_user(UpdateKind::OnlyIfNotSet),
        );
        // A process caught between fork and exec (a shell starting `claude`)
        // still shows its parent's command line, and the line read once is
        // kept. Young processes are read again until they have settled.
        let young: Vec<Pid> =
            self.sys.processes().iter().filter(|(_, p)| p.run_time() < SETTLE_SECS).map(|(pid, _)| *pid).collect();
        if !young.is_empty() {
            self.sys.refresh_processes_specifics(
                ProcessesToUpdate::Some(&young),
                false,
                ProcessRefreshKind::nothing()
                    .without_tasks()
                    .with_cmd(UpdateKind::Always)
                    .with_exe(UpdateKind::Always)
                    .with_cwd(UpdateKind::Always),
            );
        }
        let mut out = Vec::new();
        for (pid, p) in self.sys.processes() {
            // Threads show up as processes on Linux; they share their parent's identity.
            if p.thread_kind().is_some() {
                continue;
            }
            // An exited process not yet collected by its parent runs nothing.
            // Its command line is the one read while it ran, and its open
            // files are gone, so it would look like a fresh agent.
            if matches!(p.status(), sysinfo::ProcessStatus::Zombie | sysinfo::ProcessStatus::Dead) {
                continue;
            }
            if self.uid.is_some() && p.user_id() != self.uid.as_ref() {
                continue;
            }
            out.push(ProcInfo {
                key: ProcKey { pid: pid.as_u32(), start: p.start_time() as i64 },
                ppid: p.parent().map(|pp| pp.as_u32()),
                name: p.name().to_string_lossy().into_owned(),
                cmd: p.cmd().iter().map(|a| a.to_string_lossy().into_owned()).collect(),
                exe: p.exe().map(|e| e.to_path_buf()),
                cwd: p.cwd().map(strip_deleted),
            });
        }
        out.sort_by_key(|p| p.key.pid);
        if let Some(dir) = &self.scope {
            out.retain(|p| p.cwd.as_ref().is_some_and(|c| c.starts_with(dir)));
        }
        out
    }

    /// Refreshes CPU and memory of these processes. CPU is measured since
    /// the previous refresh of the same process.
    pub fn refresh_usage(&mut self, pids: &[u32]) {
        if pids.is_empty() {
            return;
        }
        let pids: Vec<Pid> = pids.iter().map(|p| Pid::from_u32(*p)).collect();
        self.sys.refresh_processes_specifics(
            ProcessesToUpdate::Some(&pids),
            false,
            ProcessRefreshKind::nothing().without_tasks().with_cpu().with_memory(),
        );
    }

    /// Summed CPU and memory of these processes, as last refreshed.
    pub fn usage(&self, pids: &[u32]) -> Usage {
        let mut u = Usage::default();
        for pid in pids {
            if let Some(p) = self.sys.process(Pid::from_u32(*pid)) {
                u.cpu += f64::from(p.cpu_usage());
                u.memory += p.memory();
            }
        }
        u
    }

    /// Whether the process is the one identified by `key`, alive, and ours.
    pub fn check(&mut self, key: ProcKey) -> Ownership {
        let pid = Pid::from_u32(key.pid);
        self.sys.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[pid]),
            true,
            ProcessRefreshKind::nothing().without_tasks().with_user(UpdateKind::Always),
        );
        match self.sys.process(pid) {
            None => Ownership::Gone,
            // Exited, waiting for its parent to collect it.
            Some(p) if p.status() == sysinfo::ProcessStatus::Zombie => Ownership::Gone,
            Some(p) if p.start_time() as i64 != key.start => Ownership::Reused,
            // By owner, not by whether a signal would be allowed: as root
            // it always would. An owner we cannot tell is not ours.
            Some(p) if self.uid.is_none() || p.user_id() != self.uid.as_ref() => Ownership::NotOurs,
            Some(_) => Ownership::Ours,
        }
    }

    /// Sends a signal. Returns false when the platform lacks the signal or
    /// the process refused it.
    pub fn signal(&self, pid: u32, sig: sysinfo::Signal) -> bool {
        match self.sys.process(Pid::from_u32(pid)) {
            Some(p) => p.kill_with(sig).unwrap_or_else(|| sig == sysinfo::Signal::Kill && p.kill()),
            None => false,
        }
    }
}

/// A removed working directory reads as "<path> (deleted)".
fn strip_deleted(p: &std::path::Path) -> PathBuf {
    match p.to_str().and_then(|s| s.strip_suffix(" (deleted)")) {
        Some(s) => PathBuf::from(s),
        None => p.to_path_buf(),
    }
}

/// Whether a remembered process can be acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    Ours,
    Gone,
    /// The pid now belongs to a different process.
    Reused,
    /// The process belongs to another user.
    NotOurs,
}

/// The children of every process.
pub fn children(procs: &[ProcInfo]) -> HashMap<u32, Vec<u32>> {
    let mut m: HashMap<u32, Vec<u32>> = HashMap::new();
    for p in procs {
        if let Some(pp) = p.ppid {
            m.entry(pp).or_default().push(p.key.pid);
        }
    }
    m
}

/// A process and all its descendants.
pub fn tree(root: u32, kids: &HashMap<u32, Vec<u32>>) -> Vec<u32> {
    let mut out = vec![root];
    let mut seen: std::collections::HashSet<u32> = out.iter().copied().collect();
    let mut i = 0;
    while i < out.len() {
        for c in kids.get(&out[i]).into_iter().flatten() {
            if seen.insert(*c) {
                out.push(*c);
            }
        }
        i += 1;
    }
    out
}

/// The start time of a process in clock ticks since boot, as
/// `/proc/<pid>/stat` gives it (Claude Code's session registry stores it).
#[cfg(target_os = "linux")]
pub fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may contain spaces and parentheses: fields start after the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}

#[cfg(not(target_os = "linux"))]
pub fn start_ticks(_pid: u32) -> Option<u64> {
    None
}

/// Paths a process has open (Linux: `/proc/<pid>/fd`).
#[cfg(target_os = "linux")]
pub fn open_files(pid: u32) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return Vec::new() };
    dir.flatten().filter_map(|e| std::fs::read_link(e.path()).ok()).filter(|p| p.is_absolute()).collect()
}

#[cfg(not(target_os = "linux"))]
pub fn open_files(_pid: u32) -> Vec<PathBuf> {
    Vec::new()
}

/// Whether the terminal a process was reading closed (its stdin is a
/// pseudo-terminal that no longer exists). An interactive agent left so can
/// never be answered again, even if it lingers (Gemini CLI ignores SIGHUP).
#[cfg(target_os = "linux")]
pub fn terminal_closed(pid: u32) -> bool {
    std::fs::read_link(format!("/proc/{pid}/fd/0")).is_ok_and(|p| {
        let p = p.to_string_lossy();
        p.starts_with("/dev/pts/") && p.ends_with(" (deleted)")
    })
}

#[cfg(not(target_os = "linux"))]
pub fn terminal_closed(_pid: u32) -> bool {
    false
}

/// Whether a running process named `name` holds `path` open.
#[cfg(target_os = "linux")]
pub fn held_open_by(name: &str, path: &std::path::Path) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else { return false };
    dir.flatten().filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok()).any(|pid| {
        std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim_end() == name)
            && open_files(pid).iter().any(|p| p == path)
    })
}

#[cfg(not(target_os = "linux"))]
pub fn held_open_by(_name: &str, _path: &std::path::Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_its_own_process_and_child_with_identity() {
        let mut child = std::process::Command::new("sleep").arg("30").spawn().unwrap();
        let mut s = Scanner::new().unwrap();
        let procs = s.scan();
        let me = procs.iter().find(|p| p.key.pid == std::process::id()).expect("own process listed");
        assert!(me.key.start > 1_600_000_000);
        let kid = procs.iter().find(|p| p.key.pid == child.id()).expect("child listed");
        assert_eq!(kid.ppid, Some(std::process::id()));
        assert_eq!(kid.cmd, vec!["sleep", "30"]);
        assert_eq!(kid.cwd.as_deref(), std::env::current_dir().ok().as_deref());
        assert!(tree(std::process::id(), &children(&procs)).contains(&child.id()));
        assert_eq!(s.check(kid.key), Ownership::Ours);
        assert_eq!(s.check(ProcKey { start: kid.key.start - 100, ..kid.key }), Ownership::Reused);
        #[cfg(target_os = "linux")]
        assert!(start_ticks(child.id()).unwrap() > 0);
        child.kill().unwrap();
        // Killed but not yet collected: a zombie, which is not listed.
        #[cfg(target_os = "linux")]
        {
            let zombie = || std::fs::read_to_string(format!("/proc/{}/stat", child.id())).unwrap().contains(") Z ");
            let t = std::time::Instant::now();
            while !zombie() && t.elapsed() < std::time::Duration::from_secs(5) {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            assert!(zombie());
            assert!(!s.scan().iter().any(|p| p.key.pid == child.id()));
        }
        child.wait().unwrap();
        assert_eq!(s.check(kid.key), Ownership::Gone);
    }
}
