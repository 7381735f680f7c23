//! Vote requests pipelined on one connection (a candidate asking for many masters at
//! once, as in a mass failover) are saved by one config write, performed before any of
//! their replies is written.

use crate::support::resp::{Conn, encode, show};
use crate::support::server::start_with;
use rsentinel::config::{MasterConfig, SentinelConfig, ServerConfig};
use rsentinel::core::Action;
use std::sync::{Arc, Mutex};

const CANDIDATE: &str = "b000000000000000000000000000000000000000";

#[tokio::test]
async fn pipelined_votes_cost_one_config_write_before_their_replies() {
    let sc = SentinelConfig {
        myid: Some("f9351bc32a024bcd4d518040ae807e61bcbe50b5".into()),
        masters: (0..3)
            .map(|k| MasterConfig::new(&format!("m{k}"), "127.0.0.1", 6390 + k, 2))
            .collect(),
        ..Default::default()
    };
    // Per perform call: how many config writes it asked for, and the events it carried.
    let calls = Arc::new(Mutex::new(Vec::<(usize, Vec<String>)>::new()));
    let rec = calls.clone();
    let perform = Box::new(move |_: &rsentinel::core::Sentinel, actions: Vec<Action>| {
        let writes = actions
            .iter()
            .filter(|a| matches!(a, Action::PersistConfig))
            .count();
        let events = actions
            .iter()
            .filter_map(|a| match a {
                Action::Event { channel, .. } => Some(channel.clone()),
                _ => None,
            })
            .collect();
        rec.lock().unwrap().push((writes, events));
        true
    });
    let (_state, addr) = start_with(ServerConfig::default(), sc, perform).await;
    let mut c = Conn::open(addr).await;
    let mut req = Vec::new();
    for k in 0..3u16 {
        let port = (6390 + k).to_string();
        let epoch = (k + 1).to_string();
        req.extend(encode(&[
            "SENTINEL",
            "is-master-down-by-addr",
            "127.0.0.1",
            &port,
            &epoch,
            CANDIDATE,
        ]));
    }
    req.extend(encode(&["PING"]));
    c.send(&req).await;
    for k in 0..3 {
        let r = c.frame().await.expect("a reply");
        assert_eq!(
            show(&r),
            show(format!("*3\r\n:0\r\n$40\r\n{CANDIDATE}\r\n:{}\r\n", k + 1).as_bytes())
        );
    }
    assert_eq!(c.frame().await.expect("PONG"), b"+PONG\r\n");
    // Performed before the replies were written: already recorded here.
    let calls = calls.lock().unwrap().clone();
    let with_writes: Vec<_> = calls.iter().filter(|(w, _)| *w > 0).collect();
    assert_eq!(with_writes.len(), 1, "{calls:?}");
    // Each request raises the epoch and casts a vote (two rewrites asked for each); the
    // runtime's performer writes once per call.
    assert_eq!(with_writes[0].0, 6, "{calls:?}");
    let votes = with_writes[0]
        .1
        .iter()
        .filter(|e| *e == "+vote-for-leader")
        .count();
    assert_eq!(votes, 3, "{calls:?}");
}
