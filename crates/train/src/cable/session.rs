//! The cable experiment's run: its config, its loss on the training loop ([`crate::run`]), and
//! the divergence check that stops a run going wrong.

use std::path::Path;

use burn::config::Config;
use burn::optim::{AdamConfig, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use neuron_nn::error::{check_nonzero, check_positive};
use neuron_nn::{ConfigError, DendriteAlgorithm};
use serde::{Deserialize, Serialize};

use super::data::{self, Preparation};
use super::learners::{self, Learner, Learners};
use super::physics::CableConfig;
use crate::run::{Run, RunError, Schedule, Step};

const NAME: &str = "TrainConfig";

/// Everything that defines a run; saved in every checkpoint.
#[derive(Config, Debug, PartialEq)]
pub struct TrainConfig {
    /// The cable whose Euler integration generates the data. Default: 1-D, 256 cells,
    /// D = 2, τ = 2, Δt = 0.1, Δx = 1 (r = 0.2, Δt/τ = 0.05).
    #[config(default = "CableConfig::new()")]
    pub cable: CableConfig,
    /// Euler steps one application of the learned kernel advances (`k`). Default 4: 9 taps.
    #[config(default = 4)]
    pub k: usize,
    /// Samples per batch. Default 32.
    #[config(default = 32)]
    pub batch: usize,
    /// Adam steps. Default 1500.
    #[config(default = 1500)]
    pub steps: u64,
    /// Learning rate at step 0. Default 1e-2.
    #[config(default = 1e-2)]
    pub learning_rate: f64,
    /// Learning rate at the last step; geometric decay in between. Default 1e-5. The problem is
    /// noise-free (the target is exactly a convolution of the input), so a small final rate
    /// takes the kernel to float precision instead of leaving it jittering at Adam's step size.
    #[config(default = 1e-5)]
    pub final_learning_rate: f64,
    /// Seed of the initial weights and of every batch. Default 0.
    #[config(default = 0)]
    pub seed: u64,
    /// Euler steps with random injected current that prepare each state. Default 8.
    #[config(default = 8)]
    pub prep_steps: usize,
    /// Amplitude of the per-step drive `Δt·I` while preparing. Default 0.5.
    #[config(default = 0.5)]
    pub drive: f64,
    /// Held-out rollout: applications of the learned kernel (`rollout · k` Euler steps).
    /// Default 16 (64 Euler steps).
    #[config(default = 16)]
    pub rollout: usize,
    /// Held-out states. Default 64.
    #[config(default = 64)]
    pub held_out: usize,
    /// A loss above this multiple of the learner's first loss stops the run. Default 100.
    #[config(default = 100.0)]
    pub divergence: f64,
    /// The baseline's relative error in D: Euler with `D · (1 + baseline_error)`. Default 0.2.
    #[config(default = 0.2)]
    pub baseline_error: f64,
    /// Steps between checkpoints (one is always written at the end). Default 250.
    #[config(default = 250)]
    pub checkpoint_every: u64,
    /// The `Dendrites` learner's path. Default `Auto`: the plan's choice on the machine that
    /// starts the run (recorded in the session and its checkpoints either way).
    #[config(default = "DendriteAlgorithm::Auto")]
    pub dendrite_algorithm: DendriteAlgorithm,
}

impl TrainConfig {
    /// The 2-D default: 64 positions × 64 dendrites, `k = 3` (7×7 kernels), rollout 8 (24 Euler
    /// steps, leaving a 16×16 interior the boundary cannot reach). Batches of 8 states (each has
    /// 4096 cells for 49 unknowns) and 800 steps keep it near 20 s on 2 cores.
    pub fn two_d() -> Self {
        Self::new()
            .with_cable(CableConfig::new().with_positions(64).with_dendrites(64))
            .with_k(3)
            .with_rollout(8)
            .with_batch(8)
            .with_steps(800)
    }

    /// Cells the boundary cannot reach after `applications` of the kernel, per axis: the loss
    /// and the rollout error look only at cells at least this far from each end, where zero
    /// padding (the models) and zero boundaries (the simulator) agree exactly.
    pub fn margin(&self, applications: usize) -> [usize; 2] {
        let m = applications * self.k;
        [m, if self.cable.dims() == 2 { m } else { 0 }]
    }

    /// Checks the cable (including Euler stability) and every training setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.cable.validate()?;
        check_nonzero(NAME, "k", self.k)?;
        check_nonzero(NAME, "batch", self.batch)?;
        check_nonzero(NAME, "steps", self.steps as usize)?;
        check_nonzero(NAME, "rollout", self.rollout)?;
        check_nonzero(NAME, "held_out", self.held_out)?;
        check_nonzero(NAME, "checkpoint_every", self.checkpoint_every as usize)?;
        self.schedule().validate(NAME)?;
        check_positive(NAME, "drive", self.drive)?;
        check_positive(NAME, "baseline_error", self.baseline_error)?;
        check_positive(NAME, "divergence", self.divergence)?;
        if self.divergence <= 1.0 {
            return Err(ConfigError::OutOfRange {
                module: NAME,
                field: "divergence",
                expected: "above 1 (a multiple of the first loss)".into(),
                value: self.divergence,
            });
        }
        let [mp, md] = self.margin(self.rollout);
        for (axis, n, margin) in [
            ("positions", self.cable.positions, mp),
            ("dendrites", self.cable.dendrites, md),
        ] {
            if 2 * margin >= n {
                return Err(ConfigError::Inconsistent {
                    module: NAME,
                    message: format!(
                        "{n} {axis} leave no cell that the boundary cannot reach in rollout · k = {} \
                         Euler steps (needs more than {}); use fewer rollout steps, a smaller k or a larger grid",
                        self.rollout * self.k,
                        2 * margin
                    ),
                });
            }
        }
        Ok(())
    }

    /// The learning rate's schedule: geometric from `learning_rate` to `final_learning_rate`.
    pub fn schedule(&self) -> Schedule {
        Schedule {
            steps: self.steps,
            learning_rate: self.learning_rate,
            final_learning_rate: self.final_learning_rate,
            warmup_steps: 0,
        }
    }

    /// How training states are prepared.
    pub fn preparation(&self) -> Preparation {
        Preparation {
            steps: self.prep_steps,
            drive: self.drive,
        }
    }
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The config cannot make a sound run (unstable Euler settings included).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A loss became NaN or infinite, or grew past `divergence` × its first value.
    #[error(
        "training stopped at step {step}: the {} learner's loss is {loss:.4e} ({why}) at learning rate {learning_rate:.3e}; lower the learning rate", learner.name()
    )]
    Diverged {
        /// Which learner.
        learner: Learner,
        /// The step whose loss it was (0-based).
        step: u64,
        /// The loss.
        loss: f64,
        /// The learning rate of that step.
        learning_rate: f64,
        /// Not finite, or how far above the first loss.
        why: String,
    },
    /// The training loop stopped (a loss not finite, a checkpoint not written or read).
    #[error(transparent)]
    Run(#[from] RunError),
    /// A checkpoint holds a run this version cannot rebuild.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The checkpoint.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// One step's numbers, for progress reporting.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Steps done.
    pub step: u64,
    /// Steps in the run.
    pub steps: u64,
    /// This step's losses, in [`Learner::ALL`] order (index with [`Learner::index`]).
    pub losses: [f64; 2],
    /// This step's learning rate.
    pub learning_rate: f64,
}

