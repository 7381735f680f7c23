//! `supervised systemd|auto|upstart`: what each binary reports to its init system, read
//! from a notify socket this test binds, compared between redis-sentinel and rsentinel.

use crate::harness::{Raw, free_port, rsentinel_bin, tempdir};
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Notified {
    sock: UnixDatagram,
    /// The value for `NOTIFY_SOCKET`.
    env: String,
}

impl Notified {
    /// `abstract_ns`: an `@name` socket as systemd itself uses, else a filesystem path.
    fn bind(abstract_ns: bool, dir: &Path) -> Notified {
        if abstract_ns {
            use std::os::linux::net::SocketAddrExt;
            let name = format!("rsentinel-it-notify-{}-{}", std::process::id(), free_port());
            let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
            let sock = UnixDatagram::bind_addr(&addr).expect("bind abstract notify socket");
            sock.set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            Notified {
                sock,
                env: format!("@{name}"),
            }
        } else {
            let path = dir.join("notify.sock");
            let sock = UnixDatagram::bind(&path).expect("bind notify socket");
            sock.set_read_timeout(Some(Duration::from_millis(50)))
                .unwrap();
            Notified {
                sock,
                env: path.display().to_string(),
            }
        }
    }

    /// Datagrams received until `last` arrives (included), within a bounded wait.
    fn until(&self, last: &str, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            if let Ok(n) = self.sock.recv(&mut buf) {
                let m = String::from_utf8_lossy(&buf[..n]).into_owned();
                let done = m == last;
                got.push(m);
                if done {
                    return got;
                }
            }
        }
        panic!("no {last:?} within {timeout:?}; got {got:?}");
    }

    fn drain(&self) -> Vec<String> {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.sock.recv(&mut buf) {
            got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        got
    }
}

