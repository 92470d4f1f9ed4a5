//! The library's neuron as a model of a reconstructed cell: its synapses laid onto a dendrite
//! grid built from the morphology, stacked `Dendrites` stages (each with a `DendriticSpike`),
//! `Summation` to a rate per dendrite, `Soma`, and two linear heads (spike logit, voltage).
//!
//! The grid has `channels` = synapse types (excitatory, inhibitory), `positions` = segments
//! along a branch, `dendrites` = the cell's branches plus one column for the soma's own
//! synapses. Site gains belong to grid sites, not to synapses, so one trained model runs a trial
//! with any placement of the same cell's synapses ([`NeuronNet::with_placement`]).

use biophys::{Branch, SynapseType, Synapses};
use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use neuron_nn::error::check_nonzero;
use neuron_nn::summation::{SummationMode, dendrite_rates};
use neuron_nn::synapses::SynapseMode;
use neuron_nn::{
    ConfigError, DendriteAlgorithm, Dendrites, DendritesConfig, DendriticSpike, DendriticSpikeConfig, MemoryRecurrence,
    MemorySoma, MemorySomaConfig, RateFunction, Soma, SomaConfig, Summation, SummationConfig, SynapsesConfig,
};

use crate::data::{TrialData, raster_input};
use crate::grid::GridLayout;

const NAME: &str = "NeuronNet";

/// Synapse types on the grid: the channel axis.
pub const CHANNELS: usize = 2;

/// Milliseconds of training input a memory soma standardises its inputs on
/// ([`NeuronNet::calibrate`]).
pub const MEMORY_CALIBRATION_MS: usize = 2000;

/// One dendrite stage: a `Dendrites` convolution and its `DendriticSpike`.
#[derive(Config, Debug, PartialEq)]
pub struct DendriteStageConfig {
    /// Potential maps this stage outputs (`Dendrites::out_channels`).
    pub maps: usize,
    /// Time taps of the kernel.
    pub kernel_time: usize,
    /// Steps between time taps: the kernel spans `(kernel_time − 1)·dilation + 1` ms.
    pub dilation: usize,
    /// Kernel along positions (odd keeps it centred). Default 3.
    #[config(default = 3)]
    pub kernel_positions: usize,
    /// Kernel across the grid's columns (the branches and the soma), `same`-padded. Default
    /// `None`: one column, so a branch meets the others only in the linear summation; more
    /// lets branches interact before this stage's non-linearity (a depolarised soma relieving
    /// NMDA's magnesium block on a branch). An `Option` so configs saved before it load.
    #[config(default = "None")]
    pub kernel_dendrites: Option<usize>,
    /// This stage's dendrite path. Default `None`: the net's [`NeuronNetConfig::algorithm`]. A
    /// fit records here the path each stage took ([`NeuronNetConfig::with_paths`]).
    #[config(default = "None")]
    pub algorithm: Option<DendriteAlgorithm>,
}

/// The size of the soma's leaky memory ([`NeuronNetConfig::soma_memory`]).
#[derive(Config, Debug, PartialEq)]
pub struct SomaMemory {
    /// Memory units (time constants log-spaced over 1–50 ms, `MemorySomaConfig`'s default).
    pub units: usize,
    /// Width of the MLP that updates them.
    pub hidden: usize,
    /// How its steps run. Default `None`: `MemoryRecurrence::Auto` (the fused op on flex).
    #[config(default = "None")]
    pub recurrence: Option<MemoryRecurrence>,
}

