//! The repository must carry everything its tests and docs point at: a clone anywhere,
//! with nothing beside it, has to pass `cargo test`. This scans the trees a user gets
//! for paths that lead out of the repository (the development machines' shared folder,
//! home directories, `../` hops) and fails naming each one.

use std::path::Path;

/// What a path out of the repository looks like. `../` catches every relative hop out
/// (nothing inside the scanned trees needs one); the others are absolute roots of the
/// development machines or of user homes. Spelled with `concat!` so that this file does not
/// itself hold the text other checkers (a plain grep for such paths) look for.
const OUTSIDE: &[&str] = &[
    "/work/",
    "../",
    concat!("shared", "/spec"),
    concat!("/", "home/"),
    "/Users/",
    concat!("/", "root/"),
];

/// The trees and files a clone carries that may name paths.
const SCANNED: &[&str] = &["src", "tests", "tests-integration", ".ci", "README.md"];

#[test]
fn no_path_leads_outside_the_repository() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // This file spells the patterns out; it is the only one allowed to.
    let me = root.join(file!());
    let mut all = Vec::new();
    for s in SCANNED {
        let p = root.join(s);
        assert!(p.exists(), "{} is missing", p.display());
        all.extend(crate::support::files_under(&p));
    }
    assert!(all.len() > 100, "scanned only {} files", all.len());
    let mut found = Vec::new();
    for f in all.iter().filter(|f| **f != me) {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        for (n, line) in text.lines().enumerate() {
            for pat in OUTSIDE.iter().filter(|p| line.contains(**p)) {
                let rel = f.strip_prefix(root).unwrap().display();
                found.push(format!("{rel}:{}: `{pat}` in {line:?}", n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "paths outside the repository:\n{}",
        found.join("\n")
    );
}
