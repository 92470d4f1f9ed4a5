//! What a cell is: sections (morphology), membrane mechanisms, receptors, where synapses sit,
//! and the statistics of its inputs. Plain data (serde), checked by [`CellConfig::validate`].
//!
//! Units: µm, mV, ms, nA, µS, nF; specific quantities as in NEURON (Ω·cm, µF/cm², S/cm²).

use std::path::Path;

use serde::{Deserialize, Serialize};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{BiophysError, Result, finite, non_negative, positive};
use crate::mechanisms::Mechanism;
use crate::neuronio_inputs::{self, InputRow, NeuronIoInputs, Tree};
use crate::stimulus::{self, InputConfig, Raster};
use crate::synapse::{Branch, SectionKind, SectionName, SynapseType, Synapses};

/// One unbranched cable, as a NEURON section: `nseg` segments of equal length, each a node at
/// its centre. Its 0-end attaches to `parent` at `parent_x` (NEURON's `connect(parent(x), 0)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    /// Name (`soma`, `basal0`); errors name it.
    pub name: String,
    /// Length, µm.
    pub length: f64,
    /// Diameter, µm.
    pub diam: f64,
    /// Number of segments (nodes).
    pub nseg: usize,
    /// Index of the parent section; `None` only for section 0, the soma (the root).
    pub parent: Option<usize>,
    /// Where on the parent the 0-end attaches, in `[0, 1]`. Default 1 (NEURON's default).
    #[serde(default = "one")]
    pub parent_x: f64,
    /// Membrane mechanisms inserted (none: capacitance only).
    #[serde(default)]
    pub mechanisms: Vec<Mechanism>,
    /// 3-D points (NEURON's `pt3d`, single precision). When given (2 or more), each segment's
    /// area and axial resistance come from them as NEURON integrates them ([`crate::pt3d`]) and
    /// `length` must be their path length; `diam` is then only descriptive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points: Vec<crate::asc::Point3>,
    /// This section's specific membrane capacitance, µF/cm² (default: the cell's `cm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cm: Option<f64>,
}

fn one() -> f64 {
    1.0
}

/// A synaptic conductance: a double exponential (NEURON's `Exp2Syn`, peak-normalised so that one
/// event of weight `w` peaks at `w`), optionally voltage-dependent through a magnesium block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receptor {
    /// Name (`ampa`, `nmda`, `gaba_a`).
    pub name: String,
    /// Rise time constant, ms.
    pub tau1: f64,
    /// Decay time constant, ms.
    pub tau2: f64,
    /// Reversal, mV.
    pub e: f64,
    /// Peak conductance of one event, µS (0.4 nS = 0.0004 µS).
    pub weight: f64,
    /// Magnesium block (NMDA); `None`: voltage-independent.
    #[serde(default)]
    pub mg_block: Option<MgBlock>,
}

/// Jahr–Stevens magnesium block: `g·s / (1 + [Mg]/k · exp(−γ·v))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MgBlock {
    /// Extracellular magnesium, mM.
    pub mg: f64,
    /// `k`, mM (Jahr & Stevens: 3.57).
    #[serde(default = "k_mg")]
    pub k: f64,
    /// `γ`, 1/mV (0.062).
    #[serde(default = "gamma_mg")]
    pub gamma: f64,
}

fn k_mg() -> f64 {
    3.57
}
fn gamma_mg() -> f64 {
    0.062
}

impl MgBlock {
    /// `[Mg]` in mM with Jahr and Stevens' constants.
    pub fn jahr_stevens(mg: f64) -> Self {
        Self {
            mg,
            k: k_mg(),
            gamma: gamma_mg(),
        }
    }

    /// The unblocked fraction at `v` (mV): `1 / (1 + [Mg]/k · exp(−γ·v))`.
    pub fn unblocked(&self, v: f64) -> f64 {
        1.0 / (1.0 + (self.gamma * -v).exp() * (self.mg / self.k))
    }
}

impl Receptor {
    /// AMPA: τ1 0.3, τ2 3 ms, reversal 0 mV, `weight` µS.
    pub fn ampa(weight: f64) -> Self {
        Self::exp2("ampa", 0.3, 3.0, 0.0, weight)
    }

