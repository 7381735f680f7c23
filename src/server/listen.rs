//! TCP listening sockets, opened as Redis' `listenToPort` / `anetTcpServer` open them.
//!
//! What a drop-in has to get right here: the default `bind * -::*` listens on IPv4 *and*
//! IPv6 (the IPv6 socket is `IPV6_V6ONLY`, or it would collide with the IPv4 one on the
//! same port, and a client resolving `localhost` to `::1` first would be refused); an
//! address with a colon is IPv6, anything else IPv4 (names resolved in that family);
//! `tcp-backlog` is the listen backlog; and a failure is logged and judged by its errno
//! like Redis: an absent optional (`-`) address or an unsupported family is skipped,
//! anything else aborts start-up.

use crate::config::strerror;
use socket2::{Domain, SockAddr, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, ToSocketAddrs};

/// The listeners opened for one port, and what to log.
#[derive(Debug, Default)]
pub struct Bound {
    pub listeners: Vec<TcpListener>,
    /// `<addr>:<port>: <anet's error>`, one per address that failed, skipped or not
    /// (the fatal one last).
    pub failures: Vec<String>,
    /// An address failed in a way Redis does not skip: start-up must abort (the
    /// listeners already opened are dropped).
    pub fatal: bool,
}

impl Bound {
    /// Redis' log line for each failure.
    pub fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        self.failures
            .iter()
            .map(|f| format!("Warning: Could not create server TCP listening socket {f}"))
    }

    /// The listeners for tokio, or the failure that makes them unusable.
    pub fn into_tokio(self) -> Result<Vec<tokio::net::TcpListener>, String> {
        if self.fatal {
            return Err(self.failures.last().cloned().unwrap_or_default());
        }
        self.listeners
            .into_iter()
            .map(|l| tokio::net::TcpListener::from_std(l).map_err(|e| strerror(&e)))
            .collect()
    }
}

/// `bind` as configured, or Redis' default when the config has none.
pub fn bind_addresses(bind: &[String]) -> Vec<String> {
    if bind.is_empty() {
        vec!["*".to_string(), "-::*".to_string()]
    } else {
        bind.to_vec()
    }
}

/// Open `port` on every address of `binds` (as [`bind_addresses`] gives them).
pub fn listen_to_port(binds: &[String], port: u16, backlog: i32) -> Bound {
    let mut out = Bound::default();
    for entry in binds {
        let optional = entry.starts_with('-');
        let addr = entry.strip_prefix('-').unwrap_or(entry);
        match open(addr, port, backlog) {
            Ok(l) => out.listeners.push(l),
            Err((text, errno)) => {
                out.failures.push(format!("{addr}:{port}: {text}"));
                let skip = (errno == libc::EADDRNOTAVAIL && optional)
                    || [
                        libc::ENOPROTOOPT,
                        libc::EPROTONOSUPPORT,
                        libc::ESOCKTNOSUPPORT,
                        libc::EPFNOSUPPORT,
                        libc::EAFNOSUPPORT,
                    ]
                    .contains(&errno);
                if !skip {
                    out.listeners.clear();
                    out.fatal = true;
                    return out;
                }
            }
        }
    }
    out
}

/// One listening socket for `addr` (anet's error text and errno on failure).
fn open(addr: &str, port: u16, backlog: i32) -> Result<TcpListener, (String, i32)> {
    let v6 = addr.contains(':');
    let candidates = resolve(addr, port, v6)?;
    // Like anet: the first address a socket can be created for is the one bound.
    let mut last_errno = 0;
    for sa in candidates {
        let socket = match Socket::new(Domain::for_address(sa), Type::STREAM, None) {
            Ok(s) => s,
            Err(e) => {
                last_errno = e.raw_os_error().unwrap_or(0);
                continue;
            }
        };
        let fail = |what: &str, e: std::io::Error| {
            let errno = e.raw_os_error().unwrap_or(0);
            (format!("{what}: {}", strerror(&e)), errno)
        };
        if v6 {
            socket
                .set_only_v6(true)
                .map_err(|e| fail("setsockopt", e))?;
        }
        socket
            .set_reuse_address(true)
            .map_err(|e| fail("setsockopt SO_REUSEADDR", e))?;
        socket
            .bind(&SockAddr::from(sa))
            .map_err(|e| fail("bind", e))?;
        socket.listen(backlog).map_err(|e| fail("listen", e))?;
        socket
            .set_nonblocking(true)
            .map_err(|e| fail("fcntl(F_SETFL,O_NONBLOCK)", e))?;
        return Ok(socket.into());
    }
    Err((
        format!("unable to bind socket, errno: {last_errno}"),
        last_errno,
    ))
}

/// getaddrinfo in one family, as anet asks it (`*`, and `::*` for IPv6, are the
/// wildcard address).
fn resolve(addr: &str, port: u16, v6: bool) -> Result<Vec<SocketAddr>, (String, i32)> {
    if addr == "*" || (v6 && addr == "::*") {
        let ip = if v6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        };
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    match (addr, port).to_socket_addrs() {
        Ok(all) => {
            let found: Vec<SocketAddr> = all.filter(|a| a.is_ipv6() == v6).collect();
            if found.is_empty() {
                Err(("Name or service not known".to_string(), 0))
            } else {
                Ok(found)
            }
        }
        // std words a resolver failure "failed to lookup address information: <gai
        // text>"; anet logs the gai text alone.
        Err(e) => {
            let text = e.to_string();
            let gai = text
                .strip_prefix("failed to lookup address information: ")
                .unwrap_or(&text);
            Err((gai.to_string(), e.raw_os_error().unwrap_or(0)))
        }
    }
}

/// Redis warns at start-up when the kernel caps the backlog below `tcp-backlog`.
pub fn backlog_warning(backlog: i32) -> Option<String> {
    let somaxconn: i32 = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (somaxconn > 0 && somaxconn < backlog).then(|| {
        format!(
            "WARNING: The TCP backlog setting of {backlog} cannot be enforced because /proc/sys/net/core/somaxconn is set to the lower value of {somaxconn}."
        )
    })
}
