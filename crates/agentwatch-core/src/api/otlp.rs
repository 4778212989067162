//! The OTLP/HTTP receiver: `POST /v1/logs`, `/v1/metrics` and `/v1/traces`,
//! in `http/protobuf` (`application/x-protobuf`) and `http/json`
//! (`application/json`), plain or gzip-compressed, decoded with the
//! generated types of `opentelemetry-proto`.
//!
//! Logs are what agentwatch reads ([`crate::otel`]). Metrics and traces
//! are decoded (a malformed body is a 400) and acknowledged, so an agent
//! that exports all three signals to one endpoint sees no errors, but
//! they are not kept: every figure they carry is in the logs too.
//!
//! Authentication is the API's: the bearer token, or the hook token (the
//! one agents' settings files hold).

use std::io::Read;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use opentelemetry_proto::tonic::collector::logs::v1::{ExportLogsServiceRequest, ExportLogsServiceResponse};
use opentelemetry_proto::tonic::collector::metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};

use super::{ApiContext, ApiError};

/// Export requests larger than this (after decompression) are refused with
/// 413: a batch of events with long prompts and tool output can be large.
pub const MAX_OTLP_BODY: usize = 16 << 20;

pub(super) fn routes() -> Router<ApiContext> {
    Router::new().route("/v1/logs", post(logs)).route("/v1/metrics", post(metrics)).route("/v1/traces", post(traces))
}

/// How the body is encoded; the response uses the same.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Wire {
    Protobuf,
    Json,
}

