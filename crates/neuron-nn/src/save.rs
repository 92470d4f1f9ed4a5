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

/// First bytes of a file written by [`save_with_config`].
const MAGIC: &[u8; 8] = b"NEURONNN";
/// Format version of that container.
const VERSION: u32 = 1;

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("{} is not a file path", path.display())))?;
    let tmp = path.with_file_name(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::File::open(&tmp)?.sync_all())
        .and_then(|_| std::fs::rename(&tmp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

/// Saves a module together with the config that builds it, in one file (atomically): a small
/// header, the config as JSON, then the burnpack record. [`load_with_config`] rebuilds the
/// module from the file alone.
pub fn save_with_config<C: serde::Serialize, M: Module + Clone>(
    config: &C,
    module: &M,
    path: impl AsRef<Path>,
) -> std::io::Result<()> {
    let path = path.as_ref();
    let json = serde_json::to_vec(config).map_err(std::io::Error::other)?;
    let record = module
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| std::io::Error::other(format!("serialising {}: {e}", path.display())))?;
    let mut bytes = Vec::with_capacity(20 + json.len() + record.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&(json.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&json);
    bytes.extend_from_slice(&record);
    write_atomic(path, &bytes)
}

/// Reads a file written by [`save_with_config`]: the config, and a function that loads the
/// weights into a module built from it.
pub fn load_with_config<C: serde::de::DeserializeOwned, M: Module>(
    path: impl AsRef<Path>,
    build: impl FnOnce(&C) -> M,
) -> Result<(C, M), LoadError> {
    let path = path.as_ref();
    let mismatch = |message: String| LoadError::Mismatch {
        path: path.into(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.into(),
        source,
    })?;
    if bytes.len() < 20 || &bytes[..8] != MAGIC {
        return Err(mismatch("not a neuron-nn model file (bad header)".into()));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(mismatch(format!(
            "file format version {version}, this build reads {VERSION}"
        )));
    }
    let json_len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes")) as usize;
    let json = bytes
        .get(20..20usize.saturating_add(json_len))
        .ok_or_else(|| mismatch("truncated config".into()))?;
    let config: C = serde_json::from_slice(json).map_err(|e| mismatch(format!("config: {e}")))?;
    let record =
        burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes[20 + json_len..].to_vec()))
            .map_err(|e| mismatch(format!("weights: {e}")))?;
    let module = build(&config);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| module.try_load_record(record)));
    match result {
        Ok(Ok(m)) => Ok((config, m)),
        Ok(Err(e)) => Err(mismatch(format!("weights: {e}"))),
        Err(_) => Err(mismatch("weights: burn panicked while loading".into())),
    }
}
