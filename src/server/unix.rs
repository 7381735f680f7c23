//! The `unixsocket` listener. redis-sentinel serves clients on a Unix domain socket when
//! the config names one (sentinel mode shares Redis' `initServer`), so a drop-in does
//! too: local tools and sidecars often reach the sentinel through a socket file whose
//! permissions (`unixsocketperm`) are the access control.

use crate::config::strerror;
use std::os::unix::fs::PermissionsExt;

/// `sizeof(struct sockaddr_un.sun_path)` on Linux: a path must leave room for its NUL.
const SUN_PATH: usize = 108;

/// Bind `path` as Redis' `initServer` does: remove whatever file is there first (a
/// socket left by a previous run; a failure to remove is not an error), bind, then
/// `chmod` to `perm` unless it is 0, listen with `tcp-backlog`. The error is the text redis-sentinel logs after
/// `Failed opening Unix socket: `.
pub fn bind(path: &str, perm: u32, backlog: i32) -> Result<tokio::net::UnixListener, String> {
    use socket2::{Domain, SockAddr, Socket, Type};
    let _ = std::fs::remove_file(path);
    if path.len() > SUN_PATH - 1 {
        return Err(format!(
            "unix socket path too long ({}), must be under {SUN_PATH}",
            path.len()
        ));
    }
    let text = |what: &str, e: std::io::Error| format!("{what}: {}", strerror(&e));
    let socket = Socket::new(Domain::UNIX, Type::STREAM, None).map_err(|e| text("socket", e))?;
    let addr = SockAddr::unix(path).map_err(|e| text("bind", e))?;
    socket.bind(&addr).map_err(|e| text("bind", e))?;
    if perm != 0 {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(perm));
    }
    socket.listen(backlog).map_err(|e| text("listen", e))?;
    socket
        .set_nonblocking(true)
        .map_err(|e| text("listen", e))?;
    let std_listener: std::os::unix::net::UnixListener = socket.into();
    tokio::net::UnixListener::from_std(std_listener).map_err(|e| text("listen", e))
}

/// Remove the socket file at shutdown, as Redis' `closeListeningSockets`: the log lines
/// (level, text) to write.
pub fn remove(path: &str) -> Vec<(crate::config::LogLevel, String)> {
    use crate::config::LogLevel;
    let mut lines = vec![(
        LogLevel::Notice,
        "Removing the unix socket file.".to_string(),
    )];
    if let Err(e) = std::fs::remove_file(path) {
        lines.push((
            LogLevel::Warning,
            format!("Error removing the unix socket file: {}", strerror(&e)),
        ));
    }
    lines
}
