//! `INFO proxy`: rsentinel's built-in proxy (issue #11). The section exists only when a
//! master has a proxy port or the client asked for it by name, so the INFO of a config
//! without a proxy stays identical to redis-sentinel's.

use crate::core::route::RouteView;
use crate::shell::Shell;
use crate::state::State;
use crate::state::proxy::MasterProxyStats as S;
use std::fmt::Write;

/// The routing views of the proxied masters (empty: no proxy configured).
pub fn proxied(shell: &Shell) -> Vec<RouteView> {
    shell.with_core(|c, _| c.proxy_routes()).0
}

/// The `# Proxy` section: totals, then one line per proxied master.
pub fn proxy_section(state: &State, routes: &[RouteView]) -> String {
    let stats: Vec<_> = routes.iter().map(|r| state.proxy.master(&r.name)).collect();
    let total = |f: fn(&S) -> u64| stats.iter().map(|s| f(s)).sum::<u64>();
    let mut out = String::from("# Proxy\r\n");
    let _ = write!(
        out,
        "proxy_masters:{}\r\nproxy_connections_received:{}\r\nproxy_connections_active:{}\r\n\
         proxy_connections_waiting:{}\r\nproxy_connections_refused:{}\r\n\
         proxy_connections_rerouted:{}\r\nproxy_connections_moved:{}\r\n\
         proxy_bytes_to_server:{}\r\n\
         proxy_bytes_to_client:{}\r\nproxy_switches:{}\r\n",
        routes.len(),
        total(|s| S::get(&s.connections_received)),
        total(|s| S::get(&s.connections_active)),
        total(|s| S::get(&s.connections_waiting)),
        total(|s| S::get(&s.connections_refused)),
        total(|s| S::get(&s.connections_rerouted)),
        total(|s| S::get(&s.connections_moved)),
        total(|s| S::get(&s.bytes_to_server)),
        total(|s| S::get(&s.bytes_to_client)),
        total(|s| S::get(&s.switches)),
    );
    for (i, (r, s)) in routes.iter().zip(&stats).enumerate() {
        let _ = write!(
            out,
            "proxy{i}:name={},port={},replicas_port={},status={},address={}:{},\
             config_epoch={},healthy_replicas={},connections_received={},\
             connections_active={},connections_refused={},bytes_to_server={},\
             bytes_to_client={},switches={}\r\n",
            r.name,
            r.port,
            r.replicas_port,
            if r.fenced { "fenced" } else { "ok" },
            r.master.0,
            r.master.1,
            r.config_epoch,
            r.replicas.len(),
            S::get(&s.connections_received),
            S::get(&s.connections_active),
            S::get(&s.connections_refused),
            S::get(&s.bytes_to_server),
            S::get(&s.bytes_to_client),
            S::get(&s.switches),
        );
    }
    out
}
