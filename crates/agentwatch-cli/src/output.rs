//! Turning results into text: tables that fit the terminal, numbers with
//! thousands separators, and JSON. Everything a person reads passes through
//! here, and text from agents' files is shown escaped, never obeyed.

use std::io::{IsTerminal, Write};

use comfy_table::{Cell, CellAlignment, ContentArrangement, LineStyle, Table, TableStyle};

/// Lines above and below the table and under its header; no vertical rules.
const STYLE: TableStyle = TableStyle::new()
    .top_border(LineStyle::none().fill('─').junction('─'))
    .header_separator(LineStyle::none().fill('─').junction('─'))
    .bottom_border(LineStyle::none().fill('─').junction('─'));

/// The width tables lay out for when stdout is not a terminal.
pub const MAX_WIDTH: usize = 80;

/// Writes text for a person to stdout, control and bidi characters escaped
/// (newlines and tabs kept).
pub fn emit(text: &str) {
    write_out(&printable_text(text));
}

/// Writes JSON to stdout (serde escapes control characters itself).
pub fn emit_json<T: serde::Serialize>(v: &T) {
    write_out(&serde_json::to_string_pretty(v).expect("report serializes"));
}

/// A closed pipe (`agentwatch … | head`) ends the program quietly, as
/// command-line tools do; any other failure (a full disk) is an error: the
/// output is incomplete.
fn write_out(text: &str) {
    let mut out = std::io::stdout().lock();
    let r = out.write_all(text.as_bytes()).and_then(|_| {
        if !text.ends_with('\n') {
            out.write_all(b"\n")?;
        }
        out.flush()
    });
    match r {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("agentwatch: cannot write output: {e}");
            std::process::exit(1);
        }
    }
}

/// A one-line warning on stderr.
pub fn warn(msg: &str) {
    eprintln!("warning: {}", printable(msg));
}

/// Whether stderr may be coloured: a terminal, and `NO_COLOR` unset
/// (<https://no-color.org>).
pub fn color_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
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

/// Text from an agent's files (a tool's command, a question, a path) as it
/// may reach a terminal: control characters and bidi overrides are shown
/// escaped (`\u{1b}`), never obeyed.
pub fn printable(s: &str) -> String {
    escape(s, |_| false)
}

/// [`printable`] for whole blocks of output: newlines and tabs are kept.
pub fn printable_text(s: &str) -> String {
    escape(s, |c| c == '\n' || c == '\t')
}

