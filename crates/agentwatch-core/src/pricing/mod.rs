//! Model prices and cost computation.
//!
//! Prices are data: an embedded snapshot of LiteLLM's public price list
//! (`snapshot.json`, regenerated with `tools/price-snapshot.py`), optionally a
//! newer list imported with `agentwatch prices update --from FILE`, and the
//! user's own `prices.json` in the config dir, which wins over both. Nothing
//! here touches the network.
//!
//! Rules (they match ccusage, so reports agree):
//! - Model lookup: exact name, then without a date suffix, then with or
//!   without a provider prefix; each list in precedence order.
//! - Missing prices: a cache write costs 1.25× input, a 1-hour cache write
//!   2× input (and 2× the above-200k input price above the tier), a cache read
//!   0.1× input.
//! - The 200k tier applies per usage event and per token category. For
//!   Anthropic models only the tokens above 200k get the higher price; for
//!   other providers (Gemini, xAI) the whole category does, as they bill.
//! - "fast" output mode multiplies the whole cost by the model's `fast`
//!   factor (1 when the list has none).

use std::collections::HashMap;
use std::path::Path;
use std::sync::RwLock;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Tokens;
use crate::paths::Dirs;

/// Where the tier starts, per event and per token category.
pub const TIER_THRESHOLD: u64 = 200_000;

const SNAPSHOT_JSON: &str = include_str!("snapshot.json");

/// Prefixes tried when a model name is not found as written.
const PROVIDER_PREFIXES: &[&str] = &[
    "anthropic/",
    "openai/",
    "gemini/",
    "vertex_ai/",
    "xai/",
    "deepseek/",
    "mistral/",
    "moonshot/",
    "zai/",
    "dashscope/",
];

/// Per-token prices of one model, with every default already applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPrice {
    pub input: f64,
    pub output: f64,
    pub cache_write_5m: f64,
    pub cache_write_1h: f64,
    pub cache_read: f64,
    pub input_hi: Option<f64>,
    pub output_hi: Option<f64>,
    pub cache_write_5m_hi: Option<f64>,
    pub cache_write_1h_hi: Option<f64>,
    pub cache_read_hi: Option<f64>,
    /// Whether only the tokens above the threshold get the higher price
    /// (Anthropic) or, once over it, all of them (others).
    pub tier_excess_only: bool,
    pub fast_multiplier: f64,
}

/// One entry of a LiteLLM-format price list; only the fields we read.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct LiteLlmEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_cost_per_token: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_cost_per_token: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_token_cost: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_token_cost_above_1hr: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read_input_token_cost: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_cost_per_token_above_200k_tokens: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_cost_per_token_above_200k_tokens: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_token_cost_above_200k_tokens: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_token_cost_above_1hr_above_200k_tokens: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read_input_token_cost_above_200k_tokens: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub litellm_provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_specific_entry: Option<ProviderSpecific>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ProviderSpecific {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fast: Option<f64>,
}

/// The most a token may cost: $0.01 ($10,000 per million), about 16 times
/// the dearest model priced today. More is a unit mistake, not a price.
pub const MAX_PRICE_PER_TOKEN: f64 = 0.01;

impl LiteLlmEntry {
    /// A price list entry agentwatch can use: every price finite, not
    /// negative and not absurd. The error names the field.
    pub fn check(&self) -> std::result::Result<(), String> {
        let prices = [
            ("input_cost_per_token", self.input_cost_per_token),
            ("output_cost_per_token", self.output_cost_per_token),
            ("cache_creation_input_token_cost", self.cache_creation_input_token_cost),
            ("cache_creation_input_token_cost_above_1hr", self.cache_creation_input_token_cost_above_1hr),
            ("cache_read_input_token_cost", self.cache_read_input_token_cost),
            ("input_cost_per_token_above_200k_tokens", self.input_cost_per_token_above_200k_tokens),
            ("output_cost_per_token_above_200k_tokens", self.output_cost_per_token_above_200k_tokens),
            (
                "cache_creation_input_token_cost_above_200k_tokens",
                self.cache_creation_input_token_cost_above_200k_tokens,
            ),
            (
                "cache_creation_input_token_cost_above_1hr_above_200k_tokens",
                self.cache_creation_input_token_cost_above_1hr_above_200k_tokens,
            ),
            ("cache_read_input_token_cost_above_200k_tokens", self.cache_read_input_token_cost_above_200k_tokens),
        ];
        for (field, v) in prices {
            match v {
                Some(v) if !v.is_finite() || v < 0.0 => return Err(format!("{field} is {v}: not a price")),
                Some(v) if v > MAX_PRICE_PER_TOKEN => {
                    return Err(format!(
                        "{field} is {v} dollars per token (${:.0} per million): more than {MAX_PRICE_PER_TOKEN} \
                         per token is surely a unit mistake",
                        v * 1e6
                    ));
                }
                _ => {}
            }
        }
        if let Some(f) = self.provider_specific_entry.as_ref().and_then(|p| p.fast)
            && !(f.is_finite() && f > 0.0 && f <= 100.0)
        {
            return Err(format!("provider_specific_entry.fast is {f}: a multiplier must be above 0 and at most 100"));
        }
        Ok(())
    }

