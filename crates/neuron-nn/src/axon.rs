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
#[derive(Config, Debug)]
pub struct AxonConfig {
    /// Number of axon terminals (output synapses).
    pub terminals: usize,
    /// Initialiser of the per-terminal strengths. Default: uniform in [0.5, 1), an attenuation.
    #[config(default = "Initializer::Uniform{min:0.5, max:1.0}")]
    pub initializer: Initializer,
}

/// Per-terminal attenuation of the neuron's output.
#[derive(Module, Debug)]
pub struct Axon {
    /// `[terminals]`.
    pub weight: Param<Tensor<1>>,
}

impl AxonConfig {
    /// Checks the terminal count.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_nonzero(NAME, "terminals", self.terminals)
    }

    /// Builds the module. Panics with the `validate()` message on an invalid config.
    pub fn init(&self, device: &Device) -> Axon {
        expect_valid(self.validate());
        Axon {
            weight: self.initializer.init_with([self.terminals], Some(1), Some(1), device),
        }
    }
}

impl Axon {
    /// Output to every terminal.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, time]`
    /// - output: `[batch, terminals, time]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<3> {
        let k = self.weight.dims()[0];
        axon(x.unsqueeze_dim(1), self.weight.val().reshape([1, k])).squeeze_dim(1)
    }
}

/// `y[b, n, k, t] = w[n, k] · x[b, n, t]`, per neuron `n` and terminal `k`.
///
/// # Shapes
///
/// - x: `[batch, neurons, time]`; weight: `[neurons, terminals]`
/// - output: `[batch, neurons, terminals, time]`
pub fn axon(x: Tensor<3>, weight: Tensor<2>) -> Tensor<4> {
    x.unsqueeze_dim::<4>(2) * weight.unsqueeze_dim::<3>(2).unsqueeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::values;

    #[test]
    fn each_terminal_gets_its_own_strength() {
        let device = Device::flex();
        let axon = AxonConfig::new(3).init(&device);
        let w = values(axon.weight.val());
        assert!(
            w.iter().all(|v| (0.5..1.0).contains(v)),
            "default strengths are attenuations: {w:?}"
        );
        let x = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &device);
        let y = values(axon.forward(x));
        for b in 0..2 {
            for k in 0..3 {
                for t in 0..2 {
                    assert!((y[(b * 3 + k) * 2 + t] - w[k] * (1 + 2 * b + t) as f64).abs() < 1e-6);
                }
            }
        }
        assert!(AxonConfig::new(0).validate().is_err());
    }
}
