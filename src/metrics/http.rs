//! The HTTP endpoint (`sentinel metrics-port`): `/metrics`, `/health`, `/masters`,
//! `/masters/<name>`. Read-only: any method other than GET/HEAD gets 405, unknown paths
//! and names 404. Changes stay on the RESP port, where ACLs apply.
//!
//! Every request takes a [`Snapshot`] under the core lock (a plain copy) and renders it
//! after the lock is released.

use super::counters::Counters;
use super::render::{CONTENT_TYPE, render_with_proxy};
use super::snapshot::{MasterSnap, Snapshot};
use crate::shell::Shell;
use crate::state::State;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{ALLOW, CONTENT_TYPE as CT};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::net::TcpListener;

/// What the handlers read.
#[derive(Clone)]
pub struct Endpoint {
    shell: Arc<Shell>,
    counters: Arc<Counters>,
    /// Where the built-in proxy counts (issue #11), for its `rsentinel_proxy_*` series.
    state: Arc<State>,
}

const JSON: &str = "application/json";

impl Endpoint {
    pub fn new(shell: Arc<Shell>, counters: Arc<Counters>, state: Arc<State>) -> Self {
        Endpoint {
            shell,
            counters,
            state,
        }
    }

    fn snapshot(&self) -> Snapshot {
        self.shell.with_core(|c, now| Snapshot::take(c, now)).0
    }

    /// Accept connections on `listener` forever, one task per connection.
    pub async fn serve(self, listener: TcpListener) {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let ep = self.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req: Request<Incoming>| {
                    let ep = ep.clone();
                    async move { Ok::<_, Infallible>(ep.handle(req.method(), req.uri().path())) }
                });
                // A client that never finishes its request headers is dropped.
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(std::time::Duration::from_secs(10))
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    }

    /// The response to `method` on `path` (the query string is ignored).
    pub fn handle(&self, method: &Method, path: &str) -> Response<Full<Bytes>> {
        let route = route(path);
        if route == Route::NotFound {
            return json(StatusCode::NOT_FOUND, &Problem::new("not found"));
        }
        if method != Method::GET && method != Method::HEAD {
            let mut r = json(
                StatusCode::METHOD_NOT_ALLOWED,
                &Problem::new("read-only endpoint: only GET and HEAD"),
            );
            r.headers_mut()
                .insert(ALLOW, hyper::header::HeaderValue::from_static("GET, HEAD"));
            return r;
        }
        let snap = self.snapshot();
        match route {
            Route::Metrics => {
                let proxy = self.state.proxy.all();
                let text = render_with_proxy(&snap, &self.counters.values(), &proxy);
                response(StatusCode::OK, CONTENT_TYPE, text.into())
            }
            Route::Health => {
                let h = health(&snap);
                let code = if h.healthy {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                json(code, &h)
            }
            Route::Masters => json(StatusCode::OK, &snap.masters),
            Route::Master(name) => match snap.masters.iter().find(|m| m.name == name) {
                Some(m) => json(StatusCode::OK, m),
                None => json(StatusCode::NOT_FOUND, &Problem::new("no such master")),
            },
            Route::NotFound => unreachable!(),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Route {
    Metrics,
    Health,
    Masters,
    Master(String),
    NotFound,
}

fn route(path: &str) -> Route {
    match path {
        "/metrics" => Route::Metrics,
        "/health" => Route::Health,
        "/masters" | "/masters/" => Route::Masters,
        p => match p.strip_prefix("/masters/") {
            Some(name) if !name.contains('/') => match percent_decode(name) {
                Some(n) => Route::Master(n),
                None => Route::NotFound,
            },
            _ => Route::NotFound,
        },
    }
}

/// `%XX` decoding of a path segment; `None` for a malformed escape or non-UTF-8.
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[derive(Serialize)]
struct Problem {
    error: &'static str,
}

impl Problem {
    fn new(error: &'static str) -> Self {
        Problem { error }
    }
}

/// The `/health` body.
#[derive(Debug, Serialize)]
pub struct Health {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    #[serde(skip)]
    pub healthy: bool,
    pub tilt: bool,
    pub masters: usize,
    /// Why it is unavailable: `tilt` and one entry per master that is SDOWN or ODOWN.
    pub reasons: Vec<String>,
}

/// Healthy: not in TILT and no master SDOWN or ODOWN.
pub fn health(snap: &Snapshot) -> Health {
    let mut reasons = Vec::new();
    if snap.tilt {
        reasons.push(format!(
            "tilt: in TILT mode for {} ms",
            snap.now_ms.saturating_sub(snap.tilt_start_ms)
        ));
    }
    for m in &snap.masters {
        if m.status != "ok" {
            reasons.push(master_reason(m));
        }
    }
    let healthy = reasons.is_empty();
    Health {
        status: if healthy { "ok" } else { "unavailable" },
        healthy,
        tilt: snap.tilt,
        masters: snap.masters.len(),
        reasons,
    }
}

fn master_reason(m: &MasterSnap) -> String {
    format!("master {} at {}:{} is {}", m.name, m.ip, m.port, m.status)
}

fn response(code: StatusCode, ctype: &'static str, body: Bytes) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body));
    *r.status_mut() = code;
    r.headers_mut()
        .insert(CT, hyper::header::HeaderValue::from_static(ctype));
    r
}

fn json<T: Serialize + ?Sized>(code: StatusCode, v: &T) -> Response<Full<Bytes>> {
    let mut body = serde_json::to_vec_pretty(v).unwrap_or_default();
    body.push(b'\n');
    response(code, JSON, body.into())
}

/// Bind the HTTP listeners on the sentinel's `bind` addresses (the same list and rules
/// as the RESP port: a `-` prefix makes an address optional).
pub async fn bind(binds: &[String], port: u16) -> Result<Vec<TcpListener>, String> {
    crate::server::listen::listen_to_port(binds, port, BACKLOG).into_tokio()
}

/// Redis' default `tcp-backlog`: a scrape endpoint needs no more.
const BACKLOG: i32 = 511;
