//! Conformance (issue #2): the client-facing surface of rsentinel against the real
//! redis-sentinel 7.0.15, driven by the golden spec files. Both sentinels get the same
//! config over the same real data nodes; replies are compared after masking what
//! legitimately differs between two processes (ids, ports, times, counters; see
//! golden/README.md "Volatile fields"): same types, same array/map lengths, same field
//! names in the same order, same error texts.

mod canon;

use crate::harness::*;
use canon::{canon, mask, words};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn spec(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/tools/specs")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Run a spec file against both sentinels. `conns` maps a spec connection name to the
/// (real, ours) ports; connections not listed are skipped (they address data nodes).
/// `subst` rewrites spec values (golden ports) into this run's values.
fn run_spec(file: &str, conns: &[(&str, u16, u16)], subst: &[(String, String)]) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut cur: Option<(Raw, Raw)> = None;
    for line in spec(file).lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("@note") {
            continue;
        }
        if let Some(rest) = line.strip_prefix("@conn ") {
            let name = rest.split(' ').next().unwrap();
            cur = conns
                .iter()
                .find(|c| c.0 == name)
                .map(|c| (Raw::connect(c.1), Raw::connect(c.2)));
            continue;
        }
        let Some((real, ours)) = cur.as_mut() else {
            continue;
        };
        let mut text = line.to_string();
        for (a, b) in subst {
            text = text.replace(a.as_str(), b);
        }
        let (n, text) = match text.strip_prefix("@multi ") {
            Some(r) => {
                let (n, rest) = r.split_once(' ').unwrap();
                (n.parse::<usize>().unwrap(), rest.to_string())
            }
            None => (1, text),
        };
        let get = |c: &mut Raw| {
            let mut out = if let Some(inline) = text.strip_prefix("@inline ") {
                c.send_raw(format!("{inline}\r\n").as_bytes());
                c.read_reply()
            } else {
                let w = words(&text);
                c.cmd(&w.iter().map(|s| s.as_str()).collect::<Vec<_>>())
            };
            for _ in 1..n {
                out.extend(c.read_reply());
            }
            out
        };
        let (a, b) = (get(real), get(ours));
        let (ca, cb) = (canon(&text, &a), canon(&text, &b));
        if ca != cb {
            diffs.push(format!("[{file}] {text}\n  real: {ca}\n  ours: {cb}"));
        }
    }
    diffs
}

struct Pair {
    _nodes: Vec<Proc>,
    real: Proc,
    ours: Proc,
    master: u16,
}

