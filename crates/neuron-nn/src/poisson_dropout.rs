//! Poisson dropout: after firing, a neuron is blocked for k ~ Poisson(λ) cycles.
//!
//! Essay, Part II ("back to the LNP model"): the blocking of action potentials "is modelled as an
//! inhomogeneous Poisson process with a Poisson distribution ... 0 means it fires without delay,
//! 2 means it does not fire for two cycles even though it physically could ... this whole process
//! is very similar to dropout used in deep learning, which uses a uniform distribution instead of
//! a Poisson distribution". The essay's figure uses λ = 0.5.
//!
//! Time is the last axis and one cycle is one step. Each chain alternates "blocked for k steps,
//! k ~ Poisson(λ)" and "fires (kept) for one step". Chains start in their stationary state (the
//! first wait S₁ has `P(S₁ = j) = P(K ≥ j)/(1+λ)`), so `P(kept) = 1/(1+λ)` at every step, and
//! kept values are scaled by `1+λ` so the expectation is unchanged. Like burn's `Dropout`, it
//! acts only in training (a training flag on an autodiff device); `valid()` turns it off.
//! Everything is sampled on the device from uniforms: no data returns to the host.

use burn::config::Config;
use burn::module::{Flag, Module, Param};
use burn::tensor::{Device, Distribution, Tensor};

use crate::error::{ConfigError, check_finite, expect_valid};

const NAME: &str = "PoissonDropout";

/// Tail mass left out when a Poisson variate is drawn from a truncated table.
pub const POISSON_TAIL: f64 = 1e-12;

/// Which elements share one blocking chain.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum DropoutScope {
    /// One chain per element.
    PerElement,
    /// One chain per (batch, neuron): axes 0 and 1; everything a neuron outputs (its terminals)
    /// is blocked together, as the essay's whole-neuron firing is.
    PerNeuron,
}

/// Configuration of [`PoissonDropout`].
#[derive(Config, Debug)]
pub struct PoissonDropoutConfig {
    /// Mean blocked cycles λ ≥ 0 after each firing. Default 0.5 (the essay's figure).
    #[config(default = 0.5)]
    pub lambda: f64,
    /// Chain sharing. Default [`DropoutScope::PerNeuron`].
    #[config(default = "DropoutScope::PerNeuron")]
    pub scope: DropoutScope,
}

/// Dropout with Poisson-distributed blocking periods along time.
#[derive(Module, Debug)]
pub struct PoissonDropout {
    /// Mean blocked cycles λ.
    pub lambda: f64,
    /// Chain sharing.
    #[module(skip)]
    pub scope: DropoutScope,
    /// Training flag (off after `valid()`).
    pub training: Param<Flag>,
}

impl PoissonDropoutConfig {
    /// Checks that λ is finite and non-negative.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_finite(NAME, "lambda", self.lambda)?;
        if self.lambda < 0.0 {
            return Err(ConfigError::OutOfRange { module: NAME, field: "lambda", expected: "at least 0".into(), value: self.lambda });
        }
        Ok(())
    }

    /// Builds the module (no parameters). Panics with the `validate()` message on an invalid config.
    pub fn init(&self) -> PoissonDropout {
        expect_valid(self.validate());
        PoissonDropout { lambda: self.lambda, scope: self.scope, training: Param::from_bool(true) }
    }
}

impl PoissonDropout {
    /// Blocks and rescales in training; the identity otherwise.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, ..., time]` (per-neuron scope: `[batch, neurons, ..., time]`)
    /// - output: the same
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        if !self.training.is_enabled() || !x.device().is_autodiff() || self.lambda == 0.0 {
            return x;
        }
        let mut chains = x.dims();
        if self.scope == DropoutScope::PerNeuron {
            chains.iter_mut().enumerate().skip(2).for_each(|(i, n)| *n = if i == D - 1 { *n } else { 1 });
        }
        let mask = poisson_keep_mask(chains, self.lambda, &x.device());
        x * mask * (1.0 + self.lambda)
    }
}

/// Thresholds `F_0, F_1, ..` of a discrete distribution's CDF, cut where the tail is below
/// [`POISSON_TAIL`]: a uniform `u` maps to `#{j : u ≥ F_j}`.
fn cdf_table(mut pmf: impl FnMut(usize) -> f64) -> Vec<f64> {
    let mut table = Vec::new();
    let mut cum = 0.0;
    for j in 0.. {
        cum += pmf(j);
        if 1.0 - cum < POISSON_TAIL || j > 10_000 {
            break;
        }
        table.push(cum);
    }
    table
}

/// Inverse-CDF sampling on the device: `#{j : u ≥ F_j}` for each uniform `u`.
pub fn sample_from_cdf<const D: usize>(u: Tensor<D>, cdf: &[f64]) -> Tensor<D> {
    cdf.iter().fold(u.zeros_like(), |n, &f| n + u.clone().greater_equal_elem(f).float())
}

/// The `Poisson(λ)` probability mass function.
pub fn poisson_pmf(lambda: f64, k: usize) -> f64 {
    // Through logs: λ^k / k! overflows long before the product does.
    let ln = k as f64 * lambda.ln() - lambda - (1..=k).map(|i| (i as f64).ln()).sum::<f64>();
    if lambda == 0.0 { f64::from(k == 0) } else { ln.exp() }
}

/// The keep mask of the Poisson blocking chains: `1` where a chain fires, `0` where blocked.
///
/// One chain per element of `shape` without its last (time) axis. Each starts stationary, so
/// every step is kept with probability `1/(1+λ)`.
///
/// # Shapes
///
/// - shape: `[..., time]`
/// - output: `shape`
pub fn poisson_keep_mask<const D: usize>(shape: [usize; D], lambda: f64, device: &Device) -> Tensor<D> {
    let time = shape[D - 1];
    let wait_cdf = cdf_table(|k| poisson_pmf(lambda, k));
    // P(S₁ = j) = P(K ≥ j)/(1+λ): the residual wait seen from a random step.
    let start_cdf = cdf_table(|j| (1.0 - (0..j).map(|i| poisson_pmf(lambda, i)).sum::<f64>()).max(0.0) / (1.0 + lambda));
    let mut start_shape = shape;
    start_shape[D - 1] = 1;
    let waits = sample_from_cdf(Tensor::<D>::random(shape, Distribution::Default, device), &wait_cdf);
    let mut remaining = sample_from_cdf(Tensor::<D>::random(start_shape, Distribution::Default, device), &start_cdf);
    let mut steps = Vec::with_capacity(time);
    for t in 0..time {
        let kept = remaining.clone().lower_elem(0.5).float();
        if t + 1 < time {
            let fresh = waits.clone().narrow(D - 1, t, 1);
            remaining = kept.clone() * fresh + (kept.clone().neg() + 1.0) * (remaining - 1.0);
        }
        steps.push(kept);
    }
    Tensor::cat(steps, D - 1)
}
