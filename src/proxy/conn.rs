//! One proxied client connection: pick a server from the routing view (waiting while the
//! master is fenced), dial it, then forward bytes both ways until either side closes or
//! the view says the server is no longer a valid target.
//!
//! Forwarding is plain byte copying, no parsing, one [`Pump`] per direction: the only
//! per-write work besides the copy is an atomic version check of the watch channel, so
//! the fence is enforced before any write to the server without slowing the byte path.
//! Not `tokio::io::copy_bidirectional`: the fence has to sit between a client read and
//! the write to the server, which that function gives no place for.

use super::handover::{self, Inspector, Moving};
use super::{Kind, Routes};
use crate::core::route::RouteView;
use crate::state::proxy::MasterProxyStats as S;
use std::io::ErrorKind;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::sync::watch;
use tokio::time::Instant;

/// How long a new connection waits for a fenced master's failover to end before it is
/// refused (closed). Failovers normally take seconds; a failed election retries only
/// after twice the failover timeout, which no client should wait for.
pub const WAIT_BOUND: Duration = Duration::from_secs(10);
/// Bound on dialing the chosen server.
const DIAL_BOUND: Duration = Duration::from_secs(3);
/// How often a waiting connection dials again while the view does not change.
const RETRY_DIAL: Duration = Duration::from_millis(250);
/// Buffer of each direction: what one `recv` may take. 16 KB, as HAProxy's default
/// `bufsize` and Redis's own read size: a burst of 16 pipelined commands is well under
/// 1 KB. 64 KB measured ~10% less proxy CPU per request with 4 KB values (fewer
/// syscalls per burst) but is 4x the memory of every connection.
const BUF: usize = 16 * 1024;

/// What the view allows for a connection to `target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Forward,
    /// The target is the master and it is fenced: forward nothing to it, keep the
    /// connection (the fence may lift without a switch, e.g. an aborted failover).
    Hold,
    /// The target is no longer valid (a switch, an unhealthy replica, the port is off).
    Close,
    /// The target is the old master of our own coordinated failover: hold the bytes and
    /// move the connection to the new master (see [`super::handover`]).
    Move,
}

/// The view of master `name`, if it still has a proxy port of kind `kind`.
fn view_of<'a>(routes: &'a Routes, name: &str, kind: Kind) -> Option<&'a RouteView> {
    routes
        .iter()
        .find(|r| r.name == name)
        .filter(|r| kind.port_of(r) != 0)
}

/// Whether a connection of `kind` to `target` may keep forwarding.
pub fn verdict(routes: &Routes, name: &str, kind: Kind, target: &(String, u16)) -> Verdict {
    let Some(v) = view_of(routes, name, kind) else {
        return Verdict::Close;
    };
    if *target == v.master {
        if v.fenced {
            Verdict::Hold
        } else {
            Verdict::Forward
        }
    } else if kind == Kind::Replicas && v.replicas.contains(target) {
        Verdict::Forward
    } else if kind == Kind::Master && v.handover_from.as_ref() == Some(target) {
        Verdict::Move
    } else {
        Verdict::Close
    }
}

/// Where a new connection goes now: `Ok(Some)` an address, `Ok(None)` wait (fenced),
/// `Err` refuse. `seq` spreads read connections round-robin.
fn choose(
    routes: &Routes,
    name: &str,
    kind: Kind,
    seq: usize,
) -> Result<Option<(String, u16)>, ()> {
    let v = view_of(routes, name, kind).ok_or(())?;
    if kind == Kind::Replicas && !v.replicas.is_empty() {
        return Ok(Some(v.replicas[seq % v.replicas.len()].clone()));
    }
    Ok((!v.fenced).then(|| v.master.clone()))
}

/// Everything a connection task needs.
pub struct Ctx {
    pub name: String,
    pub kind: Kind,
    pub seq: usize,
    pub routes: watch::Receiver<Routes>,
    pub stats: Arc<S>,
    pub inspector: Arc<Inspector>,
}

/// Decrements the active (and waiting) gauges however the task ends.
struct Gauge(Arc<S>, fn(&S) -> &AtomicU64);

impl Drop for Gauge {
    fn drop(&mut self) {
        S::sub((self.1)(&self.0), 1);
    }
}

/// Serve one accepted client until it or its server closes.
pub async fn serve(client: TcpStream, mut ctx: Ctx) {
    S::add(&ctx.stats.connections_active, 1);
    let _active = Gauge(ctx.stats.clone(), |s| &s.connections_active);
    let _ = client.set_nodelay(true);
    let Some((target, server)) = connect(&mut ctx).await else {
        S::add(&ctx.stats.connections_refused, 1);
        return;
    };
    forward(client, server, &target, ctx).await;
}

