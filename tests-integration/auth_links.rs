//! Credentials that stop working under the sentinel, and come back: redis-sentinel and
//! rsentinel watch the same servers side by side, and the flags and pending-command
//! counts each reports are polled every 50 ms and compared over time.
//!
//! What redis-sentinel does (observed, and the reason the comparisons look the way they
//! do): a master or replica link that cannot authenticate is re-dialled once per ping
//! period; its pub/sub half gets an error to SUBSCRIBE and is dropped at once, so the
//! record reads `disconnected` practically all the time (the link counts as connected
//! only between a re-dial and the SUBSCRIBE error, a few milliseconds), sends no periodic
//! commands, and goes SDOWN down-after after the PING of its first re-dial. Peer-sentinel
//! links have no pub/sub half: they stay connected, PINGs are answered `-NOAUTH`
//! (invalid), and the peer goes SDOWN. Fixing the credentials reconnects within one ping
//! period and clears both.

use crate::harness::*;
use std::path::Path;
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(50);
const DOWN_AFTER: u64 = 3000;

/// One poll: (ms since the scenario's origin, flags, link-pending-commands).
type Sample = (u64, String, String);

struct Pair {
    master: Proc,
    _replica: Proc,
    real: Proc,
    ours: Proc,
}

/// A master with one replica, and both sentinels on it. Quorum 3 with two sentinels:
/// no ODOWN, so the flags only reflect each sentinel's own view of the links.
fn start_pair(extra: &str) -> Pair {
    let master = redis_server(&[]);
    let replica = redis_server(&["--replicaof", "127.0.0.1", &master.port.to_string()]);
    let body = format!(
        "sentinel monitor mymaster 127.0.0.1 {} 3\nsentinel down-after-milliseconds mymaster {DOWN_AFTER}\n{extra}",
        master.port
    );
    let real = sentinel(Path::new("redis-sentinel"), &body);
    let ours = sentinel(&rsentinel_bin(), &body);
    let p = Pair {
        master,
        _replica: replica,
        real,
        ours,
    };
    for s in [&p.real, &p.ours] {
        wait_until(
            "master link up and replica known",
            Duration::from_secs(15),
            || {
                let (flags, _) = master_state(s.port);
                let reps = parse_instances(
                    &Raw::connect(s.port).cmd(&["SENTINEL", "REPLICAS", "mymaster"]),
                );
                flags == "master"
                    && reps.len() == 1
                    && field(&reps[0], "flags") == "slave"
                    && field(&reps[0], "link-pending-commands") == "0"
            },
        );
    }
    p
}

fn master_state(port: u16) -> (String, String) {
    let pairs = parse_pairs(&Raw::connect(port).cmd(&["SENTINEL", "MASTER", "mymaster"]));
    (
        field(&pairs, "flags"),
        field(&pairs, "link-pending-commands"),
    )
}

fn sentinel_flags(port: u16, peer_port: u16) -> Option<(String, String)> {
    let all = parse_instances(&Raw::connect(port).cmd(&["SENTINEL", "SENTINELS", "mymaster"]));
    all.iter()
        .find(|s| field(s, "port") == peer_port.to_string())
        .map(|s| (field(s, "flags"), field(s, "link-pending-commands")))
}

/// Poll both sentinels every 50 ms for `dur`, or until `stop` holds for both.
fn watch(
    pair: [u16; 2],
    origin: Instant,
    dur: Duration,
    mut probe: impl FnMut(u16) -> (String, String),
    stop: impl Fn(&str) -> bool,
) -> [Vec<Sample>; 2] {
    let mut out: [Vec<Sample>; 2] = [Vec::new(), Vec::new()];
    let end = Instant::now() + dur;
    while Instant::now() < end {
        let next = Instant::now() + POLL;
        for (k, port) in pair.iter().enumerate() {
            let (flags, pending) = probe(*port);
            out[k].push((origin.elapsed().as_millis() as u64, flags, pending));
        }
        if out.iter().all(|t| t.last().is_some_and(|s| stop(&s.1))) {
            break;
        }
        if let Some(d) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
    }
    out
}

