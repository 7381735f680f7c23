//! A plain copy of what the endpoints show, taken under the core lock in one short
//! pass; everything else (formatting, JSON, the socket) happens after the lock is
//! released.

use crate::core::Sentinel;
use crate::core::instance::{Common, FailoverState, flags, flags_string};
use crate::resp::Reply;
use serde::Serialize;

/// The whole sentinel at one moment.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    /// Wall-clock milliseconds the snapshot was taken at.
    pub now_ms: u64,
    pub myid: String,
    pub current_epoch: u64,
    pub tilt: bool,
    /// When the current TILT started (ms), meaningful only while `tilt`.
    pub tilt_start_ms: u64,
    pub running_scripts: usize,
    pub scripts_queue_length: usize,
    pub simulate_failure_flags: u32,
    pub masters: Vec<MasterSnap>,
}

/// One monitored master, as `GET /masters` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct MasterSnap {
    pub name: String,
    /// The address SENTINEL MASTERS and INFO show (`ip`, `port`).
    pub ip: String,
    pub port: u16,
    /// What GET-MASTER-ADDR-BY-NAME answers: the promoted replica's address once a
    /// failover reached `reconf_slaves`.
    pub current_address: String,
    /// `ok`, `sdown` or `odown`, as INFO's `masterN:` line.
    pub status: &'static str,
    #[serde(serialize_with = "flag_names")]
    pub flags: u32,
    pub runid: String,
    pub config_epoch: u64,
    pub quorum: u32,
    pub down_after_milliseconds: u64,
    pub failover_timeout: u64,
    pub parallel_syncs: i64,
    /// Milliseconds since the last valid PING reply (`last-ok-ping-reply`).
    pub last_ok_ping_reply_ms: i64,
    pub link_connected: bool,
    pub num_slaves: usize,
    pub num_other_sentinels: usize,
    /// Announced replicas that are neither SDOWN nor ODOWN (redis_exporter's count).
    pub ok_slaves: usize,
    /// This sentinel plus the peers that are neither SDOWN nor ODOWN.
    pub ok_sentinels: usize,
    pub ckquorum_ok: bool,
    /// The CKQUORUM reply text.
    pub ckquorum_message: String,
    pub failover: FailoverSnap,
    pub replicas: Vec<InstanceSnap>,
    pub sentinels: Vec<InstanceSnap>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailoverSnap {
    pub in_progress: bool,
    /// `none`, `wait_start`, ... (`failover-state`).
    pub state: &'static str,
    pub epoch: u64,
    /// Milliseconds since the state last changed (0 when none ever ran).
    pub state_age_ms: i64,
    pub promoted: Option<String>,
    /// This sentinel's vote for this master and its epoch.
    pub leader: Option<String>,
    pub leader_epoch: u64,
}

/// A replica or a peer sentinel.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceSnap {
    pub name: String,
    pub ip: String,
    pub port: u16,
    pub runid: String,
    #[serde(serialize_with = "flag_names")]
    pub flags: u32,
    pub link_connected: bool,
    pub last_ok_ping_reply_ms: i64,
    /// Replicas only: as SENTINEL REPLICAS shows them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master_link_status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub announced: Option<bool>,
}

/// Flags are copied as bits under the lock and named when serialized.
fn flag_names<S: serde::Serializer>(f: &u32, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&flags_string(*f))
}

fn down(f: u32) -> bool {
    f & (flags::S_DOWN | flags::O_DOWN) != 0
}

