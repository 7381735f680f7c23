//! An in-process client server on 127.0.0.1:0 over a core watching one master, for the
//! tests that talk RESP to it.

use rsentinel::config::{LogLevel, MasterConfig, SentinelConfig, ServerConfig};
use rsentinel::core::{Identity, Sentinel};
use rsentinel::log::Logger;
use rsentinel::server::Server;
use rsentinel::shell::{Shell, now_ms};
use rsentinel::state::{ProcessInfo, State};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Start a server with `cfg`; returns its shared state and the address it listens on.
pub async fn start(cfg: ServerConfig) -> (Arc<State>, SocketAddr) {
    let sc = SentinelConfig {
        myid: Some("f9351bc32a024bcd4d518040ae807e61bcbe50b5".into()),
        masters: vec![MasterConfig::new("mymaster", "127.0.0.1", 6390, 2)],
        ..Default::default()
    };
    start_with(cfg, sc, Box::new(|_, _| true)).await
}

/// [`start`] with the server's log kept in memory at `level`: the lines it wrote.
pub async fn start_logged(
    cfg: ServerConfig,
    level: LogLevel,
) -> (Arc<State>, SocketAddr, Arc<std::sync::Mutex<Vec<String>>>) {
    let sc = SentinelConfig {
        myid: Some("f9351bc32a024bcd4d518040ae807e61bcbe50b5".into()),
        masters: vec![MasterConfig::new("mymaster", "127.0.0.1", 6390, 2)],
        ..Default::default()
    };
    let (logger, lines) = Logger::memory(level);
    let (state, addr) = serve(cfg, sc, Box::new(|_, _| true), logger).await;
    (state, addr, lines)
}

/// [`start`] over a core configured by `sc`, its actions performed by `perform`.
pub async fn start_with(
    cfg: ServerConfig,
    sc: SentinelConfig,
    perform: rsentinel::shell::Performer,
) -> (Arc<State>, SocketAddr) {
    serve(cfg, sc, perform, Logger::memory(LogLevel::Warning).0).await
}

async fn serve(
    cfg: ServerConfig,
    sc: SentinelConfig,
    perform: rsentinel::shell::Performer,
    logger: Logger,
) -> (Arc<State>, SocketAddr) {
    let core = Sentinel::new(
        &sc,
        Identity {
            port: 0,
            ..Default::default()
        },
        1,
        now_ms(),
    );
    let shell = Arc::new(Shell::new(core, perform));
    let info = ProcessInfo {
        run_id: "0".repeat(40),
        start_ms: now_ms(),
        hz: 10,
        ..Default::default()
    };
    let state = State::new(cfg, info);
    let server = Server::new(state.clone(), shell, Arc::new(logger));
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(server.serve(l));
    (state, addr)
}
