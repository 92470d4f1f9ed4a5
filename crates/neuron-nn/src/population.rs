//! A population: N neurons of one type with independent weights, the stage modules composed.
//! Every stage is natively a layer of `neurons` cells (like a convolution's `groups`), so N cells
//! run as one vectorised computation (batched matmul for the synapses, a grouped convolution for
//! the dendrites and the soma), never a loop over neurons, and a single neuron
//! ([`crate::Neuron`]) is the same code with N = 1.

use burn::config::Config;
use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};

use crate::axon::Axon;
use crate::dendrites::Dendrites;
use crate::dendritic_spike::DendriticSpike;
use crate::error::{ConfigError, ShapeError, check_nonzero, expect_shape, expect_valid};
use crate::neuron::NeuronConfig;
use crate::poisson_dropout::PoissonDropout;
use crate::poisson_spikes::PoissonSpikes;
use crate::save::LoadError;
use crate::scope::scope;
use crate::soma::Soma;
use crate::summation::Summation;
use crate::synapses::Synapses;

/// A single neuron: a [`Population`] of one. Every stage is written once, for any number of
/// neurons; a neuron is that code with N = 1, so its forward maps `[batch, inputs, time]` to
/// `[batch, terminals, time]`.
pub type Neuron = Population;

impl NeuronConfig {
    /// Builds one neuron. Panics with the `validate()` message on an invalid config.
    pub fn init(&self, device: &Device) -> Neuron {
        expect_valid(self.validate());
        PopulationConfig::new(self.clone(), 1).init(device)
    }
}

/// Configuration of a [`Population`]: a cell type and a count.
#[derive(Config, Debug, PartialEq)]
pub struct PopulationConfig {
    /// The cell type every member shares.
    pub neuron: NeuronConfig,
    /// Number of neurons.
    pub neurons: usize,
}

/// N neurons of one cell type, each with its own weights, as one computation.
///
/// Every parameter has a leading neuron axis; tensors between stages are neuron-major along
/// their channel axis (`[batch, neurons · sites, time]`, `[batch, neurons · channels, positions,
/// dendrites, time]`, `[batch, neurons, time]`).
#[derive(Module, Debug)]
pub struct Population {
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
    /// Refractory blocking: Poisson dropout (per neuron).
    pub dropout: PoissonDropout,
    /// The "P" of LNP.
    pub spikes: PoissonSpikes,
    /// Attenuation to each terminal.
    pub axon: Axon,
    /// The members' cell type.
    #[module(skip)]
    pub config: NeuronConfig,
}

impl PopulationConfig {
    /// Checks the cell type and the count.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_nonzero("Population", "neurons", self.neurons)?;
        self.neuron.validate()
    }

    /// Number of trainable parameters this config creates.
    pub fn num_params(&self) -> usize {
        self.neurons * self.neuron.num_params()
    }

    /// Builds N independently initialised neurons as one population: each stage draws its
    /// stacked parameters at once, every member distributed as a single neuron's.
    pub fn init(&self, device: &Device) -> Population {
        expect_valid(self.validate());
        let (c, n) = (&self.neuron, self.neurons);
        Population {
            synapses: c.synapses.clone().with_neurons(n).init(device),
            dendrites: c.dendrites.clone().with_neurons(n).init(device),
            spike: c.spike.clone().with_neurons(n).init(device),
            summation: c.summation.clone().with_neurons(n).init(device),
            soma: c.soma.clone().with_neurons(n).init(device),
            dropout: c.dropout.init(),
            spikes: c.spikes.init(),
            axon: c.axon.clone().with_neurons(n).init(device),
            config: c.clone(),
        }
    }
}

/// Every float parameter of `module` in visiting order: (shape, values flattened).
fn parameters<M: Module>(module: &M) -> Vec<(Vec<usize>, Tensor<1>)> {
    struct Collect(Vec<(Vec<usize>, Tensor<1>)>);
    impl ModuleVisitor for Collect {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let t = param.val();
            let dims = t.dims().to_vec();
            let n: usize = dims.iter().product();
            self.0.push((dims, t.reshape([n])));
        }
    }
    let mut c = Collect(Vec::new());
    module.visit(&mut c);
    c.0
}

/// `fresh` with its parameters replaced, in visiting order, by `values` reshaped to each
/// parameter's shape (detached: new leaves). `fresh`'s own lazy initialisation never runs.
fn with_parameters<M: Module>(fresh: M, values: Vec<Tensor<1>>) -> M {
    struct Replace(std::vec::IntoIter<Tensor<1>>);
    impl ModuleMapper for Replace {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let shape: [usize; D] = param.lazy_shape().dims();
            let t = self
                .0
                .next()
                .expect("modules of one structure have the same parameters");
            Param::initialized(param.id, t.reshape(shape).detach()).set_require_grad(true)
        }
    }
    fresh.map(&mut Replace(values.into_iter()))
}

