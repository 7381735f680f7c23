//! CLIENT KILL that includes the caller, and ACL changes that affect live connections,
//! run on redis-sentinel and rsentinel side by side: the exact bytes each connection
//! receives (and whether it was closed) must be the same.

use crate::harness::{Proc, rsentinel_bin, sentinel};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

struct Conn {
    s: TcpStream,
}

fn enc(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n{a}\r\n", a.len()).as_bytes());
    }
    out
}

impl Conn {
    fn open(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        Conn { s }
    }
    fn local(&self) -> String {
        self.s.local_addr().unwrap().to_string()
    }
    /// Sends the commands as one pipeline (one write).
    fn send(&mut self, cmds: &[&[&str]]) {
        let bytes: Vec<u8> = cmds.iter().flat_map(|c| enc(c)).collect();
        let _ = self.s.write_all(&bytes);
    }
    /// Everything received until the peer closes (`<EOF>` appended) or stays quiet for
    /// `quiet`; bounded by 5 s in all cases.
    fn drain(&mut self, quiet: Duration) -> String {
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        self.s.set_read_timeout(Some(quiet)).unwrap();
        let mut buf = [0u8; 65536];
        while Instant::now() < deadline {
            match self.s.read(&mut buf) {
                Ok(0) => {
                    got.extend_from_slice(b"<EOF>");
                    break;
                }
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    break;
                }
                Err(_) => {
                    got.extend_from_slice(b"<RESET>");
                    break;
                }
            }
        }
        String::from_utf8_lossy(&got).into_owned()
    }
    /// One command whose reply is a single line (`:<id>`): read until the line is
    /// whole, however slow the server (a quiet period would cut a late reply off).
    fn line(&mut self, cmd: &[&str]) -> String {
        self.send(&[cmd]);
        self.s
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut got = Vec::new();
        let mut byte = [0u8; 1];
        while !got.ends_with(b"\r\n") && self.s.read(&mut byte).is_ok_and(|n| n == 1) {
            got.push(byte[0]);
        }
        String::from_utf8_lossy(&got).into_owned()
    }
    fn call(&mut self, cmds: &[&[&str]]) -> String {
        self.send(cmds);
        self.drain(Duration::from_millis(300))
    }
}

const Q: Duration = Duration::from_millis(300);

fn start(bin: &Path) -> Proc {
    sentinel(bin, "")
}

/// The scenario: a default connection disables `default` and kills every
/// default connection including itself, then a fresh connection authenticates.
fn user_default_skipme_no(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    let mut a = Conn::open(port);
    let mut b = Conn::open(port);
    out.push(b.call(&[&["PING"]]));
    out.push(a.call(&[
        &["ACL", "SETUSER", "testuser", ">secret", "+@all", "on"],
        &["ACL", "SETUSER", "default", "off"],
    ]));
    // Still authenticated as `default` although it is off: Redis 7.0 keeps such links.
    out.push(b.call(&[&["PING"]]));
    out.push(a.call(&[&["CLIENT", "KILL", "USER", "default", "SKIPME", "no"]]));
    out.push(b.drain(Q));
    let mut c = Conn::open(port);
    out.push(c.call(&[&["PING"]]));
    out.push(c.call(&[&["AUTH", "testuser", "secret"], &["PING"]]));
    out
}

