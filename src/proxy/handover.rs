//! Moving an open proxied connection to the new master after our own coordinated
//! failover (issue #11): for its client the handover is a pause, not an error.
//!
//! Only after a coordinated failover: there the old master handed every write it had
//! acknowledged to the new one (`FAILOVER TO`) and demoted itself, so a client that goes
//! on with the new master has lost nothing. After a crash or a plain promotion the
//! connection is closed, the honest answer when acknowledged writes may be gone.
//!
//! Nothing is parsed on the byte path: what follows happens once per connection, at the
//! switch, and asks Redis what the proxy cannot see.
//! 1. The connection has been fenced since the failover began, so the old master got
//!    its last bytes long ago; the proxy waits for the kernel to have them acknowledged
//!    (`SIOCOUTQ` 0), then reads the old master's `CLIENT LIST` on a connection of its
//!    own: one listing, asked after that moment, serves every connection moving off
//!    that master ([`Inspector`]).
//! 2. The connection's line must show it between two requests (nothing in the query or
//!    output buffers, no blocked command) and free of state that cannot be carried over:
//!    no MULTI, subscription, tracking or MONITOR, and the user is `default` or the
//!    master's `auth-user` (the one identity the proxy can re-establish).
//! 3. Being at a request boundary, the proxy then writes on the connection itself
//!    `ECHO <token>`, `CLIENT INFO`, `UNWATCH`, `CLIENT INFO`. Replies before the token
//!    are the client's and are delivered. The first `CLIENT INFO` is the session as it
//!    is; the pair betrays WATCHed keys, which Redis 7.0 does not list but counts in
//!    `tot-mem` (56 bytes a key) until `UNWATCH` releases them. A WATCH cannot be
//!    carried (the keys are unknown), and an EXEC that silently lost its guard would be
//!    worse than an error.
//! 4. The new master is dialled and given the same session (`AUTH` with the master's
//!    credentials, `HELLO 3`, `SELECT`, `CLIENT SETNAME`, `CLIENT NO-EVICT`) and an
//!    `ECHO` of the token; every reply must be a success. The client's bytes held by the
//!    fence go out after that.
//!
//! Any step that fails, or finds state it cannot carry, ends as every other switch
//! does: the client's connection is closed.

use crate::core::route::RouteView;
use crate::links::wire::encode_request;
use bytes::{Bytes, BytesMut};
use redis_protocol::resp3::decode::complete::decode;
use redis_protocol::resp3::types::{FrameKind, OwnedFrame, Resp3Frame};
use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio::time::Instant;

/// The longest a move may take; past it the client is closed as at any other switch.
pub const MOVE_BOUND: Duration = Duration::from_secs(2);
/// How long a `CLIENT LIST` of an old master is kept for connections moving after it.
const LISTING_KEPT: Duration = Duration::from_secs(10);

/// The session of a connection, as Redis describes it, that a new connection can be
/// given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    pub user: String,
    pub db: u32,
    pub name: String,
    pub resp3: bool,
    pub no_evict: bool,
}

/// The `key=value` fields of a `CLIENT LIST` / `CLIENT INFO` line. Values have no
/// spaces: Redis refuses them in names and user names.
pub fn fields(line: &str) -> HashMap<&str, &str> {
    line.split_ascii_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .collect()
}

/// Why a connection cannot be moved (logged at debug level, the client is closed).
pub type Refusal = &'static str;

/// The session of the connection described by `line`, if it can be carried over.
/// `quiet` also asks for empty query and output buffers and no blocked command: true
/// for the listing read on another connection, false for the `CLIENT INFO` asked on
/// the connection itself (its buffers then hold the probe).
pub fn movable(line: &str, auth_user: Option<&str>, quiet: bool) -> Result<Session, Refusal> {
    let f = fields(line);
    let is = |k: &str, v: &str| f.get(k).is_none_or(|x| *x == v);
    if quiet && !(is("qbuf", "0") && is("obl", "0") && is("oll", "0")) {
        return Err("a request or its reply is still on the way");
    }
    if !is("multi", "-1") {
        return Err("in a transaction");
    }
    if !(is("sub", "0") && is("psub", "0") && is("ssub", "0")) {
        return Err("subscribed");
    }
    if !is("redir", "-1") {
        return Err("client-side caching");
    }
    // `watch` exists from Redis 7.4 on; older ones are probed (see the module).
    if !is("watch", "0") {
        return Err("watching keys");
    }
    let flags = f.get("flags").copied().ok_or("no flags")?;
    if !flags.chars().all(|c| c == 'N' || c == 'e') {
        return Err("a flag that cannot be carried (blocked, MONITOR, tracking, ...)");
    }
    let user = f.get("user").copied().unwrap_or("default");
    if user != "default" && Some(user) != auth_user {
        return Err("a user whose password the sentinel does not have");
    }
    Ok(Session {
        user: user.to_string(),
        db: f.get("db").and_then(|d| d.parse().ok()).ok_or("no db")?,
        name: f.get("name").copied().unwrap_or("").to_string(),
        resp3: f.get("resp").copied() == Some("3"),
        no_evict: flags.contains('e'),
    })
}