    /// The model's prices, or `None` when the entry has no token prices.
    pub fn to_price(&self, name: &str) -> Option<ModelPrice> {
        let input = self.input_cost_per_token?;
        let output = self.output_cost_per_token.unwrap_or(0.0);
        let anthropic = self.litellm_provider.as_deref().is_some_and(|p| p == "anthropic" || p.contains("anthropic"))
            || bare_name(name).starts_with("claude");
        // Z.ai lists its cache writes at 0 but bills the new content at the
        // input price (as ccusage prices ZCode's).
        let zai = self.litellm_provider.as_deref() == Some("zai") || name.starts_with("zai/");
        let cache_write_5m_explicit = match self.cache_creation_input_token_cost {
            Some(c) if zai && c == 0.0 => Some(input),
            c => c,
        };
        Some(ModelPrice {
            input,
            output,
            cache_write_5m: cache_write_5m_explicit.unwrap_or(input * 1.25),
            cache_write_1h: self.cache_creation_input_token_cost_above_1hr.unwrap_or(input * 2.0),
            cache_read: self.cache_read_input_token_cost.unwrap_or(input * 0.1),
            input_hi: self.input_cost_per_token_above_200k_tokens,
            output_hi: self.output_cost_per_token_above_200k_tokens,
            cache_write_5m_hi: cache_write_5m_explicit.and(self.cache_creation_input_token_cost_above_200k_tokens),
            cache_write_1h_hi: self
                .cache_creation_input_token_cost_above_1hr_above_200k_tokens
                .or(self.input_cost_per_token_above_200k_tokens.map(|p| p * 2.0)),
            cache_read_hi: self.cache_read_input_token_cost_above_200k_tokens,
            tier_excess_only: anthropic,
            fast_multiplier: self.provider_specific_entry.as_ref().and_then(|p| p.fast).unwrap_or(1.0),
        })
    }
}

/// Token sums prepared for tiered pricing: for each category the plain sum,
/// plus the sum and count of the events whose count in that category was
/// above [`TIER_THRESHOLD`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TieredTokens {
    pub tokens: Tokens,
    /// `over[c]`: sum of category `c` over events above the threshold;
    /// `over_n[c]`: how many such events. Categories in the order input,
    /// output, cache write 5m, cache write 1h, cache read.
    pub over: [u64; 5],
    pub over_n: [u64; 5],
}

impl TieredTokens {
    /// The tiered view of a single event.
    pub fn of_event(t: &Tokens) -> TieredTokens {
        let mut r = TieredTokens { tokens: *t, ..Default::default() };
        for (i, v) in Self::categories(t).into_iter().enumerate() {
            if v > TIER_THRESHOLD {
                r.over[i] = v;
                r.over_n[i] = 1;
            }
        }
        r
    }

    fn categories(t: &Tokens) -> [u64; 5] {
        [t.input, t.output, t.cache_write_5m, t.cache_write_1h, t.cache_read]
    }

    pub fn add(&mut self, o: &TieredTokens) {
        self.tokens.add(&o.tokens);
        for i in 0..5 {
            self.over[i] += o.over[i];
            self.over_n[i] += o.over_n[i];
        }
    }
}

