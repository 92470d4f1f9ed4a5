#!/usr/bin/env python3
"""Reference numbers for crates/biophys/tests/validation.rs from NEURON 9: a single hh
compartment (L = diam = 20 um, NEURON's hh defaults, 6.3 C, dt 0.025, backward Euler) at rest and
under a 0.1 nA step from 10 ms to 510 ms, with hh's table on (NEURON's default) and off.

    python scripts/neuron_hh_reference.py

Prints the resting potential after 1 s, the first spike's peak and its width above -20 mV, and
the spike count during the step (upward crossings of -20 mV, interpolated within the step)."""
import numpy as np
from neuron import h

h.load_file("stdrun.hoc")
for table in (1, 0):
    soma = h.Section(name="soma")
    soma.L = soma.diam = 20
    soma.insert("hh")
    soma.Ra, soma.cm = 150, 1
    h.celsius = 6.3
    h.usetable_hh = table
    h.cvode.active(0)
    h.secondorder = 0
    h.dt, h.steps_per_ms = 0.025, 40
    v = h.Vector().record(soma(0.5)._ref_v)
    h.finitialize(-65)
    h.continuerun(1000)
    rest = soma(0.5).v
    stim = h.IClamp(soma(0.5))
    stim.delay, stim.dur, stim.amp = 10, 500, 0.1
    v = h.Vector().record(soma(0.5)._ref_v)
    h.finitialize(-65)
    h.continuerun(600)
    v = np.array(v)
    thr = -20.0
    up = np.nonzero((v[:-1] < thr) & (v[1:] >= thr))[0]
    down = np.nonzero((v[:-1] >= thr) & (v[1:] < thr))[0]
    t_up = (up + (thr - v[up]) / (v[up + 1] - v[up])) * 0.025
    t_down = (down + (thr - v[down]) / (v[down + 1] - v[down])) * 0.025
    first = slice(up[0], down[0] + 1)
    print(f"table={table}: rest {rest:.9f} mV, first spike peak {v[first].max():.9f} mV at "
          f"{np.argmax(v[first]) * 0.025 + up[0] * 0.025:.3f} ms, width above -20 mV "
          f"{t_down[0] - t_up[0]:.9f} ms, spikes in the step {len(t_up)}, first at {t_up[0]:.9f} ms, "
          f"last at {t_up[-1]:.9f} ms")
    del stim, soma