fn start_pair(master_args: &[&str], conf: impl Fn(u16) -> String) -> Pair {
    let master = redis_server(master_args);
    let mut rargs: Vec<String> = master_args.iter().map(|s| s.to_string()).collect();
    rargs.extend([
        "--replicaof".into(),
        "127.0.0.1".into(),
        master.port.to_string(),
    ]);
    if master_args.contains(&"--requirepass") {
        rargs.extend(["--masterauth".into(), "masterpw".into()]);
    }
    let replica = redis_server(&rargs.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    let body = conf(master.port);
    let real = sentinel(Path::new("redis-sentinel"), &body);
    let ours = sentinel(&rsentinel_bin(), &body);
    Pair {
        master: master.port,
        _nodes: vec![master, replica],
        real,
        ours,
    }
}

/// Wait until `port` reports the replica and the other sentinel for `name`.
fn wait_discovered(port: u16, name: &str, auth: &[&str]) {
    let mut c = Raw::connect(port);
    if !auth.is_empty() {
        let mut a = vec!["AUTH"];
        a.extend_from_slice(auth);
        c.cmd(&a);
    }
    wait_until(
        &format!("{port} discovers replica and peer"),
        Duration::from_secs(25),
        || {
            let m = parse_pairs(&c.cmd(&["SENTINEL", "MASTER", name]));
            let s = c.cmd(&["SENTINEL", "SENTINELS", name]);
            field(&m, "num-slaves") == "1"
                && field(&m, "num-other-sentinels") == "1"
                && !String::from_utf8_lossy(&s).contains("disconnected")
        },
    );
}

fn steady_pair() -> Pair {
    let p = start_pair(&[], |port| {
        format!(
            "sentinel monitor mymaster 127.0.0.1 {port} 2\nsentinel down-after-milliseconds mymaster 2000\nsentinel failover-timeout mymaster 10000\n"
        )
    });
    wait_discovered(p.real.port, "mymaster", &[]);
    wait_discovered(p.ours.port, "mymaster", &[]);
    p
}

fn report(diffs: Vec<String>) {
    assert!(
        diffs.is_empty(),
        "{} replies differ:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn steady_and_resp3_specs_match_real_sentinel() {
    require!("redis-server");
    require!("redis-sentinel");
    let p = steady_pair();
    let subst = vec![("41000".to_string(), p.master.to_string())];
    let conns = [
        ("s1", p.real.port, p.ours.port),
        ("r3", p.real.port, p.ours.port),
        ("ps", p.real.port, p.ours.port),
        ("ps3", p.real.port, p.ours.port),
    ];
    let mut diffs = run_spec("01-steady.txt", &conns, &subst);
    diffs.extend(run_spec("03-resp3-pubsub.txt", &conns, &subst));
    report(diffs);
}

/// Wait until `port` (authenticated with `auth`) sees `n` other sentinels for `name`.
fn wait_peers(port: u16, name: &str, auth: &[&str], n: &str) {
    let mut c = Raw::connect(port);
    let mut a = vec!["AUTH"];
    a.extend_from_slice(auth);
    c.cmd(&a);
    wait_until(
        &format!("{port} sees {n} peers"),
        Duration::from_secs(25),
        || {
            let s = c.cmd(&["SENTINEL", "SENTINELS", name]);
            field(
                &parse_pairs(&c.cmd(&["SENTINEL", "MASTER", name])),
                "num-other-sentinels",
            ) == n
                && !String::from_utf8_lossy(&s).contains("disconnected")
        },
    );
}

#[test]
fn security_spec_matches_real_sentinel() {
    require!("redis-server");
    require!("redis-sentinel");
    let master = ["--requirepass", "masterpw"];
    let sa = start_pair(&master, |port| {
        format!(
            "requirepass sentpw\nsentinel monitor m2 127.0.0.1 {port} 1\nsentinel auth-pass m2 masterpw\nsentinel down-after-milliseconds m2 2000\n"
        )
    });
    let sb = start_pair(&master, |port| {
        format!(
            "user default on >sentpw ~* &* +@all\nuser admin on >adminpw ~* &* +@all\nsentinel sentinel-user admin\nsentinel sentinel-pass adminpw\nsentinel monitor m2 127.0.0.1 {port} 1\nsentinel auth-user m2 default\nsentinel auth-pass m2 masterpw\nsentinel down-after-milliseconds m2 2000\n"
        )
    });
    for p in [sa.real.port, sa.ours.port] {
        wait_peers(p, "m2", &["sentpw"], "1");
    }
    for p in [sb.real.port, sb.ours.port] {
        wait_peers(p, "m2", &["admin", "adminpw"], "1");
    }
    let conns = [
        ("sa", sa.real.port, sa.ours.port),
        ("sa2", sa.real.port, sa.ours.port),
        ("sa3", sa.real.port, sa.ours.port),
        ("sb", sb.real.port, sb.ours.port),
    ];
    let mut diffs = run_spec("08-security.txt", &conns, &[]);
    // ACL GETUSER renders like ACL LIST does.
    for (r, o) in [(sa.real.port, sa.ours.port), (sb.real.port, sb.ours.port)] {
        let (mut a, mut b) = (Raw::connect(r), Raw::connect(o));
        for c in [&mut a, &mut b] {
            let mut x = c.cmd(&["AUTH", "sentpw"]);
            if x.starts_with(b"-") {
                x = c.cmd(&["AUTH", "admin", "adminpw"]);
            }
            assert_eq!(x, b"+OK\r\n");
        }
        for cmd in [
            vec!["ACL", "GETUSER", "default"],
            vec!["ACL", "GETUSER", "admin"],
            vec![
                "ACL", "SETUSER", "u1", "on", ">p1", "~k*", "&ch", "+ping", "-@all", "+@read",
                "-get",
            ],
            vec!["ACL", "GETUSER", "u1"],
            vec!["ACL", "LIST"],
            vec![
                "ACL",
                "SETUSER",
                "u2",
                "resetchannels",
                "allkeys",
                "+@all",
                "-sentinel|reset",
                "nopass",
            ],
            vec!["ACL", "GETUSER", "u2"],
            vec!["ACL", "LIST"],
            vec!["ACL", "DRYRUN", "u2", "sentinel", "reset", "x"],
            vec!["ACL", "SETUSER", "u3", "bogus"],
            vec!["ACL", "SETUSER", "u3", "+nosuchcmd"],
            vec!["ACL", "CAT", "dangerous"],
            vec![
                "ACL",
                "SETUSER",
                "u4",
                "on",
                "+@all",
                "-@admin",
                "+acl|whoami",
                "~a",
                "%R~b",
                "%W~b",
                "&x",
                "resetkeys",
                "~d",
                "(+ping ~x)",
            ],
            vec!["ACL", "GETUSER", "u4"],
            vec![
                "ACL",
                "SETUSER",
                "u5",
                "-@all",
                "+@connection",
                "+@pubsub",
                "skip-sanitize-payload",
                "+client|list",
                "+role|x",
                "+acl|whoami|x",
                "!0123",
            ],
            vec![
                "ACL",
                "SETUSER",
                "u5",
                "-@all",
                "+@connection",
                "+@pubsub",
                "skip-sanitize-payload",
                "+client|list",
                "+role|x",
                "+sentinel|myid",
            ],
            vec!["ACL", "LIST"],
            vec!["ACL", "SETUSER", "u6", "~*", "~x"],
            vec!["ACL", "SETUSER", "u6", "&*", "&x"],
            vec!["ACL", "SETUSER", "u6", "<nopw"],
        ] {
            let (x, y) = (a.cmd(&cmd), b.cmd(&cmd));
            let line = cmd.join(" ");
            let (cx, cy) = (canon(&line, &x), canon(&line, &y));
            if cx != cy {
                diffs.push(format!("[acl] {line}\n  real: {cx}\n  ours: {cy}"));
            }
        }
    }
    report(diffs);
}

#[test]
fn shutdown_closes_without_reply_like_real() {
    require!("redis-server");
    require!("redis-sentinel");
    let mut p = start_pair(&[], |port| {
        format!("sentinel monitor mymaster 127.0.0.1 {port} 2\n")
    });
    for s in [&mut p.real, &mut p.ours] {
        let mut c = Raw::connect(s.port);
        assert_eq!(c.cmd(&["SHUTDOWN"]), b"", "{}: reply to SHUTDOWN", s.name);
        wait_until("process exit", Duration::from_secs(10), || {
            matches!(s.child.try_wait(), Ok(Some(_)))
        });
    }
}

/// Send `bytes` on a fresh connection; collect the reply bytes until the server closes
/// (true) or stays silent for a while (false).
fn probe(port: u16, bytes: &[u8]) -> (Vec<u8>, bool) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    // Big payloads: the server may close mid-way, so write errors are expected.
    for chunk in bytes.chunks(64 * 1024) {
        if s.write_all(chunk).is_err() {
            break;
        }
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return (out, true),
            Err(_) => return (out, false),
        }
        if Instant::now() > deadline {
            return (out, false);
        }
    }
}