/// What a checkpoint keeps besides the loop's state: the config, and the dendrite path the
/// `Dendrites` learner took (so a resumed run takes it too, whatever `Auto` would choose on the
/// machine that resumes it).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Saved {
    config: TrainConfig,
    dendrite_path: DendriteAlgorithm,
}

/// A training run in progress: both learners on the training loop.
pub struct Session {
    /// The run's config.
    pub config: TrainConfig,
    /// The path the `Dendrites` learner's convolution takes (recorded, never `Auto`).
    pub dendrite_path: DendriteAlgorithm,
    run: Run<Learners, [f64; 2]>,
    device: Device,
}

fn optimizer() -> ModuleOptimizer {
    AdamConfig::new().with_beta_2(0.99).init()
}

impl Session {
    /// A fresh run on `device` (made an autodiff device here): validates the config, seeds the
    /// device with `config.seed`, draws both learners' weights and fixes the dendrite path.
    pub fn new(config: TrainConfig, device: &Device) -> Result<Self, TrainError> {
        config.validate()?;
        let device = device.clone().autodiff();
        device.seed(config.seed);
        let mut learners = learners::init(&config.cable, config.k, &device);
        learners.dendrites.algorithm = config.dendrite_algorithm;
        let dendrite_path = learners
            .dendrites
            .path(config.batch, 1, &device)
            .map_err(|message| ConfigError::Inconsistent { module: NAME, message })?;
        learners.dendrites.algorithm = dendrite_path;
        Ok(Self {
            config,
            dendrite_path,
            run: Run::new(learners, optimizer()),
            device,
        })
    }

