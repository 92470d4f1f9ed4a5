//! A population: N neurons of one type with independent weights, computed as one vectorised
//! operation (batched matmul for the synapses, a grouped convolution for the dendrites and the
//! soma), never a loop over neurons.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};

use crate::dendrites::dendrite_conv;
use crate::dendritic_spike::dendritic_spike;
use crate::error::{ConfigError, ShapeError, check_nonzero, expect_shape, expect_valid};
use crate::soma::causal_filter;
use crate::summation::{bistable, dendrite_rates, sublinear, superlinear};
use crate::synapses::{site_inputs, synapses_dense};
use crate::*;

/// Configuration of a [`Population`].
#[derive(Config, Debug)]
pub struct PopulationConfig {
    /// The cell type every member shares.
    pub neuron: NeuronConfig,
    /// Number of neurons.
    pub neurons: usize,
}

/// N neurons of one type, each with its own weights, as one computation.
///
/// Parameters are each stage's parameters stacked along a leading neuron axis.
#[derive(Module, Debug)]
pub struct Population {
    /// `[N, sites, inputs]` (dense) or `[N, sites, 1]` (per-site gains).
    pub synapse_weight: Param<Tensor<3>>,
    /// `[N, out_channels, channels, kp, kd, kt]`.
    pub dendrite_weight: Param<Tensor<6>>,
    /// `[N, out_channels]`, if the dendrites have a bias.
    pub dendrite_bias: Option<Param<Tensor<2>>>,
    /// `[N]`.
    pub spike_gain: Param<Tensor<1>>,
    /// `[N]`.
    pub spike_threshold: Param<Tensor<1>>,
    /// `[N]`, sub- and superlinear summation.
    pub summation_log_scale: Option<Param<Tensor<1>>>,
    /// `[N]`, bistable summation.
    pub summation_threshold: Option<Param<Tensor<1>>>,
    /// `[N]`, bistable summation.
    pub summation_strength: Option<Param<Tensor<1>>>,
    /// `[N, 1, kernel]`.
    pub soma_weight: Param<Tensor<3>>,
    /// `[N]`, if the soma has a bias.
    pub soma_bias: Option<Param<Tensor<1>>>,
    /// `[N, terminals]`.
    pub axon_weight: Param<Tensor<2>>,
    /// Refractory blocking, per neuron.
    pub dropout: PoissonDropout,
    /// Spike generation.
    pub spikes: PoissonSpikes,
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

    /// Builds N independently initialised neurons as one population.
    ///
    /// Each stacked parameter is drawn at once from the stage's own initialiser with the
    /// per-neuron fan-in and fan-out, so every member is distributed exactly as a
    /// [`NeuronConfig::init`] neuron, without building N neurons and copying them (which also
    /// kept the stacking out of a captured forward's op count).
    pub fn init(&self, device: &Device) -> Population {
        expect_valid(self.validate());
        let (n, c) = (self.neurons, &self.neuron);
        let (syn, den) = (&c.synapses, &c.dendrites);
        let syn_in = if syn.mode == SynapseMode::Dense { syn.inputs } else { 1 };
        let [kp, kd, kt] = den.kernel;
        let taps = kp * kd * kt;
        let (fan_in, fan_out) = (den.channels * taps, den.out_channels * taps);
        let full = |v: f64| Param::from_tensor(Tensor::<1>::full([n], v, device));
        let (log_scale, threshold, strength) = match c.summation.mode {
            SummationMode::Linear => (None, None, None),
            SummationMode::Sublinear { scale } | SummationMode::Superlinear { scale } => {
                (Some(full(scale.ln())), None, None)
            }
            SummationMode::Bistable {
                threshold, strength, ..
            } => (None, Some(full(threshold)), Some(full(strength))),
        };
        let k = c.soma.kernel;
        Population {
            synapse_weight: syn
                .initializer
                .init_with([n, syn.sites, syn_in], Some(syn_in), Some(syn.sites), device),
            dendrite_weight: den.initializer.init_with(
                [n, den.out_channels, den.channels, kp, kd, kt],
                Some(fan_in),
                Some(fan_out),
                device,
            ),
            dendrite_bias: den.bias.then(|| {
                den.initializer
                    .init_with([n, den.out_channels], Some(fan_in), Some(fan_out), device)
            }),
            spike_gain: full(c.spike.gain),
            spike_threshold: full(c.spike.threshold),
            summation_log_scale: log_scale,
            summation_threshold: threshold,
            summation_strength: strength,
            soma_weight: c.soma.initializer.init_with([n, 1, k], Some(k), Some(k), device),
            soma_bias: c
                .soma
                .bias
                .then(|| c.soma.initializer.init_with([n], Some(k), Some(k), device)),
            axon_weight: c
                .axon
                .initializer
                .init_with([n, c.axon.terminals], Some(1), Some(1), device),
            dropout: c.dropout.init(),
            spikes: c.spikes.init(),
            config: c.clone(),
        }
    }
}

