//! Hay's layer-5 pyramidal cell as Beniaguev's NeuronIO script builds it: the morphology
//! `data/l5pc/morphologies/cell1.asc` read as Import3d reads it ([`crate::asc`]), the template
//! `L5PCtemplate_2.hoc` (`nseg = 1 + 2·int(L/40)`, the reconstructed axon replaced by two 30 µm
//! sections of 1 µm), and the biophysics of `L5PCbiophys5b.hoc`, with its two distance rules
//! on the apical dendrite evaluated as its hoc evaluates them. NEURON's defaults where the script
//! leaves them: 6.3 °C, initialised at −76 mV. Synapses as the script defines them: one
//! excitatory and one inhibitory on every basal and apical segment (1 278 on this cell), with
//! `ProbAMPANMDA2` (AMPA + NMDA) or, for the AMPA-only variant, `ProbUDFsyn2` (AMPA), and
//! `ProbUDFsyn2` (GABA_A), driven by his input generator ([`crate::neuronio_inputs`]).

use crate::asc::{Neurolucida, Pt3dSection, TreeKind};
use crate::cell::{CellConfig, Inputs, MgBlock, Placement, Receptor, Release, Section};
use crate::error::{BiophysError, Result};
use crate::mechanisms::Mechanism;
use crate::mechanisms::ca_dynamics_e2::CaDynamicsE2;
use crate::mechanisms::hay::{ChannelDensity, HayChannel, Reversals};
use crate::neuronio_inputs::NeuronIoInputs;
use crate::pt3d;
use crate::synapse::SectionKind;

/// The morphology, shipped in the repository (see `data/l5pc/PROVENANCE.md`).
pub const MORPHOLOGY: &str = include_str!("../../../data/l5pc/morphologies/cell1.asc");

/// The template's segment rule.
pub fn template_nseg(length: f64) -> usize {
    1 + 2 * (length / 40.0) as usize
}

/// The script's excitatory synapse, `ProbAMPANMDA2`: AMPA (τ 0.3/3 ms) and NMDA (τ 2/70 ms,
/// the `.mod`'s block `1 / (1 + exp(−0.08·v)·[Mg]/3.57)` at 1 mM), both 0.4 nS, reversal 0 mV.
pub fn ampa_nmda() -> Vec<Receptor> {
    vec![
        Receptor::exp2("ampa", 0.3, 3.0, 0.0, 0.0004),
        Receptor {
            mg_block: Some(MgBlock {
                mg: 1.0,
                k: 3.57,
                gamma: 0.08,
            }),
            ..Receptor::exp2("nmda", 2.0, 70.0, 0.0, 0.0004)
        },
    ]
}

/// The script's AMPA-only excitatory synapse, `ProbUDFsyn2` with τ 0.3/3 ms, 0.4 nS, 0 mV.
pub fn ampa() -> Vec<Receptor> {
    vec![Receptor::exp2("ampa", 0.3, 3.0, 0.0, 0.0004)]
}

/// The script's inhibitory synapse, `ProbUDFsyn2` as GABA_A: τ 0.2/8 ms, 1 nS, −80 mV.
pub fn gaba_a() -> Vec<Receptor> {
    vec![Receptor::exp2("gaba_a", 0.2, 8.0, -80.0, 0.001)]
}

/// NeuronIO's cell (`l5pc`): AMPA + NMDA excitation, the NMDA input ranges.
pub fn cell() -> Result<CellConfig> {
    with_synapses("l5pc", ampa_nmda(), NeuronIoInputs::nmda())
}

/// The AMPA-only variant (`l5pc-ampa`): `ProbUDFsyn2` excitation and the script's AMPA ranges.
pub fn cell_ampa() -> Result<CellConfig> {
    with_synapses("l5pc-ampa", ampa(), NeuronIoInputs::ampa())
}

fn with_synapses(name: &str, excitatory: Vec<Receptor>, inputs: NeuronIoInputs) -> Result<CellConfig> {
    let mut cell = body()?;
    cell.name = name.into();
    cell.excitatory = excitatory;
    cell.inhibitory = gaba_a();
    cell.placement.every_segment_of = vec![SectionKind::Dend, SectionKind::Apic];
    cell.inputs = Inputs::NeuronIo(inputs);
    cell.release = Release::ProbUdfNoDepression;
    cell.validate()?;
    Ok(cell)
}