#[test]
fn malformed_requests_get_the_same_replies_and_closes() {
    require!("redis-server");
    require!("redis-sentinel");
    let p = start_pair(&[], |port| {
        format!("sentinel monitor mymaster 127.0.0.1 {port} 2\n")
    });
    let mut big_inline = vec![b'x'; 1024 * 1024];
    big_inline.extend_from_slice(b"\r\n");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("bad bulk length", b"*1\r\n$abc\r\n".to_vec()),
        ("bad multibulk length", b"*abc\r\n".to_vec()),
        (
            "negative multibulk then PING",
            b"*-5\r\n*1\r\n$4\r\nPING\r\n".to_vec(),
        ),
        ("zero multibulk then PING", b"*0\r\nPING\r\n".to_vec()),
        ("4 GB bulk length", b"*1\r\n$4294967296\r\n".to_vec()),
        ("4 GB bulk as inline", b"$4294967296\r\n".to_vec()),
        ("huge multibulk count", b"*1048577\r\n".to_vec()),
        ("negative bulk length", b"*1\r\n$-1\r\n".to_vec()),
        ("no dollar", b"*1\r\n+PING\r\n".to_vec()),
        (
            "binary garbage",
            b"\x00\xff\xfe\x01garbage \x7f\r\n".to_vec(),
        ),
        (
            "garbage before NUL",
            b"\xff\x01garbage\x0b\x7f\x00tail\r\n".to_vec(),
        ),
        ("1 MB inline line", big_inline.clone()),
        (
            "NUL hides the newline",
            [&b"PING\x00\r\n"[..], &big_inline[..100_000]].concat(),
        ),
        ("unbalanced quote inline", b"PING \"hello\r\n".to_vec()),
        ("unbalanced single quote", b"PING 'a\r\n".to_vec()),
        ("quoted inline ok", b"PING \"a\\x41 b\"\r\n".to_vec()),
        ("empty inline lines", b"\r\n\n\r\nPING\r\n".to_vec()),
        ("bulk without CRLF", b"*1\r\n$4\r\nPINGxx\r\n".to_vec()),
    ];
    let mut diffs = Vec::new();
    for (what, bytes) in &cases {
        let a = probe(p.real.port, bytes);
        let b = probe(p.ours.port, bytes);
        if a != b {
            diffs.push(format!(
                "[malformed] {what}\n  real: {:?} closed={}\n  ours: {:?} closed={}",
                String::from_utf8_lossy(&a.0),
                a.1,
                String::from_utf8_lossy(&b.0),
                b.1
            ));
        }
        for port in [p.real.port, p.ours.port] {
            assert_eq!(
                Raw::connect(port).cmd(&["PING"]),
                b"+PONG\r\n",
                "after {what}"
            );
        }
    }
    report(diffs);
}

