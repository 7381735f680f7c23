//! The driver of the core's robustness runs, shared by the seeded test
//! (`robust_core.rs`, a `StdRng`) and the `core_events` fuzz target (an RNG reading the
//! fuzz input): the parent module names the RNG type `DriverRng` and provides `golden`.

use super::{DriverRng, golden};
use bytes::Bytes;
use rand::Rng;
use rand::seq::SliceRandom;
use rsentinel::commands::sentinel::sentinel_command;
use rsentinel::config::{
    GenericStore, MasterConfig, SentinelConfig, ServerConfig, load, rewrite_text,
};
use rsentinel::core::instance::{ConnKind, LinkId, ReqId};
use rsentinel::core::{Action, Event, Identity, Sentinel};
use rsentinel::resp::Reply;
use rsentinel::resp::request::split_args;
use std::path::Path;

pub const MYID: &str = "f9351bc32a024bcd4d518040ae807e61bcbe50b5";
pub const PEERS: &[&str] = &[
    "11cee6dfd73f0ef21cc15b3e7c14074dd44c7ddb",
    "cbc2f454bb1f7b019a27bd6c7f8cda554f7504d6",
];

/// Odd values spliced into INFO fields, hello fields and command arguments.
pub const WEIRD: &[&str] = &[
    "",
    " ",
    "a b",
    "\"",
    "'",
    "\\",
    "\r\n",
    "\0",
    ",",
    ":",
    "=",
    "-1",
    "0",
    "65536",
    "99999999999999999999999",
    "-9223372036854775808",
    "18446744073709551615",
    "1.5",
    "é",
    "x\ty",
    "::1",
    "127.0.0.1",
    "localhost",
    "mymaster",
    "*",
];

/// The SENTINEL command lines of the golden transcripts, as argument lists.
pub fn golden_commands() -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let dir = golden::path("tools/specs");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            if !line.to_ascii_lowercase().starts_with("sentinel ") {
                continue;
            }
            if let Some(args) = split_args(line.as_bytes()) {
                out.push(
                    args.iter()
                        .map(|a| String::from_utf8_lossy(a).into_owned())
                        .collect(),
                );
            }
        }
    }
    out
}

/// INFO texts: golden ones from INFO-CACHE captures plus minimal master/replica ones.
pub fn golden_infos() -> Vec<String> {
    let mut out = vec![
        format!(
            "# Server\r\nrun_id:{}\r\n# Replication\r\nrole:master\r\n\
             slave0:ip=127.0.0.1,port=41001,state=online,offset=1,lag=0\r\n\
             slave1:ip=127.0.0.1,port=41002,state=online,offset=1,lag=0\r\n",
            "a".repeat(40)
        ),
        format!(
            "# Server\r\nrun_id:{}\r\n# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n\
             master_port:41000\r\nmaster_link_status:up\r\nslave_repl_offset:100\r\n\
             slave_priority:100\r\nreplica_announced:1\r\n",
            "b".repeat(40)
        ),
    ];
    for f in [
        "resp/01-steady/021-sentinel-info-cache-mymaster.resp",
        "resp/03-resp3-pubsub/016-sentinel-info-cache-mymaster.resp",
    ] {
        let data = golden::bytes(f);
        let text = String::from_utf8_lossy(&data);
        for chunk in text.split("# Server") {
            if chunk.contains("role:") {
                let end = chunk.find("\r\n\r\n*").unwrap_or(chunk.len());
                out.push(format!("# Server{}", &chunk[..end]));
            }
        }
    }
    out
}

pub fn hello_payloads() -> Vec<String> {
    let mut out = Vec::new();
    for f in ["hello-on-41000.log", "hello-sim-incl-empty-announce-ip.log"] {
        let text = golden::text(&format!("hello/{f}"));
        for l in text.lines() {
            if let Some((_, p)) = l.split_once(" __sentinel__:hello ") {
                out.push(p.to_string());
            }
        }
    }
    out
}

pub fn weird(rng: &mut DriverRng) -> String {
    WEIRD.choose(rng).unwrap().to_string()
}

