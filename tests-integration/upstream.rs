//! Redis' own Sentinel test suite (`tests/sentinel` of the redis 7.0.15 source, Tcl) run
//! against rsentinel: five rsentinel processes in place of `src/redis-sentinel`, five
//! real redis-server processes. Opt-in (`--ignored`): it needs `tclsh` and the redis
//! source, which is not part of this repository (nothing of it is copied here): the test
//! takes the tarball named by `REDIS_SRC_TARBALL`, or fetches Debian's
//! `redis_7.0.15.orig.tar.gz` with `curl` into the cargo target directory once.
//!
//! `cargo test --release --test integration upstream -- --ignored --nocapture`
//!
//! Run twice: all five sentinels rsentinel, then a mixed cluster where sentinels 1 and 3
//! are the real redis-sentinel (a wrapper in place of `src/redis-sentinel` picks the binary
//! by the instance's directory), so every vote, hello and failover crosses implementations.
//!
//! The suite's ports are its own (sentinels from 20000, servers from 30000, both below
//! the ephemeral range); it kills the instances it started when it ends.

use crate::harness::{rsentinel_bin, which};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const TARBALL: &str = "redis_7.0.15.orig.tar.gz";
const URLS: &[&str] = &[
    "http://deb.debian.org/debian-security/pool/updates/main/r/redis/redis_7.0.15.orig.tar.gz",
    "http://deb.debian.org/debian/pool/main/r/redis/redis_7.0.15.orig.tar.gz",
];

/// The source tarball: `REDIS_SRC_TARBALL`, a cached download, or a fresh one.
fn tarball(cache: &Path) -> Option<PathBuf> {
    if let Ok(p) = std::env::var("REDIS_SRC_TARBALL") {
        return Some(PathBuf::from(p));
    }
    let dest = cache.join(TARBALL);
    if dest.exists() {
        return Some(dest);
    }
    for url in URLS {
        let part = cache.join(format!("{TARBALL}.part"));
        let ok = Command::new("curl")
            .args(["-fsS", "--max-time", "120", "-o"])
            .arg(&part)
            .arg(url)
            .status()
            .is_ok_and(|s| s.success());
        if ok && std::fs::rename(&part, &dest).is_ok() {
            return Some(dest);
        }
    }
    None
}

#[test]
#[ignore]
fn upstream_sentinel_suite_passes() {
    require!("redis-server");
    require!("redis-cli");
    require!("tclsh");
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("upstream-redis");
    std::fs::create_dir_all(&cache).unwrap();
    let Some(tar) = tarball(&cache) else {
        eprintln!(
            "SKIPPED: no redis source (set REDIS_SRC_TARBALL, or allow curl to deb.debian.org)"
        );
        return;
    };
    let ours = rsentinel_bin();
    run_suite(&cache, &tar, "rsentinel", &ours);
    if crate::harness::have("redis-sentinel") {
        // `exec` keeps the pid the suite spawned, so it stops the right process.
        let wrapper = cache.join("mixed-sentinel");
        let script = format!(
            "#!/bin/sh\ncase \"$1\" in\n  *sentinel_1/*|*sentinel_3/*) exec {} \"$@\" ;;\n  *) exec {} \"$@\" ;;\nesac\n",
            which("redis-sentinel").display(),
            ours.display()
        );
        std::fs::write(&wrapper, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        run_suite(
            &cache,
            &tar,
            "mixed (sentinels 1, 3 redis-sentinel)",
            &wrapper,
        );
    }
}

/// Unpack a fresh tree (the suite leaves its instances' directories behind), put the
/// binaries in its `src/`, run it, and require its "no errors" verdict.
fn run_suite(cache: &Path, tar: &Path, what: &str, sentinel: &Path) {
    let tree = cache.join("tree");
    let _ = std::fs::remove_dir_all(&tree);
    std::fs::create_dir_all(&tree).unwrap();
    let untar = Command::new("tar")
        .args(["xzf"])
        .arg(tar)
        .arg("-C")
        .arg(&tree)
        .args(["--strip-components=1"])
        .status()
        .unwrap();
    assert!(untar.success(), "could not unpack {}", tar.display());
    let src = tree.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::os::unix::fs::symlink(which("redis-server"), src.join("redis-server")).unwrap();
    std::os::unix::fs::symlink(which("redis-cli"), src.join("redis-cli")).unwrap();
    std::os::unix::fs::symlink(sentinel, src.join("redis-sentinel")).unwrap();
    println!("== upstream Sentinel suite: {what}");
    let out = Command::new("timeout")
        .arg(Duration::from_secs(20 * 60).as_secs().to_string())
        .arg("./runtest-sentinel")
        .current_dir(&tree)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    println!("{text}");
    let failed: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("[err]") || l.contains("FAILED") || l.contains("exception"))
        .collect();
    assert!(
        out.status.success() && text.contains("GOOD! No errors.") && failed.is_empty(),
        "the upstream suite failed, {what} ({:?}): {failed:#?}",
        out.status
    );
}
