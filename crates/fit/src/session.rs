//! Training one model on a [`Dataset`] on the training loop (`train::run`): Adam on random
//! windows of the training trials, binary cross-entropy on spikes plus mean squared error on the
//! normalised clipped voltage; checkpoints that resume to exactly the uninterrupted run.

use std::path::{Path, PathBuf};

use burn::config::Config;
use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::tensor::activation::softplus;
use burn::tensor::{Device, Tensor, TensorData};
use neuron_nn::error::{check_nonzero, check_positive};
use neuron_nn::{ConfigError, DendriteAlgorithm, LoadError};
use rand::Rng;
use serde::{Deserialize, Serialize};
use train::rng::stream;
use train::{Run, RunError, Schedule, Step};

use crate::data::{CLIP_MV, DataId, Dataset, TrialData, input_scale, raster_window, voltage_normalisation};
use crate::model::{FitModel, ModelConfig, ModelHeader};

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
    /// Steps of a linear learning-rate warm-up onto the decay. Default none (`None` also reads
    /// checkpoints saved before the field existed).
    pub warmup_steps: Option<u64>,
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
        self.schedule().validate(NAME)?;
        check_positive(NAME, "voltage_weight", self.voltage_weight)
    }

    /// The learning rate's schedule: geometric from `learning_rate` to `final_learning_rate`,
    /// after the warm-up if any.
    pub fn schedule(&self) -> Schedule {
        Schedule {
            steps: self.steps,
            learning_rate: self.learning_rate,
            final_learning_rate: self.final_learning_rate,
            warmup_steps: self.warmup_steps.unwrap_or(0),
        }
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
    /// The training loop stopped (a loss not finite, a checkpoint not written or read).
    #[error("fit: {0}")]
    Run(#[from] RunError),
    /// A checkpoint was made on other data.
    #[error(
        "fit: checkpoint {path} was trained on {saved}, but this run's data are {given}; delete it or use its data"
    )]
    OtherData {
        /// The checkpoint.
        path: PathBuf,
        /// What it was trained on.
        saved: Box<DataId>,
        /// What this run has.
        given: Box<DataId>,
    },
    /// A checkpoint holds another config than the run that would resume it.
    #[error("fit: checkpoint {path} holds another config than this run's; delete it or run without --resume")]
    OtherConfig {
        /// The checkpoint.
        path: PathBuf,
    },
    /// A run asked for something inconsistent (a size of a family it does not fit).
    #[error("fit: {0}")]
    Sweep(String),
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
    Placement(#[from] crate::model::PlacementError),
    /// A metric could not be computed.
    #[error(transparent)]
    Metric(#[from] crate::metrics::MetricError),
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

/// What a checkpoint keeps besides the loop's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    /// The config as requested (what a resume is compared with).
    config: FitConfig,
    /// What the model needs besides weights, its config with the dendrite paths taken.
    header: ModelHeader,
    /// The training data.
    data: DataId,
}

/// A training run in progress.
pub struct FitSession {
    /// The run's config, as requested (the dendrite paths may be `Auto`).
    pub config: FitConfig,
    /// What a saved model carries: its config with the dendrite paths taken (never `Auto`),
    /// placement and normalisations.
    pub header: ModelHeader,
    data: DataId,
    run: Run<FitModel, StepLoss>,
    device: Device,
}

fn optimizer() -> ModuleOptimizer {
    AdamConfig::new().init()
}

impl FitSession {
    /// A fresh run on `device` (made an autodiff device here) for `data`: seeds the device,
    /// builds the model, fixes its dendrite paths for the training windows, and starts it from
    /// the training data ([`FitModel::initialise`]).
    pub fn new(config: FitConfig, data: &Dataset, device: &Device) -> Result<Self, FitError> {
        config.validate()?;
        let device = device.clone().autodiff();
        let synapses = data.synapses();
        let scale = input_scale(&data.train);
        let model = config.model.clone().for_input_scale(scale).with_paths(
            config.batch,
            config.model.reach() + config.window,
            &device,
        )?;
        device.seed(config.seed);
        let net = model
            .init(&synapses, &device)?
            .initialise(&data.train, data.spike_probability(), scale);
        let header = ModelHeader {
            model,
            cell: data.config.cell.name.clone(),
            synapses,
            voltage: voltage_normalisation(&data.train),
            input_scale: scale,
        };
        Ok(Self {
            config,
            header,
            data: data.config.id(),
            run: Run::new(net, optimizer()),
            device,
        })
    }

    /// Continues the run saved at `path` on `data` (which must be the data it was trained on),
    /// on the dendrite paths it took.
    pub fn resume(path: impl AsRef<Path>, data: &Dataset, device: &Device) -> Result<Self, FitError> {
        let path = path.as_ref();
        let device = device.clone().autodiff();
        let (saved, run) = Run::load(
            path,
            |s: &Saved| {
                s.config.validate().map_err(|e| e.to_string())?;
                s.header
                    .model
                    .init(&s.header.synapses, &device)
                    .map_err(|e| e.to_string())
            },
            optimizer(),
        )?;
        let given = data.config.id();
        if saved.data != given {
            return Err(FitError::OtherData {
                path: path.into(),
                saved: Box::new(saved.data),
                given: Box::new(given),
            });
        }
        Ok(Self {
            config: saved.config,
            header: saved.header,
            data: given,
            run,
            device,
        })
    }

    /// Writes a checkpoint atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), FitError> {
        Ok(self.run.save(path.as_ref(), &self.saved())?)
    }

    fn saved(&self) -> Saved {
        Saved {
            config: self.config.clone(),
            header: self.header.clone(),
            data: self.data.clone(),
        }
    }

    /// Steps done.
    pub fn step(&self) -> u64 {
        self.run.step
    }

    /// Losses per step.
    pub fn losses(&self) -> &[StepLoss] {
        &self.run.history
    }

    /// Wall seconds spent in training steps, summed over every resumed part of the run.
    pub fn train_seconds(&self) -> f64 {
        self.run.seconds
    }

    /// The model.
    pub fn model(&self) -> &FitModel {
        &self.run.model
    }

    /// The dendrite path of each of the neuron's stages (empty for the baselines).
    pub fn dendrite_paths(&self) -> Vec<DendriteAlgorithm> {
        self.header.model.dendrite_paths()
    }

    /// Whether every configured step is done.
    pub fn finished(&self) -> bool {
        self.run.step >= self.config.steps
    }

    /// The autodiff device the model lives on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The batch of step `step`: inputs `[batch, synapses, reach + window]`, spikes and
    /// normalised voltages `[batch, window]` (the last `window` ms of each input).
    pub fn batch(&self, data: &Dataset, step: u64) -> Result<(Tensor<3>, Tensor<2>, Tensor<2>), FitError> {
        training_batch(&self.config, &self.header, &self.device, data, step)
    }

    /// Trains until step `until` (at most `config.steps`), calling `progress` after each step and
    /// writing a checkpoint to `checkpoint` every `checkpoint_every` steps and at the end. Step
    /// `s` always draws batch stream `s`, so stopping and resuming changes nothing.
    pub fn run(
        self,
        data: &Dataset,
        until: u64,
        checkpoint: Option<&Path>,
        mut progress: impl FnMut(&FitProgress),
    ) -> Result<Self, FitError> {
        let saved = self.saved();
        let Self {
            config: c,
            header,
            data: id,
            run,
            device,
        } = self;
        let reach = c.model.reach();
        let run = run.train(
            &c.schedule(),
            until,
            checkpoint,
            c.checkpoint_every,
            |model: &FitModel, s, _lr, _history: &[StepLoss]| {
                let (x, spikes, volts) = training_batch(&c, &header, &device, data, s)?;
                let out = model.forward(x).narrow(2, reach, c.window);
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
                Ok::<_, FitError>(Step {
                    loss: spike_loss + voltage_loss * c.voltage_weight,
                    value: loss.spike + c.voltage_weight * loss.voltage,
                    record: loss,
                })
            },
            |run, path| Ok(run.save(path, &saved)?),
            |run| {
                progress(&FitProgress {
                    step: run.step,
                    steps: c.steps,
                    loss: *run.history.last().expect("a step was recorded"),
                })
            },
        )?;
        Ok(Self {
            config: c,
            header,
            data: id,
            run,
            device,
        })
    }
}