/// Configuration of [`NeuronNet`].
#[derive(Config, Debug, PartialEq)]
pub struct NeuronNetConfig {
    /// Branches of the cell (its sections but the soma).
    pub branches: usize,
    /// Segments per branch on the grid. Default 10.
    #[config(default = 10)]
    pub positions: usize,
    /// Receptor types at each grid site (`SynapsesConfig::receptors`): drives per site, each
    /// with its own gain, before the first dendrite stage. Default `None`: one (models saved
    /// before the field existed load so).
    #[config(default = "None")]
    pub receptors: Option<usize>,
    /// The dendrite stages, input first. Default: 4 maps × 16 taps 4 ms apart (61 ms, NMDA's
    /// decay), then 1 map × 8 taps 1 ms apart.
    #[config(default = "vec![DendriteStageConfig::new(4, 16, 4), DendriteStageConfig::new(1, 8, 1)]")]
    pub stages: Vec<DendriteStageConfig>,
    /// Non-linearity between stacked stages (a dendrite's local voltage-dependent current).
    /// Default softplus.
    #[config(default = "RateFunction::Softplus")]
    pub activation: RateFunction,
    /// Rate function per dendrite at the summation. Default identity: a rectifier here sits on
    /// a sum of many positions, and Adam's first steps push that sum below zero for good (the
    /// cell is silent in 99 % of the bins); the non-linearities between stages and in the
    /// dendritic spikes remain (docs/fit.md).
    #[config(default = "RateFunction::Identity")]
    pub rate: RateFunction,
    /// Positions each dendritic spike pools over. Default 3.
    #[config(default = "Some(3)")]
    pub spike_window: Option<usize>,
    /// Length of the soma's causal filter, ms. Default 32.
    #[config(default = 32)]
    pub soma_kernel: usize,
    /// Time constants (ms) of the soma's after-spike currents (`SomaConfig::after_spike_taus`):
    /// its own expected spikes fed back, so it knows when it has just fired. Default `None`:
    /// the essay's feed-forward soma (models saved before the field existed load so).
    #[config(default = "None")]
    pub soma_after_spike_taus: Option<Vec<f64>>,
    /// Leaky memory units at the soma (`MemorySoma`), reading the soma's filter and every
    /// dendrite's rate each ms; the heads then read the memory. Default `None`: the heads read
    /// the soma and the rates directly (models saved before the field existed load so).
    #[config(default = "None")]
    pub soma_memory: Option<SomaMemory>,
    /// How the dendrite stages convolve. Default `Auto`: each stage's fastest path for the
    /// training windows on the training device (on flex the fused loop at the fit's shapes); a
    /// session fixes the paths it took ([`NeuronNetConfig::with_paths`]) and saves them with the
    /// model, so whole-trial evaluation and a resume run the same arithmetic. Every path computes
    /// the same function to rounding.
    #[config(default = "DendriteAlgorithm::Auto")]
    pub algorithm: DendriteAlgorithm,
    /// How a reconstructed tree's sections lie on the grid ([`GridLayout`]; set with
    /// [`NeuronNetConfig::with_grid`]). Default `None`: one column per section, positions along
    /// it (the ball and sticks).
    #[config(default = "None")]
    pub layout: Option<GridLayout>,
}

/// The library's neuron with a spike head and a voltage head.
#[derive(Module, Debug)]
pub struct NeuronNet {
    /// Synapses placed on grid sites, a gain per site.
    pub synapses: neuron_nn::Synapses,
    /// Stacked dendrite convolutions.
    pub dendrites: Vec<Dendrites>,
    /// Each stage's amplification.
    pub spikes: Vec<DendriticSpike>,
    /// Per-dendrite rates and their sum, one per map of the last stage.
    pub summation: Summation,
    /// The soma's filter of each summed map.
    pub soma: Soma,
    /// The soma's leaky memory of `[soma, dendrite rates]`, if configured.
    pub memory: Option<MemorySoma>,
    /// `[soma, dendrite rates]` of every map (or the memory) → (spike logit, voltage).
    pub head: Linear,
    /// Non-linearity between stages.
    #[module(skip)]
    pub activation: RateFunction,
    /// Segments per branch.
    pub positions: usize,
    /// The tree's layout on the grid, if not one column per section.
    #[module(skip)]
    pub layout: Option<GridLayout>,
}

impl NeuronNetConfig {
    /// Grid columns: the branches and the soma.
    pub fn dendrites(&self) -> usize {
        self.branches + 1
    }

    /// The same config on `layout`'s grid (its columns and positions).
    pub fn with_grid(mut self, layout: GridLayout) -> Self {
        self.branches = layout.columns - 1;
        self.positions = layout.positions;
        self.layout = Some(layout);
        self
    }

    /// Receptor types per grid site (`receptors`, one when unset).
    pub fn receptor_types(&self) -> usize {
        self.receptors.unwrap_or(1)
    }

