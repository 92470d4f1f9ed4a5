#!/usr/bin/env python3
"""Runs NeuronIO's set-up in NEURON on the inputs of a trial that `simulate_cell --preset l5pc`
wrote, and compares the two (docs/biophys.md, "Hay's layer-5 pyramidal cell").

    cargo run --release --example simulate_cell -- --preset l5pc --seconds 6 --seed 1 \
        --record-synapse-segments --out target/l5pc-cmp/ours.npz
    /work/nrnvenv/bin/python scripts/l5pc_neuron_compare.py target/l5pc-cmp/ours.npz \
        --out target/l5pc-cmp/neuron.npz [--cvode] [--shuffle]

The cell is the template's (L5PCtemplate_2.hoc on cell1.asc, L5PCbiophys5b.hoc), with one
synapse per raster row as the script defines them (ProbAMPANMDA2 or, for l5pc-ampa, ProbUDFsyn2
as AMPA; ProbUDFsyn2 as GABA_A) on the row's section (syn_sec_kind, syn_sec_index) at syn_x, and
the row's spikes as NetCon events at whole ms (added by an FInitializeHandler, as the script
does). NEURON's defaults otherwise (celsius 6.3), initialised at -76 mV; fixed step dt 0.025 ms,
secondorder 0, and with --cvode also CVODE at its default tolerances (the script's integrator).

Prints spike counts, spike coincidence (spikes matched one to one within 1 ms), the largest
shift of a matched spike, the RMS of the somatic voltages clipped at -55 mV (NeuronIO's
evaluation), and with --record-synapse-segments the RMS at every synaptic segment (the distal
apical site apic[50](0.9), the script's nexus, named), and NEURON's wall time on one core. --out
writes NEURON's trial in the project's format (rows shuffled with --shuffle), for
`simulate_cell --preset l5pc --inputs FILE` and `fit_neuron --eval FILE`; --out-cvode writes the
CVODE run's (the integrator NeuronIO's data were made with)."""
import argparse, json, time, zipfile

import numpy as np

from l5pc_neuron import define_synapse, neuron_with_channels, template_cell

ap = argparse.ArgumentParser()
ap.add_argument("ours")
ap.add_argument("--out")
ap.add_argument("--cvode", action="store_true")
ap.add_argument("--out-cvode", help="also write CVODE's trial (NeuronIO's integrator; implies --cvode)")
ap.add_argument("--shuffle", action="store_true")
ap.add_argument("--json", action="store_true")
args = ap.parse_args()

ours = np.load(args.ours)
meta = json.loads(bytes(ours["meta_json"]).decode()) if "meta_json" in ours else {}
ampa_only = meta.get("cell") == "l5pc-ampa"
x = ours["x"].astype(bool)
kind, index, pos = ours["syn_sec_kind"], ours["syn_sec_index"], ours["syn_x"]
syn_type = ours["syn_type"]
T = x.shape[1]

h = neuron_with_channels(synapses=True)
import neuron

cell = template_cell(h)
arrays = {0: cell.soma, 1: cell.dend, 2: cell.apic, 3: cell.axon}
name = {0: "soma", 1: "dend", 2: "apic", 3: "axon"}


def segment(k, i, xx):
    return arrays[int(k)][int(i)](float(xx))


synapses = [define_synapse(h, ("AMPA" if ampa_only else "NMDA") if t == 1 else "GABA_A", segment(k, i, xx))
            for k, i, xx, t in zip(kind, index, pos, syn_type)]
events = [np.nonzero(row)[0].astype(float) for row in x]


def add_events():
    for (_, nc), times in zip(synapses, events):
        for t in times:
            nc.event(t)


fih = h.FInitializeHandler(add_events)
# Recording sites: each synaptic segment once, in the order the rows first reach it (as
# simulate_cell --record-synapse-segments records them).
sites, seen = [], set()
for k, i, xx in zip(kind, index, pos):
    key = (int(k), int(i), float(xx))
    if key not in seen:
        seen.add(key)
        sites.append(key)
nexus = cell.apic[50](0.9)
nexus_site = next(n for n, (k, i, xx) in enumerate(sites)
                  if k == 2 and i == 50 and segment(k, i, xx).node_index() == nexus.node_index())


