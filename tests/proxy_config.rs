//! rsentinel's built-in proxy (issue #11), without sockets: the `sentinel proxy` and
//! `proxy-replicas` directives (file and command line), their rewrite, SENTINEL SET and
//! SENTINEL MASTER, the routing view the core gives the proxy, and INFO's `# Proxy`.

use crate::support::fixture::*;
use crate::support::resp::*;
use rsentinel::commands::info::{render, selected_sections};
use rsentinel::config::{ServerConfig, args_to_lines, load, rewrite_text};
use rsentinel::core::instance::{FailoverState, flags};
use rsentinel::core::{Action, Identity, Sentinel};
use rsentinel::shell::Shell;
use rsentinel::state::{ProcessInfo, State};
use std::path::Path;
use std::sync::Arc;

const BASE: &str = "port 26379\nsentinel monitor mymaster 127.0.0.1 6379 2\n";

fn load_text(dir: &Path, text: &str, overrides: &[Vec<String>]) -> rsentinel::config::Loaded {
    let p = dir.join("sentinel.conf");
    std::fs::write(&p, text).unwrap();
    load(&p, overrides).unwrap()
}

fn load_err(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("sentinel.conf");
    std::fs::write(&p, text).unwrap();
    load(&p, &[]).unwrap_err().to_string()
}

#[test]
fn directives_load_from_the_file_and_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{BASE}sentinel proxy mymaster 6380\n");
    let l = load_text(dir.path(), &text, &[]);
    assert_eq!(l.sentinel.masters[0].proxy_port, 6380);
    assert_eq!(l.sentinel.masters[0].proxy_replicas_port, 0);

    let args: Vec<String> = [
        "s.conf",
        "--sentinel",
        "proxy-replicas",
        "mymaster",
        "6381",
        "--sentinel",
        "proxy",
        "mymaster",
        "6390",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (_, overrides) = args_to_lines(&args);
    let l = load_text(dir.path(), &text, &overrides);
    assert_eq!(l.sentinel.masters[0].proxy_port, 6390);
    assert_eq!(l.sentinel.masters[0].proxy_replicas_port, 6381);
}

#[test]
fn directives_are_validated_like_the_other_master_options() {
    let bad_port = load_err(&format!("{BASE}sentinel proxy mymaster 70000\n"));
    assert!(bad_port.contains("Invalid port number."), "{bad_port}");
    let no_master = load_err(&format!("{BASE}sentinel proxy-replicas other 6380\n"));
    assert!(
        no_master.contains("No such master with specified name."),
        "{no_master}"
    );
    let arity = load_err(&format!("{BASE}sentinel proxy mymaster\n"));
    assert!(
        arity.contains("Unrecognized sentinel configuration statement."),
        "{arity}"
    );
}

#[test]
fn rewrite_keeps_the_lines_in_place_and_blanks_them_when_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        format!("{BASE}sentinel proxy mymaster 6380\nsentinel proxy-replicas mymaster 6381\n");
    let l = load_text(dir.path(), &text, &[]);
    let server = ServerConfig {
        dir: Some("/tmp".into()),
        ..l.server.clone()
    };
    let out = rewrite_text(&text, &l.generic, &server, &l.sentinel);
    assert!(out.contains("\nsentinel proxy mymaster 6380\n"), "{out}");
    assert!(
        out.contains("\nsentinel proxy-replicas mymaster 6381\n"),
        "{out}"
    );
    // Reused in place: a second rewrite keeps exactly one of each.
    let again = rewrite_text(&out, &l.generic, &server, &l.sentinel);
    assert_eq!(again.matches("sentinel proxy mymaster 6380").count(), 1);
    assert_eq!(again.matches("sentinel proxy-replicas").count(), 1);

    let mut off = l.sentinel.clone();
    off.masters[0].proxy_port = 0;
    let out = rewrite_text(&text, &l.generic, &server, &off);
    assert!(!out.contains("sentinel proxy mymaster"), "{out}");
    assert!(
        out.contains("sentinel proxy-replicas mymaster 6381"),
        "{out}"
    );

    // A config without a proxy rewrites exactly as without the feature.
    let plain = load_text(dir.path(), BASE, &[]);
    let out = rewrite_text(BASE, &plain.generic, &server, &plain.sentinel);
    assert!(!out.contains("proxy"), "{out}");
}