/// The cell's sections, mechanisms and numerics, without synapses.
pub fn body() -> Result<CellConfig> {
    let file = |message: String| BiophysError::Format {
        path: "data/l5pc/morphologies/cell1.asc".into(),
        message,
    };
    let asc = Neurolucida::parse(MORPHOLOGY).map_err(file)?;
    let soma_points = asc.soma().map_err(file)?;
    // The file's axon is deleted by the template: only the dendrites are kept.
    let trees: Vec<Pt3dSection> = asc
        .sections()
        .into_iter()
        .filter(|s| s.kind != TreeKind::Axon)
        .collect();
    let mut sections = vec![section("soma", soma_points, None, 1.0, somatic())];
    for s in &trees {
        let (mechanisms, cm) = match s.kind {
            TreeKind::Dendrite => (basal(), 2.0),
            _ => (Vec::new(), 2.0), // apical: filled below, once distances are known
        };
        let mut sec = section(
            &s.name,
            s.points.clone(),
            Some(s.parent.map_or(0, |p| p + 1)),
            s.parent_x,
            mechanisms,
        );
        sec.cm = Some(cm);
        sections.push(sec);
    }
    apical_biophysics(&mut sections);
    for (name, parent, parent_x) in [("axon[0]", 0, 0.5), ("axon[1]", sections.len(), 1.0)] {
        sections.push(Section {
            name: name.into(),
            length: 30.0,
            diam: 1.0,
            nseg: template_nseg(30.0),
            parent: Some(parent),
            parent_x,
            mechanisms: axonal(),
            points: Vec::new(),
            cm: None,
        });
    }
    let cell = CellConfig {
        name: "l5pc".into(),
        celsius: 6.3,
        v_init: -76.0,
        ra: 100.0,
        cm: 1.0,
        sections,
        excitatory: Vec::new(),
        inhibitory: Vec::new(),
        placement: Placement::none(),
        inputs: Inputs::NeuronIo(NeuronIoInputs::nmda()),
        release: Release::Always,
        spike_threshold: -20.0,
    };
    cell.validate()?;
    Ok(cell)
}

fn section(
    name: &str,
    points: Vec<crate::asc::Point3>,
    parent: Option<usize>,
    parent_x: f64,
    mechanisms: Vec<Mechanism>,
) -> Section {
    let length = pt3d::length(&points);
    let diam = pt3d::segments(&points, 1, 100.0)[0].diam;
    Section {
        name: name.into(),
        length,
        diam,
        nseg: template_nseg(length),
        parent,
        parent_x,
        mechanisms,
        points,
        cm: None,
    }
}

fn channel(name: HayChannel, gbar: f64) -> Mechanism {
    Mechanism::Channel(ChannelDensity::uniform(name, gbar))
}

fn pool(decay: f64, gamma: f64) -> Mechanism {
    Mechanism::CaDynamicsE2(CaDynamicsE2 {
        decay,
        gamma,
        ..Default::default()
    })
}

const REVERSALS: Mechanism = Mechanism::Reversals(Reversals { ena: 50.0, ek: -85.0 });

/// `forsec somatic` of `L5PCbiophys5b.hoc`.
fn somatic() -> Vec<Mechanism> {
    use HayChannel::*;
    vec![
        Mechanism::pas(3e-5, -90.0),
        channel(Im, 0.000008),
        channel(CaLvast, 0.000557),
        channel(CaHva, 0.000644),
        pool(294.679571, 0.000509),
        channel(SkE2, 0.09965),
        channel(Skv31, 0.338029),
        channel(NaTs2T, 0.998912),
        REVERSALS,
        channel(Ih, 0.0001 * 0.75),
    ]
}

/// `forsec axonal`.
fn axonal() -> Vec<Mechanism> {
    use HayChannel::*;
    vec![
        Mechanism::pas(3e-5, -90.0),
        channel(Im, 0.013322),
        channel(CaLvast, 0.000813),
        channel(CaHva, 0.000222),
        pool(277.300774, 0.000525),
        channel(Skv31, 0.473799),
        channel(SkE2, 0.000047),
        channel(KTst, 0.077274),
        channel(KPst, 0.188851),
        channel(NapEt2, 0.005834),
        channel(NaTaT, 3.89618),
        REVERSALS,
        channel(Ih, 0.0001 / 2.0),
    ]
}

