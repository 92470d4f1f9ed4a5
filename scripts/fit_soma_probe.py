"""Probes of what a soma needs to fit bs4, in torch, on the trials `fit_neuron` caches: the
linear-nonlinear model's drive with after-spike currents fed back from its own spike output,
and an ELM-style leaky-memory soma (a small MLP updating memory units with fixed-range time
constants; Spieler et al., ICLR 2024). Trained free-running on random windows (Adam, batch 8,
256 scored ms after 150 ms of warm-up, learning rate 3e-3 decaying to 3e-4, loss = BCE on spikes
+ 0.5 MSE of the normalised clipped voltage, as the fit), scored on held-out seeds 101-104
after 500 ms. docs/fit.md records the numbers.

    /path/to/venv/bin/python scripts/fit_soma_probe.py --model elm-branch --trials 100 --steps 1500

Models:
  ln               a causal filter per synapse (--kernel ms), affine heads (the fit's `ln`)
  ln-history       + three after-spike currents (3, 10, 40 ms, learned τ) driven by σ(spike logit)
  ln-history-hard  + the same driven by 0/1 spikes (straight-through gradient)
  elm-synapse      leaky-memory soma reading every synapse (a weight each)
  elm-branch       leaky-memory soma reading the inputs summed per branch and synapse type
"""
import argparse, os, re, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--cache", default="target/fit_neuron/data")
ap.add_argument("--model", default="elm-branch", choices=["ln", "ln-history", "ln-history-hard", "elm-synapse", "elm-branch"])
ap.add_argument("--trials", type=int, default=20, help="training seeds 1..=N")
ap.add_argument("--steps", type=int, default=600)
ap.add_argument("--kernel", type=int, default=40, help="ln: filter length, ms")
ap.add_argument("--units", type=int, default=20, help="elm: memory units")
ap.add_argument("--hidden", type=int, default=32, help="elm: MLP width")
ap.add_argument("--batch", type=int, default=8, help="windows per step")
ap.add_argument("--voltage-weight", type=float, default=0.5, help="weight of the voltage loss")
args = ap.parse_args()
torch.manual_seed(0); np.random.seed(0); torch.set_num_threads(1)

def load(seed):
    (f,) = [n for n in os.listdir(args.cache) if re.fullmatch(rf"bs4-[0-9a-f]{{16}}-seed{seed}\.npz", n)]
    z = np.load(os.path.join(args.cache, f))
    return z["x"].astype(np.float32), np.minimum(z["v_soma_1ms"], -55.0).astype(np.float32), z["y_spike"].astype(np.float32), z["syn_branch"], z["syn_type"]

train = [load(s) for s in range(1, args.trials + 1)]
test = [load(s) for s in range(101, 105)]
X = torch.tensor(np.stack([t[0].astype(bool) for t in train]))
V = torch.tensor(np.stack([t[1] for t in train])); Y = torch.tensor(np.stack([t[2] for t in train]))
v_mean, v_std = V.mean().item(), V.std().item(); x_scale = 1 / X[:4].float().std().item(); base = Y.mean().item()
V = (V - v_mean) / v_std
branch, kind = train[0][3], train[0][4]
groups = [(b, t) for b in sorted(set(branch)) for t in (0, 1)]
G = torch.zeros(250, len(groups))
for j, (b, t) in enumerate(groups):
    G[torch.tensor((branch == b) & (kind == t)), j] = 1

def output_prior(head):
    nn.init.zeros_(head.weight)
    with torch.no_grad():
        head.bias[:] = torch.tensor([np.log(base / (1 - base)), 0.0])

class LnHistory(nn.Module):
    def __init__(s, history):
        super().__init__()
        s.history, K = history, args.kernel
        s.conv = nn.Conv1d(250, 1, K, bias=False); s.head = nn.Linear(1, 2); output_prior(s.head)
        s.log_tau = nn.Parameter(torch.log(torch.tensor([3.0, 10.0, 40.0])))
        s.w = nn.Parameter(torch.zeros(2, 3))  # current amplitudes on (spike logit, voltage)
    def forward(s, x):
        u = s.head(s.conv(F.pad(x * x_scale, (args.kernel - 1, 0))).transpose(1, 2)).transpose(1, 2)
        if s.history is None:
            return u
        B, _, T = u.shape; decay = torch.exp(-1 / torch.exp(s.log_tau)); a = torch.zeros(B, 3); out = []
        for t in range(T):
            o = u[:, :, t] - a @ s.w.t(); out.append(o)
            p = torch.sigmoid(o[:, 0:1])
            spike = p if s.history == "soft" else (o[:, 0:1] > 0).float() + p - p.detach()
            a = a * decay + spike
        return torch.stack(out, 2)

