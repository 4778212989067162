//! How OpenClaw tells one model call from two rows of it.
//!
//! Besides assistant messages, OpenClaw writes the usage of calls into its
//! transcripts as accounting entries (README.md): *owners* (an assistant
//! message, a compaction's or branch summary's `usageAccounting`, an
//! `openclaw:compaction-usage` entry, an `openclaw:model-call-usage` entry
//! that is no bridge) and *bridges* (an `openclaw:model-call-usage` entry
//! with `data.usageBudgetBridge`: the usage-budget ledger's row of a call
//! that may have an owner too). Its usage report
//! (`src/infra/session-cost-usage.ts`, `collectCanonicalUsageBridgeEntries`
//! and `skipModelCallBridgeUsageEntry`) counts every owner and leaves out a
//! bridge that is an owner's call:
//!
//! - one bridge with the owner's provider, model and counts, that may
//!   belong to it (`usageBridgeCanBelongToOwner`: for a compaction, a branch
//!   summary or an `openclaw:compaction-usage` entry, the same
//!   `usageBudgetOperationId` when either has one; otherwise the same
//!   provider and model and the same operation id when either has one, else
//!   written within five minutes of each other);
//! - else the bridges that may belong to an owner, when together they make
//!   its counts, or, when the owner has an operation id, no more than them
//!   (`findUsageBridgeSubsetForOwner`). A compaction's cost is then its
//!   bridges' (`reconcileAggregateUsageBridgeOwnerCost`).
//!
//! Two owners are never one call, nor two bridges. A [`Ledger`] decides the
//! same line by line, whichever of a call's rows comes first, and a
//! decision made once stands: a later row adds nothing that was counted,
//! or takes the counted row's key. Its state is saved with the file's
//! cursor, so a resumed read decides as a full one.

use serde::{Deserialize, Serialize};

use crate::model::EventKey;

/// How far apart a bridge and an owner without operation ids may be written
/// (`MODEL_CALL_BRIDGE_MATCH_WINDOW_MS`).
pub const MATCH_WINDOW_MS: i64 = 5 * 60 * 1000;

/// How long a row without an operation id waits for the other row of its
/// call: beyond the match window, nothing can match it.
const KEEP_MS: i64 = 2 * MATCH_WINDOW_MS;

/// How long a row with an operation id waits (the report's look-back,
/// `USAGE_COST_BRIDGE_RECONCILIATION_LOOKBACK_MS`).
const KEEP_OPERATION_MS: i64 = 24 * 60 * 60 * 1000;

/// Most rows of each kind kept waiting.
const MAX_WAITING: usize = 256;

/// One row of a call's usage as OpenClaw compares rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The provider and model as the row names them (none: not named).
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Input, output, cache read, cache write, total (`Usage::counts`).
    #[serde(rename = "n")]
    pub counts: [u64; 5],
    /// Its `usageBudgetOperationId`.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// When it was written (ms), as OpenClaw dates it.
    #[serde(rename = "t")]
    pub at: i64,
}

impl Row {
    fn same_counts(&self, o: &Row) -> bool {
        self.provider == o.provider && self.model == o.model && self.counts == o.counts
    }
}