    /// NMDA: τ1 2, τ2 70 ms, reversal 0 mV, `weight` µS, 1 mM magnesium.
    pub fn nmda(weight: f64) -> Self {
        Self {
            mg_block: Some(MgBlock::jahr_stevens(1.0)),
            ..Self::exp2("nmda", 2.0, 70.0, 0.0, weight)
        }
    }

    /// GABA_A: τ1 0.2, τ2 8 ms, reversal −80 mV, `weight` µS.
    pub fn gaba_a(weight: f64) -> Self {
        Self::exp2("gaba_a", 0.2, 8.0, -80.0, weight)
    }

    /// A voltage-independent double-exponential receptor: rise `tau1`, decay `tau2` (ms),
    /// reversal `e` (mV), peak conductance `weight` (µS).
    pub fn exp2(name: &str, tau1: f64, tau2: f64, e: f64, weight: f64) -> Self {
        Self {
            name: name.into(),
            tau1,
            tau2,
            e,
            weight,
            mg_block: None,
        }
    }

    /// The time constants NEURON's `Exp2Syn` actually uses: τ1 is raised to `0.9999·τ2` when
    /// closer (the normalisation needs τ1 < τ2), and to `1e-9·τ2` when smaller.
    pub fn effective_taus(&self) -> (f64, f64) {
        let (mut tau1, tau2) = (self.tau1, self.tau2);
        if tau1 / tau2 > 0.9999 {
            tau1 = 0.9999 * tau2;
        }
        if tau1 / tau2 < 1e-9 {
            tau1 = tau2 * 1e-9;
        }
        (tau1, tau2)
    }

    /// `Exp2Syn`'s peak normalisation: one event adds `weight · factor` to both states, so that
    /// `B − A` peaks at `weight`.
    pub fn factor(&self) -> f64 {
        let (tau1, tau2) = self.effective_taus();
        let tp = (tau1 * tau2) / (tau2 - tau1) * (tau2 / tau1).ln();
        1.0 / (-(-tp / tau1).exp() + (-tp / tau2).exp())
    }

    fn validate(&self) -> Result<()> {
        let what = || format!("receptor {}", self.name);
        positive(what, "tau1", self.tau1)?;
        positive(what, "tau2", self.tau2)?;
        finite(what, "e", self.e)?;
        non_negative(what, "weight", self.weight)?;
        if let Some(b) = &self.mg_block {
            non_negative(what, "mg_block.mg", b.mg)?;
            positive(what, "mg_block.k", b.k)?;
            finite(what, "mg_block.gamma", b.gamma)?;
        }
        Ok(())
    }
}

/// How many synaptic sites a cell has and where: dendritic sites uniformly by length over every
/// dendrite, somatic sites at the soma's middle, drawn from `seed`; or (NeuronIO's layout) one
/// excitatory and one inhibitory site on every segment of the named kinds of section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// Excitatory sites on the dendrites.
    pub dendritic_excitatory: usize,
    /// Inhibitory sites on the dendrites.
    pub dendritic_inhibitory: usize,
    /// Inhibitory sites on the soma.
    pub somatic_inhibitory: usize,
    /// Seed of the site positions (another seed: the same cell with other random sites).
    #[serde(default)]
    pub seed: u64,
    /// NeuronIO's layout instead of random sites: an excitatory site at the centre of every
    /// segment of every section of these kinds (in this order of kinds, each by index), then an
    /// inhibitory site on each of the same segments. The three counts must then be 0.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub every_segment_of: Vec<SectionKind>,
}

impl Placement {
    /// No sites.
    pub fn none() -> Self {
        Self {
            dendritic_excitatory: 0,
            dendritic_inhibitory: 0,
            somatic_inhibitory: 0,
            seed: 0,
            every_segment_of: Vec::new(),
        }
    }
}

/// What drives a cell's synapses when inputs are generated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Inputs {
    /// Smoothed random rates per branch ([`crate::stimulus::generate`]).
    Rates(InputConfig),
    /// Beniaguev's generator: counts per tree, weighted by segment length
    /// ([`crate::neuronio_inputs`]). Every site must be on a `dend[i]` or `apic[i]` section.
    NeuronIo(NeuronIoInputs),
}

