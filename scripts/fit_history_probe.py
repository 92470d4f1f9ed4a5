"""How much of bs4's clipped somatic voltage a linear model explains from its inputs alone, with
the cell's own past spikes added (teacher-forced: an optimistic bound), and free-running (its own
threshold crossings feed the history term). docs/fit.md records the numbers.

    /path/to/venv/bin/python scripts/fit_history_probe.py target/fit_neuron/data

Reads the trials `fit_neuron` cached (training seeds 1-20, held-out 101-104); numpy only.
"""
import os, re, sys
import numpy as np

cache = sys.argv[1] if len(sys.argv) > 1 else "target/fit_neuron/data"
def load(seed):
    (f,) = [n for n in os.listdir(cache) if re.fullmatch(rf"bs4-[0-9a-f]{{16}}-seed{seed}\.npz", n)]
    z = np.load(os.path.join(cache, f))
    return z["x"], z["syn_branch"], z["syn_type"], np.minimum(z["v_soma_1ms"], -55.0), z["y_spike"].astype(float)

# Causal basis: boxcar sums over log-spaced lags, up to 100 ms; inputs pooled per branch and type.
edges = [0, 1, 2, 3, 5, 8, 12, 18, 27, 40, 60, 100]
def lagged(sig, edges):
    """sig [c, T] -> [c * (len(edges)-1), T]: sums of sig over lags [e0, e1)."""
    c = np.cumsum(np.pad(sig, ((0, 0), (1, 0))), axis=1)  # c[:, t] = sum sig[:, :t]
    T = sig.shape[1]
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        t = np.arange(T)
        hi = np.clip(t - a + 1, 0, T); lo = np.clip(t - b + 1, 0, T)
        out.append(c[:, hi] - c[:, lo])
    return np.concatenate(out, 0)

def features(seed, history):
    x, br, ty, v, y = load(seed)
    groups = [(b, t) for b in sorted(set(br)) for t in (0, 1)]
    g = np.stack([x[(br == b) & (ty == t)].sum(0) for b, t in groups]).astype(float)
    f = [lagged(g, edges)]
    if history:
        f.append(lagged(y[None], [1, 2, 3, 5, 8, 12, 18, 27, 40, 60, 100]))  # strictly past spikes
    f = np.concatenate(f, 0)
    f = np.concatenate([f, np.ones((1, f.shape[1]))], 0)
    return f[:, 500:].T, v[500:], y[500:]

def auc(score, label):
    order = np.argsort(score, kind="mergesort")
    r = np.empty(len(score)); r[order] = np.arange(1, len(score) + 1)
    # ties: average ranks
    s = score[order]; i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]: j += 1
        r[order[i:j + 1]] = (i + j + 2) / 2; i = j + 1
    p = label.sum(); n = len(label) - p
    return (r[label > 0].sum() - p * (p + 1) / 2) / (p * n)

for history in (False, True):
    X, V = [], []
    for s in range(1, 21):
        f, v, _ = features(s, history); X.append(f); V.append(v)
    X = np.concatenate(X); V = np.concatenate(V)
    w, *_ = np.linalg.lstsq(X, V, rcond=None)
    ev, a = [], []
    for s in range(101, 105):
        f, v, y = features(s, history)
        p = f @ w
        ev.append(1 - np.var(v - p) / np.var(v)); a.append(auc(p, y))
    print(f"{'inputs + own past spikes' if history else 'inputs only':26s} voltage EV {100*np.mean(ev):.1f} %, AUC of the voltage prediction {np.mean(a):.4f}")

# Free-running: the model's own spikes (its voltage crossing a threshold) feed the history term.
X, V = [], []
for s in range(1, 21):
    f, v, _ = features(s, True); X.append(f); V.append(v)
w, *_ = np.linalg.lstsq(np.concatenate(X), np.concatenate(V), rcond=None)
hist_edges = [1, 2, 3, 5, 8, 12, 18, 27, 40, 60, 100]
w_hist = w[-(len(hist_edges) - 1) - 1:-1]
def free_run(seed, theta):
    f, v, y = features(seed, True)
    drive = f @ w - f[:, -(len(hist_edges)):-1] @ w_hist  # inputs and bias only
    T = len(drive); own = np.zeros(T); p = np.zeros(T)
    spikes = []
    for t in range(T):
        h = 0.0
        for k, (a, b) in enumerate(zip(hist_edges[:-1], hist_edges[1:])):
            h += w_hist[k] * sum(1 for s in spikes[-20:] if a <= t - s < b)
        p[t] = drive[t] + h
        if p[t] > theta:
            spikes.append(t); own[t] = 1
    return p, v, y, own
for theta in (-56.5, -56.0, -55.5, -55.0, -54.5):
    ev, a, rate, true_rate = [], [], [], []
    for s in range(101, 105):
        p, v, y, own = free_run(s, theta)
        ev.append(1 - np.var(v - p) / np.var(v)); a.append(auc(p, y)); rate.append(own.mean() * 1000); true_rate.append(y.mean() * 1000)
    print(f"free-running, threshold {theta} mV: voltage EV {100*np.mean(ev):.1f} %, AUC {np.mean(a):.4f}, rate {np.mean(rate):.1f} Hz (cell {np.mean(true_rate):.1f} Hz)")
