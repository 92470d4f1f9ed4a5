//! A cell type: every stage's configuration in the essay's order, and the essay's cell types as
//! presets. The neuron they build is a population of one ([`crate::population`]).

use burn::config::Config;

use crate::axon::AxonConfig;
use crate::dendrites::DendritesConfig;
use crate::dendritic_spike::DendriticSpikeConfig;
use crate::error::ConfigError;
use crate::poisson_dropout::PoissonDropoutConfig;
use crate::poisson_spikes::PoissonSpikesConfig;
use crate::soma::SomaConfig;
use crate::summation::{SummationConfig, SummationMode};
use crate::synapses::{SynapseMode, SynapsesConfig};

/// A cell type: every stage's configuration (each for one neuron), plus the cell's name (used
/// in error messages). [`NeuronConfig::init`] builds one neuron; [`crate::PopulationConfig`] builds N.
#[derive(Config, Debug, PartialEq)]
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

impl NeuronConfig {
    /// Checks every stage and that they fit together. A stage's error comes back as
    /// [`ConfigError::InStage`], naming the cell and the stage.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let in_stage = |stage: &'static str| {
            let cell = self.name.clone();
            move |e: ConfigError| ConfigError::InStage {
                cell,
                stage,
                source: Box::new(e),
            }
        };
        self.synapses.validate().map_err(in_stage("synapses"))?;
        self.dendrites.validate().map_err(in_stage("dendrites"))?;
        self.spike.validate().map_err(in_stage("spike"))?;
        self.summation.validate().map_err(in_stage("summation"))?;
        self.soma.validate().map_err(in_stage("soma"))?;
        self.dropout.validate().map_err(in_stage("dropout"))?;
        self.spikes.validate().map_err(in_stage("spikes"))?;
        self.axon.validate().map_err(in_stage("axon"))?;
        for (stage, n) in [
            ("synapses", self.synapses.neurons),
            ("dendrites", self.dendrites.neurons),
            ("spike", self.spike.neurons),
            ("summation", self.summation.neurons),
            ("soma", self.soma.neurons),
            ("axon", self.axon.neurons),
        ] {
            if n != 1 {
                return Err(in_stage(stage)(ConfigError::Inconsistent {
                    module: "Neuron",
                    message: format!(
                        "a cell type's stages describe one neuron, but `neurons` is {n}; set the count with PopulationConfig"
                    ),
                }));
            }
        }
        if self.synapses.outputs() != self.dendrites.sites() {
            return Err(ConfigError::Inconsistent {
                module: "Neuron",
                message: format!(
                    "{}: synapses produce {} drives (sites × receptor types: {} × {}) but the dendrites lay out {} (channels × positions × dendrites)",
                    self.name,
                    self.synapses.outputs(),
                    self.synapses.sites,
                    self.synapses.receptor_types(),
                    self.dendrites.sites()
                ),
            });
        }
        Ok(())
    }

    /// Number of trainable parameters of one neuron of this type.
    pub fn num_params(&self) -> usize {
        self.synapses.num_params()
            + self.dendrites.num_params()
            + 2 // dendritic spike gain and threshold
            + self.summation.num_params()
            + self.soma.num_params()
            + self.axon.terminals
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
