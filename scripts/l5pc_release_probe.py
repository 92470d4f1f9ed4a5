#!/usr/bin/env python3
"""Which input events NeuronIO's synapses release, measured in NEURON (8.2 or 9).

    /work/nrnvenv/bin/python scripts/l5pc_release_probe.py        # NEURON 9 (mods patched)
    /work/nrn82/bin/python scripts/l5pc_release_probe.py          # NEURON 8.2 (mods as shipped)

ProbAMPANMDA2 and ProbUDFsyn2 with the script's parameters (Use 1, Dep 0, Fac 0, u0 0) on one
compartment, NetCon events every 5 ms; a release shows as a jump of the rise state (A_AMPA, A).
One NMDA synapse also gets an event at t = 0, where the mod computes exp(-(t - tsyn)/Dep) =
exp(-0/0): its Pv turns NaN and it never releases again. The script never calls setRNG, so
erand() returns an uninitialised local (the mod's VERBATIM falls through); in these builds it
is below Pr = 1 on every event. Prints the counts for fixed step and CVODE (docs/biophys.md)."""
import numpy as np

from l5pc_neuron import define_synapse, neuron_with_channels

h = neuron_with_channels(synapses=True)
import neuron

soma = h.Section(name="soma")
soma.L = soma.diam = 20
soma.insert("pas")
later = [5.0 * k for k in range(1, 200)]
cases = [("NMDA, event at t = 0 and later", "NMDA", "A_AMPA", [0.0] + later),
         ("NMDA", "NMDA", "A_AMPA", later), ("AMPA", "AMPA", "A", later),
         ("GABA_A", "GABA_A", "A", later)]
for cvode in (0, 1):
    h.cvode.active(cvode)
    syns = [define_synapse(h, kind, soma(0.5)) for _, kind, _, _ in cases]

    def add():
        for (s, nc), (_, _, _, times) in zip(syns, cases):
            for t in times:
                nc.event(t)

    fih = h.FInitializeHandler(add)
    recs = [h.Vector().record(getattr(s, "_ref_" + state), 0.025)
            for (s, _), (_, _, state, _) in zip(syns, cases)]
    tv = h.Vector().record(h._ref_t, 0.025)
    h.dt = 0.025
    h.finitialize(-76)
    h.continuerun(1000.5)
    t = np.array(tv)
    for rec, (label, _, _, times) in zip(recs, cases):
        a = np.array(rec)
        released = sum(a[min(np.searchsorted(t, te) + 2, len(a) - 1)] > a[max(np.searchsorted(t, te) - 1, 0)] * 1.0001 + 1e-12
                       for te in times)
        print(f"NEURON {neuron.__version__} {'CVODE' if cvode else 'fixed step'}: {label}: "
              f"{released} of {len(times)} events released")
    del fih, syns, recs
