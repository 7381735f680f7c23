//! Sentinel nodes: a real core, its clock offset and its config file.
//!
//! The "config file" is the `config_snapshot()` taken when the core last asked for
//! [`rsentinel::core::Action::PersistConfig`]; a restart builds a brand-new core from
//! it, so state the core forgot to persist is really lost and the checks can see it.
//! A peer talking to a sentinel goes through the same public entry points the server
//! uses: `sentinel_command` for `SENTINEL ...` and `process_hello` for a hello PUBLISH.

use super::world::{Msg, World};
use super::{NodeId, Time};
use bytes::Bytes;
use rand::Rng;
use rand::rngs::StdRng;
use rsentinel::commands::sentinel::sentinel_command;
use rsentinel::config::{MasterConfig, SentinelConfig};
use rsentinel::core::{Action, Event, Identity, Sentinel};
use rsentinel::resp::Reply;

pub const PORT: u16 = 26379;

pub struct SentinelNode {
    pub ip: String,
    pub port: u16,
    pub myid: String,
    /// The running core, or the last one while crashed: a test still reads what an
    /// exited sentinel had decided.
    pub core: Sentinel,
    pub running: bool,
    /// Incarnation, bumped on every restart.
    pub incarn: u64,
    /// Local clock = global clock + offset (clock-jump faults move it).
    pub clock_offset: i64,
    /// The config file as last flushed.
    pub persisted: SentinelConfig,
    /// The code of the last `Exit` the core asked for.
    pub exited: Option<i32>,
    /// Published events as (time, "channel payload"). This and the next three fields
    /// are what the golden-timed tests compare with the captures; only that mode
    /// keeps them, the seeded runs would pay for them on every step.
    pub events: Vec<(Time, String)>,
    pub logs: Vec<(Time, String)>,
    pub actions: Vec<(Time, Action)>,
    /// Commands sent on command connections: (time, target port, args).
    pub sent: Vec<(Time, u16, Vec<String>)>,
}

impl SentinelNode {
    pub fn new(
        i: usize,
        master: &str,
        quorum: u32,
        down_after: u64,
        failover_timeout: u64,
        rng: &mut StdRng,
        now: Time,
    ) -> Self {
        let mut m = MasterConfig::new(master, &super::redis::ip(0), super::redis::PORT, quorum);
        m.down_after_ms = down_after;
        m.failover_timeout_ms = failover_timeout;
        let myid = rsentinel::core::random_hex_id(rng);
        let cfg = SentinelConfig {
            myid: Some(myid.clone()),
            masters: vec![m],
            ..Default::default()
        };
        SentinelNode::start(format!("10.0.1.{}", i + 1), PORT, cfg, rng.r#gen(), now)
    }

    /// A sentinel at `ip:port` started from `cfg` (which names its myid).
    pub fn start(ip: String, port: u16, cfg: SentinelConfig, seed: u64, now: Time) -> Self {
        SentinelNode {
            myid: cfg.myid.clone().unwrap_or_default(),
            core: SentinelNode::boot_core(&cfg, port, seed, now),
            ip,
            port,
            running: true,
            incarn: 1,
            clock_offset: 0,
            persisted: cfg,
            exited: None,
            events: Vec::new(),
            logs: Vec::new(),
            actions: Vec::new(),
            sent: Vec::new(),
        }
    }

    /// Restart from the persisted config.
    fn boot(&mut self, seed: u64, local_now: Time) {
        self.core = SentinelNode::boot_core(&self.persisted, self.port, seed, local_now);
        self.running = true;
        self.incarn += 1;
    }

    /// A core as the server builds one (first start and every restart).
    fn boot_core(cfg: &SentinelConfig, port: u16, seed: u64, local_now: Time) -> Sentinel {
        let id = Identity {
            port,
            ..Default::default()
        };
        let mut core = Sentinel::new(cfg, id, seed, local_now);
        core.set_executable_check(|_| false);
        core.announce_monitors(local_now);
        core
    }

    pub fn live(&self) -> Option<&Sentinel> {
        self.running.then_some(&self.core)
    }

    pub fn live_mut(&mut self) -> Option<&mut Sentinel> {
        self.running.then_some(&mut self.core)
    }
}

impl World {
    /// Sentinel `i`'s clock.
    pub fn local_time(&self, i: usize) -> Time {
        (self.now as i64 + self.nodes[i].clock_offset) as Time
    }

    /// A peer's command arriving at sentinel `j`: [`answer`], with the injected bug (if
    /// any) applied first and the vote it announces recorded for the checker.
    pub fn peer_command(&mut self, j: usize, args: &[Bytes]) -> Reply {
        let local = self.local_time(j);
        let tamper = self.opts.tamper;
        let Some(core) = self.nodes[j].live_mut() else {
            return Reply::err("ERR sentinel is down");
        };
        let sentinel = args[0].eq_ignore_ascii_case(b"SENTINEL");
        if let (true, Some(f)) = (sentinel, tamper) {
            f(j, core);
        }
        let reply = answer(core, local, args);
        if let (true, Some((m, e, l))) = (sentinel, vote_in_reply(core, args, &reply)) {
            self.check.vote(self.now, j, core.myid(), &m, e, &l);
        }
        self.after_core(j);
        reply
    }

