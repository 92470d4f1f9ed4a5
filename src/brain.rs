//! The essay's brain estimate, rebuilt from the counted preset modules.
//!
//! Per cell type: FLOPs per window are *counted* (flop-count, torch convention) on the
//! `NeuronConfig` preset over one window of time steps, then × windows per second × cell count.
//! Two conventions side by side (docs/brain-estimate.md has the derivation):
//! - **per-cell**: every cell runs its whole module;
//! - **essay**: every input synapse is charged the Purkinje cell's per-synapse cost (its counted
//!   dendrite-stage forward ÷ its synapses × windows per second), which reproduces the essay's
//!   1.075e21 FLOP/s. This is a reconstruction: the essay's own arithmetic is an image.

use burn::tensor::Tensor;
use flop_count::{Convention, capture};
use neuron_nn::{DendriteAlgorithm, NeuronConfig};
use serde::Serialize;

/// One cell type in the census.
#[derive(Debug, Clone, Serialize)]
pub struct CellType {
    /// Name (`granule`, `purkinje`).
    pub cell: String,
    /// Cells in a human brain.
    pub count: f64,
    /// Input synapses per cell (the essay's figure, kept apart from the preset's site count).
    pub synapses: f64,
    /// Windows processed per second (the essay: 200, its firing rate).
    pub windows_per_s: f64,
    /// Time steps per window (the essay: 5).
    pub time_steps: usize,
    /// The cell's module.
    #[serde(skip)]
    pub config: NeuronConfig,
}

/// The census the estimate runs over.
#[derive(Debug, Clone, Serialize)]
pub struct Census {
    /// Cell types.
    pub cells: Vec<CellType>,
    /// Index in `cells` of the cell whose dendrite cost per synapse the essay charges every
    /// synapse (the Purkinje cell).
    pub reference: usize,
    /// How every cell's dendrites compute their convolution: `Direct` (the essay's assumption:
    /// every output multiplies the whole kernel) or `Fft` (the same linear, shift-invariant
    /// operator through the Fourier transform). Counted from the modules on that path (`Auto`
    /// counts the path flex would take for each cell).
    pub dendrite_algorithm: DendriteAlgorithm,
}

/// A rejected assumption.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("brain estimate: {what} must be {expected}, got {value}")]
pub struct AssumptionError {
    /// Which assumption.
    pub what: String,
    /// The valid range.
    pub expected: &'static str,
    /// The value given.
    pub value: f64,
}

impl Census {
    /// The essay's numbers: 5e10 granule cells with 15 synapses and 1e8 Purkinje cells with 1e5,
    /// 5 time steps per window, 200 windows per second.
    pub fn essay() -> Self {
        let cell = |cell: &str, count, synapses, config| CellType {
            cell: cell.into(),
            count,
            synapses,
            windows_per_s: 200.0,
            time_steps: 5,
            config,
        };
        Self {
            cells: vec![
                cell("granule", 5e10, 15.0, NeuronConfig::granule()),
                cell("purkinje", 1e8, 1e5, NeuronConfig::purkinje()),
            ],
            reference: 1,
            dendrite_algorithm: DendriteAlgorithm::Direct,
        }
    }

    /// The cell type named `name`.
    pub fn cell_mut(&mut self, name: &str) -> Option<&mut CellType> {
        self.cells.iter_mut().find(|c| c.cell == name)
    }

    /// Checks every assumption: counts and synapses ≥ 0, rates > 0, all finite, time steps ≥ 1.
    pub fn validate(&self) -> Result<(), AssumptionError> {
        if self.reference >= self.cells.len() {
            return Err(AssumptionError {
                what: "the reference cell's index".into(),
                expected: "an index into the census",
                value: self.reference as f64,
            });
        }
        for c in &self.cells {
            let check = |field: &str, v: f64, positive: bool| {
                let ok = v.is_finite() && if positive { v > 0.0 } else { v >= 0.0 };
                ok.then_some(()).ok_or_else(|| AssumptionError {
                    what: format!("{} {field}", c.cell),
                    expected: if positive {
                        "a finite number > 0"
                    } else {
                        "a finite number ≥ 0"
                    },
                    value: v,
                })
            };
            check("count", c.count, false)?;
            check("synapses", c.synapses, false)?;
            check("windows per second", c.windows_per_s, true)?;
            check("time steps", c.time_steps as f64, true)?;
        }
        Ok(())
    }
}