/// A new parameter holding a copy of `t`: detached, so it is a leaf of its own on an autodiff
/// device (Burn refuses to make a computed tensor a parameter).
fn leaf<const D: usize>(t: Tensor<D>) -> Param<Tensor<D>> {
    Param::from_tensor(t.detach())
}

fn stack<const D: usize, const D2: usize>(params: impl Iterator<Item = Tensor<D>>) -> Param<Tensor<D2>> {
    leaf(Tensor::stack(params.collect(), 0))
}

fn stack_opt<const D: usize, const D2: usize>(
    params: impl Iterator<Item = Option<Tensor<D>>>,
) -> Option<Param<Tensor<D2>>> {
    params.collect::<Option<Vec<_>>>().map(|v| leaf(Tensor::stack(v, 0)))
}

/// Joins per-neuron parameters along their first axis (`[1]` each → `[N]`).
fn cat<const D: usize>(params: impl Iterator<Item = Tensor<D>>) -> Param<Tensor<D>> {
    leaf(Tensor::cat(params.collect(), 0))
}

fn cat_opt<const D: usize>(params: impl Iterator<Item = Option<Tensor<D>>>) -> Option<Param<Tensor<D>>> {
    params.collect::<Option<Vec<_>>>().map(|v| leaf(Tensor::cat(v, 0)))
}

fn val<const D: usize>(p: &Option<Param<Tensor<D>>>) -> Option<Tensor<D>> {
    p.as_ref().map(|p| p.val())
}

impl Population {
    /// Stacks existing neurons (all built from `config`) into a population.
    ///
    /// # Panics
    ///
    /// If `neurons` is empty.
    pub fn from_neurons(config: &NeuronConfig, neurons: &[Neuron]) -> Self {
        assert!(
            !neurons.is_empty(),
            "Population: from_neurons needs at least one neuron"
        );
        let each = || neurons.iter();
        Population {
            synapse_weight: stack(each().map(|n| n.synapses.weight.val())),
            dendrite_weight: stack(each().map(|n| n.dendrites.weight.val())),
            dendrite_bias: stack_opt(each().map(|n| val(&n.dendrites.bias))),
            spike_gain: cat(each().map(|n| n.spike.gain.val())),
            spike_threshold: cat(each().map(|n| n.spike.threshold.val())),
            summation_log_scale: cat_opt(each().map(|n| val(&n.summation.log_scale))),
            summation_threshold: cat_opt(each().map(|n| val(&n.summation.threshold))),
            summation_strength: cat_opt(each().map(|n| val(&n.summation.strength))),
            soma_weight: cat(each().map(|n| n.soma.weight.val())),
            soma_bias: cat_opt(each().map(|n| val(&n.soma.bias))),
            axon_weight: stack(each().map(|n| n.axon.weight.val())),
            dropout: config.dropout.init(),
            spikes: config.spikes.init(),
            config: config.clone(),
        }
    }

    /// Number of neurons.
    pub fn len(&self) -> usize {
        self.spike_gain.dims()[0]
    }

    /// Always false: a population has at least one neuron.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Neuron `i` as a standalone [`Neuron`] with a copy of its weights.
    pub fn neuron(&self, i: usize) -> Neuron {
        assert!(i < self.len(), "Population: neuron {i} of {}", self.len());
        let one = |t: Tensor<1>| leaf(t.narrow(0, i, 1));
        let mut n = self.config.init(&self.spike_gain.val().device());
        n.synapses.weight = leaf(self.synapse_weight.val().narrow(0, i, 1).squeeze_dim(0));
        n.dendrites.weight = leaf(self.dendrite_weight.val().narrow(0, i, 1).squeeze_dim(0));
        n.dendrites.bias = val(&self.dendrite_bias).map(|b| leaf(b.narrow(0, i, 1).squeeze_dim(0)));
        n.spike.gain = one(self.spike_gain.val());
        n.spike.threshold = one(self.spike_threshold.val());
        n.summation.log_scale = val(&self.summation_log_scale).map(one);
        n.summation.threshold = val(&self.summation_threshold).map(one);
        n.summation.strength = val(&self.summation_strength).map(one);
        n.soma.weight = leaf(self.soma_weight.val().narrow(0, i, 1));
        n.soma.bias = val(&self.soma_bias).map(one);
        n.axon.weight = leaf(self.axon_weight.val().narrow(0, i, 1).squeeze_dim(0));
        n
    }

