//! Seeded fuzzing of the config loader and the rewrite engine over mutated golden
//! configs: loading never panics, a failure is always the FATAL block (or can't-open)
//! naming the offending line, and whatever loads rewrites to a file that loads back to
//! the same state (so a CONFIG REWRITE can never make the next start fail).

use crate::support::robust_seed;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rsentinel::config::{
    ConfigError, Loaded, MasterConfig, SentinelConfig, ServerConfig, load, rewrite_text, split_args,
};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Tokens mutations splice in: quoting, escapes, binary bytes, huge and odd numbers,
/// keywords that change how the rest of the line is read.
const WEIRD: &[&str] = &[
    "\"",
    "'",
    "\"a b\"",
    "'x'y",
    "\"\\x00\\xff\"",
    "\\",
    "\u{1}\u{7f}",
    "é",
    "\u{0}",
    "99999999999999999999999",
    "-1",
    "0",
    "2147483648",
    "65536",
    "-9223372036854775809",
    "yes",
    "no",
    "mymaster",
    "sentinel",
    "monitor",
    "known-replica",
    "known-sentinel",
    "127.0.0.1",
    "::1",
    "\"\"",
    "#",
    "rename-command",
    "save",
    "bind",
];

fn sandbox() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for s in ["notify.sh", "reconfig.sh"] {
        let p = t.path().join(s);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    t
}

