//! Disk faults on the config rewrite (issue #15, part 4): the config directory turned
//! read-only, the disk full, the file replaced behind the sentinel's back. The same
//! sequence runs against rsentinel and the real redis-sentinel: the replies to `SENTINEL
//! SET` / `SENTINEL FLUSHCONFIG` and the warnings logged must be the same, the old file
//! must stay intact and loadable, and the next successful rewrite must have everything.
//!
//! The faults come from a small tmpfs mounted by the test (remounted read-only, or filled
//! up). Mounting needs root (CAP_SYS_ADMIN); without it the tests are skipped loudly.

use crate::harness::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// A tmpfs of `size` mounted on a fresh directory; unmounted on drop.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempdir("tmpfs");
        let ok = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(&dir)
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if !ok {
            let _ = std::fs::remove_dir(&dir);
            return None;
        }
        Some(Tmpfs { dir })
    }
    fn remount(&self, mode: &str) {
        let st = Command::new("mount")
            .args(["-o", &format!("remount,{mode}")])
            .arg(&self.dir)
            .status()
            .unwrap();
        assert!(st.success(), "remount {mode}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
        let _ = std::fs::remove_dir(&self.dir);
    }
}

macro_rules! require_tmpfs {
    ($size:expr) => {
        match Tmpfs::mount($size) {
            Some(t) => t,
            None => {
                eprintln!("SKIPPED: cannot mount a tmpfs (needs root / CAP_SYS_ADMIN)");
                return;
            }
        }
    };
}

/// Starts `bin` on `<dir>/sentinel.conf` (written from `body` plus port/dir/logfile),
/// logging to `<logs>/sentinel.log` (off the faulty disk, so the warnings get written).
fn start_in(bin: &Path, dir: &Path, logs: &Path, body: &str) -> Proc {
    let port = free_port();
    let conf = dir.join("sentinel.conf");
    let log = logs.join("sentinel.log");
    std::fs::write(
        &conf,
        format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nlogfile {}\n{body}",
            dir.display(),
            log.display()
        ),
    )
    .unwrap();
    // Proc's drop removes its dir: a throwaway subdirectory, not the mount point.
    let mut p = spawn_on(bin, &conf, port, dir.join("proc-scratch"));
    wait_until("the sentinel listens", Duration::from_secs(10), || {
        if let Ok(Some(st)) = p.child.try_wait() {
            panic!("{} exited: {st}", bin.display());
        }
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    p
}

/// The log lines after the first `skip` lines, without the `pid:X dd Mon hh:mm:ss.mmm # `
/// prefix.
fn log_tail(dir: &Path, skip: usize) -> Vec<String> {
    std::fs::read_to_string(dir.join("sentinel.log"))
        .unwrap_or_default()
        .lines()
        .skip(skip)
        .map(|l| match l.find(" # ").or_else(|| l.find(" * ")) {
            Some(i) => l[i + 3..].to_string(),
            None => l.to_string(),
        })
        .collect()
}

fn log_len(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("sentinel.log"))
        .unwrap_or_default()
        .lines()
        .count()
}

/// The file loads: a fresh rsentinel started on a copy of it answers with `quorum`.
fn assert_loads_with_quorum(text: &str, quorum: &str) {
    let scratch = tempdir("reload");
    let body: String = text
        .lines()
        .filter(|l| !l.starts_with("port ") && !l.starts_with("dir ") && !l.starts_with("logfile "))
        .map(|l| format!("{l}\n"))
        .collect();
    let p = start_in(&rsentinel_bin(), &scratch, &scratch, &body);
    let mut c = Raw::connect(p.port);
    let m = parse_pairs(&c.cmd(&["SENTINEL", "MASTER", "m"]));
    assert_eq!(field(&m, "quorum"), quorum, "reloaded file:\n{text}");
    drop(p);
    let _ = std::fs::remove_dir_all(&scratch);
}

const BODY: &str = "sentinel monitor m 127.0.0.1 1 2\n";

struct Outcome {
    replies: Vec<String>,
    warnings: Vec<String>,
}