/// Wait (bounded) for a target, then dial it. `None`: refused.
///
/// A dial that fails (the master just died and this sentinel has not judged it down yet)
/// does not refuse the client: nothing was forwarded, so the connection waits, within the
/// same bound, for the view to change (fence, switch) and dials what it names then. A
/// client that connects in the first moments of an outage thus lands on the new master
/// instead of getting an error.
async fn connect(ctx: &mut Ctx) -> Option<((String, u16), TcpStream)> {
    let deadline = Instant::now() + WAIT_BOUND;
    let mut waiting: Option<Gauge> = None;
    loop {
        let routes = ctx.routes.borrow_and_update().clone();
        match choose(&routes, &ctx.name, ctx.kind, ctx.seq) {
            Err(()) => return None,
            Ok(Some(target)) => {
                let dial = TcpStream::connect((target.0.as_str(), target.1));
                let dial = tokio::time::timeout_at(deadline.min(Instant::now() + DIAL_BOUND), dial);
                if let Ok(Ok(server)) = dial.await {
                    let _ = server.set_nodelay(true);
                    return Some((target, server));
                }
            }
            Ok(None) => {}
        }
        if waiting.is_none() {
            S::add(&ctx.stats.connections_waiting, 1);
            waiting = Some(Gauge(ctx.stats.clone(), |s| &s.connections_waiting));
        }
        // A change of view, or a retry every RETRY_DIAL (a master that comes back with
        // no change of view is dialled again).
        let wake = deadline.min(Instant::now() + RETRY_DIAL);
        match tokio::time::timeout_at(wake, ctx.routes.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return None,
            Err(_) if Instant::now() >= deadline => return None,
            Err(_) => {}
        }
    }
}

/// Forward both ways until a side closes, an I/O error, or the view closes the target;
/// at the switch of our own coordinated failover, move to the new master and go on.
async fn forward(mut client: TcpStream, mut server: TcpStream, target: &(String, u16), ctx: Ctx) {
    let (mut up, mut down) = (Pump::new(), Pump::new());
    let mut target = target.clone();
    while let Some(routes) = pump(&mut client, &mut server, &target, &ctx, &mut up, &mut down).await
    {
        // The old master's replies already read go to the client first; a side that
        // ended is not moved.
        let view = view_of(&routes, &ctx.name, ctx.kind).filter(|_| !up.eof && !down.eof);
        let rest = down.take();
        let delivered = view.is_some() && client.write_all(rest).await.is_ok();
        if delivered {
            S::add(&ctx.stats.bytes_to_client, rest.len() as u64);
        }
        let new = match view.filter(|_| delivered) {
            Some(view) => {
                let old = std::mem::replace(&mut target, view.master.clone());
                let moving = Moving {
                    client: &mut client,
                    server,
                    old: &old,
                    view,
                    inspector: &ctx.inspector,
                };
                handover::move_to_new_master(moving).await
            }
            None => None,
        };
        let Some(new) = new else {
            // Closed, as at any other switch.
            S::add(&ctx.stats.connections_rerouted, 1);
            return;
        };
        S::add(&ctx.stats.connections_moved, 1);
        server = new;
    }
}

/// Forward both ways until a side closes (`None`), or the view asks for a move
/// (`Some`, with that view): both directions are [`Pump`]s polled from one `poll_fn`
/// of the connection's task, next to a watcher of the view that ends the connection at
/// a switch. The watcher also wakes the task whenever the view changes, which is what
/// releases bytes held by the fence.
async fn pump(
    client: &mut TcpStream,
    server: &mut TcpStream,
    target: &(String, u16),
    ctx: &Ctx,
    up: &mut Pump,
    down: &mut Pump,
) -> Option<Routes> {
    let (mut cr, mut cw) = client.split();
    let (mut sr, mut sw) = server.split();
    let mut gate = ctx.routes.clone();
    let mut watch = ctx.routes.clone();
    let (name, kind, stats) = (&ctx.name, ctx.kind, &ctx.stats);
    let mut up_bytes = Tally::new(&stats.bytes_to_server);
    let mut down_bytes = Tally::new(&stats.bytes_to_client);
    // The fence: an atomic version check per write, the view is read only when it moved.
    let mut allowed = verdict(&gate.borrow_and_update(), name, kind, target);
    let mut fence = || {
        if gate.has_changed().unwrap_or(true) {
            let routes = gate.borrow_and_update().clone();
            allowed = verdict(&routes, name, kind, target);
        }
        allowed
    };
    let mut open = || Verdict::Forward;
    let pumps = std::future::poll_fn(|cx| {
        let u = up.poll(cx, &mut cr, &mut sw, &mut fence, &mut up_bytes);
        let d = down.poll(cx, &mut sr, &mut cw, &mut open, &mut down_bytes);
        match (u, d) {
            (Poll::Ready(Err(_)), _) | (_, Poll::Ready(Err(_))) => Poll::Ready(()),
            (Poll::Ready(Ok(())), Poll::Ready(Ok(()))) => Poll::Ready(()),
            _ => Poll::Pending,
        }
    });
    let closed = async {
        loop {
            let routes = watch.borrow_and_update().clone();
            match verdict(&routes, name, kind, target) {
                Verdict::Close => {
                    S::add(&stats.connections_rerouted, 1);
                    return None;
                }
                Verdict::Move => return Some(routes),
                Verdict::Forward | Verdict::Hold => {}
            }
            if watch.changed().await.is_err() {
                return None;
            }
        }
    };
    tokio::select! {
        _ = pumps => None,
        moved = closed => moved,
    }
}

