//! Sending requests on a link, and the bookkeeping redis-sentinel keeps about them.
//!
//! `link-pending-commands` counts every command sent with a reply callback (AUTH, CLIENT
//! SETNAME on both connections, PING, INFO, PUBLISH, each command of the MULTI..EXEC
//! transaction, SCRIPT KILL, IS-MASTER-DOWN-BY-ADDR) until its reply arrives. When a
//! connection breaks, hiredis runs the outstanding callbacks with no reply: only the
//! "discard" ones (our [`Request::Ignored`]) still decrement the counter, the others
//! return early, so a dead master keeps PING, INFO and PUBLISH counted until the next
//! reconnect resets the counter (3 in the goldens).
//!
//! A hello queued before the command connection reported its local address (the real
//! one calls `getsockname` on the just-created socket, in the same timer run that
//! connected) is *held* with every request queued behind it on that link, and released
//! in order when [`Event::Connected`](super::Event::Connected) brings the address.

use super::instance::*;
use super::monitor::Inst;
use super::{Action, Sentinel};
use bytes::Bytes;
use std::collections::BTreeMap;

/// A request waiting for the local address of its link's command connection.
#[derive(Debug, Clone)]
pub(crate) struct Held {
    req: ReqId,
    args: Vec<Bytes>,
    /// The hello payload after our own IP (`,<port>,<myid>,...`), when this is a hello.
    hello_tail: Option<String>,
}

impl Sentinel {
    /// Queue `args` on the command connection of `i`'s link, counted as pending until
    /// its reply (or its connection's failure, for [`Request::Ignored`]). Returns false
    /// when there is no command connection.
    pub(super) fn send_cmd(&mut self, i: Inst, what: Request, args: Vec<Bytes>) -> bool {
        self.send_tracked(i, what, args, None)
    }

    /// PUBLISH a hello whose first field (our IP) is only known once the connection
    /// reports its local address.
    pub(crate) fn send_hello_pending_ip(&mut self, i: Inst, publish: Bytes, tail: String) -> bool {
        let channel = Bytes::from_static(super::monitor::HELLO_CHANNEL.as_bytes());
        self.send_tracked(i, Request::Publish, vec![publish, channel], Some(tail))
    }

    fn send_tracked(
        &mut self,
        i: Inst,
        what: Request,
        args: Vec<Bytes>,
        hello_tail: Option<String>,
    ) -> bool {
        let id = self.common(i).link;
        if !self.links.get(&id).is_some_and(|l| l.cc) {
            return false;
        }
        let req = self.next_req_id();
        let key = self.key_of(i);
        self.req_owner.insert(req, key);
        let now = self.now;
        match what {
            Request::Info => self.common_mut(i).info_sent = now,
            Request::Publish => self.common_mut(i).hello_sent = now,
            _ => {}
        }
        let link = self.links.get_mut(&id).expect("checked");
        link.pending.insert(req, what);
        link.pending_commands += 1;
        if hello_tail.is_some() || self.held.contains_key(&id) {
            self.held.entry(id).or_default().push(Held {
                req,
                args,
                hello_tail,
            });
        } else {
            self.push(Action::Send {
                link: id,
                conn: ConnKind::Cmd,
                req: Some(req),
                args,
            });
        }
        true
    }

    /// Queue `args` on the pub/sub connection of `i`'s link. With `what`, the request
    /// is counted on the link like command-connection ones (AUTH and CLIENT SETNAME
    /// are); without, its reply is dropped uncounted (SUBSCRIBE).
    pub(crate) fn send_pubsub(&mut self, i: Inst, what: Option<Request>, args: Vec<Bytes>) {
        let id = self.common(i).link;
        let req = match what {
            Some(what) => {
                let r = self.next_req_id();
                let key = self.key_of(i);
                self.req_owner.insert(r, key);
                if let Some(l) = self.links.get_mut(&id) {
                    l.pc_pending.insert(r, what);
                    l.pending_commands += 1;
                }
                Some(r)
            }
            None => None,
        };
        self.push(Action::Send {
            link: id,
            conn: ConnKind::PubSub,
            req,
            args,
        });
    }

    /// The command connection reported its local address: release what was held.
    pub(crate) fn release_held(&mut self, id: LinkId, local_ip: &str) {
        for h in self.held.remove(&id).unwrap_or_default() {
            let mut args = h.args;
            if let Some(tail) = h.hello_tail {
                args.push(Bytes::from(format!("{local_ip}{tail}")));
            }
            self.push(Action::Send {
                link: id,
                conn: ConnKind::Cmd,
                req: Some(h.req),
                args,
            });
        }
    }

    /// A connection broke: forget its outstanding requests. The discard-callback ones
    /// ([`Request::Ignored`]) stop counting; replies awaited by a real callback stay
    /// counted until the command connection is re-created.
    pub(crate) fn fail_pending(&mut self, id: LinkId, conn: ConnKind) {
        let Some(l) = self.links.get_mut(&id) else {
            return;
        };
        let gone = match conn {
            ConnKind::Cmd => std::mem::take(&mut l.pending),
            ConnKind::PubSub => std::mem::take(&mut l.pc_pending),
        };
        let ignored = gone.values().filter(|w| **w == Request::Ignored).count() as u32;
        l.pending_commands = l.pending_commands.saturating_sub(ignored);
        self.forget_requests(gone);
        if conn == ConnKind::Cmd {
            self.held.remove(&id);
            self.link_local_ip.remove(&id);
        }
    }

    /// Requests that will never be answered (their connection is gone): their owners are
    /// forgotten, and they no longer hold back the next INFO or hello of their instance.
    fn forget_requests(&mut self, gone: BTreeMap<ReqId, Request>) {
        for (r, what) in gone {
            let Some(owner) = self.req_owner.remove(&r) else {
                continue;
            };
            let Some(i) = self.resolve(&owner) else {
                continue;
            };
            match what {
                Request::Info => self.common_mut(i).info_sent = 0,
                Request::Publish => self.common_mut(i).hello_sent = 0,
                _ => {}
            }
        }
    }

    /// We closed a connection ourselves: its callbacks never run (the real one detaches
    /// the link first). Closing the command connection resets the counter.
    pub(crate) fn drop_pending(&mut self, id: LinkId, conn: ConnKind) {
        let Some(l) = self.links.get_mut(&id) else {
            return;
        };
        let gone = match conn {
            ConnKind::Cmd => {
                l.pending_commands = 0;
                std::mem::take(&mut l.pending)
            }
            ConnKind::PubSub => std::mem::take(&mut l.pc_pending),
        };
        self.forget_requests(gone);
        if conn == ConnKind::Cmd {
            self.held.remove(&id);
            self.link_local_ip.remove(&id);
        }
    }

    /// Remove the request a reply answers from whichever connection sent it.
    pub(crate) fn take_pending(&mut self, id: LinkId, req: ReqId) -> Option<Request> {
        let l = self.links.get_mut(&id)?;
        let what = l
            .pending
            .remove(&req)
            .or_else(|| l.pc_pending.remove(&req))?;
        l.pending_commands = l.pending_commands.saturating_sub(1);
        Some(what)
    }
}
