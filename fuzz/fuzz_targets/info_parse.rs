//! INFO replies from monitored instances: parsing never panics on any text.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = rsentinel::core::info::parse_info(&text);
});
