//! The sizes each family is fitted at, and the report of a sweep.

use serde::{Deserialize, Serialize};

use super::baselines::{LinearNonlinearConfig, TcnConfig};
use super::evaluate::Scores;
use super::model::{Family, ModelConfig};
use super::neuron_net::{DendriteStageConfig, NeuronNetConfig, SomaMemory};

/// Time constants (ms) of the `+h` sizes' after-spike currents: a fast refractory one, the
/// after-hyperpolarisation, a slow adaptation.
pub const AFTER_SPIKE_TAUS: [f64; 3] = [3.0, 10.0, 40.0];

/// A named size of a family.
#[derive(Debug, Clone, PartialEq)]
pub struct Size {
    /// Short label, unique within the family (file names, plot labels).
    pub label: String,
    /// The model.
    pub model: ModelConfig,
}

/// The sizes of `family` for a cell with `synapses` raster rows and `branches` dendrites,
/// smallest first. The default run fits the one [`default_size`] names.
pub fn sizes(family: Family, synapses: usize, branches: usize) -> Vec<Size> {
    let size = |label: &str, model| Size {
        label: label.into(),
        model,
    };
    let stage = DendriteStageConfig::new;
    let neuron = |stages: Vec<DendriteStageConfig>, receptors: usize| {
        ModelConfig::Neuron(
            NeuronNetConfig::new(branches)
                .with_stages(stages)
                .with_receptors((receptors > 1).then_some(receptors)),
        )
    };
    let memory_soma = |units, hidden| {
        ModelConfig::Neuron(
            NeuronNetConfig::new(branches)
                .with_stages(vec![stage(4, 16, 4), stage(4, 8, 1)])
                .with_soma_memory(Some(SomaMemory::new(units, hidden))),
        )
    };
    match family {
        Family::Neuron => vec![
            size("1", neuron(vec![stage(1, 16, 4)], 1)),
            size("4-1", neuron(vec![stage(4, 16, 4), stage(1, 8, 1)], 1)),
            size(
                "8-8-1",
                neuron(vec![stage(8, 16, 4), stage(8, 8, 2), stage(1, 8, 1)], 1),
            ),
            // Several receptor types per grid site (`+rN`): N drives per site and synapse type,
            // each with its own gain, before the first dendrite stage.
            size("4-1+r4", neuron(vec![stage(4, 16, 4), stage(1, 8, 1)], 4)),
            size(
                "8-8-1+r8",
                neuron(vec![stage(8, 16, 4), stage(8, 8, 2), stage(1, 8, 1)], 8),
            ),
            // The last stage's kernel spanning every grid column (`+x`: the branches and the
            // soma), so branches interact non-linearly before the summation.
            size(
                "4-1+x",
                neuron(
                    vec![
                        stage(4, 16, 4),
                        stage(1, 8, 1).with_kernel_dendrites(Some(branches + 1)),
                    ],
                    1,
                ),
            ),
            // A soma with after-spike currents (`+h`, 3, 10 and 40 ms): it feeds its own
            // expected spikes back, so it knows when it has just fired.
            size(
                "4-1+h",
                ModelConfig::Neuron(
                    NeuronNetConfig::new(branches)
                        .with_stages(vec![stage(4, 16, 4), stage(1, 8, 1)])
                        .with_soma_after_spike_taus(Some(AFTER_SPIKE_TAUS.to_vec())),
                ),
            ),
            // A soma with leaky memory units that an MLP updates (`+m`: 20 units, MLP 32;
            // `+m40`: 40 and 64; `+m80`: 80 and 128), reading 4 maps of every dendrite's rate.
            size("4-4+m", memory_soma(20, 32)),
            size("4-4+m40", memory_soma(40, 64)),
            size("4-4+m80", memory_soma(80, 128)),
        ],
        Family::Tcn => [(2, 8), (3, 32), (5, 64)]
            .into_iter()
            .map(|(layers, width)| {
                size(
                    &format!("{layers}x{width}"),
                    ModelConfig::Tcn(TcnConfig::new(synapses, width, layers)),
                )
            })
            .collect(),
        Family::Ln => [20, 40, 80]
            .into_iter()
            .map(|k| {
                size(
                    &format!("k{k}"),
                    ModelConfig::Ln(LinearNonlinearConfig::new(synapses).with_kernel(k)),
                )
            })
            .collect(),
    }
}

/// The label of the size the default run fits.
pub fn default_size(family: Family) -> &'static str {
    match family {
        Family::Neuron => "4-1",
        Family::Tcn => "3x32",
        Family::Ln => "k80",
    }
}

/// One fitted model's numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitResult {
    /// The cell (e.g. `bs4`, `bs4-ampa`).
    pub cell: String,
    /// The family.
    pub family: Family,
    /// The size's label.
    pub size: String,
    /// The model config.
    pub model: ModelConfig,
    /// Trainable parameters.
    pub params: usize,
    /// Forward FLOPs per simulated ms (torch's convention, streaming).
    pub flops_per_ms: f64,
    /// The same with every op counted (`Convention::full()`: element-wise ops, reductions),
    /// the convention the simulator's own count follows.
    pub all_ops_flops_per_ms: f64,
    /// Milliseconds of input each output depends on.
    pub reach_ms: usize,
    /// Adam steps.
    pub steps: u64,
    /// Wall seconds of training steps, over every resumed part of the run.
    pub train_seconds: f64,
    /// Held-out scores.
    pub scores: Scores,
}

/// A run's report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitReport {
    /// Every fitted model.
    pub results: Vec<FitResult>,
    /// The simulator's own cost per simulated ms, per cell (derived from its loops).
    pub simulator_flops_per_ms: Vec<(String, f64)>,
    /// Training and held-out seeds, trial length.
    pub data: String,
    /// The backend.
    pub device: String,
}

impl FitReport {
    /// A markdown table of the results.
    pub fn to_table(&self) -> String {
        let mut s = String::from(
            "| cell | family | size | params | FLOPs/ms | all ops/ms | AUC | TPR@1%FPR | V RMSE (mV) | V expl. var. | train s |\n\
             |---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for r in &self.results {
            s += &format!(
                "| {} | {} | {} | {} | {:.3e} | {:.3e} | {:.4} | {:.3} | {:.2} | {:.1} % | {:.0} |\n",
                r.cell,
                r.family.title(),
                r.size,
                r.params,
                r.flops_per_ms,
                r.all_ops_flops_per_ms,
                r.scores.auc,
                r.scores.tpr_at_1pct_fpr,
                r.scores.voltage_rmse_mv,
                100.0 * r.scores.voltage_explained_variance,
                r.train_seconds
            );
        }
        for (cell, f) in &self.simulator_flops_per_ms {
            s += &format!("\nSimulator ({cell}): {f:.3e} FLOPs per simulated ms (from its loops).\n");
        }
        s
    }
}
