//! `supervised no|upstart|systemd|auto`, as redis-server 7.0.15 built with libsystemd
//! (Debian's package) does it.
//!
//! Behaviour observed on the real binary and reproduced here:
//! - the mode is resolved once at start-up, before the banner; `auto` picks upstart when
//!   `UPSTART_JOB` is set, else systemd when `NOTIFY_SOCKET` is set, and logs that choice at
//!   verbose level;
//! - systemd: `STATUS=Redis is loading...` is sent first; only if that datagram went out is
//!   the process "supervised" (INFO `process_supervised:systemd`, `daemonize yes` ignored).
//!   `STATUS=Ready to accept connections` + `READY=1` follow once the sentinel runs, and
//!   `STOPPING=1` at shutdown; these are sent whenever the resolved mode is systemd, even if
//!   the first one failed, each failure logging a warning with libsystemd's return code;
//! - upstart: the process stops itself with SIGSTOP (upstart's `expect stop`) and drops
//!   `UPSTART_JOB` from its environment so scripts it starts do not inherit it.

use crate::config::{LogLevel, Supervised};
use std::sync::OnceLock;

static PROCESS_SUPERVISED: OnceLock<&'static str> = OnceLock::new();

/// The `process_supervised` INFO field: set once by start-up, `no` until then.
pub fn process_supervised() -> &'static str {
    PROCESS_SUPERVISED.get().copied().unwrap_or("no")
}

/// What start-up decided: the resolved mode, and the log lines redis prints about it,
/// which must be written before the banner (the logger does not exist yet when this runs).
pub struct Supervision {
    pub mode: Supervised,
    pub supervised: bool,
    pub log: Vec<(LogLevel, String)>,
}

impl Supervision {
    /// Resolves the mode and performs the start-up half of the protocol. Must run before
    /// any thread is started: it may stop the process and edit the environment.
    pub fn start(configured: Supervised) -> Supervision {
        let mut log = Vec::new();
        let mut mode = configured;
        if mode == Supervised::Auto {
            if std::env::var_os("UPSTART_JOB").is_some() {
                log.push((
                    LogLevel::Verbose,
                    "Upstart supervision detected.".to_string(),
                ));
                mode = Supervised::Upstart;
            } else if std::env::var_os("NOTIFY_SOCKET").is_some() {
                log.push((
                    LogLevel::Verbose,
                    "Systemd supervision detected.".to_string(),
                ));
                mode = Supervised::Systemd;
            }
        }
        let supervised = match mode {
            Supervised::Upstart => upstart(&mut log),
            Supervised::Systemd => {
                let ok = notify_logged("STATUS=Redis is loading...\n", &mut log);
                if ok {
                    log.push((
                        LogLevel::Notice,
                        "Supervised by systemd. Please make sure you set appropriate values for TimeoutStartSec and TimeoutStopSec in your service unit.".to_string(),
                    ));
                }
                ok
            }
            _ => false,
        };
        let name = match (supervised, mode) {
            (false, _) => "no",
            (true, Supervised::Upstart) => "upstart",
            (true, Supervised::Systemd) => "systemd",
            (true, _) => "unknown",
        };
        let _ = PROCESS_SUPERVISED.set(name);
        Supervision {
            mode,
            supervised,
            log,
        }
    }

    /// The readiness report, sent once the sentinel runs.
    pub fn ready(&self, log: &mut Vec<(LogLevel, String)>) {
        if self.mode == Supervised::Systemd {
            notify_logged("STATUS=Ready to accept connections\n", log);
            notify_logged("READY=1\n", log);
        }
    }

    /// The shutdown report, sent once shutdown is decided.
    pub fn stopping(&self, log: &mut Vec<(LogLevel, String)>) {
        if self.mode == Supervised::Systemd {
            notify_logged("STOPPING=1\n", log);
        }
    }
}

fn upstart(log: &mut Vec<(LogLevel, String)>) -> bool {
    if std::env::var_os("UPSTART_JOB").is_none() {
        log.push((
            LogLevel::Warning,
            "upstart supervision requested, but UPSTART_JOB not found!".to_string(),
        ));
        return false;
    }
    log.push((
        LogLevel::Notice,
        "supervised by upstart, will stop to signal readiness.".to_string(),
    ));
    // SAFETY: raise(2) has no memory effects; upstart resumes us with SIGCONT.
    unsafe {
        libc::raise(libc::SIGSTOP);
    }
    // SAFETY: start-up is still single-threaded (documented precondition of `start`).
    unsafe {
        std::env::remove_var("UPSTART_JOB");
    }
    true
}

/// Sends one datagram and logs a failure the way redis reports libsystemd's result.
fn notify_logged(msg: &str, log: &mut Vec<(LogLevel, String)>) -> bool {
    match sd_notify(msg) {
        Ok(true) => true,
        Ok(false) => {
            log.push((
                LogLevel::Warning,
                "systemd supervision error: NOTIFY_SOCKET not found!".to_string(),
            ));
            false
        }
        Err(code) => {
            log.push((
                LogLevel::Warning,
                format!("systemd supervision error: sd_notify: {code}"),
            ));
            false
        }
    }
}

/// libsystemd's `sd_notify(0, msg)` contract: `Ok(false)` when `NOTIFY_SOCKET` is unset,
/// `Err(-errno)` on failure. The address is a filesystem path (starting with `/`) or an
/// abstract-namespace name (starting with `@`); anything else is `-EINVAL`, as libsystemd.
pub fn sd_notify(msg: &str) -> Result<bool, i32> {
    let Some(target) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(false);
    };
    let target = target.to_string_lossy().into_owned();
    send_to(&target, msg.as_bytes()).map(|_| true)
}

fn send_to(target: &str, msg: &[u8]) -> Result<(), i32> {
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let errno = |e: std::io::Error| -e.raw_os_error().unwrap_or(libc::EIO);
    let addr = if let Some(name) = target.strip_prefix('@') {
        use std::os::linux::net::SocketAddrExt;
        SocketAddr::from_abstract_name(name.as_bytes()).map_err(|_| -libc::EINVAL)?
    } else if target.starts_with('/') {
        SocketAddr::from_pathname(target).map_err(|_| -libc::EINVAL)?
    } else {
        return Err(-libc::EINVAL);
    };
    let sock = UnixDatagram::unbound().map_err(errno)?;
    sock.send_to_addr(msg, &addr).map_err(errno)?;
    Ok(())
}
