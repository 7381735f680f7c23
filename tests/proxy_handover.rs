//! What the proxy reads from Redis before moving a connection at a coordinated
//! failover (issue #11, `proxy::handover`): which `CLIENT LIST` lines may move, and the
//! commands that give the new connection the same session.

use rsentinel::proxy::handover::{Session, movable, prelude};

/// A Redis 7.0 `CLIENT LIST` line of an idle RESP2 connection, with `changes` applied.
fn line(changes: &[(&str, &str)]) -> String {
    let mut fields = vec![
        ("id", "7"),
        ("addr", "127.0.0.1:40000"),
        ("laddr", "127.0.0.1:6379"),
        ("fd", "9"),
        ("name", ""),
        ("age", "3"),
        ("idle", "0"),
        ("flags", "N"),
        ("db", "0"),
        ("sub", "0"),
        ("psub", "0"),
        ("ssub", "0"),
        ("multi", "-1"),
        ("qbuf", "0"),
        ("qbuf-free", "0"),
        ("obl", "0"),
        ("oll", "0"),
        ("omem", "0"),
        ("tot-mem", "22298"),
        ("events", "r"),
        ("cmd", "set"),
        ("user", "default"),
        ("redir", "-1"),
        ("resp", "2"),
    ];
    for (k, v) in changes {
        match fields.iter_mut().find(|(f, _)| f == k) {
            Some(f) => f.1 = v,
            None => fields.push((k, v)),
        }
    }
    let kv: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    kv.join(" ")
}

#[test]
fn an_idle_connection_moves_with_its_session() {
    let s = movable(
        &line(&[("db", "3"), ("name", "app"), ("resp", "3"), ("flags", "e")]),
        None,
        true,
    )
    .unwrap();
    let want = Session {
        user: "default".into(),
        db: 3,
        name: "app".into(),
        resp3: true,
        no_evict: true,
    };
    assert_eq!(s, want);
}

#[test]
fn state_that_cannot_be_carried_refuses_the_move() {
    for (k, v) in [
        ("qbuf", "26"),
        ("obl", "5"),
        ("oll", "1"),
        ("multi", "2"),
        ("sub", "1"),
        ("psub", "1"),
        ("ssub", "1"),
        ("redir", "0"),
        ("watch", "1"),
        ("flags", "b"),
        ("flags", "x"),
        ("flags", "P"),
        ("flags", "O"),
        ("flags", "t"),
        ("user", "app"),
    ] {
        assert!(movable(&line(&[(k, v)]), None, true).is_err(), "{k}={v}");
    }
    // The probe's own CLIENT INFO has its buffers busy: only state is looked at.
    assert!(movable(&line(&[("qbuf", "26"), ("obl", "40")]), None, false).is_ok());
    // A 7.4 line with no watched keys, and the sentinel's own auth-user.
    assert!(movable(&line(&[("watch", "0")]), None, true).is_ok());
    assert_eq!(
        movable(&line(&[("user", "app")]), Some("app"), true)
            .unwrap()
            .user,
        "app"
    );
}

fn text(cmds: &[Vec<bytes::Bytes>]) -> Vec<String> {
    cmds.iter()
        .map(|c| {
            let parts: Vec<_> = c.iter().map(|p| String::from_utf8_lossy(p)).collect();
            parts.join(" ")
        })
        .collect()
}

#[test]
fn the_prelude_recreates_the_session_and_ends_with_the_token() {
    let s = Session {
        user: "default".into(),
        db: 2,
        name: "n".into(),
        resp3: true,
        no_evict: true,
    };
    assert_eq!(
        text(&prelude(&s, None, Some("pw"), "tok")),
        [
            "AUTH pw",
            "HELLO 3",
            "SELECT 2",
            "CLIENT SETNAME n",
            "CLIENT NO-EVICT on",
            "ECHO tok"
        ]
    );
    let plain = Session {
        user: "default".into(),
        ..Session::default()
    };
    assert_eq!(text(&prelude(&plain, None, None, "tok")), ["ECHO tok"]);
    // The sentinel's credentials name another user: `default` is not given them.
    assert_eq!(
        text(&prelude(&plain, Some("sentinel"), Some("pw"), "tok")),
        ["ECHO tok"]
    );
    let app = Session {
        user: "app".into(),
        ..Session::default()
    };
    assert_eq!(
        text(&prelude(&app, Some("app"), Some("pw"), "tok")),
        ["AUTH app pw", "ECHO tok"]
    );
}
