//! The local HTTP API: REST, a live event stream (SSE) and the MCP server.
//!
//! Security, in order of the checks every request goes through:
//! - it listens on 127.0.0.1 only;
//! - exactly one `Host` header, naming a loopback address (stops DNS
//!   rebinding);
//! - an `Origin` header, if present, must be exactly ours: `http://`, a
//!   loopback name and the API's port (stops web pages, which always send
//!   one);
//! - `Authorization: Bearer <token>` is required (the scheme in any case),
//!   except for `GET /health`. The token is in `<data dir>/api.json` (mode
//!   0600), created once and kept so agent configs stay valid; `agentwatch
//!   api rotate-token` replaces it. It is never written to a data dir that
//!   other users can write to.
//!
//! Bodies are limited to 1 MiB (OTLP exports, `POST /v1/…`: 16 MiB). Errors are JSON `{"error": "…"}`; every
//! response carries `Cache-Control: no-store`. A connection must send its
//! request headers within [`HEADER_TIMEOUT`] (also between requests on a
//! kept-alive connection), and at most [`MAX_CONNECTIONS`] are served at
//! once; further ones wait in the listen queue until one closes.

mod events;
pub mod mcp;
pub mod metrics;
mod otlp;
mod rest;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

pub use events::{EventHub, LiveEvent};
/// The filter of `GET /api/sessions`, for apps that serve the same queries
/// without HTTP (the desktop app).
pub use rest::{cost_params, session_filter};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::paths::Dirs;
use crate::pricing::PriceBook;
use crate::store::Store;

/// Requests larger than this are refused with 413.
pub const MAX_BODY: usize = 1 << 20;
/// How long a client has to send a request's headers, from the moment the
/// connection is accepted or its previous response was sent. A connection
/// that takes longer is closed, so stalled clients cannot pile up.
pub const HEADER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
/// Overrides [`HEADER_TIMEOUT`], in seconds (fractions allowed): for tests.
pub const HEADER_TIMEOUT_ENV: &str = "AGENTWATCH_API_HEADER_TIMEOUT";
/// Connections served at once. The clients are a few agents' hooks and MCP
/// clients, an app's event stream or two and the CLI: far fewer. Further
/// connections wait, unaccepted, until one closes.
pub const MAX_CONNECTIONS: usize = 256;
const API_FILE: &str = "api.json";

/// What `api.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiInfo {
    pub port: u16,
    pub token: String,
    /// A token that can only post hook events (`POST /api/hooks/…`) and
    /// telemetry (`POST /v1/…`): the one agents' settings files carry
    /// (Claude Code's `http` hooks, `telemetry install`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook_token: Option<String>,
}