/// What to do with an owner.
#[derive(Debug, Clone, PartialEq)]
pub enum Owner {
    /// Count it, under its own key.
    Count,
    /// It is a bridge counted before: count it under that bridge's key (the
    /// same call, counted once), at `cost` when that is known (a
    /// compaction's cost is its bridges').
    Replace { key: EventKey, cost: Option<f64> },
    /// Its bridges, counted before, are all its calls: nothing more.
    Covered,
    /// Some of its calls were counted before as bridges: count what they
    /// left, `counts` (of [`Row::counts`]), at `cost` when known.
    Rest { counts: [u64; 5], cost: Option<f64> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Bridge {
    #[serde(flatten)]
    row: Row,
    /// The key it was counted under (`EventKey`'s parts).
    #[serde(rename = "k")]
    key: (i64, i64),
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    cost: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Waiting {
    /// What its bridges have not yet covered.
    #[serde(flatten)]
    row: Row,
    /// A compaction, a branch summary or an `openclaw:compaction-usage`.
    #[serde(rename = "a", default, skip_serializing_if = "std::ops::Not::not")]
    aggregate: bool,
    /// No bridge was taken off it yet.
    #[serde(rename = "w", default, skip_serializing_if = "std::ops::Not::not")]
    whole: bool,
}

/// The counted rows that may yet meet the other row of their call.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// Bridges counted under their own keys.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    bridges: Vec<Bridge>,
    /// Owners counted in full.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    owners: Vec<Waiting>,
    /// The newest row's time (ms).
    #[serde(default, skip_serializing_if = "is_zero")]
    newest: i64,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Whether `bridge` may be a row of `owner`'s calls
/// (`usageBridgeCanBelongToOwner`).
fn may_belong(bridge: &Row, owner: &Row, aggregate: bool) -> bool {
    let same_operation = bridge.operation.is_some() && bridge.operation == owner.operation;
    let named = bridge.operation.is_some() || owner.operation.is_some();
    if aggregate && named {
        return same_operation;
    }
    let same_model = bridge.provider == owner.provider && bridge.model == owner.model;
    if named {
        return same_model && same_operation;
    }
    same_model && (bridge.at - owner.at).abs() <= MATCH_WINDOW_MS
}

fn add(a: [u64; 5], b: [u64; 5]) -> [u64; 5] {
    std::array::from_fn(|i| a[i].saturating_add(b[i]))
}

fn at_most(a: [u64; 5], b: [u64; 5]) -> bool {
    a.iter().zip(b).all(|(x, y)| *x <= y)
}

impl Ledger {
    /// Forgets the rows that can no longer meet theirs.
    fn see(&mut self, at: i64) {
        self.newest = self.newest.max(at);
        let newest = self.newest;
        let keep = |r: &Row| r.at >= newest - if r.operation.is_some() { KEEP_OPERATION_MS } else { KEEP_MS };
        self.bridges.retain(|b| keep(&b.row));
        self.owners.retain(|o| keep(&o.row));
        if self.bridges.len() > MAX_WAITING {
            self.bridges.drain(..self.bridges.len() - MAX_WAITING);
        }
        if self.owners.len() > MAX_WAITING {
            self.owners.drain(..self.owners.len() - MAX_WAITING);
        }
    }

    /// An owner's row (an assistant message's, or an accounting entry's
    /// that is no bridge; `aggregate` for a compaction, a branch summary or
    /// an `openclaw:compaction-usage`), `cost` what it recorded.
    pub fn owner(&mut self, row: Row, aggregate: bool, cost: Option<f64>) -> Owner {
        self.see(row.at);
        let reconciled = |b: &Bridge| if aggregate { b.cost } else { None };
        // One bridge, the same call.
        if let Some(i) =
            self.bridges.iter().position(|b| may_belong(&b.row, &row, aggregate) && b.row.same_counts(&row))
        {
            let b = self.bridges.remove(i);
            let key = EventKey { id: b.key.0, check: b.key.1 };
            return Owner::Replace { key, cost: reconciled(&b) };
        }
        // Bridges that together are its calls.
        let mine: Vec<usize> =
            (0..self.bridges.len()).filter(|&i| may_belong(&self.bridges[i].row, &row, aggregate)).collect();
        if !mine.is_empty() {
            let covered = mine.iter().fold([0; 5], |sum, &i| add(sum, self.bridges[i].row.counts));
            let whole = covered == row.counts;
            if whole || (row.operation.is_some() && at_most(covered, row.counts)) {
                let costs: Option<f64> = mine.iter().map(|&i| self.bridges[i].cost).sum();
                let taken: Vec<Bridge> = mine.iter().rev().map(|&i| self.bridges.remove(i)).collect();
                return match (whole, taken.as_slice()) {
                    (true, [b]) => {
                        Owner::Replace { key: EventKey { id: b.key.0, check: b.key.1 }, cost: reconciled(b) }
                    }
                    (true, _) => Owner::Covered,
                    (false, _) => Owner::Rest {
                        counts: std::array::from_fn(|i| row.counts[i] - covered[i]),
                        cost: cost.zip(costs).map(|(c, b)| c - b).filter(|c| *c > 0.0),
                    },
                };
            }
        }
        self.owners.push(Waiting { row, aggregate, whole: true });
        Owner::Count
    }

    /// A bridge's row: whether to count it (under `key`, at `cost`), or it
    /// is a row of an owner counted before.
    pub fn bridge(&mut self, row: Row, key: EventKey, cost: Option<f64>) -> bool {
        self.see(row.at);
        // The same call as an owner's.
        if let Some(i) =
            self.owners.iter().position(|o| o.whole && may_belong(&row, &o.row, o.aggregate) && row.same_counts(&o.row))
        {
            self.owners.remove(i);
            return false;
        }
        // One of the calls of an owner of the same operation.
        if let Some(i) = self.owners.iter().position(|o| {
            o.row.operation.is_some() && may_belong(&row, &o.row, o.aggregate) && at_most(row.counts, o.row.counts)
        }) {
            let o = &mut self.owners[i];
            o.whole = false;
            o.row.counts = std::array::from_fn(|k| o.row.counts[k] - row.counts[k]);
            if o.row.counts == [0; 5] {
                self.owners.remove(i);
            }
            return false;
        }
        self.bridges.push(Bridge { row, key: (key.id, key.check), cost });
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(model: &str, counts: [u64; 4], operation: Option<&str>, at: i64) -> Row {
        let total = counts.iter().sum();
        Row {
            provider: Some("anthropic".into()),
            model: Some(model.into()),
            counts: [counts[0], counts[1], counts[2], counts[3], total],
            operation: operation.map(str::to_string),
            at,
        }
    }

    fn key(n: &str) -> EventKey {
        EventKey::of(&[n])
    }

    #[test]
    fn a_bridge_and_its_message_are_one_call_whichever_comes_first() {
        let mut l = Ledger::default();
        assert!(l.bridge(row("m", [1, 2, 3, 4], None, 1_000), key("b"), Some(0.5)));
        assert_eq!(
            l.owner(row("m", [1, 2, 3, 4], None, 4_000), false, Some(0.4)),
            Owner::Replace { key: key("b"), cost: None }
        );
        assert_eq!(l.owner(row("m", [1, 2, 3, 4], None, 10_000), false, None), Owner::Count);
        assert!(!l.bridge(row("m", [1, 2, 3, 4], None, 9_000), key("c"), None), "after its message");
        assert_eq!(l, Ledger { newest: 10_000, ..Ledger::default() });
    }

    #[test]
    fn without_operation_ids_only_a_bridge_written_within_five_minutes_of_its_owner_is_its_call() {
        let mut l = Ledger::default();
        assert!(l.bridge(row("m", [1, 0, 0, 0], None, 0), key("b"), None));
        assert_eq!(l.owner(row("m", [1, 0, 0, 0], None, MATCH_WINDOW_MS + 1), false, None), Owner::Count);
        assert!(l.bridge(row("other", [1, 0, 0, 0], None, MATCH_WINDOW_MS + 2), key("c"), None), "another model");
        let mut o = row("m", [1, 0, 0, 0], Some("op"), MATCH_WINDOW_MS + 3);
        assert!(l.bridge(o.clone(), key("d"), None), "an operation the owner has not");
        o.at += 1;
        o.operation = Some("op2".into());
        assert_eq!(l.owner(o, false, None), Owner::Count);
    }

    #[test]
    fn a_compactions_bridges_are_its_calls_by_operation_id() {
        let mut l = Ledger::default();
        assert!(l.bridge(row("m", [60, 4, 0, 0], Some("op"), 0), key("b1"), Some(0.04)));
        assert!(l.bridge(row("m", [25, 3, 0, 0], Some("op"), 20), key("b2"), Some(0.02)));
        // Another model and hours later: the operation id decides.
        let mut c = row("n", [85, 7, 0, 0], Some("op"), 3 * 3_600_000);
        assert_eq!(l.owner(c.clone(), true, Some(0.06)), Owner::Covered);
        assert!(l.bridges.is_empty());
        // One of its calls' bridges missing: the rest.
        assert!(l.bridge(row("m", [60, 4, 0, 0], Some("op3"), 0), key("b3"), Some(0.04)));
        c.operation = Some("op3".into());
        assert_eq!(
            l.owner(c.clone(), true, Some(0.06)),
            Owner::Rest { counts: [25, 3, 0, 0, 28], cost: Some(0.06 - 0.04) }
        );
        // More than the compaction: none of them is its call.
        assert!(l.bridge(row("m", [90, 4, 0, 0], Some("op4"), 0), key("b4"), None));
        c.operation = Some("op4".into());
        assert_eq!(l.owner(c.clone(), true, Some(0.06)), Owner::Count);
        // Its bridges after it: taken off it one by one.
        assert!(!l.bridge(row("x", [60, 4, 0, 0], Some("op4"), 0), key("b5"), None));
        assert!(!l.bridge(row("x", [25, 3, 0, 0], Some("op4"), 0), key("b6"), None));
        assert!(l.bridge(row("x", [1, 0, 0, 0], Some("op4"), 0), key("b7"), None), "nothing left of it");
        // One bridge of another model, the compaction's only call.
        assert!(l.bridge(row("x", [85, 7, 0, 0], Some("op5"), 0), key("b8"), Some(0.07)));
        c.operation = Some("op5".into());
        assert_eq!(l.owner(c, true, Some(0.06)), Owner::Replace { key: key("b8"), cost: Some(0.07) });
    }

    #[test]
    fn old_rows_are_forgotten_and_the_state_round_trips() {
        let mut l = Ledger::default();
        assert!(l.bridge(row("m", [1, 0, 0, 0], None, 0), key("b"), Some(0.1)));
        assert!(l.bridge(row("m", [2, 0, 0, 0], Some("op"), 0), key("c"), None));
        assert_eq!(l.owner(row("m", [3, 0, 0, 0], None, KEEP_MS), false, None), Owner::Count);
        let text = serde_json::to_string(&l).unwrap();
        assert_eq!(serde_json::from_str::<Ledger>(&text).unwrap(), l);
        assert_eq!((l.bridges.len(), l.owners.len()), (2, 1));
        l.see(KEEP_MS + 1);
        assert_eq!((l.bridges.len(), l.owners.len()), (1, 1), "the bridge without an operation id");
        l.see(KEEP_OPERATION_MS + 1);
        assert_eq!((l.bridges.len(), l.owners.len()), (0, 0));
    }
}
