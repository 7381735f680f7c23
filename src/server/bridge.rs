//! The one place the server calls into the core for sentinel-specific behaviour (the
//! SENTINEL family, the INFO sentinel section, ROLE's master list, hello processing).

use crate::core::{Event, Sentinel};
use crate::resp::Reply;
use bytes::Bytes;

/// Run a SENTINEL command; `args` include "SENTINEL" itself.
pub fn sentinel_command(core: &mut Sentinel, now: u64, args: &[Bytes]) -> Reply {
    crate::commands::sentinel::sentinel_command(core, now, args)
}

/// The `# Sentinel\r\n...` section of INFO.
pub fn info_sentinel_section(core: &Sentinel, now: u64) -> String {
    crate::commands::sentinel::info_sentinel_section(core, now)
}

/// Master names for ROLE.
pub fn role_masters(core: &Sentinel) -> Vec<String> {
    crate::commands::sentinel::role_masters(core)
}

/// A hello received through PUBLISH `__sentinel__:hello`.
pub fn process_hello(core: &mut Sentinel, now: u64, payload: &[u8]) {
    let payload = Bytes::copy_from_slice(payload);
    core.handle(now, Event::Hello { payload });
}
