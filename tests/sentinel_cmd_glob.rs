//! The glob used by SENTINEL RESET (case-sensitive) and CONFIG GET (case-insensitive),
//! checked on cases whose answers come from Redis' stringmatchlen.

use rsentinel::glob::glob_match;

#[test]
fn glob_follows_redis_stringmatch() {
    let cases: &[(&str, &str, bool, bool)] = &[
        ("*", "", false, true),
        ("m[0-9]", "m0", false, true),
        ("m[0-9]", "mymaster", false, false),
        ("my*", "mymaster", false, true),
        ("MY*", "mymaster", false, false),
        ("MY*", "mymaster", true, true),
        ("announce-[ip]*", "announce-ip", false, true),
        ("announce-[ip]*", "announce-hostnames", false, false),
        ("a?c", "abc", false, true),
        ("a?c", "ac", false, false),
        ("[^a]*", "bcd", false, true),
        ("[^a]*", "abc", false, false),
        ("[z-a]", "m", false, true),
        ("a\\*", "a*", false, true),
        ("a\\*", "ab", false, false),
        ("*-hostnames", "resolve-hostnames", false, true),
        ("a**b", "axxb", false, true),
        ("[abc", "c", false, true),
    ];
    for &(p, s, nocase, want) in cases {
        assert_eq!(
            glob_match(p.as_bytes(), s.as_bytes(), nocase),
            want,
            "{p} vs {s}"
        );
    }
}