/// Every filter form aimed at the caller, inside a pipeline: what the caller and an
/// unrelated connection receive, and whether the command after the kill ran.
fn kill_forms(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    type Form = fn(&str, &str, &str) -> Vec<String>;
    let forms: &[(&str, Form)] = &[
        ("ID", |_, _, id| vec!["ID".into(), id.into()]),
        ("ID SKIPME no", |_, _, id| {
            vec!["ID".into(), id.into(), "SKIPME".into(), "no".into()]
        }),
        ("ID SKIPME yes", |_, _, id| {
            vec!["ID".into(), id.into(), "SKIPME".into(), "yes".into()]
        }),
        ("ADDR", |me, _, _| vec!["ADDR".into(), me.into()]),
        ("ADDR SKIPME no", |me, _, _| {
            vec!["ADDR".into(), me.into(), "SKIPME".into(), "no".into()]
        }),
        ("LADDR", |_, la, _| vec!["LADDR".into(), la.into()]),
        ("LADDR SKIPME no", |_, la, _| {
            vec!["LADDR".into(), la.into(), "SKIPME".into(), "no".into()]
        }),
        ("TYPE normal", |_, _, _| {
            vec!["TYPE".into(), "normal".into()]
        }),
        ("TYPE normal SKIPME no", |_, _, _| {
            vec!["TYPE".into(), "normal".into(), "SKIPME".into(), "no".into()]
        }),
        ("USER default", |_, _, _| {
            vec!["USER".into(), "default".into()]
        }),
        ("USER default SKIPME no", |_, _, _| {
            vec![
                "USER".into(),
                "default".into(),
                "SKIPME".into(),
                "no".into(),
            ]
        }),
        ("old-style ip:port", |me, _, _| vec![me.into()]),
        ("ID twice", |_, _, id| {
            vec![
                "ID".into(),
                id.into(),
                "ID".into(),
                id.into(),
                "SKIPME".into(),
                "no".into(),
            ]
        }),
    ];
    for (name, form) in forms {
        let mut x = Conn::open(port);
        let mut other = Conn::open(port);
        other.call(&[&["PING"]]);
        let id = x.line(&["CLIENT", "ID"]);
        let id = id.trim_start_matches(':').trim_end().to_string();
        let me = x.local();
        let la = format!("127.0.0.1:{port}");
        let args = form(&me, &la, &id);
        let mut kill: Vec<&str> = vec!["CLIENT", "KILL"];
        kill.extend(args.iter().map(|s| s.as_str()));
        let got = x.call(&[
            &["PING", "before"],
            &kill,
            &["PING", "after"],
            &["CLIENT", "SETNAME", "ranafter"],
        ]);
        let got_other = other.drain(Q);
        let mut y = Conn::open(port);
        let list = y.call(&[&["CLIENT", "LIST"]]);
        let ran_after = list.contains("name=ranafter");
        out.push(format!(
            "{name}: caller {got:?} other {got_other:?} ran-after {ran_after}"
        ));
    }
    out
}

/// ACL changes against live connections: `off` and password changes leave them
/// authenticated, DELUSER closes them (the caller after its reply, nothing after it runs).
fn acl_changes(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    let mut a = Conn::open(port);
    let mut b = Conn::open(port);
    out.push(a.call(&[&["ACL", "SETUSER", "u1", "on", ">p", "+@all"]]));
    out.push(b.call(&[&["AUTH", "u1", "p"]]));
    out.push(a.call(&[&["ACL", "SETUSER", "u1", "off"]]));
    out.push(b.call(&[&["PING"]]));
    out.push(b.call(&[&["AUTH", "u1", "p"]]));
    out.push(a.call(&[&["ACL", "SETUSER", "u1", "on", "resetpass", ">q"]]));
    out.push(b.call(&[&["PING"]]));
    let mut c = Conn::open(port);
    out.push(c.call(&[
        &["AUTH", "u1", "q"],
        &["ACL", "SETUSER", "u1", "off"],
        &["PING"],
    ]));
    out.push(c.call(&[
        &["ACL", "SETUSER", "u1", "on"],
        &["ACL", "DELUSER", "u1"],
        &["PING"],
    ]));
    out.push(b.drain(Q));
    let mut d = Conn::open(port);
    out.push(d.call(&[
        &["ACL", "SETUSER", "u2", "on", ">p", "+@all"],
        &["AUTH", "u2", "p"],
        &["ACL", "SETUSER", "u2", "reset"],
        &["PING"],
    ]));
    out
}

