//! A deterministic simulation of a whole Sentinel deployment.
//!
//! N real [`rsentinel::core::Sentinel`] cores and M model Redis instances live on one
//! simulated clock and one simulated network, and every random choice (message delays,
//! tick rates, faults, run ids) comes from a single seeded `StdRng`. A seed therefore
//! replays a run exactly, which is what makes a failing run debuggable: the harness
//! prints the seed and the last steps, and `SIM_SEED=<n>` runs that seed alone.
//!
//! Layout:
//! - [`world`]: the event queue and the main loop (ticks, deliveries, faults).
//! - [`net`]: connections as ordered per-direction streams, partitions, resets.
//! - [`redis`]: the model Redis (roles, replication offsets, INFO, pub/sub, MULTI);
//!   [`handover`]: its `FAILOVER TO` / `CLIENT PAUSE` (coordinated failover, #10).
//! - [`peer`]: sentinel nodes (core, clock offset, persisted config) and what a core
//!   answers when a peer talks to it.
//! - [`faults`]: the seed-driven fault schedule and the final heal.
//! - [`multi`]: a world of many independent masters watched by the same sentinels
//!   (issue #14), [`multi_run`]: the mass failover run on it and its checks.
//! - [`check`]: the safety invariants, checked after every step, and liveness.
//! - [`trace`]: a ring buffer of the last steps, printed on failure.
//! - [`golden_mode`]: the same world without chance (no latency, fixed tick phases, no
//!   faults, an explicit topology), for the failover tests that compare event
//!   sequences with the golden captures; [`record`]: what those tests read.

pub mod check;
pub mod deliver;
pub mod faults;
pub mod golden_mode;
pub mod handover;
pub mod multi;
pub mod multi_run;
pub mod net;
pub mod peer;
pub mod record;
pub mod redis;
pub mod trace;
pub mod world;

use rsentinel::core::Sentinel;

/// Simulated time in milliseconds (the global clock; cores may see it shifted).
pub type Time = u64;

/// Where the simulation starts, far from 0 so clock jumps backwards stay positive.
pub const START: Time = 1_700_000_000_000;

/// A process on the simulated network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeId {
    Redis(usize),
    Sentinel(usize),
}

/// What one run looks like. Everything not listed here is drawn from the seed.
#[derive(Clone)]
pub struct Options {
    pub sentinels: usize,
    pub redis: usize,
    /// How long faults are injected.
    pub chaos_ms: u64,
    /// Fault-free time after the final heal, before the liveness checks.
    pub quiet_ms: u64,
    pub faults: bool,
    /// Also issue `SENTINEL FAILOVER` to random sentinels (forced failovers are exempt
    /// from the one-leader and config checks: redis-sentinel forces them without votes).
    pub admin_failovers: bool,
    /// The operator's failovers are `SENTINEL FAILOVER <name> COORDINATED` (issue #10).
    pub coordinated: bool,
    /// Check convergence after the quiet time, then kill the master and require a
    /// completed failover. On unless `SIM_LIVENESS=0`.
    pub liveness: bool,
    /// How many steps the trace keeps.
    pub trace_len: usize,
    /// Called on a sentinel's core right before it answers a peer's `SENTINEL`
    /// command: the hook `sim_broken` uses to inject a bug.
    pub tamper: Option<fn(usize, &mut Sentinel)>,
    /// Run every core with redis-sentinel's own election rules, flaw included
    /// (`Sentinel::upstream_election`): how the checker is shown to catch it.
    pub upstream_election: bool,
    /// Violations of these kinds are not reported, to show that a later property also
    /// catches a bug an earlier one reports first.
    pub skip_checks: Vec<check::Kind>,
    /// Every master's down-after-milliseconds, instead of the seed's draw (2-5 s; the
    /// draw still happens, so the rest of the seed is unchanged).
    pub down_after: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            sentinels: 3,
            redis: 3,
            chaos_ms: 40_000,
            quiet_ms: 40_000,
            faults: true,
            admin_failovers: false,
            coordinated: false,
            liveness: std::env::var("SIM_LIVENESS").map_or(true, |v| v != "0"),
            trace_len: std::env::var("SIM_TRACE")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(200),
            tamper: None,
            upstream_election: false,
            skip_checks: Vec::new(),
            down_after: None,
        }
    }
}

impl Options {
    /// No faults and no chaos phase, `quiet_ms` of calm, no liveness phase: the setting
    /// of the scripted scenarios and of the golden-timed mode.
    pub fn calm(quiet_ms: u64) -> Options {
        Options {
            faults: false,
            chaos_ms: 0,
            quiet_ms,
            liveness: false,
            ..Options::default()
        }
    }
}

/// The result of one seed.
#[derive(Debug)]
pub struct Outcome {
    pub seed: u64,
    pub steps: u64,
    pub violation: Option<check::Violation>,
    /// A summary of the final state, equal for equal seeds.
    pub fingerprint: String,
    /// The last steps, oldest first.
    pub trace: Vec<String>,
    /// Counts of interesting events (`+elected-leader`, `+switch-master`, ...).
    pub stats: std::collections::BTreeMap<String, u64>,
}

impl Outcome {
    /// A human report: seed, violation, how to replay, the trace.
    pub fn report(&self) -> String {
        let mut s = format!("seed {} after {} steps\n", self.seed, self.steps);
        if let Some(v) = &self.violation {
            s += &format!("VIOLATION {:?} at t={}: {}\n", v.kind, v.at, v.text);
        }
        s += &format!(
            "replay: SIM_SEED={} cargo test --test unit simulation:: -- --nocapture\n",
            self.seed
        );
        s += &format!(
            "stats: {:?}\nlast {} steps:\n",
            self.stats,
            self.trace.len()
        );
        for l in &self.trace {
            s += l;
            s.push('\n');
        }
        s
    }
}

/// Run one seed to completion (or to the first violation).
pub fn run(seed: u64, opts: &Options) -> Outcome {
    world::World::new(seed, opts.clone()).run()
}

/// The seeds to run: `SIM_SEED=<n>` alone, else `0..SIM_SEEDS` (default `default`).
pub fn seeds(default: u64) -> Vec<u64> {
    if let Some(s) = std::env::var("SIM_SEED").ok().and_then(|s| s.parse().ok()) {
        return vec![s];
    }
    let n = std::env::var("SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    (0..n).collect()
}
