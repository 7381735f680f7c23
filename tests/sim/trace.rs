//! The last steps of a run, kept to explain a failing seed.
//!
//! Entries are formatted lazily: a run takes tens of thousands of steps and only a
//! failing one is ever printed, so each step stores an unformatted value and formatting
//! happens in [`Trace::lines`].

use super::Time;
use std::collections::VecDeque;

pub struct Trace {
    cap: usize,
    buf: VecDeque<(Time, &'static str, usize, Detail)>,
}

/// Step details stored unformatted.
#[derive(Debug, Clone)]
pub enum Detail {
    Event(rsentinel::core::Event),
    Action(rsentinel::core::Action),
    Text(String),
}

impl Trace {
    pub fn new(cap: usize) -> Trace {
        Trace {
            cap,
            buf: VecDeque::with_capacity(cap + 1),
        }
    }

    /// Record that node `who` (`kind` names its type) saw or did `d` at `at`.
    pub fn push(&mut self, at: Time, kind: &'static str, who: usize, d: Detail) {
        if self.cap == 0 {
            return;
        }
        if self.buf.len() == self.cap {
            self.buf.pop_front();
        }
        self.buf.push_back((at, kind, who, d));
    }

    pub fn note(&mut self, at: Time, text: String) {
        self.push(at, "world", 0, Detail::Text(text));
    }

    pub fn lines(&self) -> Vec<String> {
        self.buf
            .iter()
            .map(|(at, kind, who, d)| {
                let d = match d {
                    Detail::Event(e) => format!("<- {}", short(&format!("{e:?}"))),
                    Detail::Action(a) => format!("-> {}", short(&format!("{a:?}"))),
                    Detail::Text(t) => t.clone(),
                };
                format!("{:>9} {kind}{who} {d}", at - super::START)
            })
            .collect()
    }
}

/// Long INFO texts make a trace unreadable; keep the head.
fn short(s: &str) -> String {
    if s.len() <= 300 {
        return s.to_string();
    }
    let mut cut = 300;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &s[..cut])
}