/// The field names of SENTINEL MASTER mymaster, in order.
fn master_fields(core: &mut Sentinel) -> Vec<(String, String)> {
    let r = resp2(&run(core, "SENTINEL MASTER mymaster"));
    flat_pairs(&r)
}

fn flat_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(bytes);
    let mut vals = Vec::new();
    let mut lines = text.split("\r\n").skip(1);
    while let Some(l) = lines.next() {
        if l.starts_with('$') {
            vals.push(lines.next().unwrap_or("").to_string());
        }
    }
    vals.chunks(2)
        .map(|c| (c[0].clone(), c.get(1).cloned().unwrap_or_default()))
        .collect()
}

#[test]
fn sentinel_set_turns_the_ports_on_and_off_and_master_shows_them_last() {
    let mut core = core_from(&config(vec![master_cfg()]));
    let before = master_fields(&mut core);
    assert!(!before.iter().any(|(k, _)| k.starts_with("proxy")));

    let reply = resp2(&run(
        &mut core,
        "SENTINEL SET mymaster proxy 6380 proxy-replicas 6381",
    ));
    assert_eq!(reply, b"+OK\r\n");
    let actions = core.drain_actions();
    assert_eq!(
        events(&actions),
        vec![
            (
                "+set".to_string(),
                "master mymaster 127.0.0.1 41000 proxy 6380".to_string()
            ),
            (
                "+set".to_string(),
                "master mymaster 127.0.0.1 41000 proxy-replicas 6381".to_string()
            ),
        ]
    );
    assert!(actions.iter().any(|a| matches!(a, Action::PersistConfig)));
    let after = master_fields(&mut core);
    assert_eq!(after[..before.len()], before[..]);
    assert_eq!(
        after[before.len()..],
        [
            ("proxy".to_string(), "6380".to_string()),
            ("proxy-replicas".to_string(), "6381".to_string())
        ]
    );
    let snap = core.config_snapshot();
    assert_eq!(snap.masters[0].proxy_port, 6380);
    assert_eq!(snap.masters[0].proxy_replicas_port, 6381);

    let reply = resp2(&run(&mut core, "SENTINEL SET mymaster proxy 0"));
    assert_eq!(reply, b"+OK\r\n");
    let fields = master_fields(&mut core);
    assert!(!fields.iter().any(|(k, _)| k == "proxy"));
    assert_eq!(core.config_snapshot().masters[0].proxy_port, 0);

    for bad in ["70000", "-1", "x"] {
        let reply = resp2(&run(
            &mut core,
            &format!("SENTINEL SET mymaster proxy {bad}"),
        ));
        let want = format!("-ERR Invalid argument '{bad}' for SENTINEL SET 'proxy'\r\n");
        assert_eq!(show(&reply), show(want.as_bytes()));
    }
}

