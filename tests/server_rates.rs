//! `instantaneous_*` INFO figures: mean of the last 16 per-100 ms samples.

use rsentinel::state::rates::Rates;
use std::time::{Duration, Instant};

#[test]
fn rates_are_the_mean_of_sixteen_samples() {
    let r = Rates::default();
    let t0 = Instant::now();
    assert_eq!(r.render(), ("0".into(), "0.00".into(), "0.00".into()));
    // 10 commands, 1024 bytes in and 2048 out every 100 ms for 16 samples.
    for i in 1..=16u64 {
        r.sample(
            10 * i,
            1024 * i,
            2048 * i,
            t0 + Duration::from_millis(100 * i),
        );
    }
    assert_eq!(r.render(), ("100".into(), "10.00".into(), "20.00".into()));
    // Half the window idle halves the rate.
    for i in 17..=24u64 {
        r.sample(160, 16384, 32768, t0 + Duration::from_millis(100 * i));
    }
    assert_eq!(r.render(), ("50".into(), "5.00".into(), "10.00".into()));
}
