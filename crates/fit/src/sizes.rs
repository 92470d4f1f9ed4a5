//! The named sizes each family is fitted at: one table, which the command line's help, its
//! parser ([`Size`]'s `FromStr`) and the sweep all read.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::baselines::{LinearNonlinearConfig, TcnConfig};
use crate::branch_elm::BranchElmConfig;
use crate::model::{Family, ModelConfig};
use crate::neuron_net::{DendriteStageConfig, NeuronNetConfig, SomaMemory};

/// Time constants (ms) of the `+h` sizes' after-spike currents: a fast refractory one, the
/// after-hyperpolarisation, a slow adaptation.
pub const AFTER_SPIKE_TAUS: [f64; 3] = [3.0, 10.0, 40.0];

/// One row of the table: a family's size, its label, and what it builds for a cell with
/// `synapses` raster rows and `branches` dendrites.
struct Entry {
    family: Family,
    label: &'static str,
    model: fn(synapses: usize, branches: usize) -> ModelConfig,
}

fn stage(maps: usize, taps: usize, dilation: usize) -> DendriteStageConfig {
    DendriteStageConfig::new(maps, taps, dilation)
}

/// The library's neuron with `stages` and `receptors` drives per grid site.
fn neuron(branches: usize, stages: Vec<DendriteStageConfig>, receptors: usize) -> ModelConfig {
    ModelConfig::Neuron(
        NeuronNetConfig::new(branches)
            .with_stages(stages)
            .with_receptors((receptors > 1).then_some(receptors)),
    )
}

/// Two stages (4 maps, then 4) and a memory soma of `units` leaky units, MLP `hidden` wide.
fn memory_soma(branches: usize, units: usize, hidden: usize) -> ModelConfig {
    ModelConfig::Neuron(
        NeuronNetConfig::new(branches)
            .with_stages(vec![stage(4, 16, 4), stage(4, 8, 1)])
            .with_soma_memory(Some(SomaMemory::new(units, hidden))),
    )
}

fn tcn(synapses: usize, layers: usize, width: usize) -> ModelConfig {
    ModelConfig::Tcn(TcnConfig::new(synapses, width, layers))
}

/// Beniaguev et al.'s one-layer network for NeuronIO's NMDA cell (`fit_CNN.py`: 128 filters of
/// 110 ms), which their deeper ones beat.
fn tcn_one_layer(synapses: usize) -> ModelConfig {
    ModelConfig::Tcn(TcnConfig::new(synapses, 128, 1).with_first_kernel(110))
}

/// Beniaguev et al.'s deepest NMDA network in `fit_CNN.py`: 7 layers of 128 filters of 35 ms,
/// each ReLU followed by a batch norm as theirs.
fn tcn_seven_layers(synapses: usize) -> ModelConfig {
    let config = TcnConfig::new(synapses, 128, 7)
        .with_first_kernel(35)
        .with_kernel(35)
        .with_dilation(1)
        .with_batch_norm(Some(true));
    ModelConfig::Tcn(config)
}

fn ln(synapses: usize, kernel: usize) -> ModelConfig {
    ModelConfig::Ln(LinearNonlinearConfig::new(synapses).with_kernel(kernel))
}

/// The published Branch-ELM with `units` memory units for a cell with `synapses` rows: 45
/// branches, each as long, relative to the rows, as NeuronIO's 100 of 1 278 (so windows
/// overlap as much), and never shorter than the stride between them.
fn branch_elm(synapses: usize, units: usize) -> ModelConfig {
    let branches = 45;
    let per_branch = (100 * synapses).div_ceil(1278).max(synapses.div_ceil(branches));
    ModelConfig::Elm(
        BranchElmConfig::new(synapses)
            .with_branches(branches)
            .with_per_branch(per_branch)
            .with_units(units),
    )
}