impl ApiInfo {
    /// Reads `api.json`, if it exists.
    pub fn read(dirs: &Dirs) -> Result<Option<ApiInfo>> {
        let p = dirs.data.join(API_FILE);
        match std::fs::read_to_string(&p) {
            Ok(t) => serde_json::from_str(&t).map(Some).map_err(|e| {
                Error::Other(format!("{}: damaged ({e}); remove it or run `agentwatch api rotate-token`", p.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&p, e)),
        }
    }

    /// The token to use with `port`: the existing one, or a new one.
    pub fn ensure(dirs: &Dirs, port: u16) -> Result<ApiInfo> {
        let info = match ApiInfo::read(dirs)? {
            Some(i) => ApiInfo { port, token: i.token, hook_token: Some(i.hook_token.unwrap_or_else(new_token)) },
            None => ApiInfo { port, token: new_token(), hook_token: Some(new_token()) },
        };
        info.write(dirs)?;
        Ok(info)
    }

    /// Replaces the tokens.
    pub fn rotate(dirs: &Dirs, port: u16) -> Result<ApiInfo> {
        let info = ApiInfo { port, token: new_token(), hook_token: Some(new_token()) };
        info.write(dirs)?;
        Ok(info)
    }

    fn write(&self, dirs: &Dirs) -> Result<()> {
        dirs.ensure_data_dir()?;
        // Another user who can write there could swap api.json for a file
        // with a token of theirs, or plant the temporary file we write.
        if crate::paths::writable_by_others(&dirs.data) {
            let d = dirs.data.display();
            return Err(Error::Other(format!(
                "data dir {d} is writable by other users: refusing to keep the API token there; run `chmod 700 {d}`"
            )));
        }
        let p = dirs.data.join(API_FILE);
        write_private(&p, &serde_json::to_vec_pretty(self).expect("serializes"))
    }
}

/// 244 random bits (two v4 UUIDs from the OS generator), as 64 hex digits.
fn new_token() -> String {
    format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
}

/// Writes a file readable by the user only, atomically.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    {
        let mut o = std::fs::OpenOptions::new();
        o.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            o.mode(0o600);
        }
        let mut f = o.open(&tmp).map_err(|e| Error::io(&tmp, e))?;
        // The mode above applies only to a new file: narrow a leftover one.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(|e| Error::io(&tmp, e))?;
        }
        // Windows: only the owner is on the file's ACL.
        #[cfg(windows)]
        crate::paths::restrict_to_owner(&tmp).map_err(|e| Error::io(&tmp, e))?;
        std::io::Write::write_all(&mut f, bytes).map_err(|e| Error::io(&tmp, e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Everything request handlers share.
#[derive(Clone)]
pub struct ApiContext {
    inner: Arc<Inner>,
}

struct Inner {
    dirs: Dirs,
    info: ApiInfo,
    /// The tokens in force (the API's, the hooks'): re-read when api.json
    /// changes (rotate-token).
    token: Mutex<(Option<std::time::SystemTime>, String, Option<String>)>,
    pool: Mutex<Vec<Store>>,
    prices: RwLock<Arc<PriceBook>>,
    config: RwLock<Config>,
    hub: EventHub,
    started: std::time::Instant,
}

impl ApiContext {
    pub fn new(dirs: &Dirs, info: ApiInfo, hub: EventHub) -> Result<ApiContext> {
        let config = Config::load_logged(dirs)?;
        let prices = PriceBook::load(dirs)?;
        Ok(ApiContext {
            inner: Arc::new(Inner {
                dirs: dirs.clone(),
                token: Mutex::new((None, info.token.clone(), info.hook_token.clone())),
                info,
                pool: Mutex::new(Vec::new()),
                prices: RwLock::new(Arc::new(prices)),
                config: RwLock::new(config),
                hub,
                started: std::time::Instant::now(),
            }),
        })
    }

    pub fn dirs(&self) -> &Dirs {
        &self.inner.dirs
    }

    pub fn hub(&self) -> &EventHub {
        &self.inner.hub
    }

    pub fn port(&self) -> u16 {
        self.inner.info.port
    }

    /// The current tokens, from api.json (cached until the file changes):
    /// the API's, and the hooks' own.
    fn tokens(&self) -> (String, Option<String>) {
        let path = self.inner.dirs.data.join(API_FILE);
        let mtime = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let mut t = self.inner.token.lock().expect("token lock");
        if mtime.is_some()
            && mtime != t.0
            && let Ok(Some(info)) = ApiInfo::read(&self.inner.dirs)
        {
            *t = (mtime, info.token, info.hook_token);
        }
        (t.1.clone(), t.2.clone())
    }

    pub fn config(&self) -> Config {
        self.inner.config.read().expect("config lock").clone()
    }

    pub fn prices(&self) -> Arc<PriceBook> {
        self.inner.prices.read().expect("prices lock").clone()
    }

    /// Re-reads settings and prices (after the user changed them).
    pub fn reload(&self) -> Result<()> {
        let c = Config::load(&self.inner.dirs)?;
        let p = PriceBook::load(&self.inner.dirs)?;
        *self.inner.config.write().expect("config lock") = c;
        *self.inner.prices.write().expect("prices lock") = Arc::new(p);
        Ok(())
    }

    /// Runs `f` with a database connection from the pool, on the calling
    /// thread (use from blocking code).
    pub fn with_store<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        let store = match self.inner.pool.lock().expect("pool lock").pop() {
            Some(s) => s,
            None => Store::open_in(&self.inner.dirs)?,
        };
        let r = f(&store);
        let mut pool = self.inner.pool.lock().expect("pool lock");
        if pool.len() < 4 {
            pool.push(store);
        }
        r
    }

    /// Runs blocking database work off the async runtime.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&ApiContext) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let ctx = self.clone();
        tokio::task::spawn_blocking(move || f(&ctx)).await.map_err(|e| Error::Other(format!("request failed: {e}")))?
    }
}

