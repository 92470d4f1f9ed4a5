//! Summation: dendritic rates combine at the soma linearly, sub-, super-linearly or bistably.
//!
//! Essay, Part II: "a non-linearity then reduces these inputs to a single number per dendrite
//! ... the instantaneous firing rate". And: "the dendritic summation of these rates can be linear
//! (sum), sublinear (less than the sum), superlinear (more than the sum) or bistable (less or more
//! than the sum, depending on the input) ... Purkinje neurons are known to use linear summation
//! ... the non-linear summations can be thought of as different activation functions. The
//! activation function is determined by the type of neuron."
//!
//! Per dendrite: potentials are summed over positions and channels, then the rate function
//! (ReLU by default) gives `r_d ≥ 0`. At the soma, `u = Σ_d r_d` and the mode's `h(u)`:
//!
//! | mode | `h(u)` | property (u ≥ 0) |
//! |---|---|---|
//! | linear | `u` | |
//! | sublinear | `u / (1 + u/κ)` | `h ≤ u`, saturating at κ |
//! | superlinear | `u · (1 + u/κ)` | `h ≥ u` |
//! | bistable | `u · (1 + β·tanh((u − θ)/w))` | `h < u` below θ, `h > u` above (0 < β) |
//!
//! κ is learned as `ln κ` (so it stays positive); θ and β are learned directly; w is fixed.
//! A layer of `neurons` cells has one set per cell.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::activation::tanh;
use burn::tensor::{Device, Tensor};

use crate::error::{ConfigError, check_finite, check_nonzero, check_positive, expect_valid};
use crate::rate::RateFunction;

const NAME: &str = "Summation";

/// How dendritic rates combine at the soma, with each mode's initial parameters.
#[derive(Config, Debug, PartialEq)]
pub enum SummationMode {
    /// `h(u) = u` (Purkinje cells, granule cells).
    Linear,
    /// `h(u) = u / (1 + u/κ)`.
    Sublinear {
        /// Saturation scale κ > 0 (initial value).
        scale: f64,
    },
    /// `h(u) = u · (1 + u/κ)`.
    Superlinear {
        /// Scale κ > 0 at which the sum doubles (initial value).
        scale: f64,
    },
    /// `h(u) = u · (1 + β·tanh((u − θ)/w))`: a switch between a low and a high gain.
    Bistable {
        /// Switching point θ (initial value).
        threshold: f64,
        /// Gain change β, in (0, 1) for a monotone sum (initial value).
        strength: f64,
        /// Width w > 0 of the transition (fixed).
        width: f64,
    },
}

/// Configuration of [`Summation`].
#[derive(Config, Debug, PartialEq)]
pub struct SummationConfig {
    /// Summation mode. Default: [`SummationMode::Linear`].
    #[config(default = "SummationMode::Linear")]
    pub mode: SummationMode,
    /// Per-dendrite rate non-linearity. Default: [`RateFunction::Relu`].
    #[config(default = "RateFunction::Relu")]
    pub rate: RateFunction,
    /// Neurons in the layer, each with its own parameters. Default 1.
    #[config(default = 1)]
    pub neurons: usize,
}

/// Per-dendrite rates, then the cell type's summation at the soma.
#[derive(Module, Debug)]
pub struct Summation {
    /// `ln κ` for sub- and superlinear modes, `[neurons]`.
    pub log_scale: Option<Param<Tensor<1>>>,
    /// θ for the bistable mode, `[neurons]`.
    pub threshold: Option<Param<Tensor<1>>>,
    /// β for the bistable mode, `[neurons]`.
    pub strength: Option<Param<Tensor<1>>>,
    /// Neurons in the layer (the linear mode has no parameter to count them by).
    pub neurons: usize,
    /// The mode (its numbers are the initial values; the live ones are the parameters).
    #[module(skip)]
    pub mode: SummationMode,
    /// Per-dendrite rate function.
    #[module(skip)]
    pub rate: RateFunction,
}