/// Counted cost of one window of one cell.
#[derive(Debug, Clone, Serialize)]
pub struct CellRow {
    /// Cell type.
    pub cell: String,
    /// Cells in the brain.
    pub count: f64,
    /// Windows per second.
    pub windows_per_s: f64,
    /// Counted forward FLOPs of one window of the whole cell.
    pub flops_per_window: u128,
    /// Counted forward FLOPs of its dendrite stage alone.
    pub dendrite_flops_per_window: u128,
    /// Counted bytes moved per window.
    pub bytes_per_window: u128,
    /// `flops_per_window × windows_per_s × count`.
    pub flops_per_s: f64,
}

/// What one window of one cell costs, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct WindowCount {
    /// Forward FLOPs of the whole cell.
    pub flops: u128,
    /// Forward FLOPs of its dendrite stage alone (counted on that module by itself).
    pub dendrite_flops: u128,
    /// Bytes the whole cell's forward reads and writes.
    pub bytes: u128,
}

/// Counts one window of `cell` (batch 1) with its dendrites on `algorithm`: the whole cell, and
/// its dendrite stage captured on its own with the same input.
pub fn count_window(cell: &CellType, algorithm: DendriteAlgorithm) -> WindowCount {
    let steps = cell.time_steps;
    let mut config = cell.config.clone();
    config.dendrites.algorithm = algorithm;
    let count =
        |f: &dyn Fn(&mut flop_count::Capture)| capture(f).expect("the presets capture").count(&Convention::torch());
    let whole = count(&|cx| {
        let device = cx.device().clone();
        let neuron = config.init(&device);
        cx.params(&neuron);
        let x = cx.input(Tensor::<3>::zeros([1, config.synapses.inputs, steps], &device));
        let _ = neuron.forward(x);
    });
    let dendrites = count(&|cx| {
        let device = cx.device().clone();
        let dendrites = config.dendrites.init(&device);
        cx.params(&dendrites);
        let x = cx.input(Tensor::<3>::zeros([1, config.dendrites.sites(), steps], &device));
        let _ = dendrites.forward(x);
    });
    WindowCount {
        flops: whole.forward,
        dendrite_flops: dendrites.forward,
        bytes: whole.bytes,
    }
}

/// How many accelerators the per-cell estimate needs.
#[derive(Debug, Clone, Serialize)]
pub struct AcceleratorNeed {
    /// The accelerator.
    pub name: &'static str,
    /// Needed at its peak FLOP rate.
    pub by_flops: f64,
    /// Needed at its memory bandwidth.
    pub by_bandwidth: f64,
}

/// An accelerator to size the estimate against (published peak figures).
#[derive(Debug, Clone, Serialize)]
pub struct Accelerator {
    /// Name.
    pub name: &'static str,
    /// Peak FLOP/s at the precision named.
    pub peak_flops: f64,
    /// Precision of that peak.
    pub precision: &'static str,
    /// Memory bandwidth, bytes/s.
    pub memory_bandwidth: f64,
}

/// Accelerators to compare with (extend freely).
pub const ACCELERATORS: &[Accelerator] = &[Accelerator {
    name: "NVIDIA H100 SXM",
    peak_flops: 67e12,
    precision: "fp32 (non-tensor-core)",
    memory_bandwidth: 3.35e12,
}];

/// The essay's starting point: 0.58e15 FLOPS for real applications on the fastest machine, 2015.
pub const HPC_FLOPS_2015: f64 = 0.58e15;

