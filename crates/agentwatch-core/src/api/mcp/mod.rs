//! The MCP server at `/mcp`: Streamable HTTP, with rmcp (the official Rust
//! SDK), stateful sessions; and the stateless 2026-07-28 revision
//! (`server/discover`, the client in each request's `_meta`) in `modern.rs`.
//!
//! How the pieces fit:
//!
//! - [`StreamableHttpService`] (a tower service, nested at `/mcp` by the API
//!   router, behind its Host/Origin/token guard) speaks the transport: POST
//!   for requests, GET for the server's event stream, DELETE to end a session.
//! - It creates one `Handler` (our `ServerHandler`) per MCP session, through
//!   its service factory, and runs it against that session's transport until
//!   the session ends.
//! - Sessions live in rmcp's in-memory `LocalSessionManager`, wrapped by
//!   `Sessions` so that agentwatch hears when one ends: an HTTP DELETE, the
//!   idle timeout, or the handler stopping all go through `close_session`.
//!
//! The connecting client is itself a session in agentwatch (source `mcp`,
//! public id = the MCP session id), registered at `initialize` (the session
//! manager hands the new session's id to the handler with the request),
//! touched by every `tools/call`, and reported complete when its MCP session
//! ends. Sessions the client creates with `create_session` are separate,
//! heartbeat-tracked sessions that outlive the connection, as in CacheBash.
//!
//! Database writes from here are serialised (one at a time per server) and
//! retried when another process holds the write lock.

mod modern;
mod tools;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientJsonRpcMessage, ContentBlock, GetExtensions,
    Implementation, InitializeRequestParams, InitializeResult, ListToolsResult, PaginatedRequestParams,
    ProtocolVersion, ServerCapabilities, ServerConfig, ServerJsonRpcMessage, Tool,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::transport::WorkerTransport;
use rmcp::transport::streamable_http_server::session::ServerSseMessage;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError, LocalSessionWorker,
};
use rmcp::transport::streamable_http_server::{SessionId, SessionManager};
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::{Value, json};

use super::{ApiContext, MAX_BODY};
use crate::collector::judge_now;
use crate::error::{Error, Result};
use crate::liveness::Reported;
use crate::store::{Registration, Report, SessionFilter, Store, list_sessions};
use tools::{Args, percent};

/// Where a tool call's accounting goes: `tool_calls.source`.
const SOURCE: &str = "mcp";
/// A session with no request for this long is dropped (and shows completed).
/// rmcp's default is 5 minutes; agents often sit idle longer than that.
const IDLE_TIMEOUT: Duration = Duration::from_secs(3600);
/// The connected client's own heartbeat is refreshed at most this often.
const CLIENT_BEAT: Duration = Duration::from_secs(1);

/// The MCP endpoint, to nest at `/mcp`.
pub fn service(ctx: ApiContext) -> Router {
    let shared = Arc::new(Shared { ctx, write: Mutex::new(()), tools: tools::definitions() });
    close_leftovers(shared.clone());
    let mut sessions = LocalSessionManager::default();
    sessions.session_config.keep_alive = Some(IDLE_TIMEOUT);
    let sessions = Arc::new(Sessions { inner: sessions, shared: shared.clone() });
    // The API's guard already allows loopback Host and Origin headers only,
    // with our port; rmcp's own check must not be stricter (a port-less entry
    // matches any port). Origins are left to the guard.
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(["localhost", "127.0.0.1", "::1"])
        .disable_allowed_origins()
        .with_legacy_session_mode(true)
        .with_max_request_body_bytes(MAX_BODY);
    let modern_shared = shared.clone();
    let factory = move || Ok(Handler { shared: shared.clone(), client: Arc::new(tokio::sync::Mutex::new(None)) });
    Router::new()
        .fallback_service(StreamableHttpService::new(factory, sessions, config))
        .layer(axum::middleware::from_fn_with_state(modern_shared, modern::layer))
        .layer(axum::middleware::from_fn(deleted_is_ok))
}

