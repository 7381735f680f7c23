//! One client connection: a reader loop that parses and executes requests in order
//! (pipelining falls out of parsing everything buffered before reading again), and a
//! writer task that drains the client's output buffer, so pub/sub messages queued by
//! other tasks interleave correctly with replies.
//!
//! The replies to one batch of requests are collected by the reader and written by it
//! directly when the socket is free (no hop to the writer task on the query path); whoever
//! holds the socket takes the client's output buffer first, so bytes leave in the order
//! they were queued. A subscribed client's replies go through the output buffer one by
//! one, in order with the messages other tasks queue for it.

use super::Server;
use crate::commands::session::{ReplyMode, Session};
use crate::config::LogLevel;
use crate::resp::request::{ProtoError, RequestParser};
use crate::state::State;
use crate::state::clients::{ClientShared, Endpoints};
use crate::tls::TlsContexts;
use bytes::{Bytes, BytesMut};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};

type Reader = Box<dyn AsyncRead + Send + Unpin>;
type Writer = Box<dyn AsyncWrite + Send + Unpin>;
/// The write half, shared by the reader (direct replies) and the writer task.
type SharedWriter = Arc<tokio::sync::Mutex<Writer>>;

/// Past this much unsent output a (non pub/sub) client is not read from until the
/// writer catches up: a pipelining client that never reads cannot grow us unboundedly.
const BACKPRESSURE_BYTES: usize = 4 * 1024 * 1024;

/// Replies collected in one batch past this are written before parsing further.
const BATCH_FLUSH_BYTES: usize = 64 * 1024;

pub async fn run(server: Arc<Server>, stream: TcpStream) {
    run_tcp(server, stream, None).await
}

/// A client of `tls-port`: the handshake first (a failure is logged like redis does and
/// closes the connection), then the same session as on the plain port.
pub async fn run_tls(server: Arc<Server>, stream: TcpStream, tls: Arc<TlsContexts>) {
    run_tcp(server, stream, Some(tls)).await
}

/// A client of the `unixsocket`: local by definition (protected mode lets it in), no
/// TCP options to set.
pub async fn run_unix(server: Arc<Server>, stream: UnixStream, path: Arc<str>) {
    verbose(&server, || format!("Accepted connection to {path}"));
    let fd = raw_fd(&stream);
    let (r, w) = stream.into_split();
    serve_client(
        server,
        Endpoints::unix(&path),
        None,
        fd,
        Box::new(r),
        Box::new(w),
    )
    .await
}

/// INFO's `total_connections_received`, counted as Redis counts it: once a connection
/// became a client (past maxclients and protected mode, after a TLS handshake).
fn count_connection(state: &State) {
    state
        .stats
        .connections_received
        .fetch_add(1, Ordering::Relaxed);
}

async fn run_tcp(server: Arc<Server>, stream: TcpStream, tls: Option<Arc<TlsContexts>>) {
    let _ = stream.set_nodelay(true);
    let (Ok(addr), Ok(laddr)) = (stream.peer_addr(), stream.local_addr()) else {
        return;
    };
    // Redis prints the bare address (no brackets around IPv6).
    verbose(&server, || {
        format!("Accepted {}:{}", addr.ip().to_canonical(), addr.port())
    });
    let fd = raw_fd(&stream);
    let (rd, wr): (Reader, Writer) = match tls {
        None => {
            let (r, w) = stream.into_split();
            (Box::new(r), Box::new(w))
        }
        // Redis judges maxclients before the handshake; its TLS connection cannot
        // write yet, so the client sees the connection close without a reply.
        Some(_) if server.state.clients.len() >= server.state.cfg.maxclients as usize => {
            server
                .state
                .stats
                .rejected_connections
                .fetch_add(1, Ordering::Relaxed);
            return;
        }
        Some(ctx) => match ctx.accept(stream).await {
            Ok(s) => {
                let (r, w) = tokio::io::split(s);
                (Box::new(r), Box::new(w))
            }
            Err(e) => {
                server.logger.log(
                    LogLevel::Warning,
                    &format!("Error accepting a client connection: {e}"),
                );
                return;
            }
        },
    };
    serve_client(server, Endpoints::tcp(addr, laddr), Some(addr), fd, rd, wr).await
}

