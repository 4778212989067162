//! `agentwatch mcp-proxy -- <server command…>`: a stdio MCP server stand-in.
//!
//! The agent starts the proxy in place of an MCP server; the proxy starts
//! the real server and relays newline-delimited JSON-RPC both ways, byte for
//! byte, in order. A copy of every message goes to an inspector thread,
//! which:
//! - on the client's first request, finds the session: the agent process
//!   among its ancestors (the same session the collector follows), else a
//!   session of its own (source `proxy`) named after the client. Clients of
//!   both protocol generations are known: the `initialize` handshake
//!   (`params.clientInfo`), and the 2026-07-28 revision's stateless form,
//!   which starts with `server/discover` and names the client in every
//!   request's `params._meta["io.modelcontextprotocol/clientInfo"]`;
//! - on `tools/call`, counts a tool call and remembers its name;
//! - on a reply that is a JSON-RPC error or a tool result with `isError`,
//!   counts an error;
//! - when the client disconnects, closes a session of its own.
//!
//! The relay never waits for the inspector: if the database is slow or
//! broken, messages are still relayed and the inspector catches up or drops
//! copies. Monitoring never breaks the agent's tools.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use serde_json::Value;

use crate::collector::process::{ProcKey, Scanner};
use crate::collector::signatures::Signatures;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::liveness::Reported;
use crate::paths::Dirs;
use crate::store::{ProcessFacts, Registration, Report, Store};

/// Copies queued for the inspector; beyond this, copies are dropped.
const QUEUE: usize = 4096;

enum Copy {
    FromClient(Vec<u8>),
    FromServer(Vec<u8>),
    Closed,
}

/// Options of one proxy run.
#[derive(Debug, Clone, Default)]
pub struct ProxyOptions {
    /// The server's name, as the agent's config calls it.
    pub label: Option<String>,
}

/// Runs the proxy until the server exits (which it does when the client
/// hangs up). Returns the server's exit code; the client sees its output
/// close as soon as the server's does.
pub fn run(dirs: &Dirs, opts: &ProxyOptions, command: &[String]) -> Result<i32> {
    let (program, args) = command.split_first().ok_or_else(|| Error::Usage("no MCP server command after --".into()))?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| Error::Other(format!("cannot start the MCP server `{program}`: {e}")))?;
    let mut to_server = child.stdin.take().expect("piped stdin");
    let from_server = child.stdout.take().expect("piped stdout");
    let (tx, rx) = sync_channel::<Copy>(QUEUE);

    let inspector = {
        let (dirs, opts) = (dirs.clone(), opts.clone());
        std::thread::spawn(move || inspect(&dirs, &opts, rx))
    };
    // Client → server. When the client hangs up, the server gets EOF. This
    // thread may still be waiting for the client when the server has gone:
    // the process ends without it.
    let tx_in = tx.clone();
    std::thread::spawn(move || {
        let stdin = std::io::stdin().lock();
        relay(stdin, &mut to_server, |line| offer(&tx_in, Copy::FromClient(line.to_vec())));
        drop(to_server);
    });
    // Server → client, on this thread, until the server closes its output.
    {
        let mut out = std::io::stdout().lock();
        relay(from_server, &mut out, |line| offer(&tx, Copy::FromServer(line.to_vec())));
    }
    let status = child.wait().map_err(|e| Error::Other(format!("waiting for the MCP server: {e}")))?;
    let _ = tx.send(Copy::Closed);
    drop(tx);
    let _ = inspector.join();
    Ok(status.code().unwrap_or(1))
}

/// Hands a copy to the inspector without ever blocking the relay.
fn offer(tx: &SyncSender<Copy>, c: Copy) {
    if let Err(TrySendError::Full(_)) = tx.try_send(c) {
        tracing::debug!("inspector queue full; a message copy was dropped");
    }
}

