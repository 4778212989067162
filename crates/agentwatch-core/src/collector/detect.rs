//! From a process list to agent sessions: match signatures, then collapse a
//! wrapper and the real binary it starts (`node codex.js` → vendored `codex`,
//! Gemini re-executing itself, `sh -c …`) into one session.

use std::collections::HashMap;
use std::path::PathBuf;

use super::process::{ProcInfo, ProcKey, children, tree};
use super::signatures::Signatures;

/// The processes of one running agent session.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentProcess {
    pub agent: String,
    /// The outermost process of the agent: the session's identity.
    pub root: ProcKey,
    /// The agent's own processes, outermost first (wrapper, real binary).
    pub members: Vec<u32>,
    /// The members and every descendant (tools, MCP servers): for CPU,
    /// memory and kill.
    pub tree: Vec<u32>,
    pub command: String,
    pub cwd: Option<PathBuf>,
}

/// Finds the agent sessions among `procs`.
pub fn detect(procs: &[ProcInfo], sigs: &Signatures) -> Vec<AgentProcess> {
    let by_pid: HashMap<u32, &ProcInfo> = procs.iter().map(|p| (p.key.pid, p)).collect();
    // A shell running an agent through `-c` is not the agent: the session
    // belongs to its child, whose exit ends it even if the shell lives on.
    let agent_of: HashMap<u32, &str> = procs
        .iter()
        .filter(|p| !Signatures::is_shell_wrapper(&p.cmd))
        .filter_map(|p| {
            let exe = p.exe.as_ref().map(|e| e.to_string_lossy());
            sigs.classify(&p.cmd, exe.as_deref()).map(|a| (p.key.pid, a))
        })
        .collect();
    let kids = children(procs);
    let mut out = Vec::new();
    for p in procs {
        let Some(agent) = agent_of.get(&p.key.pid) else { continue };
        // A process whose parent runs the same agent belongs to its parent's session.
        if p.ppid.and_then(|pp| agent_of.get(&pp)) == Some(agent) {
            continue;
        }
        let mut members = vec![p.key.pid];
        let mut i = 0;
        while i < members.len() {
            for c in kids.get(&members[i]).into_iter().flatten() {
                if agent_of.get(c) == Some(agent) {
                    members.push(*c);
                }
            }
            i += 1;
        }
        let cwd = members.iter().filter_map(|m| by_pid.get(m).and_then(|p| p.cwd.clone())).next();
        out.push(AgentProcess {
            agent: agent.to_string(),
            root: p.key,
            tree: tree(p.key.pid, &kids),
            members,
            command: crate::redact::command_line(&p.cmd),
            cwd,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(pid: u32, ppid: u32, cmd: &str) -> ProcInfo {
        ProcInfo {
            key: ProcKey { pid, start: 1_700_000_000 + pid as i64 },
            ppid: Some(ppid),
            name: cmd.split(' ').next().unwrap().rsplit('/').next().unwrap().to_string(),
            cmd: cmd.split(' ').map(str::to_string).collect(),
            exe: None,
            cwd: Some(PathBuf::from("/home/u/api")),
        }
    }

    #[test]
    fn codex_wrapper_and_binary_are_one_session_with_their_tools() {
        let procs = vec![
            proc(10, 1, "bash"),
            proc(11, 10, "node /x/@openai/codex/bin/codex.js"),
            proc(12, 11, "/x/@openai/codex/vendor/x86_64-unknown-linux-musl/codex/codex"),
            proc(13, 12, "cargo test"),
            // Codex's app-server child is not a session of its own.
            proc(14, 12, "/x/@openai/codex/vendor/x86_64-unknown-linux-musl/codex/codex app-server"),
        ];
        let found = detect(&procs, &Signatures::builtin());
        assert_eq!(found.len(), 1);
        let a = &found[0];
        assert_eq!((a.agent.as_str(), a.root.pid), ("codex", 11));
        assert_eq!(a.members, vec![11, 12]);
        assert_eq!(a.tree, vec![11, 12, 13, 14]);
        assert_eq!(a.cwd, Some(PathBuf::from("/home/u/api")));
    }

    #[test]
    fn a_shell_wrapper_is_not_the_session_its_child_agent_is() {
        // tmux and launch scripts: `bash -c "claude; echo done"` forks claude.
        let procs = vec![proc(50, 1, "bash -c claude;_echo_done"), proc(51, 50, "claude")];
        let mut procs = procs;
        procs[0].cmd = vec!["bash".into(), "-c".into(), "claude; echo done".into()];
        let found = detect(&procs, &Signatures::builtin());
        assert_eq!(found.iter().map(|a| (a.agent.as_str(), a.root.pid)).collect::<Vec<_>>(), vec![("claude-code", 51)]);
        // After claude exits, the shell alone is nobody.
        assert!(detect(&procs[..1], &Signatures::builtin()).is_empty());
    }

    #[test]
    fn gemini_reexec_is_one_session_and_two_agents_are_two() {
        let procs = vec![
            proc(20, 1, "node /x/@google/gemini-cli/dist/index.js"),
            proc(21, 20, "node --max-old-space-size=8192 /x/@google/gemini-cli/dist/index.js"),
            proc(30, 1, "claude"),
        ];
        let found = detect(&procs, &Signatures::builtin());
        let mut summary: Vec<(String, u32, usize)> =
            found.iter().map(|a| (a.agent.clone(), a.root.pid, a.members.len())).collect();
        summary.sort();
        assert_eq!(summary, vec![("claude-code".into(), 30, 1), ("gemini-cli".into(), 20, 2)]);
    }

    #[test]
    fn an_agent_started_by_another_agents_tool_is_its_own_session() {
        // Claude's Bash tool runs `codex exec …` through a shell: a separate session.
        let procs = vec![
            proc(40, 1, "claude"),
            proc(41, 40, "/bin/bash -c -l source /tmp/snap && eval codex exec hi"),
            proc(42, 41, "codex exec hi"),
        ];
        let found = detect(&procs, &Signatures::builtin());
        let mut roots: Vec<(String, u32)> = found.iter().map(|a| (a.agent.clone(), a.root.pid)).collect();
        roots.sort();
        assert_eq!(roots, vec![("claude-code".into(), 40), ("codex".into(), 42)]);
        let claude = found.iter().find(|a| a.root.pid == 40).unwrap();
        assert_eq!(claude.tree, vec![40, 41, 42]);
    }
}