/// `forsec basal` (and `pas` from `forsec all`).
fn basal() -> Vec<Mechanism> {
    vec![Mechanism::pas(6e-5, -90.0), channel(HayChannel::Ih, 0.0001 / 2.0)]
}

/// `forsec apical`, with `Ih` and `Ca_LVAst` by `distribute_channels`: `Ih` rises
/// exponentially with the distance from the soma relative to the longest apical path and is
/// constant beyond 0.65 of it; `Ca_LVAst` is 100× higher between 685 and 885 µm (the calcium
/// hot zone of the apical tuft).
fn apical_biophysics(sections: &mut [Section]) {
    use HayChannel::*;
    let start = path_starts(sections);
    let longest = longest_apical(sections, &start);
    let apical: Vec<usize> = (0..sections.len())
        .filter(|&i| sections[i].name.starts_with("apic"))
        .collect();
    for &i in &apical {
        let s = &sections[i];
        // hoc's `for (x)` visits 0, the centres and 1: the first segment keeps its centre's
        // value, the last one ends with the value at x = 1.
        let distances: Vec<f64> = (0..s.nseg)
            .map(|k| {
                let x = if k + 1 == s.nseg {
                    1.0
                } else {
                    (k as f64 + 0.5) / s.nseg as f64
                };
                start[i] + x * s.length
            })
            .collect();
        // The hoc writes each value through "%-5.10f": ten decimals.
        let ten_decimals = |v: f64| format!("{v:.10}").parse::<f64>().expect("a formatted number");
        let ih: Vec<f64> = distances
            .iter()
            .map(|&d| {
                let rel = d / longest;
                let (a, b, c, e, f): (f64, f64, f64, f64, f64) = (-0.8696, 3.6161, 0.0, 2.0870, 0.00010000000);
                let v = if rel > 0.65 {
                    a + e * (b * (0.65 - c)).exp()
                } else {
                    a + e * (b * (rel - c)).exp()
                };
                ten_decimals(v * f)
            })
            .collect();
        let ca: Vec<f64> = distances
            .iter()
            .map(|&d| ten_decimals(if d > 685.0 && d < 885.0 { 1.0 } else { 0.010000 } * (0.1419540000 * 1.6)))
            .collect();
        let distributed = |name, values: Vec<f64>| {
            Mechanism::Channel(ChannelDensity {
                per_segment: Some(values),
                ..ChannelDensity::uniform(name, 0.0)
            })
        };
        sections[i].mechanisms = vec![
            Mechanism::pas(6e-5, -90.0),
            pool(35.725651, 0.000637),
            channel(SkE2, 0.000002),
            distributed(CaLvast, ca),
            channel(CaHva, 0.000701),
            channel(Skv31, 0.001808),
            channel(NaTs2T, 0.021489),
            channel(Im, 0.00099),
            distributed(Ih, ih),
            REVERSALS,
        ];
    }
}

/// Path distance from the soma's middle (where every tree attaches) to each section's 0-end,
/// µm (sections after their parents).
fn path_starts(sections: &[Section]) -> Vec<f64> {
    let mut start = vec![0.0; sections.len()];
    for i in 1..sections.len() {
        if let Some(p) = sections[i].parent.filter(|&p| p != 0) {
            start[i] = start[p] + sections[p].length;
        }
    }
    start
}

/// The longest path from the soma's middle to an apical tip.
fn longest_apical(sections: &[Section], start: &[f64]) -> f64 {
    (0..sections.len())
        .filter(|&i| sections[i].name.starts_with("apic") && !sections.iter().any(|c| c.parent == Some(i)))
        .map(|i| start[i] + sections[i].length)
        .fold(0.0, f64::max)
}

/// The longest path from the soma's middle to an apical tip, µm (the hoc's `getLongestBranch`).
pub fn longest_apical_path(cell: &CellConfig) -> f64 {
    longest_apical(&cell.sections, &path_starts(&cell.sections))
}
