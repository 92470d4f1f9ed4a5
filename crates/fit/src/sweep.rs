//! A fit run as a library: which cells, families and sizes ([`SweepConfig`]), the loop over
//! them that simulates or loads the data, trains (or resumes) each model, scores it held out
//! and counts its FLOPs ([`run_sweep`]), the report it builds ([`crate::report`]), and scoring a
//! saved model on any trial file ([`evaluate_file`]). `examples/fit_neuron.rs` is its command
//! line; an [`Observer`] shows progress.

use std::path::{Path, PathBuf};

use biophys::{CellConfig, Simulator, Trial};
use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::data::{DataConfig, Dataset, TrialData, load_or_simulate};
use crate::evaluate::{Prediction, Scores, flops_per_ms, score};
use crate::grid::{GridLayout, GridRule};
use crate::model::ModelConfig;
use crate::model::{Family, FitModel, ModelHeader};
use crate::plot::Published;
use crate::report::{FitReport, FitResult};
use crate::session::{FitConfig, FitError, FitProgress, FitSession};
use crate::sizes::Size;

/// What a fit run does. [`SweepConfig::new`] is the README's main command; fields left `None`
/// take each family's default.
#[derive(Debug, Clone)]
pub struct SweepConfig {
    /// Report, plots, `models/` and `checkpoints/` go here.
    pub out: PathBuf,
    /// Simulated trials are cached here (keyed by every parameter that made them).
    pub cache: PathBuf,
    /// The cells, in order (the held-out traces show the first).
    pub cells: Vec<CellConfig>,
    /// Training trials, seeds 1..=N (the validation and test seeds stay the same).
    pub train_trials: u64,
    /// Simulated seconds per trial. Default 30.
    pub seconds: f64,
    /// NeuronIO's data: 6 s trials, 32 validation and 64 test trials
    /// ([`DataConfig::neuronio`]); `seconds` is then ignored.
    pub neuronio: bool,
    /// How the library neuron's grid lays out a reconstructed tree (a rule and positions per
    /// column); `None`: one column per section ([`GridLayout`]).
    pub grid: Option<(GridRule, usize)>,
    /// Families to fit; empty: those of [`SweepConfig::sizes`], or without sizes
    /// [`Family::DEFAULT`] (all but the Branch-ELM).
    pub families: Vec<Family>,
    /// Sizes to fit; empty: each family's defaults ([`Size::defaults_for`]), or every size with
    /// `every_size`.
    pub sizes: Vec<Size>,
    /// Every size of each family.
    pub every_size: bool,
    /// Adam steps per model; `None`: [`default_steps`].
    pub steps: Option<u64>,
    /// Windows per batch; `None`: [`FitConfig`]'s default.
    pub batch: Option<usize>,
    /// Scored ms per window; `None`: [`FitConfig`]'s default.
    pub window: Option<usize>,
    /// First learning rate, decaying geometrically to a tenth; `None`: [`FitConfig`]'s default.
    pub learning_rate: Option<f64>,
    /// Steps of a linear learning-rate warm-up; `None`: none.
    pub warmup_steps: Option<u64>,
    /// Seed of the weights and batches.
    pub seed: u64,
    /// Continue each model from its checkpoint (a finished one is only scored).
    pub resume: bool,
    /// Score the test trials. Off while choices are made on the validation trials, so that the
    /// test set is scored once per reported model. Default on.
    pub score_test: bool,
    /// Stop each model after this step (its checkpoint is written), as if interrupted.
    pub stop_after: Option<u64>,
}

impl SweepConfig {
    /// The main command: bs4, each family's default sizes, 20 training trials, files under `out`.
    pub fn new(out: impl Into<PathBuf>, cache: impl Into<PathBuf>) -> Self {
        Self {
            out: out.into(),
            cache: cache.into(),
            cells: vec![CellConfig::bs4()],
            train_trials: 20,
            seconds: 30.0,
            neuronio: false,
            grid: None,
            families: Vec::new(),
            sizes: Vec::new(),
            every_size: false,
            steps: None,
            batch: None,
            window: None,
            learning_rate: None,
            warmup_steps: None,
            seed: 0,
            resume: false,
            score_test: true,
            stop_after: None,
        }
    }