impl ModelPrice {
    /// The cost of a sum of events of this model.
    pub fn cost(&self, t: &TieredTokens, fast: bool) -> f64 {
        let totals = TieredTokens::categories(&t.tokens);
        let base = [self.input, self.output, self.cache_write_5m, self.cache_write_1h, self.cache_read];
        let hi = [self.input_hi, self.output_hi, self.cache_write_5m_hi, self.cache_write_1h_hi, self.cache_read_hi];
        let mut cost = 0.0;
        for i in 0..5 {
            let total = totals[i] as f64;
            cost += match hi[i] {
                None => total * base[i],
                Some(hi) => {
                    // Tokens billed at the higher price.
                    let high = if self.tier_excess_only {
                        t.over[i] as f64 - (TIER_THRESHOLD * t.over_n[i]) as f64
                    } else {
                        t.over[i] as f64
                    };
                    (total - high) * base[i] + high * hi
                }
            };
        }
        if fast { cost * self.fast_multiplier } else { cost }
    }
}

/// The cost of a sum of one model's events that share their pricing flags.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupCost {
    /// `None` when the model has no known price.
    pub usd: Option<f64>,
    pub source: PriceSource,
}

impl PriceBook {
    /// Prices a group of events: by the transcript's own figures when the
    /// agent recorded them (`transcript_cost`), else by the model's price.
    pub fn price_group(&self, model: &str, fast: bool, transcript_cost: Option<f64>, t: &TieredTokens) -> GroupCost {
        if let Some(usd) = transcript_cost {
            return GroupCost { usd: Some(usd), source: PriceSource::Transcript };
        }
        match self.lookup(model) {
            Some(m) => GroupCost { usd: Some(m.price.cost(t, fast)), source: m.source.clone() },
            None => GroupCost { usd: None, source: PriceSource::Unknown },
        }
    }
}

/// The name a model is reported under: fast-mode calls get a `-fast` suffix,
/// as ccusage shows them.
pub fn display_model(model: &str, fast: bool) -> String {
    if fast { format!("{model}-fast") } else { model.to_string() }
}

/// Where a cost figure comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PriceSource {
    /// The embedded snapshot, with its date.
    Snapshot(String),
    /// A list imported with `prices update --from`, with the import date.
    Imported(String),
    /// The user's override file.
    Override,
    /// The agent wrote the cost into its transcript (Claude's legacy `costUSD`).
    Transcript,
    /// No price is known for the model.
    Unknown,
}

impl std::fmt::Display for PriceSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PriceSource::Snapshot(d) => write!(f, "snapshot {d}"),
            PriceSource::Imported(d) => write!(f, "imported {d}"),
            PriceSource::Override => f.write_str("user override"),
            PriceSource::Transcript => f.write_str("transcript"),
            PriceSource::Unknown => f.write_str("unknown"),
        }
    }
}

impl Serialize for PriceSource {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One price list and where it came from.
#[derive(Debug)]
pub struct PriceList {
    pub source: PriceSource,
    pub description: String,
    pub models: HashMap<String, ModelPrice>,
}

#[derive(Deserialize)]
struct SnapshotFile {
    source: String,
    date: String,
    models: HashMap<String, LiteLlmEntry>,
}

/// An imported list as stored in the data dir.
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct ImportedFile {
    imported_at: String,
    from: String,
    models: HashMap<String, LiteLlmEntry>,
}

/// The outcome of a lookup.
#[derive(Debug, Clone, Copy)]
pub struct PriceMatch<'a> {
    pub price: &'a ModelPrice,
    pub source: &'a PriceSource,
}

/// All price lists, in precedence order, with a lookup cache.
#[derive(Debug)]
pub struct PriceBook {
    lists: Vec<PriceList>,
    /// model name → (list index, key) of the match, or None when unknown.
    cache: RwLock<HashMap<String, Option<(usize, String)>>>,
}

impl PriceBook {
    /// Only the embedded snapshot.
    pub fn embedded() -> PriceBook {
        PriceBook::from_lists(vec![embedded_snapshot()])
    }

