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
use rsentinel::core::{Event, Identity, Sentinel};
use rsentinel::resp::Reply;

pub const PORT: u16 = 26379;

pub struct SentinelNode {
    pub ip: String,
    pub port: u16,
    pub myid: String,
    /// `None` while crashed.
    pub core: Option<Sentinel>,
    /// Incarnation, bumped on every restart.
    pub incarn: u64,
    /// Local clock = global clock + offset (clock-jump faults move it).
    pub clock_offset: i64,
    /// The config file as last flushed.
    pub persisted: SentinelConfig,
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
        let mut node = SentinelNode {
            ip: format!("10.0.1.{}", i + 1),
            port: PORT,
            myid,
            core: None,
            incarn: 0,
            clock_offset: 0,
            persisted: cfg,
        };
        node.boot(rng.r#gen(), now);
        node
    }

    /// Build a core from the persisted config (first start and every restart).
    fn boot(&mut self, seed: u64, local_now: Time) {
        let id = Identity {
            port: self.port,
            ..Default::default()
        };
        let mut core = Sentinel::new(&self.persisted, id, seed, local_now);
        core.set_executable_check(|_| false);
        core.announce_monitors(local_now);
        self.core = Some(core);
        self.incarn += 1;
    }
}

impl World {
    /// Sentinel `i`'s clock.
    pub fn local_time(&self, i: usize) -> Time {
        (self.now as i64 + self.sentinels[i].clock_offset) as Time
    }

    /// A peer's command arriving at sentinel `j`: [`answer`], with the injected bug (if
    /// any) applied first and the vote it announces recorded for the checker.
    pub fn peer_command(&mut self, j: usize, args: &[Bytes]) -> Reply {
        let local = self.local_time(j);
        let tamper = self.opts.tamper;
        let Some(core) = self.sentinels[j].core.as_mut() else {
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
        let Some(core) = self.sentinels[i].core.as_ref() else {
            return;
        };
        let snap = core.config_snapshot();
        self.check.persisted(&self.sentinels[i].myid, &snap);
        self.sentinels[i].persisted = snap;
    }

    /// Crash sentinel `i`: its connections go away, peers connected to it see resets.
    pub fn crash_sentinel(&mut self, i: usize) {
        if self.sentinels[i].core.is_none() {
            return;
        }
        self.trace.note(self.now, format!("crash sentinel{i}"));
        self.sentinels[i].core = None;
        for id in self.net.conns_of(i) {
            self.net.remove(id);
        }
        for id in self.net.conns_to(NodeId::Sentinel(i)) {
            self.kill_conn(id, "Connection reset by peer");
        }
    }

    /// Restart sentinel `i` from its config file.
    pub fn restart_sentinel(&mut self, i: usize) {
        if self.sentinels[i].core.is_some() {
            return;
        }
        self.trace.note(self.now, format!("restart sentinel{i}"));
        let seed = self.rng.r#gen();
        let local = self.local_time(i);
        self.sentinels[i].boot(seed, local);
        let upstream = self.opts.upstream_election;
        if let Some(core) = self.sentinels[i].core.as_mut() {
            core.set_upstream_election(upstream);
        }
        let now = self.now;
        let core = self.sentinels[i].core.as_ref().expect("booted");
        self.check.restarted(now, &self.sentinels[i].myid, core);
        self.schedule_tick(i);
        self.after_core(i);
    }

    /// Issue `SENTINEL FAILOVER <master>` to sentinel `i` as an operator would.
    pub fn admin_failover(&mut self, i: usize) {
        let name = self.master_name.clone();
        let local = self.local_time(i);
        let Some(core) = self.sentinels[i].core.as_mut() else {
            return;
        };
        let args: Vec<Bytes> = ["SENTINEL", "FAILOVER", &name]
            .iter()
            .map(|s| Bytes::copy_from_slice(s.as_bytes()))
            .collect();
        let reply = sentinel_command(core, local, &args);
        self.trace.note(
            self.now,
            format!("sentinel{i} SENTINEL FAILOVER -> {reply:?}"),
        );
        if reply == Reply::ok() {
            let epoch = core.master(&name).map_or(0, |m| m.failover_epoch);
            self.check.forced(&name, epoch);
        }
        self.after_core(i);
    }

    /// Schedule sentinel `i`'s restart after `ms`.
    pub fn restart_sentinel_in(&mut self, i: usize, ms: u64) {
        self.schedule(self.now + ms, Msg::RestartSentinel(i));
    }
}

/// What a sentinel answers a peer's command at local time `now`, through the same entry
/// points the server uses: `sentinel_command` for `SENTINEL ...`, `process_hello` for a
/// hello PUBLISH. Both worlds (the simulation and [`super::cluster`]) answer with it.
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
