//! Output paths are checked before any work starts: a run of minutes must
//! not end in "cannot write" with its results lost. Each check makes what a
//! run will write into (a directory, or a file's directory) and writes a
//! probe there; a failure is a usage error (exit status 2) that names the
//! flag and the path and says what to do.

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::usage;

/// Write `contents` to `path`, naming the path on failure.
pub fn write_file(path: &Path, contents: &str) -> Result<()> {
    std::fs::write(path, contents).with_context(|| format!("cannot write {}", path.display()))
}

/// Check that directory `dir`, given with `flag`, exists or can be made,
/// and that a file can be written in it.
pub fn check_dir(dir: &Path, flag: &str) -> Result<()> {
    let refuse = |why: std::io::Error| {
        usage(anyhow::anyhow!(
            "{flag} {}: cannot write there ({why}); give {flag} a directory you can write, or make this one writable",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(refuse)?;
    let probe = dir.join(format!(".kadlab-write-check-{}", std::process::id()));
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe)
        .map_err(refuse)?;
    std::fs::remove_file(&probe).map_err(refuse)
}

/// Check that file `path`, given with `flag`, can be written, without
/// touching what it holds now: an existing file is opened for appending,
/// a new one is made and removed again.
pub fn check_file(path: &Path, flag: &str) -> Result<()> {
    let refuse = |why: std::io::Error| {
        usage(anyhow::anyhow!(
            "{flag} {}: cannot write it ({why}); give {flag} a file in a directory you can write",
            path.display()
        ))
    };
    if path.is_dir() {
        return Err(refuse(std::io::Error::new(
            ErrorKind::IsADirectory,
            "it is a directory",
        )));
    }
    match OpenOptions::new().append(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .map_err(refuse)?;
            std::fs::remove_file(path).map_err(refuse)
        }
        Err(e) => Err(refuse(e)),
    }
}
