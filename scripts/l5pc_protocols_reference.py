#!/usr/bin/env python3
"""Reference for crates/biophys/tests/l5pc_protocols.rs: Hay's two firing protocols
(ModelDB 139653, simulationcode/Step_current_firing.hoc and BAC_firing.hoc) run in NEURON on
NeuronIO's cell (L5PCtemplate_2.hoc on cell1.asc with L5PCbiophys5b.hoc, the cell `l5pc`
simulates), at the protocols' v_init of -80 mV and NEURON's default 6.3 C.

    /work/nrnvenv/bin/python scripts/l5pc_protocols_reference.py

- step: 0.793 nA at the soma from 700 to 2700 ms, 3000 ms;
- BAC: 1.9 nA at the soma from 295 to 300 ms and an `epsp` current (tau0 0.5, tau1 5 ms,
  imax 0.5 nA, onset 300 ms) at the thickest apical site 620 um from the soma (the template's
  locateSites, as the protocol picks it), 600 ms; voltages at the soma, that site and the
  thickest apical site at 400 um.

Each at fixed step 0.025 ms (secondorder 0, what the test compares) and with CVODE (the
protocols' own integrator; spike times only, for docs/biophys.md). Writes
crates/biophys/tests/data/l5pc_protocols_neuron.json: the sites (NEURON names and x), the
voltages every ms, the somatic spike times (upward crossings of -20 mV, interpolated)."""
import json

import numpy as np

from l5pc_neuron import TEST_DATA, neuron_with_channels, template_cell

OUT = TEST_DATA / "l5pc_protocols_neuron.json"
h = neuron_with_channels(epsp=True)
cell = template_cell(h)
DT, V_INIT = 0.025, -80.0


def thickest_site(distance):
    sites = cell.locateSites("apic", distance)
    best = max(range(int(sites.count())),
               key=lambda i: cell.apic[int(sites.o(i).x[0])](sites.o(i).x[1]).diam)
    return int(sites.o(best).x[0]), float(sites.o(best).x[1])


def crossings(t, v, thr=-20.0):
    up = np.nonzero((v[:-1] < thr) & (v[1:] >= thr))[0]
    return t[up] + (thr - v[up]) / (v[up + 1] - v[up]) * (t[up + 1] - t[up])


def run(tstop, sites, cvode):
    h.cvode.active(1 if cvode else 0)
    h.secondorder = 0
    h.dt, h.steps_per_ms = DT, 1 / DT
    tv = h.Vector().record(h._ref_t)
    vs = [h.Vector().record(cell.soma[0](0.5)._ref_v)]
    vs += [h.Vector().record(cell.apic[i](x)._ref_v) for i, x in sites]
    h.finitialize(V_INIT)
    h.continuerun(tstop)
    t = np.array(tv)
    grid = np.arange(int(tstop), dtype=float)
    traces = [np.interp(grid, t, np.array(v)).tolist() for v in vs]
    return crossings(t, np.array(vs[0])).tolist(), traces


result = {"neuron": None, "celsius": h.celsius, "dt": DT, "v_init": V_INIT}
import neuron

result["neuron"] = neuron.__version__

stim = h.IClamp(cell.soma[0](0.5))
stim.delay, stim.dur, stim.amp = 700, 2000, 0.793
spikes, traces = run(3000, [], False)
cv_spikes, _ = run(3000, [], True)
result["step"] = {"amplitude": 0.793, "delay": 700, "duration": 2000, "tstop": 3000,
                  "spike_times_ms": spikes, "cvode_spike_times_ms": cv_spikes, "v_soma_1ms": traces[0]}
stim.amp = 0

distal, proximal = thickest_site(620), thickest_site(400)
stim.delay, stim.dur, stim.amp = 295, 5, 1.9
epsp = h.epsp(cell.apic[distal[0]](distal[1]))
epsp.tau0, epsp.tau1, epsp.onset, epsp.imax = 0.5, 5, 300, 0.5
spikes, traces = run(600, [distal, proximal], False)
cv_spikes, _ = run(600, [distal, proximal], True)
h.distance(0, 0.5, sec=cell.soma[0])
result["bac"] = {"soma_pulse": {"amplitude": 1.9, "delay": 295, "duration": 5},
                 "epsp": {"apic": distal[0], "x": distal[1], "tau0": 0.5, "tau1": 5.0, "onset": 300.0, "imax": 0.5,
                          "distance": h.distance(cell.apic[distal[0]](distal[1]))},
                 "proximal": {"apic": proximal[0], "x": proximal[1],
                              "distance": h.distance(cell.apic[proximal[0]](proximal[1]))},
                 "tstop": 600, "spike_times_ms": spikes, "cvode_spike_times_ms": cv_spikes,
                 "v_soma_1ms": traces[0], "v_distal_1ms": traces[1], "v_proximal_1ms": traces[2]}
OUT.write_text(json.dumps(result, separators=(",", ":")))
print(f"wrote {OUT}: step {len(result['step']['spike_times_ms'])} spikes "
      f"(CVODE {len(result['step']['cvode_spike_times_ms'])}), BAC {len(result['bac']['spike_times_ms'])} spikes "
      f"(CVODE {len(result['bac']['cvode_spike_times_ms'])}), distal site apic[{distal[0]}]({distal[1]:.4f}), "
      f"proximal apic[{proximal[0]}]({proximal[1]:.4f})")
