//! sentinel.conf load -> rewrite -> load: loading any text never panics; whatever loads
//! rewrites to a file that loads back to the same sentinel and server state (users are
//! reworded by the rewrite and left out, as in tests/robust_config.rs).
#![no_main]
use libfuzzer_sys::fuzz_target;
use rsentinel::config::{ServerConfig, load, rewrite_text};
use std::path::PathBuf;
use std::sync::OnceLock;

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("rsentinel-fuzz-conf-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Names would go to the system resolver (seconds each offline); includes and ACL
    // files would read arbitrary paths.
    let lower = text.to_ascii_lowercase();
    if lower.contains("resolve-hostnames") || lower.contains("include") || lower.contains("aclfile")
    {
        return;
    }
    let path = scratch().join("sentinel.conf");
    std::fs::write(&path, text.as_bytes()).unwrap();
    let Ok(mut l) = load(&path, &[]) else {
        return;
    };
    // A config whose users cannot be created does not start (a name with spaces: redis-
    // sentinel exits too), so it is never rewritten.
    if rsentinel::acl::Users::from_config(l.server.requirepass.as_deref(), &l.server.users)
        .is_err()
    {
        return;
    }
    if l.server.dir.is_none() {
        l.server.dir = Some(std::env::current_dir().unwrap().display().to_string());
    }
    let out = rewrite_text(&text, &l.generic, &l.server, &l.sentinel);
    std::fs::write(&path, &out).unwrap();
    let again = match load(&path, &[]) {
        Ok(a) => a,
        Err(e) => panic!("rewrite of\n{text}\nis unloadable:\n{out}\n{e}"),
    };
    assert_eq!(
        again.sentinel, l.sentinel,
        "sentinel state changed:\n{text}\n=>\n{out}"
    );
    let norm = |s: &ServerConfig| ServerConfig {
        users: Vec::new(),
        ..s.clone()
    };
    assert_eq!(
        norm(&again.server),
        norm(&l.server),
        "server state changed:\n{text}\n=>\n{out}"
    );
});