    /// The override file, the imported list and the snapshot, in that order.
    /// A malformed file is an error naming the file: a wrong price must not
    /// pass silently.
    pub fn load(dirs: &Dirs) -> Result<PriceBook> {
        let mut lists = Vec::new();
        let over = dirs.price_override_file();
        if over.exists() {
            let text = std::fs::read_to_string(&over).map_err(|e| Error::io(&over, e))?;
            let models = parse_litellm_json(&text)
                .map_err(|e| Error::Other(format!("{}: not a valid price list: {e}", over.display())))?;
            lists.push(PriceList {
                source: PriceSource::Override,
                description: format!("user override {}", over.display()),
                models,
            });
        }
        let imported = dirs.imported_prices_file();
        if imported.exists() {
            let text = std::fs::read_to_string(&imported).map_err(|e| Error::io(&imported, e))?;
            let file: ImportedFile = serde_json::from_str(&text)
                .map_err(|e| Error::Other(format!("{}: damaged price import: {e}", imported.display())))?;
            lists.push(PriceList {
                source: PriceSource::Imported(file.imported_at.clone()),
                description: format!("imported {} from {}", file.imported_at, file.from),
                models: to_prices(file.models),
            });
        }
        lists.push(embedded_snapshot());
        Ok(PriceBook::from_lists(lists))
    }

    pub fn from_lists(lists: Vec<PriceList>) -> PriceBook {
        PriceBook { lists, cache: RwLock::new(HashMap::new()) }
    }

    pub fn lists(&self) -> &[PriceList] {
        &self.lists
    }

    /// Finds the price of a model: each list in precedence order, and in
    /// each list the exact name, then without a date suffix, then with or
    /// without a provider prefix.
    pub fn lookup(&self, model: &str) -> Option<PriceMatch<'_>> {
        if let Some(hit) = self.cache.read().expect("price cache poisoned").get(model) {
            return hit.as_ref().map(|(i, k)| self.match_at(*i, k));
        }
        let found = self.search(model);
        self.cache.write().expect("price cache poisoned").insert(model.to_string(), found.clone());
        found.as_ref().map(|(i, k)| self.match_at(*i, k))
    }

    fn match_at(&self, list: usize, key: &str) -> PriceMatch<'_> {
        let l = &self.lists[list];
        PriceMatch { price: &l.models[key], source: &l.source }
    }

    fn search(&self, model: &str) -> Option<(usize, String)> {
        let candidates = candidate_names(model);
        for (i, list) in self.lists.iter().enumerate() {
            if let Some(c) = candidates.iter().find(|c| list.models.contains_key(c.as_str())) {
                return Some((i, c.clone()));
            }
        }
        None
    }

    /// A short text that changes whenever any price list changes; cached
    /// costs are recomputed when it does.
    pub fn fingerprint(&self) -> String {
        self.lists.iter().map(|l| format!("{}:{}", l.source, l.models.len())).collect::<Vec<_>>().join(";")
            + &format!(";{:x}", self.content_hash())
    }

    fn content_hash(&self) -> u64 {
        let mut h = crate::util::Fnv64::new();
        for l in &self.lists {
            let mut keys: Vec<_> = l.models.keys().collect();
            keys.sort();
            for k in keys {
                h.write(k.as_bytes());
                h.write(format!("{:?}", l.models[k]).as_bytes());
            }
        }
        h.finish()
    }
}

fn embedded_snapshot() -> PriceList {
    let file: SnapshotFile = serde_json::from_str(SNAPSHOT_JSON).expect("embedded price snapshot is valid JSON");
    PriceList {
        source: PriceSource::Snapshot(file.date.clone()),
        description: format!("{} (snapshot {})", file.source, file.date),
        models: to_prices(file.models),
    }
}

fn to_prices(entries: HashMap<String, LiteLlmEntry>) -> HashMap<String, ModelPrice> {
    entries.into_iter().filter_map(|(k, e)| e.to_price(&k).map(|p| (k, p))).collect()
}

/// Parses a LiteLLM-format price list (`{"model": {"input_cost_per_token": …}}`),
/// keeping the entries with token prices. Entries of other shapes (the
/// `sample_spec`, image models) are ignored.
pub fn parse_litellm_json(text: &str) -> std::result::Result<HashMap<String, ModelPrice>, String> {
    let raw: HashMap<String, serde_json::Value> = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let mut out = HashMap::new();
    for (name, v) in raw {
        if !v.is_object() {
            continue;
        }
        let entry: LiteLlmEntry = serde_json::from_value(v).map_err(|e| format!("model '{name}': {e}"))?;
        entry.check().map_err(|e| format!("model '{name}': {e}"))?;
        if let Some(p) = entry.to_price(&name) {
            out.insert(name, p);
        }
    }
    if out.is_empty() {
        return Err("no model with per-token prices in it".into());
    }
    Ok(out)
}

