//! Accept-time policy for client connections: Redis' protected mode and TCP keepalive.

use std::net::SocketAddr;

/// What Redis writes before closing a non-loopback client in protected mode.
pub const DENIED: &str = concat!(
    "-DENIED Redis is running in protected mode because protected mode is enabled and ",
    "no password is set for the default user. In this mode connections are only ",
    "accepted from the loopback interface. If you want to connect from external ",
    "computers to Redis you may adopt one of the following solutions: 1) Just disable ",
    "protected mode sending the command 'CONFIG SET protected-mode no' from the ",
    "loopback interface by connecting to Redis from the same host the server is ",
    "running, however MAKE SURE Redis is not publicly accessible from internet if you ",
    "do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you ",
    "can just disable the protected mode by editing the Redis configuration file, and ",
    "setting the protected mode option to 'no', and then restarting the server. 3) If ",
    "you started the server manually just for testing, restart it with the ",
    "'--protected-mode no' option. 4) Setup a an authentication password for the ",
    "default user. NOTE: You only need to do one of the above things in order for the ",
    "server to start accepting connections from the outside.",
    "\r\n"
);

/// Protected mode refuses clients that are not on the loopback interface while the
/// default user has no password (`protected-mode yes`, the Redis default; sentinel
/// mode turns it off unless the config file turns it back on).
pub fn protected_denied(protected_mode: bool, default_nopass: bool, peer: &SocketAddr) -> bool {
    protected_mode && default_nopass && !peer.ip().to_canonical().is_loopback()
}

/// `tcp-keepalive N` like Redis' `anetKeepAlive`: probes after N seconds idle, then
/// every N/3 seconds, 3 probes before the peer is declared dead. 0 disables.
#[cfg(target_os = "linux")]
pub fn set_keepalive(fd: i32, secs: u64) {
    if secs == 0 || fd < 0 {
        return;
    }
    let idle = secs.min(i32::MAX as u64) as libc::c_int;
    let intvl = (idle / 3).max(1);
    let opts = [
        (libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1),
        (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, idle),
        (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, intvl),
        (libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3),
    ];
    for (level, name, val) in opts {
        // SAFETY: setsockopt reads one c_int from a valid pointer on a socket we own.
        unsafe {
            libc::setsockopt(
                fd,
                level,
                name,
                &val as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub fn set_keepalive(_fd: i32, _secs: u64) {}

/// The log line of a failed `accept(2)`, as redis-sentinel 7.0.15 writes it:
/// `Accepting client connection: <neterr>`, where anet's error text is
/// `accept: <strerror(errno)>`.
pub fn accept_error_line(e: &std::io::Error) -> String {
    format!(
        "Accepting client connection: accept: {}",
        crate::config::strerror(e)
    )
}
