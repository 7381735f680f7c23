//! Glue between the core and the outside world: the action performer and the event
//! loop that feeds link events and timer ticks into the core.
//!
//! The performer runs with the core lock held (see [`crate::shell`]), so everything it
//! does is either instant (logging, publishing, queueing link work) or deliberately
//! synchronous (the config rewrite, whose failure the caller must hear about).

use crate::config::LogLevel;
use crate::core::{Action, Event, Sentinel};
use crate::links::{LinkEvents, LinkManager};
use crate::log::Logger;
use crate::metrics::Counters;
use crate::scripts::{ScriptReport, ScriptRunner};
use crate::shell::{Performer, Shell};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Publishes `(channel, message)` on the sentinel's own pub/sub.
pub type Publish = Arc<dyn Fn(&str, &str) + Send + Sync>;
/// Writes the config file from the core's snapshot.
pub type Persist = Arc<dyn Fn(&Sentinel) -> std::io::Result<()> + Send + Sync>;

/// The timer frequency of the current period, re-drawn in 10..19 after every timer run
/// as Redis does, readable through [`current_hz`]. `INFO` does not read it: its `hz:`
/// comes from `ProcessInfo::hz`.
static CURRENT_HZ: AtomicU32 = AtomicU32::new(10);

pub fn current_hz() -> u32 {
    CURRENT_HZ.load(Ordering::Relaxed)
}

/// Performs actions in the order the core produced them. Returns false if a
/// `PersistConfig` failed (the command that caused it reports the failure).
pub fn performer(
    links: LinkManager,
    publish: Publish,
    logger: Arc<Logger>,
    persist: Persist,
    scripts: ScriptRunner,
) -> Performer {
    performer_counted(
        links,
        publish,
        logger,
        persist,
        scripts,
        Arc::new(Counters::new()),
    )
}

/// [`performer`] that also counts every action in `counters` (the `/metrics` counters:
/// events by channel, TILT, failovers, votes, connection attempts) before performing it.
pub fn performer_counted(
    links: LinkManager,
    publish: Publish,
    logger: Arc<Logger>,
    persist: Persist,
    scripts: ScriptRunner,
    counters: Arc<Counters>,
) -> Performer {
    Box::new(move |core: &Sentinel, actions: Vec<Action>| {
        let mut ok = true;
        let now = crate::shell::now_ms();
        // The config is snapshotted from the core as it is *after* the whole call (or the
        // whole deferred batch), so the first `PersistConfig` already saves what every
        // later one asks for: one write (and fsync) per call, not one per change. At
        // hundreds of masters a burst of hellos or votes otherwise blocks the loop for
        // one fsync per master (and long enough for TILT).
        let mut persisted = false;
        for action in actions {
            counters.observe(&action, now);
            match action {
                Action::Connect { .. }
                | Action::Send { .. }
                | Action::Close { .. }
                | Action::Resolve { .. } => {
                    links.perform(&action);
                }
                Action::Event {
                    level,
                    channel,
                    payload,
                    script: _,
                } => {
                    logger.log(level, &format!("{channel} {payload}"));
                    // Verbose events are published even when not logged; debug never.
                    if level != LogLevel::Debug {
                        publish(&channel, &payload);
                    }
                }
                Action::Script(cmd) => scripts.perform(&cmd),
                Action::Log { level, text } => logger.log(level, &text),
                Action::PersistConfig if persisted => {}
                Action::PersistConfig => match persist(core) {
                    Ok(()) => {
                        persisted = true;
                        logger.log(LogLevel::Notice, "Sentinel new configuration saved on disk")
                    }
                    Err(e) => {
                        persisted = true;
                        if let Some(step) = crate::config::failed_step(&e) {
                            logger.log(LogLevel::Warning, step);
                        }
                        logger.log(
                            LogLevel::Warning,
                            &format!(
                                "WARNING: Sentinel was not able to save the new configuration on disk!!!: {}",
                                crate::links::wire::io_error_text(&e)
                            ),
                        );
                        ok = false;
                    }
                },
                Action::Exit(code) => {
                    logger.flush();
                    std::process::exit(code);
                }
            }
        }
        ok
    })
}