/// Every size, smallest first within each family.
const SIZES: [Entry; 19] = [
    Entry {
        family: Family::Neuron,
        label: "1",
        model: |_, b| neuron(b, vec![stage(1, 16, 4)], 1),
    },
    Entry {
        family: Family::Neuron,
        label: "4-1",
        model: |_, b| neuron(b, vec![stage(4, 16, 4), stage(1, 8, 1)], 1),
    },
    Entry {
        family: Family::Neuron,
        label: "8-8-1",
        model: |_, b| neuron(b, vec![stage(8, 16, 4), stage(8, 8, 2), stage(1, 8, 1)], 1),
    },
    // Several receptor types per grid site (`+rN`): N drives per site and synapse type, each
    // with its own gain, before the first dendrite stage.
    Entry {
        family: Family::Neuron,
        label: "4-1+r4",
        model: |_, b| neuron(b, vec![stage(4, 16, 4), stage(1, 8, 1)], 4),
    },
    Entry {
        family: Family::Neuron,
        label: "8-8-1+r8",
        model: |_, b| neuron(b, vec![stage(8, 16, 4), stage(8, 8, 2), stage(1, 8, 1)], 8),
    },
    // The last stage's kernel spanning every grid column (`+x`: the branches and the soma), so
    // branches interact non-linearly before the summation.
    Entry {
        family: Family::Neuron,
        label: "4-1+x",
        model: |_, b| {
            let last = stage(1, 8, 1).with_kernel_dendrites(Some(b + 1));
            neuron(b, vec![stage(4, 16, 4), last], 1)
        },
    },
    // A soma with after-spike currents (`+h`, 3, 10 and 40 ms): it feeds its own expected
    // spikes back, so it knows when it has just fired.
    Entry {
        family: Family::Neuron,
        label: "4-1+h",
        model: |_, b| {
            ModelConfig::Neuron(
                NeuronNetConfig::new(b)
                    .with_stages(vec![stage(4, 16, 4), stage(1, 8, 1)])
                    .with_soma_after_spike_taus(Some(AFTER_SPIKE_TAUS.to_vec())),
            )
        },
    },
    // A soma with leaky memory units that an MLP updates (`+m`: 20 units, MLP 32; `+m40`: 40
    // and 64; `+m80`: 80 and 128), reading 4 maps of every dendrite's rate.
    Entry {
        family: Family::Neuron,
        label: "4-4+m",
        model: |_, b| memory_soma(b, 20, 32),
    },
    Entry {
        family: Family::Neuron,
        label: "4-4+m40",
        model: |_, b| memory_soma(b, 40, 64),
    },
    Entry {
        family: Family::Neuron,
        label: "4-4+m80",
        model: |_, b| memory_soma(b, 80, 128),
    },
    Entry {
        family: Family::Tcn,
        label: "2x8",
        model: |s, _| tcn(s, 2, 8),
    },
    Entry {
        family: Family::Tcn,
        label: "3x32",
        model: |s, _| tcn(s, 3, 32),
    },
    Entry {
        family: Family::Tcn,
        label: "5x64",
        model: |s, _| tcn(s, 5, 64),
    },
    Entry {
        family: Family::Tcn,
        label: "1x128",
        model: |s, _| tcn_one_layer(s),
    },
    Entry {
        family: Family::Tcn,
        label: "7x128",
        model: |s, _| tcn_seven_layers(s),
    },
    Entry {
        family: Family::Ln,
        label: "k20",
        model: |s, _| ln(s, 20),
    },
    Entry {
        family: Family::Ln,
        label: "k40",
        model: |s, _| ln(s, 40),
    },
    Entry {
        family: Family::Ln,
        label: "k80",
        model: |s, _| ln(s, 80),
    },
    // The published Branch-ELM (20 memory units, MLP 40 wide; 8 002 parameters on l5pc).
    Entry {
        family: Family::Elm,
        label: "elm20",
        model: |s, _| branch_elm(s, 20),
    },
];

/// A named size of a model family (`4-1`, `3x32`, `k80`...): labels are unique across families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Size(usize);

impl Size {
    /// Every size, in the table's order: families in [`Family::ALL`] order, smallest first.
    pub fn all() -> impl Iterator<Item = Size> {
        (0..SIZES.len()).map(Size)
    }

    /// The sizes of `family`, smallest first.
    pub fn of(family: Family) -> impl Iterator<Item = Size> {
        Self::all().filter(move |s| s.family() == family)
    }

    /// The sizes the default run fits of `family`: for the neuron the essay's stages (`4-1`) and
    /// the memory soma the project found (`4-4+m40`), one size for each baseline.
    pub fn defaults_for(family: Family) -> Vec<Size> {
        let labels: &[&str] = match family {
            Family::Neuron => &["4-1", "4-4+m40"],
            Family::Tcn => &["3x32"],
            Family::Ln => &["k80"],
            Family::Elm => &["elm20"],
        };
        labels
            .iter()
            .map(|l| l.parse().expect("a label in the table"))
            .collect()
    }