    /// Checks sizes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_nonzero(NAME, "branches", self.branches)?;
        check_nonzero(NAME, "positions", self.positions)?;
        check_nonzero(NAME, "receptors", self.receptor_types())?;
        check_nonzero(NAME, "soma_kernel", self.soma_kernel)?;
        if let Some(l) = &self.layout
            && (l.columns != self.dendrites() || l.positions != self.positions)
        {
            return Err(ConfigError::Inconsistent {
                module: NAME,
                message: format!(
                    "the grid layout has {} columns × {} positions, the config {} × {} (set both with `with_grid`)",
                    l.columns,
                    l.positions,
                    self.dendrites(),
                    self.positions
                ),
            });
        }
        self.soma().validate().map_err(|e| ConfigError::Inconsistent {
            module: NAME,
            message: format!("soma: {e}"),
        })?;
        if let Some(memory) = self.memory() {
            memory.validate().map_err(|e| ConfigError::Inconsistent {
                module: NAME,
                message: format!("soma memory: {e}"),
            })?;
        }
        if self.stages.is_empty() {
            return Err(ConfigError::Inconsistent {
                module: NAME,
                message: "needs at least one dendrite stage".into(),
            });
        }
        for i in 0..self.stages.len() {
            self.stage(i).validate().map_err(|e| ConfigError::Inconsistent {
                module: NAME,
                message: format!("stage {i}: {e}"),
            })?;
        }
        Ok(())
    }

    fn stage(&self, i: usize) -> DendritesConfig {
        let s = &self.stages[i];
        let channels = if i == 0 {
            CHANNELS * self.receptor_types()
        } else {
            self.stages[i - 1].maps
        };
        DendritesConfig::new(
            self.positions,
            self.dendrites(),
            [s.kernel_positions, s.kernel_dendrites.unwrap_or(1), s.kernel_time],
        )
        .with_channels(channels)
        .with_out_channels(s.maps)
        .with_dilation(s.dilation)
        .with_bias(true)
        .with_algorithm(s.algorithm.unwrap_or(self.algorithm))
    }

    /// The path each dendrite stage takes for `batch` windows of `time` ms on `device`, in
    /// stage order (never `Auto`; a stage set to a path the backend lacks is an error).
    pub fn paths(&self, batch: usize, time: usize, device: &Device) -> Result<Vec<DendriteAlgorithm>, ConfigError> {
        (0..self.stages.len())
            .map(|i| {
                self.stage(i)
                    .path(batch, time, device)
                    .map_err(|message| ConfigError::Inconsistent {
                        module: NAME,
                        message: format!("stage {i}: {message}"),
                    })
            })
            .collect()
    }

    /// The same config with each stage on `paths` (as [`NeuronNetConfig::paths`] gives them): a
    /// run that must repeat its numbers on another machine names the paths it took.
    pub fn with_paths(mut self, paths: &[DendriteAlgorithm]) -> Self {
        for (stage, &path) in self.stages.iter_mut().zip(paths) {
            stage.algorithm = Some(path);
        }
        self
    }

    /// The soma: a causal filter of each summed map, with after-spike currents if configured.
    fn soma(&self) -> SomaConfig {
        SomaConfig::new()
            .with_kernel(self.soma_kernel)
            .with_rate(RateFunction::Identity)
            .with_neurons(self.stages.last().map_or(1, |s| s.maps))
            .with_after_spike_taus(self.soma_after_spike_taus.clone().unwrap_or_default())
    }

    /// The soma's memory, reading each map's soma filter and dendrite rates.
    fn memory(&self) -> Option<MemorySomaConfig> {
        let maps = self.stages.last().map_or(1, |s| s.maps);
        self.soma_memory.as_ref().map(|m| {
            MemorySomaConfig::new(maps * (1 + self.dendrites()))
                .with_units(m.units)
                .with_hidden(m.hidden)
                .with_recurrence(m.recurrence.unwrap_or(MemoryRecurrence::Auto))
        })
    }

    /// Whether the soma feeds its own spikes back or holds a memory: its outputs then depend
    /// on the whole past.
    pub fn recurrent(&self) -> bool {
        self.soma_after_spike_taus.as_ref().is_some_and(|t| !t.is_empty()) || self.soma_memory.is_some()
    }

    /// Milliseconds of input before an output that it depends on: an output at `t` sees inputs
    /// `t − reach ..= t`. A [`recurrent`](Self::recurrent) soma depends on the whole past; its
    /// reach adds three of its longest time constants (after-spike currents, memory), after
    /// which what came before weighs less than 5 % (the context a training window starts with).
    pub fn reach(&self) -> usize {
        let warm_up = self
            .soma_after_spike_taus
            .iter()
            .flatten()
            .copied()
            .chain(self.memory().map(|m| m.tau_max))
            .fold(0.0_f64, |m, tau| m.max(3.0 * tau))
            .ceil() as usize;
        self.stages
            .iter()
            .map(|s| (s.kernel_time - 1) * s.dilation)
            .sum::<usize>()
            + self.soma_kernel
            - 1
            + warm_up
    }

    /// Builds the model for `synapses` (their placement on the grid): an invalid config, or a
    /// synapse on a branch the config lacks, is an error.
    pub fn init(&self, synapses: &Synapses, device: &Device) -> Result<NeuronNet, ConfigError> {
        self.validate()?;
        let sites = grid_sites(synapses, self.branches, self.positions, self.layout.as_ref())?;
        let maps = self.stages.last().expect("validated").maps;
        let grid = CHANNELS * self.positions * self.dendrites();
        Ok(NeuronNet {
            synapses: SynapsesConfig::new(synapses.len(), grid)
                .with_mode(SynapseMode::Placed { sites })
                .with_receptors(self.receptors)
                // Every synapse starts equal: the dendrite kernels learn each type's sign.
                .with_initializer(Initializer::Constant { value: 1.0 })
                .init(device),
            dendrites: (0..self.stages.len()).map(|i| self.stage(i).init(device)).collect(),
            spikes: self
                .stages
                .iter()
                .map(|_| DendriticSpikeConfig::new().with_window(self.spike_window).init(device))
                .collect(),
            summation: SummationConfig::new()
                .with_mode(SummationMode::Linear)
                .with_rate(self.rate)
                .with_neurons(maps)
                .init(device),
            soma: self.soma().init(device),
            memory: self.memory().map(|m| m.init(device)),
            head: LinearConfig::new(
                self.soma_memory
                    .as_ref()
                    .map_or(maps * (1 + self.dendrites()), |m| m.units),
                2,
            )
            .init(device),
            activation: self.activation,
            positions: self.positions,
            layout: self.layout.clone(),
        })
    }
}