/// An error as the API reports it.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.1 }).to_string();
        let mut r = Response::new(Body::from(body));
        *r.status_mut() = self.0;
        r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if self.0 == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        let status = match &e {
            Error::Usage(_) => StatusCode::BAD_REQUEST,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError(status, e.to_string())
    }
}

/// The whole API as a router.
pub fn router(ctx: ApiContext) -> Router {
    Router::new()
        .merge(rest::routes())
        .merge(otlp::routes().layer(axum::extract::DefaultBodyLimit::max(otlp::MAX_OTLP_BODY)))
        .nest_service("/mcp", mcp::service(ctx.clone()))
        .fallback(|| async { ApiError(StatusCode::NOT_FOUND, "no such endpoint".into()) })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(ctx.clone(), guard))
        .with_state(ctx)
}

/// Host, Origin and token checks; JSON errors and no-store on the way out.
async fn guard(State(ctx): State<ApiContext>, req: Request, next: Next) -> Response {
    let port = ctx.port();
    let mut resp = match check(&ctx, req.headers(), req.method(), req.uri().path(), port) {
        Err(e) => e.into_response(),
        Ok(()) => {
            let too_big = req
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<usize>().ok())
                .is_some_and(|n| n > body_limit(req.uri().path()));
            if too_big {
                let max = body_limit(req.uri().path());
                ApiError(StatusCode::PAYLOAD_TOO_LARGE, format!("request body over {max} bytes")).into_response()
            } else {
                json_errors(next.run(req).await).await
            }
        }
    };
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The largest body a path takes: OTLP exports can be large.
fn body_limit(path: &str) -> usize {
    if path.starts_with("/v1/") { otlp::MAX_OTLP_BODY } else { MAX_BODY }
}

fn check(ctx: &ApiContext, h: &HeaderMap, method: &Method, path: &str, port: u16) -> std::result::Result<(), ApiError> {
    // Parts of a chain may disagree on which of two Host headers counts.
    if h.get_all(header::HOST).iter().nth(1).is_some() {
        return Err(ApiError(StatusCode::BAD_REQUEST, "more than one host header".into()));
    }
    let host = h.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !loopback_host(host, port) {
        return Err(ApiError(StatusCode::FORBIDDEN, format!("host '{host}' is not allowed; use 127.0.0.1:{port}")));
    }
    if let Some(origin) = h.get(header::ORIGIN) {
        let o = origin.to_str().unwrap_or("");
        if !loopback_origin(o, port) {
            return Err(ApiError(StatusCode::FORBIDDEN, format!("origin '{o}' is not allowed")));
        }
    }
    if method == Method::GET && path == "/health" {
        return Ok(());
    }
    let token = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer);
    let (api, hooks) = ctx.tokens();
    // The hook token posts hook events and telemetry, and does nothing else.
    let hook_call = method == Method::POST && (path.starts_with("/api/hooks/") || path.starts_with("/v1/"));
    match token {
        None => Err(ApiError(StatusCode::UNAUTHORIZED, "missing bearer token (see api.json in the data dir)".into())),
        Some(t) if constant_time_eq(t.trim().as_bytes(), api.as_bytes()) => Ok(()),
        Some(t) if hook_call && hooks.is_some_and(|h| constant_time_eq(t.trim().as_bytes(), h.as_bytes())) => Ok(()),
        Some(_) => Err(ApiError(StatusCode::UNAUTHORIZED, "wrong bearer token".into())),
    }
}

