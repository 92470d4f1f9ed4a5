//! Scoring a fitted model on held-out trials the way the field does, and counting what it costs
//! per simulated millisecond.

use burn::tensor::{Device, Tensor};
use flop_count::{Convention, capture};
use neuron_nn::DendriteAlgorithm;
use serde::{Deserialize, Serialize};

use crate::data::{CLIP_MV, TrialData, raster_input};
use crate::metrics::{explained_variance, rmse, roc_auc, tpr_at_fpr};
use crate::model::{FitModel, ModelHeader};
use crate::session::FitError;

/// Milliseconds at the start of each trial that metrics skip (the cell settling from rest).
pub const SKIP_MS: usize = 500;

/// A model's outputs on one trial, every ms.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Prediction {
    /// Spike logits.
    pub logit: Vec<f64>,
    /// Somatic voltage, mV (normalisation undone).
    pub voltage: Vec<f64>,
}

/// Held-out metrics.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Spike ROC AUC over all scored 1 ms bins.
    pub auc: f64,
    /// True-positive rate at 1 % false positives.
    pub tpr_at_1pct_fpr: f64,
    /// RMS error of the clipped somatic voltage, mV.
    pub voltage_rmse_mv: f64,
    /// Explained variance of the clipped somatic voltage.
    pub voltage_explained_variance: f64,
    /// Scored bins.
    pub bins: usize,
    /// Spikes among them.
    pub spikes: usize,
}

/// Runs `model` over a whole trial in chunks of `chunk` output ms, each read with the `reach`
/// ms before it: causal, so the result equals one pass over the whole trial (zeros before the
/// trial's start), with bounded memory. A recurrent model (its outputs depend on the whole
/// past) runs in one pass whatever `chunk` says.
pub fn predict(model: &FitModel, header: &ModelHeader, trial: &TrialData, chunk: usize, device: &Device) -> Prediction {
    let reach = header.model.reach();
    let ms = trial.ms();
    let chunk = if header.model.recurrent() { ms.max(1) } else { chunk };
    let mut out = Prediction {
        logit: Vec::with_capacity(ms),
        voltage: Vec::with_capacity(ms),
    };
    let mut start = 0;
    while start < ms {
        let len = chunk.min(ms - start);
        let from = start.saturating_sub(reach);
        let x = raster_input(trial, from, start + len - from, header.input_scale, device);
        let y = model.forward(x).narrow(2, start - from, len);
        let values: Vec<f64> = y.into_data().iter::<f64>().collect();
        out.logit.extend_from_slice(&values[..len]);
        let norm = header.voltage;
        out.voltage
            .extend(values[len..].iter().map(|&v| v * norm.std + norm.mean));
        start += len;
    }
    out
}

/// Scores `model` on `trials` (each laid onto the model by its own placement: the neuron takes
/// any, the baselines refuse another), skipping the first [`SKIP_MS`] of each.
pub fn score(
    model: &FitModel,
    header: &ModelHeader,
    trials: &[TrialData],
    device: &Device,
) -> Result<(Scores, Vec<Prediction>), FitError> {
    let (mut logits, mut labels, mut predicted, mut target) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut predictions = Vec::new();
    for trial in trials {
        let m = model.for_placement(&header.synapses, &trial.synapses)?;
        let p = predict(&m, header, trial, 4096, device);
        let skip = SKIP_MS.min(trial.ms());
        logits.extend_from_slice(&p.logit[skip..]);
        labels.extend(trial.spikes[skip..].iter().map(|&s| s != 0));
        predicted.extend(p.voltage[skip..].iter().map(|v| v.min(CLIP_MV)));
        target.extend(trial.voltage[skip..].iter().map(|v| v.min(CLIP_MV)));
        predictions.push(p);
    }
    let scores = Scores {
        auc: roc_auc(&logits, &labels)?,
        tpr_at_1pct_fpr: tpr_at_fpr(&logits, &labels, 0.01)?,
        voltage_rmse_mv: rmse(&predicted, &target)?,
        voltage_explained_variance: explained_variance(&predicted, &target)?,
        bins: labels.len(),
        spikes: labels.iter().filter(|l| **l).count(),
    };
    Ok((scores, predictions))
}

/// Forward FLOPs per output millisecond as a model streams, under two conventions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlopsPerMs {
    /// Torch's convention: 2 per multiply-add of convolutions and matmuls.
    pub torch: f64,
    /// Every op (`Convention::full()`: element-wise ops, reductions and pooling too).
    pub all_ops: f64,
}

/// The count of a 1000 ms forward pass with the dendrites on the direct path, divided by 1000,
/// captured once and counted under both conventions. Every output ms costs the same, padded taps
/// included, so this is the cost of each new ms of a running model.
pub fn flops_per_ms(model: &FitModel, synapses: usize) -> FlopsPerMs {
    const MS: usize = 1000;
    let model = model.clone().with_algorithm(DendriteAlgorithm::Direct);
    let graph = capture(|cx| {
        let m = cx.model(model);
        let x = cx.input(Tensor::<3>::zeros([1, synapses, MS], cx.device()));
        let _ = m.forward(x);
    })
    .expect("the fitted models run on the capture device");
    let per_ms = |c: &Convention| graph.count(c).forward as f64 / MS as f64;
    FlopsPerMs {
        torch: per_ms(&Convention::torch()),
        all_ops: per_ms(&Convention::full()),
    }
}
