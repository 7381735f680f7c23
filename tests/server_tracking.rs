//! `CLIENT TRACKING` and friends kept as redis-sentinel 7.0.15 keeps them (and, at the
//! end, the NUL rule of ACL SETUSER's error texts) (checked
//! against the real binary: `differential::admin_and_introspection_sweep...` compares
//! the single-connection replies live). Here what needs more than one connection or a
//! look at the byte stream: the redirect target must exist, the counts in INFO follow
//! clients that come and go, the CACHING mark lasts one command, and Redis' double
//! reply on an overlap inside the prefix list past the first prefix.

use crate::support::resp::{Conn, encode};
use crate::support::server::start;
use rsentinel::config::ServerConfig;

fn s(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

async fn info_line(c: &mut Conn, key: &str) -> String {
    let info = s(&c.cmd(&["INFO"]).await);
    info.split("\r\n")
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in {info}"))
        .to_string()
}

#[tokio::test]
async fn redirect_counts_and_the_caching_mark() {
    let (_srv, addr) = start(ServerConfig::default()).await;
    let mut a = Conn::open(addr).await;
    let mut b = Conn::open(addr).await;
    let id_b = s(&b.cmd(&["CLIENT", "ID"]).await);
    let id_b = id_b.trim_start_matches(':').trim_end();
    assert_eq!(
        a.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", id_b]).await,
        b"+OK\r\n"
    );
    assert_eq!(
        s(&a.cmd(&["CLIENT", "GETREDIR"]).await),
        format!(":{id_b}\r\n")
    );
    let list = s(&b.cmd(&["CLIENT", "LIST"]).await);
    // Line 0 is the bulk's length, then a's line and b's.
    let line_a = list.lines().nth(1).unwrap();
    assert!(
        line_a.contains(" flags=t ") && line_a.contains(&format!(" redir={id_b} ")),
        "{line_a}"
    );
    assert!(list.lines().nth(2).unwrap().contains(" redir=-1 "));
    assert_eq!(
        b.cmd(&[
            "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p", "PREFIX", "q"
        ])
        .await,
        b"+OK\r\n"
    );
    assert_eq!(info_line(&mut a, "tracking_clients").await, "2");
    assert_eq!(info_line(&mut a, "tracking_total_prefixes").await, "2");
    // A client that goes away takes its tracking and prefixes with it.
    drop(b);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while info_line(&mut a, "tracking_clients").await != "1" {
        assert!(std::time::Instant::now() < deadline, "b's tracking stayed");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(info_line(&mut a, "tracking_total_prefixes").await, "0");
    assert_eq!(
        a.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", "999999"])
            .await,
        b"-ERR The client ID you want redirect to does not exist\r\n".to_vec()
    );
    // The CACHING mark holds until a command other than CLIENT runs.
    assert_eq!(a.cmd(&["CLIENT", "TRACKING", "off"]).await, b"+OK\r\n");
    assert_eq!(
        a.cmd(&["CLIENT", "TRACKING", "on", "OPTIN"]).await,
        b"+OK\r\n"
    );
    assert_eq!(a.cmd(&["CLIENT", "CACHING", "yes"]).await, b"+OK\r\n");
    let info = s(&a.cmd(&["CLIENT", "TRACKINGINFO"]).await);
    assert!(info.contains("caching-yes"), "{info}");
    a.cmd(&["NOSUCHCOMMAND"]).await;
    let info = s(&a.cmd(&["CLIENT", "TRACKINGINFO"]).await);
    assert!(!info.contains("caching-yes"), "{info}");
}

#[tokio::test]
async fn an_overlap_past_the_first_prefix_is_reported_and_tracking_goes_on() {
    let (_srv, addr) = start(ServerConfig::default()).await;
    let mut a = Conn::open(addr).await;
    // First prefix overlapping a later one: refused.
    assert_eq!(
        s(&a.cmd(&[
            "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a", "PREFIX", "ab"
        ])
        .await),
        "-ERR Prefix 'a' overlaps with another provided prefix 'ab'. Prefixes for a single client must not overlap.\r\n"
    );
    assert!(s(&a.cmd(&["CLIENT", "TRACKINGINFO"]).await).contains("off"));
    // Past the first: the error, then +OK, and every prefix registered.
    let args = [
        "CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "x", "PREFIX", "a", "PREFIX", "ab",
    ];
    a.send(&encode(&args)).await;
    let err = a.frame().await.unwrap();
    assert_eq!(
        s(&err),
        "-ERR Prefix 'a' overlaps with another provided prefix 'ab'. Prefixes for a single client must not overlap.\r\n"
    );
    assert_eq!(a.frame().await.unwrap(), b"+OK\r\n");
    let info = s(&a.cmd(&["CLIENT", "TRACKINGINFO"]).await);
    assert!(
        info.ends_with("$8\r\nprefixes\r\n*3\r\n$1\r\na\r\n$2\r\nab\r\n$1\r\nx\r\n"),
        "{info}"
    );
    assert_eq!(
        s(
            &a.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "xy"])
                .await
        ),
        "-ERR Prefix 'xy' overlaps with an existing prefix 'x'. Prefixes for a single client must not overlap.\r\n"
    );
}

/// ACL SETUSER's errors show the offending argument as Redis' `%s` does: up to a NUL
/// (checked against redis-sentinel 7.0.15).
#[tokio::test]
async fn setuser_errors_stop_at_a_nul_like_redis() {
    let (_srv, addr) = start(ServerConfig::default()).await;
    let mut a = Conn::open(addr).await;
    a.send(&encode(&[&b"ACL"[..], b"SETUSER", b"zz", b"(~a\0b"]))
        .await;
    assert_eq!(
        s(&a.frame().await.unwrap()),
        "-ERR Unmatched parenthesis in acl selector starting at '(~a'.\r\n"
    );
    a.send(&encode(&[&b"ACL"[..], b"SETUSER", b"zz", b"bad\0x"]))
        .await;
    assert_eq!(
        s(&a.frame().await.unwrap()),
        "-ERR Error in ACL SETUSER modifier 'bad': Syntax error\r\n"
    );
}