/// The grid site of every synapse, ordered as `Dendrites` reads them, (channel, position,
/// dendrite): channel 0 excitatory, 1 inhibitory. With a `layout`, the column and position it
/// gives the synapse's section and place; without, dendrite `b` for branch `b`, the last column
/// for the soma, position `⌊pos · positions⌋` along the branch (the soma's synapses at its
/// middle).
pub fn grid_sites(
    synapses: &Synapses,
    branches: usize,
    positions: usize,
    layout: Option<&GridLayout>,
) -> Result<Vec<usize>, ConfigError> {
    let dendrites = branches + 1;
    (0..synapses.len())
        .map(|i| {
            let c = match synapses.kind[i] {
                SynapseType::Excitatory => 0,
                SynapseType::Inhibitory => 1,
            };
            if let Some(layout) = layout {
                let section = synapses.branch[i].section();
                let (d, p) = layout.site(section, synapses.pos[i]).ok_or_else(|| ConfigError::Inconsistent {
                    module: NAME,
                    message: format!(
                        "synapse {i} is on section {section}, but the grid layout covers sections 0 to {} (another cell?)",
                        layout.sections.len() - 1
                    ),
                })?;
                return Ok((c * positions + p) * dendrites + d);
            }
            let (d, p) = match synapses.branch[i] {
                Branch::Soma => (branches, positions / 2),
                Branch::Dendrite(b) if b < branches => {
                    (b, ((synapses.pos[i] * positions as f64) as usize).min(positions - 1))
                }
                Branch::Dendrite(b) => {
                    return Err(ConfigError::Inconsistent {
                        module: NAME,
                        message: format!(
                            "synapse {i} is on branch {b}, but the model's grid has branches 0 to {} and the soma (−1)",
                            branches - 1
                        ),
                    });
                }
            };
            Ok((c * positions + p) * dendrites + d)
        })
        .collect()
}

impl NeuronNet {
    /// Grid columns (branches and the soma).
    pub fn dendrites(&self) -> usize {
        self.dendrites[0].dendrites
    }

    /// The same weights reading `synapses` (another placement on the same cell): each synapse
    /// feeds the grid site where it sits.
    pub fn with_placement(&self, synapses: &Synapses) -> Result<Self, ConfigError> {
        let sites = grid_sites(synapses, self.dendrites() - 1, self.positions, self.layout.as_ref())?;
        let mut out = self.clone();
        out.synapses.inputs = sites.len();
        out.synapses.mode = SynapseMode::Placed { sites };
        Ok(out)
    }

    /// Sets every dendrite stage's algorithm (the FLOP count runs the direct path, the
    /// streaming cost).
    pub fn with_algorithm(mut self, algorithm: DendriteAlgorithm) -> Self {
        for d in &mut self.dendrites {
            d.algorithm = algorithm;
        }
        self
    }

