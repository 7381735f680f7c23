//! The client-facing command table of sentinel mode.
pub mod sentinel;