/// Replaces, drops or duplicates parts of `s` split on `sep`.
pub fn mutate_fields(rng: &mut DriverRng, s: &str, sep: &str) -> String {
    let mut parts: Vec<String> = s.split(sep).map(str::to_string).collect();
    for _ in 0..rng.gen_range(1..4) {
        let i = rng.gen_range(0..parts.len());
        match rng.gen_range(0..6) {
            0 => parts[i] = weird(rng),
            1 => {
                parts.remove(i);
                if parts.is_empty() {
                    parts.push(String::new());
                }
            }
            2 => {
                let p = parts[i].clone();
                parts.insert(i, p);
            }
            3 => {
                // Keep the key, change the value (INFO `key:value`, `k=v` lists).
                if let Some((k, _)) = parts[i].split_once([':', '=']) {
                    let k = k.to_string();
                    let sepc = if parts[i].contains(':') { ':' } else { '=' };
                    parts[i] = format!("{k}{sepc}{}", weird(rng));
                }
            }
            4 => parts[i].push_str(&weird(rng)),
            _ => {}
        }
    }
    parts.join(sep)
}

pub fn random_info(rng: &mut DriverRng, infos: &[String]) -> String {
    let base = infos.choose(rng).unwrap();
    let mut text = mutate_fields(rng, base, "\r\n");
    if rng.gen_bool(0.5) {
        let n = rng.gen_range(0..12);
        text.push_str(&format!(
            "slave{n}:ip={},port={},state={},offset={},lag={}\r\n",
            weird(rng),
            weird(rng),
            ["online", "wait_bgsave", &weird(rng)].choose(rng).unwrap(),
            weird(rng),
            weird(rng)
        ));
    }
    if rng.gen_bool(0.3) {
        let lines: Vec<String> = text
            .split("\r\n")
            .map(|l| mutate_fields(rng, l, ","))
            .collect();
        text = lines.join("\r\n");
    }
    text
}

