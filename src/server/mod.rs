//! The client-facing tokio server: the accept loops, one task per connection
//! ([`conn::run`]) and the rate sampler.
//!
//! It owns sockets and tasks only. What the connections share (clients, hub, users,
//! counters) is [`crate::state::State`], built before the server, and what a request
//! does is [`crate::commands::execute`]; nothing below imports this module.

pub mod accept;
pub mod conn;
pub mod fdlimit;
pub mod listen;
pub mod unix;

use crate::config::LogLevel;
use crate::log::Logger;
use crate::process::crash::isolated;
use crate::shell::Shell;
use crate::state::State;
use crate::tls::TlsContexts;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

pub struct Server {
    pub state: Arc<State>,
    pub shell: Arc<Shell>,
    /// Where accept failures are reported.
    logger: Arc<Logger>,
    /// One rate sampler per server, however many listeners serve it.
    sampling: AtomicBool,
}

impl Server {
    pub fn new(state: Arc<State>, shell: Arc<Shell>, logger: Arc<Logger>) -> Arc<Server> {
        Arc::new(Server {
            state,
            shell,
            logger,
            sampling: AtomicBool::new(false),
        })
    }

    /// Accept connections forever (one task per client).
    pub async fn serve(self: Arc<Server>, listener: TcpListener) {
        self.serve_on(listener, None).await
    }

    /// Accept `tls-port` connections forever; each task runs its own handshake.
    pub async fn serve_tls(self: Arc<Server>, listener: TcpListener, tls: Arc<TlsContexts>) {
        self.serve_on(listener, Some(tls)).await
    }

    /// Accept `unixsocket` connections forever; `path` is the configured one, which
    /// `CLIENT LIST` shows as every such client's address.
    pub async fn serve_unix(self: Arc<Server>, listener: tokio::net::UnixListener, path: Arc<str>) {
        self.start_sampling();
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let (s, path) = (self.clone(), path.clone());
                    tokio::spawn(isolated(conn::run_unix(s, stream, path)));
                }
                Err(e) => self.accept_failed(&e).await,
            }
        }
    }

    fn start_sampling(&self) {
        if self
            .sampling
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            tokio::spawn(sample_rates(self.state.clone()));
        }
    }

    async fn accept_failed(&self, e: &std::io::Error) {
        // redis-sentinel 7.0.15 logs this at warning level (acceptTcpHandler).
        self.logger
            .log(LogLevel::Warning, &accept::accept_error_line(e));
        // Redis retries on the next readiness; the pause keeps a persistent failure
        // (EMFILE) from spinning the loop.
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    async fn serve_on(self: Arc<Server>, listener: TcpListener, tls: Option<Arc<TlsContexts>>) {
        self.start_sampling();
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    let s = self.clone();
                    match &tls {
                        None => tokio::spawn(isolated(conn::run(s, stream))),
                        Some(t) => {
                            let t = t.clone();
                            tokio::spawn(isolated(conn::run_tls(s, stream, t)))
                        }
                    };
                }
                Err(e) => self.accept_failed(&e).await,
            }
        }
    }
}

/// Feed the `instantaneous_*` INFO figures every 100 ms (Redis samples in serverCron).
async fn sample_rates(state: Arc<State>) {
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tick.tick().await;
        let st = &state.stats;
        st.rates.sample(
            st.commands_processed.load(Ordering::Relaxed),
            st.net_input_bytes.load(Ordering::Relaxed),
            st.net_output_bytes.load(Ordering::Relaxed),
            Instant::now(),
        );
    }
}