fn read_only_dir(bin: &Path) -> Outcome {
    let fs = Tmpfs::mount("1m").unwrap();
    let logs = tempdir("logs");
    let s = start_in(bin, &fs.dir, &logs, BODY);
    let conf = fs.dir.join("sentinel.conf");
    let mut c = Raw::connect(s.port);
    assert_eq!(c.cmd(&["SENTINEL", "SET", "m", "quorum", "3"]), b"+OK\r\n");
    let good = std::fs::read_to_string(&conf).unwrap();
    assert!(good.contains("sentinel monitor m 127.0.0.1 1 3"), "{good}");
    let mark = log_len(&logs);
    fs.remount("ro");
    let mut replies = vec![
        c.cmd(&["SENTINEL", "SET", "m", "quorum", "4"]),
        c.cmd(&["SENTINEL", "FLUSHCONFIG"]),
    ];
    // Still serving, the change is live, the file untouched and loadable.
    let m = parse_pairs(&c.cmd(&["SENTINEL", "MASTER", "m"]));
    assert_eq!(field(&m, "quorum"), "4");
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), good);
    let warnings = log_tail(&logs, mark);
    assert_loads_with_quorum(&good, "3");
    fs.remount("rw");
    replies.push(c.cmd(&["SENTINEL", "FLUSHCONFIG"]));
    let now = std::fs::read_to_string(&conf).unwrap();
    assert!(now.contains("sentinel monitor m 127.0.0.1 1 4"), "{now}");
    assert_loads_with_quorum(&now, "4");
    drop(s);
    let _ = std::fs::remove_dir_all(&logs);
    Outcome {
        replies: replies
            .iter()
            .map(|r| String::from_utf8_lossy(r).into())
            .collect(),
        warnings,
    }
}

fn disk_full(bin: &Path) -> Outcome {
    let fs = Tmpfs::mount("256k").unwrap();
    let logs = tempdir("logs");
    let s = start_in(bin, &fs.dir, &logs, BODY);
    let conf = fs.dir.join("sentinel.conf");
    let mut c = Raw::connect(s.port);
    assert_eq!(c.cmd(&["SENTINEL", "SET", "m", "quorum", "3"]), b"+OK\r\n");
    let good = std::fs::read_to_string(&conf).unwrap();
    // Fill the disk.
    let filler = fs.dir.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).unwrap();
        let chunk = vec![0u8; 4096];
        while f.write_all(&chunk).is_ok() {}
    }
    let mark = log_len(&logs);
    let mut replies = vec![
        c.cmd(&["SENTINEL", "SET", "m", "quorum", "4"]),
        c.cmd(&["SENTINEL", "FLUSHCONFIG"]),
    ];
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), good);
    // No temp file left behind.
    let names: Vec<String> = std::fs::read_dir(&fs.dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    std::fs::remove_file(&filler).unwrap();
    let warnings = log_tail(&logs, mark);
    assert_loads_with_quorum(&good, "3");
    replies.push(c.cmd(&["SENTINEL", "FLUSHCONFIG"]));
    let now = std::fs::read_to_string(&conf).unwrap();
    assert!(now.contains("sentinel monitor m 127.0.0.1 1 4"), "{now}");
    assert_loads_with_quorum(&now, "4");
    assert!(
        names
            .iter()
            .all(|n| ["sentinel.conf", "filler"].contains(&n.as_str())),
        "{names:?}"
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&logs);
    Outcome {
        replies: replies
            .iter()
            .map(|r| String::from_utf8_lossy(r).into())
            .collect(),
        warnings,
    }
}

fn compare(ours: Outcome, real: Outcome) {
    assert_eq!(ours.replies, real.replies);
    assert_eq!(
        ours.replies[..2],
        [
            "-ERR Failed to save config file. Check server logs.\r\n",
            "-ERR Failed to save config file. Check server logs.\r\n"
        ]
    );
    assert_eq!(ours.replies[2], "+OK\r\n");
    let warn = |o: &Outcome| -> Vec<String> {
        o.warnings
            .iter()
            .filter(|l| !l.starts_with("+set"))
            .cloned()
            .collect()
    };
    assert_eq!(warn(&ours), warn(&real));
}

#[test]
fn config_dir_read_only_like_redis_sentinel() {
    require!("redis-sentinel");
    drop(require_tmpfs!("64k"));
    let ours = read_only_dir(&rsentinel_bin());
    let real = read_only_dir(Path::new("redis-sentinel"));
    compare(ours, real);
}

#[test]
fn disk_full_like_redis_sentinel() {
    require!("redis-sentinel");
    drop(require_tmpfs!("64k"));
    let ours = disk_full(&rsentinel_bin());
    let real = disk_full(Path::new("redis-sentinel"));
    compare(ours, real);
}