/// Neurons `start .. start + len` of `module` (any layer whose parameters all have a leading
/// neuron axis: every stage, a [`Population`]), written into `fresh`, a module of the same type
/// built for `len` neurons. The weights are copied.
pub fn select_neurons<M: Module>(module: &M, fresh: M, start: usize, len: usize) -> M {
    let values = parameters(module)
        .into_iter()
        .map(|(dims, flat)| {
            let per = flat.dims()[0] / dims[0];
            flat.narrow(0, start * per, len * per)
        })
        .collect();
    with_parameters(fresh, values)
}

/// The neurons of every module in `parts`, in order, written into `fresh`, a module of the same
/// type built for all of them. The inverse of [`select_neurons`].
pub fn join_neurons<M: Module>(parts: &[&M], fresh: M) -> M {
    let each: Vec<Vec<Tensor<1>>> = parts
        .iter()
        .map(|m| parameters(*m).into_iter().map(|(_, t)| t).collect())
        .collect();
    let count = each.first().map_or(0, Vec::len);
    let values = (0..count)
        .map(|j| Tensor::cat(each.iter().map(|p| p[j].clone()).collect(), 0))
        .collect();
    with_parameters(fresh, values)
}

impl Population {
    /// Joins populations (or single neurons) of one cell type, in order, into one.
    ///
    /// # Panics
    ///
    /// If `parts` is empty or its members are of different cell types.
    pub fn from_neurons(parts: &[Population]) -> Self {
        let first = parts
            .first()
            .expect("Population::from_neurons needs at least one neuron");
        if let Some((i, p)) = parts.iter().enumerate().find(|(_, p)| p.config != first.config) {
            panic!(
                "Population::from_neurons: part {i} is a {} cell, part 0 a {}: a population holds one cell type",
                p.config.name, first.config.name
            );
        }
        let total = parts.iter().map(Population::len).sum();
        let fresh = PopulationConfig::new(first.config.clone(), total).init(&first.device());
        join_neurons(&parts.iter().collect::<Vec<_>>(), fresh)
    }

    /// Number of neurons.
    pub fn len(&self) -> usize {
        self.synapses.neurons()
    }

    /// Always false: a population has at least one neuron.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.synapses.weight.val().device()
    }

    /// Neuron `i` on its own (a population of one, [`crate::Neuron`]), with a copy of its weights.
    pub fn neuron(&self, i: usize) -> Population {
        assert!(i < self.len(), "Population: neuron {i} of {}", self.len());
        let fresh = PopulationConfig::new(self.config.clone(), 1).init(&self.device());
        select_neurons(self, fresh, i, 1)
    }

    /// The cell type's name, or "NAME population" for more than one neuron (error messages).
    pub fn name(&self) -> String {
        if self.len() == 1 {
            self.config.name.clone()
        } else {
            format!("{} population", self.config.name)
        }
    }

    /// Every neuron, in the essay's order: synapses, dendrites, dendritic spike, summation, soma,
    /// refractory blocking, spike generation, axon.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, inputs, time]` (every neuron sees it) or
    ///   `[batch, neurons · inputs, time]` (each neuron its own)
    /// - output: `[batch, neurons · terminals, time]` (neuron-major: the next layer's inputs)
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        expect_shape(self.try_forward(x))
    }

    /// [`Population::forward`] returning a wrong input shape as an error that names the cell.
    pub fn try_forward(&self, x: Tensor<3>) -> Result<Tensor<3>, ShapeError> {
        // Each stage in a FLOP-counter scope named as its field, so its parameter-free ops
        // (the dendrites' im2col, the rates) get the stage's row; a no-op off the capture device.
        let d = x.device();
        let drive = scope(&d, "synapses", || self.synapses.try_forward(x)).map_err(|e| e.within(&self.name()))?;
        let v = scope(&d, "dendrites", || self.dendrites.forward(drive));
        let potential = scope(&d, "spike", || self.spike.forward(v));
        let drive = scope(&d, "summation", || self.summation.forward(potential)); // [B, N, T]
        let rate = scope(&d, "soma", || self.soma.forward(drive));
        let blocked = scope(&d, "dropout", || self.dropout.forward(rate));
        let fired = scope(&d, "spikes", || self.spikes.forward(blocked));
        Ok(scope(&d, "axon", || self.axon.forward(fired)))
    }

    /// Saves the weights with the cell type and count, in one file (atomically).
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
        let config = PopulationConfig::new(self.config.clone(), self.len());
        crate::save::save_with_config(&config, self, path)
    }

    /// Rebuilds a population (or neuron) from a file written by [`Population::save`] alone.
    pub fn load(path: impl AsRef<std::path::Path>, device: &Device) -> Result<Self, LoadError> {
        crate::save::load_with_config(path, |c: &PopulationConfig| c.init(device)).map(|(_, m)| m)
    }
}