/// Which input events release transmitter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Release {
    /// Every event (`Exp2Syn`).
    #[default]
    Always,
    /// `ProbAMPANMDA2` and `ProbUDFsyn2` with NeuronIO's parameters (`Use` 1, `Dep` 0, `Fac` 0):
    /// every event releases, except that an event at t = 0 (the instant the synapse's `tsyn` was
    /// initialised) computes `exp(−0/0)`, leaves the vesicle pool `Pv` NaN and silences that
    /// synapse for the rest of the trial (measured in NEURON 9 and 8.2: docs/biophys.md).
    ProbUdfNoDepression,
}

impl Release {
    fn is_always(&self) -> bool {
        *self == Self::Always
    }
}

/// A whole cell: morphology, passive properties, mechanisms, receptors, synaptic sites, inputs.
///
/// Section 0 is the soma (the root); the other sections are the dendrites, numbered from 0 in
/// this order (the `syn_branch` of a trial file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellConfig {
    /// Cell name (`bs4`).
    pub name: String,
    /// Temperature, °C (scales `hh`'s rates by 3^((celsius − 6.3)/10)).
    pub celsius: f64,
    /// Initial membrane potential, mV.
    pub v_init: f64,
    /// Axial resistivity, Ω·cm.
    pub ra: f64,
    /// Specific membrane capacitance, µF/cm².
    pub cm: f64,
    /// Sections; section 0 is the soma.
    pub sections: Vec<Section>,
    /// Receptors at every excitatory site (all driven by that site's input row).
    pub excitatory: Vec<Receptor>,
    /// Receptors at every inhibitory site.
    pub inhibitory: Vec<Receptor>,
    /// Where the sites are.
    pub placement: Placement,
    /// Statistics of the generated inputs.
    pub inputs: Inputs,
    /// Which events release (default: all).
    #[serde(default, skip_serializing_if = "Release::is_always")]
    pub release: Release,
    /// Somatic spike threshold for upward crossings, mV. Default −20.
    #[serde(default = "threshold")]
    pub spike_threshold: f64,
}

fn threshold() -> f64 {
    -20.0
}

impl CellConfig {
    /// "Ball and four sticks": an `hh` soma (L = diam = 20 µm) with four passive dendrites on
    /// its middle (basal0, basal1: 200 µm, 10 segments; apical0, apical1: 400 µm, 20 segments;
    /// diam 1 µm, `pas` g 5e-5 S/cm², e −65 mV), 6.3 °C, v_init −65 mV, Ra 150 Ω·cm, cm 1 µF/cm².
    /// 200 excitatory sites (AMPA 0.4 nS + NMDA 0.4 nS, [Mg] 1 mM) and 40 inhibitory sites
    /// (GABA_A 1 nS) over the dendrites by length, 10 GABA_A sites on the soma; inputs peak at
    /// 6 Hz (excitatory) and 15 Hz (inhibitory) per site before the per-site gain.
    pub fn bs4() -> Self {
        let pas = vec![Mechanism::pas(5e-5, -65.0)];
        let dend = |name: &str, length: f64, nseg: usize| Section {
            name: name.into(),
            length,
            diam: 1.0,
            nseg,
            parent: Some(0),
            parent_x: 0.5,
            mechanisms: pas.clone(),
            points: Vec::new(),
            cm: None,
        };
        Self {
            name: "bs4".into(),
            celsius: 6.3,
            v_init: -65.0,
            ra: 150.0,
            cm: 1.0,
            sections: vec![
                Section {
                    name: "soma".into(),
                    length: 20.0,
                    diam: 20.0,
                    nseg: 1,
                    parent: None,
                    parent_x: 1.0,
                    mechanisms: vec![Mechanism::hh()],
                    points: Vec::new(),
                    cm: None,
                },
                dend("basal0", 200.0, 10),
                dend("basal1", 200.0, 10),
                dend("apical0", 400.0, 20),
                dend("apical1", 400.0, 20),
            ],
            excitatory: vec![Receptor::ampa(0.0004), Receptor::nmda(0.0004)],
            inhibitory: vec![Receptor::gaba_a(0.001)],
            placement: Placement {
                dendritic_excitatory: 200,
                dendritic_inhibitory: 40,
                somatic_inhibitory: 10,
                seed: 0,
                every_segment_of: Vec::new(),
            },
            inputs: Inputs::Rates(InputConfig::default()),
            release: Release::Always,
            spike_threshold: threshold(),
        }
    }