#[test]
fn sentinel_set_refuses_a_port_the_sentinel_already_listens_on() {
    let mut other = master_cfg();
    other.name = "other".into();
    other.port = 42000;
    other.proxy_port = 6390;
    let mut core = core_from(&config(vec![master_cfg(), other]));
    let own = core.identity().port;
    let cases = [
        (
            "proxy 6390".to_string(),
            "-ERR Proxy port 6390 is already used by master 'other'\r\n".to_string(),
        ),
        (
            "proxy-replicas 6390".to_string(),
            "-ERR Proxy port 6390 is already used by master 'other'\r\n".to_string(),
        ),
        (
            format!("proxy {own}"),
            format!("-ERR Proxy port {own} is this sentinel's own port\r\n"),
        ),
    ];
    for (args, want) in cases {
        let reply = resp2(&run(&mut core, &format!("SENTINEL SET mymaster {args}")));
        assert_eq!(show(&reply), show(want.as_bytes()), "{args}");
    }
    // The same master's write and read ports may not be one port either; setting a
    // port again is fine.
    let ok = |core: &mut Sentinel, args: &str| {
        resp2(&run(core, &format!("SENTINEL SET mymaster {args}")))
    };
    assert_eq!(ok(&mut core, "proxy 6380"), b"+OK\r\n");
    assert_eq!(ok(&mut core, "proxy 6380"), b"+OK\r\n");
    let want = b"-ERR Proxy port 6380 is already used by master 'mymaster'\r\n";
    assert_eq!(show(&ok(&mut core, "proxy-replicas 6380")), show(want));
    assert_eq!(core.config_snapshot().masters[0].proxy_replicas_port, 0);
}

/// A core watching mymaster (41000) with replicas 41001 and 41002, all links up, the
/// replicas replicating; proxy ports set.
fn routed_core() -> Sentinel {
    let mut m = master_cfg();
    m.known_replicas = vec![("127.0.0.1".into(), 41001), ("127.0.0.1".into(), 41002)];
    m.proxy_port = 6380;
    m.proxy_replicas_port = 6381;
    let mut core = core_from(&config(vec![m]));
    connect_all(&mut core);
    healthy_replicas(&mut core, 41000);
    core
}

#[test]
fn the_routing_view_fences_on_odown_and_failover_and_follows_the_promotion() {
    let mut core = routed_core();
    let v = core.route_view(0);
    assert_eq!(v.master, ("127.0.0.1".to_string(), 41000));
    assert_eq!((v.port, v.replicas_port, v.fenced), (6380, 6381, false));
    assert_eq!(
        v.replicas,
        vec![
            ("127.0.0.1".to_string(), 41001),
            ("127.0.0.1".to_string(), 41002)
        ]
    );
    assert_eq!(core.proxy_routes(), vec![v]);

    // SDOWN alone does not fence; ODOWN does; so does a failover in progress.
    core.test_access().masters[0].common.flags |= flags::S_DOWN;
    assert!(!core.route_view(0).fenced);
    core.test_access().masters[0].common.flags |= flags::O_DOWN;
    assert!(core.route_view(0).fenced);
    {
        let t = core.test_access();
        t.masters[0].common.flags &= !(flags::O_DOWN | flags::S_DOWN);
        t.masters[0].common.flags |= flags::FAILOVER_IN_PROGRESS;
        t.masters[0].failover_state = FailoverState::WaitPromotion;
        t.masters[0].promoted = Some("127.0.0.1:41001".into());
    }
    let v = core.route_view(0);
    assert!(v.fenced);
    assert_eq!(v.master.1, 41000);

    // Promotion confirmed: the promoted replica is the master of the new epoch.
    {
        let t = core.test_access();
        t.masters[0].failover_state = FailoverState::ReconfSlaves;
        t.masters[0].common.flags |= flags::O_DOWN;
    }
    let v = core.route_view(0);
    assert!(!v.fenced);
    assert_eq!(v.master, ("127.0.0.1".to_string(), 41001));
    assert_eq!(v.replicas, vec![("127.0.0.1".to_string(), 41002)]);
}

#[test]
fn the_read_set_skips_replicas_down_unlinked_or_not_replicating() {
    let mut core = routed_core();
    core.test_access().masters[0].replicas[0].common.flags |= flags::S_DOWN;
    assert_eq!(core.route_view(0).replicas.len(), 1);
    core.test_access().masters[0].replicas[0].common.flags &= !flags::S_DOWN;
    core.test_access().masters[0].replicas[1].master_link_status_up = false;
    assert_eq!(
        core.route_view(0).replicas,
        vec![("127.0.0.1".to_string(), 41001)]
    );
    // Masters without a proxy port are not routed at all.
    let plain = core_from(&config(vec![master_cfg()]));
    assert!(plain.proxy_routes().is_empty());
}

