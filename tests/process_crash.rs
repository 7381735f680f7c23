//! A panic in rsentinel is a bug report in the server log; outside a client connection
//! it aborts the process (a supervisor restarts it), inside one it closes only that
//! connection. The hook is process-wide, so each case runs this test binary again as a
//! child (selected by an environment variable) and judges its exit and its log.

use rsentinel::config::LogLevel;
use rsentinel::log::Logger;
use rsentinel::process::crash;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::sync::Arc;

const CHILD: &str = "RSENTINEL_CRASH_CHILD";

/// In the child: install the hook logging to `log`, then panic in a plain task or in
/// an isolated one.
fn child(log: &str, isolated: bool) -> ! {
    crash::install(Arc::new(Logger::new(log, LogLevel::Notice)), true, None);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let task = if isolated {
            tokio::spawn(crash::isolated(async { panic!("boom in a client") }))
        } else {
            tokio::spawn(async { panic!("boom in the core") })
        };
        assert!(task.await.is_err());
    });
    println!("the process went on");
    std::process::exit(0);
}

/// Run `test` again as a child with `CHILD` set to the log path: (exit, log text).
fn run_child(test: &str, isolated: bool) -> (std::process::ExitStatus, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sentinel.log");
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads", "1"])
        .env(CHILD, &log)
        .env("ISOLATED", if isolated { "1" } else { "0" })
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    (
        out.status,
        text,
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn a_panic_outside_a_client_is_reported_and_aborts() {
    if let Ok(log) = std::env::var(CHILD) {
        child(&log, std::env::var("ISOLATED").as_deref() == Ok("1"));
    }
    let (status, log, stdout) = run_child(
        "process_crash::a_panic_outside_a_client_is_reported_and_aborts",
        false,
    );
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{status:?} {stdout}");
    assert!(!stdout.contains("the process went on"));
    assert!(
        log.contains("\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===\n"),
        "{log}"
    );
    assert!(log.contains(" # === ASSERTION FAILED ===\n"), "{log}");
    assert!(log.contains("tests/process_crash.rs:"), "{log}");
    assert!(log.contains("'boom in the core' is not true"), "{log}");
    assert!(log.contains(" # ------ STACK TRACE ------\n"), "{log}");
    assert!(
        log.contains("aborting, so that a supervisor restarts"),
        "{log}"
    );
    assert!(
        log.contains("=== REDIS BUG REPORT END. Make sure to include from START to END. ==="),
        "{log}"
    );
}

#[test]
fn a_panic_serving_a_client_is_reported_and_the_process_goes_on() {
    if let Ok(log) = std::env::var(CHILD) {
        child(&log, std::env::var("ISOLATED").as_deref() == Ok("1"));
    }
    let (status, log, stdout) = run_child(
        "process_crash::a_panic_serving_a_client_is_reported_and_the_process_goes_on",
        true,
    );
    assert!(status.success(), "{status:?} {stdout}");
    assert!(stdout.contains("the process went on"), "{stdout}");
    assert!(log.contains("'boom in a client' is not true"), "{log}");
    assert!(
        log.contains("that connection is closed and the sentinel goes on"),
        "{log}"
    );
}

#[test]
fn isolation_is_the_tasks_own() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        assert!(!crash::in_isolated());
        assert!(crash::isolated(async { crash::in_isolated() }).await);
        // A task spawned from an isolated one is not isolated itself.
        let inner = crash::isolated(async { tokio::spawn(async { crash::in_isolated() }).await })
            .await
            .unwrap();
        assert!(!inner);
    });
}
