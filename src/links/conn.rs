//! One outbound connection: a tokio task that owns the socket.
//!
//! The task resolves the host (so DNS never blocks the event loop), connects with a
//! timeout, reports `Connected`, then runs a writer and a reader side by side until the
//! connection fails, the peer closes it, or the manager aborts the task (an explicit
//! `Close`, which reports nothing). Its last word is always one `Disconnected`.

use super::wire::{
    as_message, decode_replies, decode_reply, encode_request, io_error_text, is_subscription_ack,
};
use super::{LinkEvent, LinkOptions};
use crate::core::Event;
use crate::core::instance::{ConnKind, LinkId, ReqId};
use crate::resp::Reply;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Notify, mpsc};

/// A request handed to the task: its correlation id and its encoded bytes.
pub(crate) struct Outgoing {
    pub req: Option<ReqId>,
    pub bytes: Bytes,
}

/// Encode a request once, in the caller, so the task only copies bytes.
pub(crate) fn outgoing(req: Option<ReqId>, args: &[Bytes]) -> Outgoing {
    let mut buf = BytesMut::new();
    encode_request(args, &mut buf);
    Outgoing {
        req,
        bytes: buf.freeze(),
    }
}

/// Everything the task needs to know about the connection it owns.
pub(crate) struct Spec {
    pub link: LinkId,
    pub conn: ConnKind,
    pub host: String,
    pub port: u16,
    pub generation: u64,
    pub opts: LinkOptions,
}

/// Largest batch written in one go when draining queued requests.
const MAX_BATCH_BYTES: usize = 256 * 1024;

/// The task body: run the session, then report why it ended.
pub(crate) async fn run(
    spec: Spec,
    mut rx: mpsc::Receiver<Outgoing>,
    overflow: Arc<Notify>,
    events: mpsc::Sender<LinkEvent>,
) {
    let ev = match session(&spec, &mut rx, &overflow, &events).await {
        Ok(()) => return, // the manager dropped us: nobody is listening
        Err(Ended::NotStarted(error)) => Event::ConnectFailed {
            link: spec.link,
            conn: spec.conn,
            error,
        },
        Err(Ended::Broken(error)) => Event::Disconnected {
            link: spec.link,
            conn: spec.conn,
            error,
        },
    };
    let _ = events.send(spec.event(ev)).await;
}

/// Why a session ended, in hiredis' terms: before the TCP connect was even attempted
/// (reported synchronously by hiredis), or afterwards (through its callbacks).
enum Ended {
    NotStarted(String),
    Broken(String),
}

impl From<String> for Ended {
    fn from(e: String) -> Self {
        Ended::Broken(e)
    }
}

impl Spec {
    fn event(&self, event: Event) -> LinkEvent {
        LinkEvent {
            generation: self.generation,
            link: self.link,
            conn: self.conn,
            event,
        }
    }
}

/// Connect and shuttle bytes. `Err` carries the hiredis-style reason for the
/// `Disconnected` (or `ConnectFailed`) event; `Ok` means the request channel was closed
/// by the manager.
async fn session(
    spec: &Spec,
    rx: &mut mpsc::Receiver<Outgoing>,
    overflow: &Notify,
    events: &mpsc::Sender<LinkEvent>,
) -> Result<(), Ended> {
    let stream = connect(spec).await?;
    let local_ip = stream
        .local_addr()
        .map(|a| a.ip().to_string())
        .map_err(|e| io_error_text(&e))?;
    let connected = Event::Connected {
        link: spec.link,
        conn: spec.conn,
        local_ip,
    };
    if events.send(spec.event(connected)).await.is_err() {
        return Ok(());
    }
    let pending = Mutex::new(VecDeque::new());
    let res = match &spec.opts.tls {
        None => {
            let (r, w) = stream.into_split();
            shuttle(spec, r, w, rx, &pending, overflow, events).await
        }
        // `tls-replication`: like hiredis, the handshake runs on the connected socket
        // (requests queue meanwhile); a failed one drops the link.
        Some(tls) => {
            let handshake = tokio::select! {
                r = tls.connect(stream) => r,
                _ = overflow.notified() => Err("Output buffer limit reached".to_string()),
            };
            let (r, w) = tokio::io::split(handshake.map_err(Ended::Broken)?);
            shuttle(spec, r, w, rx, &pending, overflow, events).await
        }
    };
    res.map_err(Ended::Broken)
}