/// One direction of a connection: plain byte forwarding, no parsing, written as a poll
/// function rather than a read-then-`write_all` loop so that the fence is asked before
/// every write, including the rest of a chunk that waited for a full socket (a
/// `write_all` would finish that chunk after the fence went up). Its CPU per request is
/// that of the two `async` loops it replaced, within the noise of `bench_proxy`.
///
/// Per burst it makes one `recv` and one `send`: tokio clears a socket's readiness after
/// a short read, so no extra `recv` is spent to learn that the socket is empty. That is
/// the floor for plain forwarding; ~90% of the proxy's CPU is the kernel's TCP work for
/// those calls and the sleeps and wake-ups between them. Not `splice(2)` through a pipe:
/// it needs the extra `recv` (a short splice does not prove the socket empty) and
/// measured more CPU per request than this copy, with Redis-sized bursts (16 pipelined
/// SETs) and with 4 KB values alike.
struct Pump {
    buf: Box<[u8]>,
    /// `buf[pos..len]` is read and not yet written.
    pos: usize,
    len: usize,
    /// The reading side has ended; `done` once the writing side is shut down too.
    eof: bool,
    done: bool,
}

impl Pump {
    /// The bytes read and not written yet, now counted as written.
    fn take(&mut self) -> &[u8] {
        let rest = &self.buf[self.pos..self.len];
        (self.pos, self.len) = (0, 0);
        rest
    }

    fn new() -> Self {
        Pump {
            buf: vec![0u8; BUF].into_boxed_slice(),
            pos: 0,
            len: 0,
            eof: false,
            done: false,
        }
    }

    /// Move bytes until `from` has nothing more for now (`Pending`; its readiness or
    /// `to`'s registered the waker) or has ended and `to` is shut down (`Ready(Ok)`).
    /// `fence` is asked before every write: `Hold` keeps the bytes (the view watcher of
    /// the same task wakes it on the next change), `Close` is an error.
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
        from: &mut ReadHalf<'_>,
        to: &mut WriteHalf<'_>,
        fence: &mut impl FnMut() -> Verdict,
        tally: &mut Tally<'_>,
    ) -> Poll<std::io::Result<()>> {
        loop {
            if self.pos < self.len {
                match fence() {
                    Verdict::Forward => {}
                    Verdict::Hold | Verdict::Move => return Poll::Pending,
                    Verdict::Close => return Poll::Ready(Err(ErrorKind::ConnectionAborted.into())),
                }
                let n = ready!(Pin::new(&mut *to).poll_write(cx, &self.buf[self.pos..self.len]))?;
                if n == 0 {
                    return Poll::Ready(Err(ErrorKind::WriteZero.into()));
                }
                self.pos += n;
                tally.add(n);
            } else if self.done {
                return Poll::Ready(Ok(()));
            } else if self.eof {
                ready!(Pin::new(&mut *to).poll_shutdown(cx))?;
                self.done = true;
            } else {
                let mut rb = ReadBuf::new(&mut self.buf);
                ready!(Pin::new(&mut *from).poll_read(cx, &mut rb))?;
                (self.pos, self.len) = (0, rb.filled().len());
                self.eof = self.len == 0;
            }
        }
    }
}

/// A byte counter kept locally and added to the shared one every [`TALLY_FLUSH`] bytes
/// and at the end: the shared counter is one cache line for every connection of the
/// master, touched from every worker thread.
struct Tally<'a> {
    shared: &'a AtomicU64,
    local: u64,
}

const TALLY_FLUSH: u64 = 64 * 1024;

impl<'a> Tally<'a> {
    fn new(shared: &'a AtomicU64) -> Self {
        Tally { shared, local: 0 }
    }
    fn add(&mut self, n: usize) {
        self.local += n as u64;
        if self.local >= TALLY_FLUSH {
            S::add(self.shared, std::mem::take(&mut self.local));
        }
    }
}

impl Drop for Tally<'_> {
    fn drop(&mut self) {
        S::add(self.shared, self.local);
    }
}
