//! A whole neuron: every stage in the essay's order, and the essay's cell types as presets.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use flop_count::scope;

use crate::error::{ConfigError, ShapeError, expect_shape, expect_valid};
use crate::*;

/// Every stage's configuration, plus the cell's name (used in error messages).
#[derive(Config, Debug)]
pub struct NeuronConfig {
    /// Cell type, e.g. `"granule"`; errors name it.
    pub name: String,
    /// Synapses: inputs → sites.
    pub synapses: SynapsesConfig,
    /// Dendritic tree: sites on a grid, spatio-temporal convolution.
    pub dendrites: DendritesConfig,
    /// Dendritic spike: max-pool-like amplification.
    pub spike: DendriticSpikeConfig,
    /// Per-dendrite rates and their summation at the soma.
    pub summation: SummationConfig,
    /// Somatic temporal filter.
    pub soma: SomaConfig,
    /// Refractory blocking (training only).
    pub dropout: PoissonDropoutConfig,
    /// Spike generation (training only; evaluation outputs the expected count).
    pub spikes: PoissonSpikesConfig,
    /// Output to the axon terminals.
    pub axon: AxonConfig,
}

/// The extended linear-nonlinear-Poisson neuron as a convnet.
#[derive(Module, Debug)]
pub struct Neuron {
    /// Transmitter × receptor: a matrix product.
    pub synapses: Synapses,
    /// Charge diffusing over the tree: a causal spatio-temporal convolution.
    pub dendrites: Dendrites,
    /// Voltage-gated amplification: max-pool-like.
    pub spike: DendriticSpike,
    /// Per-dendrite rates, summed by cell type.
    pub summation: Summation,
    /// The cell body's temporal filter.
    pub soma: Soma,
    /// Refractory blocking: Poisson dropout.
    pub dropout: PoissonDropout,
    /// The "P" of LNP.
    pub spikes: PoissonSpikes,
    /// Attenuation to each terminal.
    pub axon: Axon,
    /// Cell type, for error messages.
    #[module(skip)]
    pub name: String,
}

impl Neuron {
    /// Saves the weights and the config that built them in one file (atomically).
    pub fn save(&self, config: &NeuronConfig, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
        crate::save::save_with_config(config, self, path)
    }

    /// Rebuilds a neuron from a file written by [`Neuron::save`] alone.
    pub fn load(path: impl AsRef<std::path::Path>, device: &Device) -> Result<(NeuronConfig, Self), crate::LoadError> {
        crate::save::load_with_config(path, |c: &NeuronConfig| c.init(device))
    }
}

impl Neuron {
    /// The whole cell, in the essay's order.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, inputs, time]` (presynaptic rates or counts per step)
    /// - output: `[batch, terminals, time]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        expect_shape(self.try_forward(x))
    }

    /// [`Neuron::forward`] returning a wrong input shape as an error that names the cell.
    pub fn try_forward(&self, x: Tensor<3>) -> Result<Tensor<3>, ShapeError> {
        // Each stage in a FLOP-counter scope named as its field, so its parameter-free ops
        // (the dendrites' im2col, the rates) get the stage's row; a no-op off the capture device.
        let d = x.device();
        let drive = self.synapses.try_forward(x).map_err(|e| e.within(&self.name))?; // [B, S, T]
        let v = scope(&d, "dendrites", || self.dendrites.forward(drive)); // [B, C, P, D, T]
        let potential = scope(&d, "spike", || self.spike.forward(v));
        let drive = scope(&d, "summation", || self.summation.forward(potential)); // [B, T]
        let rate = scope(&d, "soma", || self.soma.forward(drive)); // [B, T]
        let blocked = scope(&d, "dropout", || self.dropout.forward(rate));
        let fired = scope(&d, "spikes", || self.spikes.forward(blocked)); // [B, T]
        Ok(scope(&d, "axon", || self.axon.forward(fired))) // [B, terminals, T]
    }
}

