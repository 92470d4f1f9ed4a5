//! The four model families behind one type, and what a saved model carries besides weights:
//! the training data's placement (the baselines and the Branch-ELM read synapses by raster row)
//! and the voltage normalisation.

use std::path::Path;

use biophys::Synapses;
use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use neuron_nn::{ConfigError, DendriteAlgorithm, LoadError};
use serde::{Deserialize, Serialize};

use crate::baselines::{LinearNonlinear, LinearNonlinearConfig, TcnConfig, TemporalConvNet};
use crate::branch_elm::{BranchElm, BranchElmConfig};
use crate::data::{Normalisation, TrialData};
use crate::neuron_net::{NeuronNet, NeuronNetConfig};

/// The model families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Family {
    /// The library's neuron (`neuron-nn` stages on a dendrite grid).
    Neuron,
    /// The temporal convnet baseline.
    Tcn,
    /// The linear-nonlinear floor.
    Ln,
    /// The Branch-ELM, the published anchor (Spieler et al. 2024).
    Elm,
}

impl Family {
    /// All families, in report order.
    pub const ALL: [Family; 4] = [Family::Neuron, Family::Tcn, Family::Ln, Family::Elm];

    /// The families a run fits unless told which: the Branch-ELM, the published anchor on
    /// NeuronIO's cell, only when asked for (`--family elm`).
    pub const DEFAULT: [Family; 3] = [Family::Neuron, Family::Tcn, Family::Ln];

    /// Short name.
    pub fn name(self) -> &'static str {
        match self {
            Family::Neuron => "neuron",
            Family::Tcn => "tcn",
            Family::Ln => "ln",
            Family::Elm => "elm",
        }
    }

    /// Name in words.
    pub fn title(self) -> &'static str {
        match self {
            Family::Neuron => "library neuron",
            Family::Tcn => "temporal convnet",
            Family::Ln => "linear-nonlinear",
            Family::Elm => "Branch-ELM",
        }
    }
}

impl std::str::FromStr for Family {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Family::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown model family `{s}`: expected neuron, tcn, ln or elm"))
    }
}

/// Which model, with its configuration.
#[derive(Config, Debug, PartialEq)]
pub enum ModelConfig {
    /// The library's neuron.
    Neuron(NeuronNetConfig),
    /// The temporal convnet.
    Tcn(TcnConfig),
    /// The linear-nonlinear model.
    Ln(LinearNonlinearConfig),
    /// The Branch-ELM.
    Elm(BranchElmConfig),
}

impl ModelConfig {
    /// The family.
    pub fn family(&self) -> Family {
        match self {
            Self::Neuron(_) => Family::Neuron,
            Self::Tcn(_) => Family::Tcn,
            Self::Ln(_) => Family::Ln,
            Self::Elm(_) => Family::Elm,
        }
    }

    /// Whether outputs depend on the whole past (a soma with after-spike currents), not only
    /// on the last [`reach`](Self::reach) ms: such a model is evaluated in one pass per trial.
    pub fn recurrent(&self) -> bool {
        match self {
            Self::Neuron(c) => c.recurrent(),
            Self::Elm(_) => true,
            _ => false,
        }
    }

    /// Milliseconds of input before an output that it depends on (for a recurrent model, the
    /// context after which the earlier past weighs less than 5 %).
    pub fn reach(&self) -> usize {
        match self {
            Self::Neuron(c) => c.reach(),
            Self::Tcn(c) => c.reach(),
            Self::Ln(c) => c.reach(),
            Self::Elm(c) => c.reach(),
        }
    }

