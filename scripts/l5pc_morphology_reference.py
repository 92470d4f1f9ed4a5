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
import json

from l5pc_neuron import TEST_DATA, neuron_with_channels, template_cell

OUT = TEST_DATA / "l5pc_sections_neuron.json"
h = neuron_with_channels()
cell = template_cell(h)


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