/// rmcp answers a session's DELETE with 202 Accepted; the session is gone
/// by then, and clients (the Python SDK) expect 200.
async fn deleted_is_ok(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let delete = req.method() == axum::http::Method::DELETE;
    let mut resp = next.run(req).await;
    if delete && resp.status() == axum::http::StatusCode::ACCEPTED {
        *resp.status_mut() = axum::http::StatusCode::OK;
    }
    resp
}

/// What every session's handler shares.
struct Shared {
    ctx: ApiContext,
    /// Held while writing, so that this server's writes never race each other.
    write: Mutex<()>,
    tools: Vec<Tool>,
}

impl Shared {
    /// Runs `f` with a database connection and the write lock; retries while
    /// another connection holds the database's write lock, so `f` must be
    /// safe to run again after a failure.
    fn write<T>(&self, ctx: &ApiContext, f: impl Fn(&Store) -> Result<T>) -> Result<T> {
        let _w = self.write.lock().unwrap_or_else(|e| e.into_inner());
        ctx.with_store(|s| {
            let mut tries = 0;
            loop {
                match f(s) {
                    Err(e) if tries < 5 && e.is_busy() => {
                        tries += 1;
                        std::thread::sleep(Duration::from_millis(20 * tries));
                    }
                    r => return r,
                }
            }
        })
    }
}

/// The client of one MCP session, once registered.
#[derive(Debug, Clone)]
struct Client {
    /// Its session's key.
    pk: i64,
    agent: String,
    label: String,
    ide: String,
    /// When its heartbeat was last refreshed.
    beat: Instant,
}

/// Serves one MCP session.
#[derive(Clone)]
struct Handler {
    shared: Arc<Shared>,
    client: Arc<tokio::sync::Mutex<Option<Client>>>,
}

/// The MCP session id of an `initialize` request, put there by `Sessions`.
#[derive(Debug, Clone)]
struct McpSession(String);

/// The MCP session id a request or notification came with.
fn session_of(ext: &rmcp::model::Extensions) -> Option<String> {
    let parts = ext.get::<axum::http::request::Parts>()?;
    let v = parts.headers.get("mcp-session-id")?.to_str().ok()?;
    (!v.is_empty()).then(|| v.to_string())
}

/// Who the client says it is: (agent type id, label, IDE type).
fn identity(info: Option<&InitializeRequestParams>) -> (String, String, String) {
    match info {
        Some(p) => {
            let c = &p.client_info;
            let label = c.title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| c.name.clone());
            (crate::model::agent_id_for_client(&c.name), label, c.name.clone())
        }
        None => ("mcp-client".into(), "MCP client".into(), "mcp".into()),
    }
}

impl Handler {
    fn ctx(&self) -> &ApiContext {
        &self.shared.ctx
    }

    /// The client's session, registered on first need: at `initialize`, or
    /// failing that at `notifications/initialized` or the first call. None
    /// without an MCP session (a stateless request).
    async fn client(&self, session: Option<String>, info: Option<Arc<InitializeRequestParams>>) -> Option<Client> {
        let mut slot = self.client.lock().await;
        if let Some(c) = slot.as_ref() {
            return Some(c.clone());
        }
        let session = session?;
        let (agent, label, ide) = identity(info.as_deref());
        let reg = Registration {
            agent: agent.clone(),
            id: Some(session.clone()),
            source: SOURCE.into(),
            agent_label: Some(label.clone()),
            ide_type: Some(ide.clone()),
            mcp_session: Some(session.clone()),
            heartbeats: true,
            ..Default::default()
        };
        let shared = self.shared.clone();
        let pk = self
            .ctx()
            .blocking(move |c| {
                shared.write(c, |s| {
                    let (pk, _) = register(s, &reg, crate::util::now_ms())?;
                    judge_now(s, &c.config(), pk, "MCP client connected")?;
                    Ok(pk)
                })
            })
            .await;
        match pk {
            Ok(pk) => {
                self.ctx().hub().notify();
                tracing::info!(session = %session, agent = %agent, "MCP client connected");
                let c = Client { pk, agent, label, ide, beat: Instant::now() };
                *slot = Some(c.clone());
                Some(c)
            }
            Err(e) => {
                tracing::warn!("cannot register the MCP client: {e}");
                None
            }
        }
    }