/// Copies complete lines from `from` to `to` as they come, flushing each.
/// Each line is shown to `seen` first: the inspector must hold a request
/// before the server can answer it, or the answer would find no call to
/// match (an `isError` result went uncounted that way). `seen` never blocks.
/// Public for the fuzz targets only.
#[doc(hidden)]
pub fn relay(from: impl Read, to: &mut impl Write, mut seen: impl FnMut(&[u8])) {
    let mut r = BufReader::with_capacity(64 * 1024, from);
    let mut line = Vec::with_capacity(8 * 1024);
    loop {
        line.clear();
        match r.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        seen(&line);
        if to.write_all(&line).and_then(|_| to.flush()).is_err() {
            return;
        }
    }
}

/// What the inspector knows of the conversation.
struct Inspector {
    store: Option<Store>,
    cfg: Config,
    session: Option<i64>,
    own_session: bool,
    /// Whether the session was looked for (once: a database that fails
    /// then is not asked again for every message).
    looked: bool,
    /// Pending `tools/call` requests: JSON-RPC id → tool name.
    calls: HashMap<String, String>,
    /// Finds the agent process among our ancestors ([`agent_ancestor`]).
    ancestor: fn() -> Option<AgentProc>,
}

/// An agent process: (agent, identity, command line, working directory).
type AgentProc = (String, ProcKey, String, Option<String>);

fn inspect(dirs: &Dirs, opts: &ProxyOptions, rx: Receiver<Copy>) {
    let mut ins = Inspector {
        store: None,
        cfg: Config::load_logged(dirs).unwrap_or_default(),
        session: None,
        own_session: false,
        looked: false,
        calls: HashMap::new(),
        ancestor: agent_ancestor,
    };
    for c in rx {
        let r = match c {
            Copy::FromClient(b) => ins.client_said(dirs, opts, &b),
            Copy::FromServer(b) => ins.server_said(&b),
            Copy::Closed => {
                if let Err(e) = ins.closed() {
                    tracing::warn!("mcp-proxy: {e}");
                }
                // The client's relay may still hold a sender: stop here.
                break;
            }
        };
        if let Err(e) = r {
            tracing::warn!("mcp-proxy: {e}");
        }
    }
}

impl Inspector {
    fn store(&mut self, dirs: &Dirs) -> Result<&Store> {
        if self.store.is_none() {
            let s = Store::open_in(dirs)?;
            s.skip_checkpoint_on_close();
            s.busy_timeout(std::time::Duration::from_secs(2))?;
            self.store = Some(s);
        }
        Ok(self.store.as_ref().expect("just opened"))
    }

    fn client_said(&mut self, dirs: &Dirs, opts: &ProxyOptions, line: &[u8]) -> Result<()> {
        let Ok(msg) = serde_json::from_slice::<Value>(line) else { return Ok(()) };
        for m in batch(&msg) {
            let method = m.get("method").and_then(Value::as_str);
            // The first request of either protocol generation starts the
            // session (a notification has no id and starts nothing).
            if !self.looked && method.is_some() && m.get("id").is_some() {
                self.looked = true;
                self.initialize(dirs, opts, m)?;
            }
            if method == Some("tools/call") {
                let tool = m.pointer("/params/name").and_then(Value::as_str).unwrap_or("tool").to_string();
                if let Some(id) = m.get("id") {
                    self.calls.insert(id.to_string(), tool.clone());
                }
                if let (Some(pk), Some(store)) = (self.session, self.store.as_ref()) {
                    store.record_tool_call(pk, &tool, "proxy", false, crate::util::now_ms())?;
                }
            }
        }
        Ok(())
    }

    fn server_said(&mut self, line: &[u8]) -> Result<()> {
        let Ok(msg) = serde_json::from_slice::<Value>(line) else { return Ok(()) };
        for m in batch(&msg) {
            let Some(id) = m.get("id").map(Value::to_string) else { continue };
            let tool = self.calls.remove(&id);
            let failed = m.get("error").is_some_and(|e| !e.is_null())
                || (tool.is_some() && m.pointer("/result/isError").and_then(Value::as_bool) == Some(true));
            if failed && let (Some(pk), Some(store)) = (self.session, self.store.as_ref()) {
                store.record_error(pk, crate::util::now_ms())?;
            }
        }
        Ok(())
    }

