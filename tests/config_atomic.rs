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
