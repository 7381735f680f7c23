//! What the test modules share: the golden captures, the RESP test client, and the
//! single-core fixture.

pub mod fixture;
pub mod golden;
pub mod resp;

/// The run ids of s1, s2, s3 in the golden captures.
pub const IDS: [&str; 3] = [
    "f9351bc32a024bcd4d518040ae807e61bcbe50b5",
    "11cee6dfd73f0ef21cc15b3e7c14074dd44c7ddb",
    "cbc2f454bb1f7b019a27bd6c7f8cda554f7504d6",
];

/// A wall-clock start in the golden captures' era (2026), in unix milliseconds.
pub const T0: u64 = 1_795_300_000_000;