/// Imports a LiteLLM-format list as the new "imported" list. Returns how many
/// models it prices.
pub fn import_list(dirs: &Dirs, from: &Path, today: &str) -> Result<usize> {
    let text = std::fs::read_to_string(from).map_err(|e| Error::io(from, e))?;
    let raw: HashMap<String, serde_json::Value> = serde_json::from_str(&text)
        .map_err(|e| Error::Usage(format!("{}: not a JSON price list: {e}", from.display())))?;
    let mut models = HashMap::new();
    for (name, v) in raw {
        if let Ok(entry) = serde_json::from_value::<LiteLlmEntry>(v)
            && entry.input_cost_per_token.is_some()
        {
            entry
                .check()
                .map_err(|e| Error::Usage(format!("{}: model '{name}': {e}; nothing was imported", from.display())))?;
            models.insert(name, entry);
        }
    }
    if models.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no model with per-token prices in it (expected LiteLLM's model_prices_and_context_window.json format)",
            from.display()
        )));
    }
    let n = models.len();
    let file = ImportedFile { imported_at: today.to_string(), from: from.display().to_string(), models };
    dirs.ensure_data_dir()?;
    let dest = dirs.imported_prices_file();
    let tmp = dest.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(&file).expect("serializable")).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &dest).map_err(|e| Error::io(&dest, e))?;
    Ok(n)
}

/// The names to try for a model, in order.
fn candidate_names(model: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(24);
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s)
        }
    };
    let bare = bare_name(model);
    push(model.to_string());
    if let Some(s) = strip_date_suffix(model) {
        push(s.to_string());
    }
    let undotted = claude_undotted(bare);
    let unbuilt = grok_unbuilt(bare);
    // ZCode names Z.ai's models as Z.ai does (`GLM-5.3`); the lists in lower case.
    let lower = Some(bare.to_ascii_lowercase()).filter(|l| l != bare);
    let family_first = claude_family_first(bare);
    let gemini = gemini_listed(bare);
    for name in [bare, strip_date_suffix(bare).unwrap_or(bare)]
        .into_iter()
        .chain(undotted.as_deref())
        .chain(unbuilt)
        .chain(lower.as_deref())
        .chain(family_first.as_deref())
        .chain(gemini.iter().map(String::as_str))
    {
        push(name.to_string());
        for p in PROVIDER_PREFIXES {
            push(format!("{p}{name}"));
        }
    }
    out
}

/// A Claude model as OpenCode, Copilot and Droid name it, with a dot
/// (`claude-sonnet-4.5`), as the price lists do (`claude-sonnet-4-5`).
fn claude_undotted(model: &str) -> Option<String> {
    for family in ["claude-haiku-", "claude-opus-", "claude-sonnet-"] {
        if let Some(rest) = model.strip_prefix(family)
            && let Some((major, minor)) = rest.split_once('.')
            && !major.is_empty()
            && major.chars().all(|c| c.is_ascii_digit())
            && minor.starts_with(|c: char| c.is_ascii_digit())
        {
            return Some(format!("{family}{major}-{minor}"));
        }
    }
    None
}

/// A Claude model as Antigravity names it, version first (`claude-4.5-sonnet`),
/// as the price lists do (`claude-sonnet-4-5`).
fn claude_family_first(model: &str) -> Option<String> {
    let rest = model.strip_prefix("claude-")?;
    let (version, family) = rest.split_once('-')?;
    if !["sonnet", "opus", "haiku"].contains(&family)
        || version.is_empty()
        || !version.chars().all(|c| c.is_ascii_digit() || c == '.')
    {
        return None;
    }
    Some(format!("claude-{family}-{}", version.replace('.', "-")))
}

