//! fit's NeuronIO protocol against NeuronIO's own evaluation code: the fixture holds synthetic
//! predictions and what `evaluate_CNN_test.py`'s functions (scikit-learn and NumPy) make of them
//! (`scripts/neuronio_metrics_reference.py`).

use biophys::{Raster, Synapses};
use fit::Prediction;
use fit::data::TrialData;
use fit::evaluate::NeuronIoScores;
use fit::metrics::{roc_auc, roc_curve};
use serde_json::Value;

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
fn the_protocol_agrees_with_neuronio_evaluation_code() {
    let fixture: Value = serde_json::from_str(include_str!("data/neuronio_metrics.json")).unwrap();
    for (c, case) in fixture["cases"].as_array().unwrap().iter().enumerate() {
        let rows = |key: &str| case[key].as_array().unwrap().iter().map(floats).collect::<Vec<_>>();
        let (spikes, logit, voltage, predicted) = (rows("spikes"), rows("logit"), rows("voltage"), rows("predicted"));
        let trials: Vec<TrialData> = spikes
            .iter()
            .zip(&voltage)
            .enumerate()
            .map(|(i, (s, v))| TrialData {
                seed: i as u64,
                synapses: Synapses::empty(),
                raster: Raster::zeros(0, s.len()),
                spikes: s.iter().map(|&x| x as i8).collect(),
                voltage: v.clone(),
            })
            .collect();
        let predictions: Vec<Prediction> = logit
            .iter()
            .zip(&predicted)
            .map(|(l, v)| Prediction {
                logit: l.clone(),
                voltage: v.clone(),
            })
            .collect();
        let ours = NeuronIoScores::of(&trials, &predictions)
            .unwrap()
            .expect("a trial is kept");
        let e = &case["expected"];
        assert_eq!(ours.trials_kept as u64, e["trials_kept"].as_u64().unwrap(), "case {c}");
        assert_eq!(ours.trials, trials.len());
        for (name, value) in [
            ("auc", ours.auc),
            ("tpr_at_0_25pct_fpr", ours.tpr_at_0_25pct_fpr),
            ("tpr_at_1pct_fpr", ours.tpr_at_1pct_fpr),
            ("mean_tpr_below_1pct_fpr", ours.mean_tpr_below_1pct_fpr),
            ("voltage_rmse_mv", ours.voltage_rmse_mv),
            ("voltage_mae_mv", ours.voltage_mae_mv),
            ("voltage_explained_variance", ours.voltage_explained_variance),
        ] {
            let reference = e[name].as_f64().unwrap();
            assert!(
                (value - reference).abs() <= 1e-9 * reference.abs().max(1.0),
                "case {c}: {name} {value} against NeuronIO's {reference}"
            );
        }
    }
}

#[test]
fn the_curve_s_area_is_the_rank_statistic_and_a_trial_over_the_rule_is_dropped() {
    // Ties, and collinear points that scikit-learn drops: the area is unchanged.
    let scores = [0.9, 0.8, 0.8, 0.7, 0.6, 0.5, 0.5, 0.4, 0.3, 0.2];
    let labels = [true, false, true, false, false, true, false, false, false, false];
    let roc = roc_curve(&scores, &labels).unwrap();
    assert!((roc.area() - roc_auc(&scores, &labels).unwrap()).abs() < 1e-15);
    assert_eq!((roc.fpr[0], roc.tpr[0]), (0.0, 0.0));
    assert_eq!((*roc.fpr.last().unwrap(), *roc.tpr.last().unwrap()), (1.0, 1.0));
    // Runs of negatives are collinear: (2/7, 2/3) and the last scores' 5/7, 6/7 are dropped.
    let sevenths: Vec<f64> = roc.fpr.iter().map(|f| (f * 7.0).round()).collect();
    assert_eq!(sevenths, [0.0, 0.0, 1.0, 3.0, 4.0, 7.0], "{roc:?}");

    // One 6 s trial with 25 spikes (over NeuronIO's 24) and one with 2: only the second counts.
    let trial = |seed: u64, n: usize| {
        let mut spikes = vec![0i8; 6000];
        for k in 0..n {
            spikes[600 + 200 * k] = 1;
        }
        TrialData {
            seed,
            synapses: Synapses::empty(),
            raster: Raster::zeros(0, 6000),
            voltage: (0..6000).map(|t| -70.0 + (t % 7) as f64).collect(),
            spikes,
        }
    };
    let trials = [trial(1, 25), trial(2, 2)];
    let predictions: Vec<Prediction> = trials
        .iter()
        .map(|t| Prediction {
            logit: t.spikes.iter().map(|&s| s as f64).collect(),
            voltage: t.voltage.iter().map(|v| 2.0 * v + 5.0).collect(),
        })
        .collect();
    let s = NeuronIoScores::of(&trials, &predictions).unwrap().unwrap();
    assert_eq!((s.trials_kept, s.trials), (1, 2));
    assert_eq!(s.auc, 1.0);
    // An affine prediction is rescaled onto the target exactly.
    assert!(
        s.voltage_rmse_mv < 1e-9 && (s.voltage_explained_variance - 1.0).abs() < 1e-12,
        "{s:?}"
    );
    // No trial within the rule: nothing to score.
    assert!(NeuronIoScores::of(&trials[..1], &predictions[..1]).unwrap().is_none());
}
