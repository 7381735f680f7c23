//! Golden-file tests of the loader and the rewrite engine against real
//! redis-sentinel 7.0.15 snapshots (`tests/golden/conf`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::support::golden;
use rsentinel::config::{ConfigError, Loaded, load, rewrite_text};

/// A temp root standing in for `/tmp/sg` with the directories and scripts the golden
/// configs reference.
fn sandbox() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    for d in [
        "s1", "s2", "s3", "sec/sa", "sec/sb", "hn/sh", "ckq", "sim/s", "cli2",
    ] {
        std::fs::create_dir_all(t.path().join(d)).unwrap();
    }
    for s in ["notify.sh", "reconfig.sh"] {
        let p = t.path().join(s);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    t
}

fn golden(name: &str) -> String {
    golden::text(&format!("conf/{name}"))
}

fn adjust(text: &str, root: &Path) -> String {
    text.replace("/tmp/sg", root.to_str().unwrap())
}

fn load_text(root: &Path, text: &str) -> Result<Loaded, ConfigError> {
    let p: PathBuf = root.join("sentinel.conf");
    std::fs::write(&p, adjust(text, root)).unwrap();
    load(&p, &[])
}

fn sentinel_goldens() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(golden::path("conf"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("redis-"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_golden_sentinel_file_loads() {
    let t = sandbox();
    for name in sentinel_goldens() {
        let r = load_text(t.path(), &golden(&name));
        if name == "knownslave-bug.1-after-first-run.conf" {
            // The 7.0.15 known-slave bug: the real binary refuses this file.
            let e = r.unwrap_err();
            assert_eq!(
                e.to_string(),
                "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration \
                 file, at line 6\n>>> 'sentinel known-slave m 127.0.0.1 41002'\n\
                 Duplicate hostname and port for replica."
            );
            continue;
        }
        let l = r.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!l.sentinel.masters.is_empty(), "{name}");
    }
}

#[test]
fn loaded_values_match_the_file() {
    let t = sandbox();
    let l = load_text(t.path(), &golden("s1.6a-with-many-settings.conf")).unwrap();
    let s = &l.sentinel;
    assert_eq!(
        s.myid.as_deref(),
        Some("f9351bc32a024bcd4d518040ae807e61bcbe50b5")
    );
    assert_eq!(s.current_epoch, 3);
    assert_eq!(s.announce_ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(s.announce_port, 41100);
    assert!(s.resolve_hostnames && s.announce_hostnames);
    let m = &s.masters[0];
    assert_eq!((m.host.as_str(), m.port, m.quorum), ("127.0.0.1", 41002, 2));
    assert_eq!(m.down_after_ms, 2000);
    assert_eq!(m.failover_timeout_ms, 10000);
    assert_eq!(m.master_reboot_down_after_period_ms, 1000);
    assert_eq!(m.auth_pass.as_deref(), Some("secretpw"));
    assert_eq!(m.known_replicas.len(), 2);
    assert_eq!(m.known_sentinels.len(), 2);
    assert_eq!(m.rename_commands, vec![("CONFIG".into(), "GUESSME".into())]);
    assert_eq!(l.server.port, 41100);
    assert_eq!(l.server.bind, vec!["127.0.0.1".to_string()]);
}

/// Rewrites `before` with the sentinel state loaded from `after` (generic settings from
/// the sentinel's initial file, as the running process had them) and expects `after`.
fn check_pair(before: &str, after: &str) {
    let t = sandbox();
    let after_text = adjust(&golden(after), t.path());
    let state = load_text(t.path(), &golden(after)).unwrap();
    let initial = format!("{}.0-initial.conf", before.split('.').next().unwrap());
    let proc = load_text(t.path(), &golden(&initial)).unwrap();
    let old = adjust(&golden(before), t.path());
    let got = rewrite_text(&old, &proc.generic, &proc.server, &state.sentinel);
    assert_eq!(got, after_text, "{before} -> {after}");
}

#[test]
fn settings_reverted_blank_their_lines() {
    check_pair(
        "s1.6a-with-many-settings.conf",
        "s1.6b-settings-reverted.conf",
    );
}

#[test]
fn second_master_is_appended() {
    check_pair("s1.6b-settings-reverted.conf", "s1.6c-two-masters.conf");
}

#[test]
fn removed_master_lines_are_blanked() {
    check_pair("s1.6c-two-masters.conf", "s1.6d-other-removed.conf");
}

#[test]
fn failover_rewrites_in_place() {
    check_pair("s2.2-before-failover.conf", "s2.3-after-failover.conf");
    check_pair("s1.2-before-failover.conf", "s1.3-after-failover.conf");
}

#[test]
fn initial_file_gets_generated_section() {
    // s2 happens to use the same generic order as ours; s2.0 -> first rewrite at start
    // (myid, epochs), compared with the first part of s2.1.
    let t = sandbox();
    let state = load_text(t.path(), &golden("s2.1-after-start.conf")).unwrap();
    let proc = load_text(t.path(), &golden("s2.0-initial.conf")).unwrap();
    let mut sentinel = state.sentinel.clone();
    sentinel.masters[0].known_replicas.clear();
    sentinel.masters[0].known_sentinels.clear();
    let old = adjust(&golden("s2.0-initial.conf"), t.path());
    let got = rewrite_text(&old, &proc.generic, &proc.server, &sentinel);
    let want = adjust(&golden("s2.1-after-start.conf"), t.path());
    let want = want
        .split("\n\nsentinel known-replica")
        .next()
        .unwrap()
        .to_string()
        + "\n";
    assert_eq!(got, want);
}

#[test]
fn rewrite_is_stable() {
    let t = sandbox();
    for name in sentinel_goldens() {
        if name.starts_with("knownslave-bug.1") {
            continue;
        }
        let text = adjust(&golden(&name), t.path());
        let l = load_text(t.path(), &golden(&name)).unwrap();
        let once = rewrite_text(&text, &l.generic, &l.server, &l.sentinel);
        let twice = rewrite_text(&once, &l.generic, &l.server, &l.sentinel);
        let thrice = rewrite_text(&twice, &l.generic, &l.server, &l.sentinel);
        // Like Redis, a rewrite that appended leaves a trailing blank line the next one
        // keeps; from then on the text is a fixed point.
        assert_eq!(twice, thrice, "{name}");
        assert_eq!(once.trim_end(), twice.trim_end(), "{name}");
    }
}

#[test]
fn known_slave_lines_are_reused_in_place() {
    let t = sandbox();
    std::fs::write(t.path().join("x"), "").unwrap();
    let mut text = golden("knownslave-bug.0-initial.conf");
    text = text.replace(
        "port 41299\n",
        &format!("port 41299\ndir {}\n", t.path().display()),
    );
    let l = load_text(t.path(), &text).unwrap();
    let got = rewrite_text(&adjust(&text, t.path()), &l.generic, &l.server, &l.sentinel);
    assert!(got.contains("sentinel known-replica m 127.0.0.1 41001\n"));
    assert!(got.contains("sentinel known-replica m 127.0.0.1 41002\n"));
    assert!(!got.contains("known-slave"));
    assert!(!got.contains("41998"), "old-form known-sentinel is blanked");
    assert!(got.contains("sentinel current-epoch 7\n"));
}