async fn shuttle(
    spec: &Spec,
    r: impl AsyncRead + Unpin,
    w: impl AsyncWrite + Unpin,
    rx: &mut mpsc::Receiver<Outgoing>,
    pending: &Mutex<VecDeque<Option<ReqId>>>,
    overflow: &Notify,
    events: &mpsc::Sender<LinkEvent>,
) -> Result<(), String> {
    tokio::select! {
        res = writer(w, rx, pending) => res,
        res = reader(spec, r, pending, events) => res,
        _ = overflow.notified() => Err("Output buffer limit reached".to_string()),
    }
}

async fn connect(spec: &Spec) -> Result<TcpStream, Ended> {
    let addr = resolve(&spec.host, spec.port).await?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| Ended::NotStarted(io_error_text(&e)))?;
    if let Some(src) = spec.opts.bind_source_addr {
        socket
            .bind(SocketAddr::new(src, 0))
            .map_err(|e| Ended::NotStarted(format!("Can't bind socket: {}", io_error_text(&e))))?;
    }
    let stream = tokio::time::timeout(spec.opts.connect_timeout, socket.connect(addr))
        .await
        .map_err(|_| "Connection timed out".to_string())?
        .map_err(|e| io_error_text(&e))?;
    // hiredis sets TCP_NODELAY on the connections it opens.
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

/// Literal addresses skip the resolver; names are looked up here, off the event loop.
pub(crate) async fn resolve(host: &str, port: u16) -> Result<SocketAddr, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let mut addrs = tokio::net::lookup_host((host, port)).await.map_err(|e| {
        let text = io_error_text(&e);
        text.strip_prefix("failed to lookup address information: ")
            .map(str::to_string)
            .unwrap_or(text)
    })?;
    addrs
        .next()
        .ok_or_else(|| "Name or service not known".to_string())
}

/// Write requests as they come, pipelining whatever is already queued into one write.
/// Each request's correlation id is queued before its bytes leave, so the reader can
/// never see a reply it cannot match.
async fn writer(
    mut w: impl AsyncWrite + Unpin,
    rx: &mut mpsc::Receiver<Outgoing>,
    pending: &Mutex<VecDeque<Option<ReqId>>>,
) -> Result<(), String> {
    let mut buf = BytesMut::new();
    while let Some(first) = rx.recv().await {
        buf.clear();
        let mut reqs = vec![first.req];
        buf.extend_from_slice(&first.bytes);
        while buf.len() < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(next) => {
                    reqs.push(next.req);
                    buf.extend_from_slice(&next.bytes);
                }
                Err(_) => break,
            }
        }
        pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(reqs);
        w.write_all(&buf).await.map_err(|e| io_error_text(&e))?;
    }
    Ok(())
}

/// Read buffer of a link that holds part of a reply (see [`reader`]).
const READ_IDLE: usize = 1024;
/// The scratch buffer every link of a thread reads into: one `recv` takes a whole INFO
/// reply or a burst of hellos, as redis-sentinel's 16 KiB reads do, while an idle link
/// holds no buffer at all (2,000 links at 1,000 masters).
const SCRATCH: usize = 16 * 1024;

thread_local! {
    static SCRATCH_BUF: std::cell::RefCell<Box<[u8]>> =
        std::cell::RefCell::new(vec![0u8; SCRATCH].into_boxed_slice());
}

