//! Saving and loading modules without ever leaving a half-written file: every save goes to a
//! temporary file beside the target (`tempfile`), is synced, then renamed over it.
//!
//! Two forms: a bare burnpack record ([`save_module`], the weights only, for a module you can
//! rebuild), and a single file holding the config that builds the module with its weights
//! ([`save_with_config`]; [`save_parts`] adds byte sections, e.g. an optimizer's state).

use std::io::Write;
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
        /// Burn's description, or what was wrong with the container.
        message: String,
    },
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, synced, then
/// renamed over `path`. Readers see the old file or the new one, never a half-written one.
/// The file is readable by all (0644 on Unix), as `File::create` would make it.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    #[cfg(unix)]
    {
        // tempfile creates 0600: a report or a model is not a secret.
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Saves `module` to `path` (burnpack) atomically.
pub fn save_module<M: Module + Clone>(module: &M, path: impl AsRef<Path>) -> std::io::Result<()> {
    let path = path.as_ref();
    write_atomic(path, &module_bytes(module, path)?)
}

/// Loads parameters saved by [`save_module`] into `module`, which must have the same structure
/// and shapes (build it from the same config first). Errors, never panics, on a missing,
/// corrupt or mismatched file.
pub fn load_module<M: Module>(module: M, path: impl AsRef<Path>) -> Result<M, LoadError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.into(),
        source,
    })?;
    load_module_bytes(module, bytes, path)
}

/// First bytes of a file written by [`save_parts`].
const MAGIC: &[u8; 8] = b"NEURONNN";
/// Format version of that container: 2 stores the section count.
const VERSION: u32 = 2;

fn module_bytes<M: Module + Clone>(module: &M, path: &Path) -> std::io::Result<Vec<u8>> {
    // `valid` folds a running state's pending update (a batch norm's statistics of the last
    // training step) into its value; the record alone would save the value before it.
    let record = module.valid().into_record().into_bytes();
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
    // Burn may panic deep inside on some malformed records; that is an error here too.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| module.try_load_record(record))) {
        Ok(Ok(m)) => Ok(m),
        Ok(Err(e)) => Err(mismatch(format!("weights: {e}"))),
        Err(_) => Err(mismatch("weights: burn panicked while loading".into())),
    }
}

/// Saves the config that builds `module`, its weights and `extra` byte sections in one file,
/// atomically: magic, format version, section count, then each section as a little-endian u64
/// length and its bytes (config JSON, burnpack record, the extras). [`load_parts`] reads it.
pub fn save_parts<C: serde::Serialize, M: Module + Clone>(
    path: impl AsRef<Path>,
    config: &C,
    module: &M,
    extra: &[&[u8]],
) -> std::io::Result<()> {
    let path = path.as_ref();
    let config = serde_json::to_vec(config).map_err(std::io::Error::other)?;
    let weights = module_bytes(module, path)?;
    let sections: Vec<&[u8]> = [&config[..], &weights[..]]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    let mut bytes = Vec::with_capacity(16 + sections.iter().map(|s| 8 + s.len()).sum::<usize>());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&(sections.len() as u32).to_le_bytes());
    for section in sections {
        bytes.extend_from_slice(&(section.len() as u64).to_le_bytes());
        bytes.extend_from_slice(section);
    }
    write_atomic(path, &bytes)
}

fn read_sections(path: &Path) -> Result<Vec<Vec<u8>>, LoadError> {
    let mismatch = |message: String| LoadError::Mismatch {
        path: path.into(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
        path: path.into(),
        source,
    })?;
    if bytes.len() < 16 || &bytes[..8] != MAGIC {
        return Err(mismatch("not a neuron-nn file (bad header)".into()));
    }
    let word = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let version = word(8);
    if version != VERSION {
        return Err(mismatch(format!(
            "file format version {version}, this build reads {VERSION}"
        )));
    }
    let count = word(12) as usize;
    let mut at = 16;
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
    if count < 2 {
        return Err(mismatch(format!("{count} sections; a config and weights need 2")));
    }
    Ok(sections)
}

/// Reads a file written by [`save_parts`]: the config, the module `build` makes from it with
/// the saved weights loaded, and the extra sections.
pub fn load_parts<C: serde::de::DeserializeOwned, M: Module>(
    path: impl AsRef<Path>,
    build: impl FnOnce(&C) -> M,
) -> Result<(C, M, Vec<Vec<u8>>), LoadError> {
    try_load_parts(path, |c| Ok(build(c)))
}

/// [`load_parts`] where the saved config may not build a module (an edited file, a config
/// this version refuses): `build` says why, and the load fails with that reason before any
/// weights are read.
pub fn try_load_parts<C: serde::de::DeserializeOwned, M: Module>(
    path: impl AsRef<Path>,
    build: impl FnOnce(&C) -> Result<M, String>,
) -> Result<(C, M, Vec<Vec<u8>>), LoadError> {
    let path = path.as_ref();
    let mismatch = |message: String| LoadError::Mismatch {
        path: path.into(),
        message,
    };
    let mut sections = read_sections(path)?;
    let extra = sections.split_off(2);
    let config: C = serde_json::from_slice(&sections[0]).map_err(|e| mismatch(format!("config: {e}")))?;
    let module = build(&config).map_err(|e| mismatch(format!("the saved config cannot build the module: {e}")))?;
    let module = load_module_bytes(module, sections.remove(1), path)?;
    Ok((config, module, extra))
}