pub fn random_hello(rng: &mut DriverRng, hellos: &[String]) -> String {
    if rng.gen_bool(0.2) {
        // A fresh peer with odd fields.
        let fields = [
            weird(rng),
            rng.gen_range(0..70000u32).to_string(),
            if rng.gen_bool(0.5) {
                format!("{:040x}", rng.r#gen::<u128>())
            } else {
                weird(rng)
            },
            rng.gen_range(0..5u32).to_string(),
            "mymaster".to_string(),
            weird(rng),
            weird(rng),
            weird(rng),
        ];
        return fields.join(",");
    }
    let base = hellos.choose(rng).unwrap();
    mutate_fields(rng, base, ",")
}

/// A `__rsentinel__:handover` notice: `<runid>,<master>,<epoch>,<ip>,<port>,<pause>`,
/// about the configured master or with fields mangled.
pub fn random_notice(rng: &mut DriverRng) -> String {
    let base = format!(
        "{:040x},mymaster,{},127.0.0.1,{},{}",
        rng.r#gen::<u128>(),
        rng.gen_range(0..8u32),
        if rng.gen_bool(0.7) {
            41000
        } else {
            rng.gen_range(0..70000u32)
        },
        rng.gen_range(0..20_000u32),
    );
    if rng.gen_bool(0.7) {
        base
    } else {
        mutate_fields(rng, &base, ",")
    }
}

pub fn random_reply(rng: &mut DriverRng, depth: u32, infos: &[String]) -> Reply {
    let leaf = depth >= 2 || rng.gen_bool(0.5);
    let k = if leaf {
        rng.gen_range(0..7)
    } else {
        rng.gen_range(0..11)
    };
    let items = |rng: &mut DriverRng| -> Vec<Reply> {
        (0..rng.gen_range(0..4))
            .map(|_| random_reply(rng, depth + 1, infos))
            .collect()
    };
    match k {
        0 => Reply::Status(
            ["OK", "PONG", "QUEUED", ""]
                .choose(rng)
                .unwrap()
                .to_string(),
        ),
        1 => Reply::Error(
            ["LOADING x", "BUSY x", "MASTERDOWN x", "NOAUTH x", "ERR"]
                .choose(rng)
                .unwrap()
                .to_string(),
        ),
        2 => Reply::Int(*[0, 1, -1, i64::MAX, i64::MIN, 2].choose(rng).unwrap()),
        3 => Reply::bulk(random_info(rng, infos)),
        4 => Reply::bulk(weird(rng)),
        5 => Reply::Null,
        6 => Reply::NullArray,
        7 => Reply::Array(vec![
            Reply::Int(rng.gen_range(-1..3)),
            Reply::bulk([PEERS[0], "*", &weird(rng)].choose(rng).unwrap()),
            Reply::Int(rng.gen_range(-1..10)),
        ]),
        8 => Reply::Array(items(rng)),
        9 => Reply::Map(
            items(rng)
                .into_iter()
                .map(|r| (Reply::bulk("k"), r))
                .collect(),
        ),
        _ => Reply::Push(items(rng)),
    }
}

pub fn random_command(rng: &mut DriverRng, cmds: &[Vec<String>]) -> Vec<String> {
    let mut c = cmds.choose(rng).unwrap().clone();
    for _ in 0..rng.gen_range(0..3) {
        let i = rng.gen_range(1..c.len().max(2));
        match rng.gen_range(0..4) {
            0 if i < c.len() => c[i] = weird(rng),
            1 if i < c.len() && c.len() > 1 => {
                c.remove(i);
            }
            2 => c.insert(i.min(c.len()), weird(rng)),
            _ => {}
        }
    }
    c
}

pub struct World {
    pub core: Sentinel,
    pub now: u64,
    pending: Vec<(LinkId, ReqId, String)>,
    conns: Vec<(LinkId, ConnKind)>,
    requested: Vec<(LinkId, ConnKind)>,
    /// resolve-hostnames has been on at some point.
    pub names_allowed: bool,
}

impl World {
    pub fn new() -> World {
        let mut m = MasterConfig::new("mymaster", "127.0.0.1", 41000, 2);
        m.down_after_ms = 2000;
        m.failover_timeout_ms = 10000;
        let cfg = SentinelConfig {
            myid: Some(MYID.into()),
            masters: vec![m, MasterConfig::new("other", "127.0.0.1", 42000, 1)],
            deny_scripts_reconfig: true,
            ..Default::default()
        };
        let id = Identity {
            port: 41100,
            ..Default::default()
        };
        let now = 1_000_000;
        World {
            core: Sentinel::new(&cfg, id, 7, now),
            now,
            pending: Vec::new(),
            conns: Vec::new(),
            requested: Vec::new(),
            names_allowed: false,
        }
    }

    pub fn absorb(&mut self) {
        for a in self.core.drain_actions() {
            match a {
                Action::Send {
                    link,
                    req: Some(req),
                    args,
                    ..
                } => {
                    let cmd = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
                    self.pending.push((link, req, cmd));
                }
                Action::Connect { link, conn, .. } => self.requested.push((link, conn)),
                Action::Close { link, conn } => {
                    self.conns.retain(|c| *c != (link, conn));
                    self.pending
                        .retain(|p| p.0 != link || conn != ConnKind::Cmd);
                }
                _ => {}
            }
        }
        // Bound the bookkeeping: forget the oldest requests (as if lost).
        if self.pending.len() > 200 {
            self.pending.drain(..100);
        }
    }

    pub fn feed(&mut self, ev: Event) {
        self.core.handle(self.now, ev);
        self.absorb();
    }

    pub fn step(
        &mut self,
        rng: &mut DriverRng,
        infos: &[String],
        hellos: &[String],
        cmds: &[Vec<String>],
    ) {
        match rng.gen_range(0..100) {
            0..=24 => {
                self.now = match rng.gen_range(0..20) {
                    0 => self.now.saturating_sub(rng.gen_range(0..100_000)),
                    1 => self.now + rng.gen_range(0..10_000_000),
                    _ => self.now + rng.gen_range(0..1500),
                };
                self.feed(Event::Tick);
            }
            25..=34 if !self.requested.is_empty() => {
                let i = rng.gen_range(0..self.requested.len());
                let (link, conn) = self.requested.swap_remove(i);
                self.conns.push((link, conn));
                let local_ip = ["127.0.0.1", "::1", ""].choose(rng).unwrap().to_string();
                self.feed(Event::Connected {
                    link,
                    conn,
                    local_ip,
                });
            }
            35..=38 if !self.conns.is_empty() => {
                let (link, conn) = *self.conns.choose(rng).unwrap();
                self.conns.retain(|c| *c != (link, conn));
                if conn == ConnKind::Cmd {
                    self.pending.retain(|p| p.0 != link);
                }
                self.feed(Event::Disconnected {
                    link,
                    conn,
                    error: weird(rng),
                });
            }
            39..=69 if !self.pending.is_empty() => {
                let i = rng.gen_range(0..self.pending.len());
                let (link, req, cmd) = self.pending.swap_remove(i);
                let reply = match cmd.as_str() {
                    "INFO" if rng.gen_bool(0.8) => Reply::bulk(random_info(rng, infos)),
                    "PING" if rng.gen_bool(0.7) => Reply::Status("PONG".into()),
                    _ => random_reply(rng, 0, infos),
                };
                self.feed(Event::Reply { link, req, reply });
            }
            70..=79 => {
                let payload = random_hello(rng, hellos);
                if rng.gen_bool(0.5) {
                    self.feed(Event::Hello {
                        payload: Bytes::from(payload),
                    });
                } else if let Some(&(link, _)) = self.conns.choose(rng) {
                    let (channel, payload) = match rng.gen_range(0..10) {
                        0..=7 => (Bytes::from_static(b"__sentinel__:hello"), payload),
                        // rsentinel's handover notices (issue #11), plausible or mangled.
                        8 => (
                            Bytes::from_static(b"__rsentinel__:handover"),
                            random_notice(rng),
                        ),
                        _ => (Bytes::from(weird(rng)), payload),
                    };
                    self.feed(Event::Message {
                        link,
                        channel,
                        payload: Bytes::from(payload),
                    });
                }
            }
            _ => {
                let c = random_command(rng, cmds);
                let args: Vec<Bytes> = c.into_iter().map(Bytes::from).collect();
                let _ = sentinel_command(&mut self.core, self.now, &args);
                self.absorb();
                self.names_allowed |= self.core.config_snapshot().resolve_hostnames;
            }
        }
    }
}

/// The persisted state must render and load back unchanged.
pub fn check_persisted(core: &Sentinel, dir: &Path, names_allowed: bool) {
    let snap = core.config_snapshot();
    let is_ip = |h: &str| h.parse::<std::net::IpAddr>().is_ok();
    let names = snap.masters.iter().any(|m| {
        !is_ip(&m.host)
            || m.known_replicas.iter().any(|r| !is_ip(&r.0))
            || m.known_sentinels.iter().any(|s| !is_ip(&s.0))
    });
    if names && snap.resolve_hostnames {
        // Loading would ask the system resolver (seconds per unknown name offline).
        return;
    }
    let server = ServerConfig {
        dir: Some(dir.display().to_string()),
        ..Default::default()
    };
    let text = rewrite_text("", &GenericStore::default(), &server, &snap);
    let path = dir.join("sentinel.conf");
    std::fs::write(&path, &text).unwrap();
    let loaded = match load(&path, &[]) {
        Ok(l) => l,
        // Names accepted while resolve-hostnames was on load only if the resolver knows
        // them (and resolve-hostnames is still on), and may resolve to an address already
        // listed, exactly as for redis-sentinel: the pure core cannot resolve.
        Err(e)
            if names_allowed
                && (e.to_string().ends_with("hostname.")
                    || e.to_string().ends_with("port for replica.")) =>
        {
            return;
        }
        Err(e) => panic!("unloadable snapshot:\n{text}\n{e}"),
    };
    // A hello can raise a master's config epoch above the current epoch (as in Redis);
    // loading takes the maximum, like `sentinel config-epoch` does in redis-sentinel.
    let mut expected = snap.clone();
    for m in &snap.masters {
        expected.current_epoch = expected.current_epoch.max(m.config_epoch);
    }
    assert_eq!(
        loaded.sentinel, expected,
        "snapshot changed on reload:\n{text}"
    );
}
