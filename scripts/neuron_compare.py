#!/usr/bin/env python3
"""Check crates/biophys against NEURON 9 on the same cell and the same inputs, and time both.

Setup (once): python3 -m venv .venv && .venv/bin/pip install neuron numpy
(NEURON compiles scripts/neuron/exp2nmda.mod with its nrnivmodl, which needs a C compiler).

    python scripts/neuron_compare.py                       # bs4, 30 s, seed 1, both cell variants
    python scripts/neuron_compare.py --trial FILE.npz      # compare an existing simulated trial
    python scripts/neuron_compare.py --speed-trials 4      # also a batch of trials on all cores

Accuracy: replays the trial's synapses and raster in NEURON (fixed step, backward Euler,
secondorder 0, the trial's dt and hh table setting), then after a burn-in reports the spike
coincidence factor (+-2 ms), the somatic RMS error with voltage clipped at -55 mV, the RMS error at
the recorded dendritic sites and the spike counts.

Speed: simulated seconds per wall second of one trial on one core (the Rust simulator through
`cargo run --release --example simulate_cell`, NEURON through h.continuerun), and of a batch of
trials on all cores (Rust: --trials N with its thread pool; NEURON: one process per trial).

Not part of CI (the tests are Rust-only); numbers go to docs/biophys.md and docs/benchmarks.md.
"""
import argparse
import glob
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MOD = os.path.join(ROOT, "scripts", "neuron", "exp2nmda.mod")
_MECH = None


