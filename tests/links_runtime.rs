//! The logger's line format, the performer's ordering of side effects, and the timer.

use rsentinel::config::{LogLevel, SentinelConfig};
use rsentinel::core::instance::{ConnKind, LinkId};
use rsentinel::core::{Action, Identity, Sentinel};
use rsentinel::links::{LinkManager, LinkOptions};
use rsentinel::log::{Logger, format_line, format_time, level_char};
use rsentinel::runtime::{current_hz, drive, performer};
use rsentinel::scripts::ScriptRunner;
use rsentinel::shell::Shell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `<pid>:X <dd Mon yyyy HH:MM:SS.mmm> <c> <msg>`, checked field by field.
fn assert_redis_line(line: &str, pid: &str, c: char, msg: &str) {
    let parts: Vec<&str> = line.splitn(7, ' ').collect();
    assert_eq!(parts.len(), 7, "{line}");
    assert_eq!(parts[0], format!("{pid}:X"));
    assert!(
        parts[1].len() == 2 && parts[1].bytes().all(|b| b.is_ascii_digit()),
        "{line}"
    );
    let months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec";
    assert!(parts[2].len() == 3 && months.contains(parts[2]), "{line}");
    assert!(parts[3].len() == 4 && parts[3].bytes().all(|b| b.is_ascii_digit()));
    let t = parts[4].as_bytes();
    assert_eq!(t.len(), 12, "{line}");
    assert_eq!((t[2], t[5], t[8]), (b':', b':', b'.'), "{line}");
    assert_eq!(parts[5], c.to_string());
    assert_eq!(parts[6], msg);
}

#[test]
fn log_lines_have_the_redis_shape_of_the_golden_logs() {
    // A line copied from golden/logs/sentinel-s1.log passes the same checker...
    let golden = Some(crate::support::golden::text("logs/sentinel-s1.log")).and_then(|s| {
        s.lines()
            .find(|l| l.contains("+monitor"))
            .map(str::to_string)
    });
    if let Some(g) = golden {
        let pid = g.split(':').next().unwrap().to_string();
        let msg = g.splitn(7, ' ').nth(6).unwrap().to_string();
        assert_redis_line(&g, &pid, '#', &msg);
    }
    // ...and so do ours, for every level.
    for (level, c) in [
        (LogLevel::Debug, '.'),
        (LogLevel::Verbose, '-'),
        (LogLevel::Notice, '*'),
        (LogLevel::Warning, '#'),
    ] {
        assert_eq!(level_char(level), c);
        let line = format_line(4242, 1_795_300_983_271, level, "+sdown master m 1.2.3.4 5");
        assert_redis_line(&line, "4242", c, "+sdown master m 1.2.3.4 5");
    }
}

#[test]
fn timestamps_match_the_golden_clock_when_local_time_is_utc() {
    if format_time(0) != "01 Jan 1970 00:00:00.000" {
        println!("local timezone is not UTC: skipping exact timestamp check");
        return;
    }
    // golden/logs: "10633:signal-handler (1795300983) ..." then "21 Nov 2026 22:43:03.271".
    assert_eq!(format_time(1_795_300_983_271), "21 Nov 2026 22:43:03.271");
    assert_eq!(format_time(1_795_300_232_488), "21 Nov 2026 22:30:32.488");
    assert_eq!(format_time(951_782_400_007), "29 Feb 2000 00:00:00.007");
}

#[test]
fn messages_are_truncated_like_redis_log_max_len() {
    let long = "x".repeat(5000);
    let line = format_line(1, 0, LogLevel::Notice, &long);
    assert_eq!(line.split(' ').nth(6).unwrap().len(), 1023);
}

#[test]
fn logger_filters_by_level_and_appends_to_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sentinel.log");
    std::fs::write(&path, "old line\n").unwrap();
    let logger = Logger::new(path.to_str().unwrap(), LogLevel::Notice);
    logger.log(LogLevel::Verbose, "hidden");
    logger.log(LogLevel::Notice, "shown");
    // Rotation: the file is renamed away and recreated on the next line.
    std::fs::rename(&path, dir.path().join("sentinel.log.1")).unwrap();
    logger.log(LogLevel::Warning, "after rotate");
    logger.set_level(LogLevel::Nothing);
    logger.log(LogLevel::Warning, "nothing level hides everything");
    let old = std::fs::read_to_string(dir.path().join("sentinel.log.1")).unwrap();
    let old: Vec<&str> = old.lines().collect();
    assert_eq!(old.len(), 2);
    assert_eq!(old[0], "old line");
    let pid = std::process::id().to_string();
    assert_redis_line(old[1], &pid, '*', "shown");
    let new = std::fs::read_to_string(&path).unwrap();
    let new: Vec<&str> = new.lines().collect();
    assert_eq!(new.len(), 1);
    assert_redis_line(new[0], &pid, '#', "after rotate");
}

/// Strip the `<pid>:X <date>` prefix of log lines, keep the rest as is.
fn shape(entry: &str) -> String {
    if entry.contains(":X ") {
        entry.splitn(6, ' ').nth(5).unwrap().to_string()
    } else {
        entry.to_string()
    }
}

