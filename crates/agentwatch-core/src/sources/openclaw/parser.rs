//! OpenClaw's transcripts, line by line: pi's session files.
//!
//! OpenClaw runs pi's agent core and writes its transcripts with pi's
//! `SessionManager`, so a transcript is pi's format (`sources/pi`): a
//! `session` header, then entries, a model call being an assistant
//! `message` with pi-ai's `usage` (`cost.total` as OpenClaw priced it).
//! The same parser reads them ([`PiParser`]), with OpenClaw's key and its
//! session, named by the file (`paths::session_of_name`). OpenClaw adds:
//!
//! - `custom` entries, among them `model-snapshot` (`data.provider`,
//!   `data.modelId`): the model from then on, as a `model_change` is;
//! - the assistant messages it mirrors when it delivers a reply to a chat
//!   channel (`provider` `openclaw`, `model` `delivery-mirror`), with all
//!   usage zero: no call;
//! - a compaction's checkpoint copy of the whole transcript
//!   (`<id>.checkpoint.<uuid>.jsonl`, `fs.copyFileSync`): its calls are the
//!   transcript's, keyed alike, so they count once.
//!
//! A call is dated by its entry's `timestamp` (when it was written), else
//! its message's, as OpenClaw's own usage report dates it
//! (`session-cost-usage.ts`, `parseTimestamp`).

use std::path::Path;

pub use crate::sources::pi::parser::PiParser;

/// The session of a transcript file.
pub fn session_of_path(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    super::paths::session_of_name(&name).unwrap_or(name)
}

/// A parser of an OpenClaw transcript.
pub fn parser(path: &Path, state: Option<&str>) -> PiParser {
    PiParser::for_agent("openclaw", session_of_path(path), state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Tokens;
    use crate::sources::{LineParser, Record, calls};

    const SESSION: &str = "4f1c2a9e-7b3d-4e21-9c5a-1d2e3f4a5b6c";
    const TEXT: &str = include_str!("fixtures/4f1c2a9e-7b3d-4e21-9c5a-1d2e3f4a5b6c.jsonl");

    fn parse_all(path: &str, text: &str) -> (Vec<Record>, usize) {
        let mut p = parser(Path::new(path), None);
        let mut out = Vec::new();
        let mut bad = 0;
        for l in text.lines() {
            if p.parse(l.as_bytes(), 0, &mut out).is_err() {
                bad += 1;
            }
        }
        (out, bad)
    }

    fn path(name: &str) -> String {
        format!("/h/.openclaw/agents/main/sessions/{name}")
    }

    #[test]
    fn assistant_messages_are_calls_and_delivery_mirrors_are_not() {
        let (out, bad) = parse_all(&path(&format!("{SESSION}.jsonl")), TEXT);
        assert_eq!(bad, 0);
        let Record::Session(s) = &out[0] else { panic!("{:?}", out[0]) };
        assert_eq!((s.external_id.as_str(), s.project_path.as_deref()), (SESSION, Some("/home/u/.openclaw/workspace")));
        let c = calls(&out);
        assert_eq!(c.len(), 3, "the delivery mirror has no usage");
        assert_eq!(
            c[0].tokens,
            Tokens { input: 4, output: 96, cache_read: 0, cache_write_5m: 9210, cache_write_1h: 0, reasoning: 0 }
        );
        assert_eq!(
            (c[0].model.as_ref(), c[0].model_fallback, c[0].cost_usd),
            ("claude-opus-4-5", false, Some(0.0599825))
        );
        assert_eq!(
            c[1].timestamp.to_rfc3339(),
            "2026-05-03T00:00:03.250+00:00",
            "when it was written, as OpenClaw dates it (begun the day before)"
        );
        assert_eq!((c[2].model.as_ref(), c[2].model_fallback), ("claude-opus-4-5", true), "from the model snapshot");
        assert!(c.iter().all(|e| e.session_external_id.as_ref() == SESSION));
    }

    #[test]
    fn bad_lines_are_counted_and_the_rest_is_read() {
        let p = path(&format!("{SESSION}.jsonl"));
        let (full, _) = parse_all(&p, TEXT);
        // Garbage between the lines OpenClaw wrote: a cut line, text, a
        // call at no time, one with an impossible count.
        let bad = [
            r#"{"type":"message","timestamp":"2026-05-03T08:15:04.000Z","message":{"role":"assi"#,
            "not json",
            r#"{"type":"message","timestamp":"yesterday","message":{"role":"assistant","model":"m","usage":{"output":2}}}"#,
            r#"{"type":"message","timestamp":"2026-05-03T08:15:04.000Z","message":{"role":"assistant","model":"m","usage":{"output":1099511627777}}}"#,
        ];
        let mut text = String::new();
        for (i, l) in TEXT.lines().enumerate() {
            text.push_str(l);
            text.push('\n');
            if let Some(b) = bad.get(i) {
                text.push_str(b);
                text.push('\n');
            }
        }
        let (out, n) = parse_all(&p, &text);
        assert_eq!(n, 4);
        assert_eq!(calls(&out).len(), 3);
        assert_eq!(out, full, "the rest as without them");
    }

    #[test]
    fn a_checkpoint_copy_and_an_archive_are_the_sessions_own_calls() {
        let (a, _) = parse_all(&path(&format!("{SESSION}.jsonl")), TEXT);
        let (b, _) =
            parse_all(&path(&format!("{SESSION}.checkpoint.0b9e8f7a-1c2d-4e5f-8a9b-0c1d2e3f4a5b.jsonl")), TEXT);
        let (r, _) = parse_all(&path(&format!("{SESSION}.jsonl.reset.2026-05-04T07-00-00.000Z")), TEXT);
        assert_eq!(a, b, "same session, same keys");
        assert_eq!(a, r);
        let (pi, _) = {
            let mut p = PiParser::new(Path::new(&path(&format!("{SESSION}.jsonl"))), None);
            let mut out = Vec::new();
            for l in TEXT.lines() {
                let _ = p.parse(l.as_bytes(), 0, &mut out);
            }
            (out, 0)
        };
        assert_ne!(calls(&pi)[0].key, calls(&a)[0].key, "an OpenClaw call is not a pi call");
    }

    #[test]
    fn a_resumed_read_equals_a_full_one() {
        let p = path(&format!("{SESSION}.jsonl"));
        let (full, _) = parse_all(&p, TEXT);
        let lines: Vec<&str> = TEXT.lines().collect();
        for cut in 0..lines.len() {
            let mut a = parser(Path::new(&p), None);
            let mut out = Vec::new();
            for l in &lines[..cut] {
                let _ = a.parse(l.as_bytes(), 0, &mut out);
            }
            let mut b = parser(Path::new(&p), a.state().as_deref());
            for l in &lines[cut..] {
                let _ = b.parse(l.as_bytes(), 0, &mut out);
            }
            assert_eq!(out, full, "cut at {cut}");
        }
        let (out, bad) = parse_all(
            &p,
            "{\"type\":\"message\",\"timestamp\":\"2026-05-03T08:15:04.000Z\",\"message\":{\"role\":\"assi",
        );
        assert_eq!((calls(&out).len(), bad), (0, 1));
    }
}
