//! Issue #14, mass failover: many masters monitored by the same sentinels are killed
//! at the same instant (see `tests/sim/multi.rs` and `tests/sim/multi_run.rs`). Every
//! master must end up switched exactly once on every sentinel, to a live promoted
//! replica of its own, within a bound, with every safety invariant holding per master.
//!
//! - `cargo test --test unit sim_mass_failover -- --nocapture` prints the measured times.
//! - More seeds: `SIM_SEEDS=500`; one seed with its trace: `SIM_SEED=<n>`; another
//!   master count: `SIM_MASTERS=<m>` (at most 80 with two replicas each).

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

/// `SIM_MASTERS` or `default`.
pub fn masters(default: usize) -> usize {
    std::env::var("SIM_MASTERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Run every seed; panic with the first violation's report; print the time from the
/// kill to all switched (median and max over the seeds).
fn run_seeds(label: &str, default: u64, opts: &Options, spec: &Spec) -> Vec<MassOutcome> {
    let single = std::env::var("SIM_SEED").is_ok();
    let mut out = Vec::new();
    for seed in seeds(default) {
        let o = run_mass_failover(seed, opts, spec);
        if single {
            println!("{}\n{o:?}", o.outcome.report());
        }
        if o.outcome.violation.is_some() {
            panic!("{}\n{spec:?}", o.outcome.report());
        }
        out.push(o);
    }
    let mut ms: Vec<u64> = out.iter().filter_map(|o| o.all_switched_ms).collect();
    ms.sort_unstable();
    if let (Some(max), Some(median)) = (ms.last(), ms.get(ms.len() / 2)) {
        eprintln!(
            "{label}: {} seeds, {} masters x {} sentinels: all switched after median {median} ms, max {max} ms; switches {} leaders {} promotions {}",
            out.len(),
            spec.masters,
            opts.sentinels,
            out.iter().map(|o| o.switches).sum::<usize>(),
            out.iter().map(|o| o.leaders).sum::<u64>(),
            out.iter().map(|o| o.promotions).sum::<u64>(),
        );
    }
    out
}

#[test]
fn mass_failover_switches_every_master_once() {
    let spec = Spec {
        masters: masters(20),
        ..Spec::default()
    };
    run_seeds("3 sentinels", 30, &options(3), &spec);
}

#[test]
fn mass_failover_with_five_sentinels() {
    let spec = Spec {
        masters: masters(10),
        ..Spec::default()
    };
    run_seeds("5 sentinels", 10, &options(5), &spec);
}
