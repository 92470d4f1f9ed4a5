//! # neuron-nn: a biological neuron is a convolutional network
//!
//! Burn 0.22 modules for each stage of the extended linear-nonlinear-Poisson neuron of Tim
//! Dettmers, "The Brain vs Deep Learning Part I" (2015), Part II. In the essay's order:
//!
//! | stage | biology | deep learning | module |
//! |---|---|---|---|
//! | synapses | transmitter × receptors | matrix product | [`Synapses`] |
//! | dendrites | charge diffusing along branches | causal spatio-temporal conv | [`Dendrites`] |
//! | dendritic spike | voltage-gated amplification of neighbours | max-pool-like blend | [`DendriticSpike`] |
//! | summation | rates per dendrite, summed by cell type | activation function | [`Summation`] |
//! | soma | temporal filter of the cell body (optionally fed back its own spikes: after-spike currents) | 1×1×5 causal conv (+ a recurrent history term) | [`Soma`] |
//! | (beyond the essay) the soma's slow state | state variables relaxing with their own time constants | leaky memory units updated by an MLP (ELM) | [`MemorySoma`] |
//! | refractory blocking | firing blocked k ~ Poisson(λ) cycles | Poisson dropout | [`PoissonDropout`] |
//! | spike generator | the "P" of LNP | stochastic, straight-through | [`PoissonSpikes`] |
//! | axon | attenuation to each terminal | per-output weights | [`Axon`] |
//!
//! Tensors are `[batch, inputs, time]`; no stage reads data back to the host, so every module
//! runs on Burn's capture device (for the FLOP counter) and on GPUs without syncs.
//!
//! Every stage is a layer of `neurons` cells (default 1), like a convolution's `groups`: its
//! parameters have a leading neuron axis and its tensors are neuron-major along the channel
//! axis. [`Population`] composes the stages for N cells of one type; a [`Neuron`] is the same
//! code with N = 1.
//!
//! ```
//! use burn::tensor::{Device, Tensor, Distribution};
//! use neuron_nn::{DendritesConfig, SynapsesConfig};
//!
//! let device = Device::flex();
//! // The essay's granule dendrite: 4 positions × 4 dendrites, a 3×4×5 kernel.
//! let synapses = SynapsesConfig::new(4, 16).init(&device);
//! let dendrites = DendritesConfig::new(4, 4, [3, 4, 5]).init(&device);
//! let x = Tensor::<3>::random([2, 4, 5], Distribution::Default, &device);
//! let v = dendrites.forward(synapses.forward(x));
//! assert_eq!(v.dims(), [2, 1, 4, 4, 5]);
//! ```

pub mod axon;
pub mod backend_kind;
pub mod dendrites;
pub mod dendritic_spike;
pub mod error;
pub mod memory_soma;
pub mod neuron;
pub mod poisson_dropout;
pub mod poisson_spikes;
pub mod population;
pub mod rate;
pub mod save;
pub mod scope;
pub mod soma;
pub mod summation;
pub mod synapses;

pub use axon::{Axon, AxonConfig};
pub use backend_kind::BackendKind;
pub use dendrites::{DendriteAlgorithm, DendritePlan, Dendrites, DendritesConfig, PlanCosts};
pub use dendritic_spike::{DendriticSpike, DendriticSpikeConfig};
pub use error::{ConfigError, ShapeError};
pub use memory_soma::{MemoryRecurrence, MemorySoma, MemorySomaConfig};
pub use neuron::NeuronConfig;
pub use poisson_dropout::{DropoutScope, PoissonDropout, PoissonDropoutConfig};
pub use poisson_spikes::{PoissonSpikes, PoissonSpikesConfig};
pub use population::{Neuron, Population, PopulationConfig, join_neurons, select_neurons};
pub use rate::RateFunction;
pub use save::{
    LoadError, load_module, load_parts, load_with_config, save_module, save_parts, save_with_config, try_load_parts,
    try_load_with_config,
};
pub use soma::{Soma, SomaConfig};
pub use summation::{Summation, SummationConfig, SummationMode};
pub use synapses::{SynapseMode, Synapses, SynapsesConfig};
