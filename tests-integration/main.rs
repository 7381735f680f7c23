//! Integration tests with real processes: real redis-server data nodes, rsentinel,
//! real redis-sentinel peers and real clients. See harness.rs for the rules every test
//! follows (free ports below 32768, loopback only, bounded waits, own processes only).

#[macro_use]
mod harness;

mod auth_links;
mod bench;
mod bench_failover;
mod bench_fanout;
mod bench_mass_failover;
mod bench_proxy;
mod bench_scale;
mod cli;
mod client_kill;
mod clients;
mod command_table;
mod conformance;
mod coordinated;
mod demo;
mod differential;
mod differential_config;
mod differential_random;
mod disk_faults;
mod failover;
mod fdlimit;
mod hostile;
mod metrics;
mod monitoring;
mod process;
mod proxy;
mod proxy_handover;
mod relay;
mod scripts;
mod soak;
mod spellings;
mod supervised;
mod syslog;
mod tls;
mod unixsocket;
mod upstream;
