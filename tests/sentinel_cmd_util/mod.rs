//! Shared helpers for the SENTINEL command tests: a core shaped like the golden
//! topology, golden transcript access, and a small RESP2 reader for normalized
//! comparisons.
#![allow(dead_code)]

use bytes::Bytes;
use rsentinel::commands::sentinel::sentinel_command;
use rsentinel::config::{MasterConfig, SentinelConfig};
use rsentinel::core::instance::LinkId;
use rsentinel::core::{Action, Identity, Sentinel};
use rsentinel::resp::Reply;

pub const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/resp");
pub const S1_ID: &str = "f9351bc32a024bcd4d518040ae807e61bcbe50b5";
pub const S2_ID: &str = "11cee6dfd73f0ef21cc15b3e7c14074dd44c7ddb";
pub const S3_ID: &str = "cbc2f454bb1f7b019a27bd6c7f8cda554f7504d6";
pub const T0: u64 = 1_795_300_000_000;

/// s1 of the golden topology: mymaster at 127.0.0.1:`port`, quorum 2, down-after 2000,
/// failover-timeout 10000, both scripts, replicas (in golden reply order) and the two
/// peer sentinels.
pub fn s1_config(port: u16, replicas: &[u16]) -> SentinelConfig {
    let mut m = MasterConfig::new("mymaster", "127.0.0.1", port, 2);
    m.down_after_ms = 2000;
    m.failover_timeout_ms = 10000;
    m.notification_script = Some("/tmp/sg/notify.sh".into());
    m.client_reconfig_script = Some("/tmp/sg/reconfig.sh".into());
    m.known_replicas = replicas.iter().map(|p| ("127.0.0.1".into(), *p)).collect();
    m.known_sentinels = vec![
        ("127.0.0.1".into(), 41101, S2_ID.into()),
        ("127.0.0.1".into(), 41102, S3_ID.into()),
    ];
    SentinelConfig {
        myid: Some(S1_ID.into()),
        deny_scripts_reconfig: true,
        masters: vec![m],
        ..Default::default()
    }
}

pub fn core_from(cfg: &SentinelConfig) -> Sentinel {
    let mut c = Sentinel::new(
        cfg,
        Identity {
            port: 41100,
            ..Default::default()
        },
        7,
        T0,
    );
    c.is_executable = |p| p.starts_with("/tmp/sg/");
    c
}

/// Mark every link as fully connected with a fresh PING reply, as in steady state.
pub fn connect_all(core: &mut Sentinel) {
    let now = core.now;
    for l in core.links.values_mut() {
        l.cc = true;
        l.pc = true;
        l.act_ping_time = 0;
        l.last_avail_time = now;
        l.last_pong_time = now;
    }
}

/// Give master 0's replicas INFO-derived state so they are healthy promotion candidates.
pub fn healthy_replicas(core: &mut Sentinel, master_port: u16) {
    let now = core.now;
    for (i, r) in core.masters[0].replicas.iter_mut().enumerate() {
        r.common.runid = format!("{:040x}", i + 1);
        r.common.info_refresh = now;
        r.master_link_status_up = true;
        r.slave_master_host = Some("127.0.0.1".into());
        r.slave_master_port = master_port;
    }
}

pub fn link_of_master(core: &Sentinel) -> LinkId {
    core.masters[0].common.link
}

/// Split a transcript command line into arguments: whitespace separated, `"..."` quoted.
pub fn split_args(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut any) = (false, false);
    for ch in line.chars() {
        match ch {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            c => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

/// `(connection, command line, reply file)` for every block of a phase transcript.
pub fn transcript(phase: &str) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(format!("{GOLDEN}/{phase}.transcript.txt")).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix(">>> ["))
        .map(|l| {
            let (conn, rest) = l.split_once("] ").unwrap();
            let (cmd, file) = rest.rsplit_once("(file ").unwrap();
            (
                conn.to_string(),
                cmd.trim().to_string(),
                file.trim_end_matches(')').to_string(),
            )
        })
        .collect()
}

pub fn golden(file: &str) -> Vec<u8> {
    std::fs::read(format!("{GOLDEN}/{file}")).unwrap()
}

