//! Outbound connections to masters, replicas and peer sentinels.
//!
//! [`LinkManager`] performs the core's `Connect`, `Send` and `Close` actions. It is
//! called with the core mutex held, so it never blocks: each (link, connection kind)
//! gets its own tokio task ([`conn`]) that owns the socket, and requests reach it through
//! a bounded queue. What happens on the wire comes back as [`LinkEvent`]s.
//!
//! Every task carries a generation number. An event is only fed to the core if its
//! generation is still the current one for that (link, conn) — checked with
//! [`LinkEvents::accept`] while the core lock is held — so an event a task queued just
//! before the core closed (and maybe reopened) that connection can never be mistaken for
//! news about the new one.

mod conn;
pub mod wire;

use crate::core::instance::{ConnKind, LinkId, ReqId};
use crate::core::{Action, Event};
use bytes::Bytes;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

/// Tunables of outbound connections.
#[derive(Debug, Clone)]
pub struct LinkOptions {
    /// Give up a connect attempt after this long.
    pub connect_timeout: Duration,
    /// `bind-source-addr`: the local address outbound sockets are bound to.
    pub bind_source_addr: Option<IpAddr>,
    /// Requests queued on one connection but not yet written; past this the connection
    /// is dropped (the core throttles itself well below it).
    pub max_queued_requests: usize,
    /// Largest reply accepted before the connection is dropped.
    pub max_reply_bytes: usize,
    /// `tls-replication yes`: every link (masters, replicas, peer sentinels) runs TLS.
    pub tls: Option<Arc<crate::tls::TlsContexts>>,
}

impl Default for LinkOptions {
    fn default() -> Self {
        LinkOptions {
            connect_timeout: Duration::from_secs(10),
            bind_source_addr: None,
            max_queued_requests: 16 * 1024,
            max_reply_bytes: 64 * 1024 * 1024,
            tls: None,
        }
    }
}

/// An event from a connection task, tagged with the task's generation. Generation
/// [`NO_CONNECTION`] marks events about no connection in particular (hostname answers),
/// which are always accepted.
#[derive(Debug)]
pub struct LinkEvent {
    pub generation: u64,
    pub link: LinkId,
    pub conn: ConnKind,
    pub event: Event,
}

struct Handle {
    generation: u64,
    tx: mpsc::Sender<conn::Outgoing>,
    overflow: Arc<Notify>,
    task: JoinHandle<()>,
}

struct Inner {
    conns: Mutex<HashMap<(LinkId, ConnKind), Handle>>,
    next_generation: AtomicU64,
    events: mpsc::Sender<LinkEvent>,
    opts: LinkOptions,
    runtime: tokio::runtime::Handle,
}

impl Inner {
    fn conns(&self) -> std::sync::MutexGuard<'_, HashMap<(LinkId, ConnKind), Handle>> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Performs link actions. Cheap to clone; all clones share the same connections.
#[derive(Clone)]
pub struct LinkManager {
    inner: Arc<Inner>,
}

/// The receiving end of every connection's events, plus the generation filter.
pub struct LinkEvents {
    rx: mpsc::Receiver<LinkEvent>,
    filter: LinkFilter,
}

/// Decides whether a [`LinkEvent`] is still about a live connection.
#[derive(Clone)]
pub struct LinkFilter {
    inner: Arc<Inner>,
}

/// The generation of events that belong to no connection.
pub const NO_CONNECTION: u64 = 0;

/// Capacity of the shared event channel; tasks wait (not drop) when it is full.
const EVENT_QUEUE: usize = 4096;

impl LinkManager {
    /// Must be called inside a tokio runtime: tasks are spawned on it later even when
    /// actions are performed from a plain thread.
    pub fn new(opts: LinkOptions) -> (LinkManager, LinkEvents) {
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        let inner = Arc::new(Inner {
            conns: Mutex::new(HashMap::new()),
            next_generation: AtomicU64::new(1),
            events: tx,
            opts,
            runtime: tokio::runtime::Handle::current(),
        });
        let filter = LinkFilter {
            inner: inner.clone(),
        };
        (LinkManager { inner }, LinkEvents { rx, filter })
    }

    /// Perform `action` if it is a link action; returns whether it was one.
    pub fn perform(&self, action: &Action) -> bool {
        match action {
            Action::Connect {
                link,
                conn,
                host,
                port,
            } => self.connect(*link, *conn, host, *port),
            Action::Send {
                link,
                conn,
                req,
                args,
            } => self.send(*link, *conn, *req, args),
            Action::Close { link, conn } => self.close(*link, *conn),
            Action::Resolve { host } => self.resolve(host),
            _ => return false,
        }
        true
    }

