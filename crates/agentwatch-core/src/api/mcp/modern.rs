//! MCP revision 2026-07-28 at `/mcp`: the stateless form the current SDKs
//! speak (PyPI `mcp` 2.x). There is no `initialize` and no session: a
//! client asks `server/discover`, then sends each request on its own, with
//! who it is in `params._meta` (`io.modelcontextprotocol/clientInfo`,
//! `…/protocolVersion`). Such a POST (no `Mcp-Session-Id`, a modern method
//! or `_meta`) is answered here, as plain JSON; everything else goes on to
//! rmcp's stateful transport, whose `initialize` handshake older clients
//! use. Both reach the same tools.
//!
//! A stateless client is identified per request by its `_meta`: the
//! ownership rule (a client changes only its own agent's sessions) holds the
//! same. It has no connection, so it is not a session of its own.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::{Implementation, InitializeRequestParams};
use serde_json::{Value, json};

use super::tools::Args;
use super::{Handler, Shared, execute, identity};

/// The stateless revision this server speaks.
pub const MODERN: &str = "2026-07-28";
const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CLIENT: &str = "io.modelcontextprotocol/clientInfo";
const META_SERVER: &str = "io.modelcontextprotocol/serverInfo";
/// JSON-RPC: the requested revision is not one this server speaks.
const UNSUPPORTED_VERSION: i64 = -32022;

/// The layer in front of rmcp's transport.
pub(super) async fn layer(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    if req.method() != axum::http::Method::POST || req.headers().contains_key("mcp-session-id") {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, super::MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            let msg = format!("request body over {} bytes", super::MAX_BODY);
            return super::super::ApiError(StatusCode::PAYLOAD_TOO_LARGE, msg).into_response();
        }
    };
    let msg: Option<Value> = serde_json::from_slice(&bytes).ok();
    match msg.filter(is_modern) {
        Some(m) => answer(&shared, m).await,
        // Not ours: to rmcp, as it came.
        None => next.run(Request::from_parts(parts, Body::from(bytes))).await,
    }
}

/// A request of the stateless revision: `server/discover`, or one that
/// carries the revision in its `_meta`.
fn is_modern(m: &Value) -> bool {
    m.get("method").and_then(Value::as_str) == Some("server/discover")
        || m.pointer(&format!("/params/_meta/{}", META_VERSION.replace('/', "~1"))).is_some()
}

async fn answer(shared: &Arc<Shared>, m: Value) -> Response {
    let id = m.get("id").cloned();
    let method = m.get("method").and_then(Value::as_str).unwrap_or("").to_string();
    let meta = m.pointer("/params/_meta").cloned().unwrap_or(Value::Null);
    let Some(id) = id else {
        // A notification: nothing to say.
        return StatusCode::ACCEPTED.into_response();
    };
    let asked = meta.get(META_VERSION).and_then(Value::as_str);
    if let Some(v) = asked.filter(|v| *v != MODERN) {
        return rpc_error(
            id,
            UNSUPPORTED_VERSION,
            &format!("protocol version {v} is not supported"),
            Some(json!({"supported": [MODERN], "requested": v})),
        );
    }
    let server = server_info();
    let result = match method.as_str() {
        "server/discover" => json!({
            "supportedVersions": [MODERN],
            "capabilities": {"tools": {"listChanged": false}},
            "instructions": Handler::instructions(),
            "_meta": {META_SERVER: server},
        }),
        "tools/list" => json!({"tools": shared.tools}),
        "tools/call" => {
            let Some(name) = m.pointer("/params/name").and_then(Value::as_str).map(str::to_string) else {
                return rpc_error(id, -32602, "tools/call needs params.name", None);
            };
            let args = m.pointer("/params/arguments").and_then(Value::as_object).cloned();
            let client = client_info(&meta);
            let who = identity(client.as_ref());
            let shared = shared.clone();
            let done = shared
                .ctx
                .clone()
                .blocking(move |ctx| Ok(execute(&shared, ctx, &name, Args::new(args), None, false, Some(&who))))
                .await
                .unwrap_or_else(|e| Err(e.to_string()));
            match done {
                Ok(v) => {
                    json!({"content": [{"type": "text", "text": v.to_string()}], "structuredContent": v, "isError": false})
                }
                Err(msg) => json!({"content": [{"type": "text", "text": msg}], "isError": true}),
            }
        }
        other => return rpc_error(id, -32601, &format!("method '{other}' not found"), None),
    };
    // The revision requires `resultType`, and on cacheable results (discover,
    // lists) how long they may be cached: not at all, they change.
    let mut result = result;
    result["resultType"] = json!("complete");
    if method != "tools/call" {
        result["ttlMs"] = json!(0);
        result["cacheScope"] = json!("private");
    }
    let body = json!({"jsonrpc": "2.0", "id": id, "result": result});
    json_response(StatusCode::OK, body)
}

/// The client's `_meta` identity, in the handshake's shape.
fn client_info(meta: &Value) -> Option<InitializeRequestParams> {
    let c = meta.get(META_CLIENT)?;
    let name = c.get("name").and_then(Value::as_str)?;
    let version = c.get("version").and_then(Value::as_str).unwrap_or("");
    let mut info = Implementation::new(name, version);
    if let Some(t) = c.get("title").and_then(Value::as_str) {
        info = info.with_title(t);
    }
    Some(InitializeRequestParams::new(Default::default(), info))
}

fn server_info() -> Value {
    json!({"name": "agentwatch", "title": "agentwatch", "version": env!("CARGO_PKG_VERSION")})
}

fn rpc_error(id: Value, code: i64, message: &str, data: Option<Value>) -> Response {
    let mut error = json!({"code": code, "message": message});
    if let Some(d) = data {
        error["data"] = d;
    }
    json_response(StatusCode::OK, json!({"jsonrpc": "2.0", "id": id, "error": error}))
}

fn json_response(status: StatusCode, body: Value) -> Response {
    let mut r = Response::new(Body::from(body.to_string()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modern_requests_are_told_apart_from_the_handshakes() {
        let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                          "io.modelcontextprotocol/clientInfo": {"name": "codex", "version": "0.171.0", "title": "Codex"}});
        assert!(is_modern(&json!({"jsonrpc": "2.0", "id": 0, "method": "server/discover"})));
        assert!(is_modern(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}})));
        assert!(!is_modern(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}})));
        assert!(!is_modern(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})));
        let who = identity(client_info(&meta).as_ref());
        assert_eq!((who.0.as_str(), who.1.as_str(), who.2.as_str()), ("codex", "Codex", "codex"));
    }
}
