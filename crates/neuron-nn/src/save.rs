//! Saving and loading modules without ever leaving a half-written file.

use std::path::{Path, PathBuf};

use burn::module::Module;

/// What went wrong loading a module file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file does not exist or cannot be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a valid burnpack, or its tensors do not fit the module
    /// (another configuration, a truncated or corrupt file).
    #[error("{path} does not fit this module: {message}")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// Burn's description.
        message: String,
    },
}

/// Saves `module` to `path` (burnpack) atomically: written beside it under a temporary name,
/// then renamed, so an interrupted save leaves the previous file intact.
pub fn save_module<M: Module + Clone>(module: &M, path: impl AsRef<Path>) -> std::io::Result<()> {
    let path = path.as_ref();
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("{} is not a file path", path.display())))?;
    let tmp = path.with_file_name(format!(".{}.{}.tmp.bpk", name.to_string_lossy(), std::process::id()));
    module
        .clone()
        .save_file(&tmp)
        .map_err(|e| std::io::Error::other(format!("saving {}: {e}", path.display())))?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Loads parameters saved by [`save_module`] into `module`, which must have the same structure
/// and shapes (build it from the same config first). Errors, never panics, on a missing,
/// corrupt or mismatched file.
pub fn load_module<M: Module>(module: M, path: impl AsRef<Path>) -> Result<M, LoadError> {
    let path = path.as_ref();
    std::fs::metadata(path).map_err(|source| LoadError::Io {
        path: path.into(),
        source,
    })?;
    // Burn may panic deep inside on some malformed records; turn that into an error too.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| module.try_load_file(path)));
    match result {
        Ok(Ok(m)) => Ok(m),
        Ok(Err(e)) => Err(LoadError::Mismatch {
            path: path.into(),
            message: e.to_string(),
        }),
        Err(panic) => Err(LoadError::Mismatch {
            path: path.into(),
            message: panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "burn panicked while loading".into()),
        }),
    }
}
