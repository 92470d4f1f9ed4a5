//! Synapses: transmitter released × receptors present, a matrix product.
//!
//! Essay, Part II: "the amount of neurotransmitter released, the number of synapses for a given
//! neurotransmitter and the number of receptor proteins ... can be thought of as the weights of a
//! (fully) connected layer ... the dot product of two matrices".

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::{Int, Tensor, TensorData};

use crate::error::{ConfigError, ShapeError, check_nonzero, expect_shape, expect_valid};

const NAME: &str = "Synapses";

/// How presynaptic axons connect to the synaptic sites of one neuron.
#[derive(Config, Debug, PartialEq)]
pub enum SynapseMode {
    /// Every site sees every input: a `[sites, inputs]` weight matrix.
    Dense,
    /// Site `s` sees input `s` with its own gain (`sites == inputs`). The Purkinje preset uses
    /// this: a dense 100 000-input layer would hold 1e10 weights per cell.
    OneToOne,
    /// Site `s` listens to axon `map[s]` with its own gain. The granule preset maps its 16 sites
    /// onto 4 mossy-fibre axons (site `(p, d)` listens to axon `d`).
    Mapped {
        /// For each site, the index of the input axon it listens to.
        map: Vec<usize>,
    },
}

/// Configuration of [`Synapses`].
#[derive(Config, Debug)]
pub struct SynapsesConfig {
    /// Number of presynaptic inputs (axons).
    pub inputs: usize,
    /// Number of synaptic sites on the neuron.
    pub sites: usize,
    /// Connectivity. Default: [`SynapseMode::Dense`].
    #[config(default = "SynapseMode::Dense")]
    pub mode: SynapseMode,
    /// Initialiser of the weights (dense) or gains (one-to-one, mapped; fan-in 1).
    /// Default: Kaiming uniform, as burn's `Linear`.
    #[config(
        default = "Initializer::KaimingUniform{gain:1.0/num_traits::Float::sqrt(3.0),fan_out_only:false}"
    )]
    pub initializer: Initializer,
}

/// Synaptic transmission as a (dense, diagonal or mapped) matrix product over the input axis.
#[derive(Module, Debug)]
pub struct Synapses {
    /// Dense: `[sites, inputs]`. One-to-one and mapped: per-site gains `[sites, 1]`.
    pub weight: Param<Tensor<2>>,
    /// Number of inputs expected.
    pub inputs: usize,
    /// Number of sites produced.
    pub sites: usize,
    /// Connectivity (for mapped mode, the input each site listens to).
    #[module(skip)]
    pub mode: SynapseMode,
}

impl SynapsesConfig {
    /// Checks sizes and the connectivity map.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_nonzero(NAME, "inputs", self.inputs)?;
        check_nonzero(NAME, "sites", self.sites)?;
        match &self.mode {
            SynapseMode::Dense => Ok(()),
            SynapseMode::OneToOne if self.sites != self.inputs => Err(ConfigError::Inconsistent {
                module: NAME,
                message: format!(
                    "one-to-one mode needs sites == inputs, got {} sites and {} inputs",
                    self.sites, self.inputs
                ),
            }),
            SynapseMode::OneToOne => Ok(()),
            SynapseMode::Mapped { map } => {
                if map.len() != self.sites {
                    return Err(ConfigError::Inconsistent {
                        module: NAME,
                        message: format!("mapped mode needs one entry per site: {} sites, map of {}", self.sites, map.len()),
                    });
                }
                if let Some((s, &i)) = map.iter().enumerate().find(|(_, i)| **i >= self.inputs) {
                    return Err(ConfigError::Inconsistent {
                        module: NAME,
                        message: format!("site {s} maps to input {i}, but there are only {} inputs", self.inputs),
                    });
                }
                Ok(())
            }
        }
    }

    /// Number of trainable parameters this config creates.
    pub fn num_params(&self) -> usize {
        match self.mode {
            SynapseMode::Dense => self.sites * self.inputs,
            _ => self.sites,
        }
    }

    /// Builds the module. Panics with the `validate()` message on an invalid config.
    pub fn init(&self, device: &burn::tensor::Device) -> Synapses {
        expect_valid(self.validate());
        let (shape, fan_in) = match self.mode {
            SynapseMode::Dense => ([self.sites, self.inputs], self.inputs),
            _ => ([self.sites, 1], 1),
        };
        Synapses {
            weight: self.initializer.init_with(shape, Some(fan_in), Some(self.sites), device),
            inputs: self.inputs,
            sites: self.sites,
            mode: self.mode.clone(),
        }
    }
}

impl Synapses {
    /// Presynaptic activity to synaptic drive.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, inputs, time]`
    /// - output: `[batch, sites, time]`
    ///
    /// # Panics
    ///
    /// If the input's second dimension is not `inputs` (see [`Synapses::try_forward`]).
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        expect_shape(self.try_forward(x))
    }

    /// [`Synapses::forward`] returning a wrong input shape as an error.
    pub fn try_forward(&self, x: Tensor<3>) -> Result<Tensor<3>, ShapeError> {
        let dims = x.dims();
        if dims[1] != self.inputs {
            return Err(ShapeError::new(NAME, format!("[batch, {}, time]", self.inputs), &dims));
        }
        let w = self.weight.val();
        Ok(match &self.mode {
            SynapseMode::Dense => synapses_dense(x, w),
            SynapseMode::OneToOne => synapses_gain(x, w),
            SynapseMode::Mapped { map } => {
                let idx = Tensor::<1, Int>::from_data(
                    TensorData::new(map.iter().map(|&i| i as i64).collect(), [map.len()]),
                    &x.device(),
                );
                synapses_mapped(x, w, idx)
            }
        })
    }
}

/// Dense synapses: `y[b, s, t] = Σ_i w[s, i] · x[b, i, t]`.
pub fn synapses_dense(x: Tensor<3>, weight: Tensor<2>) -> Tensor<3> {
    weight.unsqueeze::<3>().matmul(x)
}

/// One-to-one synapses: `y[b, s, t] = g[s] · x[b, s, t]`, with `gain: [sites, 1]`.
pub fn synapses_gain(x: Tensor<3>, gain: Tensor<2>) -> Tensor<3> {
    x * gain.unsqueeze::<3>()
}

/// Mapped synapses: `y[b, s, t] = g[s] · x[b, map[s], t]`, with `gain: [sites, 1]`.
pub fn synapses_mapped(x: Tensor<3>, gain: Tensor<2>, map: Tensor<1, Int>) -> Tensor<3> {
    synapses_gain(x.select(1, map), gain)
}
