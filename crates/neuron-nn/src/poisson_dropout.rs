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
#[derive(Config, Debug, PartialEq)]
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
            return Err(ConfigError::OutOfRange {
                module: NAME,
                field: "lambda",
                expected: "at least 0".into(),
                value: self.lambda,
            });
        }
        Ok(())
    }

    /// Builds the module (no parameters). Panics with the `validate()` message on an invalid config.
    pub fn init(&self) -> PoissonDropout {
        expect_valid(self.validate());
        PoissonDropout {
            lambda: self.lambda,
            scope: self.scope,
            training: Param::from_bool(true),
        }
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
            chains
                .iter_mut()
                .enumerate()
                .skip(2)
                .for_each(|(i, n)| *n = if i == D - 1 { *n } else { 1 });
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
    cdf.iter()
        .fold(u.zeros_like(), |n, &f| n + u.clone().greater_equal_elem(f).float())
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
    let start_cdf =
        cdf_table(|j| (1.0 - (0..j).map(|i| poisson_pmf(lambda, i)).sum::<f64>()).max(0.0) / (1.0 + lambda));
    let mut start_shape = shape;
    start_shape[D - 1] = 1;
    let waits = sample_from_cdf(Tensor::<D>::random(shape, Distribution::Default, device), &wait_cdf);
    let mut remaining = sample_from_cdf(
        Tensor::<D>::random(start_shape, Distribution::Default, device),
        &start_cdf,
    );
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

#[cfg(test)]
mod tests {
    use super::*;
    use test_support::{chi_square, seed_lock, values};

    #[test]
    fn the_training_flag_decides_whether_it_blocks() {
        let _lock = seed_lock();
        let device = Device::flex().autodiff();
        device.seed(4);
        let x = Tensor::<3>::ones([4, 3, 50], &device);
        let dropout = PoissonDropoutConfig::new().init();
        // Training, on an autodiff device: blocked steps are zeros, kept ones scaled by 1 + λ.
        let y = values(dropout.forward(x.clone()));
        assert!(
            y.contains(&0.0) && y.contains(&1.5),
            "training blocks and rescales: {y:?}"
        );
        // Flag off (`valid()` does the same on the inner device): the input, unchanged, even
        // on an autodiff device.
        let mut off = dropout.clone();
        off.training = Param::from_bool(false);
        assert_eq!(values(off.forward(x.clone())), values(x.clone()));
        assert_eq!(values(dropout.valid().forward(x.clone().inner())), values(x.inner()));
    }

    #[test]
    fn every_time_step_is_kept_with_probability_one_over_one_plus_lambda() {
        let _lock = seed_lock();
        let device = Device::flex();
        for lambda in [0.5, 2.0] {
            device.seed(11);
            let (n, t) = (20_000, 6);
            let mask = values(poisson_keep_mask([n, t], lambda, &device));
            let p = 1.0 / (1.0 + lambda);
            let sd = (p * (1.0 - p) / n as f64).sqrt();
            for step in 0..t {
                let kept = (0..n).filter(|c| mask[c * t + step] == 1.0).count() as f64 / n as f64;
                assert!(
                    (kept - p).abs() < 4.0 * sd,
                    "λ = {lambda}, step {step}: kept {kept}, want {p} ± {}",
                    4.0 * sd
                );
            }
            assert!(mask.iter().all(|v| *v == 0.0 || *v == 1.0));
        }
    }

    #[test]
    fn blocked_gaps_are_poisson_distributed() {
        let _lock = seed_lock();
        let device = Device::flex();
        device.seed(12);
        let lambda = 0.5;
        let (n, t) = (400, 300);
        let mask = values(poisson_keep_mask([n, t], lambda, &device));
        let mut bins = [0usize; 4]; // gap 0, 1, 2, ≥3
        for c in 0..n {
            let kept: Vec<usize> = (0..t).filter(|s| mask[c * t + s] == 1.0).collect();
            // Gaps between consecutive firings: the first (before any firing) and the cut-off last
            // are not whole waits.
            for w in kept.windows(2) {
                bins[(w[1] - w[0] - 1).min(3)] += 1;
            }
        }
        let pmf: Vec<f64> = (0..3).map(|k| poisson_pmf(lambda, k)).collect();
        let probs = [pmf[0], pmf[1], pmf[2], 1.0 - pmf.iter().sum::<f64>()];
        let chi2 = chi_square(&bins, &probs);
        // 3 degrees of freedom: P(χ² > 16.27) = 0.001.
        assert!(chi2 < 16.27, "gap histogram {bins:?} is not Poisson(0.5): χ² = {chi2}");
        // And a wrong λ is detected by the same test (the test has power).
        let pmf: Vec<f64> = (0..3).map(|k| poisson_pmf(0.7, k)).collect();
        let wrong = chi_square(&bins, &[pmf[0], pmf[1], pmf[2], 1.0 - pmf.iter().sum::<f64>()]);
        assert!(wrong > 16.27, "χ² against Poisson(0.7) = {wrong} should reject");
    }

    #[test]
    fn training_blocks_and_rescales_eval_is_identity() {
        let _lock = seed_lock();
        let device = Device::flex().autodiff();
        device.seed(13);
        let dropout = PoissonDropoutConfig::new().init();
        let x = Tensor::<3>::ones([50, 4, 20], &device);
        let y = values(dropout.forward(x.clone()));
        assert!(
            y.iter().all(|v| *v == 0.0 || (*v - 1.5).abs() < 1e-6),
            "kept values are scaled by 1 + λ"
        );
        let mean = y.iter().sum::<f64>() / y.len() as f64;
        assert!((mean - 1.0).abs() < 0.05, "expectation preserved: mean {mean}");
        assert_eq!(
            values(dropout.valid().forward(x.clone().inner())),
            values(x.clone().inner()),
            "valid() turns it off"
        );
        assert_eq!(
            values(dropout.forward(x.clone().inner())),
            values(x.inner()),
            "no autodiff: evaluation"
        );
    }

    #[test]
    fn per_neuron_scope_blocks_all_of_a_neurons_outputs_together() {
        let _lock = seed_lock();
        let device = Device::flex().autodiff();
        device.seed(14);
        let dropout = PoissonDropoutConfig::new().with_scope(DropoutScope::PerNeuron).init();
        let (b, n, k, t) = (3, 5, 6, 10);
        let y = values(dropout.forward(Tensor::<4>::ones([b, n, k, t], &device)));
        for chain in 0..b * n {
            for step in 0..t {
                let first = y[chain * k * t + step];
                assert!(
                    (0..k).all(|term| y[(chain * k + term) * t + step] == first),
                    "terminals of neuron {chain} disagree at {step}"
                );
            }
        }
        let per_element = PoissonDropoutConfig::new().with_scope(DropoutScope::PerElement).init();
        let y = values(per_element.forward(Tensor::<4>::ones([b, n, k, t], &device)));
        let differ =
            (0..b * n).any(|c| (0..t).any(|s| (0..k).any(|term| y[(c * k + term) * t + s] != y[c * k * t + s])));
        assert!(differ, "per-element chains must be independent");
    }

    #[test]
    fn negative_or_nan_lambda_is_rejected() {
        let e = PoissonDropoutConfig::new().with_lambda(-0.1).validate().unwrap_err();
        assert_eq!(e.to_string(), "PoissonDropout: `lambda` must be at least 0, got -0.1");
        let e = PoissonDropoutConfig::new()
            .with_lambda(f64::NAN)
            .validate()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "PoissonDropout: `lambda` must be a finite number, got NaN"
        );
    }
}