def load_mechanisms():
    """Compiles exp2nmda.mod once per process and loads it into NEURON."""
    global _MECH
    from neuron import h
    if _MECH is not None:
        return h
    tmp = tempfile.mkdtemp(prefix="nrnmod-")
    shutil.copy(MOD, tmp)
    nrnivmodl = shutil.which("nrnivmodl") or os.path.join(os.path.dirname(sys.executable), "nrnivmodl")
    subprocess.run([nrnivmodl], cwd=tmp, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lib = glob.glob(os.path.join(tmp, "*", "libnrnmech.so")) + glob.glob(os.path.join(tmp, "*", ".libs", "libnrnmech.so"))
    h.nrn_load_dll(lib[0])
    h.load_file("stdrun.hoc")
    _MECH = tmp
    return h


def build(h, cell, trial):
    """The cell of `cell` (crates/biophys JSON) with the trial's synapses and events."""
    secs = []
    for s in cell["sections"]:
        sec = h.Section(name=s["name"])
        sec.L, sec.diam, sec.nseg = s["length"], s["diam"], s["nseg"]
        sec.Ra, sec.cm = cell["ra"], cell["cm"]
        for m in s["mechanisms"]:
            sec.insert(m["kind"])
            for seg in sec:
                if m["kind"] == "pas":
                    seg.pas.g, seg.pas.e = m["g"], m["e"]
                else:
                    seg.hh.gnabar, seg.hh.gkbar, seg.hh.gl, seg.hh.el = m["gnabar"], m["gkbar"], m["gl"], m["el"]
                    seg.ena, seg.ek = m["ena"], m["ek"]
        secs.append(sec)
    for s, sec in zip(cell["sections"], secs):
        if s["parent"] is not None:
            sec.connect(secs[s["parent"]](s["parent_x"]), 0)
    h.celsius = cell["celsius"]
    keep = []
    x = trial["x"]
    for i, (b, pos, kind) in enumerate(zip(trial["syn_branch"], trial["syn_pos"], trial["syn_type"])):
        sec = secs[int(b) + 1]
        times = np.nonzero(x[i])[0].astype(float)
        for r in cell["excitatory"] if kind == 1 else cell["inhibitory"]:
            if r.get("mg_block"):
                pp = h.Exp2NMDA(sec(pos))
                pp.mg, pp.k, pp.gamma = r["mg_block"]["mg"], r["mg_block"]["k"], r["mg_block"]["gamma"]
            else:
                pp = h.Exp2Syn(sec(pos))
            pp.tau1, pp.tau2, pp.e = r["tau1"], r["tau2"], r["e"]
            nc = h.NetCon(None, pp)
            nc.weight[0], nc.delay = r["weight"], 0.0
            keep.append((pp, nc, times))
    return secs, keep


def run_neuron(trial, table=None):
    """Replays a trial in NEURON: (soma v every step, site v every step, wall seconds, dt)."""
    h = load_mechanisms()
    meta = json.loads(bytes(trial["meta_json"]).decode())
    cell, sim = meta["cell"], meta["sim"]
    dt = sim["dt"]
    secs, keep = build(h, cell, trial)

    def queue():
        for _, nc, times in keep:
            for t in times:
                nc.event(t)

    handler = h.FInitializeHandler(1, queue)
    soma = h.Vector().record(secs[0](0.5)._ref_v)
    sites = [h.Vector().record(secs[int(b) + 1](p)._ref_v)
             for b, p in zip(trial.get("site_branch", []), trial.get("site_pos", []))]
    h.cvode.active(0)
    h.secondorder = 0
    h.dt, h.steps_per_ms = dt, 1.0 / dt
    h.usetable_hh = int(sim["hh_table"] if table is None else table)
    ms = x_ms(trial)
    h.tstop = ms
    h.finitialize(cell["v_init"])
    t0 = time.perf_counter()
    h.continuerun(ms)
    wall = time.perf_counter() - t0
    del handler
    return np.array(soma), [np.array(v) for v in sites], wall, dt


def x_ms(trial):
    return trial["x"].shape[1]


def crossings(v, dt, threshold=-20.0):
    up = np.nonzero((v[:-1] < threshold) & (v[1:] >= threshold))[0]
    return (up + (threshold - v[up]) / (v[up + 1] - v[up])) * dt


def coincidence(data, model, duration, delta=2.0):
    """Kistler et al. (1997) coincidence factor of `model` spikes against `data` spikes."""
    if len(data) == 0 and len(model) == 0:
        return 1.0
    used = np.zeros(len(model), bool)
    n_coinc = 0
    for t in data:
        near = np.nonzero((np.abs(model - t) <= delta) & ~used)[0]
        if len(near):
            used[near[np.argmin(np.abs(model[near] - t))]] = True
            n_coinc += 1
    rate = len(model) / duration
    expected = 2 * rate * delta * len(data)
    norm = 1 - 2 * rate * delta
    return (n_coinc - expected) / (0.5 * (len(data) + len(model)) * norm)


def compare(path, burn_in, table=None):
    d = np.load(path)
    trial = {k: d[k] for k in d.files}
    v_n, sites_n, wall, dt = run_neuron(trial, table)
    spm = int(round(1 / dt))
    ms = x_ms(trial)
    v_n_1ms = v_n[: ms * spm : spm]
    keep = np.arange(ms) >= burn_in
    clip = lambda v: np.minimum(v, -55.0)
    v_r = trial["v_soma_1ms"]
    spikes_n = crossings(v_n, dt)
    spikes_n, spikes_r = spikes_n[spikes_n >= burn_in], trial["spike_times_ms"][trial["spike_times_ms"] >= burn_in]
    out = dict(
        trial=os.path.basename(path),
        cell=json.loads(bytes(trial["meta_json"]).decode())["cell"]["name"],
        ms=int(ms),
        burn_in_ms=burn_in,
        hh_table=bool(json.loads(bytes(trial["meta_json"]).decode())["sim"]["hh_table"] if table is None else table),
        spikes_neuron=int(len(spikes_n)),
        spikes_rust=int(len(spikes_r)),
        spike_count_rel_diff=float(abs(len(spikes_r) - len(spikes_n)) / max(len(spikes_n), 1)),
        coincidence=float(coincidence(spikes_n, spikes_r, (ms - burn_in) / 1000.0 * 1000.0)),
        soma_rms_clipped_mv=float(np.sqrt(np.mean((clip(v_r) - clip(v_n_1ms))[keep] ** 2))),
        soma_rms_mv=float(np.sqrt(np.mean((v_r - v_n_1ms)[keep] ** 2))),
        neuron_wall_s=wall,
    )
    if sites_n:
        errs = [np.sqrt(np.mean((trial["v_sites_1ms"][i] - s[: ms * spm : spm])[keep] ** 2))
                for i, s in enumerate(sites_n)]
        out["dendrite_rms_mv"] = float(np.sqrt(np.mean(np.square(errs))))
        out["dendrite_rms_max_mv"] = float(np.max(errs))
    return out


def neuron_worker(path):
    d = np.load(path)
    trial = {k: d[k] for k in d.files}
    return run_neuron(trial)[2]


def rust(args, *extra):
    cmd = ["cargo", "run", "--release", "--quiet", "--example", "simulate_cell", "--"] + list(extra) + ["--json"]
    res = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(res.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trial", help="compare this simulated trial (.npz) instead of simulating")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--burn-in", type=float, default=500)
    ap.add_argument("--speed-trials", type=int, default=0, help="also time a batch of N trials on all cores")
    ap.add_argument("--speed-seconds", type=float, default=10, help="simulated seconds per trial of that batch")
    ap.add_argument("--skip-accuracy", action="store_true", help="only the speed batch")
    ap.add_argument("--out", default=os.path.join(ROOT, "target", "neuron_compare.json"))
    a = ap.parse_args()
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    rows = []
    if a.trial:
        rows.append(compare(a.trial, a.burn_in))
    else:
        tmp = tempfile.mkdtemp(prefix="biophys-")
        for preset, flags in [] if a.skip_accuracy else [("bs4", []), ("bs4", ["--no-nmda"])]:
            for table in ([], ["--exact-rates"]) if not flags else ([],):
                path = os.path.join(tmp, f"{preset}{''.join(flags)}{''.join(table)}.npz")
                r = rust(a, "--preset", preset, *flags, *table, "--seconds", str(a.seconds), "--seed", str(a.seed),
                         "--record-dendrites", "--out", path)
                row = compare(path, a.burn_in)
                row["rust_wall_s"] = r["wall_seconds"]
                row["rust_sim_s_per_wall_s"] = r["simulated_seconds"] / r["wall_seconds"]
                row["neuron_sim_s_per_wall_s"] = a.seconds / row["neuron_wall_s"]
                row["speedup_one_core"] = row["rust_sim_s_per_wall_s"] / row["neuron_sim_s_per_wall_s"]
                rows.append(row)
                print(json.dumps(row), flush=True)
        if a.speed_trials:
            n, cores, secs = a.speed_trials, os.cpu_count(), a.speed_seconds
            args = ["--preset", "bs4", "--seconds", str(secs), "--seed", str(a.seed), "--trials", str(n)]
            # One core: the Rust batch in lockstep groups of 8, NEURON one trial at a time.
            os.environ["RAYON_NUM_THREADS"] = "1"
            r1 = rust(a, *args, "--out", os.path.join(tmp, "one.npz"))
            del os.environ["RAYON_NUM_THREADS"]
            r = rust(a, *args, "--out", os.path.join(tmp, "batch.npz"))
            paths = [os.path.join(tmp, f"batch-{i}.npz") for i in range(n)]
            t0 = time.perf_counter()
            neuron_worker(paths[0])
            neuron_one = time.perf_counter() - t0
            t0 = time.perf_counter()
            with mp.Pool(cores) as pool:
                pool.map(neuron_worker, paths)
            neuron_wall = time.perf_counter() - t0
            batch = dict(trials=n, cores=cores, seconds_each=secs,
                         rust_one_core_sim_s_per_wall_s=n * secs / r1["wall_seconds"],
                         neuron_one_core_sim_s_per_wall_s=secs / neuron_one,
                         rust_wall_s=r["wall_seconds"], neuron_wall_s=neuron_wall,
                         rust_sim_s_per_wall_s=n * secs / r["wall_seconds"],
                         neuron_sim_s_per_wall_s=n * secs / neuron_wall)
            batch["speedup_one_core"] = batch["rust_one_core_sim_s_per_wall_s"] / batch["neuron_one_core_sim_s_per_wall_s"]
            batch["speedup_all_cores"] = batch["rust_sim_s_per_wall_s"] / batch["neuron_sim_s_per_wall_s"]
            rows.append(dict(batch=batch))
            print(json.dumps(batch), flush=True)
    import neuron
    report = dict(neuron=neuron.__version__, rows=rows)
    with open(a.out, "w") as f:
        json.dump(report, f, indent=1)
    for r in rows:
        if "coincidence" in r:
            print(f"{r['cell']:<10} table={r['hh_table']!s:<5} spikes neuron {r['spikes_neuron']:>4} rust {r['spikes_rust']:>4}  "
                  f"coincidence {r['coincidence']:.4f}  soma rms (clipped) {r['soma_rms_clipped_mv']:.4f} mV  "
                  f"dendrite rms {r.get('dendrite_rms_mv', float('nan')):.4f} mV")
    print(f"report: {a.out}")


if __name__ == "__main__":
    main()
