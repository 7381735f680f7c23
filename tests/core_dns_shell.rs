//! The shell half of hostname resolution: `Action::Resolve` performed on a task, answered
//! with `Event::Resolved`; and the blocking start-up resolution of config names.

use rsentinel::config::{MasterConfig, SentinelConfig};
use rsentinel::core::{Action, Event};
use rsentinel::links::{LinkManager, LinkOptions};
use std::net::IpAddr;
use std::time::Duration;

async fn answer_for(host: &str) -> Event {
    let (links, mut events) = LinkManager::new(LinkOptions::default());
    assert!(links.perform(&Action::Resolve {
        host: host.to_string()
    }));
    let ev = tokio::time::timeout(Duration::from_secs(20), events.recv())
        .await
        .expect("answer in time")
        .expect("channel open");
    // Not about any connection: always accepted.
    events.accept(ev).expect("accepted")
}

#[tokio::test]
async fn localhost_resolves_to_a_loopback_address() {
    match answer_for("localhost").await {
        Event::Resolved { host, ip } => {
            assert_eq!(host, "localhost");
            let ip: IpAddr = ip.expect("localhost resolves").parse().unwrap();
            assert!(ip.is_loopback());
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn an_invalid_name_is_answered_with_none() {
    match answer_for("nonexistent.invalid").await {
        Event::Resolved { host, ip } => {
            assert_eq!(host, "nonexistent.invalid");
            assert_eq!(ip, None);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn config_names_are_resolved_once_each_and_literals_skipped() {
    let mut m = MasterConfig::new("mh", "localhost", 41210, 1);
    m.known_replicas = vec![("LOCALHOST".into(), 41211), ("127.0.0.1".into(), 41212)];
    let mut cfg = SentinelConfig {
        resolve_hostnames: true,
        masters: vec![m],
        ..Default::default()
    };
    let names = rsentinel::runtime::resolve_config_names(&cfg);
    let hosts: Vec<&str> = names.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(hosts, ["LOCALHOST", "localhost"]);
    assert!(names.iter().all(|(_, ip)| ip.is_some()));
    cfg.resolve_hostnames = false;
    assert!(rsentinel::runtime::resolve_config_names(&cfg).is_empty());
}