/// A Gemini model as Antigravity names it, with its thinking level
/// (`gemini-3.5-flash-high`, `gemini-2.5-flash-thinking`), which Google
/// bills at the model's price, or without the `-preview` the lists have
/// (`gemini-3.1-pro`): the names the lists may have it under, the model
/// without its level first.
fn gemini_listed(model: &str) -> Vec<String> {
    if !model.starts_with("gemini-") {
        return Vec::new();
    }
    let plain = ["-extra-low", "-high", "-medium", "-low", "-thinking"]
        .iter()
        .find_map(|s| model.strip_suffix(s))
        .filter(|p| p.len() > "gemini-".len());
    let mut out: Vec<String> = plain.iter().map(|p| p.to_string()).collect();
    if !model.ends_with("-preview") {
        out.extend(plain.iter().chain(std::iter::once(&model)).map(|p| format!("{p}-preview")));
    }
    out
}

/// A model as Grok Build names it (`grok-4.5-build`), as the price lists do
/// (`grok-4.5`), as ccusage looks it up.
fn grok_unbuilt(model: &str) -> Option<&str> {
    model.strip_suffix("-build").filter(|m| m.starts_with("grok-"))
}

/// The model name without any `provider/` prefix.
fn bare_name(model: &str) -> &str {
    model.rsplit('/').next().unwrap_or(model)
}

