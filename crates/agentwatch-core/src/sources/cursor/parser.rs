//! A cursor-agent chat's `store.db`, read as a session. It holds no token
//! counts and no cost (see README.md): only who the chat is, when it began,
//! its title and model, and its messages.
//!
//! - `meta`: one row, key `0`, whose value is the hex of a JSON object:
//!   `agentId` (the chat id, also its folder's name), `name` (the title),
//!   `mode`, `createdAt` (ms, a number or a string of digits),
//!   `lastUsedModel`, `latestRootBlobId`.
//! - `blobs`: content-addressed (`id` = hex SHA-256 of `data`). The root
//!   blob is protobuf: field 1 repeats the 32-byte ids of the conversation's
//!   messages, each a UTF-8 JSON blob (`{"role", "content"}`). The first user
//!   message begins with a `<user_info>` block naming `Workspace Path: …`,
//!   the work dir, whose MD5 is the chat's bucket folder.

use serde::Deserialize;
use serde_json::Value;

use crate::sources::storage::sqlite::Db;
use crate::sources::{LineError, Record, SessionInfo, TableReader};

/// The `meta` JSON cursor-agent writes.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub created_at: Option<Value>,
    #[serde(default)]
    pub last_used_model: Option<String>,
    #[serde(default)]
    pub latest_root_blob_id: Option<String>,
}

impl Meta {
    /// `createdAt` in ms, whether written as a number or as digits.
    pub fn created_ms(&self) -> Option<i64> {
        match self.created_at.as_ref()? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|ms| *ms > 0)
    }
}

/// The `meta` value: hex of JSON. `None` when it is not that.
pub fn decode_meta(value: &str) -> Option<Meta> {
    let v = value.trim();
    if v.is_empty() || !v.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..v.len()).step_by(2).map(|i| u8::from_str_radix(v.get(i..i + 2)?, 16).ok()).collect();
    serde_json::from_slice(&bytes?).ok()
}

/// The message ids a root blob lists (its field 1, 32 bytes each, as hex),
/// in order. `None` when the blob is not protobuf.
pub fn root_message_ids(root: &[u8]) -> Option<Vec<String>> {
    fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *b.get(*i)?;
            *i += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
    let (mut i, mut out) = (0, Vec::new());
    while i < root.len() {
        let key = varint(root, &mut i)?;
        match key & 7 {
            0 => {
                varint(root, &mut i)?;
            }
            1 => i += 8,
            5 => i += 4,
            2 => {
                let len = usize::try_from(varint(root, &mut i)?).ok()?;
                let data = root.get(i..i.checked_add(len)?)?;
                if key >> 3 == 1 && len == 32 {
                    out.push(data.iter().map(|b| format!("{b:02x}")).collect());
                }
                i += len;
            }
            _ => return None,
        }
    }
    (i == root.len()).then_some(out)
}

/// The work dir a message names in its `<user_info>` (`Workspace Path: …`).
pub fn workspace_path(message: &Value) -> Option<String> {
    if message["role"] != "user" {
        return None;
    }
    let texts: Vec<&str> = match &message["content"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect(),
        _ => Vec::new(),
    };
    texts.iter().find_map(|t| {
        let line = t.lines().find_map(|l| l.trim().strip_prefix("Workspace Path:"))?;
        Some(line.trim().to_string()).filter(|p| p.starts_with('/') || p.get(1..3) == Some(":\\"))
    })
}

/// Reads a chat's `store.db` at each change: one session.
pub struct CursorReader {
    /// The chat's folder name (its id).
    pub chat: String,
    /// The bucket folder above it (the MD5 of its work dir).
    pub bucket: Option<String>,
}

impl TableReader for CursorReader {
    fn read(&mut self, db: &Db, out: &mut Vec<Record>) -> Result<u64, String> {
        let schema = |e| format!("cursor-agent chat store not understood: {e}");
        db.require("meta", &["key", "value"]).map_err(schema)?;
        db.require("blobs", &["id", "data"]).map_err(schema)?;
        let mut value = None;
        db.each("SELECT value FROM meta WHERE key = '0'", &[], &mut |r| value = r.get::<_, String>(0).ok())?;
        let Some(meta) = value.as_deref().and_then(decode_meta) else { return Ok(1) };
        let mut root = None;
        if let Some(id) = &meta.latest_root_blob_id {
            db.each("SELECT data FROM blobs WHERE id = ?1", &[id], &mut |r| root = r.get::<_, Vec<u8>>(0).ok())?;
        }
        // The work dir, from the first user message that names one: kept when
        // its MD5 is the chat's bucket.
        let mut project = None;
        for id in root.as_deref().and_then(root_message_ids).unwrap_or_default().iter().take(8) {
            let mut blob = None;
            db.each("SELECT data FROM blobs WHERE id = ?1", &[id], &mut |r| blob = r.get::<_, Vec<u8>>(0).ok())?;
            let Some(v) = blob.and_then(|b| serde_json::from_slice::<Value>(&b).ok()) else { continue };
            if let Some(p) = workspace_path(&v) {
                if self.bucket.as_deref().is_none_or(|b| b == super::paths::bucket(&p)) {
                    project = Some(p);
                }
                break;
            }
        }
        match session(&meta, &self.chat, project) {
            Ok(s) => {
                out.push(Record::Session(s));
                Ok(0)
            }
            Err(LineError::Malformed) => Ok(1),
        }
    }