    /// Whether this call should refresh the client's heartbeat (at most
    /// once per `CLIENT_BEAT`); notes the refresh.
    async fn beat_due(&self) -> bool {
        match self.client.lock().await.as_mut() {
            Some(c) if c.beat.elapsed() >= CLIENT_BEAT => {
                c.beat = Instant::now();
                true
            }
            _ => false,
        }
    }
}

/// Runs a tool and counts the call on the client's session, in one trip to
/// a blocking thread. A failure is a message for the caller.
fn execute(
    shared: &Shared,
    ctx: &ApiContext,
    name: &str,
    mut args: Args,
    client: Option<&Client>,
    beat: bool,
    stateless: Option<&(String, String, String)>,
) -> std::result::Result<Value, String> {
    // Who calls: the session's client, or a stateless request's `_meta`.
    let who = match (client, stateless) {
        (Some(c), _) => (c.agent.clone(), c.label.clone(), c.ide.clone()),
        (None, Some(w)) => w.clone(),
        (None, None) => identity(None),
    };
    let result = dispatch(shared, ctx, name, &mut args, &who).map(|mut out| {
        let unknown = args.unknown();
        if !unknown.is_empty()
            && let Some(o) = out.as_object_mut()
        {
            let note = format!("ignored unknown argument(s): {}", unknown.join(", "));
            let msg = match o.get("message").and_then(Value::as_str) {
                Some(m) => format!("{m}; {note}"),
                None => note,
            };
            o.insert("message".into(), json!(msg));
        }
        out
    });
    if let Some(c) = client {
        // One write each: a retry must not count the call twice.
        let now = crate::util::now_ms();
        let mut counted = shared.write(ctx, |s| s.record_tool_call(c.pk, name, SOURCE, result.is_err(), now));
        if beat && counted.is_ok() {
            counted = shared.write(ctx, |s| {
                s.report(c.pk, &Report { heartbeat: true, ..Default::default() }, now)?;
                judge_now(s, &ctx.config(), c.pk, "MCP tool call").map(drop)
            });
        }
        if let Err(e) = counted {
            tracing::warn!("cannot count an MCP tool call: {e}");
        }
    }
    result
}

fn dispatch(
    shared: &Shared,
    ctx: &ApiContext,
    name: &str,
    args: &mut Args,
    who: &(String, String, String),
) -> std::result::Result<Value, String> {
    let now = crate::util::now_ms;
    let out = match name {
        "create_session" => {
            let a = args.create_session()?;
            shared.write(ctx, |s| create_session(s, ctx, &a, who))
        }
        "update_session" => {
            let a = args.update_session()?;
            shared.write(ctx, |s| update_session(s, ctx, &a, who))
        }
        "list_sessions" => {
            let a = args.list_sessions()?;
            ctx.with_store(|s| {
                let now = now();
                let items: Vec<Value> = tools::sessions(s, &a)?.iter().map(|r| tools::item(r, now)).collect();
                Ok(json!({"success": true, "count": items.len(), "sessions": items}))
            })
        }
        "get_fleet_health" => ctx
            .with_store(|s| crate::views::FleetHealth::load(s, &ctx.config(), now()))
            .map(|f| with_success(serde_json::to_value(f).expect("serializes"))),
        "get_cost_summary" => {
            let a = args.get_cost_summary()?;
            let range =
                crate::reports::Range::parse(a.range.as_deref().unwrap_or("today")).map_err(|e| e.to_string())?;
            let (prices, cfg) = (ctx.prices(), ctx.config());
            ctx.with_store(|s| {
                crate::reports::cost_summary(s, &prices, &cfg, range, crate::reports::Zone::Local, now())
            })
            .map(|v| with_success(serde_json::to_value(v).expect("serializes")))
        }
        "get_limits" => ctx
            .with_store(|s| crate::limits::report(s, now()))
            .map(|r| with_success(serde_json::to_value(r).expect("serializes"))),
        other => {
            let known: Vec<&str> = shared.tools.iter().map(|t| t.name.as_ref()).collect();
            return Err(format!("unknown tool '{other}' (known: {})", known.join(", ")));
        }
    };
    out.map_err(|e| e.to_string())
}

