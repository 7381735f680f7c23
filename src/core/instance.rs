//! Records for masters, replicas and peer sentinels, and the links to them.
//!
//! Everything is plain data: the core mutates it from events and renders it for
//! SENTINEL MASTER/REPLICAS/SENTINELS. Times are milliseconds on the clock the shell
//! feeds in (`now`), so tests can run the whole monitoring logic on a fake clock.

use crate::resp::Reply;
use std::collections::BTreeMap;

/// Identifies a link (one per master and replica; one per peer sentinel run id, shared
/// by every master that knows that sentinel, as redis-sentinel shares them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(pub u64);

/// Correlates a reply with the request the core sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ReqId(pub u64);

/// The two halves of a link: masters and replicas have both, sentinels only `Cmd`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConnKind {
    Cmd,
    PubSub,
}

/// What a pending request was, so a reply can be interpreted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Ping,
    Info,
    Publish,
    IsMasterDownByAddr {
        master: String,
    },
    /// Reply ignored (AUTH, CLIENT SETNAME, the reconfiguration transaction, ...).
    Ignored,
    /// Our `PUBLISH` on `__rsentinel__:handover` before a coordinated handover: the
    /// reply says how many rsentinels heard it (see `coordinated`).
    HandoverNotice,
}

/// Instance flags, rendered in this fixed order by `flags_string`.
pub mod flags {
    pub const S_DOWN: u32 = 1 << 0;
    pub const O_DOWN: u32 = 1 << 1;
    pub const MASTER: u32 = 1 << 2;
    pub const SLAVE: u32 = 1 << 3;
    pub const SENTINEL: u32 = 1 << 4;
    pub const DISCONNECTED: u32 = 1 << 5;
    pub const MASTER_DOWN: u32 = 1 << 6;
    pub const FAILOVER_IN_PROGRESS: u32 = 1 << 7;
    pub const PROMOTED: u32 = 1 << 8;
    pub const RECONF_SENT: u32 = 1 << 9;
    pub const RECONF_INPROG: u32 = 1 << 10;
    pub const RECONF_DONE: u32 = 1 << 11;
    pub const FORCE_FAILOVER: u32 = 1 << 12;
    pub const SCRIPT_KILL_SENT: u32 = 1 << 13;
    /// Internal in 7.0.15 (not printed).
    pub const MASTER_REBOOT: u32 = 1 << 14;

    pub const NAMES: [(u32, &str); 14] = [
        (S_DOWN, "s_down"),
        (O_DOWN, "o_down"),
        (MASTER, "master"),
        (SLAVE, "slave"),
        (SENTINEL, "sentinel"),
        (DISCONNECTED, "disconnected"),
        (MASTER_DOWN, "master_down"),
        (FAILOVER_IN_PROGRESS, "failover_in_progress"),
        (PROMOTED, "promoted"),
        (RECONF_SENT, "reconf_sent"),
        (RECONF_INPROG, "reconf_inprog"),
        (RECONF_DONE, "reconf_done"),
        (FORCE_FAILOVER, "force_failover"),
        (SCRIPT_KILL_SENT, "script_kill_sent"),
    ];
}

/// A master's status word as INFO's `masterN:status=` line (and redis_exporter after it)
/// names it: `odown`, else `sdown`, else `ok`.
pub fn master_status(f: u32) -> &'static str {
    if f & flags::O_DOWN != 0 {
        "odown"
    } else if f & flags::S_DOWN != 0 {
        "sdown"
    } else {
        "ok"
    }
}

