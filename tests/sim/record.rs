//! Each node's record in the golden-timed mode, and the questions the failover tests
//! ask of it.

use super::world::World;
use rsentinel::config::LogLevel;
use rsentinel::core::Action;
use rsentinel::core::instance::ConnKind;

impl World {
    /// Note what core `i` asks for, before it is carried out.
    pub fn record(&mut self, i: usize, a: &Action) {
        let now = self.now;
        let sent = match a {
            Action::Send {
                link,
                conn: ConnKind::Cmd,
                args,
                ..
            } => self.net.lookup(i, *link, ConnKind::Cmd).map(|id| {
                let args = args.iter().map(|b| String::from_utf8_lossy(b).into());
                (now, self.net.conns[&id].port, args.collect())
            }),
            _ => None,
        };
        let node = &mut self.nodes[i];
        node.actions.push((now, a.clone()));
        node.sent.extend(sent);
        match a {
            // Debug-level events are logged only, never published.
            Action::Event {
                level,
                channel,
                payload,
                ..
            } if *level != LogLevel::Debug => {
                node.events.push((now, format!("{channel} {payload}")));
            }
            Action::Log { text, .. } => node.logs.push((now, text.clone())),
            _ => {}
        }
    }

    /// Events of node `n` ("channel payload"), in order.
    pub fn events(&self, n: usize) -> Vec<String> {
        self.events_from(n, 0)
    }

    /// Events of node `n` emitted at or after `from`.
    pub fn events_from(&self, n: usize, from: u64) -> Vec<String> {
        self.nodes[n]
            .events
            .iter()
            .filter(|(t, _)| *t >= from)
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// The first time node `n` emitted an event starting with `prefix`.
    pub fn event_time(&self, n: usize, prefix: &str) -> Option<u64> {
        self.nodes[n]
            .events
            .iter()
            .find(|(_, e)| e.starts_with(prefix))
            .map(|(t, _)| *t)
    }

    pub fn has_event(&self, n: usize, prefix: &str) -> bool {
        self.event_time(n, prefix).is_some()
    }

    /// Index of the node that emitted `+elected-leader`.
    pub fn leader(&self) -> Option<usize> {
        (0..self.nodes.len()).find(|&n| self.has_event(n, "+elected-leader"))
    }
}
