"""What the l5pc reference scripts share: Hay's channel mods (data/l5pc/mods) and, on request,
NeuronIO's two synapse mods compiled into target/l5pc-mods and loaded into NEURON; the
template's cell; the script's synapses."""
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "l5pc"
BUILD = ROOT / "target" / "l5pc-mods"
TEST_DATA = ROOT / "crates" / "biophys" / "tests" / "data"
CHANNEL_MODS = ["NaTa_t", "NaTs2_t", "Nap_Et2", "K_Pst", "K_Tst", "SKv3_1", "SK_E2", "Ca_HVA",
                "Ca_LVAst", "CaDynamics_E2", "Ih", "Im"]


SYNAPSE_MODS = ["ProbAMPANMDA2", "ProbUDFsyn2"]
# NEURON 9 declares these itself (with other types); the mods' own declarations then fail to
# compile. Dropping the two lines changes nothing else (8.2 compiles the files unchanged).
NEURON9_CONFLICTS = ["double nrn_random_pick(void* r);", "void* nrn_random_arg(int argpos);"]


def neuron_with_channels(synapses=False, epsp=False):
    """NEURON's `h` with the channel mods (and the synapse mods, Hay's `epsp` current, if asked)
    loaded, fixed step, secondorder 0. Each NEURON version builds into its own folder."""
    import neuron
    build = BUILD / f"neuron-{neuron.__version__}"
    build.mkdir(parents=True, exist_ok=True)
    for name in CHANNEL_MODS + (SYNAPSE_MODS if synapses else []) + (["epsp"] if epsp else []):
        text = (DATA / "mods" / f"{name}.mod").read_text()
        if int(neuron.__version__.split(".")[0]) >= 9:
            text = "\n".join(l for l in text.split("\n") if l.strip() not in NEURON9_CONFLICTS)
        target = build / f"{name}.mod"
        if not target.exists() or target.read_text() != text:  # unchanged: make rebuilds nothing
            target.write_text(text)
    done = subprocess.run([str(Path(sys.executable).parent / "nrnivmodl"), "."], cwd=build,
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"nrnivmodl failed in {build}:\n{done.stdout}\n{done.stderr}")
    from neuron import h
    h.nrn_load_dll(str(build / "x86_64" / "libnrnmech.so"))
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


def define_synapse(h, kind, segment):
    """The script's DefineSynapse_NMDA / _AMPA / _GABA_A on `segment` (kind: "NMDA", "AMPA",
    "GABA_A"), with its NetCon (delay 0, weight 1) and no generator."""
    if kind == "NMDA":
        s = h.ProbAMPANMDA2(segment)
        s.tau_r_AMPA, s.tau_d_AMPA, s.tau_r_NMDA, s.tau_d_NMDA = 0.3, 3.0, 2.0, 70.0
        s.gmax, s.e = 0.0004, 0
    elif kind == "AMPA":
        s = h.ProbUDFsyn2(segment)
        s.tau_r, s.tau_d, s.gmax, s.e = 0.3, 3.0, 0.0004, 0
    else:
        s = h.ProbUDFsyn2(segment)
        s.tau_r, s.tau_d, s.gmax, s.e = 0.2, 8, 0.001, -80
    s.Use, s.u0, s.Dep, s.Fac = 1, 0, 0, 0
    nc = h.NetCon(None, s)
    nc.delay, nc.weight[0] = 0, 1
    return s, nc
