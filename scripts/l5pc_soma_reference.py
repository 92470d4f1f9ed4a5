#!/usr/bin/env python3
"""Reference traces for crates/biophys/tests/l5pc_channels.rs from NEURON 9: one compartment
with the somatic membrane of Hay's cell as L5PCbiophys5b.hoc sets it (pas, Im, Ca_LVAst, Ca_HVA,
CaDynamics_E2, SK_E2, SKv3_1, NaTs2_t, Ih; ek -85, ena 50), at NEURON's defaults as the NeuronIO
script leaves them (celsius 6.3, fixed step dt 0.025, secondorder 0), initialised at -76 mV,
under a current step, and the same with the axon's membrane (NaTa_t, Nap_Et2, K_Pst, K_Tst
added) so that every channel runs inside the step loop.

    .venv/bin/python scripts/l5pc_soma_reference.py

Compiles the channel mods into target/l5pc-mods (as l5pc_mechanisms_reference.py does) and
writes crates/biophys/tests/data/l5pc_soma_neuron.json: per membrane the voltage and cai every
ms and the upward crossings of -20 mV (interpolated within the step)."""
import json

import numpy as np

from l5pc_neuron import TEST_DATA, neuron_with_channels

OUT = TEST_DATA / "l5pc_soma_neuron.json"
h = neuron_with_channels()
DT, V_INIT, DELAY, DUR, AMP, END = 0.025, -76.0, 100.0, 250.0, 0.2, 400.0
L = DIAM = 20.0

# L5PCbiophys5b.hoc's somatic and axonal values.
SOMATIC = {"pas": {"g_pas": 3e-5, "e_pas": -90}, "Im": {"gImbar_Im": 0.000008},
           "Ca_LVAst": {"gCa_LVAstbar_Ca_LVAst": 0.000557}, "Ca_HVA": {"gCa_HVAbar_Ca_HVA": 0.000644},
           "CaDynamics_E2": {"decay_CaDynamics_E2": 294.679571, "gamma_CaDynamics_E2": 0.000509},
           "SK_E2": {"gSK_E2bar_SK_E2": 0.09965}, "SKv3_1": {"gSKv3_1bar_SKv3_1": 0.338029},
           "NaTs2_t": {"gNaTs2_tbar_NaTs2_t": 0.998912}, "Ih": {"gIhbar_Ih": 0.0001 * 0.75}}
AXONAL = {"pas": {"g_pas": 3e-5, "e_pas": -90}, "Im": {"gImbar_Im": 0.013322},
          "Ca_LVAst": {"gCa_LVAstbar_Ca_LVAst": 0.000813}, "Ca_HVA": {"gCa_HVAbar_Ca_HVA": 0.000222},
          "CaDynamics_E2": {"decay_CaDynamics_E2": 277.300774, "gamma_CaDynamics_E2": 0.000525},
          "SKv3_1": {"gSKv3_1bar_SKv3_1": 0.473799}, "SK_E2": {"gSK_E2bar_SK_E2": 0.000047},
          "K_Tst": {"gK_Tstbar_K_Tst": 0.077274}, "K_Pst": {"gK_Pstbar_K_Pst": 0.188851},
          "Nap_Et2": {"gNap_Et2bar_Nap_Et2": 0.005834}, "NaTa_t": {"gNaTa_tbar_NaTa_t": 3.89618},
          "Ih": {"gIhbar_Ih": 0.0001 / 2}}


def run(membrane):
    sec = h.Section(name="soma")
    sec.L, sec.diam, sec.nseg, sec.cm, sec.Ra = L, DIAM, 1, 1.0, 100.0
    for name, params in membrane.items():
        sec.insert(name)
        for p, value in params.items():
            setattr(sec(0.5), p, value)
    sec.ek, sec.ena = -85.0, 50.0
    stim = h.IClamp(sec(0.5))
    stim.delay, stim.dur, stim.amp = DELAY, DUR, AMP
    v = h.Vector().record(sec(0.5)._ref_v)
    cai = h.Vector().record(sec(0.5)._ref_cai)
    h.dt, h.steps_per_ms = DT, 1 / DT
    h.finitialize(V_INIT)
    h.continuerun(END)
    v, cai = np.array(v), np.array(cai)
    thr = -20.0
    up = np.nonzero((v[:-1] < thr) & (v[1:] >= thr))[0]
    spikes = (up + (thr - v[up]) / (v[up + 1] - v[up])) * DT
    every = round(1 / DT)
    out = {"v_1ms": v[:-1:every].tolist(), "cai_1ms": cai[:-1:every].tolist(),
           "spike_times_ms": spikes.tolist()}
    del stim, sec
    return out


report = {"neuron": "9", "celsius": h.celsius, "dt": DT, "v_init": V_INIT, "length": L,
          "diam": DIAM, "clamp": {"delay": DELAY, "duration": DUR, "amplitude": AMP}, "end": END,
          "somatic": {"membrane": SOMATIC, **run(SOMATIC)},
          "axonal": {"membrane": AXONAL, **run(AXONAL)}}
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(report))
print(f"wrote {OUT}: somatic {len(report['somatic']['spike_times_ms'])} spikes, "
      f"axonal {len(report['axonal']['spike_times_ms'])} spikes")
