//! Notification and client-reconfig scripts run by a real rsentinel during a failover,
//! with the arguments redis-sentinel passes (compare golden/scripts.log).

use crate::harness::*;
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

fn script(dir: &std::path::Path, name: &str, log: &std::path::Path) -> String {
    let path = dir.join(name);
    // One write per run (scripts run concurrently; O_APPEND keeps whole lines apart).
    let body = format!(
        "#!/bin/sh\nline=\"{name} argc=$# args:\"\nfor a in \"$@\"; do line=\"$line [$a]\"; done\necho \"$line\" >> {log}\n",
        log = log.display()
    );
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

#[test]
fn scripts_get_the_real_arguments_during_a_failover() {
    require!("redis-server");
    let master = redis_server(&[]);
    let mp = master.port.to_string();
    let replica = redis_server(&["--replicaof", "127.0.0.1", &mp]);
    let dir = tempdir("scripts");
    let log = dir.join("scripts.log");
    let notify = script(&dir, "notification-script", &log);
    let reconf = script(&dir, "client-reconfig-script", &log);
    let body = format!(
        "sentinel monitor mymaster 127.0.0.1 {mp} 1\nsentinel down-after-milliseconds mymaster 2000\n\
         sentinel notification-script mymaster {notify}\nsentinel client-reconfig-script mymaster {reconf}\n"
    );
    let s = sentinel(&rsentinel_bin(), &body);
    let mut c = Raw::connect(s.port);
    wait_until(
        "SENTINEL FAILOVER accepted",
        Duration::from_secs(20),
        || c.cmd(&["SENTINEL", "FAILOVER", "mymaster"]) == b"+OK\r\n",
    );
    let (m, r) = (master.port, replica.port);
    let want_reconf = format!(
        "client-reconfig-script argc=7 args: [mymaster] [leader] [start] [127.0.0.1] [{m}] [127.0.0.1] [{r}]"
    );
    let want_switch = format!(
        "notification-script argc=2 args: [+switch-master] [mymaster 127.0.0.1 {m} 127.0.0.1 {r}]"
    );
    let myid = String::from_utf8_lossy(&c.cmd(&["SENTINEL", "MYID"]))
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    let n = "notification-script argc=2 args:";
    let want = [
        want_reconf,
        want_switch,
        format!("{n} [+monitor] [master mymaster 127.0.0.1 {m} quorum 1]"),
        format!("{n} [+try-failover] [master mymaster 127.0.0.1 {m}]"),
        format!("{n} [+new-epoch] [1]"),
        format!("{n} [+vote-for-leader] [{myid} 1]"),
        format!(
            "{n} [+promoted-slave] [slave 127.0.0.1:{r} 127.0.0.1 {r} @ mymaster 127.0.0.1 {m}]"
        ),
    ];
    // Scripts run concurrently (up to 16), so their lines land in any order: wait for all.
    wait_until("every expected script run", Duration::from_secs(30), || {
        let t = std::fs::read_to_string(&log).unwrap_or_default();
        want.iter().all(|w| t.lines().any(|l| l == w))
    });
    wait_until("queue drained", Duration::from_secs(10), || {
        c.cmd(&["SENTINEL", "PENDING-SCRIPTS"]) == b"*0\r\n"
    });
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("client-reconfig-script"))
            .count(),
        1,
        "{text}"
    );
    // Notice-level events never run the notification script.
    assert!(!text.contains("[+slave]"), "{text}");
}
