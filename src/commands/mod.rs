//! The client-facing command table of sentinel mode.
