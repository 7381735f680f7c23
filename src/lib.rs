//! rsentinel: a drop-in reimplementation of Redis Sentinel 7.0.15.
//!
//! The crate is split the way quinn-proto sits beside quinn:
//! - [`core`] is the pure, deterministic Sentinel state machine. It never reads a clock,
//!   touches a socket or draws an un-injected random number; it takes [`core::Event`]s and
//!   returns [`core::Action`]s. That is what makes it testable by simulation.
//! - [`config`] parses and rewrites `sentinel.conf` (pure text in, text out, plus one
//!   atomic-write helper).
//! - [`resp`] is the client protocol: request parsing with Redis' exact protocol errors
//!   and reply encoding for RESP2 and RESP3.
//! - [`state`] is what the client connections share (clients, pub/sub hub, ACL users,
//!   counters); [`shell`] holds the core behind its lock and performs its actions.
//! - [`commands`] implements the client-facing command table of sentinel mode.
//! - [`tls`] builds the OpenSSL contexts from the `tls-*` directives (as redis'
//!   `tlsConfigure`) and runs handshakes for the listener and the links.
//! - [`server`], [`links`] and [`runtime`] are the thin tokio layer: they accept clients,
//!   perform the actions the core asks for and feed back what happened.
//! - [`proxy`] is the built-in proxy (issue #11), fed the core's routing views.
//! - [`demo`] is `rsentinel demo`, a local cluster started and failed over in one command.
//! - [`metrics`] serves `/metrics`, `/health` and `/masters` over HTTP from snapshots
//!   of the core and counters the shell derives from the core's actions.
//!
//! Modules depend one way, in the order of the README's Architecture section
//! (`tests/layers.rs` checks it).

pub mod acl;
pub mod command_table;
pub mod commands;
pub mod config;
pub mod core;
pub mod demo;
pub mod glob;
pub mod links;
pub mod log;
pub mod metrics;
pub mod process;
pub mod proxy;
pub mod resp;
pub mod runtime;
pub mod scripts;
pub mod server;
pub mod shell;
pub mod state;
pub mod supervise;
pub mod tls;
