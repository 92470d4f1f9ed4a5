//! Where synapses and recording sites are, and what kind they are: the types the cell, the
//! stimulus, the simulator and the trial files share (this module imports none of them).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{BiophysError, Result};

/// A place on the cell by section: the soma, or dendrite `i` (section `i + 1`, in the cell's
/// order). Files and JSON write it as NeuronIO's branch code: −1 for the soma, else `i`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Branch {
    /// The soma (section 0). Code −1.
    Soma,
    /// Dendrite `i` (section `i + 1`). Code `i`.
    Dendrite(usize),
}

impl Branch {
    /// From a file's code: −1 the soma, `i ≥ 0` dendrite `i`; `None` below −1.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            -1 => Some(Self::Soma),
            i if i >= 0 => Some(Self::Dendrite(i as usize)),
            _ => None,
        }
    }

    /// The file's code: −1 for the soma, else the dendrite index.
    pub fn code(self) -> i64 {
        match self {
            Self::Soma => -1,
            Self::Dendrite(i) => i as i64,
        }
    }

    /// The section index (the soma is section 0).
    pub fn section(self) -> usize {
        match self {
            Self::Soma => 0,
            Self::Dendrite(i) => i + 1,
        }
    }
}

impl std::fmt::Display for Branch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Soma => write!(f, "the soma"),
            Self::Dendrite(i) => write!(f, "dendrite {i}"),
        }
    }
}

impl Serialize for Branch {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_i64(self.code())
    }
}

impl<'de> Deserialize<'de> for Branch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let code = i64::deserialize(d)?;
        Self::from_code(code)
            .ok_or_else(|| serde::de::Error::custom(format!("branch {code}: −1 (the soma) or a dendrite index ≥ 0")))
    }
}

/// What a section is, as NEURON's names for Hay's cell say it (a trial file's `syn_sec_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionKind {
    /// `soma`. Code 0.
    Soma,
    /// A basal dendrite, `dend[i]`. Code 1.
    Dend,
    /// An apical dendrite, `apic[i]`. Code 2.
    Apic,
    /// `axon[i]`. Code 3.
    Axon,
}

impl SectionKind {
    const ALL: [(Self, &'static str); 4] = [
        (Self::Soma, "soma"),
        (Self::Dend, "dend"),
        (Self::Apic, "apic"),
        (Self::Axon, "axon"),
    ];

    /// The file code: 0 soma, 1 dend, 2 apic, 3 axon.
    pub fn code(self) -> i64 {
        self as i64
    }

    /// From a file code.
    pub fn from_code(code: i64) -> Option<Self> {
        Self::ALL.get(usize::try_from(code).ok()?).map(|(k, _)| *k)
    }

    /// NEURON's array name: `soma`, `dend`, `apic`, `axon`.
    pub fn neuron_name(self) -> &'static str {
        Self::ALL[self as usize].1
    }
}

/// A section by its NEURON name: `soma` (or `soma[0]`), `dend[i]`, `apic[i]`, `axon[i]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SectionName {
    /// Which array.
    pub kind: SectionKind,
    /// The index in it (0 for the soma).
    pub index: usize,
}

impl SectionName {
    /// Parses `soma`, `soma[0]`, `dend[3]`, `apic[12]`, `axon[1]`; `None` for any other name.
    pub fn parse(name: &str) -> Option<Self> {
        if name == "soma" {
            return Some(Self {
                kind: SectionKind::Soma,
                index: 0,
            });
        }
        let (array, rest) = name.split_once('[')?;
        let digits = rest.strip_suffix(']')?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let index = digits.parse().ok()?;
        let kind = SectionKind::ALL.iter().find(|(_, n)| *n == array)?.0;
        (kind != SectionKind::Soma || index == 0).then_some(Self { kind, index })
    }
}

impl std::fmt::Display for SectionName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            SectionKind::Soma => write!(f, "soma"),
            k => write!(f, "{}[{}]", k.neuron_name(), self.index),
        }
    }
}

/// A location on the cell: a branch and a position along its section in `[0, 1]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Site {
    /// The section.
    pub branch: Branch,
    /// Position along the section.
    pub pos: f64,
}

/// Whether a synaptic site excites or inhibits (NeuronIO's `syn_type`: 1 and 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SynapseType {
    /// Receives the cell's excitatory receptors (AMPA, NMDA). File code 1.
    Excitatory,
    /// Receives the cell's inhibitory receptors (GABA_A). File code 0.
    Inhibitory,
}

impl SynapseType {
    /// The file code: 1 excitatory, 0 inhibitory.
    pub fn code(self) -> i64 {
        match self {
            Self::Excitatory => 1,
            Self::Inhibitory => 0,
        }
    }

    /// From a file code.
    pub fn from_code(code: i64) -> Option<Self> {
        match code {
            1 => Some(Self::Excitatory),
            0 => Some(Self::Inhibitory),
            _ => None,
        }
    }
}