    /// Continues the run saved at `path` (by [`Session::save`]) on `device`, on the dendrite
    /// path it was trained on.
    pub fn resume(path: impl AsRef<Path>, device: &Device) -> Result<Self, TrainError> {
        let path = path.as_ref();
        let device = device.clone().autodiff();
        let (saved, mut run) = Run::load(
            path,
            |s: &Saved| {
                s.config.validate().map_err(|e| e.to_string())?;
                Ok(learners::init(&s.config.cable, s.config.k, &device))
            },
            optimizer(),
        )?;
        if saved.dendrite_path == DendriteAlgorithm::Auto {
            return Err(TrainError::Checkpoint {
                path: path.into(),
                message: "records the dendrite path as Auto; a run records the path it took".into(),
            });
        }
        run.model.dendrites.algorithm = saved.dendrite_path;
        Ok(Self {
            config: saved.config,
            dendrite_path: saved.dendrite_path,
            run,
            device,
        })
    }

    /// Writes a checkpoint (config, dendrite path, loss history, step, both learners, Adam's
    /// state) as one file, atomically.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), TrainError> {
        let saved = Saved {
            config: self.config.clone(),
            dendrite_path: self.dendrite_path,
        };
        Ok(self.run.save(path.as_ref(), &saved)?)
    }

    /// Steps done.
    pub fn step(&self) -> u64 {
        self.run.step
    }

    /// Loss per step, each in [`Learner::ALL`] order (index with [`Learner::index`]).
    pub fn losses(&self) -> &[[f64; 2]] {
        &self.run.history
    }

    /// The models.
    pub fn learners(&self) -> &Learners {
        &self.run.model
    }

    /// Whether every configured step is done.
    pub fn finished(&self) -> bool {
        self.run.step >= self.config.steps
    }

    /// The device the learners live on (autodiff).
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Trains until step `until` (at most `config.steps`), calling `progress` after each step and
    /// writing a checkpoint to `checkpoint` every `checkpoint_every` steps and at the end. Step
    /// `s` always draws batch stream `s`, so stopping and resuming changes nothing.
    pub fn run(
        self,
        until: u64,
        checkpoint: Option<&Path>,
        mut progress: impl FnMut(&Progress),
    ) -> Result<Self, TrainError> {
        let Self {
            config: c,
            dendrite_path,
            run,
            device,
        } = self;
        let [mp, md] = c.margin(1);
        let interior = |t: Tensor<3>| {
            let [_, p, d] = t.dims();
            t.narrow(1, mp, p - 2 * mp).narrow(2, md, d - 2 * md)
        };
        let saved = Saved {
            config: c.clone(),
            dendrite_path,
        };
        let run = run.train(
            &c.schedule(),
            until,
            checkpoint,
            c.checkpoint_every,
            |learners: &Learners, s, lr, history: &[[f64; 2]]| {
                let (x, y) = data::batch(&c.cable, c.preparation(), c.k, c.batch, c.seed, s, &device);
                let y = interior(y);
                let [la, lb] =
                    Learner::ALL.map(|l| (interior(learners.propagate(l, x.clone())) - y.clone()).square().mean());
                let losses = [la.clone().into_scalar::<f64>(), lb.clone().into_scalar::<f64>()];
                check(&c, history.first(), s, lr, losses)?;
                // Adam is per parameter and the losses share none: one step is two separate runs.
                Ok::<_, TrainError>(Step {
                    loss: la + lb,
                    value: losses[0] + losses[1],
                    record: losses,
                })
            },
            |run, path| Ok(run.save(path, &saved)?),
            |run| {
                progress(&Progress {
                    step: run.step,
                    steps: c.steps,
                    losses: *run.history.last().expect("a step was recorded"),
                    learning_rate: c.schedule().at(run.step - 1),
                })
            },
        )?;
        Ok(Self {
            config: c,
            dendrite_path,
            run,
            device,
        })
    }
}

/// Stops a run whose loss is not finite or grew past `divergence` × its first value.
fn check(
    config: &TrainConfig,
    first: Option<&[f64; 2]>,
    step: u64,
    learning_rate: f64,
    losses: [f64; 2],
) -> Result<(), TrainError> {
    for (learner, &loss) in Learner::ALL.iter().zip(&losses) {
        let first = first.map_or(loss, |l| l[learner.index()]);
        let why = if !loss.is_finite() {
            "not finite".to_string()
        } else if loss > config.divergence * first {
            format!(
                "{:.0}× its first value {first:.4e}, above the divergence limit {}×",
                loss / first,
                config.divergence
            )
        } else {
            continue;
        };
        return Err(TrainError::Diverged {
            learner: *learner,
            step,
            loss,
            learning_rate,
            why,
        });
    }
    Ok(())
}
