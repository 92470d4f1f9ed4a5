"""What the l5pc reference scripts share: Hay's channel mods (data/l5pc/mods, the synapses
left out) compiled into target/l5pc-mods and loaded into NEURON, and the template's cell."""
import shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "l5pc"
BUILD = ROOT / "target" / "l5pc-mods"
TEST_DATA = ROOT / "crates" / "biophys" / "tests" / "data"
CHANNEL_MODS = ["NaTa_t", "NaTs2_t", "Nap_Et2", "K_Pst", "K_Tst", "SKv3_1", "SK_E2", "Ca_HVA",
                "Ca_LVAst", "CaDynamics_E2", "Ih", "Im"]


def neuron_with_channels():
    """NEURON's `h` with the channel mods loaded, fixed step, secondorder 0."""
    BUILD.mkdir(parents=True, exist_ok=True)
    for name in CHANNEL_MODS:
        shutil.copy(DATA / "mods" / f"{name}.mod", BUILD / f"{name}.mod")
    subprocess.run([str(Path(sys.executable).parent / "nrnivmodl"), "."], cwd=BUILD, check=True,
                   stdout=subprocess.DEVNULL)
    from neuron import h
    h.nrn_load_dll(str(BUILD / "x86_64" / "libnrnmech.so"))
    h.load_file("stdrun.hoc")
    h.cvode.active(0)
    h.secondorder = 0
    return h


def template_cell(h):
    """Hay's cell as the NeuronIO script builds it (L5PCtemplate_2.hoc on cell1.asc)."""
    h.load_file("import3d.hoc")
    h.load_file(str(DATA / "L5PCbiophys5b.hoc"))
    h.load_file(str(DATA / "L5PCtemplate_2.hoc"))
    return h.L5PCtemplate(str(DATA / "morphologies" / "cell1.asc"))