    /// Input raster to (spike logit, normalised voltage).
    ///
    /// # Shapes
    ///
    /// - input: `[batch, synapses, time]`
    /// - output: `[batch, 2, time]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let features = self.features(x);
        let features = match &self.memory {
            Some(memory) => memory.forward(features),
            None => features,
        };
        self.head.forward(features.swap_dims(1, 2)).swap_dims(1, 2)
    }

    /// What the soma's memory (or the head) reads: each map's soma filter and dendrite rates.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, synapses, time]`
    /// - output: `[batch, maps · (1 + dendrites), time]`
    pub fn features(&self, x: Tensor<3>) -> Tensor<3> {
        let [b, _, t] = x.dims();
        let mut v = self.dendrites[0].forward(self.synapses.forward(x));
        for (i, (d, s)) in self.dendrites.iter().zip(&self.spikes).enumerate() {
            if i > 0 {
                v = d.forward_grid(self.activation.apply(v));
            }
            v = s.forward(v);
        }
        let maps = self.summation.neurons;
        let rates = dendrite_rates(v, self.summation.rate, maps); // [b, maps, d, t]
        let soma = self.soma.forward(self.summation.combine(rates.clone())); // [b, maps, t]
        Tensor::cat(vec![soma.unsqueeze_dim::<4>(2), rates], 2).reshape([b, maps * (1 + self.dendrites()), t])
    }

    /// The data-dependent start of a memory soma (a model without one is returned as it is):
    /// its inputs, every dendrite's rate, have no fixed scale, and saturated it never trains
    /// (docs/fit.md). Standardises them on the first [`MEMORY_CALIBRATION_MS`] of the first
    /// training trial, a spike worth `input_scale` ([`NeuronNet::standardise_memory_inputs`]).
    pub fn calibrate(self, train: &[TrialData], input_scale: f64) -> Self {
        match (&self.memory, train.first()) {
            (Some(_), Some(trial)) => {
                let device = self.head.weight.val().device();
                let x = raster_input(trial, 0, MEMORY_CALIBRATION_MS.min(trial.ms()), input_scale, &device);
                self.standardise_memory_inputs(x)
            }
            _ => self,
        }
    }

    /// Rescales the memory's first layer so that, on `x`, the features' share of every hidden
    /// pre-activation is what standardised features (zero mean, unit variance) would give: a
    /// data-dependent initialisation that starts the memory inside its working range.
    pub fn standardise_memory_inputs(mut self, x: Tensor<3>) -> Self {
        if self.memory.is_none() {
            return self;
        }
        let features = self.features(x).detach(); // [b, f, t]
        let memory = self.memory.as_mut().expect("checked above");
        let f = features.dims()[1];
        let (mean, std) = feature_moments(features);
        let w = memory.w_in.val(); // [neurons, f + units, hidden]
        let [n, rows, hidden] = w.dims();
        let scale = std.recip().reshape([1, f, 1]);
        let w_x = w.clone().narrow(1, 0, f) * scale;
        let shift = (mean.reshape([1, 1, f]).matmul(w_x.clone())).reshape([n, hidden]);
        memory.w_in = Param::from_tensor(Tensor::cat(vec![w_x, w.narrow(1, f, rows - f)], 1).detach());
        memory.b_in = Param::from_tensor((memory.b_in.val() - shift).detach());
        self
    }
}

/// Mean and spread of each feature over batch and time, for standardising them.
///
/// The spread is floored at 1 % of the largest feature's, so that a feature that happens to be
/// (nearly) constant over the calibration window gets a bounded scale rather than `1/0`: it may
/// move later in the trial. If every feature is constant the spread is 1 (no rescaling).
///
/// # Shapes
///
/// - input: `[batch, features, time]`
/// - output: `([1, features], [1, features])`
pub fn feature_moments(features: Tensor<3>) -> (Tensor<2>, Tensor<2>) {
    let [b, f, t] = features.dims();
    let flat = features.swap_dims(1, 2).reshape([b * t, f]);
    let mean = flat.clone().mean_dim(0); // [1, f]
    let std = (flat - mean.clone()).powi_scalar(2).mean_dim(0).sqrt();
    let largest = std.clone().max().into_scalar::<f64>();
    let floor = if largest > 1e-12 { 0.01 * largest } else { 1.0 };
    (mean, std.clamp_min(floor))
}
