//! The fast test suite, one binary (`cargo test --test unit`): the pure core on a fake
//! clock, the simulation, the config engine, the RESP server and the links. One crate
//! links once, shares one set of fixtures (`support`, `sim`) and lets the compiler see
//! which helpers are unused. `tests-integration/` (real processes) is the other binary.

mod sim;
mod support;

mod config_atomic;
mod config_errors;
mod config_generic;
mod config_golden;
mod config_stdin;
mod config_tls;
mod core_auth_links;
mod core_coordinated;
mod core_dns;
mod core_dns_shell;
mod core_election_epochs;
mod core_failover_aborts;
mod core_failover_manual;
mod core_failover_reconf;
mod core_failover_three;
mod core_fast_failover;
mod core_hello;
mod core_info;
mod core_links;
mod core_links_pending;
mod core_sdown;
mod layers;
mod links_redis;
mod links_runtime;
mod links_wire;
mod metrics_render;
mod process_crash;
mod process_setup;
mod proxy_config;
mod proxy_forward;
mod proxy_handover;
mod repo_paths;
mod resp_request;
mod robust_config;
mod robust_core;
mod robust_resp;
mod robust_server;
mod scripts_queue;
mod scripts_runner;
mod sentinel_cmd_admin;
mod sentinel_cmd_errors;
mod sentinel_cmd_glob;
mod sentinel_cmd_read;
mod sentinel_cmd_valkey;
mod server_accept;
mod server_acl;
mod server_acl_log;
mod server_basic;
mod server_fdlimit;
mod server_rates;
mod server_tracking;
mod server_votes;
mod sim_broken;
mod sim_mass_failover;
mod simulation;
