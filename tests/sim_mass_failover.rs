//! Issue #14, mass failover: many masters monitored by the same sentinels are killed
//! at the same instant (see `tests/sim/multi.rs` and `tests/sim/multi_run.rs`). Every
//! master must end up switched exactly once on every sentinel, to a live promoted
//! replica of its own, within a bound, with every safety invariant holding per master.
//!
//! - `cargo test --test unit sim_mass_failover -- --nocapture` prints the measured times.
//! - More seeds: `SIM_SEEDS=500`; one seed with its trace: `SIM_SEED=<n>`; another
//!   master count: `SIM_MASTERS=<m>` (at most 84: all instances share one /24).
//! - Times per seed, rsentinel's or redis-sentinel's rules, calm or faulty network:
//!   `cargo test --test unit mass_failover_times -- --ignored --nocapture`.
//!
//! Measured (simulated time from the kill until every sentinel switched every master,
//! down-after 1000, failover-timeout 10-30 s drawn per seed): rsentinel, 10 masters,
//! 3 sentinels, 100 seeds: median 1.39 s, 1.29-1.51 s without a split election; 3
//! seeds split (37.7-57.7 s, one retry round); 1 seed (84) promoted twice. 5
//! sentinels, 30 seeds: median 1.39 s, at most 1.48 s; 3 split (41.7-61.7 s), 2 (5,
//! 26) promoted twice. 40 masters, 10 seeds: 1.36-1.46 s. redis-sentinel's rules: 10
//! masters 4.39-4.73 s (20 seeds), 40 masters 5.40-6.18 s, 5 sentinels 4.42-5.54 s.
//! Under 20 s of network faults (60 + 30 seeds) no invariant broke; with sentinel
//! crashes too, restarted sentinels that win an election but find no good replica
//! (their view of the master's down time restarts, the replicas' link-down time does
//! not) delay some masters past the retry bound, as redis-sentinel would.

use crate::sim::check::Kind;
use crate::sim::multi::Spec;
use crate::sim::multi_run::{MassOutcome, run_mass_failover};
use crate::sim::{Options, seeds};

/// The sentinels' side of every run: no chaos phase, no single-master liveness.
pub fn options(sentinels: usize) -> Options {
    Options {
        sentinels,
        ..Options::calm(0)
    }
}

/// What redis-sentinel's rules are already known to break (issues #9 and #16, see
/// `sim_broken`), silenced where a test looks at the mass failover's liveness alone.
pub fn upstream_flaws() -> Vec<Kind> {
    vec![
        Kind::StaleVoteRequest,
        Kind::ElectedWithoutVotes,
        Kind::TwoLeaders,
        Kind::ForcedVoteGiven,
        Kind::SupersededFailover,
        Kind::SpuriousFailover,
    ]
}