/// The timeline with consecutive repeats folded, for failure messages.
fn compact(t: &[Sample]) -> String {
    let mut out = Vec::new();
    let mut last: Option<(&str, &str)> = None;
    for (ms, f, p) in t {
        if last != Some((f, p)) {
            out.push(format!("{ms}ms {f} pending={p}"));
            last = Some((f, p));
        }
    }
    out.join("; ")
}

fn share(t: &[Sample], f: impl Fn(&Sample) -> bool) -> f64 {
    t.iter().filter(|s| f(s)).count() as f64 / t.len().max(1) as f64
}

fn first(t: &[Sample], f: impl Fn(&Sample) -> bool) -> Option<u64> {
    t.iter().find(|s| f(s)).map(|s| s.0)
}

/// Both timelines of a broken-credentials period: `disconnected` from the first poll,
/// practically always; SDOWN about down-after later, at nearly the same time; and the
/// same link-pending-commands most of the time.
fn assert_cannot_authenticate(t: &[Vec<Sample>; 2], what: &str) {
    let msg = format!(
        "{what}\n redis-sentinel: {}\n rsentinel:      {}",
        compact(&t[0]),
        compact(&t[1])
    );
    for tl in t {
        assert!(tl[0].1.contains("disconnected"), "first poll: {msg}");
        let disc = share(tl, |s| s.1.contains("disconnected"));
        assert!(disc >= 0.9, "disconnected only {disc:.2} of polls: {msg}");
        let last = tl.last().unwrap();
        assert!(last.1.contains("s_down"), "never SDOWN: {msg}");
    }
    let sd: Vec<u64> = t
        .iter()
        .map(|tl| first(tl, |s| s.1.contains("s_down")).unwrap())
        .collect();
    assert!(
        sd[0].abs_diff(sd[1]) <= 700,
        "SDOWN at {}ms vs {}ms: {msg}",
        sd[0],
        sd[1]
    );
    for x in &sd {
        assert!(
            (DOWN_AFTER..DOWN_AFTER + 2000).contains(x),
            "SDOWN {x}ms after the change: {msg}"
        );
    }
    let zero: Vec<f64> = t.iter().map(|tl| share(tl, |s| s.2 == "0")).collect();
    assert!(
        zero[0] >= 0.9 && zero[1] >= 0.9,
        "link-pending-commands: {msg}"
    );
}

/// Both recover: no `disconnected` and no `s_down` within about one ping period.
fn assert_recovers(t: &[Vec<Sample>; 2], what: &str) {
    let msg = format!(
        "{what}\n redis-sentinel: {}\n rsentinel:      {}",
        compact(&t[0]),
        compact(&t[1])
    );
    let ok: Vec<u64> = t
        .iter()
        .map(|tl| first(tl, |s| s.1 == "master").unwrap_or(u64::MAX))
        .collect();
    for x in &ok {
        assert!(*x <= 2500, "not recovered in time: {msg}");
    }
    assert!(
        ok[0].abs_diff(ok[1]) <= 1200,
        "recovery {}ms vs {}ms: {msg}",
        ok[0],
        ok[1]
    );
}

fn as_user(port: u16, user: &str, pass: &str, cmds: &[&[&str]]) -> Vec<String> {
    let mut c = Raw::connect(port);
    let auth = c.cmd(&["AUTH", user, pass]);
    assert_eq!(auth, b"+OK\r\n");
    cmds.iter()
        .map(|cmd| String::from_utf8_lossy(&c.cmd(cmd)).into_owned())
        .collect()
}

fn both(p: &Pair, cmd: &[&str]) {
    let r = Raw::connect(p.real.port).cmd(cmd);
    let o = Raw::connect(p.ours.port).cmd(cmd);
    assert_eq!(
        String::from_utf8_lossy(&o),
        String::from_utf8_lossy(&r),
        "{cmd:?}"
    );
}

