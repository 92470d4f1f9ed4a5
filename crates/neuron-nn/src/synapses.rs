//! Synapses: transmitter released × receptors present, a matrix product.
//!
//! Essay, Part II: "the amount of neurotransmitter released, the number of synapses for a given
//! neurotransmitter and the number of receptor proteins ... can be thought of as the weights of a
//! (fully) connected layer ... the dot product of two matrices".
//!
//! A layer of `neurons` cells (like a convolution's `groups`): every parameter has a leading
//! neuron axis, and the input is either shared by all cells (`[batch, inputs, time]`) or one per
//! cell (`[batch, neurons · inputs, time]`, neuron-major). The output is neuron-major too:
//! `[batch, neurons · receptors · sites, time]`.
//!
//! A site may express several receptor types (`receptors`, like a convolution's output
//! channels): glutamate released at one synapse opens fast AMPA and slow NMDA channels, whose
//! currents the dendrite then filters differently. Each receptor type has its own weights, so
//! each site emits one drive per receptor type, receptor-major: `(receptor, site)`.

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
    /// Input synapse `i` sits on site `sites[i]`, and a site sums the synapses placed on it,
    /// times its own gain: a reconstructed cell's synapses laid onto the grid (several may share
    /// a site, a site may have none). The gains belong to sites, not to synapses, so the same
    /// weights run a trial with another placement (the same cell, other random synapses).
    Placed {
        /// For each input synapse, the site it sits on.
        sites: Vec<usize>,
    },
}

/// Configuration of [`Synapses`].
#[derive(Config, Debug, PartialEq)]
pub struct SynapsesConfig {
    /// Number of presynaptic inputs (axons) of each neuron.
    pub inputs: usize,
    /// Number of synaptic sites on each neuron.
    pub sites: usize,
    /// Connectivity. Default: [`SynapseMode::Dense`].
    #[config(default = "SynapseMode::Dense")]
    pub mode: SynapseMode,
    /// Neurons in the layer, each with its own weights (like a convolution's `groups`). Default 1.
    #[config(default = 1)]
    pub neurons: usize,
    /// Receptor types at each site, each with its own weights: the drives each site emits
    /// (output channels per site). Default `None`: one. An option so that configs saved before
    /// the field existed still load (burn's `Config` has no serde defaults).
    #[config(default = "None")]
    pub receptors: Option<usize>,
    /// Initialiser of the weights (dense) or gains (one-to-one, mapped; fan-in 1).
    /// Default: Kaiming uniform, as burn's `Linear`.
    #[config(default = "Initializer::KaimingUniform{gain:1.0/num_traits::Float::sqrt(3.0),fan_out_only:false}")]
    pub initializer: Initializer,
}

/// Synaptic transmission as a (dense, diagonal or mapped) matrix product over the input axis.
#[derive(Module, Debug)]
pub struct Synapses {
    /// Dense: `[neurons, receptors · sites, inputs]`. Other modes: per-site gains
    /// `[neurons, receptors · sites, 1]`.
    pub weight: Param<Tensor<3>>,
    /// Inputs of each neuron.
    pub inputs: usize,
    /// Sites of each neuron.
    pub sites: usize,
    /// Connectivity (for mapped mode, the input each site listens to).
    #[module(skip)]
    pub mode: SynapseMode,
}

/// A connectivity list of `len` entries, each below `bound`; the messages say which rule broke
/// (`out_of_range` gets the entry's position and value).
fn check_index_list(
    list: &[usize],
    len: usize,
    bound: usize,
    wrong_len: impl FnOnce() -> String,
    out_of_range: impl FnOnce(usize, usize) -> String,
) -> Result<(), ConfigError> {
    let inconsistent = |message| ConfigError::Inconsistent { module: NAME, message };
    if list.len() != len {
        return Err(inconsistent(wrong_len()));
    }
    match list.iter().enumerate().find(|(_, v)| **v >= bound) {
        Some((k, &v)) => Err(inconsistent(out_of_range(k, v))),
        None => Ok(()),
    }
}

