//! # train: the training loop, and backprop learning the diffusion kernels of brain simulators
//!
//! [`run`] is the one training loop every experiment uses (schedule, Adam, finite-loss check,
//! progress, checkpoint cadence, resume), with [`checkpoint`] files, [`rng`] streams per step
//! and an SVG helper ([`plot`]). The [`cable`] experiment is the essay's methodological claim
//! (Part II): diffusion along dendrites, which simulators integrate with Euler's method (cheap,
//! but nothing in it can be learned), is a convolution, and a convolution's parameters can be
//! learned by backprop. A cable simulator generates data, two learners (a plain convolution and
//! `neuron_nn::Dendrites`) learn the `k`-step kernel with Adam, and a report reads D and τ back
//! from what they learned. (Fitting neurons to a biophysical cell is the `fit` crate.)
//!
//! ```
//! use burn::tensor::Device;
//! use train::{Session, TrainConfig, evaluate};
//!
//! // The default run on a shorter cable (64 cells, so a rollout of 4 kernel applications);
//! // `examples/train_diffusion.rs` runs the full default, with plots and checkpoints.
//! let config = TrainConfig::new()
//!     .with_cable(train::CableConfig::new().with_positions(64))
//!     .with_rollout(4);
//! let session = Session::new(config, &Device::flex())?.run(u64::MAX, None, |_| {})?;
//! let report = evaluate(&session);
//! let dendrites = report.learner(train::Learner::Dendrites);
//! assert!(dendrites.d_rel_err < 0.01 && dendrites.tau_rel_err < 0.01, "{}", report.to_table());
//! assert!(dendrites.rollout_rel_err < report.baseline_rollout_rel_err);
//! # Ok::<(), train::TrainError>(())
//! ```

pub mod cable;
pub mod checkpoint;
pub mod plot;
pub mod rng;
pub mod run;

pub use cable::{
    CableConfig, Kernel, Learner, LearnerReport, Learners, Physics, Progress, Report, Session, TrainConfig, TrainError,
    evaluate, propagator,
};
pub use checkpoint::{Checkpoint, load_checkpoint, save_checkpoint};
pub use run::{Run, RunError, Schedule, Step};

pub use neuron_nn::save::write_atomic;
