#!/usr/bin/env python3
"""Reference traces for crates/biophys/tests/l5pc_mechanisms.rs from NEURON 9: each of Hay's
channels (data/l5pc/mods, as Beniaguev's NeuronIO set-up ships them) alone in one compartment
under voltage-clamp steps, and the calcium pool (Ca_HVA + CaDynamics_E2 + SK_E2) under a step
to 0 mV, at NEURON's defaults as simulate_L5PC_and_create_dataset.py leaves them (celsius 6.3,
dt 0.025, fixed step, secondorder 0).

    python3 -m venv .venv && .venv/bin/pip install neuron numpy
    .venv/bin/python scripts/l5pc_mechanisms_reference.py

Compiles the channel mods into target/l5pc-mods (the synapse mods are not needed here) and
writes crates/biophys/tests/data/l5pc_mechanisms_neuron.json: per channel and step level the
gate states and the channel's current density (mA/cm2), sampled every ms, as NEURON records
them (a value at t is the one computed in the step that ends at t).

The clamp is an SEClamp with rs = 1e-9 MOhm: the membrane follows its command to about 1e-9
mV; the command that a step from t to t + dt sees is the one at t + dt/2 (when NEURON evaluates
the clamp), which the tests reproduce."""
import json

from l5pc_neuron import TEST_DATA, neuron_with_channels

OUT = TEST_DATA / "l5pc_mechanisms_neuron.json"
CHANNELS = ["NaTa_t", "NaTs2_t", "Nap_Et2", "K_Pst", "K_Tst", "SKv3_1", "Ca_HVA", "Ca_LVAst",
            "Ih", "Im"]
h = neuron_with_channels()
DT, HOLD, T_ON, T_OFF, T_END = 0.025, -80.0, 5.0, 25.0, 35.0
# Step levels away from every rate's removable singularity (NaTs2_t's h at -60, Ca_HVA's m at
# -27, ...): there the clamp's 1e-10 mV decides whether the .mod's guard fires, and the
# unguarded formula is 0/0. The guards are tested on their own in Rust.
LEVELS = [-65.0, -35.0, 5.0, 25.0]
GATES = {"NaTa_t": "mh", "NaTs2_t": "mh", "Nap_Et2": "mh", "K_Pst": "mh", "K_Tst": "mh",
         "SKv3_1": "m", "Ca_HVA": "mh", "Ca_LVAst": "mh", "Ih": "m", "Im": "m", "SK_E2": "z"}
CURRENT = {"NaTa_t": "ina", "NaTs2_t": "ina", "Nap_Et2": "ina", "K_Pst": "ik", "K_Tst": "ik",
           "SKv3_1": "ik", "Ca_HVA": "ica", "Ca_LVAst": "ica", "Ih": "ihcn_Ih", "Im": "ik",
           "SK_E2": "ik"}


def run(mechanisms, level, record):
    """One compartment with `mechanisms` (name -> {param: value}), clamped HOLD -> level -> HOLD."""
    sec = h.Section(name="cell")
    sec.L = sec.diam = 10
    sec.cm, sec.Ra = 1, 100
    for name, params in mechanisms.items():
        sec.insert(name)
        for p, value in params.items():
            setattr(sec(0.5), p, value)
    # The template's reversals, where the mechanisms use the ion.
    for ion, e in (("k", -85.0), ("na", 50.0)):
        if hasattr(sec(0.5), f"e{ion}"):
            setattr(sec, f"e{ion}", e)
    clamp = h.SEClamp(sec(0.5))
    clamp.rs = 1e-9
    clamp.dur1, clamp.amp1 = T_ON, HOLD
    clamp.dur2, clamp.amp2 = T_OFF - T_ON, level
    clamp.dur3, clamp.amp3 = T_END - T_OFF, HOLD
    h.dt, h.steps_per_ms = DT, 1 / DT
    vectors = {k: h.Vector().record(ref(sec(0.5))) for k, ref in record.items()}
    vectors["v"] = h.Vector().record(sec(0.5)._ref_v)
    h.finitialize(HOLD)
    h.continuerun(T_END)
    every_ms = round(1 / DT)
    out = {k: list(v)[::every_ms] for k, v in vectors.items()}
    worst = max(abs(v - (HOLD if (i * DT < T_ON or i * DT > T_OFF) else level))
                for i, v in enumerate(vectors["v"]) if i > 0 and abs(i * DT - T_ON) > DT
                and abs(i * DT - T_OFF) > DT)
    assert worst < 1e-6, f"the clamp let v stray by {worst} mV"
    del clamp, sec
    return out


def gate_refs(name):
    refs = {g: (lambda s, g=g: getattr(s, f"_ref_{g}_{name}")) for g in GATES[name]}
    cur = CURRENT[name]
    refs["i"] = (lambda s, c=cur: getattr(s, f"_ref_{c}"))
    return refs


report = {
    "neuron": h.nrnversion(5) if hasattr(h, "nrnversion") else "",
    "celsius": h.celsius, "dt": DT, "hold": HOLD, "step_on": T_ON, "step_off": T_OFF,
    "end": T_END, "levels": LEVELS, "ek": -85.0, "ena": 50.0, "channels": {},
}
G = 0.01  # S/cm2: any density; the tests scale by it
for name in CHANNELS:
    report["channels"][name] = [run({name: {f"g{name}bar_{name}": G}}, level, gate_refs(name))
                                for level in LEVELS]
# Calcium: the channel's eca when no mechanism writes cai (NEURON's default for the ion).
report["eca_default"] = run({"Ca_HVA": {"gCa_HVAbar_Ca_HVA": G}}, 0.0,
                            {"eca": lambda s: s._ref_eca})["eca"][-1]
pool = {"Ca_HVA": {"gCa_HVAbar_Ca_HVA": 0.001}, "CaDynamics_E2": {"gamma_CaDynamics_E2": 0.0005,
        "decay_CaDynamics_E2": 80.0}, "SK_E2": {"gSK_E2bar_SK_E2": G}}
report["calcium"] = {
    "params": pool,
    "traces": run(pool, 0.0, {"cai": lambda s: s._ref_cai, "eca": lambda s: s._ref_eca,
                              "ica": lambda s: s._ref_ica, "z": lambda s: s._ref_z_SK_E2,
                              "ik": lambda s: s._ref_ik}),
}
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps(report, indent=None))
print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
