//! `sentinel.conf`: loading (redis.conf syntax, three-pass sentinel directives, exact
//! error texts) and the rewrite engine that keeps the file diff-stable against real
//! redis-sentinel 7.0.15.
//!
//! The types here are the contract between the config file and the rest of rsentinel:
//! [`SentinelConfig`] is both what the loader produces and what the core hands back
//! (a snapshot of its state) when the file has to be rewritten.

/// Settings of the sentinel section, in the shape the rewrite needs them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SentinelConfig {
    pub myid: Option<String>,
    pub current_epoch: u64,
    /// `Some("")` is the 7.0.15 quirk of `CONFIG SET announce-ip ""`; we store `None` for it.
    pub announce_ip: Option<String>,
    pub announce_port: u16,
    pub deny_scripts_reconfig: bool,
    pub resolve_hostnames: bool,
    pub announce_hostnames: bool,
    pub sentinel_user: Option<String>,
    pub sentinel_pass: Option<String>,
    /// `sentinel metrics-port <port>` (an rsentinel extension): the HTTP port of
    /// `/metrics`, `/health` and `/masters`, 0 = off. Not core state: the core's
    /// snapshot leaves it 0 and the shell fills in the loaded value before a rewrite,
    /// which writes the line only when it is set, so files that do not use it stay
    /// byte-identical to redis-sentinel's.
    pub metrics_port: u16,
    /// `sentinel info-total-tilt yes` (an rsentinel extension, off by default): adds
    /// Redis 8 / Valkey's `sentinel_total_tilt` line to `INFO sentinel`, which would
    /// otherwise break 7.0.15's byte-identical section. Written only when on.
    pub info_total_tilt: bool,
    /// In the order they should be emitted (the core keeps masters in a stable order).
    pub masters: Vec<MasterConfig>,
}

/// One monitored master as persisted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterConfig {
    pub name: String,
    /// As written / to be written: hostname or IP.
    pub host: String,
    pub port: u16,
    pub quorum: u32,
    pub down_after_ms: u64,
    pub failover_timeout_ms: u64,
    /// Not validated on load, like 7.0.15.
    pub parallel_syncs: i64,
    pub notification_script: Option<String>,
    pub client_reconfig_script: Option<String>,
    pub auth_pass: Option<String>,
    pub auth_user: Option<String>,
    pub master_reboot_down_after_period_ms: u64,
    pub config_epoch: u64,
    pub leader_epoch: u64,
    pub known_replicas: Vec<(String, u16)>,
    /// (host, port, runid)
    pub known_sentinels: Vec<(String, u16, String)>,
    /// (command, renamed-to), in insertion order.
    pub rename_commands: Vec<(String, String)>,
    /// `sentinel proxy <name> <port>` (rsentinel only, issue #11): the port of the
    /// built-in proxy that always reaches the current master; 0 = none.
    pub proxy_port: u16,
    /// `sentinel proxy-replicas <name> <port>`: the read port balancing over healthy
    /// replicas; 0 = none.
    pub proxy_replicas_port: u16,
    /// `sentinel coordinated-failover <name> yes|no` (an rsentinel extension, issue
    /// #10); written by the rewrite only when on, so files that do not use it stay
    /// loadable by redis-sentinel.
    pub coordinated_failover: bool,
}

impl MasterConfig {
    pub fn new(name: &str, host: &str, port: u16, quorum: u32) -> Self {
        MasterConfig {
            name: name.to_string(),
            host: host.to_string(),
            port,
            quorum,
            down_after_ms: DEFAULT_DOWN_AFTER_MS,
            failover_timeout_ms: DEFAULT_FAILOVER_TIMEOUT_MS,
            parallel_syncs: 1,
            notification_script: None,
            client_reconfig_script: None,
            auth_pass: None,
            auth_user: None,
            master_reboot_down_after_period_ms: 0,
            config_epoch: 0,
            leader_epoch: 0,
            known_replicas: Vec::new(),
            known_sentinels: Vec::new(),
            rename_commands: Vec::new(),
            proxy_port: 0,
            proxy_replicas_port: 0,
            coordinated_failover: false,
        }
    }
}

pub const DEFAULT_DOWN_AFTER_MS: u64 = 30_000;
pub const DEFAULT_FAILOVER_TIMEOUT_MS: u64 = 180_000;
pub const DEFAULT_PORT: u16 = 26379;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug,
    Verbose,
    Notice,
    Warning,
    Nothing,
}

/// `supervised`: how the process reports its state to an init system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Supervised {
    #[default]
    No,
    Upstart,
    Systemd,
    Auto,
}