    /// The sweep: every size of each family on bs4 and its AMPA-only control, 1000 steps each.
    pub fn sweep(out: impl Into<PathBuf>, cache: impl Into<PathBuf>) -> Self {
        Self {
            cells: vec![CellConfig::bs4(), CellConfig::bs4_ampa_only()],
            every_size: true,
            ..Self::new(out, cache)
        }
    }

    /// Hay's layer-5 pyramidal cell as NeuronIO simulates it (`l5pc`, or `l5pc-ampa` with
    /// `ampa`): NeuronIO-style data with `train_trials` 6 s trials, the neuron's grid by stems
    /// with 4 positions each (chosen on the validation trials, docs/fit.md).
    pub fn l5pc(
        out: impl Into<PathBuf>,
        cache: impl Into<PathBuf>,
        ampa: bool,
        train_trials: u64,
    ) -> Result<Self, FitError> {
        let cell = biophys::preset(if ampa { "l5pc-ampa" } else { "l5pc" })?;
        Ok(Self {
            cells: vec![cell],
            train_trials,
            neuronio: true,
            grid: Some((GridRule::Stems, 4)),
            ..Self::new(out, cache)
        })
    }

    /// The families asked for, else the sizes' families, else [`Family::DEFAULT`].
    pub fn families(&self) -> Vec<Family> {
        if self.families.is_empty() && !self.sizes.is_empty() {
            Family::ALL
                .into_iter()
                .filter(|f| self.sizes.iter().any(|s| s.family() == *f))
                .collect()
        } else if self.families.is_empty() {
            Family::DEFAULT.to_vec()
        } else {
            self.families.clone()
        }
    }

    /// The sizes fitted of `family`.
    pub fn sizes_of(&self, family: Family) -> Vec<Size> {
        if !self.sizes.is_empty() {
            self.sizes.iter().copied().filter(|s| s.family() == family).collect()
        } else if self.every_size {
            Size::of(family).collect()
        } else {
            Size::defaults_for(family)
        }
    }

    /// Checks that every size asked for belongs to a family asked for.
    pub fn validate(&self) -> Result<(), String> {
        let families = self.families();
        match self.sizes.iter().find(|s| !families.contains(&s.family())) {
            Some(s) => Err(format!(
                "size `{s}` is a {} size, but the families asked for are {}",
                s.family().name(),
                families.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ")
            )),
            None => Ok(()),
        }
    }

    /// The training config of `size` for a cell with `synapses` raster rows and `branches`.
    pub fn fit_config(&self, size: Size, synapses: usize, branches: usize) -> FitConfig {
        let base = FitConfig::new(size.model(synapses, branches));
        let lr = self.learning_rate.unwrap_or(base.learning_rate);
        base.clone()
            .with_steps(self.steps.unwrap_or(default_steps(size, self.every_size)))
            .with_seed(self.seed)
            .with_batch(self.batch.unwrap_or(base.batch))
            .with_window(self.window.unwrap_or(base.window))
            .with_learning_rate(lr)
            .with_final_learning_rate(lr / 10.0)
            .with_warmup_steps(self.warmup_steps)
    }

    /// The training config of `size` for `cell` with `synapses` raster rows: a neuron's grid
    /// laid out by [`SweepConfig::grid`] when set.
    pub fn fit_config_for(&self, size: Size, cell: &CellConfig, synapses: usize) -> Result<FitConfig, FitError> {
        let mut fit = self.fit_config(size, synapses, cell.dendrites());
        if let (ModelConfig::Neuron(neuron), Some((rule, positions))) = (&fit.model, self.grid) {
            let layout = GridLayout::of(cell, rule, positions).map_err(|e| FitError::Sweep(e.to_string()))?;
            fit.model = ModelConfig::Neuron(neuron.clone().with_grid(layout));
        }
        Ok(fit)
    }

    /// The data of `cell`: `train_trials` training trials; the standard validation and test
    /// seeds (`bs4`'s, or NeuronIO-style ones with [`SweepConfig::neuronio`]).
    pub fn data(&self, cell: &CellConfig) -> DataConfig {
        if self.neuronio {
            return DataConfig::neuronio(cell.clone(), &self.cache, self.train_trials);
        }
        DataConfig {
            train_seeds: (1..=self.train_trials).collect(),
            seconds: self.seconds,
            ..DataConfig::standard(cell.clone(), &self.cache)
        }
    }
}

