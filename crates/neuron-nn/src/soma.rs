//! Soma: a temporal filter of spatial size one, then the rate non-linearity.
//!
//! Essay, Part II: "the filter in the soma (cell body) can be thought of as an additional
//! temporal convolution filter of size 1 in the spatial domain ... a 1×1×5 convolution filter
//! (this would be the same for all neurons). Again a non-linearity reduces this to an
//! instantaneous firing rate". Causal: the soma cannot react to input it has not received.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::module::conv1d;
use burn::tensor::ops::{ConvOptions, PadMode};
use burn::tensor::{Device, Tensor};

use crate::error::{ConfigError, check_nonzero, expect_valid};
use crate::rate::RateFunction;

const NAME: &str = "Soma";

/// Configuration of [`Soma`].
#[derive(Config, Debug)]
pub struct SomaConfig {
    /// Time steps the filter spans. Default 5 (the essay's 1×1×5).
    #[config(default = 5)]
    pub kernel: usize,
    /// A learnable resting offset (neurons fire spontaneously at rest). Default `true`.
    #[config(default = true)]
    pub bias: bool,
    /// Rate non-linearity. Default: [`RateFunction::Relu`].
    #[config(default = "RateFunction::Relu")]
    pub rate: RateFunction,
    /// Neurons in the layer, each with its own filter (a depthwise convolution). Default 1.
    #[config(default = 1)]
    pub neurons: usize,
    /// Initialiser. Default: Kaiming uniform, as burn's `Conv1d`.
    #[config(default = "Initializer::KaimingUniform{gain:1.0/num_traits::Float::sqrt(3.0),fan_out_only:false}")]
    pub initializer: Initializer,
}

/// A causal 1×1×k temporal convolution and a rate non-linearity.
#[derive(Module, Debug)]
pub struct Soma {
    /// `[neurons, 1, kernel]`.
    pub weight: Param<Tensor<3>>,
    /// `[neurons]`, if configured.
    pub bias: Option<Param<Tensor<1>>>,
    /// Rate non-linearity.
    #[module(skip)]
    pub rate: RateFunction,
}

impl SomaConfig {
    /// Checks the kernel size.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_nonzero(NAME, "kernel", self.kernel)?;
        check_nonzero(NAME, "neurons", self.neurons)
    }

    /// Number of trainable parameters this config creates.
    pub fn num_params(&self) -> usize {
        self.neurons * (self.kernel + usize::from(self.bias))
    }

    /// Builds the module. Panics with the `validate()` message on an invalid config.
    pub fn init(&self, device: &Device) -> Soma {
        expect_valid(self.validate());
        let (k, n) = (self.kernel, self.neurons);
        Soma {
            weight: self.initializer.init_with([n, 1, k], Some(k), Some(k), device),
            bias: self
                .bias
                .then(|| self.initializer.init_with([n], Some(k), Some(k), device)),
            rate: self.rate,
        }
    }
}

impl Soma {
    /// Summed dendritic drive to the soma's firing rate.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, neurons, time]`
    /// - output: `[batch, neurons, time]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let y = causal_filter(x, self.weight.val(), self.bias.as_ref().map(|b| b.val()));
        self.rate.apply(y)
    }
}

/// A causal temporal filter per neuron:
/// `y[b,n,t] = bias[n] + Σ_l w[n,0,l] · x[b, n, t + l − (k−1)]`, zero before time 0.
///
/// # Shapes
///
/// - x: `[batch, neurons, time]`; weight: `[neurons, 1, k]`; bias: `[neurons]`
/// - output: `[batch, neurons, time]`
pub fn causal_filter(x: Tensor<3>, weight: Tensor<3>, bias: Option<Tensor<1>>) -> Tensor<3> {
    let [neurons, _, k] = weight.dims();
    let x = x.pad([(k - 1, 0)], PadMode::Constant(0.0));
    conv1d(x, weight, bias, ConvOptions::new([1], [0], [1], neurons))
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_support::values;

    #[test]
    fn causal_filter_matches_the_definition() {
        let device = Device::flex();
        let x = Tensor::<2>::from_floats([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]], &device);
        let w = Tensor::<3>::from_floats([[[0.5, -1.0, 2.0]]], &device);
        let y = values(causal_filter(
            x.unsqueeze_dim(1),
            w,
            Some(Tensor::from_floats([0.25], &device)),
        ));
        // y[t] = 0.25 + 0.5 x[t−2] − x[t−1] + 2 x[t].
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        for (t, got) in y.iter().enumerate() {
            let at = |i: isize| if i < 0 { 0.0 } else { xs[i as usize] };
            let want = 0.25 + 0.5 * at(t as isize - 2) - at(t as isize - 1) + 2.0 * at(t as isize);
            assert!((got - want).abs() < 1e-6, "t = {t}: {got} vs {want}");
        }
    }

    #[test]
    fn output_is_a_non_negative_rate_and_causal() {
        let device = Device::flex();
        let soma = SomaConfig::new().init(&device);
        let x = Tensor::<3>::from_floats([[[1.0, -2.0, 3.0, 0.5, -1.0, 2.0, 0.0]]], &device);
        let y0 = values(soma.forward(x.clone()));
        assert!(y0.iter().all(|v| *v >= 0.0));
        let y1 = values(soma.forward(x + Tensor::<3>::from_floats([[[0.0, 0.0, 0.0, 0.0, 9.0, 0.0, 0.0]]], &device)));
        assert_eq!(y0[..4], y1[..4], "outputs before t = 4 must not see the input at t = 4");
    }

    #[test]
    fn zero_kernel_is_rejected() {
        assert_eq!(
            SomaConfig::new().with_kernel(0).validate().unwrap_err().to_string(),
            "Soma: `kernel` must be at least 1, got 0"
        );
    }
}