/// Resolve the config's hostnames before the core exists, as redis-sentinel does while
/// loading the config (blocking is fine: nothing runs yet). Feed the result to
/// [`Sentinel::new_with_dns`]. Empty without `resolve-hostnames`.
pub fn resolve_config_names(cfg: &crate::config::SentinelConfig) -> Vec<(String, Option<String>)> {
    use std::net::{IpAddr, ToSocketAddrs};
    if !cfg.resolve_hostnames {
        return Vec::new();
    }
    let mut names: Vec<&str> = Vec::new();
    for m in &cfg.masters {
        names.push(&m.host);
        names.extend(m.known_replicas.iter().map(|(h, _)| h.as_str()));
        names.extend(m.known_sentinels.iter().map(|(h, _, _)| h.as_str()));
    }
    names.retain(|h| h.parse::<IpAddr>().is_err());
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|h| {
            let ip = (h, 0u16)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
                .map(|a| a.ip().to_string());
            (h.to_string(), ip)
        })
        .collect()
}

/// Redis' `hz` after each cron run: `CONFIG_DEFAULT_HZ + rand() % CONFIG_DEFAULT_HZ`.
fn draw_hz(rng: &mut StdRng) -> u32 {
    rng.gen_range(10..20)
}

/// The event loop: feeds every link event to the core as it arrives and runs the
/// sentinel timer at a random 10..19 Hz, re-drawn after every tick. Runs forever.
///
/// Like redis' time events, the next tick is scheduled from the end of the previous
/// one, so a slow tick delays the following ones instead of bunching them up.
pub async fn drive(
    shell: Arc<Shell>,
    mut events: LinkEvents,
    mut script_reports: mpsc::UnboundedReceiver<ScriptReport>,
    seed: u64,
) {
    let filter = events.filter();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut hz = draw_hz(&mut rng);
    CURRENT_HZ.store(hz, Ordering::Relaxed);
    // The first run comes at once, as redis' first cron run (1 ms after start): it
    // connects every link and queues the first PING and INFO, so a just-started
    // sentinel knows its masters in a round trip rather than after a whole period.
    let mut next = Instant::now();
    let mut links_open = true;
    let mut batch = Vec::with_capacity(EVENT_BATCH);
    loop {
        tokio::select! {
            biased;
            _ = tokio::time::sleep_until(next) => {
                shell.with_core(|c, now| c.handle(now, Event::Tick));
                hz = draw_hz(&mut rng);
                CURRENT_HZ.store(hz, Ordering::Relaxed);
                next = Instant::now() + period(hz);
            }
            n = events.recv_many(&mut batch, EVENT_BATCH), if links_open => {
                if n == 0 {
                    links_open = false;
                    continue;
                }
                // At 1,000+ masters replies and hellos arrive in bursts; one lock and
                // one action flush per burst instead of per event.
                shell.with_core(|c, now| filter.accept_all(batch.drain(..), |ev| c.handle(now, ev)));
                // Let the reactor run before the next batch. On this single thread the
                // links read their sockets only when it has polled, so going straight
                // back to the channel would take the next burst (e.g. 300 masters'
                // hellos after a mass failover) one event at a time, a config write
                // each, and the timer would wait long enough for TILT.
                tokio::task::yield_now().await;
            }
            Some(report) = script_reports.recv() => {
                shell.with_core(|c, now| c.handle(now, report.into_event()));
            }
        }
    }
}

/// Most link events handled under one core lock.
const EVENT_BATCH: usize = 256;

fn period(hz: u32) -> Duration {
    Duration::from_millis(1000 / u64::from(hz.max(1)))
}