/// Steps that keep the default run near 5 minutes on 2 cores: a memory soma learns slowly
/// (300 steps: AUC 0.93; 1500: 0.97, docs/fit.md) and its step is cheap since the fused
/// recurrence; the sweep trains every model 1000 steps.
pub fn default_steps(size: Size, every_size: bool) -> u64 {
    match (every_size, size.family()) {
        (true, _) => 1000,
        (false, _) if size.has_memory() => 1500,
        (false, Family::Neuron) => 400,
        (false, _) => 300,
    }
}

/// What a caller sees while a sweep runs. Every method does nothing by default.
pub trait Observer {
    /// `done` of `total` trials of `cell` are loaded or simulated.
    fn data(&mut self, cell: &str, done: usize, total: usize) {
        let _ = (cell, done, total);
    }
    /// `simulated` trials of `config` were simulated now (the rest came from the cache).
    fn simulated(&mut self, config: &DataConfig, simulated: usize) {
        let _ = (config, simulated);
    }
    /// Model `name` starts (or resumes) training at `step` of `steps`.
    fn fitting(&mut self, name: &str, step: u64, steps: u64) {
        let _ = (name, step, steps);
    }
    /// A training step of the current model is done.
    fn step(&mut self, progress: &FitProgress) {
        let _ = progress;
    }
    /// The current model is trained (or failed to).
    fn fitted(&mut self, name: &str, result: Option<&FitResult>) {
        let _ = (name, result);
    }
}

/// An [`Observer`] that shows nothing.
pub struct Quiet;

impl Observer for Quiet {}

/// Runs `config` on `device`: for each cell its data (simulated and cached where missing), then
/// each family's sizes, each trained (or resumed) on the training loop, saved to
/// `out/models/NAME.model`, scored on the held-out trials and counted; then `report.json`,
/// `pareto.svg` and `traces.svg` (held-out traces of the first cell) in `out`.
pub fn run_sweep(config: &SweepConfig, device: &Device, observer: &mut impl Observer) -> Result<FitReport, FitError> {
    config.validate().map_err(FitError::Sweep)?;
    for dir in ["checkpoints", "models"] {
        let d = config.out.join(dir);
        std::fs::create_dir_all(&d).map_err(|source| FitError::Save { path: d, source })?;
    }
    let mut report = FitReport {
        results: Vec::new(),
        simulator_flops_per_ms: Vec::new(),
        data: String::new(),
        device: neuron_nn::BackendKind::of(device).name().into(),
    };
    let mut traces: Vec<(String, Prediction)> = Vec::new();
    let mut trace_trial: Option<TrialData> = None;
    for (c, cell) in config.cells.iter().enumerate() {
        let data_config = config.data(cell);
        let data = load_or_simulate(&data_config, |done, total| observer.data(&cell.name, done, total))?;
        observer.simulated(&data_config, data.simulated);
        report.data = format!(
            "{} training trials (seeds {}), validation seeds {}, test seeds {}, {} s each",
            data_config.train_seeds.len(),
            seed_range(&data_config.train_seeds),
            seed_range(&data_config.valid_seeds),
            seed_range(&data_config.test_seeds),
            data_config.seconds
        );
        let synapses = data.synapses();
        let sim = Simulator::new(cell, &synapses, &data_config.sim)?;
        report
            .simulator_flops_per_ms
            .push((cell.name.clone(), sim.flops_per_ms(data.events_per_ms())));
        for family in config.families() {
            let sizes = config.sizes_of(family);
            // The held-out trace shows the family's default sizes fitted, or its first one.
            let defaults = Size::defaults_for(family);
            let mut traced: Vec<Size> = sizes.iter().copied().filter(|s| defaults.contains(s)).collect();
            if traced.is_empty() {
                traced.extend(sizes.first());
            }
            for size in sizes {
                let name = format!("{}-{}-{}", cell.name, family.name(), size);
                let fit = config.fit_config_for(size, cell, synapses.len())?;
                let fitted = fit_one(config, &name, fit, &data, device, observer);
                let (session, model) = match fitted {
                    Ok(f) => f,
                    Err(e) => {
                        observer.fitted(&name, None);
                        return Err(e);
                    }
                };
                let validation = match data.valid.is_empty() {
                    true => None,
                    false => Some(score(&model, &session.header, &data.valid, device)?.0),
                };
                let (scores, predictions) = match config.score_test {
                    true => {
                        let (s, p) = score(&model, &session.header, &data.test, device)?;
                        (Some(s), p)
                    }
                    false => (None, Vec::new()),
                };
                if c == 0 && traced.contains(&size) && !predictions.is_empty() {
                    trace_trial.get_or_insert_with(|| data.test[0].clone());
                    traces.push((format!("{} {size}", family.title()), predictions[0].clone()));
                }
                let flops = flops_per_ms(&model, synapses.len());
                let result = FitResult {
                    cell: cell.name.clone(),
                    family,
                    size,
                    // As it ran: the Branch-ELM's input gain is the data's.
                    model: session.config.model.clone().for_input_scale(session.header.input_scale),
                    params: model.num_params(),
                    flops_per_ms: flops.torch,
                    all_ops_flops_per_ms: flops.all_ops,
                    reach_ms: session.config.model.reach(),
                    steps: session.step(),
                    train_seconds: session.train_seconds(),
                    dendrite_paths: session.dendrite_paths(),
                    validation,
                    scores,
                };
                observer.fitted(&name, Some(&result));
                report.results.push(result);
            }
        }
    }
    write_report(&config.out, &report, trace_trial.as_ref(), &traces)?;
    Ok(report)
}

