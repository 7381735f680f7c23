//! Seeded fuzzing of the pure core: random and mutated INFO replies, hello payloads
//! (direct and as pub/sub messages), replies of any shape to every pending request,
//! mutated golden SENTINEL command lines, connection churn and clock jumps (backwards
//! too). The core must never panic, and the state it persists must always render to a
//! config file that loads back to the same state.

mod driver;

use crate::support::golden;
use crate::support::robust_seed;
use bytes::Bytes;
use driver::*;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rsentinel::commands::sentinel::sentinel_command;
use rsentinel::core::{Action, Event};

/// The RNG the shared driver draws from here.
type DriverRng = StdRng;

#[test]
fn random_inputs_keep_the_core_sane() {
    let infos = golden_infos();
    let hellos = hello_payloads();
    let cmds = golden_commands();
    assert!(infos.len() > 3 && hellos.len() > 3 && cmds.len() > 100);
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(robust_seed(11));
    for _run in 0..12 {
        let mut w = World::new();
        w.feed(Event::Tick);
        for i in 0..1500 {
            w.step(&mut rng, &infos, &hellos, &cmds);
            if i % 50 == 0 {
                check_persisted(&w.core, dir.path(), w.names_allowed);
            }
        }
        check_persisted(&w.core, dir.path(), w.names_allowed);
    }
}

/// A hello whose address redis-sentinel could not resolve adds no sentinel and moves
/// no master (it used to be stored and then made the rewritten config unloadable).
#[test]
fn hello_with_unusable_address_changes_nothing() {
    let mut w = World::new();
    w.feed(Event::Tick);
    let before = w.core.config_snapshot();
    let bad_peer = format!("a b,41101,{},0,mymaster,127.0.0.1,41000,0", PEERS[0]);
    w.core.handle(
        w.now,
        Event::Hello {
            payload: Bytes::from(bad_peer),
        },
    );
    let logs: Vec<String> = w
        .core
        .drain_actions()
        .into_iter()
        .filter_map(|a| match a {
            Action::Log { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(logs, ["Failed to resolve hostname 'a b'"]);
    assert_eq!(w.core.config_snapshot(), before);
    // A valid peer announcing a newer config with an unusable master address.
    let good_peer = format!("127.0.0.1,41101,{},0,mymaster,127.0.0.1,41000,0", PEERS[0]);
    w.core.handle(
        w.now,
        Event::Hello {
            payload: Bytes::from(good_peer),
        },
    );
    let switch = format!("127.0.0.1,41101,{},5,mymaster,\"x\",41009,5", PEERS[0]);
    w.core.handle(
        w.now,
        Event::Hello {
            payload: Bytes::from(switch),
        },
    );
    let snap = w.core.config_snapshot();
    assert_eq!(snap.masters[0].host, "127.0.0.1");
    assert_eq!(snap.masters[0].port, 41000);
    assert_eq!(snap.masters[0].known_sentinels.len(), 1);
}

/// The epoch is a uint64 in Redis: a vote request for epoch -1 sets it to the maximum
/// (the same cast as redis-sentinel), and a
/// failover started there wraps instead of panicking.
#[test]
fn failover_at_the_maximum_epoch_does_not_overflow() {
    let mut w = World::new();
    let args: Vec<Bytes> = [
        "SENTINEL",
        "IS-MASTER-DOWN-BY-ADDR",
        "127.0.0.1",
        "41000",
        "-1",
        PEERS[0],
    ]
    .iter()
    .map(|s| Bytes::copy_from_slice(s.as_bytes()))
    .collect();
    let _ = sentinel_command(&mut w.core, w.now, &args);
    assert_eq!(w.core.config_snapshot().current_epoch, u64::MAX);
    w.core.test_start_failover(w.now, 0);
    assert_eq!(w.core.config_snapshot().current_epoch, 0);
}