/// The batch of `step` for `config` (windows drawn from stream `step`): inputs `[batch,
/// synapses, reach + window]` on `device`, spikes and normalised voltages `[batch, window]`.
fn training_batch(
    c: &FitConfig,
    header: &ModelHeader,
    device: &Device,
    data: &Dataset,
    step: u64,
) -> Result<(Tensor<3>, Tensor<2>, Tensor<2>), FitError> {
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
    let mut rng = stream(c.seed, step);
    let norm = header.voltage;
    let sites = header.synapses.len();
    let (mut x, mut spikes, mut volts) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..c.batch {
        let trial = &data.train[rng.random_range(0..data.train.len())];
        let start = rng.random_range(0..=trial.ms() - len);
        raster_window(trial, start, len, header.input_scale, &mut x);
        let scored = start + reach..start + len;
        spikes.extend(trial.spikes[scored.clone()].iter().map(|&s| s as f32));
        volts.extend(
            trial.voltage[scored]
                .iter()
                .map(|v| ((v.min(CLIP_MV) - norm.mean) / norm.std) as f32),
        );
    }
    let b = c.batch;
    Ok((
        Tensor::from_data(TensorData::new(x, [b, sites, len]), device),
        Tensor::from_data(TensorData::new(spikes, [b, c.window]), device),
        Tensor::from_data(TensorData::new(volts, [b, c.window]), device),
    ))
}
