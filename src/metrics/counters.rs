//! Counters the shell derives from the actions the core produces: every event the core
//! publishes and every connection it asks for passes through the performer, which
//! hands it to [`Counters::observe`]. The pure core keeps no statistics of its own.

use crate::core::Action;
use crate::core::instance::ConnKind;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// Upper bounds (seconds) of the failover-duration histogram buckets; `+Inf` is implied.
pub const DURATION_BUCKETS: [f64; 12] = [
    0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0,
];

/// A cumulative histogram as Prometheus exposes it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Observations per bucket of [`DURATION_BUCKETS`] (not cumulative; the renderer
    /// accumulates), plus one for `+Inf` at the end.
    pub buckets: Vec<u64>,
    pub count: u64,
    pub sum: f64,
}

impl Histogram {
    pub fn observe(&mut self, secs: f64) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; DURATION_BUCKETS.len() + 1];
        }
        let i = DURATION_BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(DURATION_BUCKETS.len());
        self.buckets[i] += 1;
        self.count += 1;
        self.sum += secs;
    }

    /// `(le, cumulative count)` for every bucket, `+Inf` last.
    pub fn cumulative(&self) -> Vec<(String, u64)> {
        let mut acc = 0;
        let mut out = Vec::with_capacity(DURATION_BUCKETS.len() + 1);
        for (i, b) in DURATION_BUCKETS.iter().enumerate() {
            acc += self.buckets.get(i).copied().unwrap_or(0);
            out.push((format_float(*b), acc));
        }
        out.push(("+Inf".to_string(), self.count));
        out
    }
}

/// A float the way Prometheus clients print one (`1`, `0.5`, `+Inf`).
pub fn format_float(v: f64) -> String {
    if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else if v.is_nan() {
        "NaN".to_string()
    } else {
        format!("{v}")
    }
}

/// The counter values at one moment (what a scrape renders).
#[derive(Debug, Clone, Default)]
pub struct CounterValues {
    /// Published events by channel (debug-level events are not published and not
    /// counted).
    pub events: BTreeMap<String, u64>,
    pub tilt_entries: u64,
    /// Milliseconds spent in finished TILT periods (the current one is added at render
    /// time from the core's `tilt_start_time`).
    pub tilt_ms_finished: u64,
    pub failovers_started: u64,
    pub failovers_succeeded: u64,
    /// `-failover-abort-<reason>` by reason.
    pub failovers_aborted: BTreeMap<String, u64>,
    pub votes_given: u64,
    /// Master SDOWN (as this sentinel saw it) to `+switch-master`, in seconds.
    pub failover_duration: Histogram,
    /// Connection attempts by (`host:port`, `cmd`/`pubsub`): the first one and every
    /// reconnection.
    pub connects: BTreeMap<(String, &'static str), u64>,
}

#[derive(Default)]
struct Inner {
    values: CounterValues,
    /// When each master (by name) was last seen going SDOWN, until it recovers or is
    /// switched.
    sdown_since: HashMap<String, u64>,
    tilt_since: Option<u64>,
}

/// Shared between the performer (which writes under the core lock, briefly) and the
/// HTTP server (which copies the values out).
#[derive(Default)]
pub struct Counters {
    inner: Mutex<Inner>,
}

impl Counters {
    pub fn new() -> Self {
        Self::default()
    }

    /// Account for one action the core produced at wall-clock time `now` (ms).
    pub fn observe(&self, action: &Action, now: u64) {
        match action {
            Action::Event {
                level,
                channel,
                payload,
                ..
            } => {
                let published = *level != crate::config::LogLevel::Debug;
                let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
                g.event(channel, payload, published, now);
            }
            Action::Connect {
                conn, host, port, ..
            } => {
                let kind = match conn {
                    ConnKind::Cmd => "cmd",
                    ConnKind::PubSub => "pubsub",
                };
                let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
                *g.values
                    .connects
                    .entry((format!("{host}:{port}"), kind))
                    .or_default() += 1;
            }
            _ => {}
        }
    }

    /// A copy of the current values.
    pub fn values(&self) -> CounterValues {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values
            .clone()
    }
}

/// The master name of a `master <name> <ip> <port> ...` payload.
fn master_subject(payload: &str) -> Option<&str> {
    let mut it = payload.split(' ');
    (it.next() == Some("master")).then(|| it.next()).flatten()
}

impl Inner {
    fn event(&mut self, channel: &str, payload: &str, published: bool, now: u64) {
        let v = &mut self.values;
        if published {
            *v.events.entry(channel.to_string()).or_default() += 1;
        }
        match channel {
            "+tilt" => {
                v.tilt_entries += 1;
                // TILT entered again while in TILT: the period so far is finished (the
                // core restarts its TILT clock too).
                if let Some(t) = self.tilt_since.replace(now) {
                    v.tilt_ms_finished += now.saturating_sub(t);
                }
            }
            "-tilt" => {
                if let Some(t) = self.tilt_since.take() {
                    v.tilt_ms_finished += now.saturating_sub(t);
                }
            }
            "+try-failover" => v.failovers_started += 1,
            "+failover-end" | "+failover-end-for-timeout" => v.failovers_succeeded += 1,
            "+vote-for-leader" => v.votes_given += 1,
            "+sdown" => {
                if let Some(name) = master_subject(payload) {
                    self.sdown_since.entry(name.to_string()).or_insert(now);
                }
            }
            "-sdown" => {
                if let Some(name) = master_subject(payload) {
                    self.sdown_since.remove(name);
                }
            }
            "+switch-master" => {
                let name = payload.split(' ').next().unwrap_or("");
                if let Some(t) = self.sdown_since.remove(name) {
                    let secs = now.saturating_sub(t) as f64 / 1000.0;
                    v.failover_duration.observe(secs);
                }
            }
            c => {
                if let Some(reason) = c.strip_prefix("-failover-abort-") {
                    *v.failovers_aborted.entry(reason.to_string()).or_default() += 1;
                }
            }
        }
    }
}
