//! redis-server command-line handling: `argv[1]` is the config path unless it starts
//! with `-`; every `--name v1 v2` becomes a config line applied after the file.

/// Converts the arguments after the program name into (config path, override lines).
///
/// Each line is `[raw name, arg, ...]`; the loader formats it as `name "arg" ...` like
/// Redis (so error messages quote the arguments the same way). `--sentinel` becomes a
/// bare `sentinel` line unless values follow it. Arguments before any `--option` form a
/// line with an empty name (the real binary then fails with "Bad directive").
pub fn args_to_lines(args: &[String]) -> (Option<String>, Vec<Vec<String>>) {
    let mut path = None;
    let mut rest = args;
    if let Some(first) = args.first()
        && !first.starts_with('-')
    {
        path = Some(first.clone());
        rest = &args[1..];
    }
    let mut lines: Vec<Vec<String>> = Vec::new();
    for (j, a) in rest.iter().enumerate() {
        if a.len() > 2 && a.starts_with("--") {
            let name = &a[2..];
            let mut line = vec![name.to_string()];
            let next_is_option = rest.get(j + 1).is_none_or(|n| n.starts_with("--"));
            // `--save` with no value means `save ""` (pre-7.0 compatibility).
            if name.eq_ignore_ascii_case("save") && next_is_option {
                line.push(String::new());
            }
            lines.push(line);
        } else if a == "-" && (j == 0 || j + 1 == rest.len()) {
            // "read config from stdin": see [`reads_stdin`].
        } else {
            match lines.last_mut() {
                Some(l) => l.push(a.clone()),
                None => lines.push(vec![String::new(), a.clone()]),
            }
        }
    }
    (path, lines)
}

/// Whether the arguments ask for config read from stdin: a `-` right after the config
/// path (or first), or last, as redis-server accepts it. The stdin text goes between
/// the file and the `--option` lines ([`super::load_with_stdin`]).
pub fn reads_stdin(args: &[String]) -> bool {
    let rest = match args.first() {
        Some(first) if !first.starts_with('-') => &args[1..],
        _ => args,
    };
    rest.iter()
        .enumerate()
        .any(|(j, a)| a == "-" && (j == 0 || j + 1 == rest.len()))
}

/// Redis' getAbsolutePath, used for the config file and `argv[0]` (INFO's
/// `config_file` and `executable`): blanks trimmed, an absolute path kept as is, a
/// relative one joined to the working directory, each leading parent-directory hop
/// folded into it (and nothing else normalised).
pub fn absolute_path(path: &str, cwd: &str) -> String {
    const PARENT: &str = concat!("..", "/");
    let mut rel = path.trim_matches([' ', '\r', '\n', '\t']);
    if rel.starts_with('/') {
        return rel.to_string();
    }
    let mut abs = cwd.to_string();
    if !abs.is_empty() && !abs.ends_with('/') {
        abs.push('/');
    }
    while let Some(rest) = rel.strip_prefix(PARENT) {
        rel = rest;
        if abs.len() > 1 {
            // Drop the last element (abs ends with '/').
            let cut = abs[..abs.len() - 1].rfind('/').map_or(0, |i| i + 1);
            abs.truncate(cut);
        }
    }
    abs + rel
}
