//! The crate's modules depend one way, bottom to top (README, Architecture):
//! `resp`, `glob` → `command_table`, `acl` → `config` → `core` → `commands` → `server`,
//! `links`, `runtime` → `main`, with the small helpers placed in [`LAYERS`].
//!
//! This reads every file under `src/`, drops comments and string literals, and collects
//! the top-level module each path starting with `crate::` (or `super::` climbing to the
//! crate root, or `rsentinel::` in `main.rs`) names, `use crate::{a, b}` groups included.
//! It fails on a reference from a lower layer to a higher one, on a module missing from
//! the table (a new module must be given a place), and on a cycle between modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every top-level module of `src/`, by layer; a module may use its own layer and the
/// layers below. Besides the layers named in the README: `log`, `supervise`, `tls` (the OpenSSL contexts) and `process`
/// (title, CPUs, OOM score) only read `config` (process-level helpers `commands` also
/// uses: INFO's `process_supervised`);
/// `shell` (the core behind its lock) and `state` (the shared client-side state) sit
/// between the core and the commands, which reach both; `scripts` runs the core's
/// script actions for `runtime`; `proxy` (the built-in proxy) reads the core's routing
/// views through the shell's observer and counts into `state`;
/// `metrics` (the HTTP endpoint) reads the shell and the commands' CKQUORUM, and
/// `runtime` feeds its counters.
const LAYERS: &[&[&str]] = &[
    &["resp", "glob"],
    &["command_table", "acl"],
    &["config", "log", "supervise", "tls", "process"],
    &["core"],
    &["shell", "state"],
    &["commands"],
    &["server", "links", "runtime", "scripts", "proxy", "metrics"],
    &["main", "demo"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// One reference from a file to a top-level module.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ref {
    file: String,
    line: usize,
    from: String,
    to: String,
}

/// `text` with comments and the contents of string and char literals blanked out
/// (newlines kept, so line numbers stay right).
fn code_only(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |ch: char| if ch == '\n' { '\n' } else { ' ' };
    let ident = |ch: char| ch.is_alphanumeric() || ch == '_';
    let mut i = 0;
    while i < c.len() {
        // Line comment (doc comments included).
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            while i < c.len() && c[i] != '\n' {
                out.push(' ');
                i += 1;
            }
            continue;
        }
        // Block comment, nested as Rust allows.
        if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
            continue;
        }
        // Raw string: r"..", r#".."#, br#".."# (the `r` starts a token).
        if c[i] == 'r'
            && (i == 0 || !ident(c[i - 1]) || (c[i - 1] == 'b' && (i < 2 || !ident(c[i - 2]))))
        {
            let mut j = i + 1;
            while c.get(j) == Some(&'#') {
                j += 1;
            }
            if c.get(j) == Some(&'"') {
                let hashes = j - i - 1;
                let mut k = j + 1;
                loop {
                    if k >= c.len() {
                        break;
                    }
                    if c[k] == '"' && (1..=hashes).all(|h| c.get(k + h) == Some(&'#')) {
                        k += 1 + hashes;
                        break;
                    }
                    k += 1;
                }
                out.push('r');
                for &ch in &c[i + 1..k.min(c.len())] {
                    out.push(blank(ch));
                }
                i = k;
                continue;
            }
        }
        // String literal.
        if c[i] == '"' {
            out.push(' ');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < c.len() {
                    out.push(blank(c[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
            continue;
        }
        // Char literal ('x', '\n', '\u{..}'); anything else after a quote is a lifetime.
        if c[i] == '\'' {
            let end = if c.get(i + 1) == Some(&'\\') {
                (i + 3..c.len()).find(|&k| c[k] == '\'')
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            if let Some(end) = end {
                for _ in i..=end {
                    out.push(' ');
                }
                i = end + 1;
                continue;
            }
        }
        out.push(c[i]);
        i += 1;
    }
    out
}

#[derive(Debug, PartialEq)]
enum Tok {
    Ident(String),
    Sym(char),
}

/// Identifiers and single punctuation characters, each with its line.
fn tokens(code: &str) -> Vec<(Tok, usize)> {
    let mut toks = Vec::new();
    let mut line = 1;
    let mut cur = String::new();
    for ch in code.chars() {
        if ch.is_alphanumeric() || ch == '_' {
            cur.push(ch);
            continue;
        }
        if !cur.is_empty() {
            toks.push((Tok::Ident(std::mem::take(&mut cur)), line));
        }
        if ch == '\n' {
            line += 1;
        } else if !ch.is_whitespace() {
            toks.push((Tok::Sym(ch), line));
        }
    }
    if !cur.is_empty() {
        toks.push((Tok::Ident(cur), line));
    }
    toks
}

/// The module path of a file under `src/` (`core/mod.rs` → `[core]`,
/// `commands/sentinel/set.rs` → `[commands, sentinel, set]`, `lib.rs` → `[]`).
fn module_path(rel: &str) -> Vec<String> {
    let rel = rel.strip_suffix(".rs").unwrap_or(rel);
    let mut parts: Vec<String> = rel.split('/').map(str::to_string).collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    if parts == ["lib"] {
        parts.clear();
    }
    parts
}

/// The top-level modules `text` (the file `rel` under `src/`) refers to.
fn references(rel: &str, text: &str) -> Vec<Ref> {
    let path = module_path(rel);
    let Some(from) = path.first().cloned() else {
        return Vec::new(); // lib.rs only declares the modules.
    };
    let root = if from == "main" { "rsentinel" } else { "crate" };
    let toks = tokens(&code_only(text));
    let is_sep = |k: usize| {
        toks.get(k).map(|t| &t.0) == Some(&Tok::Sym(':'))
            && toks.get(k + 1).map(|t| &t.0) == Some(&Tok::Sym(':'))
    };
    let ident = |k: usize| match toks.get(k) {
        Some((Tok::Ident(s), _)) => Some(s.as_str()),
        _ => None,
    };
    let mut refs = Vec::new();
    let mut push = |to: &str, line: usize| {
        if to != "self" && to != from {
            refs.push(Ref {
                file: rel.to_string(),
                line,
                from: from.clone(),
                to: to.to_string(),
            });
        }
    };
    let mut i = 0;
    while i < toks.len() {
        // A path continuing another one (`a::crate`) is not a root.
        let after_sep = i >= 2 && is_sep(i - 2);
        let (start, line) = match &toks[i] {
            (Tok::Ident(s), line) if !after_sep => (s.as_str(), *line),
            _ => {
                i += 1;
                continue;
            }
        };
        // Where the path after the crate root begins, if this token starts one.
        let mut at = None;
        if start == root && is_sep(i + 1) {
            at = Some(i + 3);
        } else if start == "super" && is_sep(i + 1) {
            let mut k = i;
            let mut ups = 0;
            while ident(k) == Some("super") && is_sep(k + 1) {
                ups += 1;
                k += 3;
            }
            if ups >= path.len() {
                at = Some(k);
            }
        }
        let Some(at) = at else {
            i += 1;
            continue;
        };
        if let Some(m) = ident(at) {
            push(m, line);
        } else if toks.get(at).map(|t| &t.0) == Some(&Tok::Sym('{')) {
            // `crate::{a::x, b, self}`: the first identifier of each top-level item.
            let mut depth = 0;
            let mut item_start = true;
            let mut k = at;
            while k < toks.len() {
                match &toks[k] {
                    (Tok::Sym('{'), _) => {
                        depth += 1;
                        item_start = depth == 1;
                    }
                    (Tok::Sym('}'), _) => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    (Tok::Sym(','), _) if depth == 1 => item_start = true,
                    (Tok::Ident(s), l) if depth == 1 && item_start => {
                        push(s, *l);
                        item_start = false;
                    }
                    _ => {}
                }
                k += 1;
            }
        }
        i += 1;
    }
    refs
}

/// Every problem with `files` (path under `src/`, text): upward references, modules
/// without a layer, cycles. Empty when the layering holds.
fn problems(files: &[(String, String)]) -> Vec<String> {
    let mut found = Vec::new();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, text) in files {
        let Some(module) = module_path(rel).first().cloned() else {
            continue;
        };
        if layer_of(&module).is_none() {
            found.push(format!(
                "src/{rel}: module `{module}` has no layer in LAYERS"
            ));
        }
        graph.entry(module).or_default();
        for r in references(rel, text) {
            match (layer_of(&r.from), layer_of(&r.to)) {
                (Some(lf), Some(lt)) if lt > lf => found.push(format!(
                    "src/{}:{}: `{}` (layer {lf}) refers up to `{}` (layer {lt})",
                    r.file, r.line, r.from, r.to
                )),
                (_, None) => found.push(format!(
                    "src/{}:{}: `{}` refers to `{}`, which has no layer in LAYERS",
                    r.file, r.line, r.from, r.to
                )),
                _ => {}
            }
            graph.entry(r.from).or_default().insert(r.to);
        }
    }
    if let Some(cycle) = find_cycle(&graph) {
        found.push(format!("module cycle: {}", cycle.join(" -> ")));
    }
    found
}

/// A cycle in the module graph, as the list of modules around it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = stack.iter().position(|s| s == n) {
            let mut cycle = stack[pos..].to_vec();
            cycle.push(n.to_string());
            return Some(cycle);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.to_string());
        for m in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, graph, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

fn source_files() -> Vec<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    crate::support::files_under(&src)
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .map(|p| {
            let rel = p.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
            (rel, std::fs::read_to_string(p).unwrap())
        })
        .collect()
}

#[test]
fn modules_depend_one_way() {
    let files = source_files();
    assert!(files.len() > 60, "read only {} files", files.len());
    let found = problems(&files);
    assert!(found.is_empty(), "layering broken:\n{}", found.join("\n"));
    // The scan sees the arrows that must be there (it is not blind).
    let edges: BTreeSet<(String, String)> = files
        .iter()
        .flat_map(|(rel, text)| references(rel, text))
        .map(|r| (r.from, r.to))
        .collect();
    for (from, to) in [
        ("server", "commands"),
        ("commands", "state"),
        ("commands", "core"),
        ("core", "config"),
        ("config", "resp"),
        ("acl", "command_table"),
        ("main", "server"),
    ] {
        assert!(
            edges.contains(&(from.to_string(), to.to_string())),
            "expected {from} -> {to}"
        );
    }
}

/// The checker itself: a planted upward reference in each of the forms the scan reads
/// is reported, and the same words in comments and strings are not.
#[test]
fn checker_catches_planted_violations() {
    let base = || -> Vec<(String, String)> {
        vec![
            (
                "server/mod.rs".into(),
                "use crate::commands::execute;".into(),
            ),
            ("commands/mod.rs".into(), "use crate::state::State;".into()),
        ]
    };
    assert!(problems(&base()).is_empty());
    for (file, text, wanted) in [
        (
            "commands/mod.rs",
            "use crate::server::Server;",
            "refers up to `server`",
        ),
        (
            "core/mod.rs",
            "use crate::{config::X, commands};",
            "refers up to `commands`",
        ),
        (
            "config/acl.rs",
            "fn f() { crate::server::conn::run(); }",
            "refers up to `server`",
        ),
        (
            "commands/sentinel/set.rs",
            "use super::super::super::server;",
            "refers up to `server`",
        ),
        (
            "state/hub.rs",
            "use crate::links::wire;",
            "refers up to `links`",
        ),
        (
            "resp/mod.rs",
            "let x: &'static str = crate::glob::f('a');",
            "module cycle",
        ),
        ("newmod.rs", "", "has no layer"),
        ("commands/mod.rs", "use crate::nosuch::X;", "has no layer"),
    ] {
        let mut files = base();
        files.push((file.into(), text.into()));
        if wanted == "module cycle" {
            files.push(("glob.rs".into(), "use crate::resp::Reply;".into()));
        }
        let found = problems(&files);
        assert!(
            found.iter().any(|p| p.contains(wanted)),
            "{file}: {text:?} not caught as {wanted:?}: {found:?}"
        );
    }
    for quiet in [
        "// use crate::server::Server;",
        "/* crate::server /* nested */ crate::server */",
        "/// see [`crate::server`]",
        "let s = \"crate::server::Server\";",
        "let s = r#\"crate::server \"quoted\"\"#;",
        "let c = '\"'; let s = \"crate::server\";",
        "use super::session::Session;",
        "use other::crate::server;",
    ] {
        let mut files = base();
        files.push(("commands/x.rs".into(), quiet.into()));
        assert!(
            problems(&files).is_empty(),
            "{quiet:?}: {:?}",
            problems(&files)
        );
    }
}