    /// Start connecting, unless that connection already exists (connected, connecting,
    /// or failed with its `Disconnected` not yet accepted).
    pub fn connect(&self, link: LinkId, conn: ConnKind, host: &str, port: u16) {
        let mut conns = self.inner.conns();
        if conns.contains_key(&(link, conn)) {
            return;
        }
        let generation = self.inner.next_generation.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(self.inner.opts.max_queued_requests.max(1));
        let overflow = Arc::new(Notify::new());
        let spec = conn::Spec {
            link,
            conn,
            host: host.to_string(),
            port,
            generation,
            opts: self.inner.opts.clone(),
        };
        let task = self.inner.runtime.spawn(conn::run(
            spec,
            rx,
            overflow.clone(),
            self.inner.events.clone(),
        ));
        conns.insert(
            (link, conn),
            Handle {
                generation,
                tx,
                overflow,
                task,
            },
        );
    }

    /// Queue a request. Requests sent while still connecting go out right after the
    /// connect. No connection: dropped. Queue full: the connection is dropped.
    pub fn send(&self, link: LinkId, conn: ConnKind, req: Option<ReqId>, args: &[Bytes]) {
        let conns = self.inner.conns();
        let Some(h) = conns.get(&(link, conn)) else {
            return;
        };
        match h.tx.try_send(conn::outgoing(req, args)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => h.overflow.notify_one(),
            // The task already ended; its Disconnected is on the way.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    /// Drop the connection at once (unwritten requests are discarded, as hiredis'
    /// `redisAsyncFree` does). Nothing more is reported about it. No-op if absent.
    pub fn close(&self, link: LinkId, conn: ConnKind) {
        if let Some(h) = self.inner.conns().remove(&(link, conn)) {
            h.task.abort();
        }
    }

    /// Resolve `host` on a task (the resolver may block; the event loop must not) and
    /// report the first address as [`Event::Resolved`].
    pub fn resolve(&self, host: &str) {
        let host = host.to_string();
        let events = self.inner.events.clone();
        self.inner.runtime.spawn(async move {
            let ip = conn::resolve(&host, 0)
                .await
                .ok()
                .map(|a| a.ip().to_string());
            let ev = LinkEvent {
                generation: NO_CONNECTION,
                link: LinkId(0),
                conn: ConnKind::Cmd,
                event: Event::Resolved { host, ip },
            };
            let _ = events.send(ev).await;
        });
    }

    /// Close every connection (shutdown).
    pub fn close_all(&self) {
        for (_, h) in self.inner.conns().drain() {
            h.task.abort();
        }
    }

    /// Number of connections that exist (any state).
    pub fn len(&self) -> usize {
        self.inner.conns().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether connection `conn` of `link` exists (any state).
    pub fn contains(&self, link: LinkId, conn: ConnKind) -> bool {
        self.inner.conns().contains_key(&(link, conn))
    }
}

impl LinkEvents {
    /// The next event from any connection (never `None` while the manager lives).
    pub async fn recv(&mut self) -> Option<LinkEvent> {
        self.rx.recv().await
    }

    /// Wait for at least one event, then take every event already queued (up to
    /// `limit`): the event loop handles a burst under one core lock. Returns 0 only when
    /// the channel is closed.
    pub async fn recv_many(&mut self, buf: &mut Vec<LinkEvent>, limit: usize) -> usize {
        self.rx.recv_many(buf, limit).await
    }

    pub fn filter(&self) -> LinkFilter {
        self.filter.clone()
    }

    /// See [`LinkFilter::accept`].
    pub fn accept(&self, ev: LinkEvent) -> Option<Event> {
        self.filter.accept(ev)
    }
}

impl LinkFilter {
    /// The event to feed the core, or `None` if it comes from a connection that has
    /// since been closed or replaced. Accepting a `Disconnected` (or `ConnectFailed`)
    /// forgets the connection,
    /// so the next `Connect` starts a fresh one. Call with the core lock held.
    pub fn accept(&self, ev: LinkEvent) -> Option<Event> {
        Self::accept_in(&mut self.inner.conns(), ev)
    }

    /// [`accept`](Self::accept) for a batch of events, taking the connection table's
    /// lock once: `handle` gets every event that is still about a live connection.
    /// `handle` must not perform link actions (it runs under that lock); feeding the
    /// core, which only queues them, is what it is for.
    pub fn accept_all(
        &self,
        events: impl Iterator<Item = LinkEvent>,
        mut handle: impl FnMut(Event),
    ) {
        let mut conns = self.inner.conns();
        for ev in events {
            if let Some(ev) = Self::accept_in(&mut conns, ev) {
                handle(ev);
            }
        }
    }

    fn accept_in(conns: &mut HashMap<(LinkId, ConnKind), Handle>, ev: LinkEvent) -> Option<Event> {
        if ev.generation == NO_CONNECTION {
            return Some(ev.event);
        }
        let key = (ev.link, ev.conn);
        match conns.get(&key) {
            Some(h) if h.generation == ev.generation => {
                if matches!(
                    ev.event,
                    Event::Disconnected { .. } | Event::ConnectFailed { .. }
                ) {
                    conns.remove(&key);
                }
                Some(ev.event)
            }
            _ => None,
        }
    }
}