    /// The AMPA-only control of [`CellConfig::bs4`]: no NMDA, AMPA at 0.8 nS.
    pub fn bs4_ampa_only() -> Self {
        Self::bs4().without_nmda()
    }

    /// The same cell without voltage-dependent (magnesium-blocked) receptors: each one's weight
    /// moves onto the first voltage-independent excitatory receptor, so the total peak
    /// conductance of an excitatory event is kept (bs4: AMPA 0.4 + NMDA 0.4 nS → AMPA 0.8 nS).
    /// The name gains `-ampa`. A cell without such receptors is returned unchanged.
    pub fn without_nmda(&self) -> Self {
        let blocked: f64 = self
            .excitatory
            .iter()
            .filter(|r| r.mg_block.is_some())
            .map(|r| r.weight)
            .sum();
        let mut out = self.clone();
        out.excitatory.retain(|r| r.mg_block.is_none());
        if out.excitatory.len() == self.excitatory.len() {
            return out;
        }
        if let Some(first) = out.excitatory.first_mut() {
            first.weight += blocked;
        }
        out.name = format!("{}-ampa", self.name);
        out
    }

    /// Number of dendrites (every section but the soma).
    pub fn dendrites(&self) -> usize {
        self.sections.len().saturating_sub(1)
    }

    /// Reads a cell from JSON and validates it.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| BiophysError::Io {
            path: path.into(),
            source,
        })?;
        let cell: Self = serde_json::from_str(&text).map_err(|e| BiophysError::Format {
            path: path.into(),
            message: format!("not a cell description: {e}"),
        })?;
        cell.validate()?;
        Ok(cell)
    }

    /// A section's 3-D points: at least 2, finite, diameters ≥ 0, and `length` their path.
    fn validate_points(&self, s: &Section, what: &dyn Fn() -> String) -> Result<()> {
        if s.points.len() < 2 {
            return Err(BiophysError::Invalid {
                what: what(),
                field: "points",
                expected: "at least 2 3-D points (or none)",
                value: s.points.len() as f64,
            });
        }
        for p in &s.points {
            for x in [p.x, p.y, p.z] {
                finite(what, "points (x, y, z)", x as f64)?;
            }
            non_negative(what, "points (diameter)", p.d as f64)?;
        }
        let path = crate::pt3d::length(&s.points);
        if (path - s.length).abs() > 1e-9 * path.max(1.0) {
            return Err(BiophysError::Invalid {
                what: what(),
                field: "length",
                expected: "the path length of the section's 3-D points",
                value: s.length,
            });
        }
        Ok(())
    }

    /// Checks every number, and that the sections form one tree rooted at section 0.
    pub fn validate(&self) -> Result<()> {
        let cell = || format!("cell {}", self.name);
        finite(cell, "celsius", self.celsius)?;
        finite(cell, "v_init", self.v_init)?;
        positive(cell, "ra", self.ra)?;
        positive(cell, "cm", self.cm)?;
        finite(cell, "spike_threshold", self.spike_threshold)?;
        if self.sections.is_empty() {
            return Err(BiophysError::Morphology(
                "a cell needs at least one section (the soma)".into(),
            ));
        }
        for (i, s) in self.sections.iter().enumerate() {
            let what = || format!("section {i} ({})", s.name);
            positive(what, "length", s.length)?;
            positive(what, "diam", s.diam)?;
            if s.nseg == 0 {
                return Err(BiophysError::Invalid {
                    what: what(),
                    field: "nseg",
                    expected: "at least 1",
                    value: 0.0,
                });
            }
            if !(0.0..=1.0).contains(&s.parent_x) {
                return Err(BiophysError::Invalid {
                    what: what(),
                    field: "parent_x",
                    expected: "in [0, 1]",
                    value: s.parent_x,
                });
            }
            for m in &s.mechanisms {
                m.validate(&what)?;
                if let Mechanism::Channel(c) = m
                    && let Some(v) = &c.per_segment
                    && v.len() != s.nseg
                {
                    return Err(BiophysError::Invalid {
                        what: what(),
                        field: "channel.per_segment",
                        expected: "one density per segment (nseg values)",
                        value: v.len() as f64,
                    });
                }
            }
            if let Some(cm) = s.cm {
                positive(what, "cm", cm)?;
            }
            if !s.points.is_empty() {
                self.validate_points(s, &what)?;
            }
            match (i, s.parent) {
                (0, Some(p)) => {
                    return Err(BiophysError::Morphology(format!(
                        "section 0 ({}) is the soma and must be the root, but names parent {p}",
                        s.name
                    )));
                }
                (0, None) => {}
                (_, None) => {
                    return Err(BiophysError::Morphology(format!(
                        "section {i} ({}) has no parent; only section 0 (the soma) may be the root",
                        s.name
                    )));
                }
                (_, Some(p)) if p >= self.sections.len() => {
                    return Err(BiophysError::Morphology(format!(
                        "section {i} ({}) names parent {p}, which does not exist (the cell has {} sections)",
                        s.name,
                        self.sections.len()
                    )));
                }
                _ => {}
            }
        }
        // Every section must reach the root in fewer steps than there are sections.
        for start in 0..self.sections.len() {
            let mut path = vec![start];
            let mut at = start;
            while let Some(p) = self.sections[at].parent {
                if path.contains(&p) {
                    path.push(p);
                    let names: Vec<String> = path
                        .iter()
                        .map(|&i| format!("{i} ({})", self.sections[i].name))
                        .collect();
                    return Err(BiophysError::Morphology(format!(
                        "sections form a cycle: {}",
                        names.join(" → ")
                    )));
                }
                path.push(p);
                at = p;
            }
        }
        for r in self.excitatory.iter().chain(&self.inhibitory) {
            r.validate()?;
        }
        match &self.inputs {
            Inputs::Rates(r) => r.validate()?,
            Inputs::NeuronIo(n) => n.validate()?,
        }
        let p = &self.placement;
        if !p.every_segment_of.is_empty() && p.dendritic_excitatory + p.dendritic_inhibitory + p.somatic_inhibitory > 0
        {
            return Err(BiophysError::Inputs(format!(
                "cell {}: placement names both random sites ({} + {} + {}) and a site on every segment of {:?}; \
                 choose one",
                self.name, p.dendritic_excitatory, p.dendritic_inhibitory, p.somatic_inhibitory, p.every_segment_of
            )));
        }
        Ok(())
    }

    /// The section called `name` (NEURON's `soma`, `dend[i]`, `apic[i]`, `axon[i]`), if any.
    pub fn section_named(&self, name: SectionName) -> Option<usize> {
        self.sections
            .iter()
            .position(|s| SectionName::parse(&s.name) == Some(name))
    }

    /// Section `i`'s NEURON name, if it has one.
    pub fn section_name(&self, i: usize) -> Option<SectionName> {
        SectionName::parse(&self.sections.get(i)?.name)
    }

    /// Each site's section by NEURON name, if every one of those sections has such a name (a
    /// trial file's `syn_sec_kind` and `syn_sec_index`).
    pub fn section_names_of(&self, synapses: &Synapses) -> Option<Vec<SectionName>> {
        synapses.branch.iter().map(|b| self.section_name(b.section())).collect()
    }

    /// `ms` ms of generated input for `synapses` from `seed`, by the cell's [`Inputs`].
    pub fn input_raster(&self, synapses: &Synapses, ms: usize, seed: u64) -> Result<Raster> {
        match &self.inputs {
            Inputs::Rates(r) => Ok(stimulus::generate(r, synapses, ms, seed)),
            Inputs::NeuronIo(n) => {
                let rows = (0..synapses.len())
                    .map(|i| {
                        let section = synapses.branch[i].section();
                        let tree = match self.section_name(section).map(|n| n.kind) {
                            Some(SectionKind::Dend) => Tree::Basal,
                            Some(SectionKind::Apic) => Tree::Apical,
                            _ => {
                                return Err(BiophysError::Inputs(format!(
                                    "NeuronIO inputs drive sites on dend[i] and apic[i] only, but synapse {i} is on \
                                     section {section} ({}) of cell {}",
                                    self.sections.get(section).map_or("none", |s| s.name.as_str()),
                                    self.name
                                )));
                            }
                        };
                        let s = &self.sections[section];
                        Ok(InputRow {
                            tree,
                            kind: synapses.kind[i],
                            length_um: s.length / s.nseg as f64,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                neuronio_inputs::generate(n, &rows, ms, seed)
            }
        }
    }

    /// Total dendritic length, µm.
    pub fn dendritic_length(&self) -> f64 {
        self.sections[1..].iter().map(|s| s.length).sum()
    }
}

/// Placing synapses needs the cell; the synapse types do not (they are shared with the
/// stimulus and the files).
impl Synapses {
    /// The cell's sites as its [`crate::cell::Placement`] draws them: excitatory dendritic sites
    /// first, then inhibitory dendritic, then somatic inhibitory (at the soma's middle).
    /// Dendritic sites are uniform by length over all dendrites.
    pub fn place(cell: &CellConfig) -> Self {
        let p = &cell.placement;
        if !p.every_segment_of.is_empty() {
            return Self::every_segment(cell, &p.every_segment_of);
        }
        let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
        let lengths: Vec<f64> = cell.sections[1..].iter().map(|s| s.length).collect();
        let total: f64 = lengths.iter().sum();
        let mut out = Self::empty();
        let mut dendritic = |n: usize, kind: SynapseType, out: &mut Self| {
            for _ in 0..n {
                let mut u = rng.random::<f64>() * total;
                let mut d = 0;
                while d + 1 < lengths.len() && u >= lengths[d] {
                    u -= lengths[d];
                    d += 1;
                }
                out.branch.push(Branch::Dendrite(d));
                out.pos.push((u / lengths[d]).clamp(0.0, 1.0));
                out.kind.push(kind);
            }
        };
        if !lengths.is_empty() {
            dendritic(p.dendritic_excitatory, SynapseType::Excitatory, &mut out);
            dendritic(p.dendritic_inhibitory, SynapseType::Inhibitory, &mut out);
        }
        for _ in 0..p.somatic_inhibitory {
            out.branch.push(Branch::Soma);
            out.pos.push(0.5);
            out.kind.push(SynapseType::Inhibitory);
        }
        out
    }

    /// NeuronIO's layout: every segment centre of the sections of `kinds` (kinds in that order,
    /// sections by index), excitatory rows first, then the same segments inhibitory.
    fn every_segment(cell: &CellConfig, kinds: &[SectionKind]) -> Self {
        let mut named: Vec<(usize, SectionName, usize)> = (1..cell.sections.len())
            .filter_map(|i| {
                cell.section_name(i)
                    .map(|n| (kinds.iter().position(|&k| k == n.kind), n, i))
            })
            .filter_map(|(rank, n, i)| rank.map(|r| (r, n, i)))
            .collect();
        named.sort_by_key(|&(rank, n, _)| (rank, n.index));
        let mut out = Self::empty();
        for kind in [SynapseType::Excitatory, SynapseType::Inhibitory] {
            for &(_, _, i) in &named {
                let nseg = cell.sections[i].nseg;
                for k in 0..nseg {
                    out.branch.push(Branch::Dendrite(i - 1));
                    out.pos.push((k as f64 + 0.5) / nseg as f64);
                    out.kind.push(kind);
                }
            }
        }
        out
    }

    /// Checks that every site is on a section of `cell` and every list has the same length.
    pub fn validate_for(&self, cell: &CellConfig) -> Result<()> {
        self.validate_on(&cell.name, cell.dendrites())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp2syn_factor_normalises_the_peak() {
        // g(t) = w·factor·(exp(−t/τ2) − exp(−t/τ1)) peaks at tp with value w.
        for r in [Receptor::ampa(1.0), Receptor::nmda(1.0), Receptor::gaba_a(1.0)] {
            let (t1, t2) = r.effective_taus();
            let tp = t1 * t2 / (t2 - t1) * (t2 / t1).ln();
            let g = |t: f64| r.factor() * ((-t / t2).exp() - (-t / t1).exp());
            assert!((g(tp) - 1.0).abs() < 1e-12, "{}: peak {}", r.name, g(tp));
            assert!(
                g(tp * 0.99) < 1.0 && g(tp * 1.01) < 1.0,
                "{}: tp is the maximum",
                r.name
            );
        }
    }

    #[test]
    fn nmda_block_follows_jahr_stevens() {
        let b = MgBlock::jahr_stevens(1.0);
        // At 0 mV: 1/(1 + 1/3.57); at −65 mV: 1/(1 + exp(4.03)/3.57).
        assert!((b.unblocked(0.0) - 1.0 / (1.0 + 1.0 / 3.57)).abs() < 1e-15);
        assert!((b.unblocked(-65.0) - 1.0 / (1.0 + (0.062f64 * 65.0).exp() / 3.57)).abs() < 1e-15);
        assert!((b.unblocked(-65.0) - 0.0597).abs() < 1e-4, "{}", b.unblocked(-65.0));
        // Monotone: depolarisation relieves the block; no magnesium, no block.
        let vs: Vec<f64> = (-100..=40).map(f64::from).collect();
        assert!(vs.windows(2).all(|w| b.unblocked(w[0]) < b.unblocked(w[1])));
        assert_eq!(MgBlock::jahr_stevens(0.0).unblocked(-80.0), 1.0);
    }

    #[test]
    fn bs4_is_valid_and_round_trips_through_json() {
        for cell in [CellConfig::bs4(), CellConfig::bs4_ampa_only()] {
            cell.validate().unwrap();
            let json = serde_json::to_string_pretty(&cell).unwrap();
            let back: CellConfig = serde_json::from_str(&json).unwrap();
            assert_eq!(back, cell);
        }
        assert_eq!(CellConfig::bs4().dendrites(), 4);
        let ampa = CellConfig::bs4_ampa_only();
        assert_eq!(ampa.excitatory, vec![Receptor::ampa(0.0008)]);
        assert_eq!(ampa.name, "bs4-ampa");
        assert_eq!(ampa.without_nmda(), ampa, "nothing left to remove");
        assert_eq!(CellConfig::bs4().dendritic_length(), 1200.0);
    }

    #[test]
    fn bad_cells_name_the_problem() {
        let mut c = CellConfig::bs4();
        c.sections[2].diam = -1.0;
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "section 2 (basal1): `diam` must be a finite number > 0, got -1"
        );
        let mut c = CellConfig::bs4();
        c.sections[3].parent = Some(9);
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("names parent 9, which does not exist")
        );
        let mut c = CellConfig::bs4();
        c.sections[1].parent = Some(2);
        c.sections[2].parent = Some(1);
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("cycle: 1 (basal0) → 2 (basal1) → 1 (basal0)"), "{e}");
        let mut c = CellConfig::bs4();
        c.sections[1].nseg = 0;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("`nseg` must be at least 1")
        );
        let mut c = CellConfig::bs4();
        c.excitatory[1].tau2 = f64::NAN;
        assert_eq!(
            c.validate().unwrap_err().to_string(),
            "receptor nmda: `tau2` must be a finite number > 0, got NaN"
        );
        let mut c = CellConfig::bs4();
        c.sections[4].parent = None;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("only section 0 (the soma) may be the root")
        );
    }

    #[test]
    fn sites_are_placed_uniformly_by_length() {
        let mut cell = CellConfig::bs4();
        cell.placement.dendritic_excitatory = 24_000;
        let s = Synapses::place(&cell);
        s.validate_for(&cell).unwrap();
        assert_eq!(s.len(), 24_000 + 40 + 10);
        // Expected share per dendrite: 200, 200, 400, 400 µm of 1200.
        let counts: Vec<usize> = (0..4)
            .map(|d| {
                (0..24_000)
                    .filter(|&i| s.branch[i] == Branch::Dendrite(d) && s.kind[i] == SynapseType::Excitatory)
                    .count()
            })
            .collect();
        for (d, &c) in counts.iter().enumerate() {
            let p = cell.sections[d + 1].length / 1200.0;
            let sd = (24_000.0 * p * (1.0 - p)).sqrt();
            assert!((c as f64 - 24_000.0 * p).abs() < 5.0 * sd, "dendrite {d}: {c}");
        }
        // Positions uniform: mean 0.5.
        let mean = s.pos[..24_000].iter().sum::<f64>() / 24_000.0;
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        assert!(s.branch[24_040..].iter().all(|&b| b == Branch::Soma));
        // Same seed, same sites; another seed, other sites.
        assert_eq!(Synapses::place(&cell), s);
        cell.placement.seed = 1;
        assert_ne!(Synapses::place(&cell).pos, s.pos);
    }
}
