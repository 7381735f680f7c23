//! The open-files limit at start-up, as Redis' `adjustOpenFilesLimit` sets it.
//!
//! Every client is a descriptor, so `maxclients` clients need `maxclients + 32` of them
//! (Redis reserves 32 for listeners, links and files). A login shell or a systemd unit
//! without `LimitNOFILE` starts processes with a soft limit of 1024: redis-sentinel
//! raises it (soft and hard alike) as far as the kernel lets it, and when it cannot reach
//! the need, lowers `maxclients` to fit so that the client past the limit is refused
//! cleanly ("max number of clients reached") instead of `accept` failing with EMFILE.
//! rsentinel did neither, and served about a thousand clients where redis-sentinel
//! served ten thousand. The lowered `maxclients` is what INFO shows and what a config
//! rewrite persists, as in redis-sentinel.
//!
//! The decision is pure (the limit calls are passed in) so that every branch is tested
//! without changing the test process' own limits.

use crate::config::LogLevel;

/// Descriptors Redis keeps for itself beyond one per client (`CONFIG_MIN_RESERVED_FDS`).
const RESERVED: u64 = 32;

/// What start-up does about the limit.
#[derive(Debug, PartialEq, Eq)]
pub struct Adjusted {
    /// `maxclients` from now on.
    pub maxclients: u32,
    /// Lines for the log, in order.
    pub log: Vec<(LogLevel, String)>,
    /// Too few descriptors to run at all: redis-sentinel exits with status 1.
    pub fatal: bool,
}

/// Redis' algorithm over `get` (the current soft limit) and `set` (set soft and hard to
/// a value; the errno on failure). `strerror` names an errno.
///
/// `ceiling`, when known, is the highest value the kernel accepts: every value above it
/// fails with EPERM. Redis walks down from the need 16 at a time with one setrlimit(2)
/// each, so a `maxclients` of 400,000,000 costs it 25 million calls and 10 s of start-up;
/// rsentinel skips the values that cannot succeed and ends at the same limit with the
/// same log lines.
pub fn adjust(
    maxclients: u32,
    get: impl FnOnce() -> Result<u64, i32>,
    ceiling: Option<u64>,
    mut set: impl FnMut(u64) -> Result<(), i32>,
    strerror: impl Fn(i32) -> String,
) -> Adjusted {
    // `server.maxclients + CONFIG_MIN_RESERVED_FDS` is unsigned int arithmetic in C: it
    // wraps for a maxclients near 2^32 (which then never asks for more descriptors).
    let maxfiles = u64::from(maxclients.wrapping_add(RESERVED as u32));
    let mut out = Adjusted {
        maxclients,
        log: Vec::new(),
        fatal: false,
    };
    let old = match get() {
        Ok(cur) => cur,
        Err(errno) => {
            out.log.push((
                LogLevel::Warning,
                format!(
                    "Unable to obtain the current NOFILE limit ({}), assuming 1024 and setting the max clients configuration accordingly.",
                    strerror(errno)
                ),
            ));
            out.maxclients = (1024 - RESERVED) as u32;
            return out;
        }
    };
    if old >= maxfiles {
        return out;
    }
    // Ask for the need, then 16 fewer at a time, never below what we already have.
    let mut best = maxfiles;
    let mut error = 0;
    if let Some(top) = ceiling.filter(|&top| top < best) {
        let skipped = (best - top).div_ceil(16);
        error = libc::EPERM;
        best = match best.checked_sub(skipped * 16) {
            Some(b) if b > old => b,
            _ => old,
        };
    }
    while best > old {
        match set(best) {
            Ok(()) => break,
            Err(errno) => error = errno,
        }
        if best < 16 {
            best = old;
            break;
        }
        best -= 16;
    }
    let best = best.max(old);
    if best >= maxfiles {
        out.log.push((
            LogLevel::Notice,
            format!(
                "Increased maximum number of open files to {maxfiles} (it was originally set to {old})."
            ),
        ));
        return out;
    }
    if best <= RESERVED {
        out.log.push((
            LogLevel::Warning,
            format!(
                "Your current 'ulimit -n' of {old} is not enough for the server to start. Please increase your open file limit to at least {maxfiles}. Exiting."
            ),
        ));
        out.fatal = true;
        return out;
    }
    out.maxclients = (best - RESERVED) as u32;
    // Redis prints both maxclients with %d.
    out.log.push((
        LogLevel::Warning,
        format!(
            "You requested maxclients of {} requiring at least {maxfiles} max file descriptors.",
            maxclients as i32
        ),
    ));
    out.log.push((
        LogLevel::Warning,
        format!(
            "Server can't set maximum open files to {maxfiles} because of OS error: {}.",
            strerror(error)
        ),
    ));
    out.log.push((
        LogLevel::Warning,
        format!(
            "Current maximum open files is {best}. maxclients has been reduced to {} to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
            out.maxclients as i32
        ),
    ));
    out
}

/// [`adjust`] on this process' own `RLIMIT_NOFILE`.
pub fn adjust_own(maxclients: u32) -> Adjusted {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    let got = if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } == 0 {
        Ok(lim.rlim_cur)
    } else {
        Err(errno())
    };
    let ceiling = got.ok().map(|_| kernel_ceiling(lim.rlim_max));
    adjust(
        maxclients,
        || got,
        ceiling,
        |n| {
            let lim = libc::rlimit {
                rlim_cur: n,
                rlim_max: n,
            };
            // SAFETY: setrlimit only reads the struct.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } == 0 {
                Ok(())
            } else {
                Err(errno())
            }
        },
        |errno| crate::config::strerror(&std::io::Error::from_raw_os_error(errno)),
    )
}

/// Linux refuses (EPERM) a limit above `fs.nr_open`, and without `CAP_SYS_RESOURCE`
/// any raise of the hard limit.
fn kernel_ceiling(hard: u64) -> u64 {
    let nr_open = std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(u64::MAX);
    if may_raise_hard_limit() {
        nr_open
    } else {
        nr_open.min(hard)
    }
}

/// Whether this process holds `CAP_SYS_RESOURCE` (bit 24 of its effective set), which
/// lets it raise its hard limits.
pub fn may_raise_hard_limit() -> bool {
    const CAP_SYS_RESOURCE: u32 = 24;
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_SYS_RESOURCE) != 0)
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}
