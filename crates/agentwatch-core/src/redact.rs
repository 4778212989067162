//! Secrets on agents' command lines, taken out before anything is stored.
//!
//! People start agents as `bash -c "ANTHROPIC_API_KEY=sk-… claude"` or
//! `codex --api-key sk-…`; the command line is shown in `sessions`, returned
//! by the API and kept in the database, so the secret part becomes `***`:
//! - `NAME=value` where the name contains KEY, TOKEN, SECRET or PASSWORD
//!   (any case): `ANTHROPIC_API_KEY=***`;
//! - the value of a flag whose name ends in key, token, secret or password
//!   (`--api-key ***`, `--token=***`; `--max-tokens 8` is kept);
//! - the credentials in a URL: `https://***@host/…`.

/// What a secret is replaced with.
pub const MASK: &str = "***";

const NEEDLES: [&str; 4] = ["key", "token", "secret", "password"];

/// `argv` joined with spaces, secrets masked.
pub fn command_line(argv: &[String]) -> String {
    redact(&argv.join(" "))
}

/// `text` (a command line) with its secrets masked.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    // A flag seen last (`--api-key`): its value is the next word.
    let mut secret_flag_before = false;
    while !rest.is_empty() {
        let ws = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..ws]);
        rest = &rest[ws..];
        if rest.is_empty() {
            break;
        }
        let (word, tail) = split_word(rest);
        rest = tail;
        if secret_flag_before && !word.starts_with('-') {
            out.push_str(MASK);
            secret_flag_before = false;
            continue;
        }
        secret_flag_before = false;
        out.push_str(&redact_word(word, &mut secret_flag_before));
    }
    out
}

/// The next word (up to unquoted whitespace) and what follows it.
fn split_word(s: &str) -> (&str, &str) {
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, c) if c.is_whitespace() => return (&s[..i], &s[i..]),
            _ => {}
        }
    }
    (s, "")
}

fn redact_word(word: &str, secret_flag: &mut bool) -> String {
    // A quoted word (`"KEY=… claude"` inside `bash -c`) is a command line itself.
    if let Some(q) = word.chars().next().filter(|c| *c == '"' || *c == '\'')
        && word.len() >= 2
        && word.ends_with(q)
    {
        return format!("{q}{}{q}", redact(&word[1..word.len() - 1]));
    }
    if let Some(flag) = word.strip_prefix("--").or_else(|| word.strip_prefix('-')) {
        let (name, value) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (flag, None),
        };
        if secret_name_end(name) {
            return match value {
                Some(_) => format!("{}={MASK}", &word[..word.len() - value.map_or(0, str::len) - 1]),
                None => {
                    *secret_flag = true;
                    word.to_string()
                }
            };
        }
        return url_credentials(word);
    }
    if let Some((name, _)) = word.split_once('=')
        && is_identifier(name)
        && secret_name_within(name)
    {
        return format!("{name}={MASK}");
    }
    url_credentials(word)
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `ANTHROPIC_API_KEY`, `GH_TOKEN`, `DB_PASSWORD_FILE`: the name holds one of the needles.
fn secret_name_within(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    NEEDLES.iter().any(|k| n.contains(k))
}

/// `api-key`, `token`, `auth_token`: the flag ends in one of the needles
/// (so `max-tokens` is not a secret).
fn secret_name_end(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    NEEDLES.iter().any(|k| n.ends_with(k))
}

/// `scheme://user:pass@host…` → `scheme://***@host…`.
fn url_credentials(word: &str) -> String {
    let Some(scheme_end) = word.find("://") else { return word.to_string() };
    let after = scheme_end + 3;
    let authority_end = word[after..].find(['/', '?', '#', '"', '\'']).map_or(word.len(), |i| after + i);
    match word[after..authority_end].rfind('@') {
        Some(at) => format!("{}{MASK}{}", &word[..after], &word[after + at..]),
        None => word.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_the_rest_kept() {
        let cases = [
            ("bash -c ANTHROPIC_API_KEY=sk-ant-123 claude", "bash -c ANTHROPIC_API_KEY=*** claude"),
            (
                "bash -c \"ANTHROPIC_API_KEY=sk-ant-123 claude --resume\"",
                "bash -c \"ANTHROPIC_API_KEY=*** claude --resume\"",
            ),
            (
                "env GH_TOKEN=ghp_x OPENAI_api_key=sk-1 DB_PASSWORD=hunter2 codex",
                "env GH_TOKEN=*** OPENAI_api_key=*** DB_PASSWORD=*** codex",
            ),
            ("codex --api-key sk-1 --model gpt-5", "codex --api-key *** --model gpt-5"),
            ("codex --api-key=sk-1 --token=abc -p", "codex --api-key=*** --token=*** -p"),
            ("gemini --max-tokens 800 --auth-token t0k", "gemini --max-tokens 800 --auth-token ***"),
            ("claude --mcp https://user:pa55@example.com/mcp?x=1", "claude --mcp https://***@example.com/mcp?x=1"),
            ("git clone https://ghp_abc@github.com/o/r", "git clone https://***@github.com/o/r"),
            ("node /usr/lib/claude/cli.js --resume abc", "node /usr/lib/claude/cli.js --resume abc"),
            ("claude mailto:a@b.c https://example.com/x@y", "claude mailto:a@b.c https://example.com/x@y"),
            ("--token", "--token"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "{input}");
        }
    }

    #[test]
    fn redacting_twice_changes_nothing() {
        let once = redact("bash -c \"SECRET_X=1 claude\" --api-key k https://u:p@h/");
        assert_eq!(redact(&once), once);
        assert!(!once.contains("u:p") && !once.contains(" k ") && !once.contains("=1"), "{once}");
    }
}
