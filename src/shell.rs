//! The tokio shell around the core: it owns the core behind a mutex, feeds it events with
//! the current time, and performs the actions it returns.
