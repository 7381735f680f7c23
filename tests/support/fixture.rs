//! A fake world around one core: a clock in milliseconds, a record of everything the
//! core asked for, and helpers to answer its requests; plus the golden topology's s1
//! for the SENTINEL command tests, which drive a core directly through the command layer.

use bytes::Bytes;
use rsentinel::commands::sentinel::sentinel_command;
use rsentinel::config::{MasterConfig, SentinelConfig};
use rsentinel::core::instance::{ConnKind, LinkId, ReqId};
use rsentinel::core::{Action, Event, Identity, Sentinel};
use rsentinel::resp::Reply;

use super::resp::{V, pairs};

pub use super::{IDS, T0};

/// s1, s2 and s3 of the golden captures.
pub const MYID: &str = IDS[0];
pub const PEER1: &str = IDS[1];
pub const PEER2: &str = IDS[2];

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
    /// Every Connect the core asked for: (time, connection).
    pub connects: Vec<(u64, ConnKind)>,
    /// Every Close the core asked for: (time, connection).
    pub closes: Vec<(u64, ConnKind)>,
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
    /// A core on port 41100 starting at 1_000_000 ms.
    pub fn new(cfg: SentinelConfig) -> Sim {
        let id = Identity {
            port: 41100,
            ..Default::default()
        };
        Sim::with_identity(cfg, id, 1_000_000)
    }

    /// A core with this identity, created (and its clock starting) at `now`.
    pub fn with_identity(cfg: SentinelConfig, id: Identity, now: u64) -> Sim {
        Sim {
            core: Sentinel::new(&cfg, id, 7, now),
            now,
            sent: Vec::new(),
            events: Vec::new(),
            logs: Vec::new(),
            persists: 0,
            all: Vec::new(),
            connects: Vec::new(),
            closes: Vec::new(),
            auto_connect: true,
        }
    }

    pub fn standard() -> Sim {
        Sim::new(config(vec![master_cfg()]))
    }

    /// The standard topology plus two known peers (PEER1, PEER2), connected and healthy
    /// for 3 s, the master's INFO answered, the event log cleared.
    pub fn with_peers() -> Sim {
        let mut m = master_cfg();
        m.known_sentinels = vec![
            ("127.0.0.1".into(), 41101, PEER1.into()),
            ("127.0.0.1".into(), 41102, PEER2.into()),
        ];
        let mut sim = Sim::new(config(vec![m]));
        sim.run(3000, 100, true);
        sim.answer_all("INFO", info_reply(&master_info(&"a".repeat(40), &[])));
        sim.clear();
        sim
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
                Action::Connect { link, conn, .. } => {
                    self.connects.push((self.now, conn));
                    if self.auto_connect {
                        connected.push((link, conn));
                    }
                }
                Action::Close { conn, .. } => self.closes.push((self.now, conn)),
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

    /// Answer every unanswered request, each with `reply(command name)`.
    pub fn answer_each(&mut self, reply: impl Fn(&str) -> Reply) {
        let pending: Vec<Sent> = self
            .sent
            .iter()
            .filter(|s| s.req.is_some() && !s.answered)
            .cloned()
            .collect();
        for s in pending {
            self.answer(&s, reply(&s.args[0]));
        }
    }

    /// Untracked commands named `cmd` sent so far (e.g. SUBSCRIBE).
    pub fn untracked(&self, cmd: &str) -> usize {
        self.sent
            .iter()
            .filter(|s| s.req.is_none() && s.args[0] == cmd)
            .count()
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
        self.core.masters()[0].common.link
    }

    pub fn replica_link(&self, name: &str) -> LinkId {
        self.core.masters()[0].replica(name).unwrap().common.link
    }

    pub fn sentinel_link(&self, runid: &str) -> LinkId {
        self.core.masters()[0]
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

// The golden topology's s1, driven through the SENTINEL command layer.

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
        ("127.0.0.1".into(), 41101, PEER1.into()),
        ("127.0.0.1".into(), 41102, PEER2.into()),
    ];
    SentinelConfig {
        myid: Some(MYID.into()),
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
    c.set_executable_check(|p| p.starts_with("/tmp/sg/"));
    c
}

/// Mark every link as fully connected with a fresh PING reply, as in steady state.
pub fn connect_all(core: &mut Sentinel) {
    let t = core.test_access();
    let now = *t.now;
    for l in t.links.values_mut() {
        l.cc = true;
        l.pc = true;
        l.act_ping_time = 0;
        l.last_avail_time = now;
        l.last_pong_time = now;
    }
}

/// Give master 0's replicas INFO-derived state so they are healthy promotion candidates.
pub fn healthy_replicas(core: &mut Sentinel, master_port: u16) {
    let t = core.test_access();
    let now = *t.now;
    for (i, r) in t.masters[0].replicas.iter_mut().enumerate() {
        r.common.runid = format!("{:040x}", i + 1);
        r.common.info_refresh = now;
        r.master_link_status_up = true;
        r.slave_master_host = Some("127.0.0.1".into());
        r.slave_master_port = master_port;
    }
}

pub fn link_of_master(core: &Sentinel) -> LinkId {
    core.masters()[0].common.link
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

/// Run a SENTINEL command line at the fixture's clock: the core's last input time,
/// which these tests move with `test_access().now` (see [`set_clock`]).
pub fn run(core: &mut Sentinel, line: &str) -> Reply {
    let args: Vec<Bytes> = split_args(line).into_iter().map(Bytes::from).collect();
    let now = clock(core);
    sentinel_command(core, now, &args)
}

/// The command fixture's clock (the time of the core's last input).
pub fn clock(core: &mut Sentinel) -> u64 {
    *core.test_access().now
}

/// Move the command fixture's clock: the next [`run`] arrives at `now`.
pub fn set_clock(core: &mut Sentinel, now: u64) {
    *core.test_access().now = now;
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
