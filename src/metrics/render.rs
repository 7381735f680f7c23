//! The Prometheus text exposition format (version 0.0.4), written from a [`Snapshot`]
//! and the [`CounterValues`].
//!
//! The `redis_sentinel_*` families carry the names and label sets redis_exporter gives a
//! sentinel (its `INFO sentinel`, `SENTINEL MASTERS`/`SLAVES`/`SENTINELS`/`CKQUORUM`
//! metrics), so dashboards built on it keep working; `rsentinel_*` are what only the
//! sentinel itself can see.

use super::counters::{CounterValues, format_float};
use super::snapshot::Snapshot;
use crate::state::proxy::ProxyValues;
use std::fmt::Write;

/// The content type of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A writer of metric families: `# HELP`, `# TYPE`, then samples.
pub struct TextWriter {
    out: String,
}

/// A label value with `\`, `"` and newlines escaped.
pub fn escape_label(v: &str) -> std::borrow::Cow<'_, str> {
    if !v.contains(['\\', '"', '\n']) {
        return v.into();
    }
    let mut s = String::with_capacity(v.len() + 4);
    for ch in v.chars() {
        match ch {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s.into()
}

impl Default for TextWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl TextWriter {
    pub fn new() -> Self {
        TextWriter {
            out: String::with_capacity(4096),
        }
    }

    /// Start a family: `kind` is `gauge`, `counter` or `histogram`. The help text must
    /// not contain backslashes or newlines (ours are constants).
    pub fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {kind}");
    }

    /// One sample of the current family.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(k);
                self.out.push_str("=\"");
                self.out.push_str(&escape_label(v));
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
        // Whole numbers (nearly every sample) without going through float formatting.
        if value.fract() == 0.0 && value.abs() < 9.0e15 {
            let _ = write!(self.out, "{}", value as i64);
        } else {
            self.out.push_str(&format_float(value));
        }
        self.out.push('\n');
    }

    /// A family with one unlabelled sample.
    pub fn single(&mut self, name: &str, kind: &str, help: &str, value: f64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// The whole `/metrics` page.
pub fn render(snap: &Snapshot, counters: &CounterValues) -> String {
    render_with_proxy(snap, counters, &[])
}

/// The whole `/metrics` page with the built-in proxy's counters (issue #11), one set per
/// master that has (or had) a proxy port; none when no proxy was ever configured.
pub fn render_with_proxy(
    snap: &Snapshot,
    counters: &CounterValues,
    proxy: &[(String, ProxyValues)],
) -> String {
    let mut w = TextWriter::new();
    render_exporter_style(&mut w, snap);
    render_own(&mut w, snap, counters);
    render_proxy(&mut w, proxy);
    w.finish()
}

/// `rsentinel_proxy_*{master_name}`: what `INFO proxy` shows, as series.
fn render_proxy(w: &mut TextWriter, proxy: &[(String, ProxyValues)]) {
    if proxy.is_empty() {
        return;
    }
    type Get = fn(&ProxyValues) -> u64;
    let families: [(&str, &str, &str, Get); 7] = [
        (
            "rsentinel_proxy_connections_received_total",
            "counter",
            "Client connections the proxy accepted.",
            |v| v.connections_received,
        ),
        (
            "rsentinel_proxy_connections_active",
            "gauge",
            "Proxied client connections open now (waiting or forwarding).",
            |v| v.connections_active,
        ),
        (
            "rsentinel_proxy_connections_waiting",
            "gauge",
            "Proxied client connections waiting for a failover to end.",
            |v| v.connections_waiting,
        ),
        (
            "rsentinel_proxy_connections_refused_total",
            "counter",
            "Client connections closed without reaching a server.",
            |v| v.connections_refused,
        ),
        (
            "rsentinel_proxy_connections_rerouted_total",
            "counter",
            "Forwarded connections closed because their server stopped being the target.",
            |v| v.connections_rerouted,
        ),
        (
            "rsentinel_proxy_connections_moved_total",
            "counter",
            "Open connections moved to the new master after a coordinated failover.",
            |v| v.connections_moved,
        ),
        (
            "rsentinel_proxy_switches_total",
            "counter",
            "Master address changes the proxy followed.",
            |v| v.switches,
        ),
    ];
    for (name, kind, help, get) in families {
        w.family(name, kind, help);
        for (master, v) in proxy {
            w.sample(name, &[("master_name", master)], get(v) as f64);
        }
    }
    let name = "rsentinel_proxy_bytes_total";
    w.family(name, "counter", "Bytes the proxy forwarded, by direction.");
    for (master, v) in proxy {
        for (dir, n) in [
            ("to_server", v.bytes_to_server),
            ("to_client", v.bytes_to_client),
        ] {
            w.sample(
                name,
                &[("master_name", master), ("direction", dir)],
                n as f64,
            );
        }
    }
}

/// A per-master family: one sample per master with `{master_name, master_address}`.
fn per_master(
    w: &mut TextWriter,
    snap: &Snapshot,
    addrs: &[String],
    name: &str,
    help: &str,
    value: impl Fn(&super::snapshot::MasterSnap) -> f64,
) {
    w.family(name, "gauge", help);
    for (m, addr) in snap.masters.iter().zip(addrs) {
        w.sample(
            name,
            &[("master_name", &m.name), ("master_address", addr)],
            value(m),
        );
    }
}

fn render_exporter_style(w: &mut TextWriter, snap: &Snapshot) {
    w.single(
        "redis_sentinel_masters",
        "gauge",
        "Masters monitored by this sentinel (INFO sentinel_masters).",
        snap.masters.len() as f64,
    );
    w.single(
        "redis_sentinel_tilt",
        "gauge",
        "1 while this sentinel is in TILT mode (INFO sentinel_tilt).",
        f64::from(u8::from(snap.tilt)),
    );
    w.single(
        "redis_sentinel_running_scripts",
        "gauge",
        "Notification and reconfiguration scripts running now.",
        snap.running_scripts as f64,
    );
    w.single(
        "redis_sentinel_scripts_queue_length",
        "gauge",
        "Scripts queued, running or waiting for a retry.",
        snap.scripts_queue_length as f64,
    );
    w.single(
        "redis_sentinel_simulate_failure_flags",
        "gauge",
        "SENTINEL SIMULATE-FAILURE flags set.",
        f64::from(snap.simulate_failure_flags),
    );
    let addrs: Vec<String> = snap
        .masters
        .iter()
        .map(|m| format!("{}:{}", m.ip, m.port))
        .collect();
    w.family(
        "redis_sentinel_master_status",
        "gauge",
        "1 when the master's status (label master_status) is ok, else 0.",
    );
    for (m, addr) in snap.masters.iter().zip(&addrs) {
        w.sample(
            "redis_sentinel_master_status",
            &[
                ("master_name", &m.name),
                ("master_address", addr),
                ("master_status", m.status),
            ],
            f64::from(u8::from(m.status == "ok")),
        );
    }
    per_master(
        w,
        snap,
        &addrs,
        "redis_sentinel_master_slaves",
        "Replicas known for the master.",
        |m| m.num_slaves as f64,
    );
    per_master(
        w,
        snap,
        &addrs,
        "redis_sentinel_master_sentinels",
        "Sentinels monitoring the master, this one included.",
        |m| (m.num_other_sentinels + 1) as f64,
    );
    per_master(
        w,
        snap,
        &addrs,
        "redis_sentinel_master_ok_slaves",
        "Announced replicas of the master that are neither SDOWN nor ODOWN.",
        |m| m.ok_slaves as f64,
    );
    per_master(
        w,
        snap,
        &addrs,
        "redis_sentinel_master_ok_sentinels",
        "Sentinels of the master (this one included) that are neither SDOWN nor ODOWN.",
        |m| m.ok_sentinels as f64,
    );
    w.family(
        "redis_sentinel_master_ckquorum_status",
        "gauge",
        "1 when SENTINEL CKQUORUM succeeds for the master; its reply in label message.",
    );
    for m in &snap.masters {
        w.sample(
            "redis_sentinel_master_ckquorum_status",
            &[("master_name", &m.name), ("message", &m.ckquorum_message)],
            f64::from(u8::from(m.ckquorum_ok)),
        );
    }
    per_master(
        w,
        snap,
        &addrs,
        "redis_sentinel_master_setting_ckquorum",
        "The master's configured quorum.",
        |m| f64::from(m.quorum),
    );
    per_master(
        w,
        snap,
        &addrs,
        "redis_sentinel_master_setting_failover_timeout",
        "The master's failover-timeout in milliseconds.",
        |m| m.failover_timeout as f64,
    );
    per_master(
        w,
        snap,
        &addrs,
        "redis_sentinel_master_setting_parallel_syncs",
        "The master's parallel-syncs.",
        |m| m.parallel_syncs as f64,
    );
    per_master(
        w,
        snap,
        &addrs,
        "redis_sentinel_master_setting_down_after_milliseconds",
        "The master's down-after-milliseconds.",
        |m| m.down_after_milliseconds as f64,
    );
    per_master(
        w,
        snap,
        &addrs,
        "redis_sentinel_master_config_epoch",
        "The master's configuration epoch.",
        |m| m.config_epoch as f64,
    );
    per_master(
        w,
        snap,
        &addrs,
        "redis_sentinel_master_last_ok_ping_reply_seconds",
        "Seconds since the master last answered a PING validly.",
        |m| m.last_ok_ping_reply_ms as f64 / 1000.0,
    );
}

fn render_own(w: &mut TextWriter, snap: &Snapshot, c: &CounterValues) {
    w.single(
        "rsentinel_current_epoch",
        "gauge",
        "This sentinel's current epoch.",
        snap.current_epoch as f64,
    );
    w.single(
        "rsentinel_tilt_entries_total",
        "counter",
        "Times this sentinel entered TILT mode since it started.",
        c.tilt_entries as f64,
    );
    let in_tilt = if snap.tilt {
        snap.now_ms.saturating_sub(snap.tilt_start_ms)
    } else {
        0
    };
    w.single(
        "rsentinel_tilt_seconds_total",
        "counter",
        "Seconds spent in TILT mode since start, the current TILT period included.",
        (c.tilt_ms_finished + in_tilt) as f64 / 1000.0,
    );
    w.single(
        "rsentinel_failovers_started_total",
        "counter",
        "Failover attempts this sentinel started (+try-failover).",
        c.failovers_started as f64,
    );
    w.single(
        "rsentinel_failovers_succeeded_total",
        "counter",
        "Failovers this sentinel led to the end (+failover-end, +failover-end-for-timeout).",
        c.failovers_succeeded as f64,
    );
    w.family(
        "rsentinel_failovers_aborted_total",
        "counter",
        "Failover attempts aborted, by reason (-failover-abort-<reason>).",
    );
    for (reason, n) in &c.failovers_aborted {
        w.sample(
            "rsentinel_failovers_aborted_total",
            &[("reason", reason)],
            *n as f64,
        );
    }
    let h = &c.failover_duration;
    w.family(
        "rsentinel_failover_duration_seconds",
        "histogram",
        "From the master's +sdown to its +switch-master, as this sentinel saw them.",
    );
    for (le, n) in h.cumulative() {
        w.sample(
            "rsentinel_failover_duration_seconds_bucket",
            &[("le", &le)],
            n as f64,
        );
    }
    w.sample("rsentinel_failover_duration_seconds_sum", &[], h.sum);
    w.sample(
        "rsentinel_failover_duration_seconds_count",
        &[],
        h.count as f64,
    );
    w.single(
        "rsentinel_votes_given_total",
        "counter",
        "Leader votes this sentinel cast (+vote-for-leader).",
        c.votes_given as f64,
    );
    w.family(
        "rsentinel_link_up",
        "gauge",
        "1 when this sentinel's link to the instance is connected.",
    );
    for m in &snap.masters {
        let addr = format!("{}:{}", m.ip, m.port);
        let up = |b: bool| f64::from(u8::from(b));
        w.sample(
            "rsentinel_link_up",
            &[
                ("master_name", &m.name),
                ("role", "master"),
                ("address", &addr),
            ],
            up(m.link_connected),
        );
        for (role, list) in [("replica", &m.replicas), ("sentinel", &m.sentinels)] {
            for i in list {
                let addr = format!("{}:{}", i.ip, i.port);
                w.sample(
                    "rsentinel_link_up",
                    &[("master_name", &m.name), ("role", role), ("address", &addr)],
                    up(i.link_connected),
                );
            }
        }
    }
    w.family(
        "rsentinel_link_connects_total",
        "counter",
        "Connections this sentinel opened (first one and reconnections), by address and kind.",
    );
    for ((addr, kind), n) in &c.connects {
        w.sample(
            "rsentinel_link_connects_total",
            &[("address", addr), ("conn", kind)],
            *n as f64,
        );
    }
    w.single(
        "rsentinel_pending_scripts",
        "gauge",
        "Scripts pending (SENTINEL PENDING-SCRIPTS length).",
        snap.scripts_queue_length as f64,
    );
    w.family(
        "rsentinel_events_total",
        "counter",
        "Events published on this sentinel's pub/sub, by channel.",
    );
    for (ev, n) in &c.events {
        w.sample("rsentinel_events_total", &[("event", ev)], *n as f64);
    }
}