pub fn flags_string(f: u32) -> String {
    flags::NAMES
        .iter()
        .filter(|(bit, _)| f & bit != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

/// Health timers and connection state of one link (redis-sentinel's `instanceLink`).
#[derive(Debug, Clone)]
pub struct Link {
    pub id: LinkId,
    pub host: String,
    pub port: u16,
    /// Number of instance records using this link (sentinel links are shared).
    pub refcount: u32,
    /// The connection objects exist (what `disconnected` is derived from).
    pub cc: bool,
    pub pc: bool,
    pub cc_conn_time: u64,
    pub pc_conn_time: u64,
    pub pc_last_activity: u64,
    pub last_reconn_time: u64,
    /// Send time of the oldest unanswered PING, 0 when none.
    pub act_ping_time: u64,
    pub last_ping_time: u64,
    /// Any reply to PING.
    pub last_pong_time: u64,
    /// Last valid PING reply.
    pub last_avail_time: u64,
    pub pending_commands: u32,
    /// Requests awaiting a reply on the command connection.
    pub pending: BTreeMap<ReqId, Request>,
    /// Requests awaiting a reply on the pub/sub connection (its AUTH and CLIENT SETNAME,
    /// which count in `pending_commands` like the command connection's).
    pub pc_pending: BTreeMap<ReqId, Request>,
    /// Whether this link connects to a peer sentinel (command connection only).
    pub to_sentinel: bool,
}

impl Link {
    pub fn new(id: LinkId, host: &str, port: u16, to_sentinel: bool, now: u64) -> Self {
        Link {
            id,
            host: host.to_string(),
            port,
            refcount: 1,
            cc: false,
            pc: false,
            cc_conn_time: 0,
            pc_conn_time: 0,
            pc_last_activity: 0,
            last_reconn_time: 0,
            act_ping_time: now,
            last_ping_time: 0,
            last_pong_time: now,
            last_avail_time: now,
            pending_commands: 0,
            pending: BTreeMap::new(),
            pc_pending: BTreeMap::new(),
            to_sentinel,
        }
    }

    /// `disconnected` as redis-sentinel prints it.
    pub fn disconnected(&self) -> bool {
        !self.cc || (!self.to_sentinel && !self.pc)
    }
}

/// Failover states, with the names shown in `failover-state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailoverState {
    #[default]
    None,
    WaitStart,
    SelectSlave,
    SendSlaveofNoone,
    WaitPromotion,
    ReconfSlaves,
    UpdateConfig,
    /// Coordinated failover (issue #10): the replica is selected, the `FAILOVER TO`
    /// transaction waits for the old master's command connection.
    SendFailoverTo,
    /// Coordinated failover: the old master runs `FAILOVER TO`; we follow its
    /// `master_failover_state` and wait for the target to report `role:master`.
    CoordinatedHandover,
}

impl FailoverState {
    pub fn name(self) -> &'static str {
        match self {
            FailoverState::None => "none",
            FailoverState::WaitStart => "wait_start",
            FailoverState::SelectSlave => "select_slave",
            FailoverState::SendSlaveofNoone => "send_slaveof_noone",
            FailoverState::WaitPromotion => "wait_promotion",
            FailoverState::ReconfSlaves => "reconf_slaves",
            FailoverState::UpdateConfig => "update_config",
            FailoverState::SendFailoverTo => "send_failover_to",
            FailoverState::CoordinatedHandover => "coordinated_handover",
        }
    }
}