fn with_success(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.insert("success".into(), json!(true));
    }
    v
}

/// The key of the session with this public id.
fn pk_of(s: &Store, id: &str) -> Result<Option<i64>> {
    s.session_pk_by_id(id)
}

/// Registers a session that has a public id; returns its key and whether it
/// was created. The key is looked up by the id: `Store::register` takes the
/// key of a new row from `last_insert_rowid()` after it has also written a
/// change-feed event, so for a new session it names the wrong row.
fn register(s: &Store, reg: &Registration, now: i64) -> Result<(i64, bool)> {
    let id = reg.id.as_deref().expect("registrations from MCP carry an id");
    let existed = pk_of(s, id)?.is_some();
    match s.register(reg, now) {
        Ok(_) => {}
        Err(Error::Other(m)) if m == "session vanished" => {}
        Err(e) => return Err(e),
    }
    let pk = pk_of(s, id)?.ok_or_else(|| Error::Other(format!("session '{id}' was not saved")))?;
    Ok((pk, !existed))
}

/// An MCP client changes only its own agent's sessions: a client cannot mark
/// another agent's session completed or pinned (which would end it and hide
/// its alerts).
fn check_owner(s: &Store, id: &str, who: &(String, String, String)) -> Result<()> {
    match crate::store::agent_of(s, id)? {
        Some(agent) if agent != who.0 => Err(Error::Usage(format!(
            "session '{id}' belongs to {}, not to this client ({}); an MCP client may change only its own agent's sessions",
            crate::model::agent_display_name(&agent),
            who.1
        ))),
        _ => Ok(()),
    }
}

fn create_session(
    s: &Store,
    c: &ApiContext,
    a: &tools::CreateSession,
    who: &(String, String, String),
) -> Result<Value> {
    let now = crate::util::now_ms();
    let id = a.session_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    check_owner(s, &id, who)?;
    let reg = Registration {
        agent: who.0.clone(),
        id: Some(id.clone()),
        source: SOURCE.into(),
        name: Some(a.name.clone()),
        agent_label: Some(who.1.clone()),
        ide_type: Some(who.2.clone()),
        program_id: a.program_id.clone().or_else(|| a.session_id.as_deref().and_then(tools::program_of)),
        project_path: a.project_name.clone(),
        heartbeats: true,
        ..Default::default()
    };
    let (pk, created) = register(s, &reg, now)?;
    let report = Report {
        state: Some(a.state.map_or(Reported::Working, |st| st.reported())),
        progress: a.progress.map(percent),
        status_text: a.status.clone(),
        heartbeat: true,
        ..Default::default()
    };
    s.report(pk, &report, now)?;
    judge_now(s, &c.config(), pk, if created { "created over MCP" } else { "updated over MCP" })?;
    c.hub().notify();
    let verb = if created { "Session created" } else { "Session updated" };
    Ok(json!({"success": true, "sessionId": id, "message": format!("{verb}: \"{}\"", a.name)}))
}

