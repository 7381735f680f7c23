//! Crash-safe replacement of the config file: a reader (or a restarted sentinel) sees
//! either the old or the new complete text, never a torn one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Marker between the file name and the random suffix of temp files, distinctive enough
/// that stale ones (left by a crash mid-write) can be swept without touching user files.
const TMP_MARK: &str = ".rsentinel-tmp-";

/// Writes `content` to `path` atomically: temp file in the same directory (mode 0644
/// minus umask), fsync, rename over `path`, fsync the directory. On failure the temp
/// file is removed and the original is left untouched.
pub fn write_atomic(path: &Path, content: &str) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let base = path
        .file_name()
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?
        .to_string_lossy()
        .into_owned();
    sweep_stale(dir, &base);
    // Each failing step is logged by the caller like redis' rewriteConfigOverwriteFile
    // (see [`failed_step`]) before the "not able to save" warning.
    let (tmp, mut file) = create_temp(dir, &base)
        .map_err(|e| step(e, |t| format!("Could not create tmp config file ({t})")))?;
    let result = (|| {
        let bytes = content.as_bytes();
        let mut offset = 0;
        while offset < bytes.len() {
            let written = match injected_fault() {
                Some(errno) => Err(io::Error::from_raw_os_error(errno)),
                None => file.write(&bytes[offset..]),
            };
            match written {
                Ok(0) => {
                    let e = io::Error::from_raw_os_error(libc::ENOSPC);
                    return Err(step(e, |t| {
                        format!("Failed after writing ({offset}) bytes to tmp config file ({t})")
                    }));
                }
                Ok(n) => offset += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(step(e, |t| {
                        format!("Failed after writing ({offset}) bytes to tmp config file ({t})")
                    }));
                }
            }
        }
        file.sync_all().map_err(|e| {
            step(e, |t| {
                format!("Could not sync tmp config file to disk ({t})")
            })
        })?;
        drop(file);
        fs::rename(&tmp, path)
            .map_err(|e| step(e, |t| format!("Could not rename tmp config file ({t})")))?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| step(e, |t| format!("Could not sync config file dir ({t})")))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Fault hook for tests that cannot mount a full filesystem (no root): when the
/// environment variable `RSENTINEL_TEST_WRITE_FAULT` names a file that exists, every
/// write of the temp file fails with the errno written in that file (e.g. `28`, ENOSPC),
/// as a full disk would. Creating or removing the file switches the fault at run time.
fn injected_fault() -> Option<i32> {
    let path = std::env::var_os("RSENTINEL_TEST_WRITE_FAULT")?;
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// A failed step of [`write_atomic`]: displays as the OS error text (what the "not able
/// to save" warning shows), and carries redis' log line for the step.
#[derive(Debug)]
struct StepError {
    log: String,
    text: String,
}

impl std::fmt::Display for StepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for StepError {}

fn step(e: io::Error, log: impl FnOnce(&str) -> String) -> io::Error {
    let text = super::strerror(&e);
    io::Error::new(
        e.kind(),
        StepError {
            log: log(&text),
            text,
        },
    )
}

/// The warning redis-sentinel logs for the step of the rewrite that failed (`Could not
/// create tmp config file (Read-only file system)`, ...), if `e` came from
/// [`write_atomic`].
pub fn failed_step(e: &io::Error) -> Option<&str> {
    e.get_ref()?
        .downcast_ref::<StepError>()
        .map(|s| s.log.as_str())
}

fn create_temp(dir: &Path, base: &str) -> io::Result<(PathBuf, File)> {
    loop {
        let suffix: String = (0..6)
            .map(|_| {
                let i = rand::random::<u8>() % 36;
                (if i < 10 { b'0' + i } else { b'a' + i - 10 }) as char
            })
            .collect();
        let tmp = dir.join(format!("{base}{TMP_MARK}{suffix}"));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&tmp)
        {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

/// Removes temp files of `base` left behind by a process killed mid-write.
fn sweep_stale(dir: &Path, base: &str) {
    let prefix = format!("{base}{TMP_MARK}");
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = fs::remove_file(e.path());
            }
        }
    }
}
