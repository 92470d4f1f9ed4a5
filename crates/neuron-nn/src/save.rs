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
    write_atomic(path, &module_bytes(module, path)?)
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

/// First bytes of a file written by [`save_with_config`] or [`save_checkpoint`].
const MAGIC: &[u8; 8] = b"NEURONNN";
/// Format version of that container.
const VERSION: u32 = 1;

/// Writes `bytes` to `path` through a temporary file in the same folder, synced, then renamed
/// over `path`: readers see the old file or the new one, never a half-written one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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

/// The container: magic, version, then each section as a little-endian u64 length and its bytes.
fn write_sections(path: &Path, sections: &[&[u8]]) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(12 + sections.iter().map(|s| 8 + s.len()).sum::<usize>());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    for section in sections {
        bytes.extend_from_slice(&(section.len() as u64).to_le_bytes());
        bytes.extend_from_slice(section);
    }
    write_atomic(path, &bytes)
}

fn read_sections(path: &Path, count: usize) -> Result<Vec<Vec<u8>>, LoadError> {
    let mismatch = |message: String| LoadError::Mismatch {
        path: path.into(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.into(),
        source,
    })?;
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        return Err(mismatch("not a neuron-nn file (bad header)".into()));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(mismatch(format!(
            "file format version {version}, this build reads {VERSION}"
        )));
    }
    let mut at = 12;
    let mut sections = Vec::with_capacity(count);
    for i in 0..count {
        let len = bytes
            .get(at..at + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
            .ok_or_else(|| mismatch(format!("truncated before section {i}")))?;
        let section = bytes
            .get(at + 8..(at + 8).saturating_add(len))
            .ok_or_else(|| mismatch(format!("truncated in section {i}")))?;
        sections.push(section.to_vec());
        at += 8 + len;
    }
    if at != bytes.len() {
        return Err(mismatch(format!("{} unexpected trailing bytes", bytes.len() - at)));
    }
    Ok(sections)
}

fn module_bytes<M: Module + Clone>(module: &M, path: &Path) -> std::io::Result<Vec<u8>> {
    let record = module.clone().into_record().into_bytes();
    Ok(record
        .map_err(|e| std::io::Error::other(format!("serialising {}: {e}", path.display())))?
        .to_vec())
}

/// Loads burnpack bytes into a module, turning Burn's errors (and panics) into [`LoadError`].
fn load_module_bytes<M: Module>(module: M, bytes: Vec<u8>, path: &Path) -> Result<M, LoadError> {
    let mismatch = |message: String| LoadError::Mismatch {
        path: path.into(),
        message,
    };
    let record = burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
        .map_err(|e| mismatch(format!("weights: {e}")))?;
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| module.try_load_record(record))) {
        Ok(Ok(m)) => Ok(m),
        Ok(Err(e)) => Err(mismatch(format!("weights: {e}"))),
        Err(_) => Err(mismatch("weights: burn panicked while loading".into())),
    }
}

fn json<T: serde::de::DeserializeOwned>(bytes: &[u8], path: &Path) -> Result<T, LoadError> {
    serde_json::from_slice(bytes).map_err(|e| LoadError::Mismatch {
        path: path.into(),
        message: format!("config: {e}"),
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
    let config = serde_json::to_vec(config).map_err(std::io::Error::other)?;
    write_sections(path, &[&config, &module_bytes(module, path)?])
}

/// Reads a file written by [`save_with_config`]: the config, and the module `build` makes from
/// it with the saved weights loaded.
pub fn load_with_config<C: serde::de::DeserializeOwned, M: Module>(
    path: impl AsRef<Path>,
    build: impl FnOnce(&C) -> M,
) -> Result<(C, M), LoadError> {
    let path = path.as_ref();
    let mut sections = read_sections(path, 2)?;
    let config: C = json(&sections[0], path)?;
    let module = load_module_bytes(build(&config), sections.remove(1), path)?;
    Ok((config, module))
}

/// Everything needed to continue training: the config, the step, the module and its optimizer.
pub struct Checkpoint<C, M> {
    /// What builds the module.
    pub config: C,
    /// Optimizer steps taken.
    pub step: u64,
    /// The trained module.
    pub module: M,
    /// The optimizer with its state (e.g. Adam's moments).
    pub optimizer: burn::optim::ModuleOptimizer,
}

/// Saves a training checkpoint (config and step as JSON, module, optimizer state) in one file,
/// atomically: a run killed mid-write leaves the previous checkpoint intact.
pub fn save_checkpoint<C: serde::Serialize, M: Module + Clone>(
    path: impl AsRef<Path>,
    config: &C,
    step: u64,
    module: &M,
    optimizer: &burn::optim::ModuleOptimizer,
) -> std::io::Result<()> {
    let path = path.as_ref();
    let head =
        serde_json::to_vec(&serde_json::json!({ "config": config, "step": step })).map_err(std::io::Error::other)?;
    let optim = optimizer
        .to_record()
        .into_bytes()
        .map_err(|e| std::io::Error::other(format!("serialising optimizer state: {e}")))?;
    write_sections(path, &[&head, &module_bytes(module, path)?, &optim])
}

/// Reads a checkpoint written by [`save_checkpoint`]: `build` makes the module from the saved
/// config, and `optimizer` (built as for the original run) receives the saved state.
pub fn load_checkpoint<C: serde::de::DeserializeOwned, M: Module>(
    path: impl AsRef<Path>,
    build: impl FnOnce(&C) -> M,
    optimizer: burn::optim::ModuleOptimizer,
) -> Result<Checkpoint<C, M>, LoadError> {
    #[derive(serde::Deserialize)]
    struct Head<C> {
        config: C,
        step: u64,
    }
    let path = path.as_ref();
    let mut sections = read_sections(path, 3)?;
    let head: Head<C> = json(&sections[0], path)?;
    let optim = burn::optim::OptimizerRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(sections.remove(2)))
        .map_err(|e| LoadError::Mismatch {
            path: path.into(),
            message: format!("optimizer state: {e}"),
        })?;
    let module = load_module_bytes(build(&head.config), sections.remove(1), path)?;
    Ok(Checkpoint {
        config: head.config,
        step: head.step,
        module,
        optimizer: optimizer.load_record(optim),
    })
}
