//! Redis-style glob matching (`stringmatchlen`): `*`, `?`, `[...]` with `^` negation and
//! `a-z` ranges, and `\` escapes. Used by SENTINEL RESET (case-sensitive), SENTINEL
//! CONFIG GET and COMMAND LIST FILTERBY (case-insensitive), pattern subscriptions and ACL
//! channel patterns.

/// Whether `s` matches `pattern`.
pub fn glob_match(pattern: &[u8], s: &[u8], nocase: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut i) = (0usize, 0usize);
    while p < pattern.len() {
        match pattern[p] {
            b'*' => {
                while p + 1 < pattern.len() && pattern[p + 1] == b'*' {
                    p += 1;
                }
                if p + 1 == pattern.len() {
                    return true;
                }
                return (i..=s.len()).any(|k| glob_match(&pattern[p + 1..], &s[k..], nocase));
            }
            b'?' => {
                if i >= s.len() {
                    return false;
                }
                i += 1;
            }
            b'[' => {
                if i >= s.len() {
                    return false;
                }
                let (matched, next) = class_match(pattern, p + 1, s[i], nocase);
                if !matched {
                    return false;
                }
                p = next;
                i += 1;
            }
            b'\\' if p + 1 < pattern.len() => {
                p += 1;
                if i >= s.len() || !eq(pattern[p], s[i]) {
                    return false;
                }
                i += 1;
            }
            c => {
                if i >= s.len() || !eq(c, s[i]) {
                    return false;
                }
                i += 1;
            }
        }
        p += 1;
    }
    i == s.len()
}

/// Match byte `c` against the class starting at `p` (just after `[`). Returns whether
/// it matched and the index of the closing `]` (or the last pattern byte when the class
/// is unterminated, as Redis treats it).
fn class_match(pattern: &[u8], mut p: usize, c: u8, nocase: bool) -> (bool, usize) {
    let fold = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
    let c = fold(c);
    let not = p < pattern.len() && pattern[p] == b'^';
    if not {
        p += 1;
    }
    let mut matched = false;
    loop {
        if p >= pattern.len() {
            p = pattern.len() - 1;
            break;
        }
        if pattern[p] == b'\\' && p + 1 < pattern.len() {
            p += 1;
            matched |= fold(pattern[p]) == c;
        } else if pattern[p] == b']' {
            break;
        } else if p + 2 < pattern.len() && pattern[p + 1] == b'-' {
            let (mut lo, mut hi) = (fold(pattern[p]), fold(pattern[p + 2]));
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            p += 2;
            matched |= c >= lo && c <= hi;
        } else {
            matched |= fold(pattern[p]) == c;
        }
        p += 1;
    }
    (matched != not, p)
}