/// The session of an accepted connection, whatever its transport: `remote` is the TCP
/// peer (protected mode and keepalive apply to it), `None` for the unix socket.
async fn serve_client(
    server: Arc<Server>,
    at: Endpoints,
    remote: Option<SocketAddr>,
    fd: i32,
    mut rd: Reader,
    mut wr: Writer,
) {
    let state = &*server.state;
    if state.clients.len() >= state.cfg.maxclients as usize {
        return refuse(state, &mut wr, b"-ERR max number of clients reached\r\n").await;
    }
    if let Some(remote) = remote {
        let default_nopass = state.users().users.get("default").is_some_and(|u| u.nopass);
        if super::accept::protected_denied(state.cfg.protected_mode, default_nopass, &remote) {
            // Redis refuses it after creating its client: the id is spent.
            state.clients.next_id();
            return refuse(state, &mut wr, super::accept::DENIED.as_bytes()).await;
        }
        super::accept::set_keepalive(fd, state.cfg.tcp_keepalive);
    }
    count_connection(state);
    let client = Arc::new(ClientShared::new(state.clients.next_id(), at, fd));
    state.clients.add(client.clone());
    let wr: SharedWriter = Arc::new(tokio::sync::Mutex::new(wr));
    let writer = tokio::spawn(crate::process::crash::isolated(write_loop(
        server.clone(),
        client.clone(),
        wr.clone(),
    )));

    let mut sess = Session::new(client.clone(), !state.users().auth_required());
    let mut replies = BytesMut::new();
    read_loop(&server, &mut sess, &mut rd, &wr, &mut replies).await;
    server.shell.perform_deferred(&mut sess.deferred);
    queue_replies(state, &client, &mut replies);
    crate::commands::tracking::stop(state, &mut sess);

    client.close_after_reply();
    let _ = writer.await;
    state.hub().remove_client(client.id);
    state.clients.remove(client.id);
}

/// A line Redis logs at verbose level about a client (built only when it is logged).
fn verbose(server: &Server, line: impl FnOnce() -> String) {
    if server.logger.enabled(LogLevel::Verbose) {
        server.logger.log(LogLevel::Verbose, &line());
    }
}

/// A connection turned away before its session starts: the error, then close.
async fn refuse(state: &State, wr: &mut Writer, error: &[u8]) {
    state
        .stats
        .rejected_connections
        .fetch_add(1, Ordering::Relaxed);
    let _ = wr.write_all(error).await;
}

fn raw_fd(s: &impl std::os::fd::AsRawFd) -> i32 {
    s.as_raw_fd()
}

