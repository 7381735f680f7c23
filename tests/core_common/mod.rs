//! A fake world around one core: a clock in milliseconds, a record of everything the
//! core asked for, and helpers to answer its requests.
#![allow(dead_code)]

use bytes::Bytes;
use rsentinel::config::{LogLevel, MasterConfig, SentinelConfig};
use rsentinel::core::instance::{ConnKind, LinkId, ReqId};
use rsentinel::core::{Action, Event, Identity, Sentinel};
use rsentinel::resp::Reply;

pub const MYID: &str = "f9351bc32a024bcd4d518040ae807e61bcbe50b5";
pub const PEER1: &str = "11cee6dfd73f0ef21cc15b3e7c14074dd44c7ddb";
pub const PEER2: &str = "cbc2f454bb1f7b019a27bd6c7f8cda554f7504d6";
pub const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");

/// A command the core sent.
#[derive(Debug, Clone)]
pub struct Sent {
    pub at: u64,
    pub link: LinkId,
    pub conn: ConnKind,
    pub req: Option<ReqId>,
    pub args: Vec<String>,
    pub answered: bool,
}

pub struct Sim {
    pub core: Sentinel,
    pub now: u64,
    pub sent: Vec<Sent>,
    /// (time, channel, payload)
    pub events: Vec<(u64, String, String)>,
    pub logs: Vec<String>,
    pub persists: usize,
    pub all: Vec<Action>,
    /// Answer every Connect with Connected (local ip 127.0.0.1) right away.
    pub auto_connect: bool,
}

/// The `mymaster 127.0.0.1 41000 2` config used by the golden topology.
pub fn master_cfg() -> MasterConfig {
    let mut m = MasterConfig::new("mymaster", "127.0.0.1", 41000, 2);
    m.down_after_ms = 2000;
    m.failover_timeout_ms = 10000;
    m
}

pub fn config(masters: Vec<MasterConfig>) -> SentinelConfig {
    SentinelConfig {
        myid: Some(MYID.to_string()),
        masters,
        ..Default::default()
    }
}

impl Sim {
    pub fn new(cfg: SentinelConfig) -> Sim {
        let id = Identity {
            port: 41100,
            ..Default::default()
        };
        Sim {
            core: Sentinel::new(&cfg, id, 7, 1_000_000),
            now: 1_000_000,
            sent: Vec::new(),
            events: Vec::new(),
            logs: Vec::new(),
            persists: 0,
            all: Vec::new(),
            auto_connect: true,
        }
    }

    pub fn standard() -> Sim {
        Sim::new(config(vec![master_cfg()]))
    }

    pub fn feed(&mut self, ev: Event) {
        self.core.handle(self.now, ev);
        let actions = self.core.drain_actions();
        let mut connected = Vec::new();
        for a in actions {
            self.all.push(a.clone());
            match a {
                Action::Send {
                    link,
                    conn,
                    req,
                    args,
                } => self.sent.push(Sent {
                    at: self.now,
                    link,
                    conn,
                    req,
                    args: args
                        .iter()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .collect(),
                    answered: false,
                }),
                Action::Event {
                    channel, payload, ..
                } => self.events.push((self.now, channel, payload)),
                Action::Log { text, .. } => self.logs.push(text),
                Action::PersistConfig => self.persists += 1,
                Action::Connect { link, conn, .. } if self.auto_connect => {
                    connected.push((link, conn))
                }
                _ => {}
            }
        }
        for (link, conn) in connected {
            self.feed(Event::Connected {
                link,
                conn,
                local_ip: "127.0.0.1".into(),
            });
        }
    }

    pub fn tick_at(&mut self, t: u64) {
        self.now = t;
        self.feed(Event::Tick);
    }

    /// Tick every `step` ms for `ms` ms; with `healthy`, every instance answers PING
    /// with PONG and PUBLISH with `:1`.
    pub fn run(&mut self, ms: u64, step: u64, healthy: bool) {
        let end = self.now + ms;
        while self.now + step <= end {
            self.tick_at(self.now + step);
            if healthy {
                self.answer_all("PING", Reply::Status("PONG".into()));
                self.answer_all("PUBLISH", Reply::Int(1));
            }
        }
    }

    /// Unanswered requests whose command name is `cmd`.
    pub fn pending(&self, cmd: &str) -> Vec<Sent> {
        self.sent
            .iter()
            .filter(|s| s.req.is_some() && !s.answered && s.args[0] == cmd)
            .cloned()
            .collect()
    }