/// Fields shared by masters, replicas and sentinels.
#[derive(Debug, Clone)]
pub struct Common {
    pub flags: u32,
    /// Name as redis-sentinel keys it: master name, replica `ip:port`, sentinel run id.
    pub name: String,
    /// Address as given/announced (hostname or IP).
    pub host: String,
    /// Resolved IP (equal to `host` unless resolve-hostnames is used).
    pub ip: String,
    pub port: u16,
    pub runid: String,
    pub link: LinkId,
    pub down_after_ms: u64,
    pub last_pub_time: u64,
    /// When the INFO / hello PUBLISH now awaiting its reply was sent (0: none). While one
    /// is in flight the periodic step does not send another (see `monitor::handle_instance`).
    pub info_sent: u64,
    pub hello_sent: u64,
    pub s_down_since: u64,
    pub o_down_since: u64,
    pub info_refresh: u64,
    pub info: Option<String>,
    pub role_reported: Role,
    pub role_reported_time: u64,
    pub slave_conf_change_time: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Master,
    Slave,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Master => "master",
            Role::Slave => "slave",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Replica {
    pub common: Common,
    pub master_link_down_time: u64,
    pub master_link_status_up: bool,
    pub slave_master_host: Option<String>,
    pub slave_master_port: u16,
    pub priority: i64,
    pub repl_offset: u64,
    pub announced: bool,
    pub reconf_sent_time: u64,
}

#[derive(Debug, Clone)]
pub struct SentinelPeer {
    pub common: Common,
    pub last_hello_time: u64,
    pub last_master_down_reply_time: u64,
    /// The vote this peer reported in its last IS-MASTER-DOWN-BY-ADDR reply.
    pub leader: Option<String>,
    pub leader_epoch: u64,
}

#[derive(Debug, Clone)]
pub struct Master {
    pub common: Common,
    pub quorum: u32,
    pub failover_timeout_ms: u64,
    pub parallel_syncs: i64,
    pub notification_script: Option<String>,
    pub client_reconfig_script: Option<String>,
    pub auth_pass: Option<String>,
    pub auth_user: Option<String>,
    pub master_reboot_down_after_period_ms: u64,
    pub master_reboot_since: u64,
    /// Lowercased command -> renamed-to, in insertion order.
    pub rename_commands: Vec<(String, String)>,
    /// The built-in proxy's ports (issue #11, see [`super::route`]); 0 = none.
    pub proxy_port: u16,
    pub proxy_replicas_port: u16,
    pub config_epoch: u64,
    /// This sentinel's own vote for this master.
    pub leader: Option<String>,
    pub leader_epoch: u64,
    /// When that vote was cast (0: not in this run), see `Sentinel::vote_leader`.
    pub leader_vote_time: u64,
    pub failover_state: FailoverState,
    pub failover_epoch: u64,
    pub failover_start_time: u64,
    pub failover_state_change_time: u64,
    pub failover_delay_logged: u64,
    /// Name (key) of the promoted replica during a failover.
    pub promoted: Option<String>,
    /// `sentinel coordinated-failover <name> yes`: a plain SENTINEL FAILOVER of this
    /// master hands over through the master's own `FAILOVER` (issue #10).
    pub coordinated_failover: bool,
    /// The running attempt hands over through `FAILOVER TO` (see `coordinated`).
    pub handover: Option<Handover>,
    /// The old master of a coordinated failover that just switched, now a replica
    /// record: it may still hold the handover's `CLIENT PAUSE` (the `CLIENT UNPAUSE`
    /// sent before the switch is dropped with the master's connection), so its new
    /// connection sends one first thing, after a `FAILOVER ABORT` when the flag says
    /// the handover was given up before the master demoted itself (see `coordinated`).
    pub unpause_after_switch: Option<(String, u16, bool)>,
    /// The old master's address after our own coordinated failover switched: it was
    /// demoted by its own `FAILOVER TO` with every acknowledged write handed over, so
    /// the proxy may move its open connections to the new master instead of closing
    /// them (issue #11). Cleared by the next reset or change of address.
    pub handed_over_from: Option<(String, u16)>,
    /// Another rsentinel announced a coordinated handover of this master (on
    /// `__rsentinel__:handover`): the proxy holds traffic like during our own, and a
    /// switch to that epoch moves connections instead of closing them (issue #11).
    pub peer_handover: Option<PeerHandover>,
    /// Our own coordinated failover announced its handover (when, and how many
    /// subscribers the `PUBLISH` reached once its reply is in).
    pub handover_notice: Option<(u64, Option<i64>)>,
    /// Keyed by `ip:port` name; order of insertion kept for stable output.
    pub replicas: Vec<Replica>,
    /// Keyed by run id.
    pub sentinels: Vec<SentinelPeer>,
}

/// A peer's coordinated handover of a master we observe (see `coordinated`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerHandover {
    /// The failover epoch: the switch it ends with comes under this config epoch.
    pub epoch: u64,
    /// When to stop holding traffic if no switch came (the handover's write pause
    /// has run out by then on the master).
    pub until: u64,
}

/// A coordinated handover in progress (issue #10, see `coordinated`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Handover {
    /// The `TIMEOUT` given to `FAILOVER TO`, in milliseconds.
    pub timeout_ms: u64,
    /// The INFO request pipelined right behind the transaction: only replies to it
    /// and to later requests describe the master after `FAILOVER TO` ran.
    pub first_info: Option<ReqId>,
    /// The master's last `master_failover_state` seen since the transaction.
    pub master_state: Option<String>,
    /// `CLIENT UNPAUSE` already sent because the master reported the handover done.
    pub unpaused: bool,
}

impl Master {
    pub fn replica(&self, name: &str) -> Option<&Replica> {
        self.replicas.iter().find(|r| r.common.name == name)
    }
    pub fn replica_mut(&mut self, name: &str) -> Option<&mut Replica> {
        self.replicas.iter_mut().find(|r| r.common.name == name)
    }
    /// Apply the rename map to a command name, as every command sent to this master's
    /// instances (and its peer sentinels) goes through it.
    pub fn renamed(&self, cmd: &str) -> String {
        self.renamed_as(cmd).unwrap_or(cmd).to_string()
    }

    /// The name `cmd` is renamed to on this master, if it is.
    pub fn renamed_as(&self, cmd: &str) -> Option<&str> {
        self.rename_commands
            .iter()
            .find(|(c, _)| c.eq_ignore_ascii_case(cmd))
            .map(|(_, n)| n.as_str())
    }
}

/// Render `name ip port` pairs etc. as a bulk map; kept here so every description is
/// built from one place.
///
/// Keys are static and values already owned: both go into the reply without a copy (on
/// `SENTINEL MASTERS` two allocations and a copy per field were most of the cost).
pub fn describe(pairs: Vec<(&'static str, String)>) -> Reply {
    Reply::Map(
        pairs
            .into_iter()
            .map(|(k, v)| {
                (
                    Reply::Bulk(bytes::Bytes::from_static(k.as_bytes())),
                    Reply::Bulk(bytes::Bytes::from(v)),
                )
            })
            .collect(),
    )
}
