//! The soak's clients: short-timeout probe connections and the Sentinel-aware writer.

use std::time::Duration;

/// A synchronous connection with short timeouts (a stopped process must not hang
/// the soak), reopened on demand.
pub struct Conn {
    pub port: u16,
    pub conn: Option<redis::Connection>,
}

impl Conn {
    pub fn new(port: u16) -> Conn {
        Conn { port, conn: None }
    }

    pub fn query<T: redis::FromRedisValue>(&mut self, cmd: &redis::Cmd) -> Option<T> {
        if self.conn.is_none() {
            let client = redis::Client::open(format!("redis://127.0.0.1:{}/", self.port)).ok()?;
            let c = client
                .get_connection_with_timeout(Duration::from_millis(300))
                .ok()?;
            c.set_read_timeout(Some(Duration::from_millis(300))).ok()?;
            c.set_write_timeout(Some(Duration::from_millis(300))).ok()?;
            self.conn = Some(c);
        }
        let r = cmd.query(self.conn.as_mut()?);
        if r.is_err() {
            // A timeout may leave a reply in flight: never reuse the connection.
            self.conn = None;
        }
        r.ok()
    }
}

/// A Sentinel-aware client writing all along (issue #15): asks a sentinel for the
/// master's address, INCRs a counter there (short timeouts), and on any error asks
/// again, rotating over the sentinels.
pub struct Writer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    acked: std::sync::Arc<std::sync::atomic::AtomicU64>,
    errors: std::sync::Arc<std::sync::atomic::AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    pub fn start(sentinel_ports: Vec<u16>) -> Writer {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        let (st, ack, err) = (stop.clone(), acked.clone(), errors.clone());
        let thread = std::thread::spawn(move || {
            let t = Duration::from_millis(300);
            let conn = |port: u16| -> Option<redis::Connection> {
                let c = redis::Client::open(format!("redis://127.0.0.1:{port}/")).ok()?;
                let c = c.get_connection_with_timeout(t).ok()?;
                c.set_read_timeout(Some(t)).ok()?;
                c.set_write_timeout(Some(t)).ok()?;
                Some(c)
            };
            let mut turn = 0;
            while !st.load(Ordering::SeqCst) {
                turn += 1;
                let port = sentinel_ports[turn % sentinel_ports.len()];
                let addr: Option<Vec<String>> = conn(port).and_then(|mut c| {
                    redis::cmd("SENTINEL")
                        .arg("GET-MASTER-ADDR-BY-NAME")
                        .arg("mymaster")
                        .query(&mut c)
                        .ok()
                });
                let master = addr
                    .filter(|a| a.len() == 2)
                    .and_then(|a| a[1].parse::<u16>().ok())
                    .and_then(conn);
                let Some(mut m) = master else {
                    err.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                };
                while !st.load(Ordering::SeqCst) {
                    let r: redis::RedisResult<i64> =
                        redis::cmd("INCR").arg("soak-writes").query(&mut m);
                    if r.is_err() {
                        // READONLY after a demotion, a timeout while frozen, a reset...
                        err.fetch_add(1, Ordering::SeqCst);
                        break;
                    }
                    ack.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        });
        Writer {
            stop,
            acked,
            errors,
            thread: Some(thread),
        }
    }

    pub fn acked(&self) -> u64 {
        self.acked.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn finish(mut self) -> (u64, u64) {
        use std::sync::atomic::Ordering;
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        (
            self.acked.load(Ordering::SeqCst),
            self.errors.load(Ordering::SeqCst),
        )
    }
}
