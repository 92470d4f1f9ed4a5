//! Training checkpoints: everything needed to continue a run, in one file written atomically
//! (neuron_nn's container: a JSON header with the config and step, the module's weights, and
//! the optimizer's state as an extra section). A run killed mid-write keeps its previous one.

use std::path::Path;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use neuron_nn::LoadError;

/// Everything needed to continue training: the config, the step, the module and its optimizer.
pub struct Checkpoint<C, M> {
    /// What builds the module (and whatever else the run keeps with it).
    pub config: C,
    /// Optimizer steps taken.
    pub step: u64,
    /// The trained module.
    pub module: M,
    /// The optimizer with its state (e.g. Adam's moments).
    pub optimizer: ModuleOptimizer,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Head<C> {
    config: C,
    step: u64,
}

/// Saves a training checkpoint in one file, atomically.
pub fn save_checkpoint<C: serde::Serialize, M: Module + Clone>(
    path: impl AsRef<Path>,
    config: &C,
    step: u64,
    module: &M,
    optimizer: &ModuleOptimizer,
) -> std::io::Result<()> {
    let state = optimizer
        .to_record()
        .into_bytes()
        .map_err(|e| std::io::Error::other(format!("serialising optimizer state: {e}")))?;
    neuron_nn::save_parts(path, &Head { config, step }, module, &[&state])
}

/// Reads a checkpoint written by [`save_checkpoint`]: `build` makes the module from the saved
/// config (or says why it cannot), and `optimizer` (built as for the original run) receives the
/// saved state.
pub fn load_checkpoint<C: serde::de::DeserializeOwned, M: Module>(
    path: impl AsRef<Path>,
    build: impl FnOnce(&C) -> Result<M, String>,
    optimizer: ModuleOptimizer,
) -> Result<Checkpoint<C, M>, LoadError> {
    let path = path.as_ref();
    let (head, module, extra) = neuron_nn::try_load_parts(path, |h: &Head<C>| build(&h.config))?;
    let mismatch = |message: String| LoadError::Mismatch {
        path: path.into(),
        message,
    };
    let [state] = extra.as_slice() else {
        return Err(mismatch(format!(
            "a checkpoint holds one optimizer section after the weights; this file has {}",
            extra.len()
        )));
    };
    let record = burn::optim::OptimizerRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(state.clone()))
        .map_err(|e| mismatch(format!("optimizer state: {e}")))?;
    Ok(Checkpoint {
        config: head.config,
        step: head.step,
        module,
        optimizer: optimizer.load_record(record),
    })
}
