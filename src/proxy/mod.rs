//! rsentinel's built-in proxy (issue #11): per master, a port that always reaches the
//! master this sentinel believes in, and optionally a read port over healthy replicas.
//!
//! The core decides where bytes may go ([`crate::core::route::RouteView`]); after every
//! call into the core the shell's observer ([`observer`]) publishes the views of the
//! proxied masters on a `watch` channel. This module only reads that channel:
//! - the supervisor ([`Proxy::run`]) binds and drops listeners as ports are set, changed
//!   or turned off, and counts switches;
//! - every accepted connection ([`conn::serve`]) picks its server from the view, waits
//!   while the master is fenced, and closes when its server stops being a valid target.
//!
//! It runs on its own threads and runtimes, so a config fsync or a burst of core work on
//! the sentinel's thread never stalls the byte path.

pub mod conn;
pub mod handover;

use crate::config::LogLevel;
use crate::core::route::RouteView;
use crate::log::Logger;
use crate::shell::Observer;
use crate::state::State;
use crate::state::proxy::MasterProxyStats as S;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::AbortHandle;

/// The runtimes connections are spread over (see [`Proxy::spawn`]).
pub type Shards = Arc<Vec<tokio::runtime::Handle>>;

/// The routing views of the proxied masters, as last published.
pub type Routes = Arc<Vec<RouteView>>;

/// Which port of a master.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `sentinel proxy`: the master.
    Master,
    /// `sentinel proxy-replicas`: healthy replicas, else the master.
    Replicas,
}

impl Kind {
    pub fn port_of(self, r: &RouteView) -> u16 {
        match self {
            Kind::Master => r.port,
            Kind::Replicas => r.replicas_port,
        }
    }
}

/// A channel for the routing views, empty at first.
pub fn channel() -> (watch::Sender<Routes>, watch::Receiver<Routes>) {
    watch::channel(Arc::new(Vec::new()))
}

/// The shell observer that publishes the views whenever they differ from the last ones.
pub fn observer(tx: watch::Sender<Routes>) -> Observer {
    Box::new(move |core| {
        let routes = core.proxy_routes();
        tx.send_if_modified(|cur| {
            if **cur == routes {
                return false;
            }
            *cur = Arc::new(routes);
            true
        });
    })
}

/// Proxy threads (shards): one per core, at most four. Each proxied request costs the
/// proxy about what it costs Redis (the kernel's TCP work of a read and a write; the
/// proxy's own code is ~10% of its profile), so what matters is getting CPU time next
/// to Redis and its clients: on a busy 2-core box two single-threaded shards measured
/// clearly better than one thread and than one two-worker work-stealing runtime
/// (`bench_proxy`). Re-measured for issue #11: one shard spends ~7% less CPU per request
/// (fewer sleeps, more events per wake-up) but its throughput was not better.
fn workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
}

/// Listen backlog of a proxy port (Redis' default `tcp-backlog`).
const BACKLOG: i32 = 511;

/// How often binding a wanted port that failed is tried again.
const REBIND_EVERY: Duration = Duration::from_secs(1);

/// What the proxy runs on: the views from the shell's [`observer`], the shared state
/// its counters live in, the sentinel's logger and its `bind` addresses (as
/// `server::listen::bind_addresses` gives them).
pub struct Proxy {
    pub routes: watch::Receiver<Routes>,
    pub state: Arc<State>,
    pub logger: Arc<Logger>,
    pub binds: Vec<String>,
}

/// A bound port and its accept tasks.
struct Listening {
    port: u16,
    tasks: Vec<AbortHandle>,
}

impl Drop for Listening {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Proxy {
    /// Start the proxy: [`workers`] threads, each with its own single-threaded runtime
    /// (a shard); the first also runs the supervisor and the accept loops, which hand
    /// every connection to the next shard in turn. A connection then lives on one thread,
    /// as in HAProxy's thread model: no work stealing, no cross-thread wake-ups on the
    /// byte path, and one runnable thread per core when the box is busy.
    pub fn spawn(self) {
        let runtimes: Vec<tokio::runtime::Runtime> = (0..workers())
            .map(|_| {
                // I/O and timers only: the signal and process drivers (which `enable_all`
                // adds) are looked at on every park, that is every wake-up of the shard.
                tokio::runtime::Builder::new_current_thread()
                    .enable_io()
                    .enable_time()
                    .build()
                    .expect("proxy runtime")
            })
            .collect();
        let shards: Shards = Arc::new(runtimes.iter().map(|r| r.handle().clone()).collect());
        let mut supervisor = Some(self);
        for (i, rt) in runtimes.into_iter().enumerate() {
            let me = supervisor.take();
            let shards = shards.clone();
            std::thread::Builder::new()
                .name(format!("proxy-{i}"))
                .spawn(move || match me {
                    Some(p) => rt.block_on(p.run(shards)),
                    None => rt.block_on(std::future::pending::<()>()),
                })
                .expect("proxy thread");
        }
    }