fn update_session(
    s: &Store,
    c: &ApiContext,
    a: &tools::UpdateSession,
    who: &(String, String, String),
) -> Result<Value> {
    let now = crate::util::now_ms();
    let Some(pk) = pk_of(s, &a.session_id)? else {
        return Err(Error::NotFound(format!(
            "no session with id '{}' (create it with create_session first)",
            a.session_id
        )));
    };
    check_owner(s, &a.session_id, who)?;
    if a.project_name.is_some() {
        let reg = Registration {
            agent: who.0.clone(),
            id: Some(a.session_id.clone()),
            source: SOURCE.into(),
            project_path: a.project_name.clone(),
            ..Default::default()
        };
        s.register(&reg, now)?;
    }
    let report = Report {
        state: a.state.map(|st| st.reported()),
        progress: a.progress.map(percent),
        status_text: a.status.clone(),
        heartbeat: a.last_heartbeat.unwrap_or(false),
        context_bytes: a.context_bytes,
        handoff_required: a.handoff_required,
        ..Default::default()
    };
    s.report(pk, &report, now)?;
    judge_now(s, &c.config(), pk, "updated over MCP")?;
    c.hub().notify();
    let message = match &a.status {
        Some(st) => format!("Status updated: \"{st}\""),
        None => "Session updated".to_string(),
    };
    Ok(json!({"success": true, "sessionId": a.session_id, "message": message}))
}

impl Handler {
    fn instructions() -> &'static str {
        "agentwatch monitors the coding agents on this machine. Call create_session when you start a \
         piece of work and update_session as it progresses (lastHeartbeat: true every few minutes while \
         you work; state blocked when you wait for the user; state complete when done). list_sessions, \
         get_fleet_health, get_cost_summary and get_limits show what every agent here is doing and spending, \
         and how much of the plan's windows is left."
    }
}

impl ServerHandler for Handler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("agentwatch", env!("CARGO_PKG_VERSION"))
                    .with_title("agentwatch")
                    .with_description("A local monitor of AI coding agents: sessions, heartbeats, costs."),
            )
            .with_instructions(Handler::instructions())
    }

    /// Revisions with the `initialize` handshake here: the stateless
    /// 2026-07-28 form is answered before rmcp (`modern.rs`).
    fn supported_protocol_versions(&self) -> std::borrow::Cow<'static, [ProtocolVersion]> {
        std::borrow::Cow::Borrowed(ProtocolVersion::known_up_to(&ProtocolVersion::LATEST_WITH_INITIALIZE))
    }

    /// Registers the client as soon as the handshake succeeds.
    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> std::result::Result<InitializeResult, ErrorData> {
        context.peer.set_peer_info(request.clone());
        let result = self.negotiate_initialize(&request)?;
        let session = context.extensions.get::<McpSession>().map(|s| s.0.clone());
        self.client(session, Some(Arc::new(request))).await;
        Ok(result)
    }

    /// In case the session was not known at `initialize`.
    async fn on_initialized(&self, context: NotificationContext<RoleServer>) {
        self.client(session_of(&context.extensions), context.peer.peer_info()).await;
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> std::result::Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.shared.tools.clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.shared.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> std::result::Result<CallToolResponse, ErrorData> {
        let client = self.client(session_of(&context.extensions), context.peer.peer_info()).await;
        let beat = self.beat_due().await;
        let (name, args) = (request.name.to_string(), Args::new(request.arguments));
        let shared = self.shared.clone();
        let result = self
            .ctx()
            .blocking(move |ctx| Ok(execute(&shared, ctx, &name, args, client.as_ref(), beat, None)))
            .await
            .unwrap_or_else(|e| Err(e.to_string()));
        Ok(match result {
            Ok(v) => CallToolResult::structured(v),
            Err(msg) => CallToolResult::error(vec![ContentBlock::text(msg)]),
        }
        .into())
    }
}

/// rmcp's in-memory session manager, plus: a session that ends closes its
/// client's session in agentwatch.
struct Sessions {
    inner: LocalSessionManager,
    shared: Arc<Shared>,
}

impl Sessions {
    async fn closed(&self, id: &SessionId) {
        let id = id.to_string();
        let shared = self.shared.clone();
        let key = id.clone();
        let r = self
            .shared
            .ctx
            .blocking(move |c| {
                shared.write(c, |s| {
                    let Some(row) = s.session_by_mcp(&key)? else { return Ok(false) };
                    if row.state.is_ended() {
                        return Ok(false);
                    }
                    let now = crate::util::now_ms();
                    s.report(row.pk, &Report { state: Some(Reported::Complete), ..Default::default() }, now)?;
                    judge_now(s, &c.config(), row.pk, "MCP session ended")?;
                    Ok(true)
                })
            })
            .await;
        match r {
            Ok(true) => {
                self.shared.ctx.hub().notify();
                tracing::info!(session = %id, "MCP session ended");
            }
            Ok(false) => {}
            Err(e) => tracing::warn!("cannot close the session of an MCP client: {e}"),
        }
    }
}