/// One read into the thread's scratch buffer, decoded at once: complete replies go to
/// `out`, an incomplete tail to `rest`. `Ok(false)`: the server closed the connection.
/// A protocol error is returned after the replies before it.
fn poll_read_scratch(
    cx: &mut Context<'_>,
    r: &mut (impl AsyncRead + Unpin),
    out: &mut Vec<Reply>,
    rest: &mut BytesMut,
) -> Poll<Result<bool, String>> {
    SCRATCH_BUF.with_borrow_mut(|scratch| {
        let mut rb = ReadBuf::new(scratch);
        match Pin::new(r).poll_read(cx, &mut rb) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(io_error_text(&e))),
            Poll::Ready(Ok(())) => {}
        }
        let data = rb.filled();
        if data.is_empty() {
            return Poll::Ready(Ok(false));
        }
        // An error with replies before it comes back when `rest` is decoded next.
        let used = decode_replies(data, out).map_err(|e| e.0)?;
        rest.extend_from_slice(&data[used..]);
        Poll::Ready(Ok(true))
    })
}

/// Decode replies and route them: pub/sub messages to `Message`, replies to the
/// request they answer (in order), replies nobody waits for are dropped.
async fn reader(
    spec: &Spec,
    mut r: impl AsyncRead + Unpin,
    pending: &Mutex<VecDeque<Option<ReqId>>>,
    events: &mpsc::Sender<LinkEvent>,
) -> Result<(), String> {
    // `buf` holds only an incomplete reply (a large INFO split over reads).
    let mut buf = BytesMut::new();
    let mut replies = Vec::new();
    loop {
        let failed = loop {
            match decode_reply(&mut buf) {
                Ok(Some(reply)) => replies.push(reply),
                Ok(None) => break None,
                Err(e) => break Some(e.0),
            }
        };
        // The replies before a protocol error are delivered before it is reported.
        for reply in replies.drain(..) {
            if !route(spec, reply, pending, events).await {
                return Ok(());
            }
        }
        if let Some(e) = failed {
            return Err(e);
        }
        if buf.len() > spec.opts.max_reply_bytes {
            return Err("Reply too large".to_string());
        }
        if buf.is_empty() {
            // Emptied after a large reply, the buffer is given back.
            if buf.capacity() > READ_IDLE {
                buf = BytesMut::new();
            }
            let open =
                std::future::poll_fn(|cx| poll_read_scratch(cx, &mut r, &mut replies, &mut buf));
            if !open.await? {
                return Err("Server closed the connection".to_string());
            }
            continue;
        }
        // Growing only for a reply that does not fit.
        buf.reserve(buf.len().max(READ_IDLE) * 2);
        match r.read_buf(&mut buf).await {
            Ok(0) => return Err("Server closed the connection".to_string()),
            Ok(_) => {}
            Err(e) => return Err(io_error_text(&e)),
        }
    }
}

/// Route one reply; `false` when nobody listens any more.
async fn route(
    spec: &Spec,
    reply: Reply,
    pending: &Mutex<VecDeque<Option<ReqId>>>,
    events: &mpsc::Sender<LinkEvent>,
) -> bool {
    let event = if spec.conn == ConnKind::PubSub
        && let Some((channel, payload)) = as_message(&reply)
    {
        Some(Event::Message {
            link: spec.link,
            channel,
            payload,
        })
    } else {
        let req = pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop_front()
            .flatten();
        match (req, reply) {
            (Some(_), reply) if spec.conn == ConnKind::PubSub && is_subscription_ack(&reply) => {
                None
            }
            (Some(req), reply) => Some(Event::Reply {
                link: spec.link,
                req,
                reply,
            }),
            // On the pub/sub connection only SUBSCRIBE goes without an id; its
            // error is news for the core. Elsewhere `None` means "drop the reply".
            (None, Reply::Error(e)) if spec.conn == ConnKind::PubSub => {
                Some(Event::UntrackedError {
                    link: spec.link,
                    conn: spec.conn,
                    error: e,
                })
            }
            (None, _) => None,
        }
    };
    match event {
        Some(ev) => events.send(spec.event(ev)).await.is_ok(),
        None => true,
    }
}