/// Generic (non-`sentinel`) settings that rsentinel acts on. Everything else a
/// redis.conf may hold is accepted and kept for the rewrite, with no effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    pub port: u16,
    /// Empty means the default (`* -::*`).
    pub bind: Vec<String>,
    pub bind_source_addr: Option<String>,
    pub protected_mode: bool,
    pub daemonize: bool,
    pub supervised: Supervised,
    pub pidfile: Option<String>,
    /// `unixsocket`: also serve clients on this Unix domain socket.
    pub unixsocket: Option<String>,
    /// `unixsocketperm` (0 = leave the umask's mode).
    pub unixsocketperm: u32,
    /// Empty = stdout.
    pub logfile: String,
    pub loglevel: LogLevel,
    /// `set-proc-title` / `proc-title-template`: what `ps` shows (see `proctitle`).
    pub set_proc_title: bool,
    pub proc_title_template: String,
    /// `server_cpulist`: the CPUs the sentinel runs on (Redis' cpulist syntax).
    pub server_cpulist: Option<String>,
    /// `oom-score-adj` (`no`, `yes`/`relative`, `absolute`) and the master value of
    /// `oom-score-adj-values` (a sentinel is never a replica).
    pub oom_score_adj: String,
    pub oom_score_adj_master: i64,
    /// `crash-log-enabled`: a bug report carries a stack trace.
    pub crash_log_enabled: bool,
    /// `syslog-enabled`: every log line also goes to syslog(3), under `syslog-ident`
    /// and `syslog-facility`.
    pub syslog_enabled: bool,
    pub syslog_ident: String,
    pub syslog_facility: String,
    /// Absolute directory the process works in (after `dir`).
    pub dir: Option<String>,
    pub requirepass: Option<String>,
    /// Arguments of each `user` line (without the leading `user`).
    pub users: Vec<Vec<String>>,
    pub maxclients: u32,
    /// Idle client timeout in seconds; 0 = never.
    pub timeout: u64,
    pub tcp_keepalive: u64,
    /// `tcp-backlog`: the listen backlog of the client listeners.
    pub tcp_backlog: i32,
    /// `acllog-max-len`: how many `ACL LOG` entries are kept.
    pub acllog_max_len: u64,
    /// `rename-command` of the sentinel's own commands: (command, new name or "").
    pub rename_commands: Vec<(String, String)>,
    /// `client-output-buffer-limit pubsub <hard> <soft> <soft-seconds>` in bytes/seconds.
    pub pubsub_limit: (u64, u64, u64),
    /// Every `tls-*` directive (see `crate::tls`, which builds the OpenSSL contexts).
    pub tls: TlsConfig,
}

/// `tls-auth-clients`: whether clients of `tls-port` must present a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsAuthClients {
    No,
    #[default]
    Yes,
    Optional,
}

/// The `tls-*` directives as redis 7.0.15 reads them (empty strings mean unset). They
/// are read at start-up only: sentinel mode has no `CONFIG SET`, and `SENTINEL CONFIG
/// SET` refuses them, as in redis-sentinel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    pub port: u16,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    pub key_file_pass: Option<String>,
    pub client_cert_file: Option<String>,
    pub client_key_file: Option<String>,
    pub client_key_file_pass: Option<String>,
    pub ca_cert_file: Option<String>,
    pub ca_cert_dir: Option<String>,
    pub dh_params_file: Option<String>,
    pub protocols: Option<String>,
    pub ciphers: Option<String>,
    pub ciphersuites: Option<String>,
    pub auth_clients: TlsAuthClients,
    pub prefer_server_ciphers: bool,
    pub session_caching: bool,
    pub session_cache_size: u64,
    pub session_cache_timeout: u64,
    /// Outbound links (masters, replicas, peer sentinels) use TLS.
    pub replication: bool,
    /// No cluster bus in sentinel mode; it still makes a CA mandatory, as in redis.
    pub cluster: bool,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            port: 0,
            cert_file: None,
            key_file: None,
            key_file_pass: None,
            client_cert_file: None,
            client_key_file: None,
            client_key_file_pass: None,
            ca_cert_file: None,
            ca_cert_dir: None,
            dh_params_file: None,
            protocols: None,
            ciphers: None,
            ciphersuites: None,
            auth_clients: TlsAuthClients::Yes,
            prefer_server_ciphers: false,
            session_caching: true,
            session_cache_size: 20480,
            session_cache_timeout: 300,
            replication: false,
            cluster: false,
        }
    }
}

impl TlsConfig {
    /// Redis configures TLS at start-up when any of these is set.
    pub fn enabled(&self) -> bool {
        self.port != 0 || self.replication || self.cluster
    }
}

impl ServerConfig {
    /// The port redis reports (`tcp_port`, the start-up line): `port`, or `tls-port`
    /// when the plain port is off.
    pub fn main_port(&self) -> u16 {
        if self.port != 0 {
            self.port
        } else {
            self.tls.port
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            port: DEFAULT_PORT,
            bind: Vec::new(),
            bind_source_addr: None,
            protected_mode: false,
            daemonize: false,
            supervised: Supervised::No,
            pidfile: None,
            unixsocket: None,
            unixsocketperm: 0,
            logfile: String::new(),
            loglevel: LogLevel::Notice,
            set_proc_title: true,
            proc_title_template: "{title} {listen-addr} {server-mode}".to_string(),
            server_cpulist: None,
            oom_score_adj: "no".to_string(),
            oom_score_adj_master: 0,
            crash_log_enabled: true,
            syslog_enabled: false,
            syslog_ident: "redis".to_string(),
            syslog_facility: "local0".to_string(),
            dir: None,
            requirepass: None,
            users: Vec::new(),
            maxclients: 10000,
            timeout: 0,
            tcp_keepalive: 300,
            tcp_backlog: 511,
            acllog_max_len: 128,
            rename_commands: Vec::new(),
            pubsub_limit: (32 * 1024 * 1024, 8 * 1024 * 1024, 60),
            tls: TlsConfig::default(),
        }
    }
}

mod acl;
mod atomic;
mod cli;
mod errors;
mod generic;
mod generic_special;
mod generic_table;
mod generic_value;
mod load;
pub mod proc_title;
mod rewrite;
mod sentinel_apply;
pub(crate) use sentinel_apply::atoi;
mod store;

/// The redis.conf tokenizer lives with the RESP code, which uses it for inline commands.
pub use crate::resp::sds::{repr, split_args, split_args_bytes};
pub use acl::describe_users;
pub use atomic::{failed_step, write_atomic};
pub use cli::{absolute_path, args_to_lines, reads_stdin};
pub use errors::{ConfigError, ConfigErrorKind, strerror};
pub use load::{Loaded, load, load_with_stdin};
pub use rewrite::{rewrite_text, rewrite_text_with_users};
pub use store::GenericStore;
