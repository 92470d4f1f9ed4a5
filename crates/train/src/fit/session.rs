//! Training one model on a [`Dataset`]: Adam on random windows of the training trials, binary
//! cross-entropy on spikes plus mean squared error on the normalised clipped voltage;
//! checkpoints that resume to exactly the uninterrupted run.

use std::path::{Path, PathBuf};

use burn::config::Config;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::softplus;
use burn::tensor::{Device, Tensor, TensorData};
use neuron_nn::error::{check_nonzero, check_positive};
use neuron_nn::{ConfigError, LoadError};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::data::{CLIP_MV, Dataset, TrialData};
use super::model::{FitModel, ModelConfig, ModelHeader, Normalisation, build_saved, saved_or_invalid};

const NAME: &str = "FitConfig";

/// One training run of one model.
#[derive(Config, Debug, PartialEq)]
pub struct FitConfig {
    /// The model.
    pub model: ModelConfig,
    /// Adam steps. Default 600.
    #[config(default = 600)]
    pub steps: u64,
    /// Windows per batch. Default 8.
    #[config(default = 8)]
    pub batch: usize,
    /// Scored milliseconds per window (each also reads the model's reach before it). Default 256.
    #[config(default = 256)]
    pub window: usize,
    /// Learning rate at step 0. Default 3e-3.
    #[config(default = 3e-3)]
    pub learning_rate: f64,
    /// Learning rate at the last step, geometric in between. Default 3e-4.
    #[config(default = 3e-4)]
    pub final_learning_rate: f64,
    /// Weight of the voltage loss beside the spike loss. Default 0.5.
    #[config(default = 0.5)]
    pub voltage_weight: f64,
    /// Seed of the initial weights and of every batch. Default 0.
    #[config(default = 0)]
    pub seed: u64,
    /// Steps between checkpoints (one is always written at the end). Default 100.
    #[config(default = 100)]
    pub checkpoint_every: u64,
}

impl FitConfig {
    /// Checks the model and every training setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.model.validate()?;
        check_nonzero(NAME, "steps", self.steps as usize)?;
        check_nonzero(NAME, "batch", self.batch)?;
        check_nonzero(NAME, "window", self.window)?;
        check_nonzero(NAME, "checkpoint_every", self.checkpoint_every as usize)?;
        check_positive(NAME, "learning_rate", self.learning_rate)?;
        check_positive(NAME, "final_learning_rate", self.final_learning_rate)?;
        check_positive(NAME, "voltage_weight", self.voltage_weight)?;
        if self.final_learning_rate > self.learning_rate {
            return Err(ConfigError::Inconsistent {
                module: NAME,
                message: format!(
                    "final_learning_rate {} is above learning_rate {} (the rate only decays)",
                    self.final_learning_rate, self.learning_rate
                ),
            });
        }
        Ok(())
    }

    /// Learning rate at `step`.
    pub fn learning_rate_at(&self, step: u64) -> f64 {
        let progress = step as f64 / (self.steps.max(2) - 1) as f64;
        self.learning_rate * (self.final_learning_rate / self.learning_rate).powf(progress.min(1.0))
    }
}

