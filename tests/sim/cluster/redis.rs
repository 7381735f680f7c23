//! The scripted Redis instances of the test world: what they answer and the INFO
//! text they would send.

use super::World;
use bytes::Bytes;
use rsentinel::core::Event;
use rsentinel::resp::Reply;

pub struct Redis {
    pub port: u16,
    pub runid: String,
    pub alive: bool,
    pub is_master: bool,
    pub master_port: u16,
    /// When the replication link is (or will be) up; None while not syncing.
    pub link_up_at: Option<u64>,
    pub priority: i64,
    pub offset: u64,
    /// SLAVEOF renamed away: the transaction has no effect.
    pub slaveof_disabled: bool,
}

impl World {
    pub(super) fn redis_answer(&mut self, port: u16, args: &[String]) -> Option<Reply> {
        let now = self.now;
        if !self.redis.iter().any(|r| r.port == port && r.alive) {
            return None;
        }
        Some(match args[0].as_str() {
            "PING" => Reply::Status("PONG".into()),
            "INFO" => Reply::Bulk(Bytes::from(self.info_text(port))),
            "PUBLISH" => {
                let subs: Vec<_> = self.subs.iter().filter(|s| s.2 == port).cloned().collect();
                for (sn, sl, _) in &subs {
                    self.queue.push_back((
                        *sn,
                        Event::Message {
                            link: *sl,
                            channel: Bytes::copy_from_slice(args[1].as_bytes()),
                            payload: Bytes::copy_from_slice(args[2].as_bytes()),
                        },
                    ));
                }
                Reply::Int(subs.len() as i64)
            }
            "SLAVEOF" => {
                let sync = self.sync_ms;
                let r = self.redis(port);
                if !r.slaveof_disabled {
                    if args[1] == "NO" {
                        r.is_master = true;
                        r.link_up_at = None;
                    } else {
                        r.is_master = false;
                        r.master_port = args[2].parse().unwrap();
                        r.link_up_at = Some(now + sync);
                    }
                }
                Reply::Status("OK".into())
            }
            _ => Reply::Status("OK".into()),
        })
    }

    fn link_up(&self, r: &Redis) -> bool {
        r.link_up_at.is_some_and(|t| t <= self.now)
            && self
                .redis
                .iter()
                .any(|m| m.port == r.master_port && m.alive && m.is_master)
    }

    /// The INFO text an instance would send now.
    pub fn info_text(&self, port: u16) -> String {
        let r = self.redis.iter().find(|r| r.port == port).unwrap();
        let mut s = format!(
            "# Server\r\nrun_id:{}\r\ntcp_port:{port}\r\n\r\n# Replication\r\n",
            r.runid
        );
        if r.is_master {
            s.push_str("role:master\r\n");
            let replicas: Vec<&Redis> = self
                .redis
                .iter()
                .filter(|x| x.alive && !x.is_master && x.master_port == port && self.link_up(x))
                .collect();
            s.push_str(&format!("connected_slaves:{}\r\n", replicas.len()));
            for (i, x) in replicas.iter().enumerate() {
                s.push_str(&format!(
                    "slave{i}:ip=127.0.0.1,port={},state=online,offset={},lag=0\r\n",
                    x.port, x.offset
                ));
            }
        } else {
            let up = self.link_up(r);
            s.push_str(&format!(
                "role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:{}\r\nmaster_link_status:{}\r\n",
                r.master_port,
                if up { "up" } else { "down" }
            ));
            if !up {
                s.push_str("master_link_down_since_seconds:1\r\n");
            }
            s.push_str(&format!(
                "slave_repl_offset:{}\r\nslave_priority:{}\r\nslave_read_only:1\r\nreplica_announced:1\r\n",
                r.offset, r.priority
            ));
        }
        s
    }
}
