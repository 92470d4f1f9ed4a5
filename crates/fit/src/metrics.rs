//! How the field scores a fitted neuron (Beniaguev, Segev & London 2021; the ELM neuron 2024):
//! spike prediction by ROC AUC over all 1 ms bins and the true-positive rate at 1 % false
//! positives; somatic voltage (clipped at −55 mV) by RMS error and explained variance.

/// Why a metric cannot be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricError {
    /// Scores and labels (or predictions and targets) differ in length.
    #[error("metrics: {what}: {a} values against {b}")]
    Length {
        /// Which metric.
        what: &'static str,
        /// First length.
        a: usize,
        /// Second length.
        b: usize,
    },
    /// A ROC curve needs both classes.
    #[error("metrics: ROC needs spikes and non-spikes; these {n} bins have only {class}")]
    OneClass {
        /// Bins given.
        n: usize,
        /// The class present.
        class: &'static str,
    },
    /// A score or value is NaN.
    #[error("metrics: {what}: value {index} is NaN")]
    NotANumber {
        /// Which metric.
        what: &'static str,
        /// Where.
        index: usize,
    },
}

fn same_length(what: &'static str, a: usize, b: usize) -> Result<(), MetricError> {
    if a == b {
        Ok(())
    } else {
        Err(MetricError::Length { what, a, b })
    }
}

fn no_nan(what: &'static str, v: &[f64]) -> Result<(), MetricError> {
    match v.iter().position(|x| x.is_nan()) {
        Some(index) => Err(MetricError::NotANumber { what, index }),
        None => Ok(()),
    }
}

/// Area under the ROC curve: the probability that a random positive bin scores above a random
/// negative one, ties counting one half (the Mann–Whitney U statistic; the trapezoidal area of
/// [`roc_curve`], which is how scikit-learn computes it).
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Result<f64, MetricError> {
    Ok(roc_curve(scores, labels)?.area())
}

/// The fraction of positive bins scoring above the threshold that lets through `fpr` of the
/// negative ones (at most: the threshold is the negatives' score at that quantile).
pub fn tpr_at_fpr(scores: &[f64], labels: &[bool], fpr: f64) -> Result<f64, MetricError> {
    same_length("tpr_at_fpr", scores.len(), labels.len())?;
    no_nan("tpr_at_fpr", scores)?;
    let mut negatives: Vec<f64> = scores
        .iter()
        .zip(labels)
        .filter(|(_, l)| !**l)
        .map(|(s, _)| *s)
        .collect();
    let positives: Vec<f64> = scores
        .iter()
        .zip(labels)
        .filter(|(_, l)| **l)
        .map(|(s, _)| *s)
        .collect();
    if positives.is_empty() || negatives.is_empty() {
        return Err(MetricError::OneClass {
            n: labels.len(),
            class: if positives.is_empty() { "non-spikes" } else { "spikes" },
        });
    }
    negatives.sort_by(|a, b| b.total_cmp(a));
    // The highest `allowed` negatives may pass; the next one is the threshold to beat.
    let allowed = (fpr * negatives.len() as f64).floor() as usize;
    let threshold = negatives[allowed.min(negatives.len() - 1)];
    Ok(positives.iter().filter(|s| **s > threshold).count() as f64 / positives.len() as f64)
}

/// A ROC curve as scikit-learn's `roc_curve` returns it with its default
/// `drop_intermediate=True` (the curve NeuronIO's and the ELM neuron's evaluation code read):
/// one point per distinct score, collinear interior points dropped, `(0, 0)` prepended.
#[derive(Debug, Clone, PartialEq)]
pub struct RocCurve {
    /// False-positive rates, non-decreasing from 0 to 1.
    pub fpr: Vec<f64>,
    /// True-positive rates at each.
    pub tpr: Vec<f64>,
}