/// The golden files with every `/tmp/sg/...` directory folded onto the sandbox root.
fn goldens(root: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(crate::support::golden::path("conf"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "conf"))
        .collect();
    names.sort();
    let root = root.to_str().unwrap();
    names
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            text.lines()
                .map(|l| {
                    if l.starts_with("dir ") {
                        format!("dir \"{root}\"")
                    } else {
                        l.replace("/tmp/sg/", &format!("{root}/"))
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

fn mutate_line(rng: &mut StdRng, line: &str, pool: &[String]) -> String {
    let mut toks: Vec<String> = line.split(' ').map(str::to_string).collect();
    for _ in 0..rng.gen_range(1..3) {
        let i = rng.gen_range(0..toks.len().max(1));
        match rng.gen_range(0..7) {
            0 if !toks.is_empty() => {
                toks.remove(i.min(toks.len() - 1));
            }
            1 if !toks.is_empty() => {
                let t = toks[i.min(toks.len() - 1)].clone();
                toks.insert(i, t);
            }
            2 => toks.insert(i.min(toks.len()), WEIRD.choose(rng).unwrap().to_string()),
            3 if !toks.is_empty() => {
                let j = i.min(toks.len() - 1);
                toks[j] = WEIRD.choose(rng).unwrap().to_string();
            }
            4 if !toks.is_empty() => {
                let j = i.min(toks.len() - 1);
                let pos = rng.gen_range(0..=toks[j].len());
                if toks[j].is_char_boundary(pos) {
                    let c = ['"', '\'', '\\', '\t', ' ', 'x'].choose(rng).unwrap();
                    toks[j].insert(pos, *c);
                }
            }
            5 => toks.insert(i.min(toks.len()), pool.choose(rng).unwrap().clone()),
            _ => {}
        }
    }
    toks.join(" ")
}

fn mutate(rng: &mut StdRng, text: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let pool: Vec<String> = text.split_whitespace().map(str::to_string).collect();
    for _ in 0..rng.gen_range(1..4) {
        let i = rng.gen_range(0..lines.len());
        match rng.gen_range(0..4) {
            0 => {
                lines.remove(i);
            }
            1 => {
                let l = lines[i].clone();
                lines.insert(rng.gen_range(0..lines.len()), l);
            }
            _ => lines[i] = mutate_line(rng, &lines[i], &pool),
        }
        if lines.is_empty() {
            lines.push(String::new());
        }
    }
    lines.join("\n")
}

fn trim(l: &str) -> &str {
    l.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
}

/// A failure must be the redis-sentinel FATAL block naming the line it is about.
fn check_error(e: &ConfigError, text: &str) {
    match e {
        ConfigError::BadLine {
            line_no,
            line,
            message,
            ..
        } => {
            let shown = e.to_string();
            let head = format!(
                "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n\
                 Reading the configuration file, at line {line_no}\n>>> '{line}'\n"
            );
            assert!(shown.starts_with(&head), "{shown:?}");
            assert!(
                !message.is_empty() && !message.contains('\n'),
                "{message:?}"
            );
            if !text.contains("include") {
                let lines: Vec<&str> = text.split('\n').collect();
                assert_eq!(trim(lines[line_no - 1]), line, "line {line_no} of {text}");
            }
        }
        ConfigError::CantOpen { .. } => {
            assert!(
                e.to_string()
                    .starts_with("Fatal error, can't open config file '")
            )
        }
    }
}

fn write_load(path: &Path, text: &str) -> Result<Loaded, ConfigError> {
    std::fs::write(path, text).unwrap();
    load(path, &[])
}

/// Rewrite `l` over `old`, reload, and require the same state and a stable text.
fn check_round_trip(path: &Path, old: &str, l: &Loaded) {
    // As `Loaded::rewrite` does: without a `dir` line the current directory is written.
    let mut l = l.clone();
    if l.server.dir.is_none() {
        l.server.dir = Some(std::env::current_dir().unwrap().display().to_string());
    }
    let text = rewrite_text(old, &l.generic, &l.server, &l.sentinel);
    let again = match write_load(path, &text) {
        Ok(a) => a,
        Err(e) => panic!("rewrite of\n{old}\nis unloadable:\n{text}\n{e}"),
    };
    assert_eq!(
        again.sentinel, l.sentinel,
        "sentinel state changed:\n{text}"
    );
    // The rewrite rewords ACL rules, and like redis-sentinel 7.0.15 the built-in default
    // user reads back with `sanitize-payload` set (checked against the real binary), so
    // users are left out of the comparison.
    let norm = |s: &ServerConfig| ServerConfig {
        users: Vec::new(),
        ..s.clone()
    };
    assert_eq!(
        norm(&again.server),
        norm(&l.server),
        "server state changed:\n{old}\n=>\n{text}"
    );
    let text2 = rewrite_text(&text, &again.generic, &again.server, &again.sentinel);
    // Stable apart from blank lines (Redis' own blank-line handling is not idempotent).
    let solid = |t: &str| {
        t.lines()
            .filter(|l| !l.is_empty() && !l.starts_with("user "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(solid(&text2), solid(&text), "rewrite is not idempotent");
}

#[test]
fn mutated_golden_configs() {
    let sb = sandbox();
    let path = sb.path().join("sentinel.conf");
    let base = goldens(sb.path());
    let mut rng = StdRng::seed_from_u64(robust_seed(3));
    let (mut ok, mut bad) = (0, 0);
    for _ in 0..2500 {
        let src = base.choose(&mut rng).unwrap();
        let text = mutate(&mut rng, src);
        match write_load(&path, &text) {
            Ok(l) => {
                ok += 1;
                check_round_trip(&path, &text, &l);
            }
            Err(e) => {
                bad += 1;
                check_error(&e, &text);
            }
        }
    }
    // The mix must exercise both outcomes.
    assert!(ok > 300 && bad > 300, "ok {ok} bad {bad}");
}

#[test]
fn split_args_never_panics_and_requotes() {
    let mut rng = StdRng::seed_from_u64(robust_seed(4));
    let alphabet = b" \t\"'\\xabn0\r\n\x0b\x01\xc3\xa9";
    for _ in 0..20000 {
        let bytes: Vec<u8> = (0..rng.gen_range(0..24))
            .map(|_| alphabet[rng.gen_range(0..alphabet.len())])
            .collect();
        let line = String::from_utf8_lossy(&bytes);
        if let Some(args) = split_args(&line) {
            // Each argument written back with the rewrite's quoting reads back the same
            // (lossy UTF-8 aside, which the loader applies anyway).
            let quoted: Vec<String> = args.iter().map(|a| rsentinel::config::repr(a)).collect();
            let back = split_args(&quoted.join(" ")).expect("repr output splits");
            let lossy: Vec<String> = back.iter().map(|a| a.to_string()).collect();
            assert_eq!(lossy, args, "{line:?}");
        }
    }
}

/// Values a peer or a client can set (names, passwords, addresses with odd bytes) are
/// written so that the file loads back to them.
#[test]
fn odd_values_survive_the_rewrite() {
    let sb = sandbox();
    let path = sb.path().join("sentinel.conf");
    let mut rng = StdRng::seed_from_u64(robust_seed(5));
    let pieces = [
        "a", " ", "\"", "'", "\\", "#", "\t", "é", "\u{1}", "x y", "",
    ];
    let word = |rng: &mut StdRng| -> String {
        (0..rng.gen_range(1..5))
            .map(|_| *pieces.choose(rng).unwrap())
            .collect()
    };
    for _ in 0..300 {
        let mut m = MasterConfig::new(&word(&mut rng), "127.0.0.1", 6379, 1);
        m.auth_pass = Some(word(&mut rng));
        m.auth_user = Some(word(&mut rng));
        m.known_replicas.push(("127.0.0.2".into(), 1));
        m.known_sentinels
            .push(("127.0.0.3".into(), 2, "0123456789".repeat(4)));
        m.rename_commands.push((word(&mut rng), word(&mut rng)));
        let nonempty = |w: String| if w.is_empty() { "p".to_string() } else { w };
        let cfg = SentinelConfig {
            myid: Some("f".repeat(40)),
            sentinel_user: Some(nonempty(word(&mut rng))),
            sentinel_pass: Some(nonempty(word(&mut rng))),
            deny_scripts_reconfig: true,
            masters: vec![m],
            ..Default::default()
        };
        let base = write_load(&path, &format!("dir \"{}\"\n", sb.path().display())).unwrap();
        let text = rewrite_text("", &base.generic, &base.server, &cfg);
        let l = write_load(&path, &text).unwrap_or_else(|e| panic!("{text}\n{e}"));
        assert_eq!(l.sentinel, cfg, "{text}");
    }
}