class LeakyMemory(nn.Module):
    def __init__(s, per_branch):
        super().__init__()
        s.per_branch, M = per_branch, args.units
        s.w_syn = nn.Parameter(torch.ones(250))
        inputs = len(groups) if per_branch else 250
        s.mlp = nn.Sequential(nn.Linear(inputs + M, args.hidden), nn.ReLU(), nn.Linear(args.hidden, M))
        s.log_tau = nn.Parameter(torch.log(torch.logspace(0, np.log10(150), M)))
        s.head = nn.Linear(M, 2); output_prior(s.head)
    def forward(s, x):
        x = (x * x_scale * s.w_syn[:, None]).transpose(1, 2)
        if s.per_branch:
            x = x @ G
        B, T, _ = x.shape; k = torch.exp(-1 / torch.exp(s.log_tau)); m = torch.zeros(B, args.units); out = []
        for t in range(T):
            m = k * m + (1 - k) * torch.tanh(s.mlp(torch.cat([x[:, t], m], 1)))
            out.append(m)
        return s.head(torch.stack(out, 1)).transpose(1, 2)

model = {"ln": lambda: LnHistory(None), "ln-history": lambda: LnHistory("soft"), "ln-history-hard": lambda: LnHistory("hard"),
         "elm-synapse": lambda: LeakyMemory(False), "elm-branch": lambda: LeakyMemory(True)}[args.model]()
params = sum(p.numel() for p in model.parameters())
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
W, CTX = 256, 150
t0 = time.time()
for step in range(args.steps):
    for g in opt.param_groups:
        g["lr"] = 3e-3 * 0.1 ** (step / args.steps)
    i = torch.randint(0, args.trials, (args.batch,)); st = torch.randint(0, 30000 - W - CTX, (args.batch,))
    xb = torch.stack([X[a, :, b:b + W + CTX] for a, b in zip(i, st)]).float()
    yb = torch.stack([Y[a, b + CTX:b + W + CTX] for a, b in zip(i, st)]); vb = torch.stack([V[a, b + CTX:b + W + CTX] for a, b in zip(i, st)])
    o = model(xb)[:, :, CTX:]
    loss = F.binary_cross_entropy_with_logits(o[:, 0], yb) + args.voltage_weight * F.mse_loss(o[:, 1], vb)
    opt.zero_grad(); loss.backward()
    if isinstance(model, LeakyMemory):
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if step % 100 == 0:
        print(f"step {step}: loss {loss.item():.4f} ({time.time() - t0:.0f} s)", flush=True)

def auc(y, p):
    o = np.argsort(p, kind="mergesort"); r = np.empty(len(p)); r[o] = np.arange(1, len(p) + 1); P = y.sum(); N = len(y) - P
    return (r[y > 0].sum() - P * (P + 1) / 2) / (P * N)

def score(trials):
    aucs, evs = [], []
    with torch.no_grad():
        for x, v, y, _, _ in trials:
            o = model(torch.tensor(x)[None])[0].numpy(); p = o[0, 500:]; vp = o[1, 500:] * v_std + v_mean
            aucs.append(auc(y[500:], p)); evs.append(1 - np.var(v[500:] - vp) / np.var(v[500:]))
    return np.mean(aucs), 100 * np.mean(evs)

print(f"{args.model} ({params} params; units {args.units}, MLP {args.hidden}, batch {args.batch}, voltage weight {args.voltage_weight}), {args.trials} training trials, {args.steps} steps: held-out AUC %.4f, expl. var. %.1f %%;" % score(test),
      "training trial 1: AUC %.4f, %.1f %%" % score(train[:1]), f"({time.time() - t0:.0f} s)")
