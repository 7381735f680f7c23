//! Hello messages (`__sentinel__:hello` payloads, from the channel or PUBLISH): the core
//! never panics, and its persisted state still renders to a config that loads back.
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rsentinel::config::GenericStore;
use rsentinel::config::{MasterConfig, SentinelConfig, ServerConfig, load, rewrite_text};
use rsentinel::core::{Event, Identity, Sentinel};

fuzz_target!(|data: &[u8]| {
    let mut m = MasterConfig::new("mymaster", "127.0.0.1", 41000, 2);
    m.down_after_ms = 2000;
    let cfg = SentinelConfig {
        myid: Some("0123456789abcdef0123456789abcdef01234567".into()),
        masters: vec![m],
        ..Default::default()
    };
    let id = Identity {
        port: 41100,
        ..Default::default()
    };
    let mut now = 1_000_000;
    let mut core = Sentinel::new(&cfg, id, 7, now);
    // Several payloads separated by NUL, each followed by a tick.
    for payload in data.split(|&b| b == 0) {
        core.handle(
            now,
            Event::Hello {
                payload: Bytes::copy_from_slice(payload),
            },
        );
        now += 100;
        core.handle(now, Event::Tick);
        let _ = core.drain_actions();
    }
    let snap = core.config_snapshot();
    let is_ip = |h: &str| h.parse::<std::net::IpAddr>().is_ok();
    if snap
        .masters
        .iter()
        .any(|m| m.known_sentinels.iter().any(|s| !is_ip(&s.0)) || !is_ip(&m.host))
    {
        return;
    }
    let dir = std::env::temp_dir().join(format!("rsentinel-fuzz-hello-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = ServerConfig {
        dir: Some(dir.display().to_string()),
        ..Default::default()
    };
    let text = rewrite_text("", &GenericStore::default(), &server, &snap);
    let path = dir.join("sentinel.conf");
    std::fs::write(&path, &text).unwrap();
    let loaded = load(&path, &[]).unwrap_or_else(|e| panic!("unloadable:\n{text}\n{e}"));
    let mut expected = snap.clone();
    for m in &snap.masters {
        expected.current_epoch = expected.current_epoch.max(m.config_epoch);
    }
    assert_eq!(loaded.sentinel, expected, "{text}");
});