async fn logs(State(ctx): State<ApiContext>, h: HeaderMap, body: Bytes) -> Response {
    let (req, wire) = match decode::<ExportLogsServiceRequest>(&h, &body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let done = ctx
        .blocking(move |c| {
            c.with_store(|s| {
                let env = crate::sources::SourceEnv::from_process();
                crate::otel::record_logs(s, &c.config(), &env, &req, crate::util::now_ms())
            })
        })
        .await;
    match done {
        Ok(r) => {
            if r.events > 0 {
                ctx.hub().notify();
            }
            tracing::debug!(records = r.records, events = r.events, calls = r.calls, "OTLP logs");
            reply(wire, &ExportLogsServiceResponse::default())
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

async fn metrics(h: HeaderMap, body: Bytes) -> Response {
    match decode::<ExportMetricsServiceRequest>(&h, &body) {
        Ok((_, wire)) => reply(wire, &ExportMetricsServiceResponse::default()),
        Err(e) => e.into_response(),
    }
}

async fn traces(h: HeaderMap, body: Bytes) -> Response {
    match decode::<ExportTraceServiceRequest>(&h, &body) {
        Ok((_, wire)) => reply(wire, &ExportTraceServiceResponse::default()),
        Err(e) => e.into_response(),
    }
}

/// Decodes an export request by its `Content-Type` and `Content-Encoding`.
fn decode<T>(h: &HeaderMap, body: &[u8]) -> Result<(T, Wire), ApiError>
where
    T: prost::Message + Default + serde::de::DeserializeOwned,
{
    let ct = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let wire = match ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase().as_str() {
        "application/x-protobuf" | "application/protobuf" => Wire::Protobuf,
        "application/json" => Wire::Json,
        other => {
            return Err(ApiError(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content type '{other}' is not OTLP; send application/x-protobuf or application/json"),
            ));
        }
    };
    let inflated;
    let bytes = match h.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).map(str::trim) {
        None | Some("" | "identity") => body,
        Some(e) if e.eq_ignore_ascii_case("gzip") => {
            inflated = gunzip(body)?;
            &inflated[..]
        }
        Some(e) => {
            return Err(ApiError(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content encoding '{e}' is not supported"),
            ));
        }
    };
    let bad = |e: String| ApiError(StatusCode::BAD_REQUEST, format!("malformed OTLP {wire:?} body: {e}"));
    let msg = match wire {
        Wire::Protobuf => T::decode(bytes).map_err(|e| bad(e.to_string()))?,
        Wire::Json => serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?,
    };
    Ok((msg, wire))
}

/// Inflates a gzip body, refusing one that inflates past [`MAX_OTLP_BODY`].
fn gunzip(body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    let mut d = flate2::read::GzDecoder::new(body).take(MAX_OTLP_BODY as u64 + 1);
    d.read_to_end(&mut out).map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("malformed gzip body: {e}")))?;
    if out.len() > MAX_OTLP_BODY {
        return Err(ApiError(StatusCode::PAYLOAD_TOO_LARGE, format!("request body over {MAX_OTLP_BODY} bytes")));
    }
    Ok(out)
}

/// Full success, in the request's encoding. (The JSON is written by hand:
/// serde would write `"partialSuccess": null`, which OTLP/JSON does not.)
fn reply<T: prost::Message>(wire: Wire, msg: &T) -> Response {
    match wire {
        Wire::Protobuf => ([(header::CONTENT_TYPE, "application/x-protobuf")], msg.encode_to_vec()).into_response(),
        Wire::Json => ([(header::CONTENT_TYPE, "application/json")], "{}").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use opentelemetry_proto::tonic::logs::v1::LogRecord;
    use prost::Message;

    fn headers(ct: &str, enc: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_str(ct).unwrap());
        if let Some(e) = enc {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_str(e).unwrap());
        }
        h
    }

    fn one_record() -> ExportLogsServiceRequest {
        let mut req = ExportLogsServiceRequest::default();
        let mut rl = opentelemetry_proto::tonic::logs::v1::ResourceLogs::default();
        let mut sl = opentelemetry_proto::tonic::logs::v1::ScopeLogs::default();
        sl.log_records.push(LogRecord { event_name: "claude_code.api_request".into(), ..Default::default() });
        rl.scope_logs.push(sl);
        req.resource_logs.push(rl);
        req
    }

    #[test]
    fn protobuf_json_and_gzip_bodies_decode() {
        let req = one_record();
        let pb = req.encode_to_vec();
        let (got, wire) = decode::<ExportLogsServiceRequest>(&headers("application/x-protobuf", None), &pb).unwrap();
        assert_eq!((got, wire), (req.clone(), Wire::Protobuf));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &pb).unwrap();
        let gz = gz.finish().unwrap();
        let (got, _) =
            decode::<ExportLogsServiceRequest>(&headers("application/x-protobuf", Some("gzip")), &gz).unwrap();
        assert_eq!(got, req);
        // OTLP/JSON as the JavaScript exporters write it: ints as numbers,
        // times as strings.
        let json = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"gemini-cli"}}]},
            "scopeLogs":[{"logRecords":[{"timeUnixNano":"1765000000000000000","attributes":[
              {"key":"input_token_count","value":{"intValue":12}},{"key":"n","value":{"intValue":"7"}}]}]}]}]}"#;
        let (got, wire) =
            decode::<ExportLogsServiceRequest>(&headers("application/json; charset=utf-8", None), json.as_bytes())
                .unwrap();
        assert_eq!(wire, Wire::Json);
        let rec = &got.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(rec.time_unix_nano, 1_765_000_000_000_000_000);
        let mut m = serde_json::Map::new();
        crate::otel::flatten(&rec.attributes, &mut m);
        assert_eq!(m["input_token_count"], 12);
        assert_eq!(m["n"], 7);
    }

    #[test]
    fn bad_bodies_are_refused_with_a_reason() {
        let e = decode::<ExportLogsServiceRequest>(&headers("text/plain", None), b"x").unwrap_err();
        assert_eq!(e.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let e =
            decode::<ExportLogsServiceRequest>(&headers("application/x-protobuf", None), b"\xff\xff\xff").unwrap_err();
        assert_eq!(e.0, StatusCode::BAD_REQUEST);
        assert!(e.1.contains("malformed OTLP Protobuf body"), "{}", e.1);
        let e =
            decode::<ExportLogsServiceRequest>(&headers("application/json", Some("gzip")), b"not gzip").unwrap_err();
        assert_eq!(e.0, StatusCode::BAD_REQUEST);
        let e = decode::<ExportLogsServiceRequest>(&headers("application/json", Some("br")), b"{}").unwrap_err();
        assert_eq!(e.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        // A bomb: 17 MiB of zeros in a few KiB.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut gz, &vec![0u8; MAX_OTLP_BODY + 1024]).unwrap();
        let gz = gz.finish().unwrap();
        let e = decode::<ExportLogsServiceRequest>(&headers("application/json", Some("gzip")), &gz).unwrap_err();
        assert_eq!(e.0, StatusCode::PAYLOAD_TOO_LARGE);
    }
}
