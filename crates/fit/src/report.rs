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
    /// Scores on the validation trials, on which every choice is made (`None` in reports
    /// written before they existed, or without validation trials).
    #[serde(default)]
    pub validation: Option<Scores>,
    /// Scores on the test trials; `None` when the run scored the validation trials only
    /// (`SweepConfig::score_test` off, while choices are being made).
    #[serde(default)]
    pub scores: Option<Scores>,
}

impl FitResult {
    /// The scores a comparison plots: the test trials', or the validation trials' in a run
    /// that did not score the test set.
    pub fn headline(&self) -> Option<&Scores> {
        self.scores.as_ref().or(self.validation.as_ref())
    }

    /// `cell | family | size`, a table row's first cells.
    fn label(&self) -> String {
        format!("{} | {} | {}", self.cell, self.family.title(), self.size)
    }
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
            "| cell | family | size | params | FLOPs/ms | all ops/ms | valid AUC | valid EV | AUC | TPR@1%FPR | V RMSE (mV) | V expl. var. | train s |\n\
             |---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for r in &self.results {
            let (valid_auc, valid_ev) = r.validation.map_or(("—".into(), "—".into()), |v| {
                (
                    format!("{:.4}", v.auc),
                    format!("{:.1} %", 100.0 * v.voltage_explained_variance),
                )
            });
            let test = r.scores.map_or_else(
                || "not scored | — | — | —".to_string(),
                |t| {
                    format!(
                        "{:.4} | {:.3} | {:.2} | {:.1} %",
                        t.auc,
                        t.tpr_at_1pct_fpr,
                        t.voltage_rmse_mv,
                        100.0 * t.voltage_explained_variance
                    )
                },
            );
            s += &format!(
                "| {} | {} | {:.3e} | {:.3e} | {valid_auc} | {valid_ev} | {test} | {:.0} |\n",
                r.label(),
                r.params,
                r.flops_per_ms,
                r.all_ops_flops_per_ms,
                r.train_seconds
            );
        }
        let neuronio: Vec<_> = self
            .results
            .iter()
            .filter_map(|r| Some((r, r.scores?.neuronio?)))
            .collect();
        if !neuronio.is_empty() {
            s += "\nTest trials by NeuronIO's evaluation code (prediction rescaled to the target's moments; trials with ≤ 24 spikes per 6 s):\n\n\
                  | cell | family | size | trials | AUC | TP@0.25%FP | TP@1%FP | V RMSE (mV) | V expl. var. |\n\
                  |---|---|---|---:|---:|---:|---:|---:|---:|\n";
            for (r, n) in neuronio {
                s += &format!(
                    "| {} | {}/{} | {:.4} | {:.3} | {:.3} | {:.2} | {:.1} % |\n",
                    r.label(),
                    n.trials_kept,
                    n.trials,
                    n.auc,
                    n.tpr_at_0_25pct_fpr,
                    n.tpr_at_1pct_fpr,
                    n.voltage_rmse_mv,
                    100.0 * n.voltage_explained_variance
                );
            }
        }
        for (cell, f) in &self.simulator_flops_per_ms {
            s += &format!("\nSimulator ({cell}): {f:.3e} FLOPs per simulated ms (from its loops).\n");
        }
        s
    }
}
