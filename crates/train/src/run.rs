//! The training loop every experiment uses: a learning-rate schedule, Adam steps through
//! autodiff, a check that every loss is finite, progress after each step, checkpoints at a
//! fixed cadence, and resume from them. An experiment supplies only its loss (and what to
//! record of it) and what its checkpoints carry besides the model.
//!
//! Deterministic by construction: step `s` must draw everything it needs from stream `s`
//! (`crate::rng::stream`, or a device reseeded with `s`), so a run stopped at any checkpoint and
//! resumed equals the uninterrupted one.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::Tensor;
use neuron_nn::error::check_positive;
use neuron_nn::{ConfigError, LoadError};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// A learning rate decaying geometrically from `learning_rate` at step 0 to
/// `final_learning_rate` at the last of `steps`, scaled over the first `warmup_steps` by a linear
/// ramp `(s + 1) / warmup_steps` (0: none), so that Adam's first, sign-like steps are small.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    /// Steps in the run.
    pub steps: u64,
    /// Learning rate at step 0.
    pub learning_rate: f64,
    /// Learning rate at the last step.
    pub final_learning_rate: f64,
    /// Steps of the linear warm-up (0: none).
    pub warmup_steps: u64,
}

impl Schedule {
    /// The learning rate at `step` (the last step's from there on).
    pub fn at(&self, step: u64) -> f64 {
        let progress = step as f64 / (self.steps.max(2) - 1) as f64;
        let ramp = if step < self.warmup_steps {
            (step + 1) as f64 / self.warmup_steps as f64
        } else {
            1.0
        };
        ramp * self.learning_rate * (self.final_learning_rate / self.learning_rate).powf(progress.min(1.0))
    }

    /// Checks positive, finite rates that only decay; errors name `module`.
    pub fn validate(&self, module: &'static str) -> Result<(), ConfigError> {
        check_positive(module, "learning_rate", self.learning_rate)?;
        check_positive(module, "final_learning_rate", self.final_learning_rate)?;
        if self.final_learning_rate > self.learning_rate {
            return Err(ConfigError::Inconsistent {
                module,
                message: format!(
                    "final_learning_rate {} is above learning_rate {} (the rate only decays)",
                    self.final_learning_rate, self.learning_rate
                ),
            });
        }
        if self.warmup_steps >= self.steps {
            return Err(ConfigError::Inconsistent {
                module,
                message: format!(
                    "warmup_steps {} is not below steps {} (the warm-up would be the whole run)",
                    self.warmup_steps, self.steps
                ),
            });
        }
        Ok(())
    }
}

/// One step's loss as the experiment computed it.
pub struct Step<R> {
    /// The loss to minimise.
    pub loss: Tensor<1>,
    /// Its value (read back), checked to be finite.
    pub value: f64,
    /// What the history keeps of this step.
    pub record: R,
}