/// Why fitting stopped or scoring failed.
#[derive(Debug, thiserror::Error)]
pub enum FitError {
    /// An invalid model or training config.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The data: simulation, a trial file, a placement.
    #[error(transparent)]
    Data(#[from] biophys::BiophysError),
    /// The training trials are too short for a window and the model's reach.
    #[error(
        "fit: a training window needs {needed} ms (the model's reach {reach} + window {window}), but the shortest training trial has {ms} ms"
    )]
    ShortTrials {
        /// Needed.
        needed: usize,
        /// Reach of the model.
        reach: usize,
        /// Scored window.
        window: usize,
        /// Shortest trial.
        ms: usize,
    },
    /// A loss became NaN or infinite.
    #[error(
        "fit: training stopped at step {step}: the loss is {loss} at learning rate {learning_rate:.3e}; lower the learning rate"
    )]
    Diverged {
        /// The step (0-based).
        step: u64,
        /// The loss.
        loss: f64,
        /// The learning rate of that step.
        learning_rate: f64,
    },
    /// A checkpoint was made on other data.
    #[error(
        "fit: checkpoint {path} was trained on {saved}, but this run's data are {given}; delete it or use its data"
    )]
    OtherData {
        /// The checkpoint.
        path: PathBuf,
        /// What it was trained on.
        saved: String,
        /// What this run has.
        given: String,
    },
    /// A file could not be written.
    #[error("fit: cannot write {path}: {source}")]
    Save {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A model or checkpoint could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A model cannot score a trial's placement.
    #[error(transparent)]
    Placement(#[from] super::model::PlacementError),
    /// A metric could not be computed.
    #[error(transparent)]
    Metric(#[from] super::metrics::MetricError),
}

/// Losses of one step: spike cross-entropy, voltage mean squared error (normalised units).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepLoss {
    /// Binary cross-entropy of the spike logits.
    pub spike: f64,
    /// Mean squared error of the normalised voltage.
    pub voltage: f64,
}

/// One step's numbers, for progress reporting.
#[derive(Debug, Clone, Copy)]
pub struct FitProgress {
    /// Steps done.
    pub step: u64,
    /// Steps in the run.
    pub steps: u64,
    /// This step's losses.
    pub loss: StepLoss,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    config: FitConfig,
    header: ModelHeader,
    data: String,
    losses: Vec<StepLoss>,
    /// Older checkpoints lack it: their time is unknown, counted as 0.
    #[serde(default)]
    train_seconds: f64,
}

/// A training run in progress.
pub struct FitSession {
    /// The run's config.
    pub config: FitConfig,
    /// What a saved model carries: placement and voltage normalisation.
    pub header: ModelHeader,
    /// Steps done.
    pub step: u64,
    /// Losses per step.
    pub losses: Vec<StepLoss>,
    /// Wall seconds spent in training steps, summed over every resumed part of the run.
    pub train_seconds: f64,
    /// The model.
    pub model: FitModel,
    data: String,
    optimizer: ModuleOptimizer,
    device: Device,
}

fn optimizer() -> ModuleOptimizer {
    AdamConfig::new().init()
}

/// Names the training data (cell, key, seeds, length): a checkpoint resumes only on the same.
fn data_id(data: &Dataset) -> String {
    let c = &data.config;
    format!(
        "{} key {:016x}, training seeds {:?} × {} s",
        c.cell.name,
        c.key(),
        c.train_seeds,
        c.seconds
    )
}

/// Mean and standard deviation of the clipped voltage over the training trials.
pub fn voltage_normalisation(trials: &[TrialData]) -> Normalisation {
    let values: Vec<f64> = trials
        .iter()
        .flat_map(|t| t.voltage.iter().map(|v| v.min(CLIP_MV)))
        .collect();
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    Normalisation {
        mean,
        std: var.sqrt().max(1e-6),
    }
}

/// `1 / std` of the rasters' entries (1 for an empty or constant set).
pub fn input_scale(trials: &[TrialData]) -> f64 {
    let (mut on, mut all) = (0usize, 0usize);
    for t in trials {
        on += t.raster.bits.iter().filter(|b| **b).count();
        all += t.raster.bits.len();
    }
    let p = on as f64 / all.max(1) as f64;
    let std = (p * (1.0 - p)).sqrt();
    if std > 0.0 { 1.0 / std } else { 1.0 }
}

/// Rows `[start, start + len)` of a raster, a spike worth `scale`, `[sites, len]` flattened.
pub fn raster_window(trial: &TrialData, start: usize, len: usize, scale: f64, out: &mut Vec<f32>) {
    let r = &trial.raster;
    let on = scale as f32;
    for s in 0..r.sites {
        let row = &r.bits[s * r.ms + start..s * r.ms + start + len];
        out.extend(row.iter().map(|&b| if b { on } else { 0.0 }));
    }
}

/// One trial's raster rows `[start, start + len)` as a model input, a spike worth `scale`.
///
/// # Shapes
///
/// - output: `[1, sites, len]`
pub fn raster_input(trial: &TrialData, start: usize, len: usize, scale: f64, device: &Device) -> Tensor<3> {
    let mut x = Vec::new();
    raster_window(trial, start, len, scale, &mut x);
    Tensor::from_data(TensorData::new(x, [1, trial.raster.sites, len]), device)
}

impl FitSession {
    /// A fresh run on `device` (made an autodiff device here) for `data`.
    pub fn new(config: FitConfig, data: &Dataset, device: &Device) -> Result<Self, FitError> {
        config.validate()?;
        let device = device.clone().autodiff();
        let synapses = data
            .train
            .first()
            .map(|t| t.synapses.clone())
            .unwrap_or_else(|| biophys::Synapses {
                branch: Vec::new(),
                pos: Vec::new(),
                kind: Vec::new(),
            });
        device.seed(config.seed);
        let bins: usize = data.train.iter().map(TrialData::ms).sum();
        let spikes: usize = data
            .train
            .iter()
            .map(|t| t.spikes.iter().filter(|s| **s != 0).count())
            .sum();
        let model = config
            .model
            .init(&synapses, &device)?
            .with_output_prior(spikes as f64 / bins.max(1) as f64);
        let scale = input_scale(&data.train);
        // A memory soma starts inside its working range: its inputs (dendrite rates) have no
        // fixed scale, and saturated they never train (docs/fit.md).
        let model = match (model, data.train.first()) {
            (FitModel::Neuron(net), Some(trial)) if net.memory.is_some() => {
                let x = raster_input(trial, 0, 2000.min(trial.ms()), scale, &device);
                FitModel::Neuron(net.standardise_memory_inputs(x))
            }
            (m, _) => m,
        };
        let header = ModelHeader {
            model: config.model.clone(),
            cell: data.config.cell.name.clone(),
            synapses,
            voltage: voltage_normalisation(&data.train),
            input_scale: scale,
        };
        Ok(Self {
            config,
            header,
            step: 0,
            losses: Vec::new(),
            train_seconds: 0.0,
            model,
            data: data_id(data),
            optimizer: optimizer(),
            device,
        })
    }

    /// Continues the run saved at `path` on `data` (which must be the data it was trained on).
    pub fn resume(path: impl AsRef<Path>, data: &Dataset, device: &Device) -> Result<Self, FitError> {
        let path = path.as_ref();
        let device = device.clone().autodiff();
        let mut invalid = None;
        let loaded = crate::checkpoint::load_checkpoint(
            path,
            |s: &Saved| build_saved(&s.config.model, &s.header.synapses, &device, &mut invalid),
            optimizer(),
        );
        let c = saved_or_invalid(path, loaded, invalid)?;
        let given = data_id(data);
        if c.config.data != given {
            return Err(FitError::OtherData {
                path: path.into(),
                saved: c.config.data,
                given,
            });
        }
        c.config.config.validate()?;
        Ok(Self {
            config: c.config.config,
            header: c.config.header,
            step: c.step,
            losses: c.config.losses,
            train_seconds: c.config.train_seconds,
            model: c.module,
            data: given,
            optimizer: c.optimizer,
            device,
        })
    }

    /// Writes a checkpoint atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), FitError> {
        let path = path.as_ref();
        let saved = Saved {
            config: self.config.clone(),
            header: self.header.clone(),
            data: self.data.clone(),
            losses: self.losses.clone(),
            train_seconds: self.train_seconds,
        };
        crate::checkpoint::save_checkpoint(path, &saved, self.step, &self.model, &self.optimizer).map_err(|source| {
            FitError::Save {
                path: path.into(),
                source,
            }
        })
    }

    /// Whether every configured step is done.
    pub fn finished(&self) -> bool {
        self.step >= self.config.steps
    }

    /// The autodiff device the model lives on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The batch of step `step`: inputs `[batch, synapses, reach + window]`, spikes and
    /// normalised voltages `[batch, window]` (the last `window` ms of each input).
    pub fn batch(&self, data: &Dataset, step: u64) -> Result<(Tensor<3>, Tensor<2>, Tensor<2>), FitError> {
        let c = &self.config;
        let reach = c.model.reach();
        let len = reach + c.window;
        let shortest = data.train.iter().map(TrialData::ms).min().unwrap_or(0);
        if shortest < len || data.train.is_empty() {
            return Err(FitError::ShortTrials {
                needed: len,
                reach,
                window: c.window,
                ms: shortest,
            });
        }
        let mut rng = crate::data::stream(c.seed, step);
        let norm = self.header.voltage;
        let sites = self.header.synapses.len();
        let (mut x, mut spikes, mut volts) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..c.batch {
            let trial = &data.train[rng.random_range(0..data.train.len())];
            let start = rng.random_range(0..=trial.ms() - len);
            raster_window(trial, start, len, self.header.input_scale, &mut x);
            let scored = start + reach..start + len;
            spikes.extend(trial.spikes[scored.clone()].iter().map(|&s| s as f32));
            volts.extend(
                trial.voltage[scored]
                    .iter()
                    .map(|v| ((v.min(CLIP_MV) - norm.mean) / norm.std) as f32),
            );
        }
        let b = c.batch;
        let d = &self.device;
        Ok((
            Tensor::from_data(TensorData::new(x, [b, sites, len]), d),
            Tensor::from_data(TensorData::new(spikes, [b, c.window]), d),
            Tensor::from_data(TensorData::new(volts, [b, c.window]), d),
        ))
    }

    /// Trains until step `until` (at most `config.steps`), calling `progress` after each step and
    /// writing a checkpoint to `checkpoint` every `checkpoint_every` steps and at the end. Step
    /// `s` always draws batch stream `s`, so stopping and resuming changes nothing.
    pub fn run(
        mut self,
        data: &Dataset,
        until: u64,
        checkpoint: Option<&Path>,
        mut progress: impl FnMut(&FitProgress),
    ) -> Result<Self, FitError> {
        let until = until.min(self.config.steps);
        let c = self.config.clone();
        let reach = c.model.reach();
        while self.step < until {
            let started = std::time::Instant::now();
            let s = self.step;
            let lr = c.learning_rate_at(s);
            let (x, spikes, volts) = self.batch(data, s)?;
            let out = self.model.forward(x).narrow(2, reach, c.window);
            let [b, _, w] = out.dims();
            let logit = out.clone().narrow(1, 0, 1).reshape([b, w]);
            let v = out.narrow(1, 1, 1).reshape([b, w]);
            // Binary cross-entropy with logits: softplus(z) − y·z.
            let spike_loss = (softplus(logit.clone(), 1.0) - logit * spikes).mean();
            let voltage_loss = (v - volts).square().mean();
            let loss = StepLoss {
                spike: spike_loss.clone().into_scalar::<f64>(),
                voltage: voltage_loss.clone().into_scalar::<f64>(),
            };
            let total = loss.spike + c.voltage_weight * loss.voltage;
            if !total.is_finite() {
                return Err(FitError::Diverged {
                    step: s,
                    loss: total,
                    learning_rate: lr,
                });
            }
            let grads =
                GradientsParams::from_grads((spike_loss + voltage_loss * c.voltage_weight).backward(), &self.model);
            self.model = self.optimizer.step(lr, self.model, grads);
            self.losses.push(loss);
            self.step += 1;
            self.train_seconds += started.elapsed().as_secs_f64();
            progress(&FitProgress {
                step: self.step,
                steps: c.steps,
                loss,
            });
            if let Some(path) = checkpoint
                && (self.step.is_multiple_of(c.checkpoint_every) || self.step == until)
            {
                self.save(path)?;
            }
        }
        Ok(self)
    }
}
