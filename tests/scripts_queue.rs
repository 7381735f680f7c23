//! The pure script queue on a fake clock: limits, retry backoff, drop-oldest, timeout
//! kill, and PENDING-SCRIPTS replies compared byte for byte with real redis-sentinel.

use crate::support::golden;
use rsentinel::config::LogLevel;
use rsentinel::core::scripts::*;
use rsentinel::resp::Reply;

const NOTIFY: &str = "/tmp/sg/notify.sh";

fn golden(name: &str) -> Vec<u8> {
    golden::resp(name)
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn starts(cmds: &[ScriptCmd]) -> Vec<ScriptId> {
    cmds.iter()
        .filter_map(|c| match c {
            ScriptCmd::Start { id, .. } => Some(*id),
            _ => None,
        })
        .collect()
}

fn warn(channel: &str, payload: &str) -> ScriptEvent {
    ScriptEvent {
        level: LogLevel::Warning,
        channel: channel.into(),
        payload: payload.into(),
    }
}

/// Schedule `a` and start it at `at` as process `pid`.
fn run_at(q: &mut ScriptQueue, a: &[&str], at: u64, pid: u32) -> ScriptId {
    let id = q.schedule(NOTIFY, args(a));
    assert_eq!(starts(&q.poll(at, 60_000)), vec![id]);
    q.started(id, pid);
    id
}

#[test]
fn five_running_notifications_match_golden_05() {
    let t = 1_000_000u64;
    let mut q = ScriptQueue::new();
    let sdown = run_at(
        &mut q,
        &["+sdown", "master mymaster 127.0.0.1 41001"],
        t - 1067,
        29232,
    );
    run_at(&mut q, &["+new-epoch", "3"], t - 966, 29236);
    let vote = "cbc2f454bb1f7b019a27bd6c7f8cda554f7504d6 3";
    run_at(&mut q, &["+vote-for-leader", vote], t - 965, 29237);
    let from = "sentinel cbc2f454bb1f7b019a27bd6c7f8cda554f7504d6 127.0.0.1 41102 @ mymaster 127.0.0.1 41001";
    run_at(&mut q, &["+config-update-from", from], t - 610, 29270);
    let switch = "mymaster 127.0.0.1 41001 127.0.0.1 41002";
    run_at(&mut q, &["+switch-master", switch], t - 609, 29271);

    let want = golden("05-pending-scripts/001-sentinel-pending-scripts.resp");
    assert_eq!(q.pending_reply(t).to_bytes(2).to_vec(), want);
    assert_eq!((q.running_count(), q.queue_len()), (5, 5));
    let want = golden("05-pending-scripts/003-sentinel-pending-scripts.resp");
    assert_eq!(q.pending_reply(t + 1001).to_bytes(2).to_vec(), want);

    // The +sdown script ends fine; a new one (started later) goes to the tail.
    assert!(
        q.exited(sdown, 0, 0, t + 1500, 30_000)
            .iter()
            .all(|e| e.level == LogLevel::Debug)
    );
    let s = "slave 127.0.0.1:41001 127.0.0.1 41001 @ mymaster 127.0.0.1 41002";
    run_at(&mut q, &["+sdown", s], t + 2002 - 578, 29375);
    let want = golden("05-pending-scripts/004-sentinel-pending-scripts.resp");
    assert_eq!(q.pending_reply(t + 2002).to_bytes(2).to_vec(), want);
}

#[test]
fn retry_error_and_timeout_match_golden_12() {
    let (delay, max_rt) = (2000, 1500);
    let set = "master mymaster 127.0.0.1 41002 quorum 2";
    let mut q = ScriptQueue::new();

    // notify.sh exits 1: rescheduled 2000 ms after the exit.
    let id = q.schedule(NOTIFY, args(&["+set", set]));
    assert_eq!(starts(&q.poll(851_798, max_rt)), vec![id]);
    q.started(id, 7900);
    let ev = q.exited(id, 1, 0, 851_900, delay);
    assert_eq!(ev.len(), 1, "only the debug -script-child: {ev:?}");
    assert_eq!(ev[0].channel, "-script-child");
    assert_eq!(ev[0].payload, "7900 1 0");
    let want = golden("12-scripts/003-sentinel-pending-scripts.resp");
    assert_eq!(q.pending_reply(852_280).to_bytes(2).to_vec(), want);

    // Not due yet; then the retry exits 2: no more retries, -script-error.
    assert!(q.poll(853_899, max_rt).is_empty());
    assert_eq!(starts(&q.poll(853_974, max_rt)), vec![id]);
    q.started(id, 7950);
    let ev = q.exited(id, 2, 0, 854_055, delay);
    assert_eq!(
        ev.last(),
        Some(&warn("-script-error", "/tmp/sg/notify.sh 0 2"))
    );
    let want = golden("12-scripts/004-sentinel-pending-scripts.resp");
    assert_eq!(q.pending_reply(854_100).to_bytes(2).to_vec(), want);

    // A sleeping script: running, then killed after 1500 ms, then retried.
    let id = q.schedule(NOTIFY, args(&["+set", set]));
    assert_eq!(starts(&q.poll(855_297, max_rt)), vec![id]);
    assert_eq!(q.started(id, 7981).unwrap().payload, "7981");
    let want = golden("12-scripts/006-sentinel-pending-scripts.resp");
    assert_eq!(q.pending_reply(856_288).to_bytes(2).to_vec(), want);
    assert!(
        q.poll(856_797, max_rt).is_empty(),
        "exactly 1500 ms is not over"
    );
    let cmds = q.poll(856_805, max_rt);
    assert_eq!(
        cmds,
        vec![
            ScriptCmd::Event(warn("-script-timeout", "/tmp/sg/notify.sh 7981")),
            ScriptCmd::Kill { id, pid: 7981 },
        ]
    );
    assert!(q.poll(856_900, max_rt).is_empty(), "kill asked only once");
    let ev = q.exited(id, 0, 9, 856_906, delay);
    assert!(ev.iter().all(|e| e.channel != "-script-error"));
    let want = golden("12-scripts/007-sentinel-pending-scripts.resp");
    assert_eq!(q.pending_reply(857_315).to_bytes(2).to_vec(), want);

    // notify-ok.sh: the retry succeeds and the queue empties.
    assert_eq!(starts(&q.poll(858_945, max_rt)), vec![id]);
    q.started(id, 8100);
    assert!(q.exited(id, 0, 0, 858_960, delay).len() == 1);
    let want = golden("12-scripts/008-sentinel-pending-scripts.resp");
    assert_eq!(q.pending_reply(859_000).to_bytes(2).to_vec(), want);
}

#[test]
fn waiting_job_reply_and_resp3_map() {
    let mut q = ScriptQueue::new();
    q.schedule("/x.sh", args(&["+tilt", "#tilt mode entered"]));
    let reply = q.pending_reply(5);
    let Reply::Array(items) = &reply else {
        panic!("{reply:?}")
    };
    assert_eq!(
        items[0],
        Reply::Map(vec![
            (
                Reply::bulk("argv"),
                Reply::Array(vec![
                    Reply::bulk("/x.sh"),
                    Reply::bulk("+tilt"),
                    Reply::bulk("#tilt mode entered")
                ])
            ),
            (Reply::bulk("flags"), Reply::bulk("scheduled")),
            (Reply::bulk("pid"), Reply::bulk("0")),
            (Reply::bulk("run-delay"), Reply::bulk("0")),
            (Reply::bulk("retry-num"), Reply::bulk("0")),
        ])
    );
    let resp3 = reply.to_bytes(3);
    assert!(resp3.starts_with(b"*1\r\n%5\r\n$4\r\nargv\r\n*3\r\n"));
}

#[test]
fn at_most_sixteen_running_oldest_first() {
    let mut q = ScriptQueue::new();
    let ids: Vec<_> = (0..20)
        .map(|i| q.schedule("/s", args(&[&i.to_string()])))
        .collect();
    assert_eq!(starts(&q.poll(100, 60_000)), ids[..16].to_vec());
    assert_eq!((q.running_count(), q.queue_len()), (16, 20));
    assert!(q.poll(150, 60_000).is_empty());
    for (n, id) in ids[..16].iter().enumerate() {
        q.started(*id, 1000 + n as u32);
    }
    q.exited(ids[3], 0, 0, 200, 30_000);
    q.exited(ids[7], 0, 0, 200, 30_000);
    assert_eq!(starts(&q.poll(300, 60_000)), vec![ids[16], ids[17]]);
    assert_eq!((q.running_count(), q.queue_len()), (16, 18));
}

#[test]
fn full_queue_drops_oldest_waiting_job() {
    let mut q = ScriptQueue::new();
    for i in 0..MAX_RUNNING {
        q.schedule("/s", args(&[&format!("run{i}")]));
    }
    assert_eq!(starts(&q.poll(10, 60_000)).len(), MAX_RUNNING);
    for i in 0..(MAX_QUEUE - MAX_RUNNING + 1) {
        q.schedule("/s", args(&[&format!("wait{i}")]));
    }
    assert_eq!(q.queue_len(), MAX_QUEUE);
    let Reply::Array(items) = q.pending_reply(10) else {
        panic!()
    };
    let first_arg = |i: usize| match &items[i] {
        Reply::Map(kv) => match &kv[0].1 {
            Reply::Array(a) => a[1].clone(),
            r => panic!("{r:?}"),
        },
        r => panic!("{r:?}"),
    };
    // Running jobs are kept; "wait0", the oldest waiting one, went.
    assert_eq!(first_arg(0), Reply::bulk("run0"));
    assert_eq!(first_arg(MAX_RUNNING - 1), Reply::bulk("run15"));
    assert_eq!(first_arg(MAX_RUNNING), Reply::bulk("wait1"));
    assert_eq!(first_arg(MAX_QUEUE - 1), Reply::bulk("wait240"));
}

#[test]
fn retries_double_the_delay_and_stop_after_ten_runs() {
    let mut q = ScriptQueue::new();
    let id = q.schedule("/s", args(&["a"]));
    let mut now = 1_000;
    let mut gaps = Vec::new();
    for run in 1..=MAX_RETRY {
        assert_eq!(starts(&q.poll(now, 60_000)), vec![id], "run {run}");
        q.started(id, 500 + run);
        let ev = q.exited(id, 1, 0, now + 10, 30_000);
        if run == MAX_RETRY {
            assert_eq!(ev.last(), Some(&warn("-script-error", "/s 0 1")));
            assert_eq!(q.queue_len(), 0);
            break;
        }
        assert_eq!(ev.len(), 1);
        let next = now + 10 + retry_delay_for(30_000, run);
        assert!(q.poll(next - 1, 60_000).is_empty());
        gaps.push(next - (now + 10));
        now = next;
    }
    assert_eq!(gaps[..4], [30_000, 60_000, 120_000, 240_000]);
    assert_eq!(gaps.len(), 9);
}

#[test]
fn signal_deaths_retry_then_error_with_signal() {
    let mut q = ScriptQueue::new();
    let id = q.schedule("/s", vec![]);
    let mut now = 0;
    for run in 1..=MAX_RETRY {
        assert_eq!(starts(&q.poll(now, 60_000)), vec![id]);
        q.started(id, 42);
        let ev = q.exited(id, 0, 9, now, 1);
        if run == MAX_RETRY {
            assert_eq!(ev.last(), Some(&warn("-script-error", "/s 9 0")));
        }
        now += 1 << run;
    }
    assert_eq!(q.queue_len(), 0);
}

#[test]
fn timeout_waits_for_pid_and_exit_code_two_is_final() {
    let mut q = ScriptQueue::new();
    let id = q.schedule("/s", vec![]);
    q.poll(0, 100);
    assert!(q.poll(500, 100).is_empty(), "no pid known: nothing to kill");
    q.started(id, 77);
    assert_eq!(q.poll(501, 100).len(), 2);
    let ev = q.exited(id, 2, 0, 600, 1000);
    assert_eq!(ev[0].payload, "77 2 0");
    assert_eq!(ev[1], warn("-script-error", "/s 0 2"));
    assert!(q.exited(id, 0, 0, 700, 1000).is_empty(), "unknown job");
}

#[test]
fn fork_failure_reports_99_and_retries_next_poll() {
    let mut q = ScriptQueue::new();
    let id = q.schedule("/s", vec![]);
    q.poll(10, 100);
    assert_eq!(q.spawn_failed(id), Some(warn("-script-error", "/s 99 0")));
    assert_eq!(q.running_count(), 0);
    assert_eq!(starts(&q.poll(20, 100)), vec![id]);
    let Reply::Array(items) = q.pending_reply(20) else {
        panic!()
    };
    let Reply::Map(kv) = &items[0] else { panic!() };
    assert_eq!(kv[4].1, Reply::bulk("2"));
}

#[test]
fn argv_is_capped_at_sixteen_entries() {
    let mut q = ScriptQueue::new();
    let many: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    let id = q.schedule("/s", many);
    let cmds = q.poll(0, 100);
    assert_eq!(
        cmds,
        vec![ScriptCmd::Start {
            id,
            path: "/s".into(),
            argv: (0..15).map(|i| i.to_string()).collect(),
        }]
    );
}

#[test]
fn reconfig_args_match_golden_scripts_log() {
    let log = golden::text("scripts.log");
    let a = reconfig_args(
        "mymaster",
        true,
        "start",
        ("127.0.0.1", 41002),
        ("127.0.0.1", 41001),
    );
    let b = reconfig_args(
        "mymaster",
        false,
        "start",
        ("127.0.0.1", 41000),
        ("127.0.0.1", 41002),
    );
    for argv in [a, b] {
        let line = format!(
            "client-reconfig-script argc={} args: {}",
            argv.len(),
            argv.iter()
                .map(|s| format!("[{s}]"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        assert!(log.contains(&line), "{line}");
    }
}
