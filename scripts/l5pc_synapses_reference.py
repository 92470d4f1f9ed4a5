#!/usr/bin/env python3
"""Reference for crates/biophys/tests/l5pc_synapses.rs from NEURON: NeuronIO's cell with its
1278 synapses (ProbAMPANMDA2 and ProbUDFsyn2 with the script's parameters) driven by the first
MS ms of a trial that `simulate_cell --preset l5pc` wrote, plus an event at t = 0 on the first
ten excitatory rows (the mod's 0/0 silences those synapses for the rest of the trial); fixed
step 0.025 ms, secondorder 0, celsius 6.3, initialised at -76 mV.

    cargo run --release --example simulate_cell -- --preset l5pc --seconds 2 --seed 1 --out target/l5pc-cmp/ours.npz
    /work/nrnvenv/bin/python scripts/l5pc_synapses_reference.py target/l5pc-cmp/ours.npz

Writes crates/biophys/tests/data/l5pc_synapses_neuron.json: each row's section and x (NEURON's
names), type, and events (whole ms); the somatic voltage and that of apic[50](0.9) every ms;
the somatic spike times (upward crossings of -20 mV, interpolated within the step)."""
import json, sys

import numpy as np

from l5pc_neuron import TEST_DATA, define_synapse, neuron_with_channels, template_cell

MS = 600
OUT = TEST_DATA / "l5pc_synapses_neuron.json"
ours = np.load(sys.argv[1])
x = ours["x"][:, :MS].astype(bool)
kind, index, pos, syn_type = ours["syn_sec_kind"], ours["syn_sec_index"], ours["syn_x"], ours["syn_type"]
first_excitatory = np.nonzero(syn_type == 1)[0][:10]
x[first_excitatory, 0] = True

h = neuron_with_channels(synapses=True)
import neuron

cell = template_cell(h)
arrays = {0: cell.soma, 1: cell.dend, 2: cell.apic, 3: cell.axon}
synapses = [define_synapse(h, "NMDA" if t == 1 else "GABA_A", arrays[int(k)][int(i)](float(xx)))
            for k, i, xx, t in zip(kind, index, pos, syn_type)]
events = [np.nonzero(row)[0] for row in x]


def add_events():
    for (_, nc), times in zip(synapses, events):
        for t in times:
            nc.event(float(t))


fih = h.FInitializeHandler(add_events)
DT = 0.025
v = h.Vector().record(cell.soma[0](0.5)._ref_v)
vn = h.Vector().record(cell.apic[50](0.9)._ref_v)
h.dt, h.steps_per_ms = DT, 1 / DT
h.finitialize(-76)
h.continuerun(MS)
v, vn = np.array(v), np.array(vn)
thr = -20.0
up = np.nonzero((v[:-1] < thr) & (v[1:] >= thr))[0]
spikes = (up + (thr - v[up]) / (v[up + 1] - v[up])) * DT
every = round(1 / DT)
OUT.write_text(json.dumps({
    "neuron": neuron.__version__, "celsius": h.celsius, "dt": DT, "v_init": -76.0, "ms": MS,
    "rows": [{"kind": int(k), "index": int(i), "x": float(xx), "type": int(t), "events": e.tolist()}
             for k, i, xx, t, e in zip(kind, index, pos, syn_type, events)],
    "v_soma_1ms": v[:-1:every].tolist(), "v_nexus_1ms": vn[:-1:every].tolist(),
    "spike_times_ms": spikes.tolist()}, separators=(",", ":")))
print(f"wrote {OUT}: {len(synapses)} synapses, {sum(len(e) for e in events)} events, {len(spikes)} spikes")
