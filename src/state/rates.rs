//! The `instantaneous_*` figures of `INFO stats`: like Redis' `trackInstantaneousMetric`,
//! a counter is sampled every 100 ms and the rate is the mean of the last 16 samples.

use std::sync::Mutex;
use std::time::Instant;

const SAMPLES: usize = 16;

/// Ring of per-second rates for one counter.
#[derive(Debug)]
struct Metric {
    last_value: u64,
    last_at: Instant,
    ring: [f64; SAMPLES],
    idx: usize,
}

impl Metric {
    fn new(now: Instant) -> Self {
        Metric {
            last_value: 0,
            last_at: now,
            ring: [0.0; SAMPLES],
            idx: 0,
        }
    }

    fn sample(&mut self, value: u64, now: Instant) {
        let ms = now.duration_since(self.last_at).as_millis() as f64;
        let delta = value.saturating_sub(self.last_value) as f64;
        self.ring[self.idx] = if ms > 0.0 { delta * 1000.0 / ms } else { 0.0 };
        self.idx = (self.idx + 1) % SAMPLES;
        self.last_value = value;
        self.last_at = now;
    }

    fn mean(&self) -> f64 {
        self.ring.iter().sum::<f64>() / SAMPLES as f64
    }
}

/// Commands, input bytes and output bytes per second.
#[derive(Debug)]
pub struct Rates {
    m: Mutex<[Metric; 3]>,
}

impl Default for Rates {
    fn default() -> Self {
        let now = Instant::now();
        Rates {
            m: Mutex::new([Metric::new(now), Metric::new(now), Metric::new(now)]),
        }
    }
}

impl Rates {
    /// Record the current totals (called every 100 ms).
    pub fn sample(&self, ops: u64, input: u64, output: u64, now: Instant) {
        let mut m = self.m.lock().unwrap_or_else(|e| e.into_inner());
        m[0].sample(ops, now);
        m[1].sample(input, now);
        m[2].sample(output, now);
    }

    /// (`instantaneous_ops_per_sec`, `instantaneous_input_kbps`,
    /// `instantaneous_output_kbps`) as INFO prints them.
    pub fn render(&self) -> (String, String, String) {
        let m = self.m.lock().unwrap_or_else(|e| e.into_inner());
        (
            format!("{}", m[0].mean() as i64),
            format!("{:.2}", m[1].mean() / 1024.0),
            format!("{:.2}", m[2].mean() / 1024.0),
        )
    }
}