impl Snapshot {
    /// Copy the state of `core` at `now`. Cheap: no formatting beyond flag strings.
    pub fn take(core: &Sentinel, now: u64) -> Snapshot {
        let link_state = |c: &Common| -> (bool, i64, u32) {
            let link = core.link(c.link);
            let disconnected = link.is_none_or(|l| l.disconnected());
            let mut fl = c.flags & !flags::DISCONNECTED;
            if disconnected {
                fl |= flags::DISCONNECTED;
            }
            let last_ok = now as i64 - link.map_or(now, |l| l.last_avail_time) as i64;
            (!disconnected, last_ok, fl)
        };
        let masters = core
            .masters()
            .iter()
            .enumerate()
            .map(|(mi, m)| {
                let c = &m.common;
                let (connected, last_ok, fl) = link_state(c);
                let status = crate::core::instance::master_status(c.flags);
                let (cur_host, cur_port) = core.current_master_addr(mi);
                let ok_sentinels = 1 + m.sentinels.iter().filter(|s| !down(s.common.flags)).count();
                let (ckquorum_ok, ckquorum_message) = ckquorum(core, &c.name);
                let in_progress = c.flags & flags::FAILOVER_IN_PROGRESS != 0;
                MasterSnap {
                    name: c.name.clone(),
                    ip: core.announced_addr(c).to_string(),
                    port: c.port,
                    current_address: format!("{cur_host}:{cur_port}"),
                    status,
                    flags: fl,
                    runid: c.runid.clone(),
                    config_epoch: m.config_epoch,
                    quorum: m.quorum,
                    down_after_milliseconds: c.down_after_ms,
                    failover_timeout: m.failover_timeout_ms,
                    parallel_syncs: m.parallel_syncs,
                    last_ok_ping_reply_ms: last_ok,
                    link_connected: connected,
                    num_slaves: m.replicas.len(),
                    num_other_sentinels: m.sentinels.len(),
                    ok_slaves: m
                        .replicas
                        .iter()
                        .filter(|r| r.announced && !down(r.common.flags))
                        .count(),
                    ok_sentinels,
                    ckquorum_ok,
                    ckquorum_message,
                    failover: FailoverSnap {
                        in_progress,
                        state: if in_progress || m.failover_state != FailoverState::None {
                            m.failover_state.name()
                        } else {
                            "none"
                        },
                        epoch: m.failover_epoch,
                        state_age_ms: if m.failover_state_change_time == 0 {
                            0
                        } else {
                            now as i64 - m.failover_state_change_time as i64
                        },
                        promoted: m.promoted.clone(),
                        leader: m.leader.clone(),
                        leader_epoch: m.leader_epoch,
                    },
                    replicas: m
                        .replicas
                        .iter()
                        .map(|r| {
                            let (connected, last_ok, fl) = link_state(&r.common);
                            InstanceSnap {
                                name: r.common.name.clone(),
                                ip: core.announced_addr(&r.common).to_string(),
                                port: r.common.port,
                                runid: r.common.runid.clone(),
                                flags: fl,
                                link_connected: connected,
                                last_ok_ping_reply_ms: last_ok,
                                master_link_status: Some(if r.master_link_status_up {
                                    "ok"
                                } else {
                                    "err"
                                }),
                                announced: Some(r.announced),
                            }
                        })
                        .collect(),
                    sentinels: m
                        .sentinels
                        .iter()
                        .map(|s| {
                            let (connected, last_ok, fl) = link_state(&s.common);
                            InstanceSnap {
                                name: s.common.name.clone(),
                                ip: core.announced_addr(&s.common).to_string(),
                                port: s.common.port,
                                runid: s.common.runid.clone(),
                                flags: fl,
                                link_connected: connected,
                                last_ok_ping_reply_ms: last_ok,
                                master_link_status: None,
                                announced: None,
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        Snapshot {
            now_ms: now,
            myid: core.myid().to_string(),
            current_epoch: core.current_epoch(),
            tilt: core.tilt(),
            tilt_start_ms: core.tilt_start_time(),
            running_scripts: core.scripts().running_count(),
            scripts_queue_length: core.scripts().queue_len(),
            simulate_failure_flags: core.simfailure_flags(),
            masters,
        }
    }
}

/// SENTINEL CKQUORUM's verdict and its reply text, from the command itself.
fn ckquorum(core: &Sentinel, name: &str) -> (bool, String) {
    match crate::commands::sentinel::ckquorum(core, name) {
        Reply::Status(s) => (true, s),
        Reply::Error(e) => (false, e),
        _ => (false, String::new()),
    }
}