impl SummationConfig {
    /// Checks that every number is finite and scales are positive.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_nonzero(NAME, "neurons", self.neurons)?;
        match self.mode {
            SummationMode::Linear => Ok(()),
            SummationMode::Sublinear { scale } | SummationMode::Superlinear { scale } => {
                check_positive(NAME, "scale", scale)
            }
            SummationMode::Bistable {
                threshold,
                strength,
                width,
            } => {
                check_finite(NAME, "threshold", threshold)?;
                check_finite(NAME, "strength", strength)?;
                check_positive(NAME, "width", width)
            }
        }
    }

    /// Number of trainable parameters this config creates.
    pub fn num_params(&self) -> usize {
        self.neurons
            * match self.mode {
                SummationMode::Linear => 0,
                SummationMode::Sublinear { .. } | SummationMode::Superlinear { .. } => 1,
                SummationMode::Bistable { .. } => 2,
            }
    }

    /// Builds the module. Panics with the `validate()` message on an invalid config.
    pub fn init(&self, device: &Device) -> Summation {
        expect_valid(self.validate());
        let scalar = |v: f64| Some(Param::from_tensor(Tensor::<1>::full([self.neurons], v, device)));
        let (log_scale, threshold, strength) = match self.mode {
            SummationMode::Linear => (None, None, None),
            SummationMode::Sublinear { scale } | SummationMode::Superlinear { scale } => {
                (scalar(scale.ln()), None, None)
            }
            SummationMode::Bistable {
                threshold, strength, ..
            } => (None, scalar(threshold), scalar(strength)),
        };
        Summation {
            log_scale,
            threshold,
            strength,
            neurons: self.neurons,
            mode: self.mode.clone(),
            rate: self.rate,
        }
    }
}

impl Summation {
    /// Dendritic potentials to the soma's summed drive.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, neurons · channels, positions, dendrites, time]`
    /// - output: `[batch, neurons, time]`
    pub fn forward(&self, x: Tensor<5>) -> Tensor<3> {
        self.combine(self.dendrite_rates(x))
    }

    /// The per-dendrite rates alone.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, neurons · channels, positions, dendrites, time]`
    /// - output: `[batch, neurons, dendrites, time]`
    pub fn dendrite_rates(&self, x: Tensor<5>) -> Tensor<4> {
        dendrite_rates(x, self.rate, self.neurons)
    }

    /// Sums rates over dendrites and applies the mode's `h`.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, neurons, dendrites, time]`
    /// - output: `[batch, neurons, time]`
    pub fn combine(&self, rates: Tensor<4>) -> Tensor<3> {
        let [b, n, _, t] = rates.dims();
        let u = rates.sum_dim(2).reshape([b, n, t]);
        let p = |o: &Option<Param<Tensor<1>>>| o.as_ref().expect("parameter of this mode").val().reshape([1, n, 1]);
        match self.mode {
            SummationMode::Linear => u,
            SummationMode::Sublinear { .. } => sublinear(u, p(&self.log_scale)),
            SummationMode::Superlinear { .. } => superlinear(u, p(&self.log_scale)),
            SummationMode::Bistable { width, .. } => bistable(u, p(&self.threshold), p(&self.strength), width),
        }
    }
}

/// Sum over each neuron's channels and positions, then the rate function:
/// `r[b,n,d,t] = f(Σ_{c,p} x[b,(n,c),p,d,t])`.
///
/// # Shapes
///
/// - x: `[batch, neurons · channels, positions, dendrites, time]`
/// - output: `[batch, neurons, dendrites, time]`
pub fn dendrite_rates(x: Tensor<5>, rate: RateFunction, neurons: usize) -> Tensor<4> {
    let [b, nc, p, d, t] = x.dims();
    let summed = x.reshape([b * neurons, nc / neurons * p, d, t]).sum_dim(1);
    rate.apply(summed.reshape([b, neurons, d, t]))
}

/// `u / (1 + u/κ)`, `κ = exp(log_scale)`; `log_scale` broadcasts against `u`.
pub fn sublinear<const D: usize>(u: Tensor<D>, log_scale: Tensor<D>) -> Tensor<D> {
    u.clone() / (u / log_scale.exp() + 1.0)
}

/// `u · (1 + u/κ)`, `κ = exp(log_scale)`.
pub fn superlinear<const D: usize>(u: Tensor<D>, log_scale: Tensor<D>) -> Tensor<D> {
    u.clone() * (u / log_scale.exp() + 1.0)
}

