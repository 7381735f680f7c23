//! The model Redis: just enough of a Redis server for Sentinel to monitor, discover,
//! promote and re-point it.
//!
//! It keeps a role (master, or replica of an address), a replication offset (masters
//! advance theirs, linked replicas copy their upstream's), a link status, and a run id
//! that changes on every restart. Its INFO carries the replication fields Sentinel
//! parses; PUBLISH fans out to pub/sub connections; MULTI/EXEC applies SLAVEOF and the
//! CLIENT KILLs at EXEC like the reconfiguration transaction expects; `FAILOVER TO` and
//! `CLIENT PAUSE` live in [`super::handover`]. A restart keeps the
//! role, as a real Redis does after the `CONFIG REWRITE` Sentinel sends with SLAVEOF.
//!
//! The golden-timed mode ([`super::golden_mode`]) sets the knobs that make it
//! deterministic (a link that comes up a fixed time after SLAVEOF, a fixed
//! `master_link_down_since_seconds`, SLAVEOF renamed away).

use super::world::World;
use super::{NodeId, Time};
use bytes::Bytes;
use rand::Rng;
use rand::rngs::StdRng;
use rsentinel::core::Event;
use rsentinel::core::instance::ConnKind;
use rsentinel::resp::Reply;

pub const PORT: u16 = 6379;

pub fn ip(r: usize) -> String {
    format!("10.0.0.{}", r + 1)
}

pub struct RedisNode {
    pub ip: String,
    pub port: u16,
    pub alive: bool,
    /// Incarnation; connections accepted by an earlier one are gone.
    pub incarn: u64,
    pub run_id: String,
    /// `None`: master. Otherwise the address it replicates from.
    pub master: Option<(String, u16)>,
    pub link_up: bool,
    /// When the replication link went down; 0 if it never was up.
    pub link_down_since: Time,
    pub offset: u64,
    pub priority: i64,
    /// SLAVEOF renamed away: the command (and a transaction's SLAVEOF) has no effect.
    pub slaveof_disabled: bool,
    /// For a driver without replication steps: when the link of a replica pointed at a
    /// live master comes up; `None` while not syncing.
    pub sync_at: Option<Time>,
    /// INFO reports this `master_link_down_since_seconds` instead of the measured one.
    pub down_since_seconds: Option<i64>,
    /// `FAILOVER TO` running (see [`super::handover`]).
    pub failover: Option<super::handover::Failover>,
    /// `CLIENT PAUSE ... WRITE` until then.
    pub pause_until: Time,
}

impl RedisNode {
    pub fn new(r: usize, master: Option<(String, u16)>, rng: &mut StdRng) -> Self {
        RedisNode::with_id(ip(r), PORT, rsentinel::core::random_hex_id(rng), master)
    }

    /// An instance at `ip:port` with this run id, a master or a linked replica of
    /// `master`, at offset 0 and priority 100.
    pub fn with_id(ip: String, port: u16, run_id: String, master: Option<(String, u16)>) -> Self {
        let linked = master.is_some();
        RedisNode {
            ip,
            port,
            alive: true,
            incarn: 1,
            run_id,
            master,
            link_up: linked,
            link_down_since: 0,
            offset: 0,
            priority: 100,
            slaveof_disabled: false,
            sync_at: None,
            down_since_seconds: None,
            failover: None,
            pause_until: 0,
        }
    }

    pub fn is_master(&self) -> bool {
        self.master.is_none()
    }

    /// The port of the master it replicates from (`None` for a master).
    pub fn master_port(&self) -> Option<u16> {
        self.master.as_ref().map(|m| m.1)
    }

    /// `SLAVEOF host port` (or `NO ONE`) at `now`, unless SLAVEOF is disabled. A new
    /// upstream takes the link down; it comes up at the next replication step, or
    /// `sync_ms` later where [`RedisNode::sync_at`] decides.
    pub fn slaveof(&mut self, host: &str, port: &str, now: Time, sync_ms: u64) {
        if self.slaveof_disabled {
            return;
        }
        if host.eq_ignore_ascii_case("NO") && port.eq_ignore_ascii_case("ONE") {
            self.master = None;
            self.link_up = false;
            self.sync_at = None;
        } else {
            let target = (host.to_ascii_lowercase(), port.parse().unwrap_or(0));
            if self.master.as_ref() != Some(&target) {
                self.link_down_since = if self.master.is_some() && self.link_up {
                    now
                } else {
                    0
                };
                self.master = Some(target);
                self.link_up = false;
                self.sync_at = Some(now + sync_ms);
            }
        }
    }

