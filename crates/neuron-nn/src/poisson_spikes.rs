//! Poisson spike generator: the "P" of the linear-nonlinear-Poisson model.
//!
//! Essay, Part II: the neuron's instantaneous firing rate becomes spikes through a Poisson
//! process. Forward (training): `counts ~ Poisson(r·dt)`, sampled exactly by inverse CDF on the
//! device for means up to `exact_max_mean` and by the Normal approximation
//! `round(max(0, μ + √μ·z))` above. Backward: straight-through, `y = r·dt + (counts − r·dt)`
//! with the bracket detached, so the gradient is the rate's. Evaluation: the expected count `r·dt`.

use burn::config::Config;
use burn::module::{Flag, Module, Param};
use burn::tensor::{Distribution, Tensor};

use crate::error::{ConfigError, check_positive, expect_valid};

const NAME: &str = "PoissonSpikes";

/// Configuration of [`PoissonSpikes`].
#[derive(Config, Debug)]
pub struct PoissonSpikesConfig {
    /// Step length: a rate `r` gives a mean count `r·dt` per step. Default 1 (rates per step).
    #[config(default = 1.0)]
    pub dt: f64,
    /// Mean count up to which sampling is exact; above it, Normal approximation. Default 10.
    #[config(default = 10.0)]
    pub exact_max_mean: f64,
}

/// Poisson spike counts from rates, with a straight-through gradient.
#[derive(Module, Debug)]
pub struct PoissonSpikes {
    /// Step length.
    pub dt: f64,
    /// Exact-sampling bound on the mean.
    pub exact_max_mean: f64,
    /// Training flag (off after `valid()`).
    pub training: Param<Flag>,
}

impl PoissonSpikesConfig {
    /// Checks that dt and the bound are finite and positive.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_positive(NAME, "dt", self.dt)?;
        check_positive(NAME, "exact_max_mean", self.exact_max_mean)
    }

    /// Builds the module (no parameters). Panics with the `validate()` message on an invalid config.
    pub fn init(&self) -> PoissonSpikes {
        expect_valid(self.validate());
        PoissonSpikes { dt: self.dt, exact_max_mean: self.exact_max_mean, training: Param::from_bool(true) }
    }
}

impl PoissonSpikes {
    /// Rates to spike counts (training) or expected counts (evaluation).
    ///
    /// # Shapes
    ///
    /// - input: any, rates ≥ 0 (negative rates count as 0 spikes)
    /// - output: the same
    pub fn forward<const D: usize>(&self, rates: Tensor<D>) -> Tensor<D> {
        let mean = rates * self.dt;
        if !self.training.is_enabled() || !mean.device().is_autodiff() {
            return mean;
        }
        let counts = poisson_sample(mean.clone().detach(), self.exact_max_mean);
        mean.clone() + (counts - mean).detach()
    }
}

/// Draws `Poisson(mean)` counts elementwise on the device (negative means give 0).
///
/// Exact inverse-CDF sampling where `mean ≤ exact_max_mean` (the CDF is accumulated term by term,
/// far enough into the tail of the largest exact mean that the truncation is below 1e-12);
/// `round(max(0, μ + √μ·z))` above.
pub fn poisson_sample<const D: usize>(mean: Tensor<D>, exact_max_mean: f64) -> Tensor<D> {
    let device = mean.device();
    let shape = mean.dims();
    let mu = mean.clamp_min(0.0);
    let exact_mu = mu.clone().clamp_max(exact_max_mean);
    let u = Tensor::<D>::random(shape, Distribution::Default, &device);
    // Terms beyond mean + 14√mean + 20 carry less than 1e-12 of the mass for every mean ≤ the bound.
    let terms = (exact_max_mean + 14.0 * exact_max_mean.sqrt() + 20.0).ceil() as usize;
    let mut p = exact_mu.clone().neg().exp();
    let mut cdf = p.clone();
    let mut count = u.clone().greater_equal(cdf.clone()).float();
    for j in 1..terms {
        p = p * exact_mu.clone() / j as f64;
        cdf = cdf + p.clone();
        count = count + u.clone().greater_equal(cdf.clone()).float();
    }
    let z = Tensor::<D>::random(shape, Distribution::Normal(0.0, 1.0), &device);
    let normal = (mu.clone() + mu.clone().sqrt() * z).clamp_min(0.0).round();
    let exact = mu.lower_equal_elem(exact_max_mean);
    normal.mask_where(exact, count)
}
