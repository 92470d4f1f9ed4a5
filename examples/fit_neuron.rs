//! The claim that a neuron is a convnet, measured: `biophys` simulates a ball-and-four-sticks
//! cell with NMDA synapses (ground truth), and three model families learn its spikes and somatic
//! voltage every millisecond: the library's neuron (synapses on a dendrite grid, `Dendrites`,
//! `DendriticSpike`, `Summation`, `Soma`), a temporal convnet and the linear-nonlinear floor.
//! Each is scored on held-out trials (spike AUC, TPR at 1 % FPR, voltage RMSE and explained
//! variance) against its forward FLOPs per simulated ms, counted by `flop-count`.
//!
//! ```text
//! cargo run --release --example fit_neuron                     # default: one size per family (≈ 5 min)
//! cargo run --release --example fit_neuron -- --sweep          # every size, NMDA and AMPA-only
//! cargo run --release --example fit_neuron -- --eval trial.npz --model out/fit/models/bs4-neuron-4-1.model
//! ```
//!
//! `--help` lists every option; docs/fit.md explains the run and its results.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use biophys::{CellConfig, Simulator, Trial};
use clap::Parser;
use common::Backend;
use indicatif::{ProgressBar, ProgressStyle};
use train::fit::{
    self, DataConfig, Dataset, Family, FitConfig, FitError, FitModel, FitReport, FitResult, FitSession, Prediction,
    TrialData,
};

/// Fit the library's neuron and two baselines to a biophysical cell; score them against FLOPs.
#[derive(Parser, Debug)]
#[command(name = "fit_neuron", version)]
struct Cli {
    /// Report, plots, models and checkpoints [default: target/fit_neuron, -sweep with --sweep].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Simulated trials, cached as .npz (kept between runs; keyed by every parameter).
    #[arg(long, default_value = "target/fit_neuron/data")]
    cache: PathBuf,
    /// Training trials of 30 s each, seeds 1..=N (the held-out seeds 101–104 stay the same).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=100))]
    train_trials: u64,
    /// Families to fit [default: all three].
    #[arg(long, value_delimiter = ',')]
    family: Vec<Family>,
    /// Sizes to fit, by label (neuron 1, 4-1, 8-8-1, 4-1+r4, 8-8-1+r8, 4-1+x, 4-1+h, 4-4+m,
    /// 4-4+m40, 4-4+m80; tcn 2x8, 3x32, 5x64; ln k20, k40, k80) [default: neuron 4-1, tcn 3x32, ln k80;
    /// every size with --sweep].
    #[arg(long, value_delimiter = ',')]
    size: Vec<String>,
    /// Every size of each family (10 neuron, 3 tcn, 3 ln), on the NMDA cell and the AMPA-only
    /// control, 1000 steps each (about 4.5 hours on 2 cores; docs/fit.md).
    #[arg(long)]
    sweep: bool,
    /// Adam steps per model [default: 400 neuron, 300 tcn and ln; 1000 each with --sweep].
    #[arg(long)]
    steps: Option<u64>,
    /// Windows per batch [default: 8].
    #[arg(long)]
    batch: Option<usize>,
    /// Scored ms per window [default: 256].
    #[arg(long)]
    window: Option<usize>,
    /// First learning rate, decaying geometrically to a tenth [default: 3e-3].
    #[arg(long)]
    lr: Option<f64>,
    /// Seed of the weights and batches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Continue each model from its checkpoint in OUT/checkpoints (a finished one is only scored).
    #[arg(long)]
    resume: bool,
    /// Stop each model after step N (its checkpoint is written), as if interrupted.
    #[arg(long)]
    stop_after: Option<u64>,
    /// Backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    device: Backend,
    /// Print one JSON object on stdout (progress stays on stderr).
    #[arg(long)]
    json: bool,
    /// Score a saved model (--model) on this trial file (biophys .npz, simulated) and exit.
    #[arg(long, requires = "model")]
    eval: Option<PathBuf>,
    /// The saved model for --eval.
    #[arg(long, requires = "eval")]
    model: Option<PathBuf>,
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("fit_neuron: {msg}");
    std::process::exit(1)
}