    /// The INFO text (server and replication sections).
    pub fn info(&self, replicas: &[(String, u16, u64)], now: Time) -> String {
        let mut s = format!(
            "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nrun_id:{}\r\ntcp_port:{}\r\n\r\n# Replication\r\n",
            self.run_id, self.port
        );
        match &self.master {
            None => {
                s += "role:master\r\n";
                s += &format!("connected_slaves:{}\r\n", replicas.len());
                for (n, (ip, port, off)) in replicas.iter().enumerate() {
                    s += &format!(
                        "slave{n}:ip={ip},port={port},state=online,offset={off},lag=0\r\n"
                    );
                }
                let fs = self.failover.as_ref().map_or("no-failover", |f| f.state());
                s += &format!("master_failover_state:{fs}\r\n");
            }
            Some((h, p)) => {
                s += &format!("role:slave\r\nmaster_host:{h}\r\nmaster_port:{p}\r\n");
                if let Some(f) = &self.failover {
                    s += &format!("master_failover_state:{}\r\n", f.state());
                }
                let up = if self.link_up { "up" } else { "down" };
                s += &format!("master_link_status:{up}\r\nmaster_last_io_seconds_ago:1\r\n");
                s += "master_sync_in_progress:0\r\n";
                s += &format!(
                    "slave_read_repl_offset:{0}\r\nslave_repl_offset:{0}\r\n",
                    self.offset
                );
                if !self.link_up {
                    let since = if let Some(s) = self.down_since_seconds {
                        s
                    } else if self.link_down_since == 0 {
                        -1
                    } else {
                        (now.saturating_sub(self.link_down_since) / 1000) as i64
                    };
                    s += &format!("master_link_down_since_seconds:{since}\r\n");
                }
                s += &format!(
                    "slave_priority:{}\r\nslave_read_only:1\r\nreplica_announced:1\r\nconnected_slaves:0\r\n",
                    self.priority
                );
            }
        }
        s += &format!("master_repl_offset:{}\r\n", self.offset);
        s
    }
}

/// The INFO text of `nodes[r]` at `now`: a master lists its alive, linked replicas.
pub fn info(nodes: &[RedisNode], r: usize, now: Time) -> String {
    let node = &nodes[r];
    let replicas: Vec<(String, u16, u64)> = nodes
        .iter()
        .filter(|x| x.alive && x.link_up)
        .filter(|x| x.master == Some((node.ip.clone(), node.port)))
        .map(|x| (x.ip.clone(), x.port, x.offset))
        .collect();
    node.info(&replicas, now)
}

fn upper(b: &Bytes) -> String {
    String::from_utf8_lossy(b).to_ascii_uppercase()
}

impl World {
    /// Execute one command from connection `conn` on Redis `r`.
    pub fn redis_command(&mut self, r: usize, conn: u64, args: &[Bytes]) -> Reply {
        let cmd = args.first().map(upper).unwrap_or_default();
        let in_multi = self.net.conns[&conn].multi.is_some();
        if in_multi && cmd != "EXEC" && cmd != "MULTI" {
            let c = self.net.conns.get_mut(&conn).expect("present");
            c.multi.as_mut().expect("in multi").push(args.to_vec());
            return Reply::Status("QUEUED".into());
        }
        match cmd.as_str() {
            "MULTI" if in_multi => Reply::err("ERR MULTI calls can not be nested"),
            "MULTI" => {
                self.net.conns.get_mut(&conn).expect("present").multi = Some(Vec::new());
                Reply::ok()
            }
            "EXEC" => {
                let queued = self.net.conns.get_mut(&conn).expect("present").multi.take();
                match queued {
                    None => Reply::err("ERR EXEC without MULTI"),
                    Some(q) => {
                        Reply::Array(q.iter().map(|a| self.redis_exec(r, conn, a)).collect())
                    }
                }
            }
            _ => self.redis_exec(r, conn, args),
        }
    }

