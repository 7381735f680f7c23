//! Outbound connections to masters, replicas and peer sentinels.