/// `first–last` of a run of seeds (`a, b, c` when they are not consecutive).
fn seed_range(seeds: &[u64]) -> String {
    match seeds {
        [] => "none".into(),
        [one] => one.to_string(),
        [first, .., last] if last - first + 1 == seeds.len() as u64 => format!("{first}–{last}"),
        _ => seeds.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
    }
}

/// Trains (or resumes) one model and saves it; returns the session and the inference model.
fn fit_one(
    config: &SweepConfig,
    name: &str,
    fit: FitConfig,
    data: &Dataset,
    device: &Device,
    observer: &mut impl Observer,
) -> Result<(FitSession, FitModel), FitError> {
    let checkpoint = config.out.join("checkpoints").join(format!("{name}.ckpt"));
    let session = if config.resume && checkpoint.exists() {
        let s = FitSession::resume(&checkpoint, data, device)?;
        if s.config != fit {
            return Err(FitError::OtherConfig { path: checkpoint });
        }
        s
    } else {
        FitSession::new(fit.clone(), data, device)?
    };
    observer.fitting(name, session.step(), fit.steps);
    let until = config.stop_after.unwrap_or(fit.steps);
    let session = session.run(data, until, Some(&checkpoint), |p| observer.step(p))?;
    let model = session.model().valid();
    let path = config.out.join("models").join(format!("{name}.model"));
    model
        .save(&session.header, &path)
        .map_err(|source| FitError::Save { path, source })?;
    Ok((session, model))
}

/// `report.json`, `pareto.svg` and (with a traced trial) `traces.svg` in `out`.
fn write_report(
    out: &Path,
    report: &FitReport,
    trial: Option<&TrialData>,
    traces: &[(String, Prediction)],
) -> Result<(), FitError> {
    let saved = |name: &str, r: std::io::Result<()>| {
        r.map_err(|source| FitError::Save {
            path: out.join(name),
            source,
        })
    };
    let json = serde_json::to_string_pretty(report).expect("a report serialises");
    saved(
        "report.json",
        train::write_atomic(&out.join("report.json"), json.as_bytes()),
    )?;
    saved(
        "pareto.svg",
        crate::plot::pareto_with(
            out.join("pareto.svg"),
            &report.results,
            &report.simulator_flops_per_ms,
            published_for(report),
        ),
    )?;
    if let Some(trial) = trial {
        let p: Vec<(&str, &Prediction)> = traces.iter().map(|(label, p)| (label.as_str(), p)).collect();
        // 1.5 s from 2 s in, or as late as a shorter trial allows.
        let start = 2000.min(trial.ms().saturating_sub(1500));
        saved(
            "traces.svg",
            crate::plot::traces(out.join("traces.svg"), trial, &p, start, 1500),
        )?;
    }
    Ok(())
}

