//! The open-files limit at start-up (Redis' adjustOpenFilesLimit), on rsentinel and on
//! redis-sentinel 7.0.15 when installed: each binary is started under a given
//! `RLIMIT_NOFILE` and must log the same lines, show the same `maxclients` in INFO and in
//! its rewritten config, and refuse the same client.

use crate::harness::{Raw, both_sentinels, free_port, tempdir, wait_until};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Limited {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Limited {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Limited {
    /// The log's lines without Redis' `pid:role date time level` prefix.
    fn log(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("sentinel.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| l.splitn(6, ' ').nth(5).unwrap_or(l).to_string())
            .collect()
    }

    fn config(&self) -> String {
        std::fs::read_to_string(self.dir.join("sentinel.conf")).unwrap()
    }
}

/// `bin` on a fresh config, with its descriptor limit set to `soft`/`hard` before exec.
/// The flag is false when it exited at start (the caller reads why from the log);
/// retried on a port taken meanwhile.
fn start(bin: &Path, soft: u64, hard: u64) -> (Limited, bool) {
    for _ in 0..5 {
        let port = free_port();
        let dir = tempdir("fdlimit");
        std::fs::write(
            dir.join("sentinel.conf"),
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\nlogfile {}\n",
                dir.display(),
                dir.join("sentinel.log").display()
            ),
        )
        .unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg(dir.join("sentinel.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let lim = libc::rlimit {
                    rlim_cur: soft,
                    rlim_max: hard,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut p = Limited {
            child: cmd.spawn().expect("spawn"),
            port,
            dir,
        };
        let mut exited = false;
        wait_until("listening or exited", Duration::from_secs(10), || {
            exited = matches!(p.child.try_wait(), Ok(Some(_)));
            exited || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        if exited
            && p.log()
                .iter()
                .any(|l| l.contains("Could not create server TCP"))
        {
            continue;
        }
        return (p, !exited);
    }
    panic!("no free port for {}", bin.display());
}

fn skip_if_privileged() -> bool {
    // A sentinel this process starts inherits the capability: then no limit is too
    // low, and the tests of the unprivileged path (a service running as its own user)
    // do not apply.
    let p = rsentinel::server::fdlimit::may_raise_hard_limit();
    if p {
        eprintln!(
            "SKIPPED: this process has CAP_SYS_RESOURCE, so a sentinel it starts can raise any limit"
        );
    }
    p
}

/// INFO's (`total_connections_received`, `rejected_connections`).
fn stats(c: &mut Raw) -> (u64, u64) {
    let info = String::from_utf8(c.cmd(&["INFO", "stats"])).unwrap();
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {info}"))
    };
    (
        field("total_connections_received:"),
        field("rejected_connections:"),
    )
}

fn maxclients_in_info(c: &mut Raw) -> String {
    let info = String::from_utf8(c.cmd(&["INFO", "clients"])).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("maxclients:"))
        .unwrap_or_else(|| panic!("no maxclients in {info}"))
        .to_string()
}

/// A hard limit of 48 descriptors: maxclients drops to 16, the three warnings say why,
/// the rewrite persists it, and the 17th client is refused like any client past
/// maxclients.
#[test]
fn a_low_hard_limit_lowers_maxclients_like_redis() {
    if skip_if_privileged() {
        return;
    }
    let mut logs = Vec::new();
    for bin in both_sentinels() {
        let (p, up) = start(&bin, 48, 48);
        assert!(up, "{} did not start: {:?}", bin.display(), p.log());
        let lines: Vec<String> = p
            .log()
            .into_iter()
            .filter(|l| l.contains("maxclients") || l.contains("open files"))
            .collect();
        assert_eq!(
            lines,
            [
                "# You requested maxclients of 10000 requiring at least 10032 max file descriptors.",
                "# Server can't set maximum open files to 10032 because of OS error: Operation not permitted.",
                "# Current maximum open files is 48. maxclients has been reduced to 16 to compensate for low ulimit. If you need higher maxclients increase 'ulimit -n'.",
            ],
            "{}",
            bin.display()
        );
        wait_until("maxclients persisted", Duration::from_secs(5), || {
            p.config().lines().any(|l| l == "maxclients 16")
        });
        // The first of the 16 waits until the start-up probes' closed connections are
        // gone (until then they still count against maxclients).
        let mut first = Raw::connect(p.port);
        assert_eq!(maxclients_in_info(&mut first), "16", "{}", bin.display());
        wait_until("only one client", Duration::from_secs(5), || {
            String::from_utf8_lossy(&first.cmd(&["INFO", "clients"]))
                .contains("connected_clients:1\r\n")
        });
        let mut clients = vec![first];
        clients.extend((1..16).map(|_| Raw::connect(p.port)));
        for c in &mut clients {
            assert_eq!(c.cmd(&["PING"]), b"+PONG\r\n", "{}", bin.display());
        }
        let before = stats(&mut clients[0]);
        let mut extra = Raw::connect(p.port);
        assert_eq!(
            extra.read_reply(),
            b"-ERR max number of clients reached\r\n",
            "{}",
            bin.display()
        );
        // A refused connection is a rejected one, not a received one.
        let after = stats(&mut clients[0]);
        assert_eq!(
            after.0,
            before.0,
            "{} total_connections_received",
            bin.display()
        );
        assert_eq!(
            after.1,
            before.1 + 1,
            "{} rejected_connections",
            bin.display()
        );
        logs.push(lines);
    }
    assert!(logs.windows(2).all(|w| w[0] == w[1]));
}

/// A soft limit below the need and a hard limit above it: the soft limit is raised and
/// maxclients stays.
#[test]
fn a_low_soft_limit_is_raised_like_redis() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    if lim.rlim_max < 10032 {
        eprintln!(
            "SKIPPED: the hard descriptor limit ({}) is below what the test raises to",
            lim.rlim_max
        );
        return;
    }
    for bin in both_sentinels() {
        let (p, up) = start(&bin, 1024, lim.rlim_max);
        assert!(up, "{} did not start: {:?}", bin.display(), p.log());
        assert!(
            p.log().iter().any(|l| l
                == "* Increased maximum number of open files to 10032 (it was originally set to 1024)."),
            "{}: {:?}",
            bin.display(),
            p.log()
        );
        let mut c = Raw::connect(p.port);
        assert_eq!(maxclients_in_info(&mut c), "10000", "{}", bin.display());
    }
}

/// 32 descriptors or fewer: not enough to start, exit status 1.
#[test]
fn too_few_descriptors_to_start_like_redis() {
    if skip_if_privileged() {
        return;
    }
    for bin in both_sentinels() {
        let (mut p, up) = start(&bin, 32, 32);
        assert!(!up, "{} started with 32 descriptors", bin.display());
        let status = p.child.wait().unwrap();
        assert_eq!(status.code(), Some(1), "{}", bin.display());
        assert!(
            p.log().iter().any(|l| l
                == "# Your current 'ulimit -n' of 32 is not enough for the server to start. Please increase your open file limit to at least 10032. Exiting."),
            "{}: {:?}",
            bin.display(),
            p.log()
        );
    }
}
