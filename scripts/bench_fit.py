"""PyTorch mirror of `examples/bench_fit.rs`: one training step (forward, backward, Adam) of each
fit family at the fit's shapes, with the same stages, shapes, loss and optimizer, timed on the
CPU. Prints one JSON object (median seconds per step per model). Not CI; the example runs it with
`--peer PYTHON` so that both sides are measured in the same run.

    /path/to/venv/bin/python scripts/bench_fit.py --threads 2 --reps 5

Models (bs4: 250 synapses, 4 branches + the soma's column = 5 grid columns, 10 positions):
  neuron-4-1     synapses placed on a 2 × 10 × 5 grid with a gain per site; a dendrite stage of
                 4 maps (kernel 3 × 1 × 16, taps 4 ms apart, causal), its dendritic spike (max over
                 3 positions, blended by g·σ(m − θ)), softplus, a stage of 1 map (3 × 1 × 8), its
                 spike; rates per column, their sum through a 32 ms causal soma filter; a linear head
  neuron-4-4+m80 the same with 4 maps in the last stage and a leaky-memory soma (80 units, MLP 128,
                 τ log-spaced 1–50 ms) between the features and the head
  neuron-4-4+m40 the same with 40 memory units and an MLP of 64
  tcn-3x32       causal Conv1d 250 → 32 (35 taps), two 32 → 32 (5 taps, dilation 2), ReLU, 1×1 head
  ln-k80         a causal 80-tap filter per synapse summed (Conv1d 250 → 1), an affine head
  elm-elm20      the Branch-ELM as its own code runs it (expressive_leaky_memory_neuron.py, v1,
                 github:AaronSpieler/elmneuron): NeuronIO routing onto 45 windows of 20 synapses,
                 a trace per synapse, 20 memory units, MLP 65 → 40 → 20 (ReLU), a step per ms
Loss: binary cross-entropy with logits on the spike output plus 0.5 × MSE of the voltage output,
over the last `window` ms of each sample; Adam (lr 3e-3).
"""
import argparse, json, math, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--reps", type=int, default=5)
ap.add_argument("--models", default="neuron-4-1,neuron-4-4+m80,tcn-3x32,ln-k80")
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
rng = np.random.default_rng(0)

