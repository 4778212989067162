//! The MCP server at `/mcp` (Streamable HTTP, rmcp).

use axum::Router;
use axum::http::StatusCode;

use super::{ApiContext, ApiError};

/// The MCP endpoint.
pub fn service(_ctx: ApiContext) -> Router {
    Router::new()
        .fallback(|| async { ApiError(StatusCode::SERVICE_UNAVAILABLE, "the MCP server is being built".into()) })
}
