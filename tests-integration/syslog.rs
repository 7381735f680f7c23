//! `syslog-enabled yes`: every log line also goes to syslog(3), under `syslog-ident` and
//! `syslog-facility` once the server opened the log, under glibc's defaults before
//! (the start-up banner). Each binary runs in its own mount namespace where `/dev/log`
//! leads to a datagram socket of the test, so nothing reaches the machine's syslog;
//! skipped where `unshare -m` is not allowed. Checked on redis-sentinel 7.0.15 too when
//! installed: the same datagrams but for the program name of the banner lines.

use crate::harness::{Raw, both_sentinels, free_port, have, tempdir, wait_until, which};
use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The namespace set-up each sentinel runs under (`/dev` replaced, `/dev/log` leading
/// to `sock`), before `then`.
fn setup_script(sock: &Path, then: &str) -> String {
    format!(
        "mount -t tmpfs none /dev && ln -s {} /dev/log && {then}",
        sock.display()
    )
}

fn namespaces_allowed() -> bool {
    Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            &setup_script(Path::new("/nonexistent"), "true"),
        ])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The datagrams `bin` sends to syslog from start to SHUTDOWN, each without its
/// timestamp (`<pri>tag: message`).
fn syslog_of(bin: &Path) -> Vec<String> {
    let dir = tempdir("syslog");
    let sock = dir.join("log.sock");
    let receiver = UnixDatagram::bind(&sock).unwrap();
    receiver
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let port = free_port();
    let conf = dir.join("sentinel.conf");
    std::fs::write(
        &conf,
        format!(
            "port {port}\nbind 127.0.0.1\nlogfile \"\"\nsyslog-enabled yes\nsyslog-ident myident\nsyslog-facility local3\n"
        ),
    )
    .unwrap();
    let script = setup_script(&sock, &format!("exec {} {}", bin.display(), conf.display()));
    let mut child = Command::new("unshare")
        .args(["-m", "sh", "-c", &script])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("listening", Duration::from_secs(10), || {
        assert!(
            child.try_wait().unwrap().is_none(),
            "{} exited at start",
            bin.display()
        );
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    Raw::connect(port).send_raw(b"SHUTDOWN\r\n");
    let _ = child.wait();
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok(n) = receiver.recv(&mut buf) {
        let d = String::from_utf8_lossy(&buf[..n]).to_string();
        // "<pri>Mon dd hh:mm:ss tag: message": drop the 15-character timestamp.
        let (pri, rest) = d.split_at(d.find('>').map_or(0, |i| i + 1));
        got.push(format!("{pri}{}", rest.get(16..).unwrap_or(rest)));
    }
    let _ = std::fs::remove_dir_all(dir);
    got
}

#[test]
fn log_lines_also_go_to_syslog_like_redis() {
    if !have("unshare") || !namespaces_allowed() {
        eprintln!("SKIPPED: no mount namespace with a private /dev here (unshare -m)");
        return;
    }
    let bins: Vec<_> = both_sentinels()
        .into_iter()
        .map(|b| {
            if b.is_absolute() {
                b
            } else {
                which(&b.to_string_lossy())
            }
        })
        .collect();
    let mut seen = Vec::new();
    for bin in &bins {
        let got = syslog_of(bin);
        let program = bin.file_name().unwrap().to_string_lossy().to_string();
        // Before openlog: facility user (1), no pid, the program's name.
        assert_eq!(
            got.first().map(String::as_str),
            Some(format!("<12>{program}: oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo").as_str()),
            "{got:?}"
        );
        // After it: local3 (19 * 8) + notice (5) / warning (4), the ident and the pid.
        let pid_tag = |line: &str| {
            line.split_once("]: ")
                .map(|(tag, msg)| (tag.split('[').next().unwrap().to_string(), msg.to_string()))
        };
        let after: Vec<(String, String)> = got.iter().skip(3).filter_map(|l| pid_tag(l)).collect();
        assert!(
            after
                .iter()
                .any(|(t, m)| t == "<157>myident" && m.starts_with("Running mode=sentinel")),
            "{got:?}"
        );
        assert!(
            after
                .iter()
                .any(|(t, m)| t == "<156>myident" && m.starts_with("Sentinel ID is ")),
            "{got:?}"
        );
        assert!(
            after
                .iter()
                .any(|(t, m)| t == "<156>myident"
                    && m == "Sentinel is now ready to exit, bye bye..."),
            "{got:?}"
        );
        // Compared across binaries without the program name, pid, run id and port.
        seen.push(
            got.iter()
                .map(|l| mask(&l.replacen(&program, "PROGRAM", 1)))
                .collect::<Vec<_>>(),
        );
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:#?}");
}

/// Runs of 40 hex digits (run ids) become `ID`, other digit runs `N`.
fn mask(s: &str) -> String {
    let b = s.as_bytes();
    let (mut out, mut i) = (String::new(), 0);
    while i < b.len() {
        let hex = b[i..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
        let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if hex >= 40 {
            out.push_str("ID");
            i += hex;
        } else if digits > 0 {
            out.push('N');
            i += digits;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}
