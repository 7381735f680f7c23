//! `server_cpulist`: pin the sentinel to a set of CPUs, in Redis' cpulist syntax
//! (`0-3,8-15:2`: ranges with an optional step, comma-separated).

/// glibc's `CPU_SETSIZE`: CPUs past it cannot be named in a `cpu_set_t`.
const SETSIZE: usize = 1024;

/// The CPUs `list` names, or `None` where Redis' parser gives up (then it leaves the
/// affinity alone, without a word). Redis' parser is lenient in one way worth keeping:
/// only the text after the *last* number must be empty, so `3x,5` pins to 3 and 5
/// while `5,3x` changes nothing.
pub fn parse(list: &str) -> Option<Vec<usize>> {
    let b = list.as_bytes();
    let after = |from: usize, c: u8| b[from..].iter().position(|&x| x == c).map(|i| from + i + 1);
    let mut cpus = Vec::new();
    let mut end = 0;
    let mut token = Some(0);
    while let Some(p) = token {
        token = after(p, b',');
        let (a, e) = number(b, p)?;
        end = e;
        let (mut last, mut step) = (a, 1);
        let comma = after(end, b',');
        let before_comma = |at: Option<usize>| at.filter(|&i| comma.is_none_or(|c| i < c));
        if let Some(dash) = before_comma(after(end, b'-')) {
            let (hi, e) = number(b, dash)?;
            last = hi;
            end = e;
            if end < b.len()
                && let Some(colon) = before_comma(after(end, b':'))
            {
                let (st, e) = number(b, colon)?;
                end = e;
                if st == 0 {
                    return None;
                }
                step = st;
            }
        }
        if a > last {
            return None;
        }
        // Redis walks the whole range; past SETSIZE nothing more can be set.
        let mut cpu = a;
        while cpu <= last && cpu < SETSIZE as u64 {
            cpus.push(cpu as usize);
            cpu += step;
        }
    }
    (end == b.len()).then_some(cpus)
}

/// A decimal number at `at` (digits only, at least one) and where it ends.
fn number(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let digits = b
        .get(at..)?
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 {
        return None;
    }
    let n = b[at..at + digits].iter().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    Some((n, at + digits))
}

/// Pin this process (every thread started after the call) to `list`'s CPUs.
pub fn apply(list: &str) {
    let Some(cpus) = parse(list) else {
        return;
    };
    // SAFETY: an all-zero cpu_set_t is the empty set; CPU_SET stays within SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for cpu in cpus {
            libc::CPU_SET(cpu, &mut set);
        }
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}