/// The events both published since `subscribe`, apart from peer discovery (whose
/// payload names the other sentinel), must be the same.
fn assert_same_events(ev: &mut [Events; 2], what: &str) {
    let mut lists = Vec::new();
    for e in ev.iter_mut() {
        e.poll();
        let l: Vec<(String, String)> = e
            .seen
            .iter()
            .filter(|(c, _)| c != "+sentinel")
            .cloned()
            .collect();
        lists.push(l);
    }
    assert_eq!(lists[1], lists[0], "{what}: events (left rsentinel)");
}

#[test]
fn master_acl_default_off_then_auth_user_fixes_it() {
    require!("redis-sentinel");
    let p = start_pair("loglevel debug\n");
    let m = p.master.port;
    let mut ev = [
        Events::subscribe(p.real.port),
        Events::subscribe(p.ours.port),
    ];
    let mut c = Raw::connect(m);
    assert_eq!(
        c.cmd(&[
            "ACL",
            "SETUSER",
            "testuser",
            "on",
            ">secret",
            "allchannels",
            "+@all"
        ]),
        b"+OK\r\n"
    );
    assert_eq!(c.cmd(&["ACL", "SETUSER", "default", "off"]), b"+OK\r\n");
    let killed = as_user(
        m,
        "testuser",
        "secret",
        &[&["CLIENT", "KILL", "USER", "default", "SKIPME", "no"]],
    );
    let origin = Instant::now();
    assert!(killed[0].starts_with(':'), "{killed:?}");
    let ports = [p.real.port, p.ours.port];
    let t = watch(
        ports,
        origin,
        Duration::from_millis(DOWN_AFTER + 2500),
        master_state,
        |_| false,
    );
    assert_cannot_authenticate(&t, "ACL SETUSER default off + CLIENT KILL USER default");

    // Wrong credentials first: nothing changes.
    both(
        &p,
        &[
            "SENTINEL",
            "SET",
            "mymaster",
            "auth-user",
            "testuser",
            "auth-pass",
            "wrong",
        ],
    );
    let t = watch(
        ports,
        Instant::now(),
        Duration::from_millis(2500),
        master_state,
        |_| false,
    );
    for tl in &t {
        assert!(
            share(tl, |s| s.1 == "s_down,master,disconnected") >= 0.9,
            "wrong auth-pass: {}",
            compact(tl)
        );
    }
    both(&p, &["SENTINEL", "SET", "mymaster", "auth-pass", "secret"]);
    let t = watch(
        ports,
        Instant::now(),
        Duration::from_secs(5),
        master_state,
        |f| f == "master",
    );
    assert_recovers(&t, "SENTINEL SET auth-user testuser auth-pass secret");
    assert_same_events(&mut ev, "ACL default off");
    // Dropped links are not logged, even at debug level (the disconnect callback of
    // redis-sentinel is silent): same debug-level link lines in both logs.
    let link_lines = |s: &Proc| {
        let log = std::fs::read_to_string(s.dir.join("sentinel.log")).unwrap_or_default();
        log.lines()
            .filter(|l| l.contains("link-reconnection"))
            .map(|l| l.splitn(6, ' ').nth(5).unwrap_or(l).to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(link_lines(&p.ours), link_lines(&p.real), "debug link lines");
    // The replica (whose `default` user still works) is fine with either credential.
    for s in ports {
        let reps = parse_instances(&Raw::connect(s).cmd(&["SENTINEL", "REPLICAS", "mymaster"]));
        assert!(
            !field(&reps[0], "flags").contains("disconnected"),
            "{reps:?}"
        );
    }
}

#[test]
fn master_requirepass_changes_then_auth_pass_follows() {
    require!("redis-sentinel");
    let p = start_pair("");
    let m = p.master.port;
    let ports = [p.real.port, p.ours.port];
    let mut ev = [
        Events::subscribe(p.real.port),
        Events::subscribe(p.ours.port),
    ];
    let mut c = Raw::connect(m);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "requirepass", "newpw"]),
        b"+OK\r\n"
    );
    // Established connections stay authenticated: nothing changes by itself.
    let t = watch(
        ports,
        Instant::now(),
        Duration::from_millis(1500),
        master_state,
        |_| false,
    );
    for tl in &t {
        assert!(
            tl.iter().all(|s| s.1 == "master"),
            "after requirepass: {}",
            compact(tl)
        );
    }
    // The next reconnection cannot authenticate.
    let killed = as_user(
        m,
        "default",
        "newpw",
        &[&["CLIENT", "KILL", "USER", "default", "SKIPME", "yes"]],
    );
    let origin = Instant::now();
    assert!(killed[0].starts_with(':'), "{killed:?}");
    let t = watch(
        ports,
        origin,
        Duration::from_millis(DOWN_AFTER + 2500),
        master_state,
        |_| false,
    );
    assert_cannot_authenticate(&t, "requirepass newpw + CLIENT KILL");

    both(&p, &["SENTINEL", "SET", "mymaster", "auth-pass", "wrongpw"]);
    let t = watch(
        ports,
        Instant::now(),
        Duration::from_millis(2500),
        master_state,
        |_| false,
    );
    for tl in &t {
        assert!(
            share(tl, |s| s.1 == "s_down,master,disconnected") >= 0.9,
            "wrong auth-pass: {}",
            compact(tl)
        );
    }
    both(&p, &["SENTINEL", "SET", "mymaster", "auth-pass", "newpw"]);
    let t = watch(
        ports,
        Instant::now(),
        Duration::from_secs(5),
        master_state,
        |f| f == "master",
    );
    assert_recovers(&t, "SENTINEL SET auth-pass newpw");
    assert_same_events(&mut ev, "requirepass");
}