    /// Follow the views forever: reconcile listeners, count switches.
    pub async fn run(mut self, shards: Shards) {
        let mut listening: HashMap<(String, Kind), Listening> = HashMap::new();
        let mut failed: HashMap<(String, Kind), u16> = HashMap::new();
        let mut last_addr: HashMap<String, (String, u16)> = HashMap::new();
        let mut last_fenced: HashMap<String, bool> = HashMap::new();
        let inspector = Arc::new(handover::Inspector::default());
        loop {
            let routes = self.routes.borrow_and_update().clone();
            for r in routes.iter() {
                if last_fenced
                    .insert(r.name.clone(), r.fenced)
                    .unwrap_or(false)
                    != r.fenced
                {
                    let what = if r.fenced {
                        "fenced: nothing more is forwarded to it, new connections wait"
                    } else {
                        "unfenced"
                    };
                    let (name, host, port) = (&r.name, &r.master.0, r.master.1);
                    self.logger.log(
                        LogLevel::Notice,
                        &format!("Proxy for master '{name}' {host}:{port} {what}"),
                    );
                }
                let prev = last_addr.insert(r.name.clone(), r.master.clone());
                if prev.is_some_and(|p| p != r.master) {
                    S::add(&self.state.proxy.master(&r.name).switches, 1);
                    self.logger.log(
                        LogLevel::Notice,
                        &format!(
                            "Proxy for master '{}' now forwards to {}:{} (config epoch {})",
                            r.name, r.master.0, r.master.1, r.config_epoch
                        ),
                    );
                }
            }
            self.reconcile(&routes, &mut listening, &mut failed, &shards, &inspector)
                .await;
            if failed.is_empty() {
                if self.routes.changed().await.is_err() {
                    return;
                }
            } else {
                let _ = tokio::time::timeout(REBIND_EVERY, self.routes.changed()).await;
            }
        }
    }

    /// Bind what the views want and is not bound, drop what they no longer want.
    async fn reconcile(
        &self,
        routes: &Routes,
        listening: &mut HashMap<(String, Kind), Listening>,
        failed: &mut HashMap<(String, Kind), u16>,
        shards: &Shards,
        inspector: &Arc<handover::Inspector>,
    ) {
        let mut wanted: HashMap<(String, Kind), u16> = HashMap::new();
        for r in routes.iter() {
            for kind in [Kind::Master, Kind::Replicas] {
                let port = kind.port_of(r);
                if port != 0 {
                    wanted.insert((r.name.clone(), kind), port);
                }
            }
        }
        listening.retain(|k, l| wanted.get(k) == Some(&l.port));
        failed.retain(|k, p| wanted.get(k) == Some(p));
        for (key, port) in wanted {
            if listening.contains_key(&key) {
                continue;
            }
            match self.listen(&key.0, key.1, port, shards, inspector).await {
                Ok(l) => {
                    failed.remove(&key);
                    listening.insert(key, l);
                }
                Err(e) => {
                    if failed.insert(key.clone(), port) != Some(port) {
                        self.logger.log(
                            LogLevel::Warning,
                            &format!(
                                "Warning: could not open the proxy port {port} of master '{}': {e}",
                                key.0
                            ),
                        );
                    }
                }
            }
        }
    }

    /// Bind `port` on every bind address and start accepting on each.
    async fn listen(
        &self,
        name: &str,
        kind: Kind,
        port: u16,
        shards: &Shards,
        inspector: &Arc<handover::Inspector>,
    ) -> std::io::Result<Listening> {
        let listeners = crate::server::listen::listen_to_port(&self.binds, port, BACKLOG)
            .into_tokio()
            .map_err(std::io::Error::other)?;
        let stats = self.state.proxy.master(name);
        let tasks = listeners
            .into_iter()
            .map(|l| {
                let acc = accept(
                    shards.clone(),
                    l,
                    name.to_string(),
                    kind,
                    self.routes.clone(),
                    stats.clone(),
                    inspector.clone(),
                );
                tokio::spawn(acc).abort_handle()
            })
            .collect();
        let what = match kind {
            Kind::Master => "master",
            Kind::Replicas => "replicas",
        };
        self.logger.log(
            LogLevel::Notice,
            &format!("Proxy for master '{name}' ({what}) listening on port {port}"),
        );
        Ok(Listening { port, tasks })
    }
}

/// Accept clients forever, one task each.
async fn accept(
    shards: Shards,
    l: TcpListener,
    name: String,
    kind: Kind,
    routes: watch::Receiver<Routes>,
    stats: Arc<S>,
    inspector: Arc<handover::Inspector>,
) {
    let mut seq = 0usize;
    loop {
        let Ok((client, _)) = l.accept().await else {
            // Out of descriptors and the like: back off instead of spinning.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        S::add(&stats.connections_received, 1);
        let ctx = conn::Ctx {
            name: name.clone(),
            kind,
            seq,
            routes: routes.clone(),
            stats: stats.clone(),
            inspector: inspector.clone(),
        };
        let shard = &shards[seq % shards.len()];
        seq = seq.wrapping_add(1);
        // Re-registered with the chosen shard's reactor.
        let Ok(client) = client.into_std() else {
            continue;
        };
        // A bug while forwarding one client closes that client only.
        shard.spawn(crate::process::crash::isolated(async move {
            if let Ok(client) = tokio::net::TcpStream::from_std(client) {
                conn::serve(client, ctx).await;
            }
        }));
    }
}
