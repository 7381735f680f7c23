//! Process-wide bookkeeping of `CLIENT TRACKING` (client-side caching): how many
//! clients track and which broadcast prefixes are registered. A sentinel has no
//! keyspace, so nothing is ever invalidated, but redis-sentinel keeps this state and
//! shows it (`INFO`'s `tracking_clients` and `tracking_total_prefixes`), so a drop-in
//! keeps it too. The per-connection half lives in the session.

use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct TrackingTable {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    clients: usize,
    /// Broadcast prefixes and how many clients registered each.
    prefixes: BTreeMap<Bytes, usize>,
}

impl TrackingTable {
    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A client turned tracking on (it was off).
    pub fn client_on(&self) {
        self.inner().clients += 1;
    }

    /// A client registered broadcast prefix `p` (it had not).
    pub fn prefix_on(&self, p: &Bytes) {
        *self.inner().prefixes.entry(p.clone()).or_default() += 1;
    }

    /// A client turned tracking off, or went away, with these prefixes.
    pub fn client_off<'a>(&self, prefixes: impl IntoIterator<Item = &'a Bytes>) {
        let mut t = self.inner();
        t.clients = t.clients.saturating_sub(1);
        for p in prefixes {
            if let Some(n) = t.prefixes.get_mut(p) {
                *n -= 1;
                if *n == 0 {
                    t.prefixes.remove(p);
                }
            }
        }
    }

    /// (`tracking_clients`, `tracking_total_prefixes`).
    pub fn counts(&self) -> (usize, usize) {
        let t = self.inner();
        (t.clients, t.prefixes.len())
    }
}
