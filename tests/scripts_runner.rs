//! The tokio script runner with real tiny shell scripts, driven by the pure queue the
//! way the event loop will drive it (poll on a timer, feed reports back), with short
//! timing values.

use rsentinel::core::scripts::*;
use rsentinel::scripts::{ScriptReport, ScriptRunner};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

/// Scripts are written then executed; running the tests one at a time keeps a fork in
/// one test from holding another test's script open for writing (ETXTBSY).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn script(dir: &Path, name: &str, body: &str) -> String {
    let p: PathBuf = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.to_string_lossy().into_owned()
}

/// What a drive loop saw: every event emitted, and the start times (ms) of each run.
#[derive(Default, Debug)]
struct Seen {
    events: Vec<ScriptEvent>,
    starts: Vec<u64>,
    pids: Vec<u32>,
}

struct Harness {
    q: ScriptQueue,
    runner: ScriptRunner,
    rx: UnboundedReceiver<ScriptReport>,
    t0: Instant,
    max_runtime: u64,
    retry_delay: u64,
}

impl Harness {
    fn new(max_runtime: u64, retry_delay: u64) -> Self {
        let (runner, rx) = ScriptRunner::new();
        Harness {
            q: ScriptQueue::new(),
            runner,
            rx,
            t0: Instant::now(),
            max_runtime,
            retry_delay,
        }
    }

    fn now(&self) -> u64 {
        1_000 + self.t0.elapsed().as_millis() as u64
    }

    /// Tick every 10 ms until the queue is empty (or `limit` passes).
    async fn run_until_empty(&mut self, limit: Duration) -> Seen {
        let mut seen = Seen::default();
        let deadline = Instant::now() + limit;
        while self.q.queue_len() > 0 {
            assert!(Instant::now() < deadline, "queue never emptied: {seen:?}");
            let now = self.now();
            for cmd in self.q.poll(now, self.max_runtime) {
                match &cmd {
                    ScriptCmd::Event(e) => seen.events.push(e.clone()),
                    ScriptCmd::Start { .. } => seen.starts.push(now),
                    ScriptCmd::Kill { .. } => {}
                }
                self.runner.perform(&cmd);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
            while let Ok(report) = self.rx.try_recv() {
                let now = self.now();
                if let ScriptReport::Started { pid, .. } = report {
                    seen.pids.push(pid);
                }
                seen.events
                    .extend(report.apply(&mut self.q, now, self.retry_delay));
            }
        }
        assert_eq!(self.runner.alive(), 0);
        seen
    }
}

fn warnings(seen: &Seen) -> Vec<(String, String)> {
    seen.events
        .iter()
        .filter(|e| e.level == rsentinel::config::LogLevel::Warning)
        .map(|e| (e.channel.clone(), e.payload.clone()))
        .collect()
}

#[tokio::test]
async fn exit_zero_gets_exact_argv_and_no_event() {
    let _g = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("argv.log");
    let path = script(
        dir.path(),
        "notify.sh",
        &format!(
            "printf '%s|%s|%s|%s\\n' \"$#\" \"$0\" \"$1\" \"$2\" >> {}",
            log.display()
        ),
    );
    let mut h = Harness::new(5_000, 100);
    h.q.schedule(
        &path,
        vec!["+sdown".into(), "master mymaster 127.0.0.1 41000".into()],
    );
    let seen = h.run_until_empty(Duration::from_secs(5)).await;
    assert_eq!(warnings(&seen), vec![]);
    assert_eq!(seen.starts.len(), 1);
    let got = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        got,
        format!("2|{path}|+sdown|master mymaster 127.0.0.1 41000\n")
    );
    // The debug trail redis keeps: +script-child <pid>, -script-child <pid> 0 0.
    let pid = seen.pids[0];
    let debug: Vec<_> = seen.events.iter().map(|e| e.payload.clone()).collect();
    assert_eq!(debug, vec![pid.to_string(), format!("{pid} 0 0")]);
}

