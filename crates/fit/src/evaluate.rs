//! Scoring a fitted model on held-out trials the way the field does, and counting what it costs
//! per simulated millisecond.

use burn::tensor::{Device, Tensor};
use flop_count::{Convention, capture};
use neuron_nn::DendriteAlgorithm;
use serde::{Deserialize, Serialize};

use crate::data::{CLIP_MV, TrialData, raster_input};
use crate::metrics::{MetricError, explained_variance, mae, rmse, roc_auc, roc_curve, tpr_at_fpr};
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
    /// The same predictions under NeuronIO's own evaluation code ([`NeuronIoScores`]): a
    /// different protocol, never mixed with the numbers above. `None` in reports written before
    /// it existed.
    #[serde(default)]
    pub neuronio: Option<NeuronIoScores>,
}

/// NeuronIO's evaluation as its code does it (`evaluate_CNN_test.py` in
/// `github:SelfishGene/neuron_as_deep_net`, kept unchanged by the ELM neuron's
/// `neuronio_eval_utils.py`), the row it marks as its result:
///
/// - target voltage clipped at −55 mV; the **predicted voltage z-scored and rescaled to the
///   target's mean and standard deviation** over every trial and ms (both codes do this; the
///   ELM code notes it "should probably not be done"), and not clipped;
/// - trials kept when their spike count, over the whole trial, is within
///   [`NeuronIoScores::MAX_SPIKES`] per 6 s (NeuronIO's trials are 6 s; longer trials scale it);
/// - the first [`SKIP_MS`] of each kept trial dropped;
/// - spike AUC by scikit-learn's `roc_curve` and `auc`, "TP @ FP" at 0.25 % and 1 % as the
///   curve's point nearest that false-positive rate ([`crate::metrics::RocCurve::tpr_nearest`]),
///   voltage RMSE, MAE and explained variance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NeuronIoScores {
    /// Spike ROC AUC.
    pub auc: f64,
    /// "TP @ 0.0025 FP".
    pub tpr_at_0_25pct_fpr: f64,
    /// "TP @ 0.0100 FP".
    pub tpr_at_1pct_fpr: f64,
    /// "AUC @ 0.0100 FP": the mean true-positive rate below 1 % false positives.
    pub mean_tpr_below_1pct_fpr: f64,
    /// Voltage RMSE of the rescaled prediction, mV.
    pub voltage_rmse_mv: f64,
    /// Its mean absolute error, mV.
    pub voltage_mae_mv: f64,
    /// Its explained variance (a fraction; NeuronIO prints it in percent).
    pub voltage_explained_variance: f64,
    /// Trials scored, of `trials`.
    pub trials_kept: usize,
    /// Trials given.
    pub trials: usize,
}

impl NeuronIoScores {
    /// The kept trials' largest spike count per 6 s (`num_spikes_per_sim = [0, 24]`).
    pub const MAX_SPIKES: usize = 24;

    /// Scores `predictions` of `trials` (one each, every ms) by the protocol above; `None` when
    /// the rule keeps no trial (a cell firing faster than 4 Hz, like `bs4`).
    pub fn of(trials: &[TrialData], predictions: &[Prediction]) -> Result<Option<Self>, MetricError> {
        if trials.len() != predictions.len() {
            return Err(MetricError::Length {
                what: "neuronio: trials and predictions",
                a: trials.len(),
                b: predictions.len(),
            });
        }
        // The rescaling's moments: every trial and every ms, before any filtering.
        let moments = |v: &mut dyn Iterator<Item = f64>| {
            let (mut n, mut sum, mut sq) = (0.0, 0.0, 0.0);
            for x in v {
                n += 1.0;
                sum += x;
                sq += x * x;
            }
            let mean = sum / n;
            (mean, (sq / n - mean * mean).max(0.0).sqrt())
        };
        let (m_dst, s_dst) = moments(&mut trials.iter().flat_map(|t| t.voltage.iter().map(|v| v.min(CLIP_MV))));
        let (m_src, s_src) = moments(&mut predictions.iter().flat_map(|p| p.voltage.iter().copied()));
        let rescale = |v: f64| {
            if s_src > 0.0 {
                (v - m_src) / s_src * s_dst + m_dst
            } else {
                m_dst
            }
        };
        let (mut logits, mut labels, mut predicted, mut target) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut kept = 0;
        for (t, p) in trials.iter().zip(predictions) {
            if t.spikes.len() != p.logit.len() || p.voltage.len() != p.logit.len() {
                return Err(MetricError::Length {
                    what: "neuronio: a trial's ms against its prediction's",
                    a: t.spikes.len(),
                    b: p.logit.len(),
                });
            }
            let allowed = Self::MAX_SPIKES as f64 * (t.ms() as f64 / 6000.0).max(1.0);
            if t.spikes.iter().filter(|s| **s != 0).count() as f64 > allowed {
                continue;
            }
            kept += 1;
            let skip = SKIP_MS.min(t.ms());
            logits.extend_from_slice(&p.logit[skip..]);
            labels.extend(t.spikes[skip..].iter().map(|&s| s != 0));
            predicted.extend(p.voltage[skip..].iter().map(|&v| rescale(v)));
            target.extend(t.voltage[skip..].iter().map(|v| v.min(CLIP_MV)));
        }
        if kept == 0 {
            return Ok(None);
        }
        let roc = roc_curve(&logits, &labels)?;
        Ok(Some(Self {
            auc: roc.area(),
            tpr_at_0_25pct_fpr: roc.tpr_nearest(0.0025),
            tpr_at_1pct_fpr: roc.tpr_nearest(0.01),
            mean_tpr_below_1pct_fpr: roc.mean_tpr_below(0.01),
            voltage_rmse_mv: rmse(&predicted, &target)?,
            voltage_mae_mv: mae(&predicted, &target)?,
            voltage_explained_variance: explained_variance(&predicted, &target)?,
            trials_kept: kept,
            trials: trials.len(),
        }))
    }
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
        neuronio: NeuronIoScores::of(trials, &predictions)?,
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