/// Revoking channels with ACL SETUSER disconnects the user's subscribers that lost a
/// channel or pattern (RESP2 and RESP3 alike); extending the list, or `allchannels`,
/// does not. (The caller itself is left out: redis-sentinel 7.0.15 crashes when a RESP3
/// subscriber revokes its own channels.)
fn channel_revocation(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    let mut a = Conn::open(port);
    out.push(a.call(&[&["ACL", "SETUSER", "u1", "on", ">p", "+@all", "allchannels"]]));
    let mut b = Conn::open(port);
    out.push(b.call(&[&["AUTH", "u1", "p"], &["SUBSCRIBE", "chan"]]));
    let mut d = Conn::open(port);
    out.push(d.call(&[&["AUTH", "u1", "p"], &["PSUBSCRIBE", "*"]]));
    let mut g = Conn::open(port);
    out.push(
        g.call(&[&["AUTH", "u1", "p"], &["HELLO", "3"], &["SUBSCRIBE", "x"]])
            .replace(|c: char| c.is_ascii_digit(), "#"),
    );
    out.push(a.call(&[&["ACL", "SETUSER", "u1", "resetchannels", "&other"]]));
    out.push(b.drain(Q));
    out.push(d.drain(Q));
    out.push(g.drain(Q));
    let mut e = Conn::open(port);
    out.push(e.call(&[&["AUTH", "u1", "p"], &["SUBSCRIBE", "other"], &["PING"]]));
    out.push(a.call(&[&["ACL", "SETUSER", "u1", "&more"]]));
    out.push(e.drain(Q));
    out.push(a.call(&[&["ACL", "SETUSER", "u1", "resetchannels"]]));
    out.push(e.drain(Q));
    out.push(a.call(&[&[
        "ACL",
        "SETUSER",
        "u2",
        "on",
        "nopass",
        "+@all",
        "resetchannels",
        "&foo*",
        "&bar",
    ]]));
    let mut p = Conn::open(port);
    out.push(p.call(&[&["AUTH", "u2", "x"], &["PSUBSCRIBE", "foo*"]]));
    let mut c = Conn::open(port);
    out.push(c.call(&[&["AUTH", "u2", "x"], &["SUBSCRIBE", "foobar"]]));
    let mut b2 = Conn::open(port);
    out.push(b2.call(&[&["AUTH", "u2", "x"], &["SUBSCRIBE", "bar"]]));
    out.push(a.call(&[&["ACL", "SETUSER", "u2", "resetchannels", "&foo*"]]));
    out.push(format!("{} {} {}", p.drain(Q), c.drain(Q), b2.drain(Q)));
    out.push(a.call(&[&["ACL", "SETUSER", "u2", "resetchannels", "&fo*"]]));
    out.push(format!("{} {}", p.drain(Q), c.drain(Q)));
    out.push(a.call(&[&["ACL", "SETUSER", "u2", "allchannels"]]));
    out.push(c.drain(Q));
    out
}

fn compare(scenario: fn(u16) -> Vec<String>, what: &str) {
    let real = start(Path::new("redis-sentinel"));
    let ours = start(&rsentinel_bin());
    let r = scenario(real.port);
    let o = scenario(ours.port);
    for (i, (r, o)) in r.iter().zip(&o).enumerate() {
        assert_eq!(
            o, r,
            "{what}: step {i} differs (left rsentinel, right redis-sentinel)"
        );
    }
    assert_eq!(o.len(), r.len(), "{what}");
}

#[test]
fn client_kill_user_default_skipme_no_replies_then_closes() {
    require!("redis-sentinel");
    compare(user_default_skipme_no, "CLIENT KILL USER default SKIPME no");
}

#[test]
fn client_kill_forms_on_the_caller_match_redis_sentinel() {
    require!("redis-sentinel");
    compare(kill_forms, "CLIENT KILL forms");
}

#[test]
fn acl_changes_on_live_connections_match_redis_sentinel() {
    require!("redis-sentinel");
    compare(acl_changes, "ACL changes");
}

#[test]
fn acl_channel_revocation_matches_redis_sentinel() {
    require!("redis-sentinel");
    compare(channel_revocation, "ACL channel revocation");
}

/// The sentinel's own ACL changes reach its config file only with the next sentinel
/// flush (redis-sentinel rewrites live users then, and not at shutdown).
#[test]
fn acl_changes_reach_the_config_only_with_a_flush() {
    require!("redis-sentinel");
    let body = "sentinel monitor mymaster 127.0.0.1 1 2\n";
    let mut files = Vec::new();
    for bin in [Path::new("redis-sentinel").to_path_buf(), rsentinel_bin()] {
        let mut s = sentinel(&bin, body);
        let mut c = Conn::open(s.port);
        c.call(&[
            &["ACL", "SETUSER", "flushed", "on", ">pw", "+@all"],
            &["SENTINEL", "SET", "mymaster", "quorum", "1"],
            &["ACL", "SETUSER", "unflushed", "on", ">pw", "+@all"],
            &["ACL", "SETUSER", "default", ">newdefault"],
        ]);
        // SAFETY: a signal to our own child.
        unsafe {
            libc::kill(s.child.id() as i32, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while s.child.try_wait().ok().flatten().is_none() {
            assert!(Instant::now() < deadline, "{} did not exit", bin.display());
            std::thread::sleep(Duration::from_millis(20));
        }
        let users: Vec<String> = s
            .conf_text()
            .lines()
            .filter(|l| l.starts_with("user "))
            .map(|l| l.split(' ').take(4).collect::<Vec<_>>().join(" "))
            .collect();
        files.push(users);
    }
    assert!(
        files[0].iter().any(|l| l.starts_with("user flushed on")),
        "{files:?}"
    );
    assert!(
        !files[0].iter().any(|l| l.starts_with("user unflushed")),
        "{files:?}"
    );
    assert_eq!(files[1], files[0], "user lines (left rsentinel)");
}