    /// Take the config file from sentinel `i`'s current state.
    pub fn persist(&mut self, i: usize) {
        let Some(core) = self.nodes[i].live() else {
            return;
        };
        let snap = core.config_snapshot();
        self.check.persisted(&self.nodes[i].myid, &snap);
        self.nodes[i].persisted = snap;
    }

    /// Crash sentinel `i`: its connections go away, peers connected to it see resets.
    pub fn crash_sentinel(&mut self, i: usize) {
        if !self.nodes[i].running {
            return;
        }
        self.trace.note(self.now, format!("crash sentinel{i}"));
        self.nodes[i].running = false;
        for id in self.net.conns_of(i) {
            self.net.remove(id);
        }
        for id in self.net.conns_to(NodeId::Sentinel(i)) {
            self.kill_conn(id, "Connection reset by peer");
        }
    }

    /// Restart sentinel `i` from its config file.
    pub fn restart_sentinel(&mut self, i: usize) {
        if self.nodes[i].running {
            return;
        }
        self.trace.note(self.now, format!("restart sentinel{i}"));
        let seed = self.rng.r#gen();
        let local = self.local_time(i);
        self.nodes[i].boot(seed, local);
        let upstream = self.opts.upstream_election;
        self.nodes[i].core.set_upstream_election(upstream);
        let now = self.now;
        self.check
            .restarted(now, &self.nodes[i].myid, &self.nodes[i].core);
        if self.watch.is_some() {
            self.watch_restart(i);
        }
        self.schedule_tick(i);
        self.after_core(i);
    }

    /// Issue `SENTINEL FAILOVER <master>` (with `COORDINATED` when the options say so)
    /// to sentinel `i` as an operator would.
    pub fn admin_failover(&mut self, i: usize) {
        let name = self.master_name.clone();
        let mut words = vec!["SENTINEL", "FAILOVER", &name];
        if self.opts.coordinated {
            words.push("COORDINATED");
        }
        let args: Vec<Bytes> = words
            .iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect();
        self.operator_command(i, &args);
    }

    /// A client's command to sentinel `i` (`None` while it is down). A failover it
    /// forces is exempt from the election checks: redis-sentinel starts one without
    /// votes.
    pub fn operator_command(&mut self, i: usize, args: &[Bytes]) -> Option<Reply> {
        let local = self.local_time(i);
        let core = self.nodes[i].live_mut()?;
        let reply = sentinel_command(core, local, args);
        let words: Vec<_> = args.iter().map(|a| String::from_utf8_lossy(a)).collect();
        let failover = (3..=4).contains(&words.len())
            && words[0].eq_ignore_ascii_case("SENTINEL")
            && words[1].eq_ignore_ascii_case("FAILOVER");
        self.trace.note(
            self.now,
            format!(
                "sentinel{i} {} -> {reply:?}",
                words[..2.min(words.len())].join(" ")
            ),
        );
        if failover && reply == Reply::ok() {
            let epoch = core.master(&words[2]).map_or(0, |m| m.failover_epoch);
            self.check.forced(&words[2], epoch);
        }
        self.after_core(i);
        Some(reply)
    }

    /// Schedule sentinel `i`'s restart after `ms`.
    pub fn restart_sentinel_in(&mut self, i: usize, ms: u64) {
        self.schedule(self.now + ms, Msg::RestartSentinel(i));
    }
}

/// What a sentinel answers a peer's command at local time `now`, through the same entry
/// points the server uses: `sentinel_command` for `SENTINEL ...`, `process_hello` for a
/// hello PUBLISH.
pub fn answer(core: &mut Sentinel, now: Time, args: &[Bytes]) -> Reply {
    let cmd = String::from_utf8_lossy(&args[0]).to_ascii_uppercase();
    match cmd.as_str() {
        "PING" => Reply::Status("PONG".into()),
        "AUTH" => Reply::err(
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
        ),
        "CLIENT" => Reply::ok(),
        "PUBLISH" if args.len() == 3 => {
            if args[1].as_ref() == rsentinel::core::monitor::HELLO_CHANNEL.as_bytes() {
                let payload = args[2].clone();
                core.handle(now, Event::Hello { payload });
            }
            Reply::Int(0)
        }
        "SENTINEL" => sentinel_command(core, now, args),
        _ => Reply::err(format!("ERR unknown command '{cmd}'")),
    }
}

/// The vote a `SENTINEL is-master-down-by-addr` reply announces, as (master name,
/// epoch, leader): what the peer will count, so it must match the voter's record.
fn vote_in_reply(core: &Sentinel, args: &[Bytes], reply: &Reply) -> Option<(String, u64, String)> {
    if !args.get(1)?.eq_ignore_ascii_case(b"is-master-down-by-addr") {
        return None;
    }
    let Reply::Array(items) = reply else {
        return None;
    };
    let [_, Reply::Bulk(leader), Reply::Int(epoch)] = items.as_slice() else {
        return None;
    };
    if leader.as_ref() == b"*" || *epoch <= 0 {
        return None;
    }
    let host = String::from_utf8_lossy(args.get(2)?);
    let port = String::from_utf8_lossy(args.get(3)?).parse().ok()?;
    let m = core.master_by_addr(&host, port)?;
    let leader = String::from_utf8_lossy(leader).into_owned();
    Some((core.masters()[m].common.name.clone(), *epoch as u64, leader))
}