/// The file replaced behind the sentinel's back (an operator's edit saved with
/// rename): the next rewrite starts from the new file, keeping its comments and updating
/// its lines, as redis-sentinel does (the texts are compared); deleted behind its back,
/// the next rewrite creates it again with everything. Every result loads.
fn replaced(bin: &Path) -> Vec<String> {
    let dir = tempdir("replaced");
    let s = start_in(bin, &dir, &dir, BODY);
    let conf = dir.join("sentinel.conf");
    let mut c = Raw::connect(s.port);
    assert_eq!(c.cmd(&["SENTINEL", "SET", "m", "quorum", "3"]), b"+OK\r\n");
    let text = std::fs::read_to_string(&conf).unwrap();
    let edited =
        format!("# edited by ops\n{text}loglevel verbose\nsentinel announce-hostnames yes\n");
    let tmp = dir.join("edit.tmp");
    std::fs::write(&tmp, &edited).unwrap();
    std::fs::rename(&tmp, &conf).unwrap();
    assert_eq!(c.cmd(&["SENTINEL", "SET", "m", "quorum", "5"]), b"+OK\r\n");
    let now = std::fs::read_to_string(&conf).unwrap();
    assert!(now.starts_with("# edited by ops\n"), "{now}");
    assert!(now.contains("sentinel monitor m 127.0.0.1 1 5"), "{now}");
    assert_loads_with_quorum(&now, "5");
    std::fs::remove_file(&conf).unwrap();
    assert_eq!(c.cmd(&["SENTINEL", "FLUSHCONFIG"]), b"+OK\r\n");
    let again = std::fs::read_to_string(&conf).unwrap();
    assert!(
        again.contains("sentinel monitor m 127.0.0.1 1 5"),
        "{again}"
    );
    assert_loads_with_quorum(&again, "5");
    drop(s);
    let _ = std::fs::remove_dir_all(&dir);
    let norm = |t: &str| {
        t.lines()
            .filter(|l| {
                !["port ", "dir ", "logfile ", "sentinel myid "]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    // A file written from scratch has the options in redis' dict order, which is
    // hash-random (src/config/rewrite.rs): compare it as a set of lines. The edited file
    // keeps the block its first rewrite appended, in that same random order, so that
    // block (up to its blank line) is compared as a set too; the rest keeps its order.
    let mut sorted: Vec<String> = norm(&again).lines().map(String::from).collect();
    sorted.sort();
    let mut edited: Vec<String> = norm(&now).lines().map(String::from).collect();
    if let Some(start) = edited
        .iter()
        .position(|l| l == "# Generated by CONFIG REWRITE")
    {
        let end = edited[start..]
            .iter()
            .position(|l| l.is_empty())
            .map_or(edited.len(), |n| start + n);
        edited[start + 1..end].sort();
    }
    vec![edited.join("\n"), sorted.join("\n")]
}

#[test]
fn config_file_replaced_behind_our_back_like_redis_sentinel() {
    require!("redis-sentinel");
    let ours = replaced(&rsentinel_bin());
    let real = replaced(Path::new("redis-sentinel"));
    assert_eq!(ours, real);
}

/// The disk-full case without root: the write fault hook of src/config/atomic.rs
/// (`RSENTINEL_TEST_WRITE_FAULT`) makes every temp-file write fail with ENOSPC. The
/// replies and warnings are the ones redis-sentinel gives on a full tmpfs (captured by
/// `disk_full_like_redis_sentinel`); the old file stays, the next rewrite has everything.
#[test]
fn disk_full_through_the_fault_hook() {
    let dir = tempdir("enospc");
    let trigger = dir.join("fault");
    let port = free_port();
    let conf = dir.join("sentinel.conf");
    std::fs::write(
        &conf,
        format!(
            "port {port}\nbind 127.0.0.1\ndir {}\nlogfile {}\n{BODY}",
            dir.display(),
            dir.join("sentinel.log").display()
        ),
    )
    .unwrap();
    let child = Command::new(rsentinel_bin())
        .arg(&conf)
        .env("RSENTINEL_TEST_WRITE_FAULT", &trigger)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let s = Proc {
        child,
        port,
        dir: dir.clone(),
        name: "rsentinel".into(),
    };
    wait_until("rsentinel listens", Duration::from_secs(10), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let mut c = Raw::connect(s.port);
    assert_eq!(c.cmd(&["SENTINEL", "SET", "m", "quorum", "3"]), b"+OK\r\n");
    let good = std::fs::read_to_string(&conf).unwrap();
    std::fs::write(&trigger, "28").unwrap();
    let mark = log_len(&dir);
    for r in [
        c.cmd(&["SENTINEL", "SET", "m", "quorum", "4"]),
        c.cmd(&["SENTINEL", "FLUSHCONFIG"]),
    ] {
        assert_eq!(
            String::from_utf8_lossy(&r),
            "-ERR Failed to save config file. Check server logs.\r\n"
        );
    }
    assert_eq!(std::fs::read_to_string(&conf).unwrap(), good);
    let warnings: Vec<String> = log_tail(&dir, mark)
        .into_iter()
        .filter(|l| !l.starts_with("+set"))
        .collect();
    let pair = [
        "Failed after writing (0) bytes to tmp config file (No space left on device)",
        "WARNING: Sentinel was not able to save the new configuration on disk!!!: No space left on device",
    ];
    assert_eq!(warnings, [pair, pair].concat());
    let leftovers: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    std::fs::remove_file(&trigger).unwrap();
    assert_eq!(c.cmd(&["SENTINEL", "FLUSHCONFIG"]), b"+OK\r\n");
    let now = std::fs::read_to_string(&conf).unwrap();
    assert!(now.contains("sentinel monitor m 127.0.0.1 1 4"), "{now}");
    assert_loads_with_quorum(&now, "4");
}
