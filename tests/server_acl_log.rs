//! `ACL LOG`: refused authentications, commands and channels are recorded as
//! redis-sentinel 7.0.15 records them (the reply shapes below were compared with the
//! real binary on the same sequence; only `age-seconds` and the client line's ids,
//! addresses and memory figures vary).

use crate::support::resp::Conn;
use crate::support::server::start;
use rsentinel::config::ServerConfig;
use rsentinel::resp::format_g17;

fn users(lines: &[&str]) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|l| l.split(' ').map(String::from).collect())
        .collect()
}

/// The entries of an `ACL LOG` RESP2 reply as (field, value) lists, the client line
/// cut to its `cmd=` and `user=` fields and `age-seconds` checked and dropped.
fn entries(reply: &[u8]) -> Vec<Vec<(String, String)>> {
    let text = String::from_utf8_lossy(reply).into_owned();
    let mut lines = text.split("\r\n");
    let n: usize = lines.next().unwrap()[1..].parse().unwrap();
    let mut out = Vec::new();
    for _ in 0..n {
        assert_eq!(lines.next(), Some("*14"), "{text}");
        let mut fields = Vec::new();
        for _ in 0..7 {
            let _len = lines.next();
            let key = lines.next().unwrap().to_string();
            let mut value = lines.next().unwrap().to_string();
            if value.starts_with('$') {
                value = lines.next().unwrap().to_string();
            } else if let Some(n) = value.strip_prefix(':') {
                value = n.to_string();
            }
            match key.as_str() {
                "age-seconds" => {
                    let age: f64 = value.parse().unwrap();
                    assert!((0.0..5.0).contains(&age), "{value}");
                    continue;
                }
                "client-info" => {
                    value = value
                        .split(' ')
                        .filter(|f| f.starts_with("cmd=") || f.starts_with("user="))
                        .collect::<Vec<_>>()
                        .join(" ");
                }
                _ => {}
            }
            fields.push((key, value));
        }
        out.push(fields);
    }
    out
}

fn entry(
    count: u64,
    reason: &str,
    object: &str,
    username: &str,
    client: &str,
) -> Vec<(String, String)> {
    [
        ("count", count.to_string().as_str()),
        ("reason", reason),
        ("context", "toplevel"),
        ("object", object),
        ("username", username),
        ("client-info", client),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[tokio::test]
async fn refusals_are_logged_grouped_and_reset_like_redis() {
    let cfg = ServerConfig {
        users: users(&[
            "alice on >pw +ping +subscribe +publish resetchannels &news* (&b* +subscribe)",
            "carol off >pw +@all",
        ]),
        ..Default::default()
    };
    let (_srv, addr) = start(cfg).await;
    let mut c = Conn::open(addr).await;
    assert_eq!(c.cmd(&["ACL", "LOG"]).await, b"*0\r\n");
    c.cmd(&["AUTH", "bob", "x"]).await;
    c.cmd(&["auth", "alice", "wrong"]).await;
    c.cmd(&["auth", "alice", "wrong"]).await;
    c.cmd(&["Hello", "3", "AUTH", "nobody", "x"]).await;
    c.cmd(&["auth", "carol", "pw"]).await; // disabled user
    assert_eq!(c.cmd(&["AUTH", "alice", "pw"]).await, b"+OK\r\n");
    c.cmd(&["SENTINEL", "MASTERS"]).await;
    // The root refuses `zz` (argument 2); the selector refuses `newsa` (1): the
    // furthest one is named.
    c.cmd(&["SUBSCRIBE", "newsa", "zz", "b1"]).await;
    c.cmd(&["PUBLISH", "xx", "m"]).await;

    let mut admin = Conn::open(addr).await;
    let log = entries(&admin.cmd(&["ACL", "LOG"]).await);
    assert_eq!(
        log,
        [
            entry(1, "channel", "xx", "alice", "cmd=publish user=alice"),
            entry(1, "channel", "zz", "alice", "cmd=subscribe user=alice"),
            entry(
                1,
                "command",
                "sentinel|masters",
                "alice",
                "cmd=sentinel|masters user=alice"
            ),
            entry(1, "auth", "auth", "carol", "cmd=auth user=default"),
            entry(1, "auth", "Hello", "nobody", "cmd=hello user=default"),
            entry(2, "auth", "auth", "alice", "cmd=auth user=default"),
            entry(1, "auth", "AUTH", "bob", "cmd=auth user=default"),
        ]
    );
    assert_eq!(entries(&admin.cmd(&["ACL", "LOG", "2"]).await), log[..2]);
    assert_eq!(admin.cmd(&["ACL", "LOG", "-1"]).await, b"*0\r\n");
    assert_eq!(
        admin.cmd(&["ACL", "LOG", "x"]).await,
        b"-ERR value is not an integer or out of range\r\n"
    );
    // RESP3: a map per entry and the age as a double.
    admin.cmd(&["HELLO", "3"]).await;
    let r3 = String::from_utf8_lossy(&admin.cmd(&["ACL", "LOG", "1"]).await).into_owned();
    assert!(r3.starts_with("*1\r\n%7\r\n$5\r\ncount\r\n:1\r\n"), "{r3}");
    assert!(r3.contains("$11\r\nage-seconds\r\n,0"), "{r3}");
    assert_eq!(admin.cmd(&["ACL", "LOG", "RESET"]).await, b"+OK\r\n");
    assert_eq!(admin.cmd(&["ACL", "LOG"]).await, b"*0\r\n");
}

#[tokio::test]
async fn acllog_max_len_bounds_the_log() {
    let cfg = ServerConfig {
        acllog_max_len: 2,
        ..Default::default()
    };
    let (_srv, addr) = start(cfg).await;
    let mut c = Conn::open(addr).await;
    for user in ["u1", "u2", "u3"] {
        c.cmd(&["AUTH", user, "x"]).await;
    }
    let log = entries(&c.cmd(&["ACL", "LOG"]).await);
    let names: Vec<&str> = log.iter().map(|e| e[4].1.as_str()).collect();
    assert_eq!(names, ["u3", "u2"]);
}

/// `%.17g` as glibc prints it (the values checked against C's printf).
#[test]
fn doubles_are_formatted_like_printf_17g() {
    for (x, s) in [
        (0.006, "0.0060000000000000001"),
        (0.012, "0.012"),
        (1e-5, "1.0000000000000001e-05"),
        (123456.789, "123456.789"),
        (1e17, "1e+17"),
        (1e16, "10000000000000000"),
        (0.0001, "0.0001"),
        (0.00012345, "0.00012344999999999999"),
        (5.0, "5"),
        (2.5e-7, "2.4999999999999999e-07"),
        (0.0, "0"),
        (-1.5, "-1.5"),
    ] {
        assert_eq!(format_g17(x), s, "{x:e}");
    }
}
