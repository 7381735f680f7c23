//! The sentinel's local pub/sub: channels and glob patterns, delivering `message` /
//! `pmessage` frames (RESP3 push frames for RESP3 clients) into each subscriber's output
//! buffer, where the pub/sub output-buffer limit applies.

use super::clients::{ClientShared, OutLimit};
use crate::config::LogLevel;
use crate::glob::glob_match;
use crate::log::Logger;
use crate::resp::Reply;
use bytes::Bytes;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Inner {
    /// Subscribers per channel, in subscription order.
    channels: HashMap<Bytes, Vec<Arc<ClientShared>>>,
    /// (pattern, subscriber) in subscription order.
    patterns: Vec<(Bytes, Arc<ClientShared>)>,
}

pub struct Hub {
    inner: Mutex<Inner>,
    limit: OutLimit,
    /// Where clients closed at their output-buffer limit are reported (Redis logs a
    /// warning with the client's line); none in tests that do not set one.
    logger: std::sync::OnceLock<Arc<Logger>>,
}

impl Hub {
    pub fn new(limit: OutLimit) -> Self {
        Hub {
            inner: Mutex::new(Inner::default()),
            limit,
            logger: std::sync::OnceLock::new(),
        }
    }

    pub fn set_logger(&self, logger: Arc<Logger>) {
        let _ = self.logger.set(logger);
    }

    /// Queue `bytes` for `c` under the pub/sub output limit; a client this closes is
    /// logged. False if `c` did not take them.
    pub fn queue_for(&self, c: &ClientShared, bytes: &[u8]) -> bool {
        match c.queue(bytes, self.limit) {
            Ok(()) => true,
            Err(refused) => {
                if let (Some(line), Some(log)) = (refused.log_line(), self.logger.get()) {
                    log.log(LogLevel::Warning, &line);
                }
                false
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Deliver `msg` on `channel`; returns how many subscriptions received it.
    pub fn publish(&self, channel: &[u8], msg: &[u8]) -> usize {
        let (direct, by_pattern) = {
            let inner = self.lock();
            let direct: Vec<_> = inner.channels.get(channel).cloned().unwrap_or_default();
            let by_pattern: Vec<_> = inner
                .patterns
                .iter()
                .filter(|(p, _)| glob_match(p, channel, false))
                .cloned()
                .collect();
            (direct, by_pattern)
        };
        let ch = Bytes::copy_from_slice(channel);
        let m = Bytes::copy_from_slice(msg);
        // Encoded once per (pattern, protocol), not once per subscriber: an event reaches
        // every `PSUBSCRIBE *` monitor with the same bytes.
        let mut frames: Vec<(Option<Bytes>, u8, bytes::BytesMut)> = Vec::new();
        let mut frame_for = |pattern: Option<&Bytes>, resp: u8| -> usize {
            if let Some(k) = frames
                .iter()
                .position(|(p, r, _)| *r == resp && p.as_ref() == pattern)
            {
                return k;
            }
            let mut items = match pattern {
                None => vec![Reply::bulk("message")],
                Some(p) => vec![Reply::bulk("pmessage"), Reply::Bulk(p.clone())],
            };
            items.extend([Reply::Bulk(ch.clone()), Reply::Bulk(m.clone())]);
            frames.push((pattern.cloned(), resp, Reply::Push(items).to_bytes(resp)));
            frames.len() - 1
        };
        let mut deliveries: Vec<(usize, &Arc<ClientShared>)> = Vec::new();
        for c in &direct {
            deliveries.push((frame_for(None, c.resp()), c));
        }
        for (p, c) in &by_pattern {
            deliveries.push((frame_for(Some(p), c.resp()), c));
        }
        for (k, c) in deliveries {
            self.queue_for(c, &frames[k].2);
        }
        direct.len() + by_pattern.len()
    }

    pub fn subscribe(&self, c: &Arc<ClientShared>, channel: &Bytes) {
        let mut inner = self.lock();
        let subs = inner.channels.entry(channel.clone()).or_default();
        if !subs.iter().any(|x| x.id == c.id) {
            subs.push(c.clone());
        }
    }

    pub fn unsubscribe(&self, id: u64, channel: &[u8]) {
        let mut inner = self.lock();
        if let Some(subs) = inner.channels.get_mut(channel) {
            subs.retain(|x| x.id != id);
            if subs.is_empty() {
                inner.channels.remove(channel);
            }
        }
    }

    pub fn psubscribe(&self, c: &Arc<ClientShared>, pattern: &Bytes) {
        let mut inner = self.lock();
        if !inner
            .patterns
            .iter()
            .any(|(p, x)| x.id == c.id && p == pattern)
        {
            inner.patterns.push((pattern.clone(), c.clone()));
        }
    }

    pub fn punsubscribe(&self, id: u64, pattern: &[u8]) {
        self.lock()
            .patterns
            .retain(|(p, x)| !(x.id == id && p.as_ref() == pattern));
    }

    /// The channels and patterns client `id` is subscribed to.
    pub fn subscriptions_of(&self, id: u64) -> (Vec<Bytes>, Vec<Bytes>) {
        let inner = self.lock();
        let channels = inner
            .channels
            .iter()
            .filter(|(_, subs)| subs.iter().any(|x| x.id == id))
            .map(|(ch, _)| ch.clone())
            .collect();
        let patterns = inner
            .patterns
            .iter()
            .filter(|(_, x)| x.id == id)
            .map(|(p, _)| p.clone())
            .collect();
        (channels, patterns)
    }

    /// Forget every subscription of a disconnected client.
    pub fn remove_client(&self, id: u64) {
        let mut inner = self.lock();
        inner.channels.retain(|_, subs| {
            subs.retain(|x| x.id != id);
            !subs.is_empty()
        });
        inner.patterns.retain(|(_, x)| x.id != id);
    }
}

impl Hub {
    /// (channels with at least one subscriber, distinct patterns) for `INFO stats`.
    pub fn counts(&self) -> (usize, usize) {
        let inner = self.lock();
        let mut pats: Vec<&Bytes> = inner.patterns.iter().map(|(p, _)| p).collect();
        pats.sort();
        pats.dedup();
        (inner.channels.len(), pats.len())
    }
}
