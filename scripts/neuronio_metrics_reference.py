#!/usr/bin/env python3
"""NeuronIO's evaluation, run on synthetic predictions, as the reference for fit's protocol.

The functions below are copied from `evaluate_CNN_test.py` (github:SelfishGene/neuron_as_deep_net,
the same code the ELM neuron's `src/neuronio/neuronio_eval_utils.py` keeps): the test
`crates/fit/tests/neuronio_protocol.rs` scores the same arrays in Rust and must agree.

    python3 -m venv /work/nrnvenv && /work/nrnvenv/bin/pip install numpy scikit-learn
    /work/nrnvenv/bin/python scripts/neuronio_metrics_reference.py > crates/fit/tests/data/neuronio_metrics.json
"""
import json

import numpy as np
import sklearn
from sklearn.metrics import auc, explained_variance_score, roc_curve
from sklearn.metrics import mean_absolute_error as MAE
from sklearn.metrics import mean_squared_error as MSE


def calc_AUC_at_desired_FP(y_test, y_test_hat, desired_false_positive_rate=0.01):
    fpr, tpr, thresholds = roc_curve(y_test.ravel(), y_test_hat.ravel())
    linear_spaced_FPR = np.linspace(0, 1, num=20000)
    linear_spaced_TPR = np.interp(linear_spaced_FPR, fpr, tpr)
    desired_fp_ind = min(max(1, np.argmin(abs(linear_spaced_FPR - desired_false_positive_rate))), linear_spaced_TPR.shape[0] - 1)
    return linear_spaced_TPR[:desired_fp_ind].mean()


def calc_TP_at_desired_FP(y_test, y_test_hat, desired_false_positive_rate=0.0025):
    fpr, tpr, thresholds = roc_curve(y_test.ravel(), y_test_hat.ravel())
    desired_fp_ind = np.argmin(abs(fpr - desired_false_positive_rate))
    if desired_fp_ind == 0:
        desired_fp_ind = 1
    return tpr[desired_fp_ind]


def filter_and_extract(y_spikes_GT, y_spikes_hat, y_soma_GT, y_soma_hat, ignore_time_at_start_ms=500, num_spikes_per_sim=(0, 24)):
    keep = np.logical_and(y_spikes_GT.sum(axis=1) >= num_spikes_per_sim[0], y_spikes_GT.sum(axis=1) <= num_spikes_per_sim[1])
    g, h = y_spikes_GT[keep, ignore_time_at_start_ms:], y_spikes_hat[keep, ignore_time_at_start_ms:]
    sg, sh = y_soma_GT[keep, ignore_time_at_start_ms:], y_soma_hat[keep, ignore_time_at_start_ms:]
    fpr, tpr, _ = roc_curve(g.ravel(), h.ravel())
    return {
        "trials_kept": int(keep.sum()),
        "auc": auc(fpr, tpr),
        "tpr_at_0_25pct_fpr": calc_TP_at_desired_FP(g, h, 0.0025),
        "tpr_at_1pct_fpr": calc_TP_at_desired_FP(g, h, 0.01),
        "mean_tpr_below_1pct_fpr": calc_AUC_at_desired_FP(g, h, 0.01),
        "voltage_rmse_mv": np.sqrt(MSE(sg.ravel(), sh.ravel())),
        "voltage_mae_mv": MAE(sg.ravel(), sh.ravel()),
        "voltage_explained_variance": explained_variance_score(sg.ravel(), sh.ravel()),
    }


def case(rng, trials, ms, rate, quantise):
    spikes = (rng.random((trials, ms)) < rate).astype(float)
    spikes[0, :] = (rng.random(ms) < 0.05)  # > 24 spikes: dropped by the rule
    # A score that knows the spikes partly, quantised so that ties occur.
    logit = 2.5 * spikes + rng.normal(size=(trials, ms))
    if quantise:
        logit = np.round(logit * 4) / 4
    voltage = -70 + 8 * rng.standard_normal((trials, ms)).cumsum(axis=1) / np.sqrt(ms)
    voltage[spikes > 0] = 20.0  # spikes, clipped away
    predicted = 0.7 * np.minimum(voltage, -55) + 0.3 * rng.normal(-80, 3, size=(trials, ms))
    # The file holds 4 decimals: score what it holds.
    logit, voltage, predicted = (np.round(a, 4) for a in (logit, voltage, predicted))
    # The protocol: clip the target, rescale the prediction to its moments over everything.
    target = np.minimum(voltage, -55)
    hat = (predicted - predicted.mean()) / predicted.std() * target.std() + target.mean()
    out = filter_and_extract(spikes, logit, target, hat)
    return {
        "spikes": spikes.astype(int).tolist(),
        "logit": logit.tolist(),
        "voltage": voltage.tolist(),
        "predicted": predicted.tolist(),
        "expected": out,
    }


rng = np.random.default_rng(7)
print(json.dumps({
    "source": "scripts/neuronio_metrics_reference.py (evaluate_CNN_test.py's functions)",
    "sklearn": sklearn.__version__,
    "numpy": np.__version__,
    "cases": [case(rng, 4, 1000, 0.01, False), case(rng, 3, 1200, 0.01, True)],
}))
