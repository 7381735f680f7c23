//! Torn-write test of the atomic config rewrite: a child process rewrites the file in a
//! tight loop and is SIGKILLed at random moments; the file must always be one of the
//! two complete texts and temp files must not accumulate.

use std::process::{Command, Stdio};
use std::time::Duration;

use rsentinel::config::write_atomic;

const ENV: &str = "RSENTINEL_TORN_WRITE_CHILD";

fn texts() -> (String, String) {
    let a = "port 1\n".repeat(20_000);
    let b = "sentinel current-epoch 2\n".repeat(15_000);
    (a, b)
}

#[test]
fn torn_write_child() {
    // Only does work when re-executed by `torn_writes_never_show`.
    let Ok(path) = std::env::var(ENV) else { return };
    let (a, b) = texts();
    loop {
        write_atomic(path.as_ref(), &a).unwrap();
        write_atomic(path.as_ref(), &b).unwrap();
    }
}

#[test]
fn torn_writes_never_show() {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("sentinel.conf");
    let (a, b) = texts();
    std::fs::write(&path, &a).unwrap();
    let exe = std::env::current_exe().unwrap();
    for i in 0..30u64 {
        let mut child = Command::new(&exe)
            .args([
                "torn_write_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ENV, &path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(5 + (i * 7919) % 40));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let now = std::fs::read_to_string(&path).unwrap();
        assert!(
            now == a || now == b,
            "torn file after kill #{i} ({} bytes)",
            now.len()
        );
        let temps = std::fs::read_dir(t.path()).unwrap().count() - 1;
        assert!(temps <= 1, "{temps} temp files left after kill #{i}");
    }
}

/// Issue #15: a failed rewrite names its step the way redis' rewriteConfigOverwriteFile
/// logs it, and still displays as the bare OS error for the "not able to save" warning.
/// (The disk-full and read-only forms run against real filesystems in
/// tests-integration/disk_faults.rs.)
#[test]
fn failed_rewrite_names_its_step_like_redis() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir").join("sentinel.conf");
    let e = write_atomic(&missing, "x\n").unwrap_err();
    assert_eq!(
        rsentinel::config::failed_step(&e),
        Some("Could not create tmp config file (No such file or directory)")
    );
    assert_eq!(rsentinel::config::strerror(&e), "No such file or directory");
    // A directory where the file should be: the rename fails, nothing is left behind.
    let target = dir.path().join("conf");
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), "k").unwrap();
    let e = write_atomic(&target, "x\n").unwrap_err();
    assert_eq!(
        rsentinel::config::failed_step(&e),
        Some("Could not rename tmp config file (Is a directory)")
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().collect();
    assert_eq!(left.len(), 1, "{left:?}");
    // Not from write_atomic: no step.
    assert_eq!(
        rsentinel::config::failed_step(&std::io::Error::from_raw_os_error(28)),
        None
    );
}
