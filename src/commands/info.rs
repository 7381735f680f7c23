//! INFO in sentinel mode: the generic `server`, `clients`, `stats` and `cpu` sections
//! plus the `sentinel` section the core renders. Unknown sections are dropped silently;
//! sections are separated by one blank line, in the generic order.

use super::Ctx;
use crate::resp::Reply;
use crate::shell::{Shell, now_ms};
use crate::state::State;
use bytes::Bytes;
use std::fmt::Write;
use std::sync::atomic::Ordering;

const ORDER: [&str; 5] = ["server", "clients", "stats", "cpu", "sentinel"];

/// Which sections a request selects, in output order.
pub fn selected_sections(args: &[Bytes]) -> Vec<&'static str> {
    let wanted: Vec<String> = args
        .iter()
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .collect();
    let all = wanted.is_empty()
        || wanted
            .iter()
            .any(|w| w == "all" || w == "default" || w == "everything");
    let mut out: Vec<&'static str> = ORDER
        .iter()
        .copied()
        .filter(|s| all || wanted.iter().any(|w| w == s))
        .collect();
    // rsentinel's proxy (issue #11): always when named, with the others only when a
    // proxy is configured ("proxy?"), so a config without one answers as before.
    if wanted.iter().any(|w| w == "proxy") {
        out.push("proxy");
    } else if all {
        out.push("proxy?");
    }
    out
}

pub fn info(ctx: &mut Ctx, args: &[Bytes]) {
    let text = render(ctx.state, ctx.shell, &selected_sections(&args[1..]));
    ctx.reply(Reply::Bulk(Bytes::from(text)))
}

/// The full INFO text for the given sections.
pub fn render(state: &State, shell: &Shell, sections: &[&str]) -> String {
    let mut parts = Vec::with_capacity(sections.len());
    for s in sections {
        parts.push(match *s {
            "server" => server_section(state),
            "clients" => clients_section(state),
            "stats" => stats_section(state),
            "cpu" => cpu_section(),
            "proxy" | "proxy?" => {
                let routes = super::info_proxy::proxied(shell);
                if routes.is_empty() && *s == "proxy?" {
                    continue;
                }
                super::info_proxy::proxy_section(state, &routes)
            }
            _ => {
                let (text, _) =
                    shell.with_core(|c, now| super::sentinel::info_sentinel_section(c, now));
                text
            }
        });
    }
    parts.join("\r\n")
}

/// Wall-clock microseconds (`server_time_usec` has Redis' microsecond resolution).
fn now_us() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}

fn server_section(state: &State) -> String {
    let info = &state.info;
    let now = now_ms();
    let uptime = now.saturating_sub(info.start_ms) / 1000;
    let hz = if info.hz == 0 {
        10 + rand::random::<u32>() % 10
    } else {
        info.hz
    };
    let mut s = String::from("# Server\r\n");
    let lines: [(&str, String); 24] = [
        ("redis_version", "7.0.15".into()),
        ("redis_git_sha1", "00000000".into()),
        ("redis_git_dirty", "0".into()),
        ("redis_build_id", "ae4d7c971a948f0".into()),
        ("redis_mode", "sentinel".into()),
        ("os", info.os.clone()),
        ("arch_bits", (usize::BITS).to_string()),
        ("monotonic_clock", "POSIX clock_gettime".into()),
        ("multiplexing_api", "epoll".into()),
        ("atomicvar_api", "c11-builtin".into()),
        ("gcc_version", "12.2.0".into()),
        ("process_id", info.pid.to_string()),
        (
            "process_supervised",
            crate::supervise::process_supervised().into(),
        ),
        ("run_id", info.run_id.clone()),
        ("tcp_port", state.cfg.main_port().to_string()),
        ("server_time_usec", now_us().to_string()),
        ("uptime_in_seconds", uptime.to_string()),
        ("uptime_in_days", (uptime / 86400).to_string()),
        ("hz", hz.to_string()),
        ("configured_hz", "10".into()),
        ("lru_clock", ((now / 1000) & 0xFF_FFFF).to_string()),
        ("executable", info.executable.clone()),
        ("config_file", info.config_file.clone()),
        ("io_threads_active", "0".into()),
    ];
    for (k, v) in lines {
        let _ = write!(s, "{k}:{v}\r\n");
    }
    s
}

fn clients_section(state: &State) -> String {
    format!(
        "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:{}\r\nclient_recent_max_output_buffer:0\r\nblocked_clients:0\r\ntracking_clients:{}\r\nclients_in_timeout_table:0\r\n",
        state.clients.len(),
        state.cfg.maxclients,
        state.clients.recent_max_input_buffer(),
        state.tracking.counts().0,
    )
}