/// One projection row.
#[derive(Debug, Clone, Serialize)]
pub struct Projection {
    /// Years per doubling.
    pub doubling_years: f64,
    /// Doublings needed: ⌈log₂(estimate ÷ 0.58e15)⌉.
    pub doublings: u32,
    /// 2015 + doublings × period, rounded to nearest.
    pub year: i64,
}

/// The year a machine of `estimate` FLOP/s arrives at one doubling per `period` years.
pub fn projection(estimate: f64, period: f64) -> Projection {
    let doublings = (estimate / HPC_FLOPS_2015).log2().ceil().max(0.0) as u32;
    Projection {
        doubling_years: period,
        doublings,
        year: (2015.0 + doublings as f64 * period).round() as i64,
    }
}

/// The whole estimate.
#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    /// Per cell type.
    pub by_cell: Vec<CellRow>,
    /// Per-cell convention: Σ flops_per_s.
    pub total_flops_per_s: f64,
    /// Essay convention: Purkinje dendrite ÷ synapses × windows/s, times every synapse.
    pub essay_total_flops_per_s: f64,
    /// The essay convention's cost of one synapse, FLOP/s.
    pub essay_flops_per_synapse_s: f64,
    /// Kurzweil-style: 1e13 synapses × 200 Hz, one operation each.
    pub kurzweil_flops_per_s: f64,
    /// Bytes per second moved (per-cell convention, counted bytes; views as copies).
    pub bytes_per_s: f64,
    /// Projections of the essay-convention total.
    pub projection: Vec<Projection>,
    /// The doubling period the essay's "Moore's law" year 2037 implies.
    pub period_for_2037: f64,
    /// Accelerators needed at peak FLOP rate and at memory bandwidth (per-cell convention).
    pub accelerators: Vec<AcceleratorNeed>,
}

/// Runs the estimate over `census`, projecting with the doubling periods given.
pub fn estimate(census: &Census, periods: &[f64]) -> Result<Estimate, AssumptionError> {
    census.validate()?;
    let mut by_cell = Vec::new();
    let mut per_synapse = 0.0;
    for (i, c) in census.cells.iter().enumerate() {
        let w = count_window(c, census.dendrite_algorithm);
        if i == census.reference && c.synapses > 0.0 {
            per_synapse = w.dendrite_flops as f64 / c.synapses * c.windows_per_s;
        }
        by_cell.push(CellRow {
            cell: c.cell.clone(),
            count: c.count,
            windows_per_s: c.windows_per_s,
            flops_per_window: w.flops,
            dendrite_flops_per_window: w.dendrite_flops,
            bytes_per_window: w.bytes,
            flops_per_s: w.flops as f64 * c.windows_per_s * c.count,
        });
    }
    let synapses: f64 = census.cells.iter().map(|c| c.synapses * c.count).sum();
    let essay_total = per_synapse * synapses;
    let total: f64 = by_cell.iter().map(|r| r.flops_per_s).sum();
    let bytes_per_s: f64 = by_cell
        .iter()
        .zip(&census.cells)
        .map(|(r, c)| r.bytes_per_window as f64 * c.windows_per_s * c.count)
        .sum();
    let doublings = projection(essay_total, 1.0).doublings as f64;
    Ok(Estimate {
        by_cell,
        total_flops_per_s: total,
        essay_total_flops_per_s: essay_total,
        essay_flops_per_synapse_s: per_synapse,
        kurzweil_flops_per_s: 1e13 * 200.0,
        bytes_per_s,
        projection: periods.iter().map(|&p| projection(essay_total, p)).collect(),
        period_for_2037: (2037.0 - 2015.0) / doublings,
        accelerators: ACCELERATORS
            .iter()
            .map(|a| AcceleratorNeed {
                name: a.name,
                by_flops: total / a.peak_flops,
                by_bandwidth: bytes_per_s / a.memory_bandwidth,
            })
            .collect(),
    })
}
