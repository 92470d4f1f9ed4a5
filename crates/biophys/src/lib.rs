//! # biophys: a compartmental neuron simulator with NEURON's numerics
//!
//! The ground truth the library's convnet neurons are fitted to. Pure Rust, `f64` throughout,
//! no Burn. It follows NEURON's discretisation and default fixed-step method so its results can
//! be checked against NEURON itself (`scripts/neuron_compare.py`, numbers in docs/biophys.md):
//!
//! - cable trees as NEURON lays them out: a node per segment centre, children attached through
//!   half-segment axial resistances, zero-area sealed ends ([`tree`]);
//! - membrane mechanisms one file each, `pas` and `hh` exactly as NEURON's built-ins, `hh`'s
//!   lookup table included ([`mechanisms`]);
//! - `Exp2Syn` conductances with NEURON's peak normalisation, and NMDA with a Jahr–Stevens
//!   magnesium block ([`cell::Receptor`], [`receptors`]);
//! - backward Euler with an O(N) Hines solve, in NEURON's order within a step ([`simulate`]);
//! - synaptic sites ([`synapse`]), inputs as binary rasters in 1 ms bins and a NeuronIO-style
//!   generator ([`stimulus`]);
//! - trials as NumPy `.npz` files ([`npz`]), cells as JSON or SWC ([`swc`]).
//!
//! Units: µm, mV, ms, nA, µS, nF (specific values as NEURON: Ω·cm, µF/cm², S/cm²).
//!
//! ```
//! use biophys::{CellConfig, SimConfig, Simulator, Synapses};
//!
//! let cell = CellConfig::bs4(); // ball and four sticks, AMPA + NMDA
//! let synapses = Synapses::place(&cell); // 200 excitatory, 50 inhibitory sites
//! let raster = cell.input_raster(&synapses, 1000, 7)?; // 1 s of input, seed 7
//! let out = Simulator::new(&cell, &synapses, &SimConfig::default())?.run(&raster)?;
//! assert_eq!(out.v_soma_1ms.len(), 1000);
//! assert_eq!(out.y_spike.iter().map(|&y| y as usize).sum::<usize>(), out.spike_times_ms.len());
//! # Ok::<(), biophys::BiophysError>(())
//! ```

pub mod asc;
pub mod cell;
pub mod contour;
pub mod error;
pub mod fast_exp;
pub mod l5pc;
pub mod mechanisms;
#[cfg(test)]
mod mutation;
pub mod neuronio_inputs;
pub mod npz;
pub mod presets;
pub mod pt3d;
pub mod receptors;
mod simd;
pub mod simulate;
pub mod stimulus;
pub mod swc;
pub mod synapse;
pub mod tree;

pub use cell::{CellConfig, Inputs, MgBlock, Placement, Receptor, Release, Section};
pub use error::{BiophysError, Result};
pub use mechanisms::{Mechanism, hh};
pub use npz::Trial;
pub use presets::{PRESETS, preset};
pub use simulate::{CurrentClamp, EpspCurrent, Output, SimConfig, Simulator};
pub use stimulus::{InputConfig, Raster, generate};
pub use synapse::{Branch, SectionKind, SectionName, Site, SynapseType, Synapses};