/// `u · (1 + β·tanh((u − θ)/w))`.
pub fn bistable<const D: usize>(u: Tensor<D>, threshold: Tensor<D>, strength: Tensor<D>, width: f64) -> Tensor<D> {
    u.clone() * (tanh((u - threshold) / width) * strength + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use test_support::{cpu_devices, seed_lock, values};

    fn sum_of(mode: SummationMode, x: Tensor<5>, device: &Device) -> Vec<f64> {
        values(SummationConfig::new().with_mode(mode).init(device).forward(x))
    }

    #[test]
    fn linear_is_the_sum_of_rectified_dendrite_rates() {
        let device = Device::flex();
        // [1, 1, 2 positions, 3 dendrites, 1 step]: dendrite sums 1.5, −4, 2.5 → relu → 4.
        let x = Tensor::<5>::from_floats([[[[[1.0], [-1.0], [2.0]], [[0.5], [-3.0], [0.5]]]]], &device);
        assert_eq!(sum_of(SummationMode::Linear, x, &device), vec![4.0]);
    }

    #[test]
    fn channels_and_positions_are_summed_before_the_rectifier() {
        let device = Device::flex();
        // [1, 2 channels, 2 positions, 1 dendrite, 1 step]: channel 0 gives +2 and −1, channel 1
        // −3 and +1. Summed first: −1 → 0. Rectified first it would be 3.
        let x = Tensor::<5>::from_floats([[[[[2.0]], [[-1.0]]], [[[-3.0]], [[1.0]]]]], &device);
        assert_eq!(sum_of(SummationMode::Linear, x.clone(), &device), vec![0.0]);
        // Without the rectifier, the plain sum.
        let s = SummationConfig::new().with_rate(RateFunction::Identity).init(&device);
        assert_eq!(values(s.forward(x)), vec![-1.0]);
    }

    #[test]
    fn each_neuron_sums_its_own_channels_with_its_own_parameters() {
        let device = Device::flex();
        // Two neurons of two channels, one position, one dendrite, one step: neuron 0 sums
        // 1 + 2 = 3, neuron 1 sums 4 + 5 = 9; κ = 1 and 10.
        let mut s = SummationConfig::new()
            .with_mode(SummationMode::Sublinear { scale: 1.0 })
            .with_neurons(2)
            .init(&device);
        s.log_scale = Some(Param::from_tensor(Tensor::from_floats([0.0, 10f32.ln()], &device)));
        let x = Tensor::<5>::from_floats([[[[[1.0]]], [[[2.0]]], [[[4.0]]], [[[5.0]]]]], &device);
        let y = values(s.forward(x));
        assert!((y[0] - 3.0 / (1.0 + 3.0)).abs() < 1e-6, "{y:?}");
        assert!((y[1] - 9.0 / (1.0 + 0.9)).abs() < 1e-5, "{y:?}");
    }

    #[test]
    fn bistable_values_and_gradients_inside_the_transition() {
        // |u − θ| within the width, where tanh is not saturated and θ's gradient is not ~0.
        let device = Device::flex().autodiff();
        let (theta, beta, w) = (2.0f64, 0.4f64, 1.5f64);
        let s = SummationConfig::new()
            .with_mode(SummationMode::Bistable {
                threshold: theta,
                strength: beta,
                width: w,
            })
            .with_rate(RateFunction::Identity)
            .init(&device);
        for u in [1.0f64, 1.7, 2.0, 2.6, 3.2] {
            let x = Tensor::<5>::from_floats([[[[[u as f32]]]]], &device);
            let h = s.forward(x);
            let got = values(h.clone())[0];
            let th = ((u - theta) / w).tanh();
            assert!((got - u * (1.0 + beta * th)).abs() < 1e-5, "h({u}) = {got}");
            let g = h.sum().backward();
            let d_theta = values(s.threshold.as_ref().unwrap().val().grad(&g).unwrap())[0];
            let d_beta = values(s.strength.as_ref().unwrap().val().grad(&g).unwrap())[0];
            let sech2 = 1.0 - th * th;
            assert!((d_theta + u * beta * sech2 / w).abs() < 1e-5, "∂h/∂θ at {u}: {d_theta}");
            assert!((d_beta - u * th).abs() < 1e-5, "∂h/∂β at {u}: {d_beta}");
            assert!(
                d_theta.abs() > 0.05,
                "inside the transition θ's gradient is not negligible"
            );
        }
    }

    #[test]
    fn sublinear_le_linear_le_superlinear_for_non_negative_input() {
        let _lock = seed_lock();
        for (name, device) in cpu_devices() {
            device.seed(3);
            let x = Tensor::<5>::random([4, 2, 3, 5, 6], Distribution::Uniform(0.0, 2.0), &device);
            let lin = sum_of(SummationMode::Linear, x.clone(), &device);
            let sub = sum_of(SummationMode::Sublinear { scale: 10.0 }, x.clone(), &device);
            let sup = sum_of(SummationMode::Superlinear { scale: 10.0 }, x, &device);
            for i in 0..lin.len() {
                assert!(
                    sub[i] <= lin[i] && lin[i] <= sup[i],
                    "{name}: {} ≤ {} ≤ {} fails",
                    sub[i],
                    lin[i],
                    sup[i]
                );
                assert!(sub[i] < lin[i] && lin[i] < sup[i], "{name}: strict for positive sums");
            }
            // Analytic values: h(u) = u/(1+u/κ), u(1+u/κ).
            for i in 0..lin.len() {
                let u = lin[i];
                assert!((sub[i] - u / (1.0 + u / 10.0)).abs() < 1e-4 * u.max(1.0));
                assert!((sup[i] - u * (1.0 + u / 10.0)).abs() < 1e-4 * sup[i].max(1.0));
            }
        }
    }

    #[test]
    fn bistable_sums_less_below_threshold_and_more_above() {
        let device = Device::flex();
        let mode = SummationMode::Bistable {
            threshold: 3.0,
            strength: 0.5,
            width: 0.5,
        };
        for (u, below) in [(1.0f32, true), (2.5, true), (3.5, false), (8.0, false)] {
            let x = Tensor::<5>::from_floats([[[[[u]]]]], &device);
            let h = sum_of(mode.clone(), x, &device)[0];
            if below {
                assert!(h < u as f64, "h({u}) = {h} should be below {u}")
            } else {
                assert!(h > u as f64, "h({u}) = {h} should exceed {u}")
            }
        }
    }

    #[test]
    fn parameters_are_learnable() {
        // (Exact gradients: bistable_values_and_gradients_inside_the_transition, and the
        // finite-difference checks in tests/gradcheck.rs.)
        let device = Device::flex().autodiff();
        let x = Tensor::<5>::from_floats([[[[[2.0]], [[1.0]]]]], &device);
        let s = SummationConfig::new()
            .with_mode(SummationMode::Bistable {
                threshold: 1.0,
                strength: 0.3,
                width: 1.0,
            })
            .init(&device);
        let g = s.forward(x.clone()).sum().backward();
        assert!(values(s.threshold.as_ref().unwrap().val().grad(&g).unwrap())[0] != 0.0);
        assert!(values(s.strength.as_ref().unwrap().val().grad(&g).unwrap())[0] != 0.0);
        let s = SummationConfig::new()
            .with_mode(SummationMode::Sublinear { scale: 2.0 })
            .init(&device);
        let g = s.forward(x).sum().backward();
        assert!(
            values(s.log_scale.as_ref().unwrap().val().grad(&g).unwrap())[0] > 0.0,
            "a larger κ saturates less"
        );
    }

    #[test]
    fn invalid_modes_are_rejected() {
        let e = SummationConfig::new()
            .with_mode(SummationMode::Sublinear { scale: -1.0 })
            .validate()
            .unwrap_err();
        assert_eq!(e.to_string(), "Summation: `scale` must be greater than 0, got -1");
        assert!(
            SummationConfig::new()
                .with_mode(SummationMode::Bistable {
                    threshold: f64::NAN,
                    strength: 0.5,
                    width: 1.0
                })
                .validate()
                .is_err()
        );
        let json = r#"{"mode":"Quadratic","rate":"Relu"}"#;
        let e = serde_json::from_str::<SummationConfig>(json).unwrap_err().to_string();
        assert!(e.contains("unknown variant `Quadratic`"), "{e}");
    }
}