impl SynapsesConfig {
    /// Checks sizes and the connectivity map.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_nonzero(NAME, "inputs", self.inputs)?;
        check_nonzero(NAME, "sites", self.sites)?;
        check_nonzero(NAME, "neurons", self.neurons)?;
        check_nonzero(NAME, "receptors", self.receptor_types())?;
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
            SynapseMode::Mapped { map } => check_index_list(
                map,
                self.sites,
                self.inputs,
                || {
                    format!(
                        "mapped mode needs one entry per site: {} sites, map of {}",
                        self.sites,
                        map.len()
                    )
                },
                |s, i| format!("site {s} maps to input {i}, but there are only {} inputs", self.inputs),
            ),
            SynapseMode::Placed { sites } => check_index_list(
                sites,
                self.inputs,
                self.sites,
                || {
                    format!(
                        "placed mode needs one site per input synapse: {} inputs, {} sites given",
                        self.inputs,
                        sites.len()
                    )
                },
                |i, s| {
                    format!(
                        "synapse {i} is placed on site {s}, but there are only {} sites",
                        self.sites
                    )
                },
            ),
        }
    }

    /// Receptor types at each site (`receptors`, one when unset).
    pub fn receptor_types(&self) -> usize {
        self.receptors.unwrap_or(1)
    }

    /// Drives each neuron emits: receptor types × sites.
    pub fn outputs(&self) -> usize {
        self.receptor_types() * self.sites
    }

    /// Number of trainable parameters this config creates.
    pub fn num_params(&self) -> usize {
        self.neurons
            * self.receptor_types()
            * match self.mode {
                SynapseMode::Dense => self.sites * self.inputs,
                _ => self.sites,
            }
    }

    /// Builds the module. Panics with the `validate()` message on an invalid config.
    pub fn init(&self, device: &burn::tensor::Device) -> Synapses {
        expect_valid(self.validate());
        let fan_in = if self.mode == SynapseMode::Dense {
            self.inputs
        } else {
            1
        };
        Synapses {
            weight: self.initializer.init_with(
                [self.neurons, self.outputs(), fan_in],
                Some(fan_in),
                Some(self.outputs()),
                device,
            ),
            inputs: self.inputs,
            sites: self.sites,
            mode: self.mode.clone(),
        }
    }
}

impl Synapses {
    /// Number of neurons in the layer.
    pub fn neurons(&self) -> usize {
        self.weight.dims()[0]
    }

    /// Receptor types at each site.
    pub fn receptors(&self) -> usize {
        self.weight.dims()[1] / self.sites
    }

    /// Drives each neuron emits: receptors × sites.
    pub fn outputs(&self) -> usize {
        self.weight.dims()[1]
    }

    /// Presynaptic activity to synaptic drive.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, inputs, time]` (every neuron sees it) or
    ///   `[batch, neurons · inputs, time]` (each neuron its own, neuron-major)
    /// - output: `[batch, neurons · receptors · sites, time]`, each neuron's drives ordered
    ///   (receptor, site)
    ///
    /// # Panics
    ///
    /// On any other input shape (see [`Synapses::try_forward`]).
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        expect_shape(self.try_forward(x))
    }

    /// [`Synapses::forward`] returning a wrong input shape as an error.
    pub fn try_forward(&self, x: Tensor<3>) -> Result<Tensor<3>, ShapeError> {
        let dims = x.dims();
        let n = self.neurons();
        if dims[1] != self.inputs && dims[1] != n * self.inputs {
            let expected = if n == 1 {
                format!("[batch, {}, time]", self.inputs)
            } else {
                format!(
                    "[batch, {} (shared), time] or [batch, {} ({n} neurons × {}), time]",
                    self.inputs,
                    n * self.inputs,
                    self.inputs
                )
            };
            return Err(ShapeError::new(NAME, expected, &dims));
        }
        let w = self.weight.val();
        let r = self.receptors();
        Ok(match &self.mode {
            SynapseMode::Dense => synapses_dense(x, w),
            SynapseMode::OneToOne => synapses_gain(x, w, r),
            mode @ SynapseMode::Mapped { .. } => synapses_gain(site_inputs(x, mode, self.inputs), w, r),
            SynapseMode::Placed { sites } => synapses_gain(place_inputs(x, sites, self.sites), w, r),
        })
    }
}