    /// Checks the configuration.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match self {
            Self::Neuron(c) => c.validate(),
            Self::Tcn(c) => c.validate(),
            Self::Ln(c) => c.validate(),
            Self::Elm(c) => c.validate(),
        }
    }

    /// The same config with every dendrite stage on the path it takes for `batch` windows of
    /// `time` ms on `device` (never `Auto`): what a run records so that it repeats its numbers
    /// on another machine. The baselines have no dendrite stage.
    pub fn with_paths(self, batch: usize, time: usize, device: &Device) -> Result<Self, ConfigError> {
        Ok(match self {
            Self::Neuron(c) => {
                let paths = c.paths(batch, time, device)?;
                Self::Neuron(c.with_paths(&paths))
            }
            other => other,
        })
    }

    /// The same config for inputs worth `input_scale` per spike: the Branch-ELM undoes it, so
    /// that it reads spikes as 0 and 1 as in its paper; the other families take it as it is.
    pub fn for_input_scale(self, input_scale: f64) -> Self {
        match self {
            Self::Elm(c) => Self::Elm(c.with_input_gain(1.0 / input_scale)),
            other => other,
        }
    }

    /// Each dendrite stage's path as configured (`Auto` until [`ModelConfig::with_paths`]
    /// fixes it); empty for the baselines.
    pub fn dendrite_paths(&self) -> Vec<DendriteAlgorithm> {
        match self {
            Self::Neuron(c) => c.stages.iter().map(|s| s.algorithm.unwrap_or(c.algorithm)).collect(),
            _ => Vec::new(),
        }
    }

    /// Builds the model for the cell's `synapses`.
    pub fn init(&self, synapses: &Synapses, device: &Device) -> Result<FitModel, ConfigError> {
        let reads = |n: usize, what: &'static str| {
            if n == synapses.len() {
                Ok(())
            } else {
                Err(ConfigError::Inconsistent {
                    module: what,
                    message: format!("configured for {n} synapses, but the cell has {}", synapses.len()),
                })
            }
        };
        Ok(match self {
            Self::Neuron(c) => FitModel::Neuron(c.init(synapses, device)?),
            Self::Tcn(c) => {
                reads(c.synapses, "TcnConfig")?;
                FitModel::Tcn(c.init(device)?)
            }
            Self::Ln(c) => {
                reads(c.synapses, "LinearNonlinearConfig")?;
                FitModel::Ln(c.init(device)?)
            }
            Self::Elm(c) => {
                reads(c.synapses, "BranchElmConfig")?;
                FitModel::Elm(c.init(device)?)
            }
        })
    }
}

/// A model of any family: raster `[batch, synapses, time]` → `[batch, 2, time]` (spike logit,
/// normalised voltage).
// One model lives per session and is never moved in a loop: boxing the neuron buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum FitModel {
    /// The library's neuron.
    Neuron(NeuronNet),
    /// The temporal convnet.
    Tcn(TemporalConvNet),
    /// The linear-nonlinear model.
    Ln(LinearNonlinear),
    /// The Branch-ELM.
    Elm(BranchElm),
}

impl FitModel {
    /// The family.
    pub fn family(&self) -> Family {
        match self {
            Self::Neuron(_) => Family::Neuron,
            Self::Tcn(_) => Family::Tcn,
            Self::Ln(_) => Family::Ln,
            Self::Elm(_) => Family::Elm,
        }
    }