/// `SIM_MASTERS` or `default`.
pub fn masters(default: usize) -> usize {
    std::env::var("SIM_MASTERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Seeds of the default tests' settings (10 masters) that elected a second leader
/// before the vote hold (`Sentinel::vote_held`), replayed by
/// `second_leader_seeds_elect_one_leader` (the diagnosis is there): 3 sentinels, then 5.
const KNOWN_3: &[u64] = &[84];
const KNOWN_5: &[u64] = &[5, 26];

/// Run every seed but the `known` failures (unless `SIM_SEED` names one); panic with
/// the first violation's report; print the time from the kill to all switched (median
/// and max over the seeds).
fn run_seeds(
    label: &str,
    default: u64,
    opts: &Options,
    spec: &Spec,
    known: &[u64],
) -> Vec<MassOutcome> {
    let single = std::env::var("SIM_SEED").is_ok();
    let mut out = Vec::new();
    for seed in seeds(default) {
        if known.contains(&seed) && !single {
            continue;
        }
        let o = run_mass_failover(seed, opts, spec);
        if single {
            println!("{}\n{o:?}", o.outcome.report());
        }
        if o.outcome.violation.is_some() {
            panic!(
                "{}\n{spec:?}\nreplay this one: SIM_SEED={seed} SIM_TRACE=100000 cargo test --test unit sim_mass_failover:: -- --nocapture (with SIM_MASTERS={} for the default-count tests)",
                o.outcome.report(),
                spec.masters
            );
        }
        out.push(o);
    }
    let mut ms: Vec<u64> = out.iter().filter_map(|o| o.all_switched_ms).collect();
    ms.sort_unstable();
    if let (Some(max), Some(median)) = (ms.last(), ms.get(ms.len() / 2)) {
        eprintln!(
            "{label}: {} seeds, {} masters x {} sentinels: all switched after median {median} ms, max {max} ms; masters retried after a split election {} tries {} not elected {} leaders {} promotions {} (in the model {}) switches {}",
            out.len(),
            spec.masters,
            opts.sentinels,
            out.iter().map(|o| o.retried).sum::<usize>(),
            out.iter().map(|o| o.tries).sum::<u64>(),
            out.iter().map(|o| o.not_elected).sum::<u64>(),
            out.iter().map(|o| o.leaders).sum::<u64>(),
            out.iter().map(|o| o.promotions).sum::<u64>(),
            out.iter().map(|o| o.model_promotions).sum::<u64>(),
            out.iter().map(|o| o.switches).sum::<usize>(),
        );
    }
    out
}

/// 3 sentinels, 10 masters (`SIM_MASTERS`) with 1-2 replicas each, down-after 1000:
/// the default run's many seeds. Seed 12 shows the split election (all three sentinels
/// start an attempt for master1, and another for master2, in one epoch within 7 ms,
/// each votes for itself): those two masters are switched only by the retry 2 x
/// failover-timeout later, 41.4 s after the kill, within the retry bound.
#[test]
fn mass_failover_switches_every_master_once() {
    let spec = Spec {
        masters: masters(10),
        ..Spec::default()
    };
    run_seeds("3 sentinels", 50, &options(3), &spec, &[]);
}

/// The same at 40 masters (120 instances), fewer seeds: a step costs more with every
/// master each sentinel watches.
#[test]
fn mass_failover_of_forty_masters() {
    let spec = Spec {
        masters: 40,
        ..Spec::default()
    };
    run_seeds("40 masters", 1, &options(3), &spec, &[]);
}

/// 5 sentinels, quorum 3: a majority of votes is three.
#[test]
fn mass_failover_with_five_sentinels() {
    let spec = Spec {
        masters: masters(10),
        ..Spec::default()
    };
    run_seeds("5 sentinels", 6, &options(5), &spec, &[]);
}

/// Network faults (slow links with resets, partitions, an isolated sentinel) for the
/// first 20 s after the kill. A failover stalled by a partition may need its timeout
/// (10-30 s) and a retry after twice that, so the bound is wide, and a master may be
/// switched twice (a retry promoting another replica); the safety invariants must hold
/// and every master must end up on one live master of its own replicas.
#[test]
fn mass_failover_under_network_faults() {
    let spec = Spec {
        masters: masters(10),
        fault_ms: 20_000,
        exactly_once: false,
        ..Spec::default()
    };
    run_seeds("network faults", 2, &options(3), &spec, &[]);
}

/// Known failures of rsentinel's rules (found by this scenario; `src/` unchanged).
///
/// Two sentinels both win an election for the same master, in different epochs, a few
/// milliseconds apart, and both promote (reported as the second `SLAVEOF NO ONE`
/// reaches a replica while another one of the same master is its master already).
/// Seed 84 (3 sentinels, 10 masters) does it to master0 (s0 elected in epoch 5, s2 in
/// epoch 7, 14 ms later) and to master7:
/// s0 asks for votes in epoch 6 and s2, which had not heard of it yet, in epoch 9 (its
/// per-master attempt epochs run ahead, taken by the other masters' attempts); s1
/// votes s0 (epoch 6), s0 is elected and sends SLAVEOF NO ONE to one replica; 5 ms
/// later s1 *and s0 itself* grant s2 the vote for epoch 9 (per-master rule: any epoch
/// newer than this master's last vote, at or above its config epoch), s2 is elected
/// and promotes the other replica: two writable masters of master7 until s0 learns
/// epoch 9 from a hello (~150 ms), and s1 switches twice (to .23, then .22). Seeds 5
/// and 26 (5 sentinels): the same double election, where the second leader's SLAVEOF
/// NO ONE reaches the replica the first leader is re-pointing, after its re-point:
/// that replica stays a second master for ~10 s, until the first leader's
/// reconfiguration timeout re-points it, and the switch of every sentinel waits for it
/// (11.5 s instead of 1.4). Not new with per-master elections: redis-sentinel's rules
/// do the same (`mass_failover_times` with `SIM_UPSTREAM=1`: 40 masters seed 2,
/// master38; 5 sentinels seed 3, master8). Fixed by the vote hold in
/// `src/core/vote.rs`: for as long as the election it voted in can run, a sentinel
/// grants no other candidate a newer epoch for that master (300 seeds of
/// `mass_failover_times`: 5 double promotions before, none after).
#[test]
fn second_leader_seeds_elect_one_leader() {
    let spec = Spec {
        masters: 10,
        ..Spec::default()
    };
    let runs = KNOWN_3
        .iter()
        .map(|&s| (3, s))
        .chain(KNOWN_5.iter().map(|&s| (5, s)));
    let failed: Vec<String> = runs
        .filter_map(|(n, seed)| {
            let o = run_mass_failover(seed, &options(n), &spec);
            let v = o.outcome.violation?;
            Some(format!(
                "{n} sentinels seed {seed}: {:?} {}",
                v.kind, v.text
            ))
        })
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

/// A known liveness failure (5 sentinels, network faults for 20 s, seed 3; `src/`
/// unchanged): master3's election splits three times. Four sentinels start attempts
/// within 180 ms during the faults (3.7 s after the kill) and none wins; all abort at
/// the election timeout and retry together 2 x failover-timeout later (54.1 s, three
/// candidates within 11 ms, calm network by then): split again; the third round (104.5
/// s) has one candidate and wins. The retry rounds stay in step because every candidate
/// aborted at the same time and waits the same 2 x failover-timeout (only a sentinel
/// that voted for another gets up to 1 s of jitter), and per-master elections ask in
/// the attempt's own epoch, so unlike redis-sentinel's rules (which ask in the newest
/// epoch, #16) no other master's attempt breaks the tie. A randomized delay before an
/// attempt (as Raft randomizes election timeouts) would desynchronize them. Fails
/// until then.
#[test]
#[ignore]
fn known_repeated_split_election_seed() {
    let spec = Spec {
        masters: 10,
        fault_ms: 20_000,
        exactly_once: false,
        ..Spec::default()
    };
    let o = run_mass_failover(3, &options(5), &spec);
    assert!(o.outcome.violation.is_none(), "{}", o.outcome.report());
}

/// The measurement behind the bound and `sim_broken::checker_reports_the_upstream_mass_failover`:
/// per seed, how long until every master is switched on every sentinel, waiting up to
/// 10 minutes of simulated time, with rsentinel's rules or (`SIM_UPSTREAM=1`)
/// redis-sentinel's (their known flaws silenced). Slow where a seed needs retries, so
/// ignored; run with `--ignored --nocapture` (`SIM_SEEDS`, `SIM_MASTERS`,
/// `SIM_SENTINELS` apply; `SIM_FAULT_MS=20000` adds the network faults of
/// `mass_failover_under_network_faults`, `SIM_CRASHES=1` sentinel crashes too).
#[test]
#[ignore]
fn mass_failover_times() {
    let upstream = std::env::var("SIM_UPSTREAM").is_ok_and(|v| v == "1");
    let sentinels = std::env::var("SIM_SENTINELS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let fault_ms = std::env::var("SIM_FAULT_MS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let spec = Spec {
        masters: masters(10),
        patience_ms: Some(600_000),
        fault_ms,
        crashes: std::env::var("SIM_CRASHES").is_ok_and(|v| v == "1"),
        exactly_once: fault_ms == 0,
        ..Spec::default()
    };
    let opts = Options {
        upstream_election: upstream,
        skip_checks: if upstream {
            upstream_flaws()
        } else {
            Vec::new()
        },
        ..options(sentinels)
    };
    let mut ms = Vec::new();
    for seed in seeds(10) {
        let o = run_mass_failover(seed, &opts, &spec);
        eprintln!(
            "upstream={upstream} seed {seed}: all switched after {:?} ms ({} of {} pairs), {} retried, {} tries, {} not elected, {} leaders, {} promotions ({} in the model), {} switches, violation {:?}",
            o.all_switched_ms,
            o.switched_pairs,
            o.pairs,
            o.retried,
            o.tries,
            o.not_elected,
            o.leaders,
            o.promotions,
            o.model_promotions,
            o.switches,
            o.outcome.violation.as_ref().map(|v| (v.kind, &v.text))
        );
        if std::env::var("SIM_SEED").is_ok() {
            println!("{}", o.outcome.report());
        }
        ms.push(o.all_switched_ms.unwrap_or(u64::MAX));
    }
    ms.sort_unstable();
    let over = |b: u64| ms.iter().filter(|&&m| m > b).count();
    eprintln!(
        "upstream={upstream}: {} seeds, median {} ms, max {} ms, over 3 s: {}, over 20 s: {}",
        ms.len(),
        ms[ms.len() / 2],
        ms[ms.len() - 1],
        over(3_000),
        over(20_000)
    );
}
