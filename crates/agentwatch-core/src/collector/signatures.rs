//! Recognising agents among processes. The table is data
//! (`signatures.toml`, extensible from `config.toml`); this module only
//! interprets it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const BUILTIN: &str = include_str!("signatures.toml");

/// How to recognise one agent. See `signatures.toml` for the meaning of each
/// list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    pub agent: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exe_paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scripts: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_subcommands: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_names: Vec<String>,
}

impl Signature {
    pub fn validate(&self) -> Result<()> {
        if self.agent.trim().is_empty() {
            return Err(Error::Usage("a signature needs an agent id".into()));
        }
        if self.names.is_empty() && self.exe_paths.is_empty() && self.scripts.is_empty() && self.packages.is_empty() {
            return Err(Error::Usage(format!(
                "signature '{}' matches nothing: give names, exe_paths, scripts or packages",
                self.agent
            )));
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct File {
    signature: Vec<Signature>,
}

/// The signatures in use: the user's first, then the built-in ones.
#[derive(Debug, Clone)]
pub struct Signatures {
    list: Vec<Signature>,
}

/// Shells whose `-c` command is looked into.
const SHELLS: &[&str] = &["sh", "bash", "dash", "zsh", "fish"];
/// Interpreters that run a script given as their first argument.
const INTERPRETERS: &[&str] = &["node", "nodejs", "bun", "deno", "tsx", "ts-node", "pypy3"];
/// Programs that run a package by name.
const RUNNERS: &[&str] = &["npx", "bunx", "pnpx", "uvx"];
/// Interpreter options that take the next argument as their value.
const OPTS_WITH_VALUE: &[&str] =
    &["-r", "--require", "--import", "--loader", "--experimental-loader", "-X", "-W", "--title"];

impl Signatures {
    pub fn builtin() -> Signatures {
        let f: File = toml::from_str(BUILTIN).expect("built-in signatures are valid");
        Signatures { list: f.signature }
    }

    /// The built-in table extended by the user's signatures, which are
    /// tried first.
    pub fn with_user(user: &[Signature]) -> Signatures {
        let mut list = user.to_vec();
        list.extend(Signatures::builtin().list);
        Signatures { list }
    }

    pub fn list(&self) -> &[Signature] {
        &self.list
    }

    /// Whether a command line is a shell running a `-c` command (`bash -c
    /// "claude; echo done"`). Such a shell is never itself the agent: its
    /// child is, and the session follows the child (the shell may live on
    /// after the agent exits).
    pub fn is_shell_wrapper(cmd: &[String]) -> bool {
        cmd.first().is_some_and(|a| SHELLS.contains(&basename(a)))
            && cmd[1..].iter().any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('c'))
    }

    /// The agent a process runs, if any. `cmd` is its argv, `exe` its
    /// executable's path.
    pub fn classify(&self, cmd: &[String], exe: Option<&str>) -> Option<&str> {
        let target = see_through(cmd, 0)?;
        let argv0 = cmd.first().map(|a| basename(a)).unwrap_or("");
        let exe_name = exe.map(basename).unwrap_or("");
        let program_name = basename(&target.program);
        for sig in &self.list {
            let names = [argv0, exe_name, program_name];
            if names.iter().any(|n| sig.exclude_names.iter().any(|x| x == n)) {
                continue;
            }
            let named = names.iter().any(|n| !n.is_empty() && sig.names.iter().any(|x| x == n));
            let by_exe = exe.is_some_and(|e| sig.exe_paths.iter().any(|p| e.contains(p.as_str())));
            let by_script = target.script && sig.scripts.iter().any(|s| target.program.contains(s.as_str()));
            let by_package = target.package.as_deref().is_some_and(|p| sig.packages.iter().any(|x| x == p));
            if !(named || by_exe || by_script || by_package) {
                continue;
            }
            let args = &target.args;
            let first_positional = args.iter().find(|a| !a.starts_with('-'));
            let sub = |a: Option<&String>| a.is_some_and(|a| sig.exclude_subcommands.contains(a));
            if sub(args.first()) || sub(first_positional) {
                return None;
            }
            if args.iter().any(|a| sig.exclude_flags.contains(a)) {
                return None;
            }
            return Some(&sig.agent);
        }
        None
    }
}

/// What a command line runs once wrappers are set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    /// The program or script path.
    program: String,
    /// Whether `program` is a script run by an interpreter.
    script: bool,
    /// The package a runner (npx, uvx, python -m …) runs.
    package: Option<String>,
    /// The arguments after the program.
    args: Vec<String>,
}

fn basename(p: &str) -> &str {
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

/// `python3.11` → true for "python".
fn is_python(name: &str) -> bool {
    name.strip_prefix("python").is_some_and(|v| v.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// `@openai/codex@0.50.0` → `@openai/codex`; `aider-chat==0.86` → `aider-chat`.
fn package_name(spec: &str) -> String {
    let spec = spec.split("==").next().unwrap_or(spec);
    match spec.strip_prefix('@') {
        Some(rest) => format!("@{}", rest.split('@').next().unwrap_or(rest)),
        None => spec.split('@').next().unwrap_or(spec).to_string(),
    }
}

fn see_through(cmd: &[String], depth: usize) -> Option<Target> {
    let first = cmd.first()?;
    let name = basename(first);
    let rest = &cmd[1..];
    if depth > 4 {
        return None;
    }
    // env [VAR=value …] program args
    if name == "env" {
        let i = rest.iter().position(|a| !a.starts_with('-') && !a.contains('='))?;
        return see_through(&rest[i..], depth + 1);
    }
    if SHELLS.contains(&name) {
        let c = rest.iter().position(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('c'));
        if let Some(i) = c {
            let words = shell_words(rest.get(i + 1)?)?;
            let start = words.iter().position(|w| w != "exec" && !is_assignment(w))?;
            return see_through(&words[start..], depth + 1);
        }
        return Some(Target { program: first.clone(), script: false, package: None, args: rest.to_vec() });
    }
    if RUNNERS.contains(&name) {
        return runner(rest);
    }
    if matches!(name, "pnpm" | "yarn" | "npm" | "bun")
        && matches!(rest.first().map(String::as_str), Some("dlx" | "exec" | "x"))
    {
        return runner(&rest[1..]);
    }
    if name == "pipx" && rest.first().map(String::as_str) == Some("run") {
        return runner(&rest[1..]);
    }
    let python = is_python(name);
    if INTERPRETERS.contains(&name) || python {
        let mut i = 0;
        // `deno run`, `bun run`
        if matches!(name, "deno" | "bun") && rest.first().map(String::as_str) == Some("run") {
            i = 1;
        }
        while i < rest.len() {
            let a = rest[i].as_str();
            if python && a == "-m" {
                let module = rest.get(i + 1)?;
                return Some(Target {
                    program: module.clone(),
                    script: false,
                    package: Some(module.clone()),
                    args: rest[i + 2..].to_vec(),
                });
            }
            if matches!(a, "-e" | "--eval" | "-c" | "-p" | "--print") {
                return None; // inline code, not a program
            }
            if a == "--" {
                i += 1;
                break;
            }
            if !a.starts_with('-') {
                break;
            }
            i += if OPTS_WITH_VALUE.contains(&a) { 2 } else { 1 };
        }
        let script = rest.get(i)?;
        return Some(Target { program: script.clone(), script: true, package: None, args: rest[i + 1..].to_vec() });
    }
    Some(Target { program: first.clone(), script: false, package: None, args: rest.to_vec() })
}

/// npx [-y] [--package=…] pkg args
fn runner(rest: &[String]) -> Option<Target> {
    let mut i = 0;
    while i < rest.len() && rest[i].starts_with('-') {
        i += if matches!(rest[i].as_str(), "-p" | "--package" | "--from") { 2 } else { 1 };
    }
    let spec = rest.get(i)?;
    Some(Target {
        program: spec.clone(),
        script: false,
        package: Some(package_name(spec)),
        args: rest[i + 1..].to_vec(),
    })
}

fn is_assignment(w: &str) -> bool {
    w.split_once('=').is_some_and(|(k, _)| !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// Splits a simple shell command into words: quotes and backslashes are
/// honoured; the first command ends at `;`, `&`, `|` or a newline. Returns
/// `None` for anything needing a real shell to understand (expansions).
fn shell_words(s: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    cur.push(c);
                }
            }
            '"' => {
                in_word = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => cur.extend(chars.next()),
                        '$' | '`' => return None,
                        c => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.extend(chars.next());
            }
            ';' | '&' | '|' | '\n' => break,
            '$' | '`' | '(' | ')' | '<' | '>' => return None,
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    (!words.is_empty()).then_some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    fn which(cmd: &str, exe: Option<&str>) -> Option<String> {
        Signatures::builtin().classify(&argv(cmd), exe).map(str::to_string)
    }

    #[test]
    fn claude_code_in_its_shapes() {
        assert_eq!(which("claude", Some("/home/u/.local/share/claude/versions/2.0.14")), Some("claude-code".into()));
        assert_eq!(
            which("claude --continue", Some("/usr/lib/node_modules/@anthropic-ai/claude-code/bin/claude.exe")),
            Some("claude-code".into())
        );
        assert_eq!(
            which("node /usr/lib/node_modules/@anthropic-ai/claude-code/cli.js", Some("/usr/bin/node")),
            Some("claude-code".into())
        );
        assert_eq!(
            which("/opt/weird/2.0.14 --resume abc", Some("/home/u/.local/share/claude/versions/2.0.14")),
            Some("claude-code".into())
        );
        assert_eq!(which("npx -y @anthropic-ai/claude-code@latest", Some("/usr/bin/node")), Some("claude-code".into()));
    }

    #[test]
    fn codex_wrapper_and_vendored_binary() {
        assert_eq!(
            which("node /u/lib/node_modules/@openai/codex/bin/codex.js", Some("/usr/bin/node")),
            Some("codex".into())
        );
        assert_eq!(
            which(
                "/u/lib/node_modules/@openai/codex/vendor/x86_64-unknown-linux-musl/codex/codex",
                Some("/u/lib/node_modules/@openai/codex/vendor/x86_64-unknown-linux-musl/codex/codex")
            ),
            Some("codex".into())
        );
        assert_eq!(which("codex exec fix-the-tests", None), Some("codex".into()));
    }

    #[test]
    fn gemini_reexecutes_itself_under_node() {
        assert_eq!(
            which("node /u/lib/node_modules/@google/gemini-cli/dist/index.js", Some("/usr/bin/node")),
            Some("gemini-cli".into())
        );
        assert_eq!(
            which("node --max-old-space-size=8192 /u/bin/gemini", Some("/usr/bin/node")),
            Some("gemini-cli".into())
        );
        assert_eq!(which("gemini", None), Some("gemini-cli".into()));
    }

    #[test]
    fn the_other_agents() {
        assert_eq!(which("opencode", None), Some("opencode".into()));
        assert_eq!(
            which("python3.11 /home/u/.local/bin/aider --model x", Some("/usr/bin/python3.11")),
            Some("aider".into())
        );
        assert_eq!(which("python -m aider", None), Some("aider".into()));
        assert_eq!(which("uvx --from aider-chat==0.86 aider", None), Some("aider".into()));
        assert_eq!(which("goose session", None), Some("goose".into()));
        assert_eq!(
            which("/Applications/Goose.app/Contents/Resources/bin/goosed agent", None),
            Some("goose".into()),
            "Goose Desktop's agent server"
        );
        assert_eq!(which("goosed --version", None), None);
        assert_eq!(which("amp", None), Some("amp".into()));
        assert_eq!(which("cursor-agent", None), Some("cursor-agent".into()));
        assert_eq!(
            which("node /u/lib/node_modules/@github/copilot/index.js", Some("/usr/bin/node")),
            Some("copilot".into())
        );
        assert_eq!(
            which("bun run /x/node_modules/@sourcegraph/amp/dist/main.js", Some("/usr/bin/bun")),
            Some("amp".into())
        );
        assert_eq!(which("deno run -A /x/opencode-ai/bin/opencode", None), Some("opencode".into()));
        assert_eq!(which("pnpm dlx @openai/codex", None), Some("codex".into()));
        assert_eq!(which("node /x/node_modules/.bin/qwen", None), Some("qwen-code".into()));
        assert_eq!(which("node /x/@qwen-code/qwen-code/cli.js --version", None), None);
        assert_eq!(which("kilo", None), Some("kilo".into()));
        assert_eq!(which("node /x/node_modules/@kilocode/cli/bin/kilo run hi", None), Some("kilo".into()));
        assert_eq!(which("kilo serve --port 4096", None), None);
        assert_eq!(which("/home/u/.local/bin/droid", Some("/home/u/.factory/bin/droid")), Some("droid".into()));
        assert_eq!(which("npx droid", None), Some("droid".into()));
        assert_eq!(which("droid --version", None), None);
        assert_eq!(which("node /u/lib/node_modules/@moonshot-ai/kimi-code/dist/main.mjs", None), Some("kimi".into()));
        assert_eq!(which("/home/u/.local/bin/kimi", Some("/usr/bin/python3.13")), Some("kimi".into()));
        assert_eq!(which("uvx kimi-cli", None), Some("kimi".into()));
        assert_eq!(
            which("node /u/lib/node_modules/@mariozechner/pi-coding-agent/dist/cli.js", None),
            Some("pi".into())
        );
        assert_eq!(which("npx @mariozechner/pi-coding-agent", None), Some("pi".into()));
        assert_eq!(which("pi install npm:pi-skills", None), None);
        assert_eq!(which("node /u/lib/node_modules/openclaw/openclaw.mjs gateway", None), Some("openclaw".into()));
        assert_eq!(which("openclaw tui", None), Some("openclaw".into()));
        assert_eq!(which("openclaw doctor", None), None);
        assert_eq!(which("node /u/lib/node_modules/codebuff/index.js", None), Some("codebuff".into()));
        assert_eq!(which("/home/u/.config/manicode/codebuff", None), Some("codebuff".into()));
        assert_eq!(which("codebuff --version", None), None);
        assert_eq!(
            which("/home/u/.hermes/hermes-agent/venv/bin/hermes", Some("/usr/bin/python3.12")),
            Some("hermes".into())
        );
        assert_eq!(which("uvx hermes-agent", None), Some("hermes".into()));
        assert_eq!(which("hermes gateway", None), None);
        assert_eq!(which("node /u/lib/node_modules/cline/bin/cline", Some("/usr/bin/node")), Some("cline".into()));
        assert_eq!(
            which("/u/lib/node_modules/cline/bin/.cline --model x", Some("/u/lib/node_modules/cline/bin/.cline")),
            Some("cline".into())
        );
        assert_eq!(which("/u/lib/node_modules/cline/bin/.cline --cline-hub-daemon --port 4000", None), None);
        assert_eq!(which("cline hub start", None), None);
        assert_eq!(which("node /u/lib/node_modules/@roo-code/cli/dist/index.js", None), Some("roo-code".into()));
        assert_eq!(which("roo auth login", None), None);
        assert_eq!(which("/usr/share/antigravity/antigravity", None), Some("antigravity".into()));
        assert_eq!(which("/Applications/Antigravity.app/Contents/MacOS/Antigravity", None), Some("antigravity".into()));
        assert_eq!(which("agy", None), Some("antigravity".into()));
        assert_eq!(which("/usr/share/antigravity/antigravity --type=renderer --lang=en-US", None), None);
        assert_eq!(which("/usr/share/antigravity/antigravity --type=zygote --no-zygote-sandbox", None), None);
    }

    #[test]
    fn crush_but_not_its_other_commands() {
        assert_eq!(which("crush", Some("/home/u/go/bin/crush")), Some("crush".into()));
        assert_eq!(which("crush --yolo -c /home/u/proj", None), Some("crush".into()));
        assert_eq!(which("crush run fix the tests", None), Some("crush".into()));
        assert_eq!(which("crush server", None), None);
        assert_eq!(which("crush stats", None), None);
    }

    #[test]
    fn cursors_agent_under_either_name_by_its_install_path() {
        let versions = "/home/u/.local/share/cursor-agent/versions/2026.09.15-d2fe57e";
        let node = format!("{versions}/node");
        let run = format!("{node} --use-system-ca {versions}/index.js");
        assert_eq!(which(&run, Some(&node)), Some("cursor-agent".into()));
        assert_eq!(which("agent -p fix", Some(&node)), Some("cursor-agent".into()));
        assert_eq!(which("cursor-agent resume", None), Some("cursor-agent".into()));
        assert_eq!(which("agent", Some("/usr/local/bin/agent")), None, "another program named agent");
        assert_eq!(which("agent ls", Some(&node)), None);
    }

    #[test]
    fn wrappers_are_seen_through() {
        assert_eq!(
            Signatures::builtin().classify(
                &["sh".into(), "-c".into(), "exec node /x/@openai/codex/bin/codex.js --full-auto".into()],
                None
            ),
            Some("codex")
        );
        assert_eq!(
            Signatures::builtin().classify(&["bash".into(), "-lc".into(), "FOO=1 claude".into()], None),
            Some("claude-code")
        );
        assert_eq!(which("env TERM=xterm claude", None), Some("claude-code".into()));
        // A shell running something else, or needing expansion, is not an agent.
        assert_eq!(
            Signatures::builtin()
                .classify(&["bash".into(), "-c".into(), "eval \"$(cat snap)\" && claude -p hi".into()], None),
            None
        );
        assert_eq!(Signatures::builtin().classify(&["bash".into(), "-c".into(), "cargo test".into()], None), None);
        assert_eq!(which("node -e console.log(1)", None), None);
        assert!(Signatures::is_shell_wrapper(&["/bin/bash".into(), "-c".into(), "claude; echo done".into()]));
        assert!(Signatures::is_shell_wrapper(&["sh".into(), "-lc".into(), "codex".into()]));
        assert!(!Signatures::is_shell_wrapper(&["bash".into(), "script.sh".into()]));
        assert!(!Signatures::is_shell_wrapper(&["claude".into(), "-c".into()]));
    }

    #[test]
    fn invocations_that_are_not_sessions() {
        assert_eq!(which("claude --version", None), None);
        assert_eq!(which("claude mcp serve", None), None);
        assert_eq!(which("claude-code-acp", None), None);
        assert_eq!(
            which("node /x/node_modules/@zed-industries/claude-code-acp/dist/index.js", Some("/usr/bin/node")),
            None
        );
        assert_eq!(which("codex app-server", None), None);
        assert_eq!(which("/x/@openai/codex/vendor/x86_64-unknown-linux-musl/codex/codex mcp-server", None), None);
        assert_eq!(which("gemini --help", None), None);
        // Claude Code's auto-updater, a child of the session.
        assert_eq!(
            which(
                "node /usr/lib/node_modules/npm/bin/npm-cli.js install -g @anthropic-ai/claude-code@2.0.15",
                Some("/usr/bin/node")
            ),
            None
        );
        assert_eq!(which("npm install -g @anthropic-ai/claude-code@latest", None), None);
        // MCP servers an agent spawns.
        assert_eq!(which("npx -y @modelcontextprotocol/server-filesystem /home/u", None), None);
        assert_eq!(which("vim claude.md", None), None);
    }

    #[test]
    fn user_signatures_come_first_and_are_checked() {
        let mine = Signature { agent: "my-bot".into(), names: vec!["mybot".into()], ..Default::default() };
        let s = Signatures::with_user(&[mine]);
        assert_eq!(s.classify(&argv("mybot run"), None), Some("my-bot"));
        assert_eq!(s.classify(&argv("claude"), None), Some("claude-code"));
        assert!(Signature { agent: "x".into(), ..Default::default() }.validate().is_err());
    }

    #[test]
    fn shell_words_handles_quotes_and_stops_at_the_first_command() {
        assert_eq!(
            shell_words(r#"claude "fix the bug" 'now'; rm -rf x"#).unwrap(),
            vec!["claude", "fix the bug", "now"]
        );
        assert_eq!(shell_words(r#"a\ b c"#).unwrap(), vec!["a b", "c"]);
        assert!(shell_words("echo $(whoami)").is_none());
        assert_eq!(package_name("@openai/codex@0.50.0"), "@openai/codex");
        assert_eq!(package_name("aider-chat==0.86"), "aider-chat");
        assert_eq!(package_name("opencode-ai@latest"), "opencode-ai");
    }
}