/// Where each synaptic site is: one entry per raster row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Synapses {
    /// The section of each site.
    pub branch: Vec<Branch>,
    /// Position along that section, in `[0, 1]`.
    pub pos: Vec<f64>,
    /// Excitatory or inhibitory.
    pub kind: Vec<SynapseType>,
}

impl Synapses {
    /// No sites.
    pub fn empty() -> Self {
        Self {
            branch: Vec::new(),
            pos: Vec::new(),
            kind: Vec::new(),
        }
    }

    /// Number of sites.
    pub fn len(&self) -> usize {
        self.branch.len()
    }

    /// Whether there are no sites.
    pub fn is_empty(&self) -> bool {
        self.branch.is_empty()
    }

    /// Site `i`.
    pub fn site(&self, i: usize) -> Site {
        Site {
            branch: self.branch[i],
            pos: self.pos[i],
        }
    }

    /// Checks that every list has the same length and every site lies on one of `dendrites`
    /// dendrites or the soma of the cell called `cell`, at a position in `[0, 1]`.
    pub fn validate_on(&self, cell: &str, dendrites: usize) -> Result<()> {
        let n = self.branch.len();
        if self.pos.len() != n || self.kind.len() != n {
            return Err(BiophysError::Inputs(format!(
                "synapse lists differ in length: {} branches, {} positions, {} types",
                n,
                self.pos.len(),
                self.kind.len()
            )));
        }
        for (i, (&b, &x)) in self.branch.iter().zip(&self.pos).enumerate() {
            if let Branch::Dendrite(d) = b
                && d >= dendrites
            {
                return Err(BiophysError::Inputs(format!(
                    "synapse {i} is on branch {d}, but cell {cell} has branches −1 (soma) to {}",
                    dendrites as i64 - 1
                )));
            }
            if !(0.0..=1.0).contains(&x) {
                return Err(BiophysError::Inputs(format!(
                    "synapse {i} is at position {x}; positions lie in [0, 1]"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branches_keep_the_files_codes() {
        for (code, branch) in [(-1, Branch::Soma), (0, Branch::Dendrite(0)), (7, Branch::Dendrite(7))] {
            assert_eq!(Branch::from_code(code), Some(branch));
            assert_eq!(branch.code(), code);
            assert_eq!(serde_json::to_string(&branch).unwrap(), code.to_string());
            assert_eq!(serde_json::from_str::<Branch>(&code.to_string()).unwrap(), branch);
        }
        assert_eq!(Branch::from_code(-2), None);
        let e = serde_json::from_str::<Branch>("-3").unwrap_err().to_string();
        assert!(e.contains("branch -3: −1 (the soma) or a dendrite index"), "{e}");
        // The generator's group order: the soma first, then dendrites by index.
        assert!(Branch::Soma < Branch::Dendrite(0) && Branch::Dendrite(0) < Branch::Dendrite(1));
        assert_eq!((Branch::Soma.section(), Branch::Dendrite(2).section()), (0, 3));
    }

    #[test]
    fn section_names_read_and_print_as_neuron_writes_them() {
        for (text, kind, index) in [
            ("soma", SectionKind::Soma, 0),
            ("dend[0]", SectionKind::Dend, 0),
            ("apic[107]", SectionKind::Apic, 107),
            ("axon[1]", SectionKind::Axon, 1),
        ] {
            let n = SectionName::parse(text).unwrap();
            assert_eq!((n.kind, n.index), (kind, index));
            assert_eq!(n.to_string(), text);
            assert_eq!(SectionKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(SectionName::parse("soma[0]").unwrap().to_string(), "soma");
        for bad in [
            "basal0", "dend[", "dend[]", "dend[-1]", "dend[1x]", "apic[2]]", "soma[1]", "Dend[0]", "",
        ] {
            assert_eq!(SectionName::parse(bad), None, "{bad}");
        }
        assert_eq!(SectionKind::from_code(4), None);
        assert_eq!(SectionKind::from_code(-1), None);
    }

    #[test]
    fn sites_off_the_cell_are_errors() {
        let s = Synapses {
            branch: vec![Branch::Soma, Branch::Dendrite(4)],
            pos: vec![0.5, 0.5],
            kind: vec![SynapseType::Inhibitory, SynapseType::Excitatory],
        };
        let e = s.validate_on("bs4", 4).unwrap_err().to_string();
        assert!(
            e.contains("synapse 1 is on branch 4, but cell bs4 has branches −1 (soma) to 3"),
            "{e}"
        );
        s.validate_on("bs4", 5).unwrap();
        let mut off = s.clone();
        off.pos[0] = 1.5;
        assert!(
            off.validate_on("bs4", 5)
                .unwrap_err()
                .to_string()
                .contains("position 1.5")
        );
        off.kind.pop();
        assert!(
            off.validate_on("bs4", 5)
                .unwrap_err()
                .to_string()
                .contains("differ in length")
        );
    }
}