/// Steps that keep the default run near 5 minutes on 2 cores (the neuron's step costs about
/// twice the others' on flex, docs/fit.md); the sweep trains every model 1000 steps.
fn default_steps(family: Family, sweep: bool) -> u64 {
    match (sweep, family) {
        (true, _) => 1000,
        (false, Family::Neuron) => 400,
        (false, _) => 300,
    }
}

fn bar(len: u64, template: &str, json: bool) -> ProgressBar {
    if json {
        return ProgressBar::hidden();
    }
    ProgressBar::new(len).with_style(
        ProgressStyle::with_template(template)
            .expect("template")
            .progress_chars("#>."),
    )
}

fn main() {
    let cli = Cli::parse();
    let device = cli.device.device_or_exit("fit_neuron");
    if let (Some(file), Some(model)) = (&cli.eval, &cli.model) {
        return eval(file, model, &device, cli.json);
    }
    let started = Instant::now();
    let out = cli.out.clone().unwrap_or_else(|| {
        PathBuf::from(if cli.sweep {
            "target/fit_neuron-sweep"
        } else {
            "target/fit_neuron"
        })
    });
    for dir in ["checkpoints", "models"] {
        let d = out.join(dir);
        std::fs::create_dir_all(&d).unwrap_or_else(|e| fail(format!("cannot create {}: {e}", d.display())));
    }
    for label in &cli.size {
        let known = families_or_all(&cli.family)
            .iter()
            .any(|&f| fit::sizes(f, 1, 1).iter().any(|s| &s.label == label));
        if !known {
            let sizes: Vec<String> = families_or_all(&cli.family)
                .iter()
                .map(|&f| {
                    let labels: Vec<String> = fit::sizes(f, 1, 1).into_iter().map(|s| s.label).collect();
                    format!("{} {}", f.name(), labels.join(", "))
                })
                .collect();
            fail(format!(
                "no size `{label}` in the families asked for; sizes: {}",
                sizes.join("; ")
            ));
        }
    }
    let cells = if cli.sweep {
        vec![CellConfig::bs4(), CellConfig::bs4_ampa_only()]
    } else {
        vec![CellConfig::bs4()]
    };
    let families = families_or_all(&cli.family);
    let mut report = FitReport {
        results: Vec::new(),
        simulator_flops_per_ms: Vec::new(),
        data: String::new(),
        device: cli.device.name().into(),
    };
    let mut traces: Vec<(Family, Prediction)> = Vec::new();
    let mut trace_trial: Option<TrialData> = None;
    for cell in cells {
        let mut config = DataConfig::standard(cell.clone(), &cli.cache);
        config.train_seeds = (1..=cli.train_trials).collect();
        let data = load_data(&config, cli.json);
        report.data = format!(
            "training seeds {:?}, held-out seeds {:?}, {} s each",
            config.train_seeds, config.test_seeds, config.seconds
        );
        let synapses = &data.train[0].synapses;
        let sim = Simulator::new(&cell, synapses, &config.sim).unwrap_or_else(|e| fail(e));
        let events: f64 = data
            .train
            .iter()
            .map(|t| t.raster.bits.iter().filter(|b| **b).count() as f64)
            .sum::<f64>()
            / data.train.iter().map(|t| t.ms() as f64).sum::<f64>();
        report
            .simulator_flops_per_ms
            .push((cell.name.clone(), sim.flops_per_ms(events)));
        for &family in &families {
            let sizes = fit::sizes(family, synapses.len(), cell.dendrites());
            let chosen: Vec<_> = if !cli.size.is_empty() {
                sizes.into_iter().filter(|s| cli.size.contains(&s.label)).collect()
            } else if cli.sweep {
                sizes
            } else {
                sizes
                    .into_iter()
                    .filter(|s| s.label == fit::default_size(family))
                    .collect()
            };
            // The held-out trace shows the family's default size, or its first one fitted.
            let traced = chosen
                .iter()
                .find(|s| s.label == fit::default_size(family))
                .or(chosen.first())
                .map(|s| s.label.clone());
            for size in chosen {
                let name = format!("{}-{}-{}", cell.name, family.name(), size.label);
                let steps = cli.steps.unwrap_or(default_steps(family, cli.sweep));
                let base = FitConfig::new(size.model.clone());
                let lr = cli.lr.unwrap_or(base.learning_rate);
                let fit_config = base
                    .clone()
                    .with_steps(steps)
                    .with_seed(cli.seed)
                    .with_batch(cli.batch.unwrap_or(base.batch))
                    .with_window(cli.window.unwrap_or(base.window))
                    .with_learning_rate(lr)
                    .with_final_learning_rate(lr / 10.0);
                let (trained, model, header) = fit_one(&cli, &out, &name, fit_config, &data, &device);
                let (scores, predictions) =
                    fit::score(&model, &header, &data.test, &device).unwrap_or_else(|e| fail(e));
                if cell.name == "bs4" && traced.as_ref() == Some(&size.label) {
                    trace_trial.get_or_insert_with(|| data.test[0].clone());
                    traces.push((family, predictions[0].clone()));
                }
                let flops = fit::flops_per_ms(&model, synapses.len());
                let result = FitResult {
                    cell: cell.name.clone(),
                    family,
                    size: size.label.clone(),
                    model: size.model.clone(),
                    params: burn::module::Module::num_params(&model),
                    flops_per_ms: flops.torch,
                    all_ops_flops_per_ms: flops.all_ops,
                    reach_ms: size.model.reach(),
                    steps: trained.0,
                    train_seconds: trained.1,
                    scores,
                };
                if !cli.json {
                    eprintln!(
                        "{name}: AUC {:.4}, TPR@1%FPR {:.3}, V RMSE {:.2} mV, V EV {:.1} %, {:.3e} FLOPs/ms, {} params",
                        scores.auc,
                        scores.tpr_at_1pct_fpr,
                        scores.voltage_rmse_mv,
                        100.0 * scores.voltage_explained_variance,
                        result.flops_per_ms,
                        result.params
                    );
                }
                report.results.push(result);
            }
        }
    }
    let out = &out;
    let write = |name: &str, r: std::io::Result<()>| {
        r.unwrap_or_else(|e| fail(format!("cannot write {}: {e}", out.join(name).display())))
    };
    let json = serde_json::to_string_pretty(&report).expect("report serialises");
    write(
        "report.json",
        train::write_atomic(&out.join("report.json"), json.as_bytes()),
    );
    write(
        "pareto.svg",
        fit::plot::pareto(out.join("pareto.svg"), &report.results, &report.simulator_flops_per_ms),
    );
    if let Some(trial) = &trace_trial {
        let p: Vec<(Family, &Prediction)> = traces.iter().map(|(f, p)| (*f, p)).collect();
        write(
            "traces.svg",
            fit::plot::traces(out.join("traces.svg"), trial, &p, 2000, 1500),
        );
    }
    if cli.json {
        println!("{json}");
        return;
    }
    print!("{}", report.to_table());
    println!(
        "wrote {}/{{report.json, pareto.svg, traces.svg, models/, checkpoints/}} in {:.0} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
}

/// The families asked for, or all three.
fn families_or_all(asked: &[Family]) -> Vec<Family> {
    if asked.is_empty() {
        Family::ALL.to_vec()
    } else {
        asked.to_vec()
    }
}

/// The cell's trials, simulating (and caching) what is missing.
fn load_data(config: &DataConfig, json: bool) -> Dataset {
    let total = config.train_seeds.len() + config.test_seeds.len();
    let b = bar(
        total as u64,
        &format!(
            "[{{bar:30}}] {} trials {{pos}}/{{len}} (simulating the missing ones) {{elapsed}}",
            config.cell.name
        ),
        json,
    );
    let data = fit::load_or_simulate(config, |done, _| b.set_position(done as u64)).unwrap_or_else(|e| fail(e));
    b.finish_and_clear();
    if !json && data.simulated > 0 {
        eprintln!(
            "simulated {} trials of {} ({} s each) into {}",
            data.simulated,
            config.cell.name,
            config.seconds,
            config.cache.display()
        );
    }
    data
}

/// Trains (or resumes) one model and saves it; returns (steps done, seconds of training in all),
/// the inference model and its header.
fn fit_one(
    cli: &Cli,
    out: &Path,
    name: &str,
    config: FitConfig,
    data: &Dataset,
    device: &burn::tensor::Device,
) -> ((u64, f64), FitModel, fit::ModelHeader) {
    let checkpoint = out.join("checkpoints").join(format!("{name}.ckpt"));
    let session = if cli.resume && checkpoint.exists() {
        let s = FitSession::resume(&checkpoint, data, device).unwrap_or_else(|e| fail(e));
        if s.config != config {
            fail(format!(
                "checkpoint {} holds another config than this run's; delete it or run without --resume",
                checkpoint.display()
            ));
        }
        s
    } else {
        FitSession::new(config.clone(), data, device).unwrap_or_else(|e| fail(e))
    };
    let b = bar(
        config.steps,
        &format!("[{{bar:30}}] {name} step {{pos}}/{{len}} {{msg}} {{elapsed}}/{{duration}}"),
        cli.json,
    );
    b.set_position(session.step);
    let until = cli.stop_after.unwrap_or(config.steps);
    let session = session
        .run(data, until, Some(&checkpoint), |p| {
            b.set_position(p.step);
            b.set_message(format!("spike {:.4} voltage {:.3}", p.loss.spike, p.loss.voltage));
        })
        .unwrap_or_else(|e: FitError| {
            b.abandon();
            fail(e)
        });
    b.finish_and_clear();
    let model = burn::module::Module::valid(&session.model);
    let header = session.header.clone();
    let path = out.join("models").join(format!("{name}.model"));
    model
        .save(&header, &path)
        .unwrap_or_else(|e| fail(format!("cannot write {}: {e}", path.display())));
    ((session.step, session.train_seconds), model, header)
}

/// `--eval FILE --model SAVED`: the same metrics on any trial of the cell.
fn eval(file: &Path, model_path: &Path, device: &burn::tensor::Device, json: bool) {
    let (header, model) = FitModel::load(model_path, device).unwrap_or_else(|e| fail(e));
    let trial = Trial::load(file).unwrap_or_else(|e| fail(e));
    let seed = trial.meta.get("seed").and_then(|s| s.as_u64()).unwrap_or(0);
    let trial = TrialData::from_trial(trial, seed, file).unwrap_or_else(|e| fail(e));
    let (scores, _) = fit::score(&model, &header, std::slice::from_ref(&trial), device).unwrap_or_else(|e| fail(e));
    if json {
        println!(
            "{}",
            serde_json::json!({"file": file, "model": model_path, "cell": header.cell, "family": header.model.family(), "scores": scores})
        );
        return;
    }
    println!(
        "{} ({} on {}) on {} ({} ms, {} spikes scored after the first {} ms):\n  spike AUC {:.4}, TPR at 1 % FPR {:.3}, voltage RMSE {:.2} mV, explained variance {:.1} %",
        model_path.display(),
        header.model.family().title(),
        header.cell,
        file.display(),
        trial.ms(),
        scores.spikes,
        fit::SKIP_MS,
        scores.auc,
        scores.tpr_at_1pct_fpr,
        scores.voltage_rmse_mv,
        100.0 * scores.voltage_explained_variance
    );
}