    pub fn answer(&mut self, s: &Sent, reply: Reply) {
        for x in self.sent.iter_mut() {
            if x.req == s.req && x.link == s.link {
                x.answered = true;
            }
        }
        self.feed(Event::Reply {
            link: s.link,
            req: s.req.unwrap(),
            reply,
        });
    }

    pub fn answer_all(&mut self, cmd: &str, reply: Reply) {
        for s in self.pending(cmd) {
            self.answer(&s, reply.clone());
        }
    }

    /// Answer the pending requests `cmd` on `link` only.
    pub fn answer_on(&mut self, link: LinkId, cmd: &str, reply: Reply) {
        for s in self.pending(cmd).into_iter().filter(|s| s.link == link) {
            self.answer(&s, reply.clone());
        }
    }

    pub fn sends_on(&self, link: LinkId) -> Vec<Vec<String>> {
        self.sent
            .iter()
            .filter(|s| s.link == link)
            .map(|s| s.args.clone())
            .collect()
    }

    pub fn master_link(&self) -> LinkId {
        self.core.masters[0].common.link
    }

    pub fn replica_link(&self, name: &str) -> LinkId {
        self.core.masters[0].replica(name).unwrap().common.link
    }

    pub fn sentinel_link(&self, runid: &str) -> LinkId {
        self.core.masters[0]
            .sentinels
            .iter()
            .find(|s| s.common.runid == runid)
            .unwrap()
            .common
            .link
    }

    /// Events (channel payload) since index `from`.
    pub fn events_since(&self, from: usize) -> Vec<String> {
        self.events[from..]
            .iter()
            .map(|(_, c, p)| format!("{c} {p}"))
            .collect()
    }

    pub fn has_event(&self, line: &str) -> bool {
        self.events
            .iter()
            .any(|(_, c, p)| format!("{c} {p}") == line)
    }

    pub fn clear(&mut self) {
        self.sent.iter_mut().for_each(|s| s.answered = true);
        self.events.clear();
        self.logs.clear();
        self.persists = 0;
        self.all.clear();
    }

    /// Deliver a hello as if it arrived on the master's subscription.
    pub fn hello_on_master(&mut self, payload: &str) {
        let link = self.master_link();
        self.feed(Event::Message {
            link,
            channel: Bytes::from_static(b"__sentinel__:hello"),
            payload: Bytes::copy_from_slice(payload.as_bytes()),
        });
    }
}

/// RESP2 multibulk bytes of a command, as the shell will write them.
pub fn wire(args: &[String]) -> Vec<u8> {
    let r = Reply::Array(args.iter().map(Reply::bulk).collect());
    r.to_bytes(2).to_vec()
}

pub fn info_reply(text: &str) -> Reply {
    Reply::Bulk(Bytes::copy_from_slice(text.as_bytes()))
}

pub fn ask_reply(down: i64, leader: &str, epoch: i64) -> Reply {
    Reply::Array(vec![
        Reply::Int(down),
        Reply::bulk(leader),
        Reply::Int(epoch),
    ])
}

/// A minimal INFO text of a replica.
pub fn replica_info(runid: &str, master_port: u16, link_up: bool) -> String {
    format!(
        "# Server\r\nrun_id:{runid}\r\n# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:{master_port}\r\nmaster_link_status:{}\r\nslave_repl_offset:100\r\nslave_priority:100\r\nreplica_announced:1\r\n",
        if link_up { "up" } else { "down" }
    )
}

pub fn master_info(runid: &str, replicas: &[u16]) -> String {
    let mut s = format!("# Server\r\nrun_id:{runid}\r\n# Replication\r\nrole:master\r\n");
    for (n, p) in replicas.iter().enumerate() {
        s.push_str(&format!(
            "slave{n}:ip=127.0.0.1,port={p},state=online,offset=1,lag=0\r\n"
        ));
    }
    s
}

/// The bulk strings of a golden `.resp` file, in order (tiny RESP2 reader).
pub fn golden_bulks(path: &str) -> Vec<String> {
    let data = std::fs::read(format!("{GOLDEN}/{path}")).unwrap();
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let end = i + data[i..].windows(2).position(|w| w == b"\r\n").unwrap();
        let line = &data[i..end];
        i = end + 2;
        if line.first() == Some(&b'$') {
            let n: i64 = std::str::from_utf8(&line[1..]).unwrap().parse().unwrap();
            if n >= 0 {
                let n = n as usize;
                out.push(String::from_utf8_lossy(&data[i..i + n]).into_owned());
                i += n + 2;
            }
        }
    }
    out
}

pub fn level_of(a: &Action) -> Option<LogLevel> {
    match a {
        Action::Event { level, .. } => Some(*level),
        _ => None,
    }
}