    /// Raster to (spike logit, normalised voltage).
    ///
    /// # Shapes
    ///
    /// - input: `[batch, synapses, time]`
    /// - output: `[batch, 2, time]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        match self {
            Self::Neuron(m) => m.forward(x),
            Self::Tcn(m) => m.forward(x),
            Self::Ln(m) => m.forward(x),
            Self::Elm(m) => m.forward(x),
        }
    }

    /// The model's data-dependent start, from the training trials (inputs worth `input_scale`
    /// per spike): every family starts at the best constant prediction
    /// ([`FitModel::with_output_prior`]), and a neuron with a memory soma standardises what its
    /// memory reads ([`NeuronNet::calibrate`]).
    pub fn initialise(self, train: &[TrialData], spike_probability: f64, input_scale: f64) -> Self {
        match self.with_output_prior(spike_probability) {
            Self::Neuron(net) => Self::Neuron(net.calibrate(train, input_scale)),
            other => other,
        }
    }

    /// Starts the model at the best constant prediction: the output layer's weights at zero,
    /// its offsets at the training data's statistics (the spike logit at the base rate's,
    /// `ln(p / (1 − p))`, the normalised voltage at 0). Without it the first loss is dominated by
    /// random outputs and Adam's first steps silence the hidden units (all bins but 1 % are
    /// silent), which the softplus stages do not recover from.
    pub fn with_output_prior(mut self, spike_probability: f64) -> Self {
        let p = spike_probability.clamp(1e-6, 0.5);
        let logit = (p / (1.0 - p)).ln();
        fn zero<const D: usize>(w: &mut Param<Tensor<D>>) {
            *w = Param::from_tensor(w.val().zeros_like());
        }
        let bias = match &mut self {
            Self::Neuron(m) => {
                zero(&mut m.head.weight);
                &mut m.head.bias
            }
            Self::Tcn(m) => {
                zero(&mut m.head.weight);
                &mut m.head.bias
            }
            Self::Ln(m) => {
                zero(&mut m.head.weight);
                &mut m.head.bias
            }
            Self::Elm(m) => {
                zero(&mut m.head.weight);
                &mut m.head.bias
            }
        };
        if let Some(b) = bias {
            let device = b.val().device();
            *b = Param::from_tensor(Tensor::from_data(
                TensorData::new(vec![logit as f32, 0.0], [2]),
                &device,
            ));
        }
        self
    }

    /// The same model with the dendrites on `algorithm` (baselines unchanged).
    pub fn with_algorithm(self, algorithm: DendriteAlgorithm) -> Self {
        match self {
            Self::Neuron(m) => Self::Neuron(m.with_algorithm(algorithm)),
            other => other,
        }
    }
}

/// What a saved model holds besides its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelHeader {
    /// What builds the model.
    pub model: ModelConfig,
    /// The cell it was fitted to (its name).
    pub cell: String,
    /// The placement of the training data.
    pub synapses: Synapses,
    /// Voltage normalisation.
    pub voltage: Normalisation,
    /// What an input spike is worth: `1 / std` of the training rasters' entries, so the models
    /// see inputs of unit variance (spikes are sparse: the raw std is about 0.07).
    pub input_scale: f64,
}

/// Why a model cannot score a trial.
#[derive(Debug, thiserror::Error)]
pub enum PlacementError {
    /// A model that reads rows by index (a baseline, the Branch-ELM) met a trial whose synapses
    /// are not the ones it was trained on.
    #[error(
        "the {family} reads synapses by raster row, so it only scores trials with its training placement; \
         this trial's placement differs ({detail}). The library's neuron lays any placement onto its grid: score it with that"
    )]
    Differs {
        /// The model's family, in words.
        family: &'static str,
        /// How it differs.
        detail: String,
    },
    /// The neuron's grid lacks a branch the trial uses.
    #[error(transparent)]
    Grid(#[from] ConfigError),
}

/// How two placements differ, in words (`None` when equal).
pub fn placement_difference(trained: &Synapses, given: &Synapses) -> Option<String> {
    if trained.len() != given.len() {
        return Some(format!("{} synapses, trained on {}", given.len(), trained.len()));
    }
    let moved = (0..given.len())
        .filter(|&i| {
            trained.branch[i] != given.branch[i]
                || trained.kind[i] != given.kind[i]
                || (trained.pos[i] - given.pos[i]).abs() > 1e-9
        })
        .count();
    (moved > 0).then(|| format!("{moved} of {} synapses sit elsewhere or have another type", given.len()))
}

impl FitModel {
    /// The model for a trial with `given` synapses: the neuron lays them onto its grid; a
    /// baseline or the Branch-ELM refuses any placement but its training one.
    pub fn for_placement(&self, trained: &Synapses, given: &Synapses) -> Result<Self, PlacementError> {
        match self {
            Self::Neuron(m) => Ok(Self::Neuron(m.with_placement(given)?)),
            other => match placement_difference(trained, given) {
                None => Ok(other.clone()),
                Some(detail) => Err(PlacementError::Differs {
                    family: other.family().title(),
                    detail,
                }),
            },
        }
    }

