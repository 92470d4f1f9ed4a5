//! What a fit run reports: each fitted model's numbers and the simulator's own cost.

use neuron_nn::DendriteAlgorithm;
use serde::{Deserialize, Serialize};

use crate::evaluate::Scores;
use crate::model::{Family, ModelConfig};
use crate::sizes::Size;

/// One fitted model's numbers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FitResult {
    /// The cell (e.g. `bs4`, `bs4-ampa`).
    pub cell: String,
    /// The family.
    pub family: Family,
    /// The size.
    pub size: Size,
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
    /// The path each dendrite stage took in training (empty for the baselines): a repeated
    /// run names them to repeat the numbers on another machine.
    #[serde(default)]
    pub dendrite_paths: Vec<DendriteAlgorithm>,
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