#[tokio::test]
async fn performer_runs_actions_in_order_and_reports_persist_failure() {
    let (logger, lines) = Logger::memory(LogLevel::Notice);
    let logger = Arc::new(logger);
    let (links, _events) = LinkManager::new(LinkOptions::default());
    let rec = lines.clone();
    let publish = Arc::new(move |ch: &str, msg: &str| {
        rec.lock().unwrap().push(format!("publish {ch} {msg}"));
    });
    let rec = lines.clone();
    let calls = Arc::new(AtomicUsize::new(0));
    let persist_calls = calls.clone();
    let persist = Arc::new(move |core: &Sentinel| {
        rec.lock().unwrap().push(format!("persist {}", core.myid()));
        match persist_calls.fetch_add(1, Ordering::SeqCst) {
            0 => Ok(()),
            _ => Err(std::io::Error::from_raw_os_error(libc::EACCES)),
        }
    });
    let (scripts, _reports) = ScriptRunner::new();
    let perform = performer(links.clone(), publish, logger, persist, scripts);
    let cfg = SentinelConfig {
        myid: Some("f9351bc32a024bcd4d518040ae807e61bcbe50b5".into()),
        ..SentinelConfig::default()
    };
    let core = Sentinel::new(&cfg, Identity::default(), 1, 0);
    let shell = Shell::new(core, perform);

    let ev = |level, channel: &str, payload: &str, script: Option<&str>| Action::Event {
        level,
        channel: channel.into(),
        payload: payload.into(),
        script: script.map(str::to_string),
    };
    let (_, outcome) = shell.with_core(|c, _| {
        c.test_access().outbox.push(ev(
            LogLevel::Notice,
            "+monitor",
            "master m 127.0.0.1 41000 quorum 2",
            None,
        ));
        c.test_access().outbox.push(ev(
            LogLevel::Verbose,
            "-role-change",
            "slave 1:2 1 2 @ m 1 3",
            None,
        ));
        c.test_access().outbox.push(ev(
            LogLevel::Debug,
            "-cmd-link-reconnection",
            "x #err",
            None,
        ));
        c.test_access().outbox.push(Action::Log {
            level: LogLevel::Warning,
            text: "Sentinel ID is f9351bc3".into(),
        });
        c.test_access().outbox.push(Action::PersistConfig);
        c.test_access().outbox.push(ev(
            LogLevel::Warning,
            "+sdown",
            "master m 127.0.0.1 41000",
            Some("/n.sh"),
        ));
        // Saved by the call's first rewrite already (it writes the state after the call).
        c.test_access().outbox.push(Action::PersistConfig);
        c.test_access().outbox.push(Action::Connect {
            link: LinkId(5),
            conn: ConnKind::Cmd,
            host: "127.0.0.1".into(),
            port: 1,
        });
    });
    assert!(outcome.persisted_ok);
    let (_, outcome) = shell.with_core(|c, _| c.test_access().outbox.push(Action::PersistConfig));
    assert!(!outcome.persisted_ok);
    assert!(links.contains(LinkId(5), ConnKind::Cmd));
    let got: Vec<String> = lines.lock().unwrap().iter().map(|l| shape(l)).collect();
    let want = [
        "* +monitor master m 127.0.0.1 41000 quorum 2",
        "publish +monitor master m 127.0.0.1 41000 quorum 2",
        // verbose: published though not logged at notice; debug: neither
        "publish -role-change slave 1:2 1 2 @ m 1 3",
        "# Sentinel ID is f9351bc3",
        "persist f9351bc32a024bcd4d518040ae807e61bcbe50b5",
        "* Sentinel new configuration saved on disk",
        "# +sdown master m 127.0.0.1 41000",
        "publish +sdown master m 127.0.0.1 41000",
        // the second call
        "persist f9351bc32a024bcd4d518040ae807e61bcbe50b5",
        "# WARNING: Sentinel was not able to save the new configuration on disk!!!: Permission denied",
    ];
    assert_eq!(got, want);

    // A call without persistence reports success.
    let (_, outcome) = shell.with_core(|c, _| {
        c.test_access().outbox.push(Action::Log {
            level: LogLevel::Notice,
            text: "x".into(),
        })
    });
    assert!(outcome.persisted_ok);
}

#[tokio::test]
async fn timer_hz_is_redrawn_within_10_to_19() {
    let (links, events) = LinkManager::new(LinkOptions::default());
    let perform = rsentinel::runtime::performer(
        links,
        Arc::new(|_: &str, _: &str| {}),
        Arc::new(Logger::memory(LogLevel::Warning).0),
        Arc::new(|_: &Sentinel| Ok(())),
        ScriptRunner::new().0,
    );
    let core = Sentinel::new(&SentinelConfig::default(), Identity::default(), 7, 0);
    let shell = Arc::new(Shell::new(core, perform));
    let task = tokio::spawn(drive(shell, events, ScriptRunner::new().1, 42));
    let seen = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(40)).await;
        seen.lock().unwrap().insert(current_hz());
    }
    task.abort();
    let seen = seen.lock().unwrap();
    assert!(seen.iter().all(|hz| (10..20).contains(hz)), "{seen:?}");
    assert!(seen.len() >= 2, "hz never re-drawn: {seen:?}");
}