    /// Whether it has leaky memory (`+m` sizes, the Branch-ELM): they train longer.
    pub fn has_memory(self) -> bool {
        match self.model(1, 1) {
            ModelConfig::Neuron(n) => n.soma_memory.is_some(),
            ModelConfig::Elm(_) => true,
            _ => false,
        }
    }

    /// Its family.
    pub fn family(self) -> Family {
        SIZES[self.0].family
    }

    /// Its label.
    pub fn label(self) -> &'static str {
        SIZES[self.0].label
    }

    /// The model it names for a cell with `synapses` raster rows and `branches` dendrites.
    pub fn model(self, synapses: usize, branches: usize) -> ModelConfig {
        (SIZES[self.0].model)(synapses, branches)
    }

    /// Every label by family, for help texts and errors: `neuron 1, 4-1, …; tcn …; ln …`.
    pub fn labels() -> String {
        Family::ALL
            .iter()
            .map(|&f| {
                let labels: Vec<&str> = Self::of(f).map(Size::label).collect();
                format!("{} {}", f.name(), labels.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl std::str::FromStr for Size {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::all()
            .find(|size| size.label() == s)
            .ok_or_else(|| format!("no size `{s}`; sizes: {}", Self::labels()))
    }
}

impl Serialize for Size {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.label())
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_unique_and_parse_back() {
        let labels: Vec<&str> = Size::all().map(Size::label).collect();
        let mut unique = labels.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), labels.len(), "{labels:?}");
        for size in Size::all() {
            assert_eq!(size.label().parse::<Size>(), Ok(size));
            assert_eq!(serde_json::to_string(&size).unwrap(), format!("\"{size}\""));
        }
        let e = "4-2".parse::<Size>().unwrap_err();
        assert!(e.starts_with("no size `4-2`; sizes: neuron 1, 4-1, 8-8-1"), "{e}");
        assert!(
            e.contains("tcn 2x8, 3x32, 5x64, 1x128, 7x128; ln k20, k40, k80; elm elm20"),
            "{e}"
        );
    }

    #[test]
    fn each_size_builds_its_familys_valid_model_for_the_cell() {
        // bs4: 250 synapses, 4 branches.
        for size in Size::all() {
            let model = size.model(250, 4);
            assert_eq!(model.family(), size.family(), "{size}");
            model.validate().unwrap_or_else(|e| panic!("{size}: {e}"));
        }
        for family in Family::ALL {
            assert!(Size::defaults_for(family).iter().all(|s| s.family() == family));
            assert!(Size::of(family).count() >= 1);
        }
        // The labels say what they build: `4-1` has stages of 4 and 1 maps, `+m80` 80 units.
        let ModelConfig::Neuron(n) = "4-1".parse::<Size>().unwrap().model(250, 4) else {
            panic!("a neuron")
        };
        assert_eq!(n.stages.iter().map(|s| s.maps).collect::<Vec<_>>(), vec![4, 1]);
        let ModelConfig::Neuron(n) = "4-4+m80".parse::<Size>().unwrap().model(250, 4) else {
            panic!("a neuron")
        };
        assert_eq!(n.soma_memory.map(|m| (m.units, m.hidden)), Some((80, 128)));
        let memory: Vec<&str> = Size::all().filter(|s| s.has_memory()).map(Size::label).collect();
        assert_eq!(memory, ["4-4+m", "4-4+m40", "4-4+m80", "elm20"]);
        // The Branch-ELM on NeuronIO's cell is the published model; on bs4 its windows overlap
        // as much (stride 6, 20 synapses per branch).
        let ModelConfig::Elm(e) = "elm20".parse::<Size>().unwrap().model(1278, 639) else {
            panic!("an elm")
        };
        assert_eq!((e.branches, e.per_branch, e.num_params()), (45, 100, 8002));
        let ModelConfig::Elm(e) = "elm20".parse::<Size>().unwrap().model(250, 4) else {
            panic!("an elm")
        };
        assert_eq!((e.per_branch, 250usize.div_ceil(45)), (20, 6));
        let ModelConfig::Tcn(t) = "5x64".parse::<Size>().unwrap().model(250, 4) else {
            panic!("a tcn")
        };
        assert_eq!((t.layers, t.width, t.synapses), (5, 64, 250));
    }
}
