//! Integration tests with real processes: real redis-server data nodes, rsentinel,
//! real redis-sentinel peers and real clients. See harness.rs for the rules every test
//! follows (free ports below 32768, loopback only, bounded waits, own processes only).

#[macro_use]
mod harness;

mod auth_links;
mod bench;
mod bench_failover;
mod cli;
mod client_kill;
mod command_table;
mod conformance;
mod differential;
mod failover;
mod monitoring;
mod scripts;
mod soak;
mod supervised;
mod tls;
