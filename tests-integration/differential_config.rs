//! Randomized differential run of the config loader against redis-sentinel 7.0.15:
//! config files of a `sentinel monitor` line plus one to three random directives (generic
//! and `sentinel ...`, with arguments drawn from a pool of plausible and odd values),
//! started by both binaries with `--port 0` (so neither stays up): same exit status and
//! the same fatal error block on stderr. It found `include` with a wildcard (a glob in
//! Redis), `client-output-buffer-limit` without arguments (accepted by Redis) and
//! `latency-tracking-info-percentiles` parsing. Left out: `port`/`tls-port`/`unixsocket`
//! (a run would listen; `tests-integration/unixsocket.rs` compares those), and a wildcard
//! that matches the file itself (redis-sentinel dies of a stack overflow on the loop;
//! rsentinel stops at 32 nested includes with an error).
//! `DIFF_SEED` / `DIFF_CONFIGS` (default 1 / 150) pick another run.

use crate::harness::*;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::path::Path;
use std::process::Command;

const DIRECTIVES: &[&str] = &[
    "bind",
    "daemonize",
    "logfile",
    "loglevel",
    "dir",
    "protected-mode",
    "requirepass",
    "user",
    "rename-command",
    "maxclients",
    "timeout",
    "tcp-keepalive",
    "syslog-enabled",
    "syslog-ident",
    "pidfile",
    "databases",
    "hz",
    "aclfile",
    "acllog-max-len",
    "sentinel",
    "include",
    "supervised",
    "save",
    "appendonly",
    "always-show-logo",
    "set-proc-title",
    "proc-title-template",
    "enable-debug-command",
    "bogus",
    "latency-tracking-info-percentiles",
    "oom-score-adj",
    "oom-score-adj-values",
    "io-threads",
    "client-output-buffer-limit",
    "maxmemory",
    "maxmemory-policy",
    "notify-keyspace-events",
    "tracking-table-max-keys",
    "crash-log-enabled",
    "bind-source-addr",
    "ignore-warnings",
];

const SENTINEL_SUBS: &[&str] = &[
    "monitor",
    "down-after-milliseconds",
    "failover-timeout",
    "parallel-syncs",
    "auth-pass",
    "auth-user",
    "notification-script",
    "client-reconfig-script",
    "config-epoch",
    "leader-epoch",
    "known-replica",
    "known-slave",
    "known-sentinel",
    "current-epoch",
    "myid",
    "announce-ip",
    "announce-port",
    "deny-scripts-reconfig",
    "resolve-hostnames",
    "announce-hostnames",
    "sentinel-user",
    "sentinel-pass",
    "rename-command",
    "master-reboot-down-after-period",
    "bogus",
];

const VALUES: &[&str] = &[
    "mymaster",
    "m",
    "127.0.0.1",
    "localhost",
    "6379",
    "0",
    "-1",
    "1",
    "2",
    "yes",
    "no",
    "abc",
    "\"x y\"",
    "''",
    "\"",
    "99999999999",
    "1mb",
    "512mb",
    "10%",
    "notice",
    "verbose",
    "nothing",
    "on",
    "off",
    "+@all",
    "~*",
    "nopass",
    ">pw",
    "systemd",
    "auto",
    "none",
    "0123456789abcdef0123456789abcdef01234567",
    "none-*.conf",
    "0x10",
    "nan",
];

fn random_line(rng: &mut StdRng) -> String {
    let d = *DIRECTIVES.choose(rng).unwrap();
    let mut words = vec![d.to_string()];
    if d == "sentinel" {
        words.push(SENTINEL_SUBS.choose(rng).unwrap().to_string());
        if rng.gen_bool(0.7) {
            words.push("mymaster".into());
        }
    }
    for _ in 0..rng.gen_range(0..5) {
        words.push(VALUES.choose(rng).unwrap().to_string());
    }
    words.join(" ")
}

/// Exit status and stderr of `bin <conf> --port 0`, run in `dir`.
fn outcome(bin: &Path, dir: &Path, text: &str) -> (Option<i32>, String) {
    let conf = dir.join("s.conf");
    std::fs::write(&conf, text).unwrap();
    let out = Command::new(bin)
        .arg(&conf)
        .args(["--port", "0", "--daemonize", "no", "--logfile", ""])
        .current_dir(dir)
        .output()
        .expect("start");
    let err = String::from_utf8_lossy(&out.stderr).replace(&conf.display().to_string(), "CONF");
    (out.status.code(), err)
}

#[test]
fn random_config_files_load_or_fail_like_real_sentinel() {
    require!("redis-sentinel");
    let seed = crate::bench::env_or("DIFF_SEED", 1);
    let n = crate::bench::env_or("DIFF_CONFIGS", 150) as usize;
    let mut rng = StdRng::seed_from_u64(seed);
    let (real_dir, ours_dir) = (tempdir("cfgdiff-real"), tempdir("cfgdiff-ours"));
    let mut mismatches = Vec::new();
    for _ in 0..n {
        let lines: Vec<String> = (0..rng.gen_range(1..=3))
            .map(|_| random_line(&mut rng))
            .collect();
        let text = format!(
            "sentinel monitor mymaster 127.0.0.1 6379 2\n{}\n",
            lines.join("\n")
        );
        let real = outcome(Path::new("redis-sentinel"), &real_dir, &text);
        let ours = outcome(&rsentinel_bin(), &ours_dir, &text);
        if real != ours {
            mismatches.push(format!("{text:?}\n  real: {real:?}\n  ours: {ours:?}"));
        }
    }
    assert!(
        mismatches.is_empty(),
        "seed {seed}:\n{}",
        mismatches.join("\n")
    );
}
