//! What start-up sets on the process, on rsentinel and on redis-sentinel 7.0.15 when
//! installed: the command line `ps` shows (`set-proc-title`, `proc-title-template`),
//! INFO's `executable` and `config_file` for relative paths, `oom-score-adj`, and the
//! refusal of an invalid title template.

use crate::harness::{Raw, free_port, have, rsentinel_bin, tempdir, wait_until, which};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Both binaries, each with the name it is started as (a `redis-sentinel` symlink to
/// rsentinel, so the titles compare).
fn bins(dir: &Path) -> Vec<PathBuf> {
    let link = dir.join("redis-sentinel");
    std::os::unix::fs::symlink(rsentinel_bin(), &link).unwrap();
    let mut bins = vec![link];
    if have("redis-sentinel") {
        let real = dir.join("real").join("redis-sentinel");
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(which("redis-sentinel"), &real).unwrap();
        bins.push(real);
    }
    bins
}

fn info_field(port: u16, name: &str) -> String {
    let info = String::from_utf8(Raw::connect(port).cmd(&["INFO", "server"])).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .unwrap_or_default()
        .to_string()
}

/// Start `bin` by a relative path from `<dir>/run` (so its `argv[0]` and config path
/// climb to the parent directory) on `<dir>/s.conf` with `extra` config.
fn start(bin: &Path, dir: &Path, extra: &str) -> (std::process::Child, u16) {
    start_with_oom(bin, dir, extra, None)
}

/// The same, the process' OOM score first raised to `oom` (as anyone may), so that
/// `relative` shows against a base that is not 0.
fn start_with_oom(
    bin: &Path,
    dir: &Path,
    extra: &str,
    oom: Option<i64>,
) -> (std::process::Child, u16) {
    let port = free_port();
    std::fs::write(
        dir.join("s.conf"),
        format!("port {port}\nbind 127.0.0.1\n{extra}"),
    )
    .unwrap();
    let run = dir.join("run");
    std::fs::create_dir_all(&run).unwrap();
    let rel = Path::new("..").join(bin.strip_prefix(dir).unwrap());
    let mut cmd = match oom {
        None => Command::new(&rel),
        Some(score) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!(
                    "echo {score} > /proc/self/oom_score_adj && exec \"$0\" \"$@\""
                ))
                .arg(&rel);
            c
        }
    };
    let child = cmd
        .arg(Path::new("..").join("s.conf"))
        .current_dir(&run)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("listening", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    (child, port)
}

#[test]
fn the_process_title_and_paths_read_like_redis() {
    let dir = tempdir("proctitle");
    for bin in bins(&dir) {
        let rel = Path::new("..").join(bin.strip_prefix(&dir).unwrap());
        let conf = dir.join("s.conf");
        for (extra, want) in [
            ("", format!("{} 127.0.0.1:PORT [sentinel]", rel.display())),
            (
                "proc-title-template \"{title} {{ {config-file} {port}\"\n",
                format!("{} {{ {} PORT", rel.display(), conf.display()),
            ),
        ] {
            let (mut child, port) = start(&bin, &dir, extra);
            // redis-sentinel sets its title just after binding: poll.
            let want = want.replace("PORT", &port.to_string());
            let path = format!("/proc/{}/cmdline", child.id());
            let shown = || {
                let raw = std::fs::read(&path).unwrap();
                String::from_utf8_lossy(&raw)
                    .trim_end_matches('\0')
                    .to_string()
            };
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while shown() != want && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert_eq!(shown(), want, "{}", bin.display());
            assert_eq!(info_field(port, "executable"), bin.display().to_string());
            assert_eq!(info_field(port, "config_file"), conf.display().to_string());
            let _ = child.kill();
            let _ = child.wait();
        }
        // set-proc-title no: the command line as started.
        let (mut child, _) = start(&bin, &dir, "set-proc-title no\n");
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap();
        assert_eq!(
            cmdline,
            format!(
                "{}\0{}\0",
                rel.display(),
                Path::new("..").join("s.conf").display()
            )
            .as_bytes()
        );
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn an_invalid_title_template_is_refused_like_redis() {
    let dir = tempdir("proctitle");
    for bin in bins(&dir) {
        for template in ["{bad}", "{title", "   ", "{unixsocket}"] {
            std::fs::write(
                dir.join("s.conf"),
                format!("port 0\nproc-title-template \"{template}\"\n"),
            )
            .unwrap();
            let out = Command::new(&bin).arg(dir.join("s.conf")).output().unwrap();
            assert_eq!(out.status.code(), Some(1), "{}", bin.display());
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains(&format!(
                    ">>> 'proc-title-template \"{template}\"'\ntemplate format is invalid or contains unknown variables"
                )),
                "{}: {err}",
                bin.display()
            );
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// `oom-score-adj`: relative adds the first of `oom-score-adj-values` to the score the
/// process started with, absolute sets it.
#[test]
fn the_oom_score_is_set_like_redis() {
    let dir = tempdir("oom");
    let base: i64 = std::fs::read_to_string("/proc/self/oom_score_adj")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // Scores only go up here (lowering one needs CAP_SYS_RESOURCE): a base of at
    // least 50, an absolute value above it, a relative one added to it.
    let base = base.max(50);
    if base > 900 {
        eprintln!("SKIPPED: this process' OOM score ({base}) leaves no room to raise it");
        return;
    }
    for bin in bins(&dir) {
        for (mode, value, want) in [
            ("relative", 40, base + 40),
            ("absolute", base + 70, base + 70),
            ("no", 40, base),
        ] {
            let (mut child, _) = start_with_oom(
                &bin,
                &dir,
                &format!("oom-score-adj {mode}\noom-score-adj-values {value} 200 800\n"),
                Some(base),
            );
            // Both set it after their listeners are up: poll.
            let path = format!("/proc/{}/oom_score_adj", child.id());
            let read = || std::fs::read_to_string(&path).unwrap().trim().to_string();
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while read() != want.to_string() && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert_eq!(read(), want.to_string(), "{} {mode}", bin.display());
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
