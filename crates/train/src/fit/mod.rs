//! # fit: the library's neuron fitted to a biophysical cell, scored against counted FLOPs
//!
//! Ground truth comes from `biophys` ([`data`]); three model families ([`model`]) learn to map
//! a cell's input raster to its spikes and somatic voltage every millisecond ([`session`]), and
//! are scored on held-out trials as the field scores such fits ([`evaluate`], [`metrics`]):
//! spike ROC AUC, the true-positive rate at 1 % false positives, voltage RMS error and explained
//! variance, beside forward FLOPs per simulated millisecond.

pub mod baselines;
pub mod data;
pub mod evaluate;
pub mod metrics;
pub mod model;
pub mod neuron_net;
pub mod plot;
pub mod session;
pub mod sweep;

pub use baselines::{LinearNonlinear, LinearNonlinearConfig, TcnConfig, TemporalConvNet};
pub use data::{CLIP_MV, DataConfig, Dataset, TrialData, load_or_simulate};
pub use evaluate::{FlopsPerMs, Prediction, SKIP_MS, Scores, flops_per_ms, predict, score};
pub use model::{Family, FitModel, ModelConfig, ModelHeader, Normalisation, PlacementError};
pub use neuron_net::{DendriteStageConfig, NeuronNet, NeuronNetConfig, SomaMemory};
pub use session::{FitConfig, FitError, FitProgress, FitSession, StepLoss};
pub use sweep::{FitReport, FitResult, Size, default_size, sizes};