/// The published points that belong on a report's Pareto plot: NeuronIO's when it fits `l5pc`
/// (NMDA), none otherwise.
fn published_for(report: &FitReport) -> &'static [Published] {
    match report.results.iter().any(|r| r.cell == "l5pc") {
        true => &Published::L5PC,
        false => &[],
    }
}

/// Several runs' reports as one (`report.json` and `pareto.svg` in `out`): runs of one cell with
/// different settings (a neuron trained longer, the baselines) compared on one plot. Results
/// keep their order; each cell's simulator cost appears once.
pub fn merge_reports(reports: &[impl AsRef<Path>], out: &Path) -> Result<FitReport, FitError> {
    let mut merged = FitReport {
        results: Vec::new(),
        simulator_flops_per_ms: Vec::new(),
        data: String::new(),
        device: String::new(),
    };
    for path in reports {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| FitError::Save {
            path: path.into(),
            source,
        })?;
        let r: FitReport = serde_json::from_str(&text)
            .map_err(|e| FitError::Sweep(format!("{}: not a fit report ({e})", path.display())))?;
        for (cell, f) in r.simulator_flops_per_ms {
            if !merged.simulator_flops_per_ms.iter().any(|(c, _)| *c == cell) {
                merged.simulator_flops_per_ms.push((cell, f));
            }
        }
        for (field, value) in [(&mut merged.data, r.data), (&mut merged.device, r.device)] {
            if !field.contains(&value) {
                if !field.is_empty() {
                    field.push_str("; ");
                }
                field.push_str(&value);
            }
        }
        merged.results.extend(r.results);
    }
    if merged.results.is_empty() {
        return Err(FitError::Sweep("merge: the reports hold no results".into()));
    }
    std::fs::create_dir_all(out).map_err(|source| FitError::Save {
        path: out.into(),
        source,
    })?;
    write_report(out, &merged, None, &[])?;
    Ok(merged)
}

/// A saved model scored on trial files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileScores {
    /// What the model file says it is.
    pub header: ModelHeader,
    /// The trials' length, ms, summed.
    pub ms: usize,
    /// Trials scored.
    #[serde(default = "one")]
    pub trials: usize,
    /// The scores, over every trial together.
    pub scores: Scores,
}

fn one() -> usize {
    1
}

/// Scores the model saved at `model` on the simulated trial in `trial` (a biophys `.npz`, any
/// synapse order: the neuron lays every row onto its grid; a baseline refuses another
/// placement), skipping the first `SKIP_MS` as the held-out scores do.
pub fn evaluate_file(model: &Path, trial: &Path, device: &Device) -> Result<FileScores, FitError> {
    evaluate_files(model, &[trial], device)
}