/// Why the loop stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A loss became NaN or infinite.
    #[error(
        "training stopped at step {step}: the loss is {loss} at learning rate {learning_rate:.3e}; lower the learning rate"
    )]
    NotFinite {
        /// The step (0-based).
        step: u64,
        /// The loss.
        loss: f64,
        /// The learning rate of that step.
        learning_rate: f64,
    },
    /// A checkpoint could not be written.
    #[error("cannot write checkpoint {path}: {source}")]
    Save {
        /// The checkpoint file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A checkpoint could not be read, or does not fit.
    #[error(transparent)]
    Load(#[from] LoadError),
}

/// A model in training: its optimizer, the steps taken, what each step recorded, and the wall
/// seconds spent in steps (over every resumed part).
#[derive(Clone)]
pub struct Run<M, R> {
    /// The model.
    pub model: M,
    /// The optimizer and its state (Adam's moments).
    pub optimizer: ModuleOptimizer,
    /// Steps taken.
    pub step: u64,
    /// One record per step taken.
    pub history: Vec<R>,
    /// Wall seconds of training steps.
    pub seconds: f64,
}

/// A checkpoint's header: what the experiment keeps (`C`), and the loop's own state.
#[derive(Serialize, Deserialize)]
struct Head<C, R> {
    config: C,
    history: Vec<R>,
    seconds: f64,
}

impl<M: Module + Clone, R: Clone + Serialize + DeserializeOwned> Run<M, R> {
    /// A run at step 0.
    pub fn new(model: M, optimizer: ModuleOptimizer) -> Self {
        Self {
            model,
            optimizer,
            step: 0,
            history: Vec::new(),
            seconds: 0.0,
        }
    }

    /// Trains from the current step until `until` (at most `schedule.steps`): each step asks
    /// `step` for the loss of step `s` at learning rate `lr` (given the history so far), checks
    /// that it is finite, takes an optimizer step, records it and calls `progress`; with a
    /// `checkpoint` file, `save` writes it every `every` steps and after the last step run.
    #[allow(clippy::too_many_arguments)] // the loop's settings, then the experiment's three hooks
    pub fn train<E: From<RunError>>(
        mut self,
        schedule: &Schedule,
        until: u64,
        checkpoint: Option<&Path>,
        every: u64,
        mut step: impl FnMut(&M, u64, f64, &[R]) -> Result<Step<R>, E>,
        mut save: impl FnMut(&Self, &Path) -> Result<(), E>,
        mut progress: impl FnMut(&Self),
    ) -> Result<Self, E> {
        let until = until.min(schedule.steps);
        while self.step < until {
            let started = Instant::now();
            let s = self.step;
            let lr = schedule.at(s);
            let Step { loss, value, record } = step(&self.model, s, lr, &self.history)?;
            if !value.is_finite() {
                return Err(RunError::NotFinite {
                    step: s,
                    loss: value,
                    learning_rate: lr,
                }
                .into());
            }
            let grads = GradientsParams::from_grads(loss.backward(), &self.model);
            self.model = self.optimizer.step(lr, self.model, grads);
            self.history.push(record);
            self.step += 1;
            self.seconds += started.elapsed().as_secs_f64();
            progress(&self);
            if let Some(path) = checkpoint
                && (self.step.is_multiple_of(every.max(1)) || self.step == until)
            {
                save(&self, path)?;
            }
        }
        Ok(self)
    }

    /// Writes a checkpoint holding `config` (what the experiment needs to rebuild and check
    /// the run), the loop's state, the model and the optimizer, as one file, atomically: a run
    /// killed mid-write keeps its previous checkpoint whole.
    pub fn save<C: Serialize>(&self, path: &Path, config: &C) -> Result<(), RunError> {
        let head = Head {
            config,
            history: self.history.clone(),
            seconds: self.seconds,
        };
        crate::checkpoint::save_checkpoint(path, &head, self.step, &self.model, &self.optimizer).map_err(|source| {
            RunError::Save {
                path: path.into(),
                source,
            }
        })
    }

    /// Reads a checkpoint written by [`Run::save`]: `build` makes the model from the saved
    /// config (or says why it cannot: the load then fails with that reason), and `optimizer`
    /// (built as for the original run) receives the saved state.
    pub fn load<C: DeserializeOwned>(
        path: &Path,
        build: impl FnOnce(&C) -> Result<M, String>,
        optimizer: ModuleOptimizer,
    ) -> Result<(C, Self), RunError> {
        let c = crate::checkpoint::load_checkpoint(path, |head: &Head<C, R>| build(&head.config), optimizer)?;
        Ok((
            c.config.config,
            Self {
                model: c.module,
                optimizer: c.optimizer,
                step: c.step,
                history: c.config.history,
                seconds: c.config.seconds,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_decays_geometrically_and_refuses_growth() {
        let s = Schedule {
            steps: 11,
            learning_rate: 1e-2,
            final_learning_rate: 1e-4,
            warmup_steps: 0,
        };
        assert_eq!(s.at(0), 1e-2);
        assert!((s.at(5) - 1e-3).abs() < 1e-15, "{}", s.at(5));
        assert!((s.at(10) - 1e-4).abs() < 1e-18);
        assert_eq!(s.at(50), s.at(10), "past the end: the last rate");
        assert!(s.validate("Test").is_ok());
        let grows = Schedule {
            final_learning_rate: 1.0,
            ..s
        };
        assert!(grows.validate("Test").unwrap_err().to_string().contains("only decays"));
        let nan = Schedule {
            learning_rate: f64::NAN,
            ..s
        };
        assert!(nan.validate("Test").unwrap_err().to_string().contains("learning_rate"));
    }

    #[test]
    fn the_warm_up_ramps_linearly_onto_the_decay_and_must_end_before_the_run() {
        let decay = Schedule {
            steps: 11,
            learning_rate: 1e-2,
            final_learning_rate: 1e-4,
            warmup_steps: 0,
        };
        let warm = Schedule {
            warmup_steps: 4,
            ..decay
        };
        for s in 0..4 {
            let want = decay.at(s) * (s + 1) as f64 / 4.0;
            assert!((warm.at(s) - want).abs() < 1e-18, "step {s}: {} vs {want}", warm.at(s));
        }
        for s in 4..12 {
            assert_eq!(warm.at(s), decay.at(s), "step {s}: after the warm-up, the decay alone");
        }
        assert!(warm.validate("Test").is_ok());
        let whole = Schedule {
            warmup_steps: 11,
            ..decay
        };
        assert!(
            whole
                .validate("Test")
                .unwrap_err()
                .to_string()
                .contains("warmup_steps 11")
        );
    }
}