fn cli(port: u16, args: &[&str]) -> String {
    let out = Command::new("redis-cli")
        .arg("-p")
        .arg(port.to_string())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("redis-cli");
    mask(&String::from_utf8_lossy(&out.stdout))
}

/// `redis-cli psubscribe '*'` output up to and including the `+monitor` message.
fn cli_monitor_event(port: u16, newport: u16) -> Vec<String> {
    let mut child = Command::new("redis-cli")
        .args(["-p", &port.to_string(), "psubscribe", "*"])
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("redis-cli");
    std::thread::sleep(Duration::from_millis(300));
    let mut c = Raw::connect(port);
    let np = newport.to_string();
    let r = c.cmd(&["SENTINEL", "MONITOR", "newm", "127.0.0.1", &np, "2"]);
    assert_eq!(r, b"+OK\r\n");
    std::thread::sleep(Duration::from_millis(500));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(mask)
        .collect();
    let mut kept: Vec<String> = lines.iter().take(3).cloned().collect();
    if let Some(i) = lines.iter().position(|l| l == "+monitor") {
        kept.extend(
            lines[i.saturating_sub(2)..(i + 2).min(lines.len())]
                .iter()
                .cloned(),
        );
    }
    kept
}

#[test]
fn redis_cli_sees_the_same_output() {
    require!("redis-server");
    require!("redis-sentinel");
    require!("redis-cli");
    let p = steady_pair();
    for args in [
        vec!["PING"],
        vec!["HELLO", "3"],
        vec!["SENTINEL", "MASTERS"],
        vec!["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"],
        vec!["SENTINEL", "NOSUCH"],
        vec!["ROLE"],
    ] {
        assert_eq!(
            cli(p.real.port, &args),
            cli(p.ours.port, &args),
            "redis-cli {args:?}"
        );
    }
    let newport = free_port();
    let a = cli_monitor_event(p.real.port, newport);
    let b = cli_monitor_event(p.ours.port, newport);
    assert!(a.len() == 7, "real psubscribe output: {a:?}");
    assert_eq!(a, b, "redis-cli psubscribe '*'");
}
