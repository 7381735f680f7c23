//! The generator of `src/command_table/data.rs`: asks a running real redis-sentinel for
//! `COMMAND` and `COMMAND DOCS` over RESP3 (so sets, maps and simple strings keep their
//! types) and renders the table, formatted by rustfmt.
//!
//! * Check: `cargo test --test integration command_table -- --ignored` fails with the
//!   first differing lines if the checked-in table is not what the installed
//!   `redis-sentinel` reports.
//! * Refresh (e.g. for a newer Redis): the same with `REGENERATE_TABLE=1`, which rewrites
//!   the file instead; review the diff, then run the suite.
//!
//! Redis lists commands in its dict's hash order, which is seeded per process, so a
//! fresh capture comes in a different order every run. Clients never rely on it but
//! byte-for-byte comparisons with the golden captures do: the generator keeps the order
//! of the checked-in table and appends what is new in the order this run reported.

use crate::harness::*;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A RESP3 value, with the types the table keeps apart.
#[derive(Debug, Clone)]
enum Node {
    Bulk(String),
    Simple(String),
    Int(i64),
    Array(Vec<Node>),
    Set(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Null,
}

impl Node {
    fn text(&self) -> &str {
        match self {
            Node::Bulk(s) | Node::Simple(s) => s,
            other => panic!("not a string: {other:?}"),
        }
    }

    fn items(&self) -> &[Node] {
        match self {
            Node::Array(v) | Node::Set(v) => v,
            other => panic!("not a list: {other:?}"),
        }
    }

    fn int(&self) -> i64 {
        match self {
            Node::Int(i) => *i,
            other => panic!("not an integer: {other:?}"),
        }
    }

    fn get(&self, key: &str) -> Option<&Node> {
        let Node::Map(pairs) = self else {
            panic!("not a map: {self:?}")
        };
        pairs.iter().find(|(k, _)| k.text() == key).map(|(_, v)| v)
    }
}

/// One RESP3 value at `pos` of a complete reply; returns it and where the next starts.
fn node(b: &[u8], pos: usize) -> (Node, usize) {
    let nl = pos + b[pos..].windows(2).position(|w| w == b"\r\n").unwrap();
    let line = std::str::from_utf8(&b[pos + 1..nl]).unwrap();
    let next = nl + 2;
    let count = || line.parse::<usize>().unwrap();
    let list = |n: usize| {
        let mut p = next;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let (x, q) = node(b, p);
            v.push(x);
            p = q;
        }
        (v, p)
    };
    match b[pos] {
        b'$' => {
            let n = count();
            let s = String::from_utf8(b[next..next + n].to_vec()).unwrap();
            (Node::Bulk(s), next + n + 2)
        }
        b'+' => (Node::Simple(line.to_string()), next),
        b':' => (Node::Int(line.parse().unwrap()), next),
        b'_' => (Node::Null, next),
        b'*' => {
            let (v, p) = list(count());
            (Node::Array(v), p)
        }
        b'~' => {
            let (v, p) = list(count());
            (Node::Set(v), p)
        }
        b'%' => {
            let (v, p) = list(count() * 2);
            let mut it = v.into_iter();
            let mut pairs = Vec::new();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            (Node::Map(pairs), p)
        }
        t => panic!("unexpected RESP3 type {}", t as char),
    }
}

fn parse(b: &[u8]) -> Node {
    let (n, used) = node(b, 0);
    assert_eq!(used, b.len(), "one reply");
    n
}

/// A `Doc` expression (see `command_table::Doc`).
fn doc(n: &Node) -> String {
    let list = |v: &[Node]| v.iter().map(doc).collect::<Vec<_>>().join(", ");
    match n {
        Node::Bulk(s) => format!("B({s:?})"),
        Node::Simple(s) => format!("S({s:?})"),
        Node::Int(i) => format!("I({i})"),
        Node::Array(v) => format!("A(&[{}])", list(v)),
        Node::Set(v) => format!("T(&[{}])", list(v)),
        Node::Map(pairs) => format!("M(&[{}])", doc_pairs(pairs)),
        Node::Null => panic!("null inside COMMAND DOCS"),
    }
}