/// A third sentinel (real) that requires a password: both sentinels discover it from
/// its hellos on the master, cannot authenticate to it (PING answered `-NOAUTH`), see it
/// go SDOWN, then recover once `SENTINEL CONFIG SET sentinel-pass` is right.
#[test]
fn peer_sentinel_with_password_sentinel_pass_wrong_then_right() {
    require!("redis-sentinel");
    peer_with_password(Path::new("redis-sentinel"));
}

/// The same with rsentinel as the password-protected peer: what it answers to the
/// unauthenticated links must leave both observers in the same state.
#[test]
fn rsentinel_peer_with_password_sentinel_pass_wrong_then_right() {
    require!("redis-sentinel");
    peer_with_password(&rsentinel_bin());
}

fn peer_with_password(peer_bin: &Path) {
    let p = start_pair("");
    let body = format!(
        "requirepass peerpw\nsentinel monitor mymaster 127.0.0.1 {} 3\nsentinel down-after-milliseconds mymaster {DOWN_AFTER}\n",
        p.master.port
    );
    let peer = sentinel(peer_bin, &body);
    let ports = [p.real.port, p.ours.port];
    let origin = Instant::now();
    for s in ports {
        wait_until("peer discovered", Duration::from_secs(10), || {
            sentinel_flags(s, peer.port).is_some()
        });
    }
    let probe = |s: u16| sentinel_flags(s, peer.port).unwrap_or_default();
    let t = watch(
        ports,
        origin,
        Duration::from_millis(DOWN_AFTER + 4000),
        probe,
        |f| f.contains("s_down"),
    );
    let msg = format!(
        "redis-sentinel: {}\n rsentinel:      {}",
        compact(&t[0]),
        compact(&t[1])
    );
    for tl in &t {
        // Sentinel links have no pub/sub half: once connected (a fresh record starts
        // disconnected until the next timer tick), the link stays connected.
        let up = tl.iter().position(|s| !s.1.contains("disconnected"));
        let up = up.unwrap_or_else(|| panic!("never connected: {msg}"));
        assert!(tl[0].0 + 300 >= tl[up].0, "{msg}");
        assert!(
            tl[up..].iter().all(|s| !s.1.contains("disconnected")),
            "{msg}"
        );
        assert!(tl.last().unwrap().1 == "s_down,sentinel", "{msg}");
    }

    both(&p, &["SENTINEL", "CONFIG", "SET", "sentinel-pass", "nope"]);
    let t = watch(
        ports,
        Instant::now(),
        Duration::from_millis(2500),
        probe,
        |_| false,
    );
    for tl in &t {
        assert!(
            share(tl, |s| s.1 == "s_down,sentinel") >= 0.9,
            "wrong sentinel-pass: {}",
            compact(tl)
        );
    }
    both(
        &p,
        &["SENTINEL", "CONFIG", "SET", "sentinel-pass", "peerpw"],
    );
    let t = watch(ports, Instant::now(), Duration::from_secs(5), probe, |f| {
        f == "sentinel"
    });
    let ok: Vec<u64> = t
        .iter()
        .map(|tl| first(tl, |s| s.1 == "sentinel").unwrap_or(u64::MAX))
        .collect();
    let msg = format!(
        "redis-sentinel: {}\n rsentinel:      {}",
        compact(&t[0]),
        compact(&t[1])
    );
    assert!(ok.iter().all(|x| *x <= 2500), "{msg}");
    assert!(ok[0].abs_diff(ok[1]) <= 1200, "{msg}");

    // An ACL user on the peer: a wrong sentinel-user makes the peer SDOWN again after
    // down-after (the links are closed and re-authenticate), the right one recovers it.
    let mut pc = Raw::connect(peer.port);
    assert_eq!(pc.cmd(&["AUTH", "peerpw"]), b"+OK\r\n");
    pc.cmd(&[
        "ACL",
        "SETUSER",
        "admin",
        "on",
        ">adminpw",
        "+@all",
        "allchannels",
    ]);
    both(
        &p,
        &["SENTINEL", "CONFIG", "SET", "sentinel-user", "nobody"],
    );
    let origin = Instant::now();
    let t = watch(
        ports,
        origin,
        Duration::from_millis(DOWN_AFTER + 3000),
        probe,
        |f| f.contains("s_down"),
    );
    let msg = format!(
        "redis-sentinel: {}\n rsentinel:      {}",
        compact(&t[0]),
        compact(&t[1])
    );
    let sd: Vec<u64> = t
        .iter()
        .map(|tl| first(tl, |s| s.1.contains("s_down")).unwrap_or(u64::MAX))
        .collect();
    assert!(
        sd.iter()
            .all(|x| (DOWN_AFTER..DOWN_AFTER + 2500).contains(x)),
        "{msg}"
    );
    assert!(sd[0].abs_diff(sd[1]) <= 700, "{msg}");
    both(&p, &["SENTINEL", "CONFIG", "SET", "sentinel-user", "admin"]);
    both(
        &p,
        &["SENTINEL", "CONFIG", "SET", "sentinel-pass", "adminpw"],
    );
    let t = watch(ports, Instant::now(), Duration::from_secs(5), probe, |f| {
        f == "sentinel"
    });
    let ok: Vec<u64> = t
        .iter()
        .map(|tl| first(tl, |s| s.1 == "sentinel").unwrap_or(u64::MAX))
        .collect();
    let msg = format!(
        "redis-sentinel: {}\n rsentinel:      {}",
        compact(&t[0]),
        compact(&t[1])
    );
    assert!(ok.iter().all(|x| *x <= 2500), "{msg}");
    assert!(ok[0].abs_diff(ok[1]) <= 1200, "{msg}");
}