/// The golden file whose name starts with `prefix` inside `phase`.
pub fn golden_file(phase: &str, prefix: &str) -> Vec<u8> {
    let dir = format!("{GOLDEN}/{phase}");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    assert_eq!(names.len(), 1, "{prefix} in {phase}: {names:?}");
    std::fs::read(format!("{dir}/{}", names[0])).unwrap()
}

pub fn run(core: &mut Sentinel, line: &str) -> Reply {
    let args: Vec<Bytes> = split_args(line).into_iter().map(Bytes::from).collect();
    sentinel_command(core, &args)
}

pub fn resp2(r: &Reply) -> Vec<u8> {
    r.to_bytes(2).to_vec()
}

pub fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace("\r\n", "\\r\\n ")
}

/// Events (channel, payload) among the drained actions.
pub fn events(actions: &[Action]) -> Vec<(String, String)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Event {
                channel, payload, ..
            } => Some((channel.clone(), payload.clone())),
            _ => None,
        })
        .collect()
}

/// A parsed RESP2 value, enough for the replies under test.
#[derive(Debug, Clone, PartialEq)]
pub enum V {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<String>),
    Array(Option<Vec<V>>),
}

pub fn parse(b: &[u8]) -> V {
    let (v, used) = parse_at(b, 0);
    assert_eq!(used, b.len(), "trailing bytes in {}", show(b));
    v
}

fn parse_at(b: &[u8], pos: usize) -> (V, usize) {
    let end = pos + b[pos..].windows(2).position(|w| w == b"\r\n").unwrap();
    let line = std::str::from_utf8(&b[pos + 1..end]).unwrap().to_string();
    let next = end + 2;
    match b[pos] {
        b'+' => (V::Status(line), next),
        b'-' => (V::Error(line), next),
        b':' => (V::Int(line.parse().unwrap()), next),
        b'$' => {
            let n: i64 = line.parse().unwrap();
            if n < 0 {
                return (V::Bulk(None), next);
            }
            let s = String::from_utf8_lossy(&b[next..next + n as usize]).into_owned();
            (V::Bulk(Some(s)), next + n as usize + 2)
        }
        b'*' => {
            let n: i64 = line.parse().unwrap();
            if n < 0 {
                return (V::Array(None), next);
            }
            let mut items = Vec::new();
            let mut p = next;
            for _ in 0..n {
                let (v, q) = parse_at(b, p);
                items.push(v);
                p = q;
            }
            (V::Array(Some(items)), p)
        }
        t => panic!("unexpected RESP type {}", t as char),
    }
}

/// A flat RESP2 description as (field, value) pairs.
pub fn pairs(v: &V) -> Vec<(String, String)> {
    let V::Array(Some(items)) = v else {
        panic!("not an array: {v:?}")
    };
    items
        .chunks(2)
        .map(|kv| match kv {
            [V::Bulk(Some(k)), V::Bulk(Some(v))] => (k.clone(), v.clone()),
            other => panic!("not a bulk pair: {other:?}"),
        })
        .collect()
}

/// Millisecond counters that depend on timing (README "Volatile fields").
pub const VOLATILE: &[&str] = &[
    "last-ping-sent",
    "last-ok-ping-reply",
    "last-ping-reply",
    "info-refresh",
    "role-reported-time",
    "s-down-time",
    "o-down-time",
    "last-hello-message",
    "link-pending-commands",
    "slave-repl-offset",
    "master-link-down-time",
];

/// Compare two descriptions: same fields in the same order, same values except the
/// volatile counters (which must still be integers).
pub fn assert_same_description(ours: &V, gold: &V, ignore: &[&str]) {
    let (a, b) = (pairs(ours), pairs(gold));
    let ka: Vec<_> = a.iter().map(|p| &p.0).collect();
    let kb: Vec<_> = b.iter().map(|p| &p.0).collect();
    assert_eq!(ka, kb, "field order");
    for ((k, va), (_, vb)) in a.iter().zip(b.iter()) {
        if VOLATILE.contains(&k.as_str()) || ignore.contains(&k.as_str()) {
            assert!(
                va.parse::<i64>().is_ok() || ignore.contains(&k.as_str()),
                "{k}={va}"
            );
        } else {
            assert_eq!(va, vb, "field {k}");
        }
    }
}