/// The commands that give a new connection session `s`, ending with `ECHO token`.
pub fn prelude(
    s: &Session,
    auth_user: Option<&str>,
    auth_pass: Option<&str>,
    token: &str,
) -> Vec<Vec<Bytes>> {
    let b = |parts: &[&str]| parts.iter().map(|p| Bytes::from(p.to_string())).collect();
    let mut out: Vec<Vec<Bytes>> = Vec::new();
    if let Some(pass) = auth_pass {
        match auth_user {
            Some(u) if u == s.user => out.push(b(&["AUTH", u, pass])),
            None if s.user == "default" => out.push(b(&["AUTH", pass])),
            // The client is `default` and the sentinel's credentials are another
            // user's: `default` needs no password there, as on the old master.
            _ => {}
        }
    }
    if s.resp3 {
        out.push(b(&["HELLO", "3"]));
    }
    if s.db != 0 {
        out.push(b(&["SELECT", &s.db.to_string()]));
    }
    if !s.name.is_empty() {
        out.push(b(&["CLIENT", "SETNAME", &s.name]));
    }
    if s.no_evict {
        out.push(b(&["CLIENT", "NO-EVICT", "on"]));
    }
    out.push(b(&["ECHO", token]));
    out
}

fn encode(cmds: &[Vec<Bytes>]) -> BytesMut {
    let mut out = BytesMut::new();
    for c in cmds {
        encode_request(c, &mut out);
    }
    out
}

/// The `CLIENT LIST` of old masters, shared by every connection moving off one: a
/// thousand connections moving at once cost one listing, not a thousand.
#[derive(Default)]
pub struct Inspector {
    lists: Mutex<HashMap<(String, u16), Listing>>,
}

struct Listing {
    asked: Instant,
    /// Lines by `addr=` (the proxy's end of each connection).
    lines: Arc<HashMap<String, String>>,
}

impl Inspector {
    /// The line of `server`'s client at `addr`, from a listing asked after `after`.
    async fn line(
        &self,
        server: &(String, u16),
        view: &RouteView,
        addr: &str,
        after: Instant,
    ) -> Option<String> {
        let mut lists = self.lists.lock().await;
        if let Some(l) = lists.get(server).filter(|l| l.asked >= after) {
            return l.lines.get(addr).cloned();
        }
        let asked = Instant::now();
        let lines = Arc::new(client_list(server, view).await?);
        lists.retain(|_, l| l.asked.elapsed() < LISTING_KEPT);
        let line = lines.get(addr).cloned();
        lists.insert(server.clone(), Listing { asked, lines });
        line
    }
}

/// `CLIENT LIST TYPE normal` of `server`, authenticated with the master's credentials.
async fn client_list(server: &(String, u16), view: &RouteView) -> Option<HashMap<String, String>> {
    let mut s = TcpStream::connect((server.0.as_str(), server.1))
        .await
        .ok()?;
    let mut cmds = Vec::new();
    if let Some(pass) = view.auth_pass.as_deref() {
        let mut auth = vec![Bytes::from_static(b"AUTH")];
        auth.extend(
            view.auth_user
                .as_deref()
                .map(|u| Bytes::from(u.to_string())),
        );
        auth.push(Bytes::from(pass.to_string()));
        cmds.push(auth);
    }
    let list = ["CLIENT", "LIST", "TYPE", "normal"];
    cmds.push(
        list.iter()
            .map(|p| Bytes::from_static(p.as_bytes()))
            .collect(),
    );
    s.write_all(&encode(&cmds)).await.ok()?;
    let mut buf = BytesMut::new();
    let replies = read_frames(&mut s, &mut buf, cmds.len()).await?;
    let text = String::from_utf8(replies.last()?.as_bytes()?.to_vec()).ok()?;
    Some(
        text.lines()
            .filter_map(|l| Some((fields(l).get("addr")?.to_string(), l.to_string())))
            .collect(),
    )
}

