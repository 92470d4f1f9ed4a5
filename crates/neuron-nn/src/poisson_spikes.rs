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
#[derive(Config, Debug, PartialEq)]
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
        PoissonSpikes {
            dt: self.dt,
            exact_max_mean: self.exact_max_mean,
            training: Param::from_bool(true),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poisson_dropout::poisson_pmf;
    use burn::tensor::Device;
    use test_support::{chi_square, seed_lock, values};

    fn draws(mean: f32, n: usize, seed: u64) -> Vec<f64> {
        let device = Device::flex();
        device.seed(seed);
        values(poisson_sample(Tensor::<1>::full([n], mean, &device), 10.0))
    }

    #[test]
    fn the_training_flag_decides_whether_it_samples() {
        let _lock = seed_lock();
        let device = Device::flex().autodiff();
        device.seed(5);
        let rates = Tensor::<2>::full([20, 30], 0.7, &device);
        let spikes = PoissonSpikesConfig::new().with_dt(0.5).init();
        // Training on an autodiff device: integer counts.
        let y = values(spikes.forward(rates.clone()));
        assert!(y.iter().all(|v| v.fract() == 0.0), "training samples counts");
        assert!(y.iter().any(|v| *v != y[0]), "counts vary");
        // Flag off: the expected count r·dt, on an autodiff device too.
        let mut off = spikes.clone();
        off.training = Param::from_bool(false);
        assert!(
            values(off.forward(rates.clone()))
                .iter()
                .all(|v| (v - 0.35).abs() < 1e-7)
        );
        assert!(
            values(spikes.valid().forward(rates.inner()))
                .iter()
                .all(|v| (v - 0.35).abs() < 1e-7)
        );
    }

    #[test]
    fn exact_counts_are_poisson_distributed() {
        let _lock = seed_lock();
        let mu = 2.0;
        let x = draws(mu as f32, 20_000, 21);
        assert!(x.iter().all(|v| v.fract() == 0.0 && *v >= 0.0));
        let mut bins = [0usize; 7]; // 0..=5, ≥6
        x.iter().for_each(|v| bins[(*v as usize).min(6)] += 1);
        let mut probs: Vec<f64> = (0..6).map(|k| poisson_pmf(mu, k)).collect();
        probs.push(1.0 - probs.iter().sum::<f64>());
        let chi2 = chi_square(&bins, &probs);
        assert!(
            chi2 < 22.46,
            "counts {bins:?} not Poisson(2): χ² = {chi2} (6 dof, p = 0.001 at 22.46)"
        );
    }

    #[test]
    fn normal_approximation_above_the_bound_has_poisson_moments() {
        let _lock = seed_lock();
        let x = draws(40.0, 20_000, 22);
        let mean = x.iter().sum::<f64>() / x.len() as f64;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / x.len() as f64;
        assert!((mean - 40.0).abs() < 0.2, "mean {mean}");
        assert!((var - 40.0).abs() < 2.5, "variance {var}");
        assert!(x.iter().all(|v| v.fract() == 0.0));
    }

    #[test]
    fn gradient_is_straight_through_and_eval_gives_the_expected_count() {
        let _lock = seed_lock();
        let device = Device::flex().autodiff();
        device.seed(23);
        let spikes = PoissonSpikesConfig::new().with_dt(0.5).init();
        let rates = Tensor::<2>::from_floats([[1.0, 4.0, 0.0, 30.0]], &device).require_grad();
        let y = spikes.forward(rates.clone());
        let counts = values(y.clone());
        assert!(
            counts.iter().all(|v| v.fract() == 0.0),
            "training output is counts: {counts:?}"
        );
        let grads = y.sum().backward();
        let g = values(rates.grad(&grads).unwrap());
        assert_eq!(g, vec![0.5; 4], "d counts / d rate = dt");
        let eval = values(spikes.valid().forward(rates.inner()));
        assert_eq!(eval, vec![0.5, 2.0, 0.0, 15.0]);
    }

    #[test]
    fn invalid_configs_are_rejected() {
        assert_eq!(
            PoissonSpikesConfig::new()
                .with_dt(0.0)
                .validate()
                .unwrap_err()
                .to_string(),
            "PoissonSpikes: `dt` must be greater than 0, got 0"
        );
        assert!(
            PoissonSpikesConfig::new()
                .with_exact_max_mean(f64::INFINITY)
                .validate()
                .is_err()
        );
    }
}