/// Dense synapses: `y[b, (n, s), t] = Σ_i w[n, s, i] · x[b, (n,) i, t]` (with several receptor
/// types, `s` runs over (receptor, site)).
///
/// # Shapes
///
/// - x: `[batch, inputs, time]` (shared) or `[batch, neurons · inputs, time]`
/// - weight: `[neurons, outputs, inputs]`
/// - output: `[batch, neurons · outputs, time]`
pub fn synapses_dense(x: Tensor<3>, weight: Tensor<3>) -> Tensor<3> {
    let [n, s, i] = weight.dims();
    let [b, c, t] = x.dims();
    if c == i {
        // Shared input: one GEMM for the whole layer.
        weight.reshape([1, n * s, i]).matmul(x)
    } else {
        weight
            .unsqueeze::<4>()
            .matmul(x.reshape([b, n, i, t]))
            .reshape([b, n * s, t])
    }
}

/// Per-site gains, one per receptor type: `y[b, (n, r, s), t] = g[n, (r, s)] · x[b, (n,) s, t]`.
///
/// # Shapes
///
/// - x: `[batch, sites, time]` (shared) or `[batch, neurons · sites, time]`
/// - gain: `[neurons, receptors · sites, 1]`
/// - output: `[batch, neurons · receptors · sites, time]`
pub fn synapses_gain(x: Tensor<3>, gain: Tensor<3>, receptors: usize) -> Tensor<3> {
    let [n, rs, _] = gain.dims();
    let s = rs / receptors;
    let [b, c, t] = x.dims();
    let x = if c == s {
        x.reshape([b, 1, 1, s, t])
    } else {
        x.reshape([b, n, 1, s, t])
    };
    (x * gain.reshape([1, n, receptors, s, 1])).reshape([b, n * rs, t])
}

/// The input each site listens to (axis 1): `x[b, (n,) map[s], t]` in mapped mode, `x` itself
/// otherwise. With one input block per neuron (`[batch, neurons · inputs, time]`), each neuron's
/// sites select from its own block.
pub fn site_inputs(x: Tensor<3>, mode: &SynapseMode, inputs: usize) -> Tensor<3> {
    match mode {
        SynapseMode::Mapped { map } => {
            let blocks = x.dims()[1] / inputs;
            let idx: Vec<i64> = (0..blocks)
                .flat_map(|n| map.iter().map(move |&i| (n * inputs + i) as i64))
                .collect();
            let len = idx.len();
            let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [len]), &x.device());
            x.select(1, idx)
        }
        _ => x,
    }
}