    fn closed(&mut self) -> Result<()> {
        if let (true, Some(pk), Some(store)) = (self.own_session, self.session, self.store.as_ref()) {
            store.report(
                pk,
                &Report { state: Some(Reported::Complete), ..Default::default() },
                crate::util::now_ms(),
            )?;
            crate::collector::judge_now(store, &self.cfg, pk, "MCP client disconnected")?;
        }
        Ok(())
    }

    /// Finds the session to count into: the agent process among our
    /// ancestors, else a session of our own.
    fn initialize(&mut self, dirs: &Dirs, opts: &ProxyOptions, m: &Value) -> Result<()> {
        let client = client_name(m).unwrap_or("mcp client").to_string();
        let agent_proc = (self.ancestor)();
        let store = self.store(dirs)?;
        let now = crate::util::now_ms();
        let own = agent_proc.is_none();
        let pk = match agent_proc {
            Some((agent, key, command, cwd)) => {
                let existing: Option<i64> = store.session_pk_of_process(key.pid, key.start).ok().flatten();
                match existing {
                    Some(pk) => pk,
                    None => {
                        let facts = ProcessFacts {
                            agent,
                            pid: key.pid,
                            start: key.start,
                            command,
                            cwd,
                            name: None,
                            transcript: None,
                        };
                        store.attach_process(&facts, None, now)?.0
                    }
                }
            }
            None => {
                let r = Registration {
                    agent: crate::model::agent_id_for_client(&client),
                    source: "proxy".into(),
                    name: opts.label.clone(),
                    agent_label: Some(client.clone()),
                    ide_type: Some(client.clone()),
                    project_path: std::env::current_dir().ok().map(|d| d.display().to_string()),
                    ..Default::default()
                };
                store.register(&r, now)?.0.pk
            }
        };
        self.own_session = own;
        self.session = Some(pk);
        Ok(())
    }
}

/// The client's name: `initialize`'s `clientInfo`, or the `_meta` every
/// request of the 2026-07-28 revision carries.
fn client_name(m: &Value) -> Option<&str> {
    m.pointer("/params/clientInfo/name")
        .or_else(|| m.pointer("/params/_meta/io.modelcontextprotocol~1clientInfo/name"))
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
}

/// Shows `messages` (`true`: from the client) to an inspector that counts
/// into `store`, as [`run`] does, then closes the conversation, stopping at
/// the first error. No agent process is looked for among the ancestors, so
/// `initialize` makes a session of the proxy's own. Returns the store and
/// the session counted into. Public for the fuzz targets only.
#[doc(hidden)]
pub fn inspect_messages(
    dirs: &Dirs,
    store: Store,
    opts: &ProxyOptions,
    messages: &[(bool, &[u8])],
) -> (Store, Result<Option<i64>>) {
    let mut ins = Inspector {
        store: Some(store),
        cfg: Config::default(),
        session: None,
        own_session: false,
        looked: false,
        calls: HashMap::new(),
        ancestor: || None,
    };
    let mut result = Ok(());
    for (from_client, m) in messages {
        result = if *from_client { ins.client_said(dirs, opts, m) } else { ins.server_said(m) };
        if result.is_err() {
            break;
        }
    }
    if result.is_ok() {
        result = ins.closed();
    }
    let session = ins.session;
    (ins.store.take().expect("given"), result.map(|()| session))
}

/// The messages of a JSON-RPC message or batch.
fn batch(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    }
}