/// Calls the inner manager through the trait, so its streams carry the
/// trait's bounds.
fn local<M: SessionManager>(m: &M) -> &M {
    m
}

impl SessionManager for Sessions {
    type Error = LocalSessionManagerError;
    type Transport = WorkerTransport<LocalSessionWorker>;

    async fn create_session(&self) -> std::result::Result<(SessionId, Self::Transport), Self::Error> {
        local(&self.inner).create_session().await
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        mut message: ClientJsonRpcMessage,
    ) -> std::result::Result<ServerJsonRpcMessage, Self::Error> {
        // The `initialize` request does not carry its session id (the server
        // makes it): hand it to the handler.
        if let ClientJsonRpcMessage::Request(req) = &mut message {
            req.request.extensions_mut().insert(McpSession(id.to_string()));
        }
        local(&self.inner).initialize_session(id, message).await
    }

    async fn has_session(&self, id: &SessionId) -> std::result::Result<bool, Self::Error> {
        local(&self.inner).has_session(id).await
    }

    async fn close_session(&self, id: &SessionId) -> std::result::Result<(), Self::Error> {
        // Called for a DELETE and again when the session's handler stops:
        // act once, while the session is still known.
        let known = local(&self.inner).has_session(id).await?;
        let r = local(&self.inner).close_session(id).await;
        if known {
            self.closed(id).await;
        }
        r
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> std::result::Result<impl futures_util::Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error>
    {
        local(&self.inner).create_stream(id, message).await
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> std::result::Result<(), Self::Error> {
        local(&self.inner).accept_message(id, message).await
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> std::result::Result<impl futures_util::Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error>
    {
        local(&self.inner).create_standalone_stream(id).await
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> std::result::Result<impl futures_util::Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error>
    {
        local(&self.inner).resume(id, last_event_id).await
    }
}

/// MCP sessions live in memory: the sessions of clients connected to an
/// earlier run of the server cannot come back, so they are closed at start
/// (in case that run could not close them itself, see [`close_clients`]).
fn close_leftovers(shared: Arc<Shared>) {
    let started = crate::util::now_ms();
    let spawned = std::thread::Builder::new().name("mcp-cleanup".into()).spawn(move || {
        let ctx = shared.ctx.clone();
        let r = shared.write(&ctx, |s| close_clients(s, &ctx.config(), started, "MCP server restarted"));
        match r {
            Ok(0) => {}
            Ok(n) => {
                ctx.hub().notify();
                tracing::info!("closed {n} MCP client sessions left from an earlier run");
            }
            Err(e) => tracing::warn!("cannot close earlier MCP client sessions: {e}"),
        }
    });
    if let Err(e) = spawned {
        tracing::warn!("cannot start the MCP cleanup: {e}");
    }
}

/// Reports complete the live sessions of MCP clients that connected before
/// `before` (ms): their MCP sessions are gone with the server that held them.
/// Returns how many were closed.
pub fn close_clients(s: &Store, config: &crate::config::Config, before: i64, reason: &str) -> Result<usize> {
    let filter = SessionFilter {
        source: Some(SOURCE.into()),
        states: crate::model::SessionState::ALL.into_iter().filter(|s| s.is_live()).collect(),
        ..Default::default()
    };
    let now = crate::util::now_ms();
    let mut n = 0;
    for row in list_sessions(s, &filter)?.into_iter().filter(|r| r.live.mcp_session.is_some() && r.started_at < before)
    {
        s.report(row.pk, &Report { state: Some(Reported::Complete), ..Default::default() }, now)?;
        judge_now(s, config, row.pk, reason)?;
        n += 1;
    }
    Ok(n)
}
