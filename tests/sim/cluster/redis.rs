//! What the model Redis instances ([`RedisNode`], the simulation's) answer on the
//! golden-timed driver: commands are served on the spot, PUBLISH reaches the hello
//! subscriptions at once, and a replica pointed at a live master by SLAVEOF reports its
//! link up `sync_ms` later (there are no replication steps).

use super::World;
use crate::sim::redis::{self, RedisNode};
use bytes::Bytes;
use rsentinel::core::Event;
use rsentinel::resp::Reply;

impl World {
    pub(super) fn redis_answer(&mut self, port: u16, args: &[String]) -> Option<Reply> {
        let now = self.now;
        let r = self.redis.iter().position(|r| r.port == port && r.alive)?;
        Some(match args[0].as_str() {
            "PING" => Reply::Status("PONG".into()),
            "INFO" => {
                self.sync_links();
                Reply::Bulk(Bytes::from(redis::info(&self.redis, r, now)))
            }
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
                self.redis[r].slaveof(&args[1], &args[2], now, sync);
                Reply::Status("OK".into())
            }
            _ => Reply::Status("OK".into()),
        })
    }

    /// The replication links as they are now: a replica's is up from its `sync_at` on
    /// while the instance it points at is alive and a master.
    fn sync_links(&mut self) {
        let up: Vec<bool> = self
            .redis
            .iter()
            .map(|r| {
                r.sync_at.is_some_and(|t| t <= self.now)
                    && r.master.as_ref().is_some_and(|(h, p)| {
                        self.redis
                            .iter()
                            .any(|m| &m.ip == h && m.port == *p && m.alive && m.is_master())
                    })
            })
            .collect();
        for (r, up) in self.redis.iter_mut().zip(up) {
            r.link_up = up;
        }
    }

    pub fn redis(&mut self, port: u16) -> &mut RedisNode {
        self.redis.iter_mut().find(|r| r.port == port).unwrap()
    }
}