/// `-NOPERM` on SUBSCRIBE only: the sentinel's user may run every command but may not
/// subscribe to the hello channel. The pub/sub half is dropped on every attempt, but the
/// command half works, and the PING sent in the instant the link counts as connected
/// (right after each re-dial) is answered: `disconnected`, yet never SDOWN.
#[test]
fn master_user_without_channel_permission() {
    require!("redis-sentinel");
    let p = start_pair("");
    let m = p.master.port;
    let ports = [p.real.port, p.ours.port];
    let mut c = Raw::connect(m);
    assert_eq!(
        c.cmd(&[
            "ACL",
            "SETUSER",
            "nochan",
            "on",
            ">secret",
            "resetchannels",
            "+@all"
        ]),
        b"+OK\r\n"
    );
    both(
        &p,
        &[
            "SENTINEL",
            "SET",
            "mymaster",
            "auth-user",
            "nochan",
            "auth-pass",
            "secret",
        ],
    );
    let origin = Instant::now();
    let t = watch(
        ports,
        origin,
        Duration::from_millis(DOWN_AFTER + 2500),
        master_state,
        |_| false,
    );
    let msg = format!(
        "redis-sentinel: {}\n rsentinel:      {}",
        compact(&t[0]),
        compact(&t[1])
    );
    for tl in &t {
        assert!(share(tl, |s| s.1 == "master,disconnected") >= 0.9, "{msg}");
        assert!(tl.iter().all(|s| !s.1.contains("s_down")), "{msg}");
    }
    // The replica has no such user: AUTH fails, but its `default` user needs none.
    for s in ports {
        let reps = parse_instances(&Raw::connect(s).cmd(&["SENTINEL", "REPLICAS", "mymaster"]));
        assert_eq!(field(&reps[0], "flags"), "slave", "{reps:?}");
    }
    c.cmd(&["ACL", "SETUSER", "nochan", "allchannels"]);
    let t = watch(
        ports,
        Instant::now(),
        Duration::from_secs(5),
        master_state,
        |f| f == "master",
    );
    assert_recovers(&t, "ACL SETUSER nochan allchannels");
}

