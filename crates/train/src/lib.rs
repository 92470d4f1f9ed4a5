//! # train: backprop learns the diffusion kernels that brain simulators integrate with Euler steps
//!
//! The essay's methodological claim (Part II): diffusion along dendrites, which simulators
//! integrate with Euler's method (cheap, but nothing in it can be learned), is a convolution, and
//! a convolution's parameters can be learned by backprop. Here a [`cable`] simulator generates
//! data, two [`learners`] (a plain convolution and `neuron_nn::Dendrites`) learn the `k`-step
//! kernel with Adam, and a [`report`] reads D and τ back from what they learned.
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
//! assert!(report.d_rel_err < 0.01 && report.tau_rel_err < 0.01, "{}", report.to_table());
//! assert!(report.rollout_rel_err < report.baseline_rollout_rel_err);
//! # Ok::<(), train::TrainError>(())
//! ```

pub mod cable;
pub mod data;
pub mod learners;
pub mod plot;
pub mod report;
pub mod session;

pub use cable::{CableConfig, Kernel, Physics, propagator};
pub use learners::Learners;
pub use report::{LearnerReport, Report, evaluate};
pub use session::{Progress, Session, TrainConfig, TrainError};
