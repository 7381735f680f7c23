//! Accept-time policy: protected mode refuses only non-loopback peers, and only while
//! the default user has no password, with Redis' exact DENIED text.

use rsentinel::server::accept::{DENIED, protected_denied};
use std::net::SocketAddr;

#[test]
fn protected_mode_refuses_only_remote_passwordless() {
    let remote: SocketAddr = "192.0.2.7:5000".parse().unwrap();
    let local: SocketAddr = "127.0.0.1:5000".parse().unwrap();
    let local6: SocketAddr = "[::1]:5000".parse().unwrap();
    let mapped: SocketAddr = "[::ffff:127.0.0.1]:5000".parse().unwrap();
    assert!(protected_denied(true, true, &remote));
    assert!(!protected_denied(true, true, &local));
    assert!(!protected_denied(true, true, &local6));
    assert!(!protected_denied(true, true, &mapped));
    assert!(!protected_denied(false, true, &remote));
    assert!(!protected_denied(true, false, &remote));
}

#[test]
fn denied_text_is_the_redis_one() {
    assert!(DENIED.starts_with("-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user."));
    assert!(DENIED.ends_with(" NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n"));
    // The same string is compiled into the real binary, when it is installed.
    if let Ok(bin) = std::fs::read("/usr/bin/redis-server") {
        let needle = DENIED.trim_end().as_bytes();
        assert!(bin.windows(needle.len()).any(|w| w == needle));
    }
}

/// A failed accept is logged with anet's text, as redis-sentinel 7.0.15 writes it.
#[test]
fn accept_failure_line_is_redis_text() {
    let e = std::io::Error::from_raw_os_error(libc::EMFILE);
    assert_eq!(
        rsentinel::server::accept::accept_error_line(&e),
        "Accepting client connection: accept: Too many open files"
    );
}