/// [`evaluate_file`] over several trial files, scored together (as the test set is).
pub fn evaluate_files(model: &Path, trials: &[impl AsRef<Path>], device: &Device) -> Result<FileScores, FitError> {
    let (header, fitted) = FitModel::load(model, device)?;
    // A preset's trial may place its synapses by section name only (a NeuronIO file, one made
    // with NEURON): read it onto the cell the model was fitted to.
    let cell = biophys::preset(&header.cell).ok();
    let data = trials
        .iter()
        .map(|path| {
            let path = path.as_ref();
            let loaded = match &cell {
                Some(cell) => Trial::load_for(path, cell)?,
                None => Trial::load(path)?,
            };
            let seed = loaded.meta.get("seed").and_then(|s| s.as_u64()).unwrap_or(0);
            Ok(TrialData::from_trial(loaded, seed, path)?)
        })
        .collect::<Result<Vec<_>, FitError>>()?;
    let (scores, _) = score(&fitted, &header, &data, device)?;
    Ok(FileScores {
        header,
        ms: data.iter().map(TrialData::ms).sum(),
        trials: data.len(),
        scores,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_command_fits_the_default_sizes_and_the_sweep_every_size() {
        let main = SweepConfig::new("out", "cache");
        assert_eq!(main.families(), Family::DEFAULT.to_vec());
        assert!(!main.families().contains(&Family::Elm));
        // Sizes alone name their families.
        let elm = SweepConfig {
            sizes: vec!["elm20".parse().unwrap(), "4-1".parse().unwrap()],
            ..main.clone()
        };
        assert_eq!(elm.families(), [Family::Neuron, Family::Elm]);
        for family in Family::ALL {
            assert_eq!(main.sizes_of(family), Size::defaults_for(family));
        }
        let sweep = SweepConfig::sweep("out", "cache");
        assert_eq!(sweep.cells.len(), 2);
        assert_eq!(sweep.sizes_of(Family::Neuron).len(), Size::of(Family::Neuron).count());
        // Sizes asked for win over both; a size of a family not asked for is an error.
        let asked = SweepConfig {
            families: vec![Family::Ln],
            sizes: vec!["k20".parse().unwrap(), "k40".parse().unwrap()],
            ..sweep.clone()
        };
        assert_eq!(asked.sizes_of(Family::Ln).len(), 2);
        assert!(asked.validate().is_ok());
        let wrong = SweepConfig {
            sizes: vec!["4-1".parse().unwrap()],
            ..asked
        };
        let e = wrong.validate().unwrap_err();
        assert!(
            e.contains("size `4-1` is a neuron size, but the families asked for are ln"),
            "{e}"
        );
    }

    #[test]
    fn a_models_training_config_takes_the_run_s_settings_and_each_familys_defaults() {
        let main = SweepConfig::new("out", "cache");
        let size = |label: &str| label.parse::<Size>().unwrap();
        let neuron = main.fit_config(size("4-1"), 250, 4);
        let memory = main.fit_config(size("4-4+m40"), 250, 4);
        let ln = main.fit_config(size("k80"), 250, 4);
        assert_eq!((neuron.steps, memory.steps, ln.steps), (400, 1500, 300));
        assert_eq!(neuron.final_learning_rate, neuron.learning_rate / 10.0);
        let set = SweepConfig {
            steps: Some(7),
            batch: Some(3),
            window: Some(64),
            learning_rate: Some(1e-2),
            warmup_steps: Some(2),
            seed: 5,
            ..main.clone()
        }
        .fit_config(size("3x32"), 250, 4);
        assert_eq!((set.steps, set.batch, set.window, set.seed), (7, 3, 64, 5));
        assert_eq!((neuron.warmup_steps, set.warmup_steps), (None, Some(2)));
        assert_eq!(set.schedule().warmup_steps, 2);
        assert_eq!((set.learning_rate, set.final_learning_rate), (1e-2, 1e-3));
        assert_eq!(SweepConfig::sweep("o", "c").fit_config(size("k80"), 250, 4).steps, 1000);
        let data = SweepConfig {
            train_trials: 3,
            seconds: 1.5,
            ..main
        }
        .data(&CellConfig::bs4());
        assert_eq!((data.train_seeds, data.seconds), (vec![1, 2, 3], 1.5));
        assert_eq!(data.valid_seeds, vec![101, 102, 103, 104]);
        assert_eq!(data.test_seeds, vec![201, 202, 203, 204]);
        let l5pc = SweepConfig::l5pc("o", "c", false, 5).unwrap();
        let data = l5pc.data(&l5pc.cells[0]);
        assert_eq!(
            (data.train_seeds.len(), data.valid_seeds.len(), data.test_seeds.len()),
            (5, 32, 64)
        );
        assert_eq!(data.seconds, 6.0);
        // The neuron's grid follows the tree; the baselines read raster rows.
        let neuron = l5pc.fit_config_for(size("4-1"), &l5pc.cells[0], 1278).unwrap();
        match neuron.model {
            ModelConfig::Neuron(c) => {
                let layout = c.layout.clone().unwrap();
                assert_eq!(
                    (layout.rule, c.positions, c.dendrites()),
                    (GridRule::Stems, 4, layout.columns)
                );
                c.validate().unwrap();
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(seed_range(&[3, 4, 5]), "3–5");
        assert_eq!(seed_range(&[3, 5]), "3, 5");
    }
}