/// `claude-sonnet-4-5-20250929` → `claude-sonnet-4-5`; also `-2025-09-29`
/// and Vertex's `@20250929`.
fn strip_date_suffix(model: &str) -> Option<&str> {
    let b = model.as_bytes();
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if b.len() > 9 && (b[b.len() - 9] == b'-' || b[b.len() - 9] == b'@') && digits(&b[b.len() - 8..]) {
        return Some(&model[..model.len() - 9]);
    }
    if b.len() > 11 {
        let t = &b[b.len() - 11..];
        if t[0] == b'-' && digits(&t[1..5]) && t[5] == b'-' && digits(&t[6..8]) && t[8] == b'-' && digits(&t[9..]) {
            return Some(&model[..model.len() - 11]);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(input: u64, output: u64, w5: u64, w1: u64, read: u64) -> Tokens {
        Tokens { input, output, cache_write_5m: w5, cache_write_1h: w1, cache_read: read, reasoning: 0 }
    }

    fn cost_of(book: &PriceBook, model: &str, t: Tokens, fast: bool) -> f64 {
        book.lookup(model).unwrap().price.cost(&TieredTokens::of_event(&t), fast)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    // Expected values below were computed by ccusage 20.0.24 on the same events.

    #[test]
    fn plain_claude_event_with_both_cache_lifetimes() {
        let b = PriceBook::embedded();
        let c = cost_of(&b, "claude-sonnet-4-5-20250929", tokens(100, 50, 400, 600, 2000), false);
        assert!(close(c, 0.00675), "{c}");
    }

    #[test]
    fn tier_applies_per_category_to_the_excess_for_claude() {
        let b = PriceBook::embedded();
        assert!(close(cost_of(&b, "claude-sonnet-4-5-20250929", tokens(250_000, 1000, 0, 0, 0), false), 0.915));
        // Below the threshold in every category although the sum is above it.
        assert!(close(
            cost_of(&b, "claude-sonnet-4-5-20250929", tokens(100_000, 1000, 150_000, 0, 150_000), false),
            0.9225
        ));
        assert!(close(cost_of(&b, "claude-sonnet-4-20250514", tokens(300_000, 300_000, 0, 0, 0), false), 6.45));
    }

    #[test]
    fn one_hour_cache_has_its_own_price_and_tier() {
        let b = PriceBook::embedded();
        assert!(close(cost_of(&b, "claude-sonnet-4-5-20250929", tokens(1000, 1000, 0, 300_000, 0), false), 2.418));
        assert!(close(cost_of(&b, "claude-sonnet-4-5-20250929", tokens(1000, 1000, 300_000, 0, 0), false), 1.518));
        // 5m and 1h are tiered separately.
        assert!(close(cost_of(&b, "claude-sonnet-4-5-20250929", tokens(0, 0, 150_000, 150_000, 0), false), 1.4625));
        // No explicit 1h-above-200k price: 2× the above-200k input price.
        assert!(close(cost_of(&b, "claude-sonnet-4-20250514", tokens(0, 0, 0, 300_000, 0), false), 2.4));
        // No tier at all.
        assert!(close(cost_of(&b, "claude-opus-4-1-20250805", tokens(0, 0, 0, 300_000, 0), false), 9.0));
    }

    #[test]
    fn missing_cache_prices_default_to_multiples_of_input() {
        let b = PriceBook::embedded();
        assert!(close(cost_of(&b, "gpt-4-0613", tokens(0, 0, 100_000, 0, 0), false), 3.75));
        assert!(close(cost_of(&b, "gpt-4-0613", tokens(0, 0, 0, 0, 100_000), false), 0.3));
        assert!(close(cost_of(&b, "gpt-4-0613", tokens(0, 0, 0, 100_000, 0), false), 6.0));
        assert!(close(cost_of(&b, "gpt-5", tokens(300_000, 0, 300_000, 0, 0), false), 0.84375));
    }

    #[test]
    fn gemini_bills_the_whole_category_above_the_tier() {
        let b = PriceBook::embedded();
        assert!(close(cost_of(&b, "gemini-2.5-pro", tokens(300_000, 0, 0, 0, 0), false), 0.75));
        assert!(close(cost_of(&b, "gemini-2.5-pro", tokens(0, 0, 0, 0, 300_000), false), 0.075));
        assert!(close(cost_of(&b, "gemini-2.5-pro", tokens(0, 0, 0, 300_000, 0), false), 1.5));
    }

    #[test]
    fn fast_mode_multiplies_by_the_models_factor() {
        let b = PriceBook::embedded();
        let t = tokens(1000, 1000, 0, 0, 0);
        assert!(close(cost_of(&b, "claude-opus-4-8", t, true), 0.06));
        assert!(close(cost_of(&b, "claude-opus-4-8", t, false), 0.03));
        // No factor in the list: unchanged.
        assert!(close(cost_of(&b, "claude-sonnet-4-5", t, true), 0.018));
    }

    #[test]
    fn a_dotted_claude_version_is_priced_as_the_lists_name_it() {
        assert_eq!(claude_undotted("claude-sonnet-4.5").as_deref(), Some("claude-sonnet-4-5"));
        assert_eq!(claude_undotted("claude-opus-4.1").as_deref(), Some("claude-opus-4-1"));
        assert_eq!(claude_undotted("claude-sonnet-4-5"), None);
        assert_eq!(claude_undotted("gpt-5.1-codex"), None);
        let book = PriceBook::from_lists(vec![embedded_snapshot()]);
        let dotted = book.lookup("anthropic/claude-sonnet-4.5").expect("priced");
        assert_eq!(dotted.price, book.lookup("claude-sonnet-4-5").unwrap().price);
    }

    #[test]
    fn lookup_tries_date_suffix_then_provider_prefix() {
        let b = PriceBook::embedded();
        let exact = b.lookup("claude-sonnet-4-5").unwrap().price.clone();
        assert_eq!(b.lookup("claude-sonnet-4-5-20991231").unwrap().price, &exact);
        assert_eq!(b.lookup("claude-sonnet-4-5@20991231").unwrap().price, &exact);
        assert_eq!(b.lookup("anthropic/claude-sonnet-4-5").unwrap().price, &exact);
        // Only under a prefix in the list.
        assert!(b.lookup("gemini-2.5-flash-lite-preview-06-17").is_some());
        assert!(b.lookup("my-unknown-model").is_none());
        assert!(b.lookup("my-unknown-model").is_none(), "cached misses stay misses");
        assert_eq!(b.lookup("gpt-5").unwrap().source, &PriceSource::Snapshot("2026-09-20".into()));
    }

    #[test]
    fn antigravitys_model_names_are_priced_as_the_lists_name_them() {
        let b = PriceBook::embedded();
        let price = |m: &str| b.lookup(m).map(|p| p.price.clone());
        // ccusage 20.0.24 prices these the same (`ccusage antigravity daily`).
        for (name, listed) in [
            ("gemini-3.5-flash-high", "gemini-3.5-flash"),
            ("gemini-3.5-flash-extra-low", "gemini-3.5-flash"),
            ("gemini-3.6-flash-low", "gemini-3.6-flash"),
            ("gemini-3.8-flash-medium", "gemini-3.8-flash"),
            ("gemini-2.5-flash-thinking", "gemini-2.5-flash"),
            ("gemini-3.1-pro", "gemini-3.1-pro-preview"),
            ("gemini-3-pro", "gemini-3-pro-preview"),
            ("claude-4.5-sonnet", "claude-sonnet-4-5"),
            ("claude-4.5-haiku", "claude-haiku-4-5"),
        ] {
            assert_eq!(price(name), price(listed), "{name}");
            assert!(price(name).is_some(), "{name}");
        }
        assert!(price("gemini-3.7-pro").is_none() && price("gemini-internal-model").is_none());
        assert_eq!(claude_family_first("claude-sonnet-4-5"), None);
        assert_eq!(gemini_listed("gemini-3-flash-preview"), Vec::<String>::new());
        assert_eq!(gemini_listed("gemini-high"), ["gemini-high-preview"]);
    }

    #[test]
    fn qwen_models_are_priced_at_dashscopes_first_tier() {
        // tools/price-snapshot.py keeps the 0-32k tier of DashScope's
        // `tiered_pricing`: qwen3-coder-plus $1 in, $5 out, $0.10 cached.
        let book = PriceBook::embedded();
        let m = book.lookup("qwen3-coder-plus").expect("Qwen Code's model is priced");
        assert_eq!((m.price.input, m.price.output, m.price.cache_read), (1e-6, 5e-6, 1e-7));
        let cost = cost_of(&book, "qwen3-coder-plus", tokens(224, 192, 0, 0, 256), false);
        assert!(close(cost, 224e-6 + 192.0 * 5e-6 + 256e-7), "{cost}");
        assert!(book.lookup("qwen3.5-plus").is_some() && book.lookup("qwen3-coder-flash").is_some());
        // Qwen OAuth's `coder-model` has no list price.
        assert!(book.lookup("coder-model").is_none());
    }

    #[test]
    fn strip_date_suffix_only_strips_dates() {
        assert_eq!(strip_date_suffix("claude-opus-4-1-20250805"), Some("claude-opus-4-1"));
        assert_eq!(strip_date_suffix("gpt-4o-2024-08-06"), Some("gpt-4o"));
        assert_eq!(strip_date_suffix("gpt-5"), None);
        assert_eq!(strip_date_suffix("claude-3-5-sonnet"), None);
        assert_eq!(strip_date_suffix("model-1234567"), None);
    }

    #[test]
    fn override_file_wins_and_is_reported_as_the_source() {
        let t = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(t.path());
        std::fs::create_dir_all(&dirs.config).unwrap();
        std::fs::write(
            dirs.price_override_file(),
            r#"{"claude-sonnet-4-5": {"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6}}"#,
        )
        .unwrap();
        let b = PriceBook::load(&dirs).unwrap();
        let m = b.lookup("claude-sonnet-4-5-20250929").unwrap();
        assert_eq!(m.source, &PriceSource::Override);
        assert_eq!(m.price.input, 1e-6);
        // Models the override does not name still come from the snapshot.
        assert!(matches!(b.lookup("gpt-5").unwrap().source, PriceSource::Snapshot(_)));
        assert_ne!(b.fingerprint(), PriceBook::embedded().fingerprint());
    }

    #[test]
    fn malformed_override_is_an_error_naming_the_file() {
        let t = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(t.path());
        std::fs::create_dir_all(&dirs.config).unwrap();
        std::fs::write(dirs.price_override_file(), "{not json").unwrap();
        let e = PriceBook::load(&dirs).unwrap_err().to_string();
        assert!(e.contains("prices.json") && e.contains("not a valid price list"), "{e}");
    }

    #[test]
    fn imported_list_sits_between_override_and_snapshot() {
        let t = tempfile::tempdir().unwrap();
        let dirs = Dirs::under(t.path());
        let src = t.path().join("new.json");
        std::fs::write(
            &src,
            r#"{"sample_spec": {"mode": "chat"}, "brand-new-model": {"input_cost_per_token": 1e-6, "output_cost_per_token": 4e-6}}"#,
        )
        .unwrap();
        assert_eq!(import_list(&dirs, &src, "2026-11-21").unwrap(), 1);
        let b = PriceBook::load(&dirs).unwrap();
        assert_eq!(b.lookup("brand-new-model").unwrap().source, &PriceSource::Imported("2026-11-21".into()));
        assert!(b.lookup("gpt-5").is_some());
        let bad = t.path().join("bad.json");
        std::fs::write(&bad, r#"{"x": 1}"#).unwrap();
        assert!(import_list(&dirs, &bad, "2026-11-21").unwrap_err().is_usage());
    }
}