fn connections_received(port: u16, user: &str, pass: &str) -> u64 {
    let info = as_user(port, user, pass, &[&["INFO", "stats"]]);
    info[0]
        .lines()
        .find_map(|l| l.strip_prefix("total_connections_received:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Reconnect pacing: each binary alone on its own master whose `default` user is off.
/// redis-sentinel re-dials the pub/sub half once per ping period (the command half
/// stays up), so the master sees about one new connection a second.
#[test]
fn reconnect_pacing_while_unauthenticated() {
    require!("redis-sentinel");
    let mut counts = Vec::new();
    for bin in [Path::new("redis-sentinel").to_path_buf(), rsentinel_bin()] {
        let master = redis_server(&[]);
        let m = master.port;
        let body = format!(
            "sentinel monitor mymaster 127.0.0.1 {m} 2\nsentinel down-after-milliseconds mymaster 30000\n"
        );
        let s = sentinel(&bin, &body);
        wait_until("master link up", Duration::from_secs(15), || {
            master_state(s.port).0 == "master"
        });
        let mut c = Raw::connect(m);
        c.cmd(&[
            "ACL",
            "SETUSER",
            "admin",
            "on",
            ">pw",
            "allchannels",
            "+@all",
        ]);
        c.cmd(&["ACL", "SETUSER", "default", "off"]);
        as_user(
            m,
            "admin",
            "pw",
            &[&["CLIENT", "KILL", "USER", "default", "SKIPME", "no"]],
        );
        // Let the first re-dial happen, then count over 4 s.
        std::thread::sleep(Duration::from_millis(1500));
        let before = connections_received(m, "admin", "pw");
        std::thread::sleep(Duration::from_secs(4));
        let after = connections_received(m, "admin", "pw");
        // Our own two INFO connections are included in the difference.
        counts.push(after - before - 1);
    }
    eprintln!(
        "re-dials in 4 s: redis-sentinel {} rsentinel {}",
        counts[0], counts[1]
    );
    assert!(
        (3..=5).contains(&counts[0]),
        "redis-sentinel re-dialled {} times in 4 s",
        counts[0]
    );
    assert!(
        counts[0].abs_diff(counts[1]) <= 1,
        "re-dials in 4 s: redis-sentinel {} rsentinel {}",
        counts[0],
        counts[1]
    );
}

/// A replica whose `default` user is turned off: the replica record behaves like the
/// master's did (disconnected, SDOWN), and the master's auth-user/auth-pass, which the
/// sentinels also use for replicas, fixes it.
#[test]
fn replica_acl_default_off_then_master_credentials_fix_it() {
    require!("redis-sentinel");
    let p = start_pair("");
    let r = p._replica.port;
    let ports = [p.real.port, p.ours.port];
    let mut ev = [
        Events::subscribe(p.real.port),
        Events::subscribe(p.ours.port),
    ];
    let mut c = Raw::connect(r);
    c.cmd(&[
        "ACL",
        "SETUSER",
        "ruser",
        "on",
        ">rpw",
        "allchannels",
        "+@all",
    ]);
    c.cmd(&["ACL", "SETUSER", "default", "off"]);
    as_user(
        r,
        "ruser",
        "rpw",
        &[&["CLIENT", "KILL", "USER", "default", "SKIPME", "no"]],
    );
    let origin = Instant::now();
    let replica_state = |s: u16| {
        let reps = parse_instances(&Raw::connect(s).cmd(&["SENTINEL", "REPLICAS", "mymaster"]));
        reps.first()
            .map(|x| (field(x, "flags"), field(x, "link-pending-commands")))
            .unwrap_or_default()
    };
    let t = watch(
        ports,
        origin,
        Duration::from_millis(DOWN_AFTER + 2500),
        replica_state,
        |_| false,
    );
    assert_cannot_authenticate(&t, "replica: ACL SETUSER default off + CLIENT KILL");
    // The master has no `ruser`: its AUTH fails, but its `default` user needs none.
    both(
        &p,
        &[
            "SENTINEL",
            "SET",
            "mymaster",
            "auth-user",
            "ruser",
            "auth-pass",
            "rpw",
        ],
    );
    let t = watch(
        ports,
        Instant::now(),
        Duration::from_secs(5),
        replica_state,
        |f| f == "slave",
    );
    let ok: Vec<u64> = t
        .iter()
        .map(|tl| first(tl, |s| s.1 == "slave").unwrap_or(u64::MAX))
        .collect();
    let msg = format!(
        "redis-sentinel: {}\n rsentinel:      {}",
        compact(&t[0]),
        compact(&t[1])
    );
    assert!(ok.iter().all(|x| *x <= 2500), "{msg}");
    assert!(ok[0].abs_diff(ok[1]) <= 1200, "{msg}");
    for s in ports {
        assert_eq!(master_state(s).0, "master");
    }
    assert_same_events(&mut ev, "replica ACL default off");
}

/// Which link failures reach the debug log: a refused connect leaves no line (hiredis
/// reports it through the silent connect callback), a socket that cannot be bound to
/// `bind-source-addr` is logged on every attempt (hiredis fails the connect call).
#[test]
fn link_failures_in_the_debug_log_match_redis_sentinel() {
    require!("redis-sentinel");
    let closed = free_port();
    for extra in ["", "bind-source-addr 10.255.255.1\n"] {
        let body =
            format!("loglevel debug\n{extra}sentinel monitor mymaster 127.0.0.1 {closed} 2\n");
        let mut seen = Vec::new();
        for bin in [Path::new("redis-sentinel").to_path_buf(), rsentinel_bin()] {
            let s = sentinel(&bin, &body);
            // Two reconnection attempts at least (one per second).
            std::thread::sleep(Duration::from_millis(2300));
            let log = std::fs::read_to_string(s.dir.join("sentinel.log")).unwrap_or_default();
            let mut lines: Vec<String> = log
                .lines()
                .filter(|l| l.contains("link-reconnection"))
                .map(|l| l.splitn(6, ' ').nth(5).unwrap_or(l).to_string())
                .collect();
            let attempts = lines.len();
            lines.sort();
            lines.dedup();
            seen.push((attempts >= 4, lines));
        }
        assert_eq!(seen[1], seen[0], "{extra:?} (left rsentinel)");
        if extra.is_empty() {
            assert!(seen[0].1.is_empty(), "{seen:?}");
        } else {
            assert!(seen[0].0, "{seen:?}");
        }
    }
}