fn stats_section(state: &State) -> String {
    let st = &state.stats;
    let (channels, patterns) = state.hub().counts();
    let reads = st.reads_processed.load(Ordering::Relaxed);
    let writes = st.writes_processed.load(Ordering::Relaxed);
    let (ops, in_kbps, out_kbps) = st.rates.render();
    let mut s = String::from("# Stats\r\n");
    let lines: Vec<(&str, String)> = vec![
        (
            "total_connections_received",
            st.connections_received.load(Ordering::Relaxed).to_string(),
        ),
        (
            "total_commands_processed",
            st.commands_processed.load(Ordering::Relaxed).to_string(),
        ),
        ("instantaneous_ops_per_sec", ops),
        (
            "total_net_input_bytes",
            st.net_input_bytes.load(Ordering::Relaxed).to_string(),
        ),
        (
            "total_net_output_bytes",
            st.net_output_bytes.load(Ordering::Relaxed).to_string(),
        ),
        ("total_net_repl_input_bytes", "0".into()),
        ("total_net_repl_output_bytes", "0".into()),
        ("instantaneous_input_kbps", in_kbps),
        ("instantaneous_output_kbps", out_kbps),
        ("instantaneous_input_repl_kbps", "0.00".into()),
        ("instantaneous_output_repl_kbps", "0.00".into()),
        (
            "rejected_connections",
            st.rejected_connections.load(Ordering::Relaxed).to_string(),
        ),
        ("sync_full", "0".into()),
        ("sync_partial_ok", "0".into()),
        ("sync_partial_err", "0".into()),
        ("expired_keys", "0".into()),
        ("expired_stale_perc", "0.00".into()),
        ("expired_time_cap_reached_count", "0".into()),
        ("expire_cycle_cpu_milliseconds", "0".into()),
        ("evicted_keys", "0".into()),
        ("evicted_clients", "0".into()),
        ("total_eviction_exceeded_time", "0".into()),
        ("current_eviction_exceeded_time", "0".into()),
        ("keyspace_hits", "0".into()),
        ("keyspace_misses", "0".into()),
        ("pubsub_channels", channels.to_string()),
        ("pubsub_patterns", patterns.to_string()),
        ("pubsubshard_channels", "0".into()),
        ("latest_fork_usec", "0".into()),
        ("total_forks", "0".into()),
        ("migrate_cached_sockets", "0".into()),
        ("slave_expires_tracked_keys", "0".into()),
        ("active_defrag_hits", "0".into()),
        ("active_defrag_misses", "0".into()),
        ("active_defrag_key_hits", "0".into()),
        ("active_defrag_key_misses", "0".into()),
        ("total_active_defrag_time", "0".into()),
        ("current_active_defrag_time", "0".into()),
        ("tracking_total_keys", "0".into()),
        ("tracking_total_items", "0".into()),
        (
            "tracking_total_prefixes",
            state.tracking.counts().1.to_string(),
        ),
        ("unexpected_error_replies", "0".into()),
        (
            "total_error_replies",
            st.error_replies.load(Ordering::Relaxed).to_string(),
        ),
        ("dump_payload_sanitizations", "0".into()),
        ("total_reads_processed", reads.to_string()),
        ("total_writes_processed", writes.to_string()),
        ("io_threaded_reads_processed", "0".into()),
        ("io_threaded_writes_processed", "0".into()),
        ("reply_buffer_shrinks", "0".into()),
        ("reply_buffer_expands", "0".into()),
    ];
    for (k, v) in lines {
        let _ = write!(s, "{k}:{v}\r\n");
    }
    s
}

/// `sec.usec` of a timeval, as Redis prints CPU times.
fn tv(t: libc::timeval) -> String {
    format!("{}.{:06}", t.tv_sec, t.tv_usec)
}

fn usage(who: libc::c_int) -> libc::rusage {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(who, &mut ru);
        ru
    }
}

fn cpu_section() -> String {
    let me = usage(libc::RUSAGE_SELF);
    let children = usage(libc::RUSAGE_CHILDREN);
    let thread = usage(libc::RUSAGE_THREAD);
    format!(
        "# CPU\r\nused_cpu_sys:{}\r\nused_cpu_user:{}\r\nused_cpu_sys_children:{}\r\nused_cpu_user_children:{}\r\nused_cpu_sys_main_thread:{}\r\nused_cpu_user_main_thread:{}\r\n",
        tv(me.ru_stime),
        tv(me.ru_utime),
        tv(children.ru_stime),
        tv(children.ru_utime),
        tv(thread.ru_stime),
        tv(thread.ru_utime)
    )
}