/// `127.0.0.1`, `localhost` or `[::1]`, with our port or none.
fn loopback_host(host: &str, port: u16) -> bool {
    let (name, rest) = match host.find(']') {
        Some(i) if host.starts_with('[') => (&host[..=i], &host[i + 1..]),
        _ => match host.split_once(':') {
            Some((n, p)) => (n, &host[n.len()..][..p.len() + 1]),
            None => (host, ""),
        },
    };
    let port_ok = match rest {
        "" => true,
        r => r.strip_prefix(':').is_some_and(|p| p.parse() == Ok(port)),
    };
    matches!(name, "127.0.0.1" | "localhost" | "[::1]") && port_ok
}

/// Exactly `http://` + `127.0.0.1`, `localhost` or `[::1]` + `:` our port,
/// as browsers write an origin: no default port, no path, no other case.
fn loopback_origin(origin: &str, port: u16) -> bool {
    let Some(rest) = origin.strip_prefix("http://") else { return false };
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|name| rest.strip_prefix(name).and_then(|p| p.strip_prefix(':')).is_some_and(|p| p == port.to_string()))
}

/// The credentials of `Authorization: Bearer <token>`; the scheme is
/// case-insensitive (RFC 7235, 2.1).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Turns the framework's plain-text errors (bad JSON, body too large, …) into
/// JSON errors, and reports unprocessable JSON as 400.
async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json") || c.starts_with("text/event-stream"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let status = if status == StatusCode::UNPROCESSABLE_ENTITY || status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        StatusCode::BAD_REQUEST
    } else {
        status
    };
    let text = match axum::body::to_bytes(resp.into_body(), 64 * 1024).await {
        Ok(b) if !b.is_empty() => String::from_utf8_lossy(&b).trim().to_string(),
        _ => status.canonical_reason().unwrap_or("error").to_string(),
    };
    ApiError(status, text).into_response()
}

/// A bound, ready-to-serve API.
pub struct Server {
    listener: tokio::net::TcpListener,
    ctx: ApiContext,
    header_timeout: std::time::Duration,
}

/// [`HEADER_TIMEOUT`], or the one [`HEADER_TIMEOUT_ENV`] sets.
fn header_timeout() -> Result<std::time::Duration> {
    let Some(v) = std::env::var_os(HEADER_TIMEOUT_ENV).filter(|v| !v.is_empty()) else {
        return Ok(HEADER_TIMEOUT);
    };
    let v = v.to_string_lossy();
    v.trim()
        .parse::<f64>()
        .ok()
        .and_then(|s| std::time::Duration::try_from_secs_f64(s).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| Error::Usage(format!("{HEADER_TIMEOUT_ENV} must be a number of seconds above 0, not '{v}'")))
}