    fn state(&self) -> Option<String> {
        None
    }
}

/// The session a chat's meta describes. Its id is `agentId`, which is the
/// folder's name; a meta naming another chat is not this chat's.
pub fn session(meta: &Meta, chat: &str, project: Option<String>) -> Result<SessionInfo, LineError> {
    let id = meta.agent_id.as_deref().filter(|a| !a.is_empty()).unwrap_or(chat);
    if id != chat {
        return Err(LineError::Malformed);
    }
    Ok(SessionInfo {
        external_id: id.to_string(),
        project_path: project,
        agent_version: None,
        started_at: meta.created_ms().and_then(chrono::DateTime::from_timestamp_millis),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAT: &str = "0b6d9f5e-3c2a-4e71-9d8f-1a2b3c4d5e6f";

    fn fixture(dir: &std::path::Path) -> (std::path::PathBuf, rusqlite::Connection) {
        let path = dir.join("store.db");
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA journal_mode = WAL").unwrap();
        c.execute_batch(include_str!("fixtures/store.sql")).unwrap();
        (path, c)
    }

    fn read(path: &std::path::Path, bucket: &str) -> (Vec<Record>, u64) {
        let mut out = Vec::new();
        let mut r = CursorReader { chat: CHAT.into(), bucket: Some(bucket.into()) };
        let bad = r.read(&Db::open(path).unwrap(), &mut out).unwrap();
        (out, bad)
    }

    #[test]
    fn the_fixture_store_is_one_session_without_usage() {
        let dir = tempfile::tempdir().unwrap();
        let (path, c) = fixture(dir.path());
        let (out, bad) = read(&path, "4fafce67053eea06f159a78f7ef15755");
        assert_eq!(bad, 0);
        let want = SessionInfo {
            external_id: CHAT.into(),
            project_path: Some("/home/u/proj".into()),
            agent_version: None,
            started_at: chrono::DateTime::from_timestamp_millis(1_785_225_594_310),
        };
        assert_eq!(out, vec![Record::Session(want.clone())], "a session, and no calls: nothing is billed locally");
        // Another bucket: the work dir named is not this chat's.
        let (out, _) = read(&path, "00000000000000000000000000000000");
        assert_eq!(out, vec![Record::Session(SessionInfo { project_path: None, ..want })]);
        // A meta that is not hex of JSON is counted, not a panic.
        c.execute("UPDATE meta SET value = 'zz' WHERE key = '0'", []).unwrap();
        let (out, bad) = read(&path, "4fafce67053eea06f159a78f7ef15755");
        assert_eq!((out.len(), bad), (0, 1));
    }

    #[test]
    fn another_schema_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        rusqlite::Connection::open(&path).unwrap().execute_batch("CREATE TABLE meta (key TEXT)").unwrap();
        let err = CursorReader { chat: CHAT.into(), bucket: None }.read(&Db::open(&path).unwrap(), &mut Vec::new());
        assert!(err.unwrap_err().starts_with("cursor-agent chat store not understood"));
    }

    #[test]
    fn meta_and_root_as_cursor_agent_writes_them() {
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        let m = decode_meta(&hex(br#"{"agentId":"a","createdAt":"1785225594310","name":"t"}"#)).unwrap();
        assert_eq!((m.agent_id.as_deref(), m.created_ms()), (Some("a"), Some(1_785_225_594_310)));
        assert_eq!(decode_meta("7b"), None, "a cut JSON");
        assert_eq!(decode_meta("xyz"), None);
        let mut root = vec![0x0a, 32];
        root.extend([7u8; 32]);
        root.extend([0x4a, 2, b'/', b'x']); // field 9, a string
        root.extend([0x10, 0x96, 0x01]); // field 2, a varint
        assert_eq!(root_message_ids(&root), Some(vec!["07".repeat(32)]));
        assert_eq!(root_message_ids(&[0x0a, 40, 1]), None, "cut short");
        let user = serde_json::json!({"role": "user", "content": [{"type": "text", "text": "<user_info>\nShell: bash\nWorkspace Path: /home/u/app\n</user_info>"}]});
        assert_eq!(workspace_path(&user).as_deref(), Some("/home/u/app"));
        assert_eq!(workspace_path(&serde_json::json!({"role": "assistant", "content": "Workspace Path: /x"})), None);
    }
}