#[tokio::test]
async fn exit_one_is_retried_after_the_delay() {
    let _g = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("count");
    let path = script(
        dir.path(),
        "flaky.sh",
        &format!(
            "n=$(cat {c} 2>/dev/null || echo 0); n=$((n+1)); echo $n > {c}; [ $n -ge 3 ] && exit 0; exit 1",
            c = count.display()
        ),
    );
    let mut h = Harness::new(5_000, 100);
    h.q.schedule(&path, vec![]);
    let seen = h.run_until_empty(Duration::from_secs(5)).await;
    assert_eq!(warnings(&seen), vec![]);
    assert_eq!(std::fs::read_to_string(&count).unwrap().trim(), "3");
    assert_eq!(seen.starts.len(), 3);
    // 100 ms after the first failure, 200 ms after the second.
    assert!(seen.starts[1] - seen.starts[0] >= 100, "{:?}", seen.starts);
    assert!(seen.starts[2] - seen.starts[1] >= 200, "{:?}", seen.starts);
}

#[tokio::test]
async fn exit_two_is_an_error_without_retry() {
    let _g = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let path = script(dir.path(), "bad.sh", "exit 2");
    let mut h = Harness::new(5_000, 100);
    h.q.schedule(&path, vec!["+set".into(), "x".into()]);
    let seen = h.run_until_empty(Duration::from_secs(5)).await;
    assert_eq!(seen.starts.len(), 1);
    assert_eq!(
        warnings(&seen),
        vec![("-script-error".to_string(), format!("{path} 0 2"))]
    );
}

#[tokio::test]
async fn exec_failures_look_like_exit_two() {
    let _g = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sh").to_string_lossy().into_owned();
    let plain = dir.path().join("plain.sh");
    std::fs::write(&plain, "#!/bin/sh\nexit 0\n").unwrap();
    let plain = plain.to_string_lossy().into_owned();
    let mut h = Harness::new(5_000, 100);
    h.q.schedule(&missing, vec![]);
    h.q.schedule(&plain, vec![]);
    // A bare name is a file in the working directory, never looked up in $PATH.
    h.q.schedule("true", vec![]);
    let seen = h.run_until_empty(Duration::from_secs(5)).await;
    let mut got = warnings(&seen);
    got.sort();
    let mut want = vec![
        ("-script-error".to_string(), format!("{missing} 0 2")),
        ("-script-error".to_string(), format!("{plain} 0 2")),
        ("-script-error".to_string(), "true 0 2".to_string()),
    ];
    want.sort();
    assert_eq!(got, want);
}

#[tokio::test]
async fn sleeping_script_is_killed_then_retried() {
    let _g = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let count = dir.path().join("count");
    let path = script(
        dir.path(),
        "slow.sh",
        &format!(
            "n=$(cat {c} 2>/dev/null || echo 0); echo $((n+1)) > {c}; [ $n -ge 1 ] && exit 0; exec sleep 30",
            c = count.display()
        ),
    );
    let mut h = Harness::new(200, 50);
    h.q.schedule(&path, vec!["+set".into(), "quorum 2".into()]);
    let seen = h.run_until_empty(Duration::from_secs(5)).await;
    let pid = seen.pids[0];
    assert_eq!(
        warnings(&seen),
        vec![("-script-timeout".to_string(), format!("{path} {pid}"))]
    );
    let reaped = seen
        .events
        .iter()
        .find(|e| e.channel == "-script-child" && e.payload.starts_with(&pid.to_string()))
        .unwrap();
    assert_eq!(reaped.payload, format!("{pid} 0 9"));
    assert_eq!(seen.starts.len(), 2);
    assert!(seen.starts[1] - seen.starts[0] >= 250, "{:?}", seen.starts);
}

#[tokio::test]
async fn kill_of_a_finished_job_is_harmless() {
    let _g = SERIAL.lock().await;
    let (runner, mut rx) = ScriptRunner::new();
    runner.start(ScriptId(1), "/bin/true", &[]);
    let mut reports = Vec::new();
    while reports.len() < 2 {
        reports.push(rx.recv().await.unwrap());
    }
    runner.kill(ScriptId(1));
    let ScriptReport::Started { pid, .. } = reports[0] else {
        panic!("{reports:?}")
    };
    assert_eq!(
        reports[1],
        ScriptReport::Exited {
            id: ScriptId(1),
            pid,
            code: 0,
            signal: 0
        }
    );
    assert_eq!(runner.alive(), 0);
}