SYNAPSES, BRANCHES, POSITIONS = 250, 4, 10
COLUMNS = BRANCHES + 1
# bs4's placement as the fit lays it: a grid site per synapse (channel, position, column).
kind = np.array([0] * 200 + [1] * 50)  # 200 excitatory, 50 inhibitory (10 on the soma)
branch = np.concatenate([rng.integers(0, BRANCHES, 240), np.full(10, BRANCHES)])
pos = np.where(branch == BRANCHES, POSITIONS // 2, rng.integers(0, POSITIONS, 250))
site = (kind * POSITIONS + pos) * COLUMNS + branch
PLACE = torch.zeros(2 * POSITIONS * COLUMNS, SYNAPSES)
PLACE[torch.tensor(site), torch.arange(SYNAPSES)] = 1.0


def causal(x, pad):
    return F.pad(x, (pad, 0))


class Stage(nn.Module):
    """A dendrite convolution (same in positions, causal in time) and its dendritic spike."""

    def __init__(s, cin, cout, taps, dilation):
        super().__init__()
        s.conv = nn.Conv3d(cin, cout, (3, 1, taps), dilation=(1, 1, dilation))
        s.reach = (taps - 1) * dilation
        s.gain, s.threshold = nn.Parameter(torch.ones(1)), nn.Parameter(torch.zeros(1))

    def forward(s, x):  # [b, c, p, d, t]
        v = s.conv(F.pad(x, (s.reach, 0, 0, 0, 1, 1)))
        b, c, p, d, t = v.shape
        m = F.max_pool2d(v.reshape(b * c, 1, p, d * t), (3, 1), stride=1, padding=(1, 0)).reshape(v.shape)
        a = torch.sigmoid(m - s.threshold) * s.gain
        return v * (1 - a) + m * a


class Neuron(nn.Module):
    def __init__(s, last_maps, memory):
        super().__init__()
        s.gain = nn.Parameter(torch.ones(2 * POSITIONS * COLUMNS))
        s.stages = nn.ModuleList([Stage(2, 4, 16, 4), Stage(4, last_maps, 8, 1)])
        s.maps = last_maps
        s.soma = nn.Conv1d(last_maps, last_maps, 32, groups=last_maps)
        features = last_maps * (1 + COLUMNS)
        s.memory = Memory(features, *memory) if memory else None
        s.head = nn.Linear(memory[0] if memory else features, 2)
        s.reach = 60 + 7 + 31 + (150 if memory else 0)

    def forward(s, x):  # [b, synapses, t]
        b, _, t = x.shape
        g = torch.einsum("gs,bst->bgt", PLACE, x) * s.gain[None, :, None]
        v = g.reshape(b, 2, POSITIONS, COLUMNS, t)
        v = s.stages[0](v)
        v = s.stages[1](F.softplus(v))
        rates = v.sum(2)  # [b, maps, columns, t]
        soma = s.soma(causal(rates.sum(2), 31))  # [b, maps, t]
        f = torch.cat([soma.unsqueeze(2), rates], 2).reshape(b, -1, t)
        if s.memory is not None:
            f = s.memory(f)
        return s.head(f.transpose(1, 2)).transpose(1, 2)


class Memory(nn.Module):
    """Leaky memory units updated by an MLP from the input and the memory (the ELM neuron)."""

    def __init__(s, inputs, units, hidden):
        super().__init__()
        s.inp, s.rec = nn.Linear(inputs, hidden), nn.Linear(units, hidden, bias=False)
        s.out = nn.Linear(hidden, units)
        taus = np.exp(np.linspace(0, np.log(50), units))
        s.register_buffer("keep", torch.tensor(np.exp(-1 / taus), dtype=torch.float32))
        s.units = units

    def forward(s, x):  # [b, inputs, t] → [b, units, t]
        b, _, t = x.shape
        drive = s.inp(x.transpose(1, 2))  # [b, t, hidden]
        m = x.new_zeros(b, s.units)
        out = []
        for i in range(t):
            u = torch.tanh(s.out(torch.relu(drive[:, i] + s.rec(m))))
            m = s.keep * m + (1 - s.keep) * u
            out.append(m)
        return torch.stack(out, 2)


class Tcn(nn.Module):
    def __init__(s, width, layers):
        super().__init__()
        s.first = nn.Conv1d(SYNAPSES, width, 35)
        s.rest = nn.ModuleList([nn.Conv1d(width, width, 5, dilation=2) for _ in range(layers - 1)])
        s.head = nn.Conv1d(width, 2, 1)
        s.reach = 34 + (layers - 1) * 8

    def forward(s, x):
        h = torch.relu(s.first(causal(x, 34)))
        for c in s.rest:
            h = torch.relu(c(causal(h, 8)))
        return s.head(h)


class Ln(nn.Module):
    def __init__(s, k):
        super().__init__()
        s.filters = nn.Conv1d(SYNAPSES, 1, k, bias=False)
        s.head = nn.Conv1d(1, 2, 1)
        s.reach = k - 1

    def forward(s, x):
        return s.head(s.filters(causal(x, s.reach)))


class Elm(nn.Module):
    """The Branch-ELM's dynamics as its code writes them: every ms, every synapse's trace, the
    branch sums, the MLP on [sums, κ_m·m], m ← κ_m·m + λ(1−κ_m)·1.7159·tanh(⅔·MLP), y = W_y·m."""

    def __init__(s, branches=45, per_branch=20, units=20):
        super().__init__()
        n = SYNAPSES
        interlocked = (torch.arange(n) % 2) * (n // 2) + torch.arange(n) // 2
        idx = torch.arange(branches)[:, None] * math.ceil(n / branches) + torch.arange(per_branch)[None]
        s.register_buffer("valid", (idx < n).flatten().float())
        s.register_buffer("rows", interlocked[idx.clamp(max=n - 1).flatten()])
        s.w_s = nn.Parameter(torch.full((branches * per_branch,), 0.5))
        s.mlp = nn.Sequential(nn.Linear(branches + units, 2 * units), nn.ReLU(), nn.Linear(2 * units, units))
        s.w_y = nn.Linear(units, 2)
        taus = torch.logspace(math.log10(1 + 1e-6), math.log10(150 - 1e-6), units)
        s.register_buffer("kappa_m", torch.exp(-1 / taus))
        s.kappa_s, s.branches, s.units = math.exp(-1 / 5), branches, units
        s.reach = 49 + 450  # as the Rust side: the trace's 50 taps and 3 × 150 ms

    def forward(s, x):  # [b, synapses, t] → [b, 2, t]
        b, _, t = x.shape
        inputs = x.index_select(1, s.rows) * s.valid[None, :, None]
        w = torch.relu(s.w_s)
        syn, m = x.new_zeros(b, len(s.rows)), x.new_zeros(b, s.units)
        out = []
        for i in range(t):
            syn = s.kappa_s * syn + w * inputs[:, :, i]
            d = syn.view(b, s.branches, -1).sum(-1)
            delta = 1.7159 * torch.tanh(s.mlp(torch.cat([d, s.kappa_m * m], -1)) * 2 / 3)
            m = s.kappa_m * m + 5.0 * (1 - s.kappa_m) * delta
            out.append(s.w_y(m))
        return torch.stack(out, 2)


MODELS = {
    "neuron-4-1": (lambda: Neuron(1, None), 256),
    "neuron-4-4+m40": (lambda: Neuron(4, (40, 64)), 512),
    "neuron-4-4+m80": (lambda: Neuron(4, (80, 128)), 512),
    "tcn-3x32": (lambda: Tcn(32, 3), 256),
    "ln-k80": (lambda: Ln(80), 256),
    "elm-elm20": (lambda: Elm(), 256),
}

results = {}
for name in args.models.split(","):
    make, window = MODELS[name]
    model = make()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    batch, t = 8, model.reach + window
    x = (torch.rand(batch, SYNAPSES, t) < 0.005).float() * 14.0
    spikes = (torch.rand(batch, window) < 0.01).float()
    volts = torch.randn(batch, window)

    def step():
        out = model(x)[:, :, -window:]
        loss = F.binary_cross_entropy_with_logits(out[:, 0], spikes) + 0.5 * F.mse_loss(out[:, 1], volts)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    step()
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    results[name] = {"median_seconds": float(np.median(times)), "batch": batch, "time": t, "window": window}

print(json.dumps({"torch": torch.__version__, "threads": args.threads, "results": results}))
