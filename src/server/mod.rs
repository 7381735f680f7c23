//! The client-facing tokio server: listener, connections, pub/sub hub, auth.