    fn shape_error(&self, expected: String, got: &[usize]) -> ShapeError {
        ShapeError::new(format!("{} population", self.config.name), expected, got)
    }

    /// All neurons on the same input.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, inputs, time]`
    /// - output: `[batch, neurons, terminals, time]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<4> {
        expect_shape(self.try_forward(x))
    }

    /// [`Population::forward`] returning a wrong input shape as an error naming the cell type.
    pub fn try_forward(&self, x: Tensor<3>) -> Result<Tensor<4>, ShapeError> {
        let [b, i, t] = x.dims();
        let syn = &self.config.synapses;
        if i != syn.inputs {
            return Err(self.shape_error(format!("[batch, {}, time]", syn.inputs), &[b, i, t]));
        }
        let n = self.len();
        let drive = match &syn.mode {
            SynapseMode::Dense => synapses_dense(x, self.synapse_weight.val().reshape([n * syn.sites, i])),
            mode => {
                let sites = site_inputs(x, mode, 1).unsqueeze_dim::<4>(1); // [B, 1, S, T]
                (sites * self.synapse_weight.val().unsqueeze::<4>()).reshape([b, n * syn.sites, t])
            }
        };
        Ok(self.after_synapses(drive))
    }

    /// Each neuron on its own input.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, neurons, inputs, time]`
    /// - output: `[batch, neurons, terminals, time]`
    pub fn forward_each(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, n, i, t] = x.dims();
        let syn = &self.config.synapses;
        if n != self.len() || i != syn.inputs {
            panic!(
                "{}",
                self.shape_error(format!("[batch, {}, {}, time]", self.len(), syn.inputs), &[b, n, i, t])
            );
        }
        let drive = match &syn.mode {
            SynapseMode::Dense => self.synapse_weight.val().unsqueeze::<4>().matmul(x),
            mode => site_inputs(x, mode, 2) * self.synapse_weight.val().unsqueeze::<4>(),
        };
        self.after_synapses(drive.reshape([b, n * syn.sites, t]))
    }

    /// Everything after the synapses, on `[B, N·sites, T]`.
    fn after_synapses(&self, drive: Tensor<3>) -> Tensor<4> {
        let [b, _, t] = drive.dims();
        let (n, c) = (self.len(), &self.config);
        let d = &c.dendrites;
        let co = d.out_channels;
        let per_channel = |p: Tensor<1>| p.unsqueeze_dim::<2>(1).expand([n, co]).reshape([n * co]);
        let [_, _, ci, kp, kd, kt] = self.dendrite_weight.dims();
        let grid = drive.reshape([b, n * d.channels, d.positions, d.dendrites, t]);
        let potential = dendrite_conv(
            grid,
            self.dendrite_weight.val().reshape([n * co, ci, kp, kd, kt]),
            val(&self.dendrite_bias).map(|bias| bias.reshape([n * co])),
            d.algorithm,
        );
        let potential = dendritic_spike(
            potential,
            per_channel(self.spike_gain.val()),
            per_channel(self.spike_threshold.val()),
            c.spike.temperature,
            c.spike.window,
        );
        let rates = dendrite_rates(
            potential.reshape([b * n, co, d.positions, d.dendrites, t]),
            c.summation.rate,
        );
        let u = rates.reshape([b, n, d.dendrites, t]).sum_dim(2).reshape([b, n, t]);
        let p = |o: &Option<Param<Tensor<1>>>| o.as_ref().expect("parameter of this mode").val().reshape([1, n, 1]);
        let summed = match c.summation.mode {
            SummationMode::Linear => u,
            SummationMode::Sublinear { .. } => sublinear(u, p(&self.summation_log_scale)),
            SummationMode::Superlinear { .. } => superlinear(u, p(&self.summation_log_scale)),
            SummationMode::Bistable { width, .. } => {
                bistable(u, p(&self.summation_threshold), p(&self.summation_strength), width)
            }
        };
        let soma = c
            .soma
            .rate
            .apply(causal_filter(summed, self.soma_weight.val(), val(&self.soma_bias)));
        let fired = self.spikes.forward(self.dropout.forward(soma)); // [B, N, T]
        crate::axon::axon(fired, self.axon_weight.val())
    }
}
