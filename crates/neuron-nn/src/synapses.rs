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
    #[config(default = "Initializer::KaimingUniform{gain:1.0/num_traits::Float::sqrt(3.0),fan_out_only:false}")]
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
                        message: format!(
                            "mapped mode needs one entry per site: {} sites, map of {}",
                            self.sites,
                            map.len()
                        ),
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
            weight: self
                .initializer
                .init_with(shape, Some(fan_in), Some(self.sites), device),
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
            mode @ SynapseMode::Mapped { .. } => synapses_gain(site_inputs(x, mode, 1), w),
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

/// The input each site listens to, along axis `dim` (the input axis): `x[.., map[s], ..]` in
/// mapped mode, `x` itself otherwise.
pub fn site_inputs<const D: usize>(x: Tensor<D>, mode: &SynapseMode, dim: usize) -> Tensor<D> {
    match mode {
        SynapseMode::Mapped { map } => {
            let idx = Tensor::<1, Int>::from_data(
                TensorData::new(map.iter().map(|&i| i as i64).collect(), [map.len()]),
                &x.device(),
            );
            x.select(dim, idx)
        }
        _ => x,
    }
}

/// Mapped synapses: `y[b, s, t] = g[s] · x[b, map[s], t]`, with `gain: [sites, 1]`.
pub fn synapses_mapped(x: Tensor<3>, gain: Tensor<2>, map: Tensor<1, Int>) -> Tensor<3> {
    synapses_gain(x.select(1, map), gain)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices;
    use crate::testing::{seed_lock, uniform, values};
    use burn::tensor::Device;

    type Expected<'a> = &'a dyn Fn(&[f64], usize, usize, usize) -> f64;

    #[test]
    fn each_mode_computes_its_matrix_product() {
        let _lock = seed_lock();
        for (name, device) in devices::cpu() {
            let x = uniform([2, 3, 4], 1, &device);
            let xv = values(x.clone());
            let at = |b: usize, i: usize, t: usize| xv[(b * 3 + i) * 4 + t];
            let check = |syn: &Synapses, f: Expected| {
                let w = values(syn.weight.val());
                let y = values(syn.forward(x.clone()));
                for (n, v) in y.iter().enumerate() {
                    let (b, s, t) = (n / (syn.sites * 4), n / 4 % syn.sites, n % 4);
                    let want = f(&w, b, s, t);
                    assert!(
                        (v - want).abs() < 1e-5,
                        "{name} {:?}: y[{b},{s},{t}] = {v}, want {want}",
                        syn.mode
                    );
                }
            };
            let dense = SynapsesConfig::new(3, 5).init(&device);
            check(&dense, &|w, b, s, t| (0..3).map(|i| w[s * 3 + i] * at(b, i, t)).sum());
            let one = SynapsesConfig::new(3, 3).with_mode(SynapseMode::OneToOne).init(&device);
            check(&one, &|w, b, s, t| w[s] * at(b, s, t));
            let map = vec![2, 0, 0, 1];
            let mapped = SynapsesConfig::new(3, 4)
                .with_mode(SynapseMode::Mapped { map: map.clone() })
                .init(&device);
            check(&mapped, &|w, b, s, t| w[s] * at(b, map[s], t));
        }
    }

    #[test]
    fn invalid_configs_are_rejected_with_a_message() {
        let e = SynapsesConfig::new(3, 4)
            .with_mode(SynapseMode::OneToOne)
            .validate()
            .unwrap_err();
        assert!(
            e.to_string().contains("sites == inputs, got 4 sites and 3 inputs"),
            "{e}"
        );
        let e = SynapsesConfig::new(3, 2)
            .with_mode(SynapseMode::Mapped { map: vec![0, 3] })
            .validate()
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("site 1 maps to input 3, but there are only 3 inputs"),
            "{e}"
        );
        let e = SynapsesConfig::new(3, 2)
            .with_mode(SynapseMode::Mapped { map: vec![0] })
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("one entry per site"), "{e}");
        assert_eq!(
            SynapsesConfig::new(0, 2).validate().unwrap_err(),
            ConfigError::Zero {
                module: "Synapses",
                field: "inputs"
            }
        );
    }

    #[test]
    fn wrong_input_count_names_the_stage_and_both_shapes() {
        let device = Device::flex();
        let syn = SynapsesConfig::new(3, 5).init(&device);
        let e = syn.try_forward(Tensor::<3>::zeros([1, 4, 2], &device)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Synapses: expected input of shape [batch, 3, time], got [1, 4, 2]"
        );
    }

    #[test]
    fn config_round_trips_through_json() {
        let c = SynapsesConfig::new(4, 16).with_mode(SynapseMode::Mapped {
            map: (0..16).map(|s| s % 4).collect(),
        });
        let back: SynapsesConfig = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        assert_eq!(back.mode, c.mode);
        assert!(serde_json::from_str::<SynapsesConfig>(r#"{"inputs":1,"sites":1,"mode":"Diagonal"}"#).is_err());
    }
}
