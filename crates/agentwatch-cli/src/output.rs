//! Turning results into text: tables that fit 80 columns, numbers with
//! thousands separators, and JSON.

use std::io::Write;

use comfy_table::{Cell, CellAlignment, ContentArrangement, LineStyle, Table, TableStyle};

/// Lines above and below the table and under its header; no vertical rules.
const STYLE: TableStyle = TableStyle::new()
    .top_border(LineStyle::none().fill('─').junction('─'))
    .header_separator(LineStyle::none().fill('─').junction('─'))
    .bottom_border(LineStyle::none().fill('─').junction('─'));

/// The widest a table may be.
pub const MAX_WIDTH: usize = 80;

/// Writes to stdout. A closed pipe (`agentwatch … | head`) ends the program
/// quietly, as command-line tools do.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let r = out.write_all(text.as_bytes()).and_then(|_| {
        if !text.ends_with('\n') {
            out.write_all(b"\n")?;
        }
        out.flush()
    });
    if let Err(e) = r
        && e.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

pub fn emit_json<T: serde::Serialize>(v: &T) {
    emit(&serde_json::to_string_pretty(v).expect("report serializes"));
}

/// A one-line warning on stderr.
pub fn warn(msg: &str) {
    eprintln!("warning: {msg}");
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1234567` → `1.23M`.
pub fn compact(n: u64) -> String {
    let f = n as f64;
    match n {
        0..=9_999 => thousands(n),
        10_000..=999_999 => format!("{:.1}K", f / 1e3),
        1_000_000..=999_999_999 => format!("{:.2}M", f / 1e6),
        _ => format!("{:.2}B", f / 1e9),
    }
}

/// A cost in dollars, `—` when unknown.
pub fn usd(c: Option<f64>) -> String {
    match c {
        None => "—".into(),
        Some(v) if v >= 1000.0 => {
            let cents = (v * 100.0).round() as u64;
            format!("${}.{:02}", thousands(cents / 100), cents % 100)
        }
        Some(v) => format!("${v:.2}"),
    }
}

/// Bytes, briefly: `512K`, `210M`, `1.2G`.
pub fn bytes_short(n: u64) -> String {
    let f = n as f64;
    match n {
        0..=1_048_575 => format!("{}K", n / 1024),
        1_048_576..=1_073_741_823 => format!("{:.0}M", f / 1_048_576.0),
        _ => format!("{:.1}G", f / 1_073_741_824.0),
    }
}

/// `3725` seconds → `1h 02m`.
pub fn duration(secs: i64) -> String {
    let s = secs.max(0);
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    if d > 0 {
        format!("{d}d {h:02}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {:02}s", s % 60)
    } else {
        format!("{s}s")
    }
}

/// Text from an agent's files (a tool's command, a question) as it may
/// reach a terminal: control characters and bidi overrides are shown
/// escaped (`\u{1b}`), never obeyed.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if c.is_control()
                || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}') =>
            {
                c.escape_unicode().to_string()
            }
            c => c.to_string(),
        })
        .collect()
}

/// Shortens text to `max` characters, ending with `…` when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The last path component of a project, as shown in tables.
pub fn project_name(p: Option<&str>) -> String {
    match p {
        None | Some("") => "—".into(),
        Some(p) => p.trim_end_matches('/').rsplit('/').next().unwrap_or(p).to_string(),
    }
}

/// A model name as shown in tables: `claude-sonnet-4-5-20250929` → `sonnet-4-5`.
pub fn short_model(m: &str) -> String {
    let m = m.strip_prefix("claude-").unwrap_or(m);
    let b = m.as_bytes();
    if b.len() > 9 && b[b.len() - 9] == b'-' && b[b.len() - 8..].iter().all(u8::is_ascii_digit) {
        m[..m.len() - 9].to_string()
    } else {
        m.to_string()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// How a table's rows should format their cells.
pub struct Fmt {
    compact: bool,
    /// The most characters the table's flexible column (a project, a model
    /// list) may use.
    pub flex: usize,
}

impl Fmt {
    /// A token count: thousands separators, or compact when space is short.
    pub fn num(&self, n: u64) -> String {
        if self.compact { compact(n) } else { thousands(n) }
    }

    /// A cost: `$1,234.56`, or `$1.2K` when space is short.
    pub fn usd(&self, c: Option<f64>) -> String {
        match c {
            Some(v) if self.compact && v >= 1000.0 => format!("${}", compact(v.round() as u64)),
            _ => usd(c),
        }
    }
}

/// Renders a table that fits the terminal (80 columns at most): rows are
/// built with full numbers first; if too wide, with compact numbers; then
/// with the flexible column shortened step by step.
pub fn table(headers: &[(&str, Align)], build: &dyn Fn(&Fmt) -> Vec<Vec<String>>) -> String {
    let budget = budget();
    let tries = [(false, 40), (false, 24), (true, 24), (true, 18), (true, 14), (true, 11), (true, 8), (true, 6)];
    let mut out = String::new();
    for (compact, flex) in tries {
        out = render(headers, build(&Fmt { compact, flex }));
        if width_of(&out) <= budget {
            break;
        }
    }
    out
}

fn budget() -> usize {
    Table::new().width().map_or(MAX_WIDTH, |w| (w as usize).min(MAX_WIDTH))
}

fn width_of(rendered: &str) -> usize {
    rendered.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

fn render(headers: &[(&str, Align)], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_style(STYLE)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers.iter().map(|(h, a)| align(Cell::new(h), *a)));
    for row in rows {
        t.add_row(row.into_iter().zip(headers).map(|(c, (_, a))| align(Cell::new(c), *a)));
    }
    // Two spaces between columns (the padding and the empty rule), none at the edges.
    let last = headers.len().saturating_sub(1);
    for (i, col) in t.column_iter_mut().enumerate() {
        col.set_padding((0, if i == last { 0 } else { 1 }));
    }
    t.to_string()
}

fn align(c: Cell, a: Align) -> Cell {
    c.set_alignment(match a {
        Align::Left => CellAlignment::Left,
        Align::Right => CellAlignment::Right,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(compact(12_345), "12.3K");
        assert_eq!(compact(123_456_789), "123.46M");
        assert_eq!(usd(Some(1234.5)), "$1,234.50");
        assert_eq!(usd(Some(0.004)), "$0.00");
        assert_eq!(usd(None), "—");
        assert_eq!(duration(3725), "1h 02m");
        assert_eq!(duration(42), "42s");
        assert_eq!(duration(90_000), "1d 01h");
        assert_eq!(bytes_short(220 * 1_048_576), "220M");
        assert_eq!(bytes_short(1_288_490_189), "1.2G");
    }

    #[test]
    fn names_are_shortened_for_tables() {
        assert_eq!(short_model("claude-sonnet-4-5-20250929"), "sonnet-4-5");
        assert_eq!(short_model("gpt-5-codex"), "gpt-5-codex");
        assert_eq!(project_name(Some("/home/u/web-app/")), "web-app");
        assert_eq!(truncate("abcdef", 4), "abc…");
    }

    #[test]
    fn wide_tables_fall_back_to_compact_numbers() {
        let headers = [("A", Align::Left), ("B", Align::Right), ("C", Align::Right), ("D", Align::Right)];
        let big = 123_456_789_012u64;
        let out = table(&headers, &|f| vec![vec!["row".into(), f.num(big), f.num(big), f.num(big)]; 2]);
        assert!(width_of(&out) <= MAX_WIDTH, "{out}");
        let wide = table(&[("A", Align::Left), ("B", Align::Right)], &|f| vec![vec!["x".into(), f.num(1_234_567)]]);
        assert!(wide.contains("1,234,567"));
        // A long flexible column is shortened until the table fits.
        let long = "p".repeat(60);
        let t =
            table(&[("Project", Align::Left), ("N", Align::Right)], &|f| vec![vec![truncate(&long, f.flex), f.num(5)]]);
        assert!(width_of(&t) <= MAX_WIDTH && t.contains('…'), "{t}");
    }
}
