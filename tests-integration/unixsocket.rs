//! `unixsocket` / `unixsocketperm`: redis-sentinel serves clients on a Unix domain socket
//! too (sentinel mode shares Redis' `initServer`). Each check runs on rsentinel and, when
//! installed, on redis-sentinel 7.0.15 with the same expectations.

use crate::harness::*;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn binaries() -> Vec<std::path::PathBuf> {
    let mut v = vec![rsentinel_bin()];
    if have("redis-sentinel") {
        v.push("redis-sentinel".into());
    } else {
        eprintln!("redis-sentinel not installed: checking rsentinel only");
    }
    v
}

fn unix_client(path: &Path) -> redis::Connection {
    let url = format!("unix://{}", path.display());
    redis::Client::open(url.as_str())
        .and_then(|c| c.get_connection())
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

/// The fields of a `CLIENT LIST`/`CLIENT INFO` line that do not vary between runs.
fn stable_fields(line: &str) -> Vec<&str> {
    line.split(' ')
        .filter(|f| {
            ["addr=", "laddr=", "flags=", "cmd=", "user="]
                .iter()
                .any(|k| f.starts_with(k))
        })
        .collect()
}

#[test]
fn unixsocket_serves_clients_with_the_socket_as_their_address() {
    for bin in binaries() {
        let sock_dir = tempdir("unixsock");
        let sock = sock_dir.join("s.sock");
        // A file left at the path (a previous run's socket) is replaced, not an error.
        std::fs::write(&sock, "stale").unwrap();
        let body = format!(
            "unixsocket {}\nunixsocketperm 700\nsentinel monitor m 127.0.0.1 1 2\n",
            sock.display()
        );
        let mut p = sentinel(&bin, &body);
        let who = bin.display();
        let meta = std::fs::metadata(&sock).unwrap();
        assert!(meta.file_type().is_socket(), "{who}");
        assert_eq!(meta.permissions().mode() & 0o777, 0o700, "{who}");

        let mut c = unix_client(&sock);
        let pong: String = redis::cmd("PING").query(&mut c).unwrap();
        assert_eq!(pong, "PONG", "{who}");
        let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut c).unwrap();
        let at = format!("{}:0", sock.display());
        assert_eq!(
            stable_fields(info.trim_end()),
            [
                format!("addr={at}").as_str(),
                &format!("laddr={at}"),
                "flags=U",
                "cmd=client|info",
                "user=default"
            ],
            "{who}: {info}"
        );
        // The flag keeps Redis' letter order next to the others.
        let _: String = redis::cmd("CLIENT")
            .arg("NO-EVICT")
            .arg("on")
            .query(&mut c)
            .unwrap();
        let info: String = redis::cmd("CLIENT").arg("INFO").query(&mut c).unwrap();
        assert!(info.contains(" flags=Ue "), "{who}: {info}");
        // TCP clients see it in CLIENT LIST, and can kill it by that address.
        let mut tcp = Raw::connect(p.port);
        let list = String::from_utf8_lossy(&tcp.cmd(&["CLIENT", "LIST"])).into_owned();
        assert!(
            list.contains(&format!(" addr={at} laddr={at} ")),
            "{who}: {list}"
        );
        assert_eq!(
            tcp.cmd(&["CLIENT", "KILL", "ADDR", &at]),
            b":1\r\n",
            "{who}"
        );
        assert!(
            redis::cmd("PING").query::<String>(&mut c).is_err(),
            "{who}: the killed unix client still answered"
        );

        // SHUTDOWN on the socket: the file is removed, with Redis' log line.
        let mut c = unix_client(&sock);
        let _ = redis::cmd("SHUTDOWN").query::<()>(&mut c);
        wait_until("exit after SHUTDOWN", Duration::from_secs(10), || {
            matches!(p.child.try_wait(), Ok(Some(_)))
        });
        assert!(!sock.exists(), "{who}: the socket file is left behind");
        let log = std::fs::read_to_string(p.dir.join("sentinel.log")).unwrap();
        let tail: Vec<&str> = log
            .lines()
            .rev()
            .take(2)
            .map(|l| l.splitn(6, ' ').nth(5).unwrap_or(""))
            .collect();
        assert_eq!(
            tail,
            [
                "# Sentinel is now ready to exit, bye bye...",
                "* Removing the unix socket file."
            ],
            "{who}"
        );
    }
}

#[test]
fn port_0_with_a_unixsocket_is_a_sentinel_on_the_socket_only() {
    for bin in binaries() {
        let dir = tempdir("unixonly");
        let sock = dir.join("only.sock");
        let conf = dir.join("s.conf");
        std::fs::write(
            &conf,
            format!(
                "port 0\nunixsocket {}\nlogfile {}\nsentinel monitor m 127.0.0.1 1 2\n",
                sock.display(),
                dir.join("log").display()
            ),
        )
        .unwrap();
        let mut p = spawn_on(&bin, &conf, 0, dir);
        wait_until("the socket", Duration::from_secs(10), || {
            if let Ok(Some(st)) = p.child.try_wait() {
                panic!("{}: exited early: {st}", p.name);
            }
            std::os::unix::net::UnixStream::connect(&sock).is_ok()
        });
        let mut c = unix_client(&sock);
        let masters: Vec<redis::Value> =
            redis::cmd("SENTINEL").arg("MASTERS").query(&mut c).unwrap();
        assert_eq!(masters.len(), 1, "{}", p.name);
    }
}

/// Redis' `Failed opening Unix socket: <anet error>` and exit status 1.
#[test]
fn a_unixsocket_that_cannot_be_bound_is_fatal_with_redis_text() {
    let dir = tempdir("unixbad");
    let long = dir.join("x".repeat(120));
    let cases = [
        (
            "/nonexistent-rsentinel-dir/s.sock".to_string(),
            "Failed opening Unix socket: bind: No such file or directory".to_string(),
        ),
        (
            long.display().to_string(),
            format!(
                "Failed opening Unix socket: unix socket path too long ({}), must be under 108",
                long.display().to_string().len()
            ),
        ),
    ];
    for bin in binaries() {
        for (path, expected) in &cases {
            let conf = dir.join("s.conf");
            std::fs::write(
                &conf,
                format!(
                    "port {}\nunixsocket {path}\nsentinel monitor m 127.0.0.1 1 2\n",
                    free_port()
                ),
            )
            .unwrap();
            let out = Command::new(&bin).arg(&conf).output().unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(1), "{}: {stdout}", bin.display());
            let last = stdout.lines().last().unwrap_or("");
            assert!(
                last.ends_with(&format!("# {expected}")),
                "{}: {stdout}",
                bin.display()
            );
        }
    }
}