fn doc_pairs(pairs: &[(Node, Node)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("({:?}, {})", k.text(), doc(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn strings(v: &Node) -> String {
    let quoted: Vec<String> = v
        .items()
        .iter()
        .map(|s| format!("{:?}", s.text()))
        .collect();
    format!("&[{}]", quoted.join(", "))
}

/// `CmdSpec` for one `COMMAND` entry; `docs` is its `COMMAND DOCS` map, whose
/// `subcommands` feed the subcommands' own docs.
fn spec(entry: &Node, docs: &Node, order: &[String]) -> String {
    let e = entry.items();
    let name = e[0].text();
    // The table has no room for keys: sentinel-mode commands take none.
    assert_eq!(
        (e[3].int(), e[4].int(), e[5].int()),
        (0, 0, 0),
        "{name}: keys"
    );
    assert!(e[8].items().is_empty(), "{name}: key specs");
    let own: Vec<(Node, Node)> = match docs {
        Node::Map(pairs) => pairs
            .iter()
            .filter(|(k, _)| k.text() != "subcommands")
            .cloned()
            .collect(),
        other => panic!("{name}: docs {other:?}"),
    };
    let sub_docs = docs.get("subcommands");
    let subs: Vec<String> = ordered(e[9].items(), order)
        .into_iter()
        .map(|s| {
            let sub = s.items()[0].text();
            let d = sub_docs
                .and_then(|d| d.get(sub))
                .unwrap_or_else(|| panic!("no docs for {sub}"));
            spec(s, d, order)
        })
        .collect();
    format!(
        "CmdSpec {{ name: {name:?}, arity: {}, flags: {}, acl: {}, tips: {}, docs: &[{}], subs: &[{}] }}",
        e[1].int(),
        strings(&e[2]),
        strings(&e[6]),
        strings(&e[7]),
        doc_pairs(&own),
        subs.join(", ")
    )
}

/// `entries` (COMMAND entries, name first) in the order of `order`, then the names
/// `order` does not know, in the order given.
fn ordered<'a>(entries: &'a [Node], order: &[String]) -> Vec<&'a Node> {
    let name = |e: &Node| e.items()[0].text().to_string();
    let pos = |e: &&Node| order.iter().position(|o| *o == name(e));
    let mut known: Vec<&Node> = entries.iter().filter(|e| pos(e).is_some()).collect();
    known.sort_by_key(|e| pos(e));
    known.extend(entries.iter().filter(|e| pos(e).is_none()));
    known
}

/// The command names of a table file, in file order (top-level and subcommands).
fn names_in(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("name: \""))
        .map(|l| l.trim_end_matches("\",").to_string())
        .collect()
}

const HEADER: &str = "\
//! The sentinel-mode command table as data: names, arities, flags, ACL categories, tips
//! and `COMMAND DOCS` documentation, in the order 7.0.15 happened to list them (its hash
//! order, which clients never rely on but byte-for-byte comparisons do).
//!
//! Generated from the replies of the reference binary (`COMMAND` and `COMMAND DOCS`),
//! because these replies are part of the observable surface clients probe at start-up.
//! Do not edit by hand: the generator is `tests-integration/command_table.rs`. With a
//! `redis-sentinel` installed, `cargo test --test integration command_table -- --ignored`
//! checks this file against it, and `REGENERATE_TABLE=1` in front rewrites it (for a
//! newer Redis; new commands are appended, known ones keep their place).

use super::{CmdSpec, Doc::*};

/// Top-level commands, in `COMMAND` / `COMMAND LIST` order.
";

fn rustfmt(src: &str) -> String {
    let mut child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("rustfmt (rustup component add rustfmt)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(src.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "rustfmt failed");
    String::from_utf8(out.stdout).unwrap()
}

fn table_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/command_table/data.rs")
}

#[test]
#[ignore = "generator: needs redis-sentinel; see the module docs"]
fn command_table_matches_the_installed_redis_sentinel() {
    require!("redis-sentinel");
    let real = sentinel(Path::new("/usr/bin/redis-sentinel"), "");
    let mut c = Raw::connect(real.port);
    c.cmd(&["HELLO", "3"]);
    let commands = parse(&c.cmd(&["COMMAND"]));
    let docs = parse(&c.cmd(&["COMMAND", "DOCS"]));
    let checked_in = std::fs::read_to_string(table_path()).unwrap();
    let order = names_in(&checked_in);
    let specs: Vec<String> = ordered(commands.items(), &order)
        .into_iter()
        .map(|e| {
            let name = e.items()[0].text();
            let d = docs
                .get(name)
                .unwrap_or_else(|| panic!("no docs for {name}"));
            spec(e, d, &order)
        })
        .collect();
    let src = format!(
        "{HEADER}pub static COMMANDS: &[CmdSpec] = &[{}];\n",
        specs.join(", ")
    );
    let generated = rustfmt(&src);
    if std::env::var_os("REGENERATE_TABLE").is_some() {
        std::fs::write(table_path(), &generated).unwrap();
        println!("rewrote {}", table_path().display());
        return;
    }
    let diff = checked_in
        .lines()
        .zip(generated.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b);
    if let Some((n, (a, b))) = diff {
        panic!(
            "command_table/data.rs differs from the installed redis-sentinel at line {}:\n  file: {a}\n  live: {b}\n(REGENERATE_TABLE=1 rewrites it)",
            n + 1
        );
    }
    assert_eq!(
        checked_in.lines().count(),
        generated.lines().count(),
        "command_table/data.rs differs in length (REGENERATE_TABLE=1 rewrites it)"
    );
}