fn escape(s: &str, keep: impl Fn(char) -> bool) -> String {
    let unsafe_char = |c: char| {
        !keep(c)
            && (c.is_control()
                || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
    };
    if !s.chars().any(unsafe_char) {
        return s.to_string();
    }
    s.chars().map(|c| if unsafe_char(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect()
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

/// A path shortened to `max` characters in its middle, so that its start
/// (`~`) and its telling end stay: `~/.local/share/goose/sessions` →
/// `~/…/goose/sessions`; a path that has no room for that loses its start.
pub fn truncate_path(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let (head, rest) = match s.split_once('/') {
        Some((h, r)) => (h, r),
        None => return truncate(s, max),
    };
    let parts: Vec<&str> = rest.split('/').collect();
    // Two folders at least: one says too little (`~/…/sessions`).
    for keep in (2..parts.len()).rev() {
        let out = format!("{head}/…/{}", parts[parts.len() - keep..].join("/"));
        if out.chars().count() <= max {
            return out;
        }
    }
    let chars: Vec<char> = s.chars().collect();
    let tail: String = chars[chars.len().saturating_sub(max.saturating_sub(1))..].iter().collect();
    format!("…{tail}")
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

/// Marks a token count whose unit the table picks for its whole column.
const NUM: char = '\u{e000}';

impl Fmt {
    /// A token count: thousands separators, or, when space is short, one
    /// compact unit for the whole column (`1.82K` never beside `101.92M`).
    pub fn num(&self, n: u64) -> String {
        if self.compact { format!("{NUM}{n}") } else { thousands(n) }
    }
}

/// Columns a table may leave out, in this order, when even compact numbers
/// do not fit the terminal (the note under the table names them).
const OPTIONAL: [&str; 6] = ["Cache\nWrite", "Cache\nRead", "Input", "Output", "Last\nactive", "Agent"];

/// Renders a table that fits the terminal (its width on a terminal, 80
/// columns otherwise): rows are built with full numbers first; if too wide,
/// with compact numbers; then with the flexible column shortened step by
/// step; then without the optional columns.
pub fn table(headers: &[(&str, Align)], build: &dyn Fn(&Fmt) -> Vec<Vec<String>>) -> String {
    let budget = budget();
    let tries = [(false, 40), (false, 24), (true, 24), (true, 18), (true, 14), (true, 11), (true, 8), (true, 6)];
    let mut out = String::new();
    for (compact, flex) in tries {
        out = render(headers, build(&Fmt { compact, flex }), &[]);
        if width_of(&out) <= budget {
            return out;
        }
    }
    let rows = build(&Fmt { compact: true, flex: 6 });
    let mut hidden: Vec<usize> = Vec::new();
    for name in OPTIONAL {
        let Some(i) = headers.iter().position(|(h, _)| *h == name) else { continue };
        hidden.push(i);
        out = render(headers, rows.clone(), &hidden);
        if width_of(&out) <= budget {
            break;
        }
    }
    if !hidden.is_empty() {
        let names: Vec<String> = hidden.iter().map(|&i| headers[i].0.replace('\n', " ")).collect();
        let note = format!("({} left out to fit {budget} columns; --format json has every field)", names.join(", "));
        out.push('\n');
        out.push_str(&wrap(&note, budget));
    }
    out
}

/// Text broken between words into lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines.join("\n")
}

/// The terminal's width when stdout is one, else [`MAX_WIDTH`].
fn budget() -> usize {
    if !std::io::stdout().is_terminal() {
        return MAX_WIDTH;
    }
    Table::new().width().map_or(MAX_WIDTH, |w| (w as usize).max(20))
}

fn width_of(rendered: &str) -> usize {
    rendered.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// Gives each column of compact counts one unit, chosen by its largest.
fn resolve_units(rows: &mut [Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let count = |c: &str| c.strip_prefix(NUM).and_then(|n| n.parse::<u64>().ok());
    for col in 0..cols {
        let max = rows.iter().filter_map(|r| r.get(col)).filter_map(|c| count(c)).max();
        let Some(max) = max else { continue };
        let (div, unit, places) = match max {
            0..=9_999 => (1.0, "", 0),
            10_000..=999_999 => (1e3, "K", 1),
            1_000_000..=999_999_999 => (1e6, "M", 2),
            _ => (1e9, "B", 2),
        };
        for cell in rows.iter_mut().filter_map(|r| r.get_mut(col)) {
            if let Some(n) = count(cell) {
                *cell = if unit.is_empty() { thousands(n) } else { format!("{:.*}{unit}", places, n as f64 / div) };
            }
        }
    }
}

fn render(headers: &[(&str, Align)], mut rows: Vec<Vec<String>>, hidden: &[usize]) -> String {
    resolve_units(&mut rows);
    let shown = |i: &usize| !hidden.contains(i);
    let mut t = Table::new();
    t.load_style(STYLE)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers.iter().enumerate().filter(|(i, _)| shown(i)).map(|(_, (h, a))| align(Cell::new(h), *a)));
    for row in rows {
        t.add_row(
            row.into_iter()
                .zip(headers)
                .enumerate()
                .filter(|(i, _)| shown(i))
                .map(|(_, (c, (_, a)))| align(Cell::new(printable(&c)), *a)),
        );
    }
    // Two spaces between columns (the padding and the empty rule), none at the edges.
    let last = headers.len().saturating_sub(1 + hidden.len());
    for (i, col) in t.column_iter_mut().enumerate() {
        col.set_padding((0, if i == last { 0 } else { 1 }));
    }
    // No padding after a row's last cell.
    t.to_string().lines().map(str::trim_end).collect::<Vec<_>>().join("\n")
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
    fn a_path_keeps_its_start_and_its_end() {
        assert_eq!(truncate_path("~/.local/share/goose/sessions", 40), "~/.local/share/goose/sessions");
        assert_eq!(truncate_path("~/.local/share/goose/sessions", 20), "~/…/goose/sessions");
        assert_eq!(truncate_path("~/.local/share/opencode", 18), "~/…/share/opencode");
        assert_eq!(truncate_path("~/.local/share/opencode", 12), "…re/opencode");
        assert_eq!(truncate_path("~/.factory/sessions", 18), "….factory/sessions");
        assert_eq!(truncate_path("~/a-very-long-folder-name", 10), "…lder-name");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
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

    #[test]
    fn a_column_of_compact_numbers_shares_one_unit() {
        let mut rows = vec![
            vec!["a".to_string(), format!("{NUM}1824"), format!("{NUM}12345")],
            vec!["b".to_string(), format!("{NUM}101920000"), format!("{NUM}999")],
        ];
        resolve_units(&mut rows);
        assert_eq!(rows[0][1..], ["0.00M".to_string(), "12.3K".to_string()][..]);
        assert_eq!(rows[1][1..], ["101.92M".to_string(), "1.0K".to_string()][..]);
        let mut small = vec![vec![format!("{NUM}1824")]];
        resolve_units(&mut small);
        assert_eq!(small[0][0], "1,824");
    }

    #[test]
    fn a_table_too_wide_even_compact_leaves_out_optional_columns_and_says_so() {
        let headers: Vec<(&str, Align)> = [("Project", Align::Left), ("Agent", Align::Left), ("Input", Align::Right)]
            .into_iter()
            .chain(["Output", "Cache\nWrite", "Cache\nRead", "Total"].map(|h| (h, Align::Right)))
            .collect();
        let t = table(&headers, &|f| {
            vec![
                vec!["p".repeat(30), "claude-code-agent".into()]
                    .into_iter()
                    .chain((0..5).map(|_| f.num(123_456_789_012)))
                    .collect(),
            ]
        });
        assert!(width_of(&t) <= MAX_WIDTH, "{t}");
        assert!(t.contains("left out to fit 80 columns"), "{t}");
        assert!(t.contains("Cache Write") && !t.lines().next().unwrap().contains("Cache"), "{t}");
        assert!(t.contains("Project") && t.contains("Total"), "{t}");
    }

    #[test]
    fn control_and_bidi_characters_are_shown_escaped() {
        assert_eq!(printable("a\u{1b}]0;pwned\u{7}b"), "a\\u{1b}]0;pwned\\u{7}b");
        assert_eq!(printable("x\u{202e}y\nz"), "x\\u{202e}y\\u{a}z");
        assert_eq!(printable_text("line 1\n\tline 2\u{1b}[2J"), "line 1\n\tline 2\\u{1b}[2J");
        assert_eq!(printable("plain"), "plain");
    }
}