def run(cvode):
    h.cvode.active(1 if cvode else 0)
    h.secondorder = 0
    h.dt = 0.025
    tv = h.Vector().record(h._ref_t)
    vs = h.Vector().record(cell.soma[0](0.5)._ref_v)
    vd = [h.Vector().record(segment(*s)._ref_v) for s in sites]
    h.finitialize(-76)
    start = time.perf_counter()
    h.continuerun(T)
    wall = time.perf_counter() - start
    t = np.array(tv)
    v = np.array(vs)
    grid = np.arange(T, dtype=float)
    thr = -20.0
    up = np.nonzero((v[:-1] < thr) & (v[1:] >= thr))[0]
    spikes = t[up] + (thr - v[up]) / (v[up + 1] - v[up]) * (t[up + 1] - t[up])
    return {"v_soma_1ms": np.interp(grid, t, v), "spikes": spikes, "wall": wall,
            "v_sites_1ms": np.array([np.interp(grid, t, np.array(r)) for r in vd])}


def matched(a, b, window=1.0):
    """Spikes of a and b paired one to one, nearest first, within window ms."""
    pairs, used = [], set()
    for i, ta in enumerate(a):
        j = int(np.argmin(np.abs(b - ta))) if len(b) else -1
        if j >= 0 and j not in used and abs(b[j] - ta) <= window:
            used.add(j)
            pairs.append(b[j] - ta)
    return np.array(pairs)


def compare(label, ref, other_spikes, other_soma, other_sites):
    d = matched(ref["spikes"], other_spikes)
    n_ref, n_other = len(ref["spikes"]), len(other_spikes)
    clip = lambda v: np.minimum(v, -55.0)
    out = {"spikes_reference": n_ref, "spikes": n_other,
           "coincidence": len(d) / max(n_ref, n_other, 1),
           "max_shift_ms": float(np.abs(d).max()) if len(d) else 0.0,
           "clipped_soma_rms_mv": float(np.sqrt(np.mean((clip(ref["v_soma_1ms"]) - clip(other_soma)) ** 2)))}
    if other_sites is not None and len(other_sites) == len(sites):
        rms = np.sqrt(np.mean((ref["v_sites_1ms"] - other_sites) ** 2, axis=1))
        out["nexus_rms_mv"] = float(rms[nexus_site])
        out["max_site_rms_mv"] = float(rms.max())
        out["worst_site"] = "%s[%d](%.4f)" % (name[sites[int(rms.argmax())][0]], sites[int(rms.argmax())][1],
                                             sites[int(rms.argmax())][2])
    print(f"{label}: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in out.items()))
    return out


fixed = run(False)
report = {"neuron": neuron.__version__, "ms": T, "synapses": len(synapses),
          "neuron_fixed_wall_s": fixed["wall"],
          "neuron_fixed_simulated_s_per_wall_s": T / 1000 / fixed["wall"]}
our_sites = ours["v_sites_1ms"] if "v_sites_1ms" in ours else None
report["ours_vs_neuron_fixed"] = compare("ours vs NEURON fixed step", fixed, ours["spike_times_ms"],
                                         ours["v_soma_1ms"], our_sites)
if args.cvode or args.out_cvode:
    cv = run(True)
    report["neuron_cvode_wall_s"] = cv["wall"]
    report["neuron_cvode_simulated_s_per_wall_s"] = T / 1000 / cv["wall"]
    report["neuron_cvode_vs_fixed"] = compare("NEURON CVODE vs NEURON fixed step", fixed, cv["spikes"],
                                              cv["v_soma_1ms"], cv["v_sites_1ms"])
print(f"NEURON {neuron.__version__} fixed step: {T / 1000:.1f} s simulated in {fixed['wall']:.1f} s "
      f"({T / 1000 / fixed['wall']:.3f} simulated s per wall s)"
      + (f"; CVODE {cv['wall']:.1f} s" if args.cvode or args.out_cvode else ""))
if args.json:
    print(json.dumps(report))
def write(path, result, integrator):
    order = np.random.default_rng(0).permutation(len(synapses)) if args.shuffle else np.arange(len(synapses))
    y = np.zeros(T, dtype=np.int8)
    y[np.minimum(np.floor(result["spikes"]).astype(int), T - 1)] = 1
    arrays_out = {"x": x[order], "syn_type": syn_type[order].astype(np.int64),
                  "syn_sec_kind": kind[order].astype(np.int64), "syn_sec_index": index[order].astype(np.int64),
                  "syn_x": pos[order].astype(np.float64), "v_soma_1ms": result["v_soma_1ms"],
                  "spike_times_ms": result["spikes"], "y_spike": y,
                  "meta_json": np.frombuffer(json.dumps({"made_by": f"NEURON {neuron.__version__}",
                                                          "integrator": integrator,
                                                          "script": "scripts/l5pc_neuron_compare.py",
                                                          "from": args.ours}).encode(), dtype=np.uint8)}
    np.savez(path, **arrays_out)
    print(f"wrote {path}")


if args.out:
    write(args.out, fixed, "fixed step dt 0.025 ms")
if args.out_cvode:
    write(args.out_cvode, cv, "CVODE, default tolerances")
