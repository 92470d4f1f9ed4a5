#!/usr/bin/env python3
"""Reference for crates/biophys/tests/l5pc_cell.rs from NEURON 9: Hay's cell as the NeuronIO
script builds it (L5PCtemplate_2.hoc on cell1.asc with L5PCbiophys5b.hoc; NEURON's defaults
otherwise: celsius 6.3, fixed step dt 0.025 ms, secondorder 0, initialised at -76 mV), without
synapses, under a somatic current step.

    .venv/bin/python scripts/l5pc_cell_reference.py

Writes crates/biophys/tests/data/l5pc_cell_neuron.json: the distance-dependent densities of
every apical segment (gIhbar_Ih, gCa_LVAstbar_Ca_LVAst), the somatic voltage and that of a
distal apical site every ms, and the somatic spike times (upward crossings of -20 mV,
interpolated within the step)."""
import json

import numpy as np

from l5pc_neuron import TEST_DATA, neuron_with_channels, template_cell

OUT = TEST_DATA / "l5pc_cell_neuron.json"
h = neuron_with_channels()
cell = template_cell(h)
DT, V_INIT, DELAY, DUR, AMP, END = 0.025, -76.0, 100.0, 300.0, 0.8, 500.0
SITE = ("apic[36]", 0.5)

densities = {}
for sec in cell.apic:
    name = sec.name().split(".")[-1]
    densities[name] = {"gIhbar_Ih": [seg.gIhbar_Ih for seg in sec],
                       "gCa_LVAstbar_Ca_LVAst": [seg.gCa_LVAstbar_Ca_LVAst for seg in sec]}
site = cell.apic[36](SITE[1])
h.distance(0, 0.5, sec=cell.soma[0])
stim = h.IClamp(cell.soma[0](0.5))
stim.delay, stim.dur, stim.amp = DELAY, DUR, AMP
v = h.Vector().record(cell.soma[0](0.5)._ref_v)
vs = h.Vector().record(site._ref_v)
h.dt, h.steps_per_ms = DT, 1 / DT
h.finitialize(V_INIT)
h.continuerun(END)
v, vs = np.array(v), np.array(vs)
thr = -20.0
up = np.nonzero((v[:-1] < thr) & (v[1:] >= thr))[0]
spikes = (up + (thr - v[up]) / (v[up + 1] - v[up])) * DT
every = round(1 / DT)
OUT.write_text(json.dumps({
    "neuron": "9", "celsius": h.celsius, "dt": DT, "v_init": V_INIT,
    "clamp": {"delay": DELAY, "duration": DUR, "amplitude": AMP}, "end": END,
    "site": {"section": SITE[0], "x": SITE[1], "distance": h.distance(site)},
    "apical_densities": densities, "v_soma_1ms": v[:-1:every].tolist(),
    "v_site_1ms": vs[:-1:every].tolist(), "spike_times_ms": spikes.tolist()}))
print(f"wrote {OUT}: {len(spikes)} spikes, site at {h.distance(site):.1f} um")