impl NeuronConfig {
    /// Checks every stage and that they fit together.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let named = |e: ConfigError| ConfigError::Inconsistent {
            module: "Neuron",
            message: format!("{}: {e}", self.name),
        };
        self.synapses.validate().map_err(named)?;
        self.dendrites.validate().map_err(named)?;
        self.spike.validate().map_err(named)?;
        self.summation.validate().map_err(named)?;
        self.soma.validate().map_err(named)?;
        self.dropout.validate().map_err(named)?;
        self.spikes.validate().map_err(named)?;
        self.axon.validate().map_err(named)?;
        if self.synapses.sites != self.dendrites.sites() {
            return Err(ConfigError::Inconsistent {
                module: "Neuron",
                message: format!(
                    "{}: synapses produce {} sites but the dendrites lay out {} (channels × positions × dendrites)",
                    self.name,
                    self.synapses.sites,
                    self.dendrites.sites()
                ),
            });
        }
        Ok(())
    }

    /// Number of trainable parameters this config creates.
    pub fn num_params(&self) -> usize {
        self.synapses.num_params()
            + self.dendrites.num_params()
            + 2 // dendritic spike gain and threshold
            + self.summation.num_params()
            + self.soma.num_params()
            + self.axon.terminals
    }

    /// Builds the neuron. Panics with the `validate()` message on an invalid config.
    pub fn init(&self, device: &Device) -> Neuron {
        expect_valid(self.validate());
        Neuron {
            synapses: self.synapses.init(device),
            dendrites: self.dendrites.init(device),
            spike: self.spike.init(device),
            summation: self.summation.init(device),
            soma: self.soma.init(device),
            dropout: self.dropout.init(),
            spikes: self.spikes.init(),
            axon: self.axon.init(device),
            name: self.name.clone(),
        }
    }

    /// A neuron from per-stage configs with the essay's defaults for the rest: whole-dendrite
    /// spike, ReLU rates, 1×1×5 soma, Poisson(0.5) dropout, exact spikes.
    fn essay(
        name: &str,
        synapses: SynapsesConfig,
        dendrites: DendritesConfig,
        summation: SummationMode,
        terminals: usize,
    ) -> Self {
        Self::new(
            name.into(),
            synapses,
            dendrites,
            DendriticSpikeConfig::new(),
            SummationConfig::new().with_mode(summation),
            SomaConfig::new(),
            PoissonDropoutConfig::new(),
            PoissonSpikesConfig::new(),
            AxonConfig::new(terminals),
        )
    }

    /// Cerebellar granule cell (5e10 in the brain). Essay, "estimating the cerebellar
    /// input/output dimensions": about 4 mossy-fibre axons, each making 3–4 synapses on the
    /// cell's claw-like dendrite endings (~15 inputs); ~4 dendrites with 3 branches each, a 3×4×5
    /// filter; a T-shaped axon making ~100 synapses onto Purkinje cells; linear summation.
    ///
    /// Layout: 4 positions × 4 dendrites = 16 sites; site (p, d) listens to axon d (mapped).
    pub fn granule() -> Self {
        let map = (0..16).map(|site| site % 4).collect();
        Self::essay(
            "granule",
            SynapsesConfig::new(4, 16).with_mode(SynapseMode::Mapped { map }),
            DendritesConfig::new(4, 4, [3, 4, 5]),
            SummationMode::Linear,
            100,
        )
    }

    /// Purkinje cell (1e8 in the brain). Essay: "over 100 000 synapses and about 1000
    /// dendrites", a 10×1000×5 filter, linear (ReLU-like) summation, ~1000 connections to the
    /// deep nuclei. One-to-one synapses: a dense 100 000-input layer would hold 1e10 weights.
    ///
    /// Layout: 100 positions × 1000 dendrites = 100 000 sites.
    pub fn purkinje() -> Self {
        Self::essay(
            "purkinje",
            SynapsesConfig::new(100_000, 100_000).with_mode(SynapseMode::OneToOne),
            DendritesConfig::new(100, 1000, [10, 1000, 5]),
            SummationMode::Linear,
            1000,
        )
    }

    /// Cortical pyramidal cell (most of the remaining neurons). The essay gives no filter; our
    /// numbers: 10 000 synapses (the middle of the usual 5 000–15 000), one-to-one, on 100
    /// positions × 100 dendritic branches; a 5×10×5 kernel (neighbouring branches of one
    /// dendrite interact, distant ones do not); bistable summation (the essay's "bistable"
    /// mode, as reported for cortical dendrites' NMDA spikes), switching at a summed rate of 1
    /// with a ±50 % gain change; 1000 axon terminals.
    pub fn pyramidal() -> Self {
        Self::essay(
            "pyramidal",
            SynapsesConfig::new(10_000, 10_000).with_mode(SynapseMode::OneToOne),
            DendritesConfig::new(100, 100, [5, 10, 5]),
            SummationMode::Bistable {
                threshold: 1.0,
                strength: 0.5,
                width: 1.0,
            },
            1000,
        )
    }
}
