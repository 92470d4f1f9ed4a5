#!/usr/bin/env python3
"""Reference sections for crates/biophys/tests/l5pc_morphology.rs from NEURON 9: Hay's cell as
the NeuronIO script builds it (Import3d_Neurolucida3 of data/l5pc/morphologies/cell1.asc through
L5PCtemplate_2.hoc and L5PCbiophys5b.hoc: nseg = 1 + 2 int(L/40), the axon replaced by two 30 um
sections, Ra 100).

    .venv/bin/python scripts/l5pc_morphology_reference.py

Compiles the channel mods into target/l5pc-mods (the template inserts them) and writes
crates/biophys/tests/data/l5pc_sections_neuron.json: per section its name, parent, parent_x,
3-D points (as NEURON stores them: single precision), L, nseg, and each segment's area (um2) and
ri (MOhm)."""
import json, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "l5pc"
BUILD = ROOT / "target" / "l5pc-mods"
OUT = ROOT / "crates" / "biophys" / "tests" / "data" / "l5pc_sections_neuron.json"
CHANNELS = ["NaTa_t", "NaTs2_t", "Nap_Et2", "K_Pst", "K_Tst", "SKv3_1", "SK_E2", "Ca_HVA",
            "Ca_LVAst", "CaDynamics_E2", "Ih", "Im"]
BUILD.mkdir(parents=True, exist_ok=True)
for name in CHANNELS:
    shutil.copy(DATA / "mods" / f"{name}.mod", BUILD / f"{name}.mod")
subprocess.run([str(Path(sys.executable).parent / "nrnivmodl"), "."], cwd=BUILD, check=True,
               stdout=subprocess.DEVNULL)

from neuron import h  # noqa: E402

h.nrn_load_dll(str(BUILD / "x86_64" / "libnrnmech.so"))
h.load_file("stdrun.hoc")
h.load_file("import3d.hoc")
h.load_file(str(DATA / "L5PCbiophys5b.hoc"))
h.load_file(str(DATA / "L5PCtemplate_2.hoc"))
cell = h.L5PCtemplate(str(DATA / "morphologies" / "cell1.asc"))


def short(sec):
    return sec.name().split(".")[-1]


sections = []
for sec in cell.all:
    ref = h.SectionRef(sec=sec)
    sections.append({
        "name": short(sec),
        "parent": short(ref.parent) if ref.has_parent() else None,
        "parent_x": sec.parentseg().x if ref.has_parent() else None,
        "points": [[sec.x3d(i), sec.y3d(i), sec.z3d(i), sec.diam3d(i)] for i in range(sec.n3d())],
        "L": sec.L, "nseg": sec.nseg, "Ra": sec.Ra,
        "area": [seg.area() for seg in sec], "ri": [seg.ri() for seg in sec],
    })
OUT.parent.mkdir(parents=True, exist_ok=True)
OUT.write_text(json.dumps({"neuron": "9", "sections": sections}))
print(f"wrote {OUT}: {len(sections)} sections, "
      f"{sum(s['nseg'] for s in sections if s['name'][:4] in ('dend', 'apic'))} dendritic segments")
