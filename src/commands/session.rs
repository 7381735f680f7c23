//! The connection-local state the commands read and change. It lives with the commands
//! (not with the socket loop in `server::conn`) because only the commands give it
//! meaning: AUTH sets `authed`, SUBSCRIBE fills the lists, CLIENT REPLY sets the mode.

use crate::acl::User;
use crate::state::State;
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
    /// The connection's user as of a generation of the ACL users: the rules every
    /// command is checked against, without locking the users or looking the name up
    /// per command. Dropped when the connection logs in as someone else; stale as soon
    /// as any user changes (`ACL SETUSER`, `ACL DELUSER`), and then looked up again.
    acl: Option<AclCache>,
    /// `CLIENT TRACKING on` (see [`super::tracking`]).
    pub tracking: Option<Tracking>,
    /// The command being run answered with pushes (subscription confirmations), which
    /// `CLIENT REPLY OFF|SKIP` do not silence; reset after each command.
    pub pushing: bool,
}

/// A connection's `CLIENT TRACKING` settings, as `CLIENT TRACKINGINFO` shows them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracking {
    /// The client invalidations would go to (0: this connection).
    pub redirect: u64,
    pub bcast: bool,
    pub optin: bool,
    pub optout: bool,
    pub noloop: bool,
    /// `CLIENT CACHING yes|no` given for the next command.
    pub caching: bool,
    /// Broadcast prefixes, in byte order as Redis' radix tree lists them.
    pub prefixes: std::collections::BTreeSet<Bytes>,
}

struct AclCache {
    gen_: u64,
    /// `None`: the user no longer exists (deleted: every command is refused).
    user: Option<User>,
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
            acl: None,
            tracking: None,
            pushing: false,
        }
    }

    /// The connection is now authenticated as `user` (AUTH, HELLO AUTH).
    pub fn set_user(&mut self, user: String) {
        self.client.state().user = user;
        self.acl = None;
    }

    /// The rules of the connection's user as they are now (`None`: no such user).
    pub fn acl_user(&mut self, state: &State) -> Option<&User> {
        let gen_ = state.users_gen();
        if self.acl.as_ref().is_none_or(|c| c.gen_ != gen_) {
            let name = self.client.state().user.clone();
            let users = state.users();
            // Read under the users' lock: a change made after this read moves the
            // generation past the one kept here.
            let gen_ = state.users_gen();
            self.acl = Some(AclCache {
                gen_,
                user: users.users.get(&name).cloned(),
            });
        }
        self.acl.as_ref().and_then(|c| c.user.as_ref())
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