/// The nearest ancestor process that is a coding agent: (agent, identity,
/// command line, working directory).
fn agent_ancestor() -> Option<(String, ProcKey, String, Option<String>)> {
    let mut scanner = Scanner::new().ok()?;
    let procs = scanner.scan();
    let by_pid: HashMap<u32, &crate::collector::process::ProcInfo> = procs.iter().map(|p| (p.key.pid, p)).collect();
    let sigs = Signatures::with_user(&Config::default().signatures);
    let mut pid = by_pid.get(&std::process::id())?.ppid?;
    for _ in 0..8 {
        let p = by_pid.get(&pid)?;
        let exe = p.exe.as_ref().map(|e| e.to_string_lossy().into_owned());
        if let Some(agent) = sigs.classify(&p.cmd, exe.as_deref()) {
            return Some((
                agent.to_string(),
                p.key,
                crate::redact::command_line(&p.cmd),
                p.cwd.as_ref().map(|c| c.display().to_string()),
            ));
        }
        pid = p.ppid?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_copies_lines_exactly_and_in_order() {
        let input = b"{\"a\":1}\n{\"b\":\"x\\ny\"}\n\n{\"partial\"".to_vec();
        let mut out = Vec::new();
        let mut seen = Vec::new();
        relay(&input[..], &mut out, |l| seen.push(l.to_vec()));
        assert_eq!(out, input, "byte for byte, including a last line without a newline");
        assert_eq!(seen.len(), 4);
    }

    #[test]
    fn a_line_is_seen_before_the_other_side_can_answer_it() {
        struct Log<'a>(&'a std::cell::RefCell<Vec<&'static str>>);
        impl Write for Log<'_> {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.borrow_mut().push("passed on");
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let log = std::cell::RefCell::new(Vec::new());
        relay(&b"{\"id\":1,\"method\":\"tools/call\"}\n"[..], &mut Log(&log), |_| log.borrow_mut().push("seen"));
        assert_eq!(log.into_inner(), ["seen", "passed on"]);
    }

    #[test]
    fn batches_are_looked_into() {
        let v: Value = serde_json::from_str(r#"[{"id":1,"method":"tools/call"},{"id":2}]"#).unwrap();
        assert_eq!(batch(&v).len(), 2);
    }

    #[test]
    fn a_client_of_the_2026_protocol_is_known_by_its_meta_without_initialize() {
        // As PyPI `mcp` 2.3 sends them: `server/discover` first, every request
        // naming the client in `_meta`; no `initialize`.
        let t = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(t.path());
        let store = Store::open_in(&dirs).unwrap();
        let meta = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"claude-code","version":"2.1.197"},"io.modelcontextprotocol/clientCapabilities":{}}"#;
        let discover = format!(r#"{{"jsonrpc":"2.0","id":0,"method":"server/discover","params":{{{meta}}}}}"#);
        let call = format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{{"name":"search","arguments":{{}},{meta}}}}}"#
        );
        let failed = r#"{"jsonrpc":"2.0","id":1,"result":{"content":[],"isError":true}}"#;
        let msgs: Vec<(bool, &[u8])> = vec![
            (true, discover.as_bytes()),
            (false, br#"{"jsonrpc":"2.0","id":0,"result":{"supportedVersions":["2026-07-28"]}}"#),
            (true, call.as_bytes()),
            (false, failed.as_bytes()),
        ];
        let opts = ProxyOptions { label: Some("search-server".into()) };
        let (store, r) = inspect_messages(&dirs, store, &opts, &msgs);
        let pk = r.unwrap().expect("a session from the first request");
        let s = store.session_by_pk(pk).unwrap().unwrap();
        assert_eq!(
            (s.agent.as_str(), s.agent_label.as_deref(), s.source.as_str()),
            ("claude-code", Some("claude-code"), "proxy")
        );
        assert_eq!((s.live.tool_calls, s.live.last_tool.as_deref(), s.live.errors), (1, Some("search"), 1));
        assert_eq!(s.name.as_deref(), Some("search-server"));
    }
}
