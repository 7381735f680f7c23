//! Connection events from the shell: established, broken, a reply to a request, a
//! pub/sub message; plus closing a connection on the core's own initiative.
//!
//! Replies are matched to their request through the link's pending table and to the
//! record that sent it through `req_owner`, so a reply for a record that has since been
//! removed (or for a connection that was closed) is simply dropped.

use super::instance::*;
use super::{Action, Sentinel};
use crate::config::LogLevel;
use crate::resp::Reply;

impl Sentinel {
    /// Close one half of a link on our own initiative (link-health rule, resets).
    pub(super) fn close_conn(&mut self, id: LinkId, conn: ConnKind) {
        let Some(l) = self.links.get_mut(&id) else {
            return;
        };
        let was = match conn {
            ConnKind::Cmd => std::mem::replace(&mut l.cc, false),
            ConnKind::PubSub => std::mem::replace(&mut l.pc, false),
        };
        if !was {
            return;
        }
        self.drop_pending(id, conn);
        self.push(Action::Close { link: id, conn });
    }

    pub(crate) fn on_connected(&mut self, id: LinkId, conn: ConnKind, local_ip: String) {
        let now = self.now;
        let Some(l) = self.links.get_mut(&id) else {
            return;
        };
        match conn {
            ConnKind::Cmd if l.cc => {
                self.release_held(id, &local_ip);
                self.link_local_ip.insert(id, local_ip);
            }
            // Stands in for the SUBSCRIBE confirmation, which counts as activity.
            ConnKind::PubSub if l.pc => l.pc_last_activity = now,
            _ => {}
        }
    }

    /// The connection broke (or its connect failed): clear that half; the link is
    /// retried on a later tick. Unanswered requests are lost; those awaited by a real
    /// reply callback stay counted in `pending_commands` until the connection is
    /// re-created, as in redis-sentinel. Nothing is logged: redis-sentinel's connect
    /// and disconnect callbacks are silent (a refused connect, a CLIENT KILL, a server
    /// restart leave no line even at debug level).
    pub(crate) fn on_disconnected(&mut self, id: LinkId, conn: ConnKind) -> bool {
        let Some(l) = self.links.get_mut(&id) else {
            return false;
        };
        match conn {
            ConnKind::Cmd if l.cc => l.cc = false,
            ConnKind::PubSub if l.pc => l.pc = false,
            _ => return false,
        }
        self.fail_pending(id, conn);
        true
    }

    /// A connection that could not be started: the one failure redis-sentinel logs, at
    /// debug level, because hiredis reports it from the connect call itself.
    pub(crate) fn on_connect_failed(&mut self, id: LinkId, conn: ConnKind, error: &str) {
        if !self.on_disconnected(id, conn) {
            return;
        }
        let channel = match conn {
            ConnKind::Cmd => "-cmd-link-reconnection",
            ConnKind::PubSub => "-pubsub-link-reconnection",
        };
        if let Some(i) = self.any_inst_on_link(id) {
            self.emit_inst(LogLevel::Debug, channel, i, &format!("#{error}"));
        }
    }

    /// hiredis (inside redis-sentinel) treats an error reply with no callback waiting
    /// for it as fatal and drops the connection. In practice this is the reply to the
    /// pub/sub connection's SUBSCRIBE when the link cannot authenticate or lacks the
    /// channel permission: the pub/sub half goes away at once, so the link stays
    /// `disconnected` (and sends no periodic commands) until a later reconnect can
    /// subscribe. Outstanding callbacks run without a reply, as for a broken
    /// connection, but unlike one, nothing is logged (the real one has no event here).
    pub(crate) fn on_untracked_error(&mut self, id: LinkId, conn: ConnKind) {
        if self.on_disconnected(id, conn) {
            self.push(Action::Close { link: id, conn });
        }
    }

    /// A reply on a command connection: find what it answers and who asked.
    pub(crate) fn on_reply(&mut self, link: LinkId, req: ReqId, reply: Reply) {
        let owner = self.req_owner.remove(&req);
        let Some(what) = self.take_pending(link, req) else {
            return;
        };
        let Some(i) = owner.and_then(|k| self.resolve(&k)) else {
            return;
        };
        if self.common(i).link != link {
            return;
        }
        match what {
            Request::Ping => self.on_ping_reply(i, &reply),
            Request::Info => {
                self.common_mut(i).info_sent = 0;
                if let Reply::Bulk(text) = &reply {
                    let text = String::from_utf8_lossy(text).into_owned();
                    self.refresh_from_info(i, &text);
                    if let super::monitor::Inst::Master(mi) = i {
                        self.handover_master_info(mi, req, &text);
                    }
                }
            }
            Request::Publish => {
                self.common_mut(i).hello_sent = 0;
                if !matches!(reply, Reply::Error(_)) {
                    self.common_mut(i).last_pub_time = self.now;
                }
            }
            Request::IsMasterDownByAddr { .. } => self.on_is_master_down_reply(i, &reply),
            Request::HandoverNotice => self.on_handover_notice_reply(i, &reply),
            Request::Ignored => {}
        }
    }

    /// A pub/sub message on a master's or replica's hello subscription.
    pub(crate) fn on_message(&mut self, link: LinkId, channel: &[u8], payload: &[u8]) {
        let now = self.now;
        match self.links.get_mut(&link) {
            Some(l) if l.pc => l.pc_last_activity = now,
            _ => return,
        }
        if channel == super::monitor::HELLO_CHANNEL.as_bytes() {
            self.process_hello(payload);
        } else if channel == super::monitor::HANDOVER_CHANNEL.as_bytes() {
            self.on_handover_notice(payload);
        }
    }
}