async fn read_loop(
    server: &Server,
    sess: &mut Session,
    rd: &mut Reader,
    wr: &SharedWriter,
    replies: &mut BytesMut,
) {
    let state = &*server.state;
    let client = sess.client.clone();
    let mut buf = BytesMut::with_capacity(16 * 1024);
    let mut parser = RequestParser::new();
    let mut args = Vec::new();
    // The time of the requests being executed (`CLIENT LIST`'s `idle`, in seconds): read
    // at the first command after each wait, not per command (a clock read cost about as
    // much as a pipelined PING).
    let mut now: Option<u64> = None;
    loop {
        loop {
            let need_auth = !sess.authed;
            let before_len = buf.len();
            match parser.next_into(&mut buf, need_auth, &mut args) {
                Ok(true) => {
                    client.activity.set_qbuf(before_len - buf.len());
                    if state.current_pause().is_some() {
                        // Earlier replies of the batch are not held back by the pause.
                        server.shell.perform_deferred(&mut sess.deferred);
                        queue_replies(state, &client, replies);
                        wait_if_paused(state, &client, &args).await;
                        now = None;
                    }
                    if client.is_killed() {
                        return;
                    }
                    if !sess.deferred.is_empty() && !crate::commands::defers_actions(&args) {
                        server.shell.perform_deferred(&mut sess.deferred);
                        now = None;
                    }
                    client.touch(*now.get_or_insert_with(|| client.clock(Instant::now())));
                    client
                        .activity
                        .set_req_len(args.iter().map(|a| a.len()).sum());
                    // The reply is encoded straight into the batch (dropped again if
                    // CLIENT REPLY says so).
                    let start = replies.len();
                    if crate::commands::execute(state, &server.shell, sess, &args, replies) {
                        state
                            .stats
                            .commands_processed
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    args.clear();
                    client.activity.end_request(replies.len() - start);
                    emit(sess, start, replies);
                    if sess.close {
                        return;
                    }
                    if sess.subscribed() {
                        server.shell.perform_deferred(&mut sess.deferred);
                        queue_replies(state, &client, replies);
                    } else if replies.len() > BATCH_FLUSH_BYTES {
                        server.shell.perform_deferred(&mut sess.deferred);
                        if !(flush_replies(server, &client, wr, replies).await
                            && backpressure(&client).await)
                        {
                            return;
                        }
                        now = None;
                    }
                }
                Ok(false) => break,
                Err(e) => {
                    replies.extend_from_slice(&e.to_wire());
                    state.stats.error_replies.fetch_add(1, Ordering::Relaxed);
                    verbose(server, || {
                        format!(
                            "Protocol error ({}) from client: {}. {}",
                            e.log_reason(),
                            client.describe(),
                            ProtoError::query_dump(&buf)
                        )
                    });
                    return;
                }
            }
        }
        // The batch's votes and hellos are saved (one config write) before the replies.
        server.shell.perform_deferred(&mut sess.deferred);
        if !replies.is_empty() && !flush_replies(server, &client, wr, replies).await {
            return;
        }
        if !sess.subscribed() && !backpressure(&client).await {
            return;
        }
        let idle = match state.cfg.timeout {
            t if t > 0 && !sess.subscribed() => Some(Duration::from_secs(t)),
            _ => None,
        };
        // No timer at all without a timeout (registering one per read is not free).
        let idle_timer = async {
            match idle {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        buf.reserve(16 * 1024);
        // Checked here too (an atomic) so that the read can go first below: while bytes
        // keep arriving, a killed client still stops at the next read.
        if client.is_killed() {
            return;
        }
        // The read first: when bytes are already there the other branches are never
        // polled, so they do not register (and then unregister) their wakers.
        tokio::select! {
            biased;
            r = rd.read_buf(&mut buf) => {
                state.stats.reads_processed.fetch_add(1, Ordering::Relaxed);
                match r {
                    Ok(0) => {
                        verbose(server, || format!("Client closed connection {}", client.describe()));
                        return;
                    }
                    Err(e) => {
                        verbose(server, || format!("Reading from client: {}", crate::config::strerror(&e)));
                        return;
                    }
                    Ok(n) => {
                        state.stats.net_input_bytes.fetch_add(n as u64, Ordering::Relaxed);
                        now = None;
                    }
                }
            }
            _ = client.cancel.cancelled() => return,
            _ = idle_timer => {
                verbose(server, || "Closing idle client".to_string());
                return;
            }
        }
    }
}

/// Keep or drop a command's output (`replies[start..]`), honouring `CLIENT REPLY OFF|SKIP`
/// (but not for pushes, as Redis' `CLIENT_PUSHING`). As Redis' `resetClient`: a SKIP
/// lasts one command, and a `CLIENT REPLY SKIP` (even one that was itself skipped)
/// skips the next; `CLIENT REPLY ON` answers `+OK` from OFF and from SKIP.
fn emit(sess: &mut Session, start: usize, replies: &mut BytesMut) {
    let send = sess.reply_mode == ReplyMode::On || std::mem::take(&mut sess.pushing);
    sess.reply_mode = match sess.reply_mode {
        ReplyMode::SkipNext => ReplyMode::Skip,
        ReplyMode::Skip => ReplyMode::On,
        mode => mode,
    };
    if !send {
        replies.truncate(start);
    }
}

/// Replies are queued (rather than written by the reader) only while the writer task is
/// busy: past [`BACKPRESSURE_BYTES`] of them, wait until it drained them. False if the
/// client was killed meanwhile.
async fn backpressure(client: &ClientShared) -> bool {
    if client.pending_output() > BACKPRESSURE_BYTES {
        let drained = client.drained.notified();
        if client.pending_output() > BACKPRESSURE_BYTES {
            tokio::select! {
                _ = drained => {}
                _ = client.cancel.cancelled() => return false,
            }
        }
    }
    true
}

/// Hand the collected replies to the writer task (behind anything already queued).
fn queue_replies(state: &State, client: &ClientShared, replies: &mut BytesMut) {
    if !replies.is_empty() {
        state.hub().queue_for(client, replies);
        replies.clear();
    }
}

/// Write the collected replies now if the socket is free, else queue them for the writer
/// task. Output other tasks queued before goes first. False if the client is gone.
async fn flush_replies(
    server: &Server,
    client: &ClientShared,
    wr: &SharedWriter,
    replies: &mut BytesMut,
) -> bool {
    let state = &*server.state;
    let Ok(mut w) = wr.try_lock() else {
        queue_replies(state, client, replies);
        return true;
    };
    // Not `take_output`: only this task waits for `drained`, and it is not waiting now.
    let mut queued = client.take_queued();
    // Without queued output the batch is written from `replies` itself, which keeps its
    // allocation for the next batch: handing it over made every batch grow a new buffer
    // from nothing (a copy at each doubling; 10% of the time of `SENTINEL MASTERS -P 16`).
    let data: &[u8] = if queued.is_empty() {
        replies
    } else {
        queued.extend_from_slice(replies);
        &queued
    };
    let len = data.len();
    state.stats.writes_processed.fetch_add(1, Ordering::Relaxed);
    // The write first: it usually completes at once, and then the cancellation branch
    // is never polled (registering its waker costs a lock).
    let ok = tokio::select! {
        biased;
        r = w.write_all(data) => {
            if let Err(e) = r {
                write_failed(server, client, &e);
                false
            } else {
                state.stats.net_output_bytes.fetch_add(len as u64, Ordering::Relaxed);
                true
            }
        }
        _ = client.cancel.cancelled() => false,
    };
    replies.clear();
    // A one-off large reply does not pin its buffer for the life of the connection.
    if replies.capacity() > KEEP_REPLY_BUFFER {
        *replies = BytesMut::new();
    }
    ok
}

/// Largest reply buffer a connection keeps between batches.
const KEEP_REPLY_BUFFER: usize = 64 * 1024;

/// Block command execution while a CLIENT PAUSE is in effect.
/// `WRITE` pauses only stop PUBLISH, the one "may-replicate" command of a sentinel.
async fn wait_if_paused(state: &State, client: &ClientShared, args: &[Bytes]) {
    while let Some(p) = state.current_pause() {
        let is_publish = args
            .first()
            .is_some_and(|a| a.eq_ignore_ascii_case(b"publish"));
        if !p.all && !is_publish {
            return;
        }
        let unpaused = state.unpaused.notified();
        let left = p.until.saturating_duration_since(Instant::now());
        tokio::select! {
            _ = unpaused => {}
            _ = tokio::time::sleep(left) => {}
            _ = client.cancel.cancelled() => return,
        }
    }
}

/// A write to the client failed: Redis' verbose line, and the client goes.
fn write_failed(server: &Server, client: &ClientShared, e: &std::io::Error) {
    verbose(server, || {
        format!("Error writing to client: {}", crate::config::strerror(e))
    });
    client.kill();
}

async fn write_loop(server: Arc<Server>, client: Arc<ClientShared>, wr: SharedWriter) {
    let state = &server.state;
    loop {
        // Take the output only with the socket in hand: the reader may be writing its
        // replies, which were queued after anything this would take now.
        // `biased`, the lock and below the write first: they are usually ready at once,
        // and then the cancellation branch is never polled (registering its waker and
        // dropping it again is a cost per message in a fan-out). A kill is still seen: it
        // wakes the wait below too, and a blocked lock or write polls the token.
        let mut w = tokio::select! {
            biased;
            w = wr.lock() => w,
            _ = client.cancel.cancelled() => break,
        };
        let data = client.take_output();
        if data.is_empty() {
            drop(w);
            if client.is_killed() || client.is_closing() {
                break;
            }
            // `kill` and `close_after_reply` notify `wake` as well, and a notification
            // given while nobody waits is kept: this wait needs no token.
            client.wake.notified().await;
            continue;
        }
        state.stats.writes_processed.fetch_add(1, Ordering::Relaxed);
        tokio::select! {
            biased;
            r = w.write_all(&data) => {
                if let Err(e) = r {
                    write_failed(&server, &client, &e);
                    break;
                }
                state.stats.net_output_bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
            }
            _ = client.cancel.cancelled() => break,
        }
    }
    let _ = wr.lock().await.shutdown().await;
    // Wake the reader if it is still waiting for input.
    client.kill();
}