/// Saves a module together with the config that builds it, in one file (atomically).
/// [`load_with_config`] rebuilds the module from the file alone.
pub fn save_with_config<C: serde::Serialize, M: Module + Clone>(
    config: &C,
    module: &M,
    path: impl AsRef<Path>,
) -> std::io::Result<()> {
    save_parts(path, config, module, &[])
}

/// Reads a file written by [`save_with_config`]: the config, and the module `build` makes from
/// it with the saved weights loaded. A file with extra sections (a training checkpoint) is
/// refused: load it with the code that wrote it.
pub fn load_with_config<C: serde::de::DeserializeOwned, M: Module>(
    path: impl AsRef<Path>,
    build: impl FnOnce(&C) -> M,
) -> Result<(C, M), LoadError> {
    try_load_with_config(path, |c| Ok(build(c)))
}

/// [`load_with_config`] where the saved config may not build a module: `build` says why.
pub fn try_load_with_config<C: serde::de::DeserializeOwned, M: Module>(
    path: impl AsRef<Path>,
    build: impl FnOnce(&C) -> Result<M, String>,
) -> Result<(C, M), LoadError> {
    let path = path.as_ref();
    let (config, module, extra) = try_load_parts(path, build)?;
    if !extra.is_empty() {
        return Err(LoadError::Mismatch {
            path: path.into(),
            message: format!(
                "{} sections beyond a config and weights (a training checkpoint?)",
                extra.len()
            ),
        });
    }
    Ok((config, module))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Axon, AxonConfig};
    use burn::tensor::Device;

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("neuron-nn-save-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join(name)
    }

    fn axon(device: &Device) -> Axon {
        AxonConfig::new(3).init(device)
    }

    fn load(path: &Path) -> Result<(AxonConfig, Axon), LoadError> {
        load_with_config(path, |c: &AxonConfig| c.init(&Device::flex()))
    }

    fn message(e: LoadError) -> String {
        match e {
            LoadError::Mismatch { message, .. } => message,
            other => panic!("expected a mismatch, got {other}"),
        }
    }

    #[test]
    fn a_batch_norm_saves_the_statistics_of_its_last_training_step() {
        use burn::nn::{BatchNorm, BatchNormConfig};
        use burn::tensor::Tensor;
        let device = Device::flex().autodiff();
        let norm: BatchNorm = BatchNormConfig::new(2).with_momentum(1.0).init(&device);
        let x = Tensor::<3>::from_data([[[1.0f32, 3.0], [10.0, 20.0]]], &device);
        norm.forward(x);
        let path = tmp("norm.bin");
        save_module(&norm, &path).unwrap();
        let loaded = load_module(BatchNormConfig::new(2).init(&Device::flex()), &path).unwrap();
        // Momentum 1: the running mean is the last batch's, per channel.
        let mean: Vec<f32> = loaded.running_mean.value().into_data().try_to_vec().unwrap();
        assert_eq!(mean, vec![2.0, 15.0]);
    }

    #[test]
    fn container_errors_say_what_is_wrong() {
        let device = Device::flex();
        let path = tmp("axon.nnn");
        save_with_config(&AxonConfig::new(3), &axon(&device), &path).unwrap();
        let good = std::fs::read(&path).unwrap();
        assert!(load(&path).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(
                mode, 0o644,
                "saved files are readable by all, as File::create makes them"
            );
        }
        // Bad magic.
        let mut bad = good.clone();
        bad[0] = b'X';
        std::fs::write(&path, &bad).unwrap();
        assert_eq!(message(load(&path).unwrap_err()), "not a neuron-nn file (bad header)");
        // Another format version.
        let mut bad = good.clone();
        bad[8..12].copy_from_slice(&7u32.to_le_bytes());
        std::fs::write(&path, &bad).unwrap();
        assert_eq!(
            message(load(&path).unwrap_err()),
            "file format version 7, this build reads 2"
        );
        // Trailing bytes.
        let mut bad = good.clone();
        bad.extend_from_slice(b"junk");
        std::fs::write(&path, &bad).unwrap();
        assert_eq!(message(load(&path).unwrap_err()), "4 unexpected trailing bytes");
        // Truncated.
        std::fs::write(&path, &good[..good.len() - 10]).unwrap();
        assert!(message(load(&path).unwrap_err()).starts_with("truncated in section 1"));
        // A checkpoint-like file with an extra section.
        save_parts(&path, &AxonConfig::new(3), &axon(&device), &[b"state"]).unwrap();
        assert_eq!(
            message(load(&path).unwrap_err()),
            "1 sections beyond a config and weights (a training checkpoint?)"
        );
        let (_, _, extra) = load_parts(&path, |c: &AxonConfig| c.init(&device)).unwrap();
        assert_eq!(extra, vec![b"state".to_vec()]);
        // A config that is not JSON of the right type.
        save_with_config(&"not a config", &axon(&device), &path).unwrap();
        assert!(message(load(&path).unwrap_err()).starts_with("config: "));
    }

    #[test]
    fn a_failed_save_leaves_the_previous_file_whole() {
        let device = Device::flex();
        let dir = tmp("keep");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("axon.nnn");
        save_with_config(&AxonConfig::new(3), &axon(&device), &path).unwrap();
        let before = std::fs::read(&path).unwrap();
        // A target that is a directory cannot be replaced: the save fails, nothing is left over.
        let blocked = dir.join("blocked");
        std::fs::create_dir_all(&blocked).unwrap();
        assert!(save_with_config(&AxonConfig::new(3), &axon(&device), &blocked).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), before);
        let left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 2, "no temporary file left behind: {left:?}");
    }
}
