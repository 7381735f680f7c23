//! Prometheus metrics and the HTTP status API (issue #12), served on
//! `sentinel metrics-port` by the same tokio runtime as everything else.
//!
//! - [`counters`]: what the shell counts from the actions the core produces (events
//!   published, TILT periods, failovers, votes, connection attempts).
//! - [`snapshot`]: a plain copy of the core's state, taken under its lock in one pass.
//! - [`render`]: the Prometheus text format, written from a snapshot and the counters.
//! - [`http`]: the hyper server and its routes.

pub mod counters;
pub mod http;
pub mod render;
pub mod snapshot;

pub use counters::Counters;
pub use http::Endpoint;
pub use snapshot::Snapshot;