    /// One command outside of (or at the EXEC of) a transaction.
    fn redis_exec(&mut self, r: usize, conn: u64, args: &[Bytes]) -> Reply {
        let cmd = args.first().map(upper).unwrap_or_default();
        let arg = |i: usize| args.get(i).map(upper).unwrap_or_default();
        match cmd.as_str() {
            "PING" => Reply::Status("PONG".into()),
            "AUTH" => Reply::err(
                "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
            ),
            "INFO" => {
                if self.golden {
                    self.sync_links();
                }
                Reply::bulk(info(&self.redis, r, self.now))
            }
            "SUBSCRIBE" => {
                self.net.conns.get_mut(&conn).expect("present").subscribed = true;
                Reply::Push(vec![
                    Reply::bulk("subscribe"),
                    Reply::Bulk(args.get(1).cloned().unwrap_or_default()),
                    Reply::Int(1),
                ])
            }
            "PUBLISH" if args.len() == 3 => {
                Reply::Int(self.publish(NodeId::Redis(r), &args[1], &args[2]))
            }
            "CLIENT" if arg(1) == "SETNAME" => Reply::ok(),
            "CLIENT" if arg(1) == "PAUSE" || arg(1) == "UNPAUSE" => {
                self.redis_client_pause(r, args)
            }
            "FAILOVER" => self.redis_failover(r, args),
            // The golden-timed tests were fitted to a world where the reconfiguration's
            // CLIENT KILL leaves the other sentinels' connections alone: with the kills,
            // the observers lose the hello published right after a re-point and switch a
            // second later than the capture shows (golden mode, see `golden_mode.rs`).
            "CLIENT" if arg(1) == "KILL" && self.golden => Reply::Int(0),
            "CLIENT" if arg(1) == "KILL" && arg(2) == "TYPE" => {
                let kind = match arg(3).as_str() {
                    "PUBSUB" => ConnKind::PubSub,
                    _ => ConnKind::Cmd,
                };
                let victims: Vec<u64> = self
                    .net
                    .conns_to(NodeId::Redis(r))
                    .into_iter()
                    .filter(|id| *id != conn && self.net.conns[id].kind == kind)
                    .filter(|id| self.net.conns[id].open && !self.net.conns[id].dead)
                    .collect();
                for id in &victims {
                    self.kill_conn(*id, "Server closed the connection");
                }
                Reply::Int(victims.len() as i64)
            }
            "SLAVEOF" | "REPLICAOF" if args.len() == 3 => {
                self.slaveof(r, &arg(1), &arg(2));
                Reply::ok()
            }
            "CONFIG" if arg(1) == "REWRITE" => Reply::ok(),
            "SCRIPT" if arg(1) == "KILL" => {
                Reply::err("NOTBUSY No scripts in execution right now.")
            }
            _ => Reply::err(format!("ERR unknown command '{cmd}'")),
        }
    }

    fn slaveof(&mut self, r: usize, host: &str, port: &str) {
        if self.watch.is_some() && !self.redis[r].is_master() && host == "NO" {
            self.watch_promotion(r);
        }
        let now = self.now;
        let sync = self.sync_ms;
        self.redis[r].slaveof(host, port, now, sync);
        self.trace
            .note(now, format!("redis{r} slaveof {host} {port}"));
    }

    /// Deliver a pub/sub message from `node` to every subscribed connection to it.
    pub fn publish(&mut self, node: NodeId, channel: &Bytes, payload: &Bytes) -> i64 {
        let subs: Vec<u64> = self
            .net
            .conns_to(node)
            .into_iter()
            .filter(|id| {
                let c = &self.net.conns[id];
                c.subscribed && c.open && !c.dead
            })
            .collect();
        for id in &subs {
            let link = self.net.conns[id].link;
            let ev = Event::Message {
                link,
                channel: channel.clone(),
                payload: payload.clone(),
            };
            self.enqueue_owner(*id, ev);
        }
        subs.len() as i64
    }

    /// One replication step: masters take writes, replicas that can reach their
    /// upstream (both ways) copy its offset, the others report the link down.
    pub fn replicate(&mut self) {
        let now = self.now;
        self.handover_step();
        for r in 0..self.redis.len() {
            // A paused master takes no writes (coordinated handover).
            let paused = self.redis[r].failover.is_some() || self.redis[r].pause_until > now;
            if self.redis[r].alive && self.redis[r].master.is_none() && !paused {
                let w = self.rng.gen_range(0..200);
                self.redis[r].offset += w;
            }
        }
        for r in 0..self.redis.len() {
            let Some((h, p)) = self.redis[r].master.clone() else {
                continue;
            };
            if !self.redis[r].alive {
                continue;
            }
            let me = NodeId::Redis(r);
            let up = match self.resolve(&h, p) {
                Some(NodeId::Redis(u)) if u != r && self.redis[u].alive => {
                    let reachable = !self.net.is_blocked(me, Some(NodeId::Redis(u)))
                        && !self.net.is_blocked(NodeId::Redis(u), Some(me));
                    reachable.then_some(self.redis[u].offset)
                }
                _ => None,
            };
            let n = &mut self.redis[r];
            match up {
                Some(off) => {
                    n.link_up = true;
                    n.offset = off;
                }
                None if n.link_up => {
                    n.link_up = false;
                    n.link_down_since = now;
                }
                None => {}
            }
        }
    }

    /// Kill Redis `r`: its connections break (owners told), it stops replicating.
    pub fn kill_redis(&mut self, r: usize) {
        self.trace.note(self.now, format!("kill redis{r}"));
        self.redis[r].alive = false;
        self.redis[r].failover = None;
        self.redis[r].pause_until = 0;
        for id in self.net.conns_to(NodeId::Redis(r)) {
            self.kill_conn(id, "Connection reset by peer");
        }
    }

    /// Restart Redis `r` with its persisted role and a new run id.
    pub fn restart_redis(&mut self, r: usize) {
        if self.redis[r].alive {
            return;
        }
        self.trace.note(self.now, format!("restart redis{r}"));
        let run_id = rsentinel::core::random_hex_id(&mut self.rng);
        let n = &mut self.redis[r];
        n.alive = true;
        n.incarn += 1;
        n.run_id = run_id;
        if n.link_up {
            n.link_up = false;
            n.link_down_since = self.now;
        }
    }
}