struct Started {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Started {
    fn drop(&mut self) {
        // SAFETY: signals to our own child. SIGCONT so a process that upstart mode left
        // stopped is not left behind as a stopped zombie-to-be.
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGCONT);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `bin` the way Debian's unit does (`--supervised <mode> --daemonize no`) with the
/// given environment, retrying on another port when the chosen one was taken meanwhile.
fn start(bin: &Path, mode: &str, env: &[(&str, &str)], ready: bool) -> Started {
    for _ in 0..5 {
        let port = free_port();
        let dir = tempdir("supervised");
        let conf = dir.join("sentinel.conf");
        std::fs::write(
            &conf,
            format!(
                "port {port}\nbind 127.0.0.1\ndir {}\nlogfile {}\n",
                dir.display(),
                dir.join("sentinel.log").display()
            ),
        )
        .unwrap();
        let mut cmd = Command::new(bin);
        cmd.arg(&conf)
            .args(["--supervised", mode, "--daemonize", "no"])
            .env_remove("NOTIFY_SOCKET")
            .env_remove("UPSTART_JOB")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn sentinel");
        if !ready {
            return Started { child, port, dir };
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut up = false;
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                up = true;
                break;
            }
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if up {
            return Started { child, port, dir };
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("could not start {}", bin.display());
}

fn process_supervised(port: u16) -> String {
    let info = Raw::connect(port).cmd(&["INFO", "server"]);
    let text = String::from_utf8_lossy(&info).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix("process_supervised:"))
        .unwrap_or("?")
        .trim()
        .to_string()
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(st)) = child.try_wait() {
            return st;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("process did not exit after the stop request");
}

#[derive(Debug, PartialEq)]
struct Transcript {
    start: Vec<String>,
    info: String,
    stop: Vec<String>,
    exit: Option<i32>,
    log_lines: Vec<String>,
}

/// One start/stop cycle; `shutdown` stops with the SHUTDOWN command instead of SIGTERM.
fn cycle(bin: &Path, mode: &str, abstract_ns: bool, shutdown: bool) -> Transcript {
    let sockdir = tempdir("notify");
    let n = Notified::bind(abstract_ns, &sockdir);
    let mut s = start(bin, mode, &[("NOTIFY_SOCKET", &n.env)], true);
    let start = n.until("READY=1\n", Duration::from_secs(10));
    let info = process_supervised(s.port);
    if shutdown {
        let mut c = Raw::connect(s.port);
        let _ = c.cmd(&["SHUTDOWN"]);
    } else {
        // SAFETY: a signal to our own child.
        unsafe {
            libc::kill(s.child.id() as i32, libc::SIGTERM);
        }
    }
    let stop = n.until("STOPPING=1\n", Duration::from_secs(10));
    let exit = wait_exit(&mut s.child).code();
    let mut stop_all = stop;
    stop_all.extend(n.drain());
    let log = std::fs::read_to_string(s.dir.join("sentinel.log")).unwrap_or_default();
    // Only the lines about supervision: the rest of the log is covered elsewhere.
    let log_lines = log
        .lines()
        .filter(|l| l.to_lowercase().contains("supervis"))
        .map(|l| l.split_once(' ').map(|x| x.1).unwrap_or(l)) // drop pid:role
        .map(|l| l.splitn(5, ' ').nth(4).unwrap_or(l).to_string()) // drop the date
        .collect();
    Transcript {
        start,
        info,
        stop: stop_all,
        exit,
        log_lines,
    }
}

fn expected_messages() -> (Vec<String>, Vec<String>) {
    (
        vec![
            "STATUS=Redis is loading...\n".into(),
            "STATUS=Ready to accept connections\n".into(),
            "READY=1\n".into(),
        ],
        vec!["STOPPING=1\n".into()],
    )
}

#[test]
fn systemd_notify_start_and_stop_match_redis_sentinel() {
    require!("redis-sentinel");
    let (start_msgs, stop_msgs) = expected_messages();
    // (mode, abstract namespace socket, stop with SHUTDOWN)
    let cases = [
        ("systemd", true, false),
        ("systemd", true, true),
        ("systemd", false, false),
        ("systemd", false, true),
        ("auto", true, false),
    ];
    for (mode, abstract_ns, shutdown) in cases {
        let real = cycle(Path::new("redis-sentinel"), mode, abstract_ns, shutdown);
        let ours = cycle(&rsentinel_bin(), mode, abstract_ns, shutdown);
        let what = format!("mode={mode} abstract={abstract_ns} shutdown={shutdown}");
        assert_eq!(real.start, start_msgs, "redis-sentinel start, {what}");
        assert_eq!(real.stop, stop_msgs, "redis-sentinel stop, {what}");
        assert_eq!(real.info, "systemd", "{what}");
        assert_eq!(ours, real, "{what}");
    }
}

#[test]
fn systemd_without_a_usable_socket_is_not_supervised() {
    require!("redis-sentinel");
    let dir = tempdir("nosock");
    let missing = dir.join("missing.sock").display().to_string();
    let cases: [(&str, Vec<(&str, &str)>); 3] = [
        ("systemd", vec![]),
        ("systemd", vec![("NOTIFY_SOCKET", missing.as_str())]),
        ("auto", vec![]),
    ];
    for (mode, env) in cases {
        let mut seen = Vec::new();
        for bin in [PathBuf::from("redis-sentinel"), rsentinel_bin()] {
            let mut s = start(&bin, mode, &env, true);
            let info = process_supervised(s.port);
            unsafe {
                libc::kill(s.child.id() as i32, libc::SIGTERM);
            }
            let code = wait_exit(&mut s.child).code();
            let log = std::fs::read_to_string(s.dir.join("sentinel.log")).unwrap_or_default();
            let lines: Vec<String> = log
                .lines()
                .filter(|l| l.contains("supervision"))
                .map(|l| l.splitn(6, ' ').nth(5).unwrap_or(l).to_string())
                .collect();
            seen.push((info, code, lines));
        }
        assert_eq!(seen[0].0, "no", "mode={mode} env={env:?}");
        assert_eq!(seen[1], seen[0], "mode={mode} env={env:?}");
    }
}

/// `/proc/<pid>/stat` state letter (`T` = stopped).
fn proc_state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(") ")
        .and_then(|(_, rest)| rest.chars().next())
        .unwrap_or('?')
}

#[test]
fn upstart_stops_itself_until_continued() {
    require!("redis-sentinel");
    for mode in ["upstart", "auto"] {
        let mut seen = Vec::new();
        for bin in [PathBuf::from("redis-sentinel"), rsentinel_bin()] {
            let s = start(&bin, mode, &[("UPSTART_JOB", "rsentinel-it")], false);
            let pid = s.child.id();
            let deadline = Instant::now() + Duration::from_secs(10);
            while proc_state(pid) != 'T' {
                assert!(
                    Instant::now() < deadline,
                    "{} did not stop itself",
                    bin.display()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            // Stopped before listening: nothing accepts on the port yet.
            let listening = std::net::TcpStream::connect(("127.0.0.1", s.port)).is_ok();
            unsafe {
                libc::kill(pid as i32, libc::SIGCONT);
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while std::net::TcpStream::connect(("127.0.0.1", s.port)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "{} never listened",
                    bin.display()
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            seen.push((listening, process_supervised(s.port)));
        }
        assert_eq!(seen[0], (false, "upstart".to_string()), "mode={mode}");
        assert_eq!(seen[1], seen[0], "mode={mode}");
    }
}