impl Server {
    /// Binds 127.0.0.1:`port` and writes `api.json`. A taken port is a clear error.
    pub async fn bind(dirs: &Dirs, port: u16, hub: EventHub) -> Result<Server> {
        let header_timeout = header_timeout()?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => Error::Other(format!(
                "port {port} on 127.0.0.1 is already in use (another agentwatch?); set [api] port in config.toml"
            )),
            _ => Error::Other(format!("cannot listen on {addr}: {e}")),
        })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(port);
        let info = ApiInfo::ensure(dirs, port)?;
        let ctx = ApiContext::new(dirs, info, hub)?;
        Ok(Server { listener, ctx, header_timeout })
    }

    pub fn port(&self) -> u16 {
        self.ctx.port()
    }

    pub fn context(&self) -> ApiContext {
        self.ctx.clone()
    }

    /// Closes the sessions of the MCP clients connected to this server, for
    /// when it stops: their MCP sessions end with it. Runs after [`Server::serve`]
    /// has been told to stop (the process may exit before it returns).
    pub fn close_mcp_clients(dirs: &Dirs) -> Result<usize> {
        let store = crate::store::Store::open_in(dirs)?;
        let config = Config::load_logged(dirs)?;
        mcp::close_clients(&store, &config, i64::MAX, "agentwatch stopped")
    }

    /// Serves until `shutdown` completes, then lets the open connections
    /// finish. HTTP/1.1 by hyper, as `axum::serve` does, plus a header-read
    /// timeout (which needs hyper's timer, and axum does not set one) and at
    /// most [`MAX_CONNECTIONS`] connections at once.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> Result<()> {
        use hyper_util::rt::{TokioIo, TokioTimer};
        let Server { listener, ctx, header_timeout } = self;
        let app = hyper_util::service::TowerToHyperService::new(router(ctx));
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new()).header_read_timeout(header_timeout);
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            // A free slot first: over the limit, connections wait in the
            // listen queue, unaccepted.
            let slot = tokio::select! {
                s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
                () = &mut shutdown => break,
            };
            let stream = tokio::select! {
                r = listener.accept() => match r {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        accept_failed(e).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), app.clone()));
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!("API connection: {e}");
                }
                drop(slot);
            });
        }
        drop(listener);
        graceful.shutdown().await;
        Ok(())
    }
}

/// After a failed accept: a connection that went away before it was
/// accepted is nothing; anything else (out of file descriptors) is logged and
/// waited out, as `axum::serve` does, rather than spun on.
async fn accept_failed(e: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!("API: cannot accept a connection: {e}");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_origins_must_be_loopback() {
        assert!(loopback_host("127.0.0.1:47821", 47821));
        assert!(loopback_host("localhost:47821", 47821));
        assert!(loopback_host("[::1]:47821", 47821));
        assert!(loopback_host("localhost", 47821));
        assert!(loopback_host("[::1]", 47821));
        assert!(!loopback_host("[::1]:1", 47821));
        assert!(!loopback_host("localhost:8080", 47821));
        assert!(!loopback_host("evil.example:47821", 47821));
        assert!(!loopback_host("127.0.0.1.evil.example", 47821));
        assert!(!loopback_host("", 47821));
        assert!(loopback_origin("http://127.0.0.1:47821", 47821));
        assert!(loopback_origin("http://localhost:47821", 47821));
        assert!(loopback_origin("http://[::1]:47821", 47821));
        for o in [
            "http://127.0.0.1",
            "http://localhost",
            "http://[::1]",
            "http://127.0.0.1:80",
            "http://127.0.0.1:478210",
            "http://127.0.0.1:47821/",
            "http://127.0.0.1:47821.evil.example",
            "http://127.0.0.1.evil.example:47821",
            "https://127.0.0.1:47821",
            "HTTP://127.0.0.1:47821",
            "http://user@127.0.0.1:47821",
            "https://evil.example",
            "null",
            "",
        ] {
            assert!(!loopback_origin(o, 47821), "{o}");
        }
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer abc"), Some("abc"));
        assert_eq!(bearer("BEARER abc"), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearerabc"), None);
        assert_eq!(bearer("Bearer"), None);
        assert!(
            constant_time_eq(b"abc", b"abc") && !constant_time_eq(b"abc", b"abd") && !constant_time_eq(b"ab", b"abc")
        );
    }

    #[test]
    fn the_token_is_kept_private_and_stable_until_rotated() {
        let t = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(t.path());
        let a = ApiInfo::ensure(&dirs, 1234).unwrap();
        assert_eq!(a.token.len(), 64);
        let b = ApiInfo::ensure(&dirs, 1235).unwrap();
        assert_eq!((b.token.as_str(), b.port), (a.token.as_str(), 1235));
        let c = ApiInfo::rotate(&dirs, 1235).unwrap();
        assert_ne!(c.token, a.token);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let m = std::fs::metadata(dirs.data.join("api.json")).unwrap().permissions().mode();
            assert_eq!(m & 0o777, 0o600);
        }
    }
}
