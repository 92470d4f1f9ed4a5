//! # fit: the library's neuron fitted to a biophysical cell, scored against counted FLOPs
//!
//! Ground truth comes from `biophys` ([`data`]); four model families ([`model`]: the library's
//! neuron, the [`baselines`], the published [`branch_elm`]) at named [`sizes`] learn to map a
//! cell's input raster to its spikes and somatic voltage every millisecond on `train`'s loop ([`session`]), and are scored on
//! held-out trials as the field scores such fits ([`evaluate`], [`metrics`]): spike ROC AUC,
//! the true-positive rate at 1 % false positives, voltage RMS error and explained variance,
//! beside forward FLOPs per simulated millisecond counted by `flop-count`. [`sweep`] runs a
//! whole comparison and writes its [`report`] and [`plot`]s; `examples/fit_neuron.rs` is its
//! command line.
//!
//! ```no_run
//! use burn::tensor::Device;
//! use fit::{Quiet, SweepConfig, run_sweep};
//!
//! // The README's main command: bs4, one size per family, about 4.5 minutes on 2 cores.
//! let report = run_sweep(&SweepConfig::new("target/fit", "target/fit/data"), &Device::flex(), &mut Quiet)?;
//! println!("{}", report.to_table());
//! # Ok::<(), fit::FitError>(())
//! ```

pub mod baselines;
pub mod branch_elm;
pub mod data;
pub mod evaluate;
pub mod grid;
pub mod metrics;
pub mod model;
pub mod neuron_net;
pub mod plot;
pub mod report;
pub mod session;
pub mod sizes;
pub mod sweep;

pub use baselines::{LinearNonlinear, LinearNonlinearConfig, TcnConfig, TemporalConvNet};
pub use branch_elm::{BranchElm, BranchElmConfig};
pub use data::{CLIP_MV, DataConfig, DataId, Dataset, Normalisation, TrialData, load_or_simulate};
pub use evaluate::{FlopsPerMs, NeuronIoScores, Prediction, SKIP_MS, Scores, flops_per_ms, predict, score};
pub use model::{Family, FitModel, ModelConfig, ModelHeader, PlacementError};
pub use neuron_net::{DendriteStageConfig, NeuronNet, NeuronNetConfig, SomaMemory};
pub use report::{FitReport, FitResult};
pub use session::{FitConfig, FitError, FitProgress, FitSession, StepLoss};
pub use sizes::Size;
pub use sweep::{
    FileScores, Observer, Quiet, SweepConfig, default_steps, evaluate_file, evaluate_files, merge_reports, run_sweep,
};