/// The ROC curve of `scores` against `labels` (see [`RocCurve`]).
pub fn roc_curve(scores: &[f64], labels: &[bool]) -> Result<RocCurve, MetricError> {
    same_length("roc_curve", scores.len(), labels.len())?;
    no_nan("roc_curve", scores)?;
    let pos = labels.iter().filter(|l| **l).count();
    if pos == 0 || pos == labels.len() {
        return Err(MetricError::OneClass {
            n: labels.len(),
            class: if pos == 0 { "non-spikes" } else { "spikes" },
        });
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    // Cumulative true and false positives at the last index of each distinct score.
    let (mut tps, mut fps) = (Vec::new(), Vec::new());
    let mut tp = 0usize;
    for (i, &k) in order.iter().enumerate() {
        tp += labels[k] as usize;
        if i + 1 == order.len() || scores[order[i + 1]] != scores[k] {
            tps.push(tp as f64);
            fps.push((i + 1 - tp) as f64);
        }
    }
    if tps.len() > 2 {
        // Keep the ends and every point where either count's second difference is non-zero.
        let n = tps.len();
        let keep: Vec<usize> = (0..n)
            .filter(|&i| {
                i == 0 || i == n - 1 || {
                    let d2 = |v: &[f64]| v[i + 1] - 2.0 * v[i] + v[i - 1];
                    d2(&fps) != 0.0 || d2(&tps) != 0.0
                }
            })
            .collect();
        tps = keep.iter().map(|&i| tps[i]).collect();
        fps = keep.iter().map(|&i| fps[i]).collect();
    }
    let (p, n) = (*tps.last().expect("non-empty"), *fps.last().expect("non-empty"));
    Ok(RocCurve {
        fpr: std::iter::once(0.0).chain(fps.iter().map(|f| f / n)).collect(),
        tpr: std::iter::once(0.0).chain(tps.iter().map(|t| t / p)).collect(),
    })
}

impl RocCurve {
    /// The area under it by the trapezoidal rule (scikit-learn's `auc(fpr, tpr)`; equal to
    /// [`roc_auc`]).
    pub fn area(&self) -> f64 {
        self.fpr
            .windows(2)
            .zip(self.tpr.windows(2))
            .map(|(f, t)| (f[1] - f[0]) * (t[0] + t[1]) / 2.0)
            .sum()
    }

    /// NeuronIO's "TP @ FP" (`calc_TP_at_desired_FP`): the true-positive rate at the curve's
    /// point whose false-positive rate is nearest `fpr` (the first such; never the `(0, 0)`
    /// point).
    pub fn tpr_nearest(&self, fpr: f64) -> f64 {
        let mut best = 0;
        for (i, f) in self.fpr.iter().enumerate() {
            if (f - fpr).abs() < (self.fpr[best] - fpr).abs() {
                best = i;
            }
        }
        self.tpr[best.max(1)]
    }

    /// NeuronIO's "AUC @ FP" (`calc_AUC_at_desired_FP`): the mean true-positive rate over the
    /// false-positive rates `linspace(0, 1, 20000)` below `fpr`, the curve interpolated
    /// linearly (NumPy's `interp`).
    pub fn mean_tpr_below(&self, fpr: f64) -> f64 {
        const POINTS: usize = 20_000;
        // NumPy's linspace: i · step, the last point exactly 1.
        let step = 1.0 / (POINTS - 1) as f64;
        let grid = |i: usize| if i == POINTS - 1 { 1.0 } else { i as f64 * step };
        let mut nearest = 0;
        for i in 0..POINTS {
            if (grid(i) - fpr).abs() < (grid(nearest) - fpr).abs() {
                nearest = i;
            }
        }
        let end = nearest.clamp(1, POINTS - 1);
        (0..end).map(|i| self.interp(grid(i))).sum::<f64>() / end as f64
    }

    /// `numpy.interp(x, fpr, tpr)`: at a repeated false-positive rate, the last point's rate.
    fn interp(&self, x: f64) -> f64 {
        let (xp, fp) = (&self.fpr, &self.tpr);
        if x < xp[0] {
            return fp[0];
        }
        let j = xp.partition_point(|v| *v <= x) - 1;
        if j + 1 >= xp.len() {
            return fp[xp.len() - 1];
        }
        if xp[j] == x {
            return fp[j];
        }
        fp[j] + (fp[j + 1] - fp[j]) * (x - xp[j]) / (xp[j + 1] - xp[j])
    }
}

/// Mean absolute difference.
pub fn mae(predicted: &[f64], target: &[f64]) -> Result<f64, MetricError> {
    same_length("mae", predicted.len(), target.len())?;
    no_nan("mae", predicted)?;
    Ok(predicted.iter().zip(target).map(|(p, t)| (p - t).abs()).sum::<f64>() / predicted.len().max(1) as f64)
}

/// Root-mean-square difference.
pub fn rmse(predicted: &[f64], target: &[f64]) -> Result<f64, MetricError> {
    same_length("rmse", predicted.len(), target.len())?;
    no_nan("rmse", predicted)?;
    let n = predicted.len().max(1) as f64;
    Ok((predicted.iter().zip(target).map(|(p, t)| (p - t).powi(2)).sum::<f64>() / n).sqrt())
}

/// Explained variance `1 − Var(target − predicted) / Var(target)`.
pub fn explained_variance(predicted: &[f64], target: &[f64]) -> Result<f64, MetricError> {
    same_length("explained_variance", predicted.len(), target.len())?;
    no_nan("explained_variance", predicted)?;
    let var = |v: &mut dyn Iterator<Item = f64>, n: f64| {
        let xs: Vec<f64> = v.collect();
        let mean = xs.iter().sum::<f64>() / n;
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n
    };
    let n = target.len().max(1) as f64;
    let residual = var(&mut predicted.iter().zip(target).map(|(p, t)| t - p), n);
    Ok(1.0 - residual / var(&mut target.iter().copied(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_by_hand() {
        // Positives score 0.9, 0.4; negatives 0.8, 0.3, 0.1: of 6 pairs the positive wins 5.
        let s = [0.9, 0.8, 0.4, 0.3, 0.1];
        let l = [true, false, true, false, false];
        assert!((roc_auc(&s, &l).unwrap() - 5.0 / 6.0).abs() < 1e-12);
        // Perfect and reversed.
        assert_eq!(roc_auc(&[1.0, 0.0], &[true, false]).unwrap(), 1.0);
        assert_eq!(roc_auc(&[0.0, 1.0], &[true, false]).unwrap(), 0.0);
        // Ties count one half: a positive and a negative tied, plus a clear win: (1 + 0.5) / 2.
        let s = [0.5, 0.5, 0.1];
        let l = [true, false, false];
        assert!((roc_auc(&s, &l).unwrap() - 0.75).abs() < 1e-12);
        // All scores equal: 0.5.
        assert_eq!(roc_auc(&[2.0; 4], &[true, false, true, false]).unwrap(), 0.5);
    }

    #[test]
    fn auc_needs_both_classes() {
        assert_eq!(
            roc_auc(&[0.1, 0.2], &[false, false]).unwrap_err(),
            MetricError::OneClass {
                n: 2,
                class: "non-spikes"
            }
        );
        assert!(
            roc_auc(&[0.1, 0.2], &[true, true])
                .unwrap_err()
                .to_string()
                .contains("only spikes")
        );
        assert!(roc_auc(&[0.1], &[true, false]).is_err());
        assert!(
            roc_auc(&[f64::NAN, 0.2], &[true, false])
                .unwrap_err()
                .to_string()
                .contains("NaN")
        );
    }

    #[test]
    fn tpr_at_one_percent_fpr_by_hand() {
        // 200 negatives scoring 0..199, 4 positives: 2 of them above the 2 negatives allowed
        // through (1 % of 200), i.e. above 197.
        let mut s: Vec<f64> = (0..200).map(f64::from).collect();
        let mut l = vec![false; 200];
        s.extend([250.0, 198.5, 100.0, 197.0]);
        l.extend([true; 4]);
        assert_eq!(tpr_at_fpr(&s, &l, 0.01).unwrap(), 0.5);
    }

    #[test]
    fn voltage_metrics_by_hand() {
        let t = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(rmse(&t, &t).unwrap(), 0.0);
        assert!((rmse(&[2.0, 3.0, 4.0, 5.0], &t).unwrap() - 1.0).abs() < 1e-12);
        assert!((explained_variance(&t, &t).unwrap() - 1.0).abs() < 1e-12);
        // A constant offset explains everything (variance of the residual is 0).
        assert!((explained_variance(&[2.0, 3.0, 4.0, 5.0], &t).unwrap() - 1.0).abs() < 1e-12);
        // Predicting the mean explains nothing.
        assert!(explained_variance(&[2.5; 4], &t).unwrap().abs() < 1e-12);
        assert!(rmse(&[1.0], &t).is_err());
    }
}
