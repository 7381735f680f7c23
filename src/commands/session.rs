//! The connection-local state the commands read and change. It lives with the commands
//! (not with the socket loop in `server::conn`) because only the commands give it
//! meaning: AUTH sets `authed`, SUBSCRIBE fills the lists, CLIENT REPLY sets the mode.

use crate::state::clients::ClientShared;
use bytes::Bytes;
use std::sync::Arc;

/// `CLIENT REPLY` mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyMode {
    On,
    Off,
    /// Skip the replies of the next command only.
    Skip,
    /// Set by `CLIENT REPLY SKIP` during the current command; becomes `Skip` after it.
    SkipNext,
}

/// Connection-local state the commands read and change.
pub struct Session {
    pub client: Arc<ClientShared>,
    pub authed: bool,
    /// Channels and patterns in subscription order (UNSUBSCRIBE without arguments
    /// replies in this order).
    pub channels: Vec<Bytes>,
    pub patterns: Vec<Bytes>,
    pub reply_mode: ReplyMode,
    /// Close after the queued replies are written.
    pub close: bool,
    /// Actions of this connection's vote requests not performed yet (see
    /// [`crate::shell::Shell::with_core_deferred`]).
    pub deferred: crate::shell::Deferred,
}

impl Session {
    /// A fresh connection: replies on, no subscriptions.
    pub fn new(client: Arc<ClientShared>, authed: bool) -> Session {
        Session {
            client,
            authed,
            channels: Vec::new(),
            patterns: Vec::new(),
            reply_mode: ReplyMode::On,
            close: false,
            deferred: Default::default(),
        }
    }
    pub fn resp(&self) -> u8 {
        self.client.resp()
    }
    pub fn subscribed(&self) -> bool {
        !self.channels.is_empty() || !self.patterns.is_empty()
    }
    /// Mirror the subscription counts into the shared state (CLIENT LIST, limits).
    pub fn sync_counts(&self) {
        let mut st = self.client.state();
        st.sub = self.channels.len();
        st.psub = self.patterns.len();
    }
}
