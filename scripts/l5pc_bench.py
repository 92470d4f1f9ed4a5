#!/usr/bin/env python3
"""Speed of the `l5pc` preset against NEURON, one core each, same cell and inputs, one run
(docs/benchmarks.md, "Hay's cell: biophys against NEURON").

    python3 scripts/l5pc_bench.py [--seconds 2] [--neuron9 /work/nrnvenv] [--neuron82 /work/nrn82]

Runs, one after the other on an otherwise idle machine: `simulate_cell --preset l5pc` on one
thread (RAYON_NUM_THREADS=1) for one trial and for eight trials in lockstep (the batch the
simulator vectorises across), then NEURON 9 at fixed step and with CVODE and NEURON 8.2 at fixed
step on the first trial's inputs (scripts/l5pc_neuron_compare.py, which times `continuerun`
only). Prints simulated seconds per wall second for each, the ratios, the peak memory of our
runs, and the time one simulated hour of NeuronIO-style data takes on this machine's cores."""
import argparse, json, os, re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ap = argparse.ArgumentParser()
ap.add_argument("--seconds", type=float, default=2.0)
ap.add_argument("--neuron9", default="/work/nrnvenv")
ap.add_argument("--neuron82", default="/work/nrn82")
args = ap.parse_args()
out = ROOT / "target" / "l5pc-bench"
out.mkdir(parents=True, exist_ok=True)
subprocess.run(["cargo", "build", "--release", "--example", "simulate_cell"], cwd=ROOT, check=True)
sim = ROOT / "target" / "release" / "examples" / "simulate_cell"
env = dict(os.environ, RAYON_NUM_THREADS="1")


def ours(trials):
    cmd = ["/usr/bin/time", "-v", str(sim), "--preset", "l5pc", "--seconds", str(args.seconds), "--seed", "1",
           "--trials", str(trials), "--out", str(out / f"ours-{trials}.npz"), "--json"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    summary = json.loads(done.stdout)
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))
    return summary["simulated_seconds_per_wall_second"], rss_kb / 1024


def neuron(venv, cvode):
    first = out / ("ours-1.npz")
    cmd = [f"{venv}/bin/python", str(ROOT / "scripts" / "l5pc_neuron_compare.py"), str(first), "--json"]
    if cvode:
        cmd.append("--cvode")
    done = subprocess.run(cmd, cwd=ROOT / "scripts", capture_output=True, text=True, check=True)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report


one, rss1 = ours(1)
eight, rss8 = ours(8)
n9 = neuron(args.neuron9, True)
n82 = neuron(args.neuron82, False) if Path(args.neuron82).exists() else None
rows = [("biophys, 1 trial", one), ("biophys, 8 trials in lockstep (per trial)", eight),
        (f"NEURON {n9['neuron']} fixed step", n9["neuron_fixed_simulated_s_per_wall_s"]),
        (f"NEURON {n9['neuron']} CVODE", n9["neuron_cvode_simulated_s_per_wall_s"])]
if n82:
    rows.append((f"NEURON {n82['neuron']} fixed step", n82["neuron_fixed_simulated_s_per_wall_s"]))
base = n9["neuron_fixed_simulated_s_per_wall_s"]
print(f"{args.seconds:g} s of l5pc (NMDA), seed 1, one core each")
print(f"{'run':<45} {'sim s / wall s':>14} {'vs NEURON 9 fixed':>18}")
for name, rate in rows:
    print(f"{name:<45} {rate:>14.3f} {rate / base:>17.1f}x")
print(f"peak memory: 1 trial {rss1:.0f} MiB, 8 trials {rss8:.0f} MiB "
      f"({(rss8 - rss1) / 7:.1f} MiB per extra trial, for {args.seconds:g} s trials)")
cores = os.cpu_count()
print(f"one simulated hour at the batched rate: {3600 / eight / 60:.0f} min on one core, "
      f"{3600 / eight / 60 / cores:.0f} min on this machine's {cores} cores")
print(json.dumps({"seconds": args.seconds, "rates": dict(rows), "rss_mib": {"1": rss1, "8": rss8},
                  "agreement": n9["ours_vs_neuron_fixed"]}))