    /// Saves the model with its header, atomically.
    pub fn save(&self, header: &ModelHeader, path: impl AsRef<Path>) -> std::io::Result<()> {
        neuron_nn::save::save_with_config(header, self, path)
    }

    /// Loads a model saved by [`FitModel::save`]. A header whose config cannot build a model
    /// (an edited file) is an error saying why, before any weights are read.
    pub fn load(path: impl AsRef<Path>, device: &Device) -> Result<(ModelHeader, Self), LoadError> {
        neuron_nn::save::try_load_with_config(path, |h: &ModelHeader| {
            h.model.init(&h.synapses, device).map_err(|e| e.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use biophys::{Branch, SynapseType};

    fn synapses(n: usize) -> Synapses {
        Synapses {
            branch: (0..n).map(|i| Branch::Dendrite(i % 4)).collect(),
            pos: (0..n).map(|i| i as f64 / n as f64).collect(),
            kind: (0..n)
                .map(|i| {
                    if i % 5 == 0 {
                        SynapseType::Inhibitory
                    } else {
                        SynapseType::Excitatory
                    }
                })
                .collect(),
        }
    }

    #[test]
    fn placements_differ_by_length_position_branch_or_type() {
        let a = synapses(10);
        assert_eq!(placement_difference(&a, &a.clone()), None);
        let mut b = a.clone();
        b.pos[3] += 0.01;
        b.kind[4] = SynapseType::Inhibitory;
        assert_eq!(
            placement_difference(&a, &b).as_deref(),
            Some("2 of 10 synapses sit elsewhere or have another type")
        );
        let mut c = a.clone();
        c.branch[0] = Branch::Soma;
        assert!(placement_difference(&a, &c).is_some());
        assert_eq!(
            placement_difference(&a, &synapses(9)).as_deref(),
            Some("9 synapses, trained on 10")
        );
        assert!("neuron".parse::<Family>() == Ok(Family::Neuron));
        assert_eq!(
            "cnn".parse::<Family>().unwrap_err(),
            "unknown model family `cnn`: expected neuron, tcn, ln or elm"
        );
    }

    #[test]
    fn the_output_prior_is_the_constant_best_prediction() {
        let device = Device::flex();
        let s = synapses(10);
        for config in [
            ModelConfig::Ln(LinearNonlinearConfig::new(10).with_kernel(3)),
            ModelConfig::Tcn(TcnConfig::new(10, 4, 2).with_first_kernel(3).with_kernel(2)),
        ] {
            let model = config.init(&s, &device).unwrap().with_output_prior(0.01);
            let x = Tensor::<3>::ones([2, 10, 6], &device);
            let out: Vec<f64> = model.forward(x).into_data().iter::<f64>().collect();
            let logit = (0.01f64 / 0.99).ln();
            // [batch 2, (logit, voltage), 6 ms]: the logit everywhere, the voltage at its mean.
            for (i, v) in out.iter().enumerate() {
                let want = if i / 6 % 2 == 0 { logit } else { 0.0 };
                assert!((v - want).abs() < 1e-6, "{:?} output {i}: {v}", config.family());
            }
        }
    }

    #[test]
    fn a_model_file_whose_config_cannot_build_is_refused_saying_why() {
        let device = Device::flex();
        let path = std::env::temp_dir().join(format!("fit-model-{}.model", std::process::id()));
        let config = ModelConfig::Ln(LinearNonlinearConfig::new(10).with_kernel(3));
        let model = config.init(&synapses(10), &device).unwrap();
        let header = ModelHeader {
            model: config,
            cell: "bs4".into(),
            // A header edited to another cell's synapses: the model no longer fits them.
            synapses: synapses(7),
            voltage: Normalisation { mean: -65.0, std: 2.0 },
            input_scale: 1.0,
        };
        model.save(&header, &path).unwrap();
        let e = FitModel::load(&path, &device).unwrap_err().to_string();
        assert!(
            e.contains("the saved config cannot build the module")
                && e.contains("configured for 10 synapses, but the cell has 7"),
            "{e}"
        );
        std::fs::remove_file(&path).unwrap();
    }
}