/// Placed synapses summed per site (axis 1): `y[b, (n,) s, t] = Σ_{i: sites[i] = s} x[b, (n,) i, t]`.
/// With one input block per neuron (`[batch, neurons · inputs, time]`), each neuron's sites sum
/// its own block.
///
/// # Shapes
///
/// - x: `[batch, blocks · inputs, time]`
/// - output: `[batch, blocks · n_sites, time]`
pub fn place_inputs(x: Tensor<3>, sites: &[usize], n_sites: usize) -> Tensor<3> {
    let [b, c, t] = x.dims();
    let inputs = sites.len();
    let blocks = c / inputs;
    let mut on_site = vec![Vec::new(); n_sites];
    for (i, &s) in sites.iter().enumerate() {
        on_site[s].push(i);
    }
    let slots = on_site.iter().map(Vec::len).max().unwrap_or(0).max(1);
    // Every site gathers `slots` inputs; missing ones read an appended row of zeros.
    let zero = (blocks * inputs) as i64;
    let idx: Vec<i64> = (0..blocks)
        .flat_map(|n| {
            on_site
                .iter()
                .flat_map(move |list| (0..slots).map(move |j| list.get(j).map_or(zero, |&i| (n * inputs + i) as i64)))
        })
        .collect();
    let len = idx.len();
    let device = x.device();
    let x = Tensor::cat(vec![x, Tensor::zeros([b, 1, t], &device)], 1);
    let idx = Tensor::<1, Int>::from_data(TensorData::new(idx, [len]), &device);
    let gathered = x.select(1, idx).reshape([b, blocks * n_sites, slots, t]);
    if slots == 1 {
        gathered.reshape([b, blocks * n_sites, t])
    } else {
        gathered.sum_dim(2).reshape([b, blocks * n_sites, t])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;
    use test_support::{cpu_devices, seed_lock, uniform, values};

    type Expected<'a> = &'a dyn Fn(&[f64], usize, usize, usize, usize) -> f64;

    #[test]
    fn each_mode_computes_its_matrix_product_for_every_neuron() {
        let _lock = seed_lock();
        for (name, device) in cpu_devices() {
            for neurons in [1, 3] {
                for each in [false, true] {
                    let blocks = if each { neurons } else { 1 };
                    let x = uniform([2, blocks * 3, 4], 1, &device);
                    let xv = values(x.clone());
                    // x[b, (n,) i, t]
                    let at = |b: usize, n: usize, i: usize, t: usize| {
                        let n = if each { n } else { 0 };
                        xv[((b * blocks + n) * 3 + i) * 4 + t]
                    };
                    let check = |syn: &Synapses, f: Expected| {
                        let w = values(syn.weight.val());
                        let y = values(syn.forward(x.clone()));
                        let s = syn.sites;
                        assert_eq!(y.len(), 2 * neurons * s * 4);
                        for (k, v) in y.iter().enumerate() {
                            let (b, n, si, t) = (k / (neurons * s * 4), k / (s * 4) % neurons, k / 4 % s, k % 4);
                            let want = f(&w, b, n, si, t);
                            assert!(
                                (v - want).abs() < 1e-5,
                                "{name} {neurons} neurons (own inputs: {each}) {:?}: y[{b},{n}·{si},{t}] = {v}, want {want}",
                                syn.mode
                            );
                        }
                    };
                    let dense = SynapsesConfig::new(3, 5).with_neurons(neurons).init(&device);
                    check(&dense, &|w, b, n, s, t| {
                        (0..3).map(|i| w[(n * 5 + s) * 3 + i] * at(b, n, i, t)).sum()
                    });
                    let one = SynapsesConfig::new(3, 3)
                        .with_mode(SynapseMode::OneToOne)
                        .with_neurons(neurons)
                        .init(&device);
                    check(&one, &|w, b, n, s, t| w[n * 3 + s] * at(b, n, s, t));
                    let map = vec![2, 0, 0, 1];
                    let mapped = SynapsesConfig::new(3, 4)
                        .with_mode(SynapseMode::Mapped { map: map.clone() })
                        .with_neurons(neurons)
                        .init(&device);
                    check(&mapped, &|w, b, n, s, t| w[n * 4 + s] * at(b, n, map[s], t));
                    // Inputs 0 and 2 share site 1, input 1 sits on site 3, sites 0 and 2 are empty.
                    let sites = vec![1, 3, 1];
                    let placed = SynapsesConfig::new(3, 4)
                        .with_mode(SynapseMode::Placed { sites: sites.clone() })
                        .with_neurons(neurons)
                        .init(&device);
                    check(&placed, &|w, b, n, s, t| {
                        w[n * 4 + s] * (0..3).filter(|&i| sites[i] == s).map(|i| at(b, n, i, t)).sum::<f64>()
                    });
                }
            }
        }
    }

    #[test]
    fn each_receptor_type_has_its_own_gain_at_every_site() {
        let device = Device::flex();
        // Two neurons with their own inputs; inputs 0 and 2 on site 1, input 1 on site 0.
        let syn = SynapsesConfig::new(3, 2)
            .with_mode(SynapseMode::Placed { sites: vec![1, 0, 1] })
            .with_neurons(2)
            .with_receptors(Some(3))
            .init(&device);
        assert_eq!((syn.receptors(), syn.outputs()), (3, 6));
        // gain[n, (r, s)] = 10·n + 2·r + s + 1, distinct everywhere.
        let g: Vec<f32> = (0..12).map(|k| (10 * (k / 6) + k % 6 + 1) as f32).collect();
        let syn = Synapses {
            weight: Param::from_tensor(Tensor::from_data(TensorData::new(g, [2, 6, 1]), &device)),
            ..syn
        };
        // x[0, (n, i), 0] = (n + 1) · 100^i: each input's contribution stays recognisable.
        let x: Vec<f32> = (0..6)
            .map(|k| ((k / 3 + 1) * 100usize.pow((k % 3) as u32)) as f32)
            .collect();
        let y = values(syn.forward(Tensor::from_data(TensorData::new(x, [1, 6, 1]), &device)));
        for n in 0..2 {
            let on_site = [(n + 1) as f64 * 100.0, (n + 1) as f64 * (1.0 + 10_000.0)];
            for r in 0..3 {
                for s in 0..2 {
                    let gain = (10 * n + 2 * r + s + 1) as f64;
                    assert_eq!(
                        y[(n * 3 + r) * 2 + s],
                        gain * on_site[s],
                        "neuron {n}, receptor {r}, site {s}"
                    );
                }
            }
        }
        // Dense: receptor types are more rows of the same matrix.
        let dense = SynapsesConfig::new(3, 2).with_receptors(Some(2));
        assert_eq!(dense.num_params(), 12);
        assert_eq!(dense.init(&device).weight.dims(), [1, 4, 3]);
        assert_eq!(
            SynapsesConfig::new(3, 2)
                .with_receptors(Some(0))
                .validate()
                .unwrap_err(),
            ConfigError::Zero {
                module: "Synapses",
                field: "receptors"
            }
        );
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
        let e = SynapsesConfig::new(3, 2)
            .with_mode(SynapseMode::Placed { sites: vec![0, 2, 1] })
            .validate()
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("synapse 1 is placed on site 2, but there are only 2 sites"),
            "{e}"
        );
        let e = SynapsesConfig::new(3, 2)
            .with_mode(SynapseMode::Placed { sites: vec![0] })
            .validate()
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("one site per input synapse: 3 inputs, 1 sites given"),
            "{e}"
        );
        assert_eq!(
            SynapsesConfig::new(0, 2).validate().unwrap_err(),
            ConfigError::Zero {
                module: "Synapses",
                field: "inputs"
            }
        );
        assert!(SynapsesConfig::new(2, 2).with_neurons(0).validate().is_err());
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
        let layer = SynapsesConfig::new(3, 5).with_neurons(4).init(&device);
        let e = layer.try_forward(Tensor::<3>::zeros([1, 4, 2], &device)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Synapses: expected input of shape [batch, 3 (shared), time] or [batch, 12 (4 neurons × 3), time], got [1, 4, 2]"
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
        // A config saved before receptor types existed loads with one.
        let mut old = serde_json::to_value(SynapsesConfig::new(3, 2)).unwrap();
        assert!(old.as_object_mut().unwrap().remove("receptors").is_some());
        let old: SynapsesConfig = serde_json::from_value(old).unwrap();
        assert_eq!((old.receptors, old.outputs()), (None, 2));
    }
}
