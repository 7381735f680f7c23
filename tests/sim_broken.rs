//! The simulation's checker must catch a real bug, not just pass: one sentinel is made
//! to forget its vote before answering every peer's `SENTINEL` command (its
//! `leader_epoch` reset to 0), so it grants a vote to every candidate of an epoch. Some
//! seed must then be reported as a double vote (or two leaders in one epoch), and the
//! same seed without the injected bug must be clean.

use crate::sim::check::Kind;
use crate::sim::{Options, run};
use rsentinel::core::Sentinel;

/// The injected bug: sentinel 0 forgets which epoch it last voted in.
fn forgetful_voter(node: usize, core: &mut Sentinel) {
    if node == 0 {
        for m in core.test_access().masters.iter_mut() {
            m.leader_epoch = 0;
        }
    }
}

fn options() -> Options {
    Options {
        sentinels: 5,
        admin_failovers: true,
        liveness: false,
        ..Options::default()
    }
}

#[test]
fn checker_reports_the_double_vote() {
    let broken = Options {
        tamper: Some(forgetful_voter),
        ..options()
    };
    let caught = (0..200u64).map(|seed| run(seed, &broken)).find(|o| {
        o.violation
            .as_ref()
            .is_some_and(|v| matches!(v.kind, Kind::DoubleVote | Kind::TwoLeaders))
    });
    let caught = caught.expect("no seed exposed the double vote");
    let v = caught.violation.as_ref().expect("found");
    assert!(v.text.contains("sentinel0"), "{}", caught.report());
    assert!(
        caught
            .report()
            .contains(&format!("SIM_SEED={}", caught.seed))
    );
    // The same seed is clean without the bug: the checker flagged the bug, not noise.
    let clean = run(caught.seed, &options());
    assert!(clean.violation.is_none(), "{}", clean.report());
}

/// Issue #16: the same with redis-sentinel's own election rules (votes of the current
/// epoch counted for a failover of an older one, vote requests in an overtaken epoch,
/// a forced failover's vote granted away, a superseded failover finishing): some seed
/// must be reported by one of the election properties, and be clean with rsentinel's.
#[test]
fn checker_reports_the_upstream_election_flaws() {
    let opts = Options {
        redis: 4,
        ..options()
    };
    let upstream = Options {
        upstream_election: true,
        ..opts.clone()
    };
    let caught = (0..300u64).map(|seed| run(seed, &upstream)).find(|o| {
        o.violation.as_ref().is_some_and(|v| {
            matches!(
                v.kind,
                Kind::StaleVoteRequest
                    | Kind::ElectedWithoutVotes
                    | Kind::TwoLeaders
                    | Kind::ForcedVoteGiven
                    | Kind::SupersededFailover
            )
        })
    });
    let caught = caught.expect("no seed exposed the upstream election rules");
    let clean = run(caught.seed, &opts);
    assert!(clean.violation.is_none(), "{}", clean.report());
}

/// Issue #9: with redis-sentinel's timing (the switch re-dials the new master only after
/// the reconnect throttle, with the old master's ping clock and the peers' cached "down"
/// answers carried over), some seed's liveness failover is followed by a second failover
/// of the healthy new master, and the checker reports it; the same seed is clean with
/// rsentinel's.
#[test]
fn checker_reports_the_upstream_spurious_failover() {
    let opts = Options {
        liveness: true,
        down_after: Some(1000),
        ..Options::calm(10_000)
    };
    let upstream = Options {
        upstream_election: true,
        ..opts.clone()
    };
    let caught = (0..400u64).map(|seed| run(seed, &upstream)).find(|o| {
        o.violation
            .as_ref()
            .is_some_and(|v| v.kind == Kind::SpuriousFailover)
    });
    let caught = caught.expect("no seed exposed the spurious failover");
    let clean = run(caught.seed, &opts);
    assert!(clean.violation.is_none(), "{}", clean.report());
}

/// Issue #14: with redis-sentinel's rules a mass failover (every master of the
/// deployment killed at once) does not switch the masters whose first election had a
/// leader within the 3 s rsentinel meets (its fast failover: 1.3-1.5 s). Note what the
/// simulation shows of the cause: redis-sentinel's vote refusal for epochs older than
/// the current one does not stall its elections here, because it also asks for votes
/// in its *current* epoch and counts them for its older attempt (issue #16's flaw,
/// silenced below with the other known ones), so every master still gets a leader
/// about 2.2 s after the kill; the switches then take until 3.6-4.7 s (10 masters,
/// `mass_failover_times` with `SIM_UPSTREAM=1`). The checker reports `SlowSwitch`;
/// the same seed is clean with rsentinel's rules.
#[test]
fn checker_reports_the_upstream_mass_failover() {
    use crate::sim::multi::Spec;
    use crate::sim::multi_run::run_mass_failover;
    let opts = crate::sim_mass_failover::options(3);
    let spec = Spec {
        masters: 10,
        ..Spec::default()
    };
    // The bound's verdict is all this needs: stop waiting soon after it.
    let short = Spec {
        patience_ms: Some(spec.bound_ms + 1_000),
        ..spec.clone()
    };
    // Upstream's known flaws (#9, #16) are reported on their own first; silenced to
    // reach the liveness check.
    let upstream = Options {
        upstream_election: true,
        skip_checks: crate::sim_mass_failover::upstream_flaws(),
        ..opts.clone()
    };
    let o = run_mass_failover(0, &upstream, &short);
    let v = o
        .outcome
        .violation
        .as_ref()
        .expect("upstream rules too slow");
    assert_eq!(v.kind, Kind::SlowSwitch, "{}", o.outcome.report());
    assert!(v.text.contains("bound 3000 ms"), "{}", o.outcome.report());
    let clean = run_mass_failover(0, &opts, &spec);
    assert!(
        clean.outcome.violation.is_none(),
        "{}",
        clean.outcome.report()
    );
}
