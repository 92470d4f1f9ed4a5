//! Axon: the action potential reaches each terminal with a different strength.
//!
//! Essay, Part II ("back to the LNP model"): "as the signal travels along the axon it becomes
//! weaker ... its final strength depends on the shape and length of these branches, so each axon
//! terminal receives a different amount of potential".

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::{Device, Tensor};

use crate::error::{ConfigError, check_nonzero, expect_valid};

const NAME: &str = "Axon";

/// Configuration of [`Axon`].
#[derive(Config, Debug, PartialEq)]
pub struct AxonConfig {
    /// Number of axon terminals (output synapses) of each neuron.
    pub terminals: usize,
    /// Neurons in the layer, each with its own terminal strengths. Default 1.
    #[config(default = 1)]
    pub neurons: usize,
    /// Initialiser of the per-terminal strengths. Default: uniform in [0.5, 1), an attenuation.
    #[config(default = "Initializer::Uniform{min:0.5, max:1.0}")]
    pub initializer: Initializer,
}

/// Per-terminal attenuation of the neuron's output.
#[derive(Module, Debug)]
pub struct Axon {
    /// `[neurons, terminals]`.
    pub weight: Param<Tensor<2>>,
}

impl AxonConfig {
    /// Checks the terminal count.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_nonzero(NAME, "terminals", self.terminals)?;
        check_nonzero(NAME, "neurons", self.neurons)
    }

    /// Builds the module. Panics with the `validate()` message on an invalid config.
    pub fn init(&self, device: &Device) -> Axon {
        expect_valid(self.validate());
        Axon {
            weight: self
                .initializer
                .init_with([self.neurons, self.terminals], Some(1), Some(1), device),
        }
    }
}

impl Axon {
    /// Output to every terminal.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, neurons, time]`
    /// - output: `[batch, neurons · terminals, time]` (neuron-major: the next layer's inputs)
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        axon(x, self.weight.val())
    }
}

/// `y[b, (n, k), t] = w[n, k] · x[b, n, t]`, per neuron `n` and terminal `k`.
///
/// # Shapes
///
/// - x: `[batch, neurons, time]`; weight: `[neurons, terminals]`
/// - output: `[batch, neurons · terminals, time]`
pub fn axon(x: Tensor<3>, weight: Tensor<2>) -> Tensor<3> {
    let [b, n, t] = x.dims();
    let k = weight.dims()[1];
    (x.unsqueeze_dim::<4>(2) * weight.unsqueeze_dim::<3>(2).unsqueeze()).reshape([b, n * k, t])
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_support::values;

    #[test]
    fn each_terminal_gets_its_own_strength() {
        let device = Device::flex();
        let axon = AxonConfig::new(3).with_neurons(2).init(&device);
        let w = values(axon.weight.val());
        assert!(
            w.iter().all(|v| (0.5..1.0).contains(v)),
            "default strengths are attenuations: {w:?}"
        );
        // [batch 2, neurons 2, time 2]: x[b, n, t] = 1 + 4b + 2n + t.
        let x = Tensor::<3>::from_floats([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]], &device);
        let y = values(axon.forward(x));
        assert_eq!(y.len(), 2 * 2 * 3 * 2);
        for b in 0..2 {
            for n in 0..2 {
                for k in 0..3 {
                    for t in 0..2 {
                        let got = y[((b * 2 + n) * 3 + k) * 2 + t];
                        let want = w[n * 3 + k] * (1 + 4 * b + 2 * n + t) as f64;
                        assert!(
                            (got - want).abs() < 1e-6,
                            "y[{b}, ({n}, {k}), {t}] = {got}, want {want}"
                        );
                    }
                }
            }
        }
        assert!(AxonConfig::new(0).validate().is_err());
    }
}