fn info_text(core: Sentinel, args: &[&str]) -> String {
    let shell = Shell::new(core, Box::new(|_, _| true));
    let state = State::new(ServerConfig::default(), ProcessInfo::default());
    let args: Vec<bytes::Bytes> = args
        .iter()
        .map(|a| bytes::Bytes::from(a.to_string()))
        .collect();
    render(&state, &shell, &selected_sections(&args))
}

#[test]
fn info_has_a_proxy_section_only_when_configured_or_asked() {
    let plain = || {
        Sentinel::new(
            &config(vec![master_cfg()]),
            Identity::default(),
            7,
            1_000_000,
        )
    };
    for args in [&[][..], &["all"], &["everything"], &["default"]] {
        assert!(!info_text(plain(), args).contains("# Proxy"), "{args:?}");
        assert!(
            info_text(routed_core(), args).contains("# Proxy"),
            "{args:?}"
        );
    }
    let asked = info_text(plain(), &["proxy"]);
    assert!(
        asked.starts_with("# Proxy\r\nproxy_masters:0\r\n"),
        "{asked}"
    );
    let text = info_text(routed_core(), &["proxy"]);
    assert!(
        text.contains(
            "proxy0:name=mymaster,port=6380,replicas_port=6381,status=ok,\
             address=127.0.0.1:41000,config_epoch=0,healthy_replicas=2,"
        ),
        "{text}"
    );
    // The sections keep redis' separator.
    let all = info_text(routed_core(), &[]);
    assert!(all.contains("\r\n\r\n# Proxy\r\n"), "{all}");
}

#[test]
fn the_shell_observer_sees_every_call() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let shell = Shell::new(routed_core(), Box::new(|_, _| true)).observed_by(Box::new(
        move |c: &Sentinel| sink.lock().unwrap().push(c.proxy_routes().len()),
    ));
    shell.with_core(|_, _| ());
    shell.with_core(|_, _| ());
    assert_eq!(*seen.lock().unwrap(), vec![1, 1]);
}

#[test]
fn open_connections_forward_hold_or_close_by_the_view() {
    use rsentinel::proxy::Kind;
    use rsentinel::proxy::conn::{Verdict, verdict};
    let core = routed_core();
    let mut v = core.route_view(0);
    let master = ("127.0.0.1".to_string(), 41000);
    let replica = ("127.0.0.1".to_string(), 41001);
    let routes = |v: &rsentinel::core::route::RouteView| Arc::new(vec![v.clone()]);
    assert_eq!(
        verdict(&routes(&v), "mymaster", Kind::Master, &master),
        Verdict::Forward
    );
    assert_eq!(
        verdict(&routes(&v), "mymaster", Kind::Replicas, &replica),
        Verdict::Forward
    );
    // A replica is not a target of the write port.
    assert_eq!(
        verdict(&routes(&v), "mymaster", Kind::Master, &replica),
        Verdict::Close
    );
    v.fenced = true;
    assert_eq!(
        verdict(&routes(&v), "mymaster", Kind::Master, &master),
        Verdict::Hold
    );
    // The switch: the old master is no longer a target.
    v.fenced = false;
    v.master = replica.clone();
    assert_eq!(
        verdict(&routes(&v), "mymaster", Kind::Master, &master),
        Verdict::Close
    );
    // Port turned off, master removed.
    v.port = 0;
    assert_eq!(
        verdict(&routes(&v), "mymaster", Kind::Master, &replica),
        Verdict::Close
    );
    assert_eq!(
        verdict(&Arc::new(vec![]), "mymaster", Kind::Replicas, &replica),
        Verdict::Close
    );
}
