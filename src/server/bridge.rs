//! The only place the server calls into the other engineers' code (the SENTINEL command
//! family, the INFO sentinel section, ROLE's master list, hello processing).
//!
//! TEMPORARY bodies: the lead replaces them at merge with calls into
//! `commands::sentinel` and the core.

use crate::core::Sentinel;
use crate::resp::Reply;
use bytes::Bytes;

/// Run a SENTINEL command; `args` include "SENTINEL" itself.
pub fn sentinel_command(core: &mut Sentinel, args: &[Bytes]) -> Reply {
    let sub = args
        .get(1)
        .map(|a| String::from_utf8_lossy(a).to_ascii_lowercase())
        .unwrap_or_default();
    match sub.as_str() {
        "myid" => Reply::bulk(&core.myid),
        "masters" => Reply::Array(Vec::new()),
        _ => Reply::err("ERR not implemented yet"),
    }
}

/// The `# Sentinel\r\n...` section of INFO.
pub fn info_sentinel_section(core: &Sentinel) -> String {
    let mut s = format!(
        "# Sentinel\r\nsentinel_masters:{}\r\nsentinel_tilt:{}\r\nsentinel_tilt_since_seconds:-1\r\nsentinel_running_scripts:0\r\nsentinel_scripts_queue_length:0\r\nsentinel_simulate_failure_flags:{}\r\n",
        core.masters.len(),
        core.tilt as u8,
        core.simfailure_flags
    );
    for (i, m) in core.masters.iter().enumerate() {
        s.push_str(&format!(
            "master{i}:name={},status=ok,address={}:{},slaves={},sentinels={}\r\n",
            m.common.name,
            m.common.ip,
            m.common.port,
            m.replicas.len(),
            m.sentinels.len() + 1
        ));
    }
    s
}

/// Master names for ROLE, in dictionary order.
pub fn role_masters(core: &Sentinel) -> Vec<String> {
    let mut v: Vec<String> = core.masters.iter().map(|m| m.common.name.clone()).collect();
    v.sort();
    v
}

/// A hello received through PUBLISH `__sentinel__:hello`.
pub fn process_hello(_core: &mut Sentinel, _payload: &[u8]) {}