/// Read `n` replies from `s` (after what `buf` holds); `None` on an error reply, a
/// protocol error or the end of the connection.
async fn read_frames(s: &mut TcpStream, buf: &mut BytesMut, n: usize) -> Option<Vec<OwnedFrame>> {
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        match decode(buf).ok()? {
            Some((frame, used)) => {
                let _ = buf.split_to(used);
                if matches!(frame.kind(), FrameKind::SimpleError | FrameKind::BlobError) {
                    return None;
                }
                out.push(frame);
            }
            None => {
                if s.read_buf(buf).await.ok()? == 0 {
                    return None;
                }
            }
        }
    }
    Some(out)
}

/// Bytes written on `s` that its peer has not acknowledged yet (`SIOCOUTQ`).
fn unacked(s: &TcpStream) -> Option<usize> {
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (SIOCOUTQ for TCP sockets) writes one int through the pointer.
    let r = unsafe { libc::ioctl(s.as_raw_fd(), libc::TIOCOUTQ, &mut n) };
    (r == 0).then_some(n.max(0) as usize)
}

/// Everything a move needs from the connection being moved.
pub struct Moving<'a> {
    pub client: &'a mut TcpStream,
    /// The connection to the old master, which the move consumes.
    pub server: TcpStream,
    pub old: &'a (String, u16),
    /// The view naming the new master and its credentials.
    pub view: &'a RouteView,
    pub inspector: &'a Inspector,
}

/// Move the connection to the view's master; `None`: it cannot be, close the client.
/// Bounded by [`MOVE_BOUND`].
pub async fn move_to_new_master(m: Moving<'_>) -> Option<TcpStream> {
    tokio::time::timeout(MOVE_BOUND, steps(m))
        .await
        .ok()
        .flatten()
}

async fn steps(m: Moving<'_>) -> Option<TcpStream> {
    let Moving {
        client,
        mut server,
        old,
        view,
        inspector,
    } = m;
    let auth_user = view.auth_user.as_deref();
    // 1. The old master has every byte forwarded to it, then its listing.
    while unacked(&server)? > 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let after = Instant::now();
    let addr = server.local_addr().ok()?.to_string();
    // 2. Between requests, nothing that cannot be carried.
    let line = inspector.line(old, view, &addr, after).await?;
    movable(&line, auth_user, true).ok()?;
    // 3. The probe on the connection itself; the client's last replies come first.
    let token = format!("{:032x}", rand::random::<u128>());
    let probe = [
        vec![Bytes::from_static(b"ECHO"), Bytes::from(token.clone())],
        vec![Bytes::from_static(b"CLIENT"), Bytes::from_static(b"INFO")],
        vec![Bytes::from_static(b"UNWATCH")],
        vec![Bytes::from_static(b"CLIENT"), Bytes::from_static(b"INFO")],
    ];
    server.write_all(&encode(&probe)).await.ok()?;
    let marker = format!("${}\r\n{token}\r\n", token.len()).into_bytes();
    let mut buf = BytesMut::new();
    let at = loop {
        if let Some(at) = buf
            .windows(marker.len())
            .position(|w| w == marker.as_slice())
        {
            break at;
        }
        // Deliver what cannot be the start of the marker.
        let safe = buf.len().saturating_sub(marker.len() - 1);
        client.write_all(&buf.split_to(safe)).await.ok()?;
        if server.read_buf(&mut buf).await.ok()? == 0 {
            return None;
        }
    };
    client.write_all(&buf.split_to(at)).await.ok()?;
    let _ = buf.split_to(marker.len());
    let infos = read_frames(&mut server, &mut buf, 3).await?;
    let text =
        |f: &OwnedFrame| String::from_utf8_lossy(f.as_bytes().unwrap_or_default()).into_owned();
    let (first, second) = (text(&infos[0]), text(&infos[2]));
    let session = movable(&first, auth_user, false).ok()?;
    let mem = |l: &str| fields(l).get("tot-mem").map(|v| v.to_string());
    if mem(&first).is_none() || mem(&first) != mem(&second) {
        return None;
    }
    drop(server);
    // 4. The same session on the new master.
    let (host, port) = (&view.master.0, view.master.1);
    let mut new = TcpStream::connect((host.as_str(), port)).await.ok()?;
    let _ = new.set_nodelay(true);
    let cmds = prelude(&session, auth_user, view.auth_pass.as_deref(), &token);
    new.write_all(&encode(&cmds)).await.ok()?;
    let mut buf = BytesMut::new();
    let replies = read_frames(&mut new, &mut buf, cmds.len()).await?;
    let echoed = replies.last()?.as_bytes()? == token.as_bytes();
    (echoed && buf.is_empty()).then_some(new)
}
