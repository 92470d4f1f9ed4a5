//! The claim that a neuron is a convnet, measured: `biophys` simulates a ball-and-four-sticks
//! cell with NMDA synapses (ground truth; or, with `--preset l5pc`, Hay's layer-5 pyramidal
//! cell as NeuronIO simulates it), and model families learn its spikes and somatic voltage
//! every millisecond: the library's neuron (synapses on a dendrite grid, `Dendrites`,
//! `DendriticSpike`, `Summation`, `Soma`), a temporal convnet and the linear-nonlinear floor
//! (and, with `--family elm`, the published Branch-ELM, the anchor on NeuronIO's cell).
//! Each is scored on validation and test trials (spike AUC, TPR at 1 % FPR, voltage RMSE and
//! explained variance; on l5pc also by NeuronIO's own evaluation code) against its forward
//! FLOPs per simulated ms, counted by `flop-count`. The run itself
//! is the `fit` crate's ([`fit::run_sweep`]); this is its command line.
//!
//! ```text
//! cargo run --release --example fit_neuron                     # default: the essay's neuron, a memory soma, two baselines (≈ 4 min)
//! cargo run --release --example fit_neuron -- --sweep          # every size, NMDA and AMPA-only
//! cargo run --release --example fit_neuron -- --preset l5pc --family neuron --size 4-4+m40   # Hay's cell, NeuronIO-style
//! cargo run --release --example fit_neuron -- --eval trial.npz --model out/fit/models/bs4-neuron-4-1.model
//! ```
//!
//! `--help` lists every option; docs/fit.md explains the run and its results.

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Parser;
use common::Backend;
use fit::grid::GridRule;
use fit::{Family, FitProgress, FitResult, Observer, Size, SweepConfig};
use indicatif::{ProgressBar, ProgressStyle};

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
    /// The cell: bs4 (the ball and four sticks: 30 s trials, validation seeds 101–104, test
    /// 201–204), or l5pc / l5pc-ampa (Hay's cell as NeuronIO simulates it: 6 s trials, 32
    /// validation, 64 test; docs/fit.md).
    #[arg(long, default_value = "bs4", value_parser = ["bs4", "l5pc", "l5pc-ampa"])]
    preset: String,
    /// Training trials, seeds 1..=N [default: 20 for bs4, 600 (one simulated hour) for l5pc].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=5000))]
    train_trials: Option<u64>,
    /// The neuron's grid on a reconstructed tree: RULE:POSITIONS, the rule `kinds` (a column
    /// for basal, one for apical) or `stems` (a column per dendrite leaving the soma), positions
    /// binning path distance from the soma [default for l5pc: stems:4].
    #[arg(long, value_parser = parse_grid)]
    grid: Option<(GridRule, usize)>,
    /// Families to fit: neuron, tcn, ln, elm (the published Branch-ELM) [default: those of
    /// --size, else neuron, tcn, ln].
    #[arg(long, value_delimiter = ',')]
    family: Vec<Family>,
    /// Sizes to fit, by label [default: neuron 4-1 and 4-4+m40, tcn 3x32, ln k80; every size
    /// with --sweep].
    #[arg(long, value_delimiter = ',', long_help = size_help())]
    size: Vec<Size>,
    /// Every size of each family, on the NMDA cell and the AMPA-only control, 1000 steps each
    /// (about 4.5 hours on 2 cores before the convnets 1x128 and 7x128, not timed since;
    /// docs/fit.md).
    #[arg(long)]
    sweep: bool,
    /// Adam steps per model [default: 1500 for leaky memory (`+m` sizes, elm20), 400 for the other
    /// neurons, 300 tcn and ln; 1000 each with --sweep].
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
    /// Steps of a linear learning-rate warm-up onto the decay [default: none].
    #[arg(long)]
    warmup: Option<u64>,
    /// Seed of the weights and batches.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Continue each model from its checkpoint in OUT/checkpoints (a finished one is only scored).
    #[arg(long)]
    resume: bool,
    /// Score the validation trials only: for making choices, so that the test trials are
    /// scored once per reported model.
    #[arg(long)]
    validation_only: bool,
    /// Stop each model after step N (its checkpoint is written), as if interrupted.
    #[arg(long)]
    stop_after: Option<u64>,
    /// Backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    device: Backend,
    /// Print one JSON object on stdout (progress stays on stderr).
    #[arg(long)]
    json: bool,
    /// Score a saved model (--model) on these trial files (biophys .npz, simulated; several
    /// are scored together, as the test set is) and exit.
    #[arg(long, requires = "model", num_args = 1..)]
    eval: Vec<PathBuf>,
    /// Merge the report.json files of several runs into one report and Pareto plot in --out
    /// (published points marked for l5pc) and exit.
    #[arg(long, num_args = 1.., conflicts_with_all = ["eval", "model"])]
    merge: Vec<PathBuf>,
    /// The saved model for --eval.
    #[arg(long, requires = "eval")]
    model: Option<PathBuf>,
}

/// The sizes, from the one table the parser reads.
fn size_help() -> String {
    format!(
        "Sizes to fit, by label: {} [default: neuron 4-1 and 4-4+m40, tcn 3x32, ln k80, elm elm20; every size with --sweep]",
        Size::labels()
    )
}

/// `stems:4` → (Stems, 4).
fn parse_grid(s: &str) -> Result<(GridRule, usize), String> {
    let (rule, positions) = s.split_once(':').ok_or("expected RULE:POSITIONS, e.g. stems:4")?;
    let rule = match rule {
        "kinds" => GridRule::Kinds,
        "stems" => GridRule::Stems,
        other => return Err(format!("unknown grid rule `{other}`: expected kinds or stems")),
    };
    match positions.parse::<usize>() {
        Ok(p) if p > 0 => Ok((rule, p)),
        _ => Err(format!("positions must be a whole number from 1, not `{positions}`")),
    }
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("fit_neuron: {msg}");
    std::process::exit(1)
}

/// Progress bars on stderr (hidden with --json), a line per fitted model.
struct Bars {
    json: bool,
    bar: ProgressBar,
}

impl Bars {
    fn start(&mut self, len: u64, template: &str) {
        self.bar = if self.json {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(len).with_style(
                ProgressStyle::with_template(template)
                    .expect("template")
                    .progress_chars("#>."),
            )
        };
    }
}

impl Observer for Bars {
    fn data(&mut self, cell: &str, done: usize, total: usize) {
        if self.bar.length() != Some(total as u64) {
            self.start(
                total as u64,
                &format!("[{{bar:30}}] {cell} trials {{pos}}/{{len}} (simulating the missing ones) {{elapsed}}"),
            );
        }
        self.bar.set_position(done as u64);
    }

    fn simulated(&mut self, config: &fit::DataConfig, simulated: usize) {
        self.bar.finish_and_clear();
        if !self.json && simulated > 0 {
            eprintln!(
                "simulated {simulated} trials of {} ({} s each) into {}",
                config.cell.name,
                config.seconds,
                config.cache.display()
            );
        }
    }

    fn fitting(&mut self, name: &str, step: u64, steps: u64) {
        self.start(
            steps,
            &format!("[{{bar:30}}] {name} step {{pos}}/{{len}} {{msg}} {{elapsed}}/{{duration}}"),
        );
        self.bar.set_position(step);
    }

    fn step(&mut self, p: &FitProgress) {
        self.bar.set_position(p.step);
        self.bar
            .set_message(format!("spike {:.4} voltage {:.3}", p.loss.spike, p.loss.voltage));
    }

    fn fitted(&mut self, name: &str, result: Option<&FitResult>) {
        match result {
            None => self.bar.abandon(),
            Some(r) => {
                self.bar.finish_and_clear();
                if !self.json {
                    let line = |what: &str, s: &fit::Scores| {
                        format!(
                            "{what} AUC {:.4}, TPR@1%FPR {:.3}, V RMSE {:.2} mV, V EV {:.1} %",
                            s.auc,
                            s.tpr_at_1pct_fpr,
                            s.voltage_rmse_mv,
                            100.0 * s.voltage_explained_variance
                        )
                    };
                    let scored: Vec<String> = [("validation", &r.validation), ("test", &r.scores)]
                        .into_iter()
                        .filter_map(|(what, s)| Some(line(what, s.as_ref()?)))
                        .collect();
                    eprintln!(
                        "{name}: {}; {:.3e} FLOPs/ms, {} params",
                        scored.join("; "),
                        r.flops_per_ms,
                        r.params
                    );
                }
            }
        }
    }
}

fn main() {
    common::exit_quietly_on_closed_pipe();
    let cli = Cli::parse();
    let device = cli.device.device_or_exit("fit_neuron");
    if !cli.merge.is_empty() {
        let out = cli.out.clone().unwrap_or_else(|| "target/fit_neuron-merged".into());
        let report = fit::merge_reports(&cli.merge, &out).unwrap_or_else(|e| fail(e));
        if cli.json {
            println!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
        } else {
            print!("{}", report.to_table());
            println!("wrote {}/{{report.json, pareto.svg}}", out.display());
        }
        return;
    }
    if let Some(model) = &cli.model {
        return eval(&cli.eval, model, &device, cli.json);
    }
    let started = Instant::now();
    let default_out = if cli.sweep {
        "target/fit_neuron-sweep"
    } else {
        "target/fit_neuron"
    };
    let out = cli.out.clone().unwrap_or_else(|| default_out.into());
    let l5pc = cli.preset.starts_with("l5pc");
    if cli.sweep && l5pc {
        fail("--sweep is bs4's (and its AMPA control's); on l5pc name the --family and --size to fit");
    }
    if cli.grid.is_some() && !l5pc {
        fail("--grid lays out a reconstructed tree (l5pc); bs4's grid is a column per stick");
    }
    let base = if cli.sweep {
        SweepConfig::sweep(&out, &cli.cache)
    } else if l5pc {
        SweepConfig::l5pc(&out, &cli.cache, cli.preset == "l5pc-ampa", 600).unwrap_or_else(|e| fail(e))
    } else {
        SweepConfig::new(&out, &cli.cache)
    };
    let config = SweepConfig {
        train_trials: cli.train_trials.unwrap_or(base.train_trials),
        grid: cli.grid.or(base.grid),
        families: cli.family.clone(),
        sizes: cli.size.clone(),
        steps: cli.steps,
        batch: cli.batch,
        window: cli.window,
        learning_rate: cli.lr,
        warmup_steps: cli.warmup,
        seed: cli.seed,
        resume: cli.resume,
        score_test: !cli.validation_only,
        stop_after: cli.stop_after,
        ..base
    };
    let mut bars = Bars {
        json: cli.json,
        bar: ProgressBar::hidden(),
    };
    let report = fit::run_sweep(&config, &device, &mut bars).unwrap_or_else(|e| fail(e));
    if cli.json {
        println!("{}", serde_json::to_string_pretty(&report).expect("report serialises"));
        return;
    }
    print!("{}", report.to_table());
    println!(
        "wrote {}/{{report.json, pareto.svg, traces.svg, models/, checkpoints/}} in {:.0} s",
        out.display(),
        started.elapsed().as_secs_f64()
    );
}

/// `--eval FILE.. --model SAVED`: the same metrics on any trials of the cell.
fn eval(files: &[PathBuf], model: &Path, device: &burn::tensor::Device, json: bool) {
    let r = fit::evaluate_files(model, files, device).unwrap_or_else(|e| fail(e));
    let family = r.header.model.family();
    if json {
        println!(
            "{}",
            serde_json::json!({"files": files, "model": model, "cell": r.header.cell, "family": family, "scores": r.scores})
        );
        return;
    }
    let named = match files {
        [one] => one.display().to_string(),
        _ => format!("{} trials", files.len()),
    };
    let s = &r.scores;
    println!(
        "{} ({} on {}) on {} ({} ms, {} spikes scored after the first {} ms):\n  spike AUC {:.4}, TPR at 1 % FPR {:.3}, voltage RMSE {:.2} mV, explained variance {:.1} %",
        model.display(),
        family.title(),
        r.header.cell,
        named,
        r.ms,
        s.spikes,
        fit::SKIP_MS,
        s.auc,
        s.tpr_at_1pct_fpr,
        s.voltage_rmse_mv,
        100.0 * s.voltage_explained_variance
    );
    match &s.neuronio {
        Some(n) => println!(
            "  NeuronIO's evaluation code (voltage rescaled to the target's moments): AUC {:.4}, TP at 0.25 % / 1 % FP {:.3} / {:.3}, RMSE {:.2} mV, explained variance {:.1} %",
            n.auc,
            n.tpr_at_0_25pct_fpr,
            n.tpr_at_1pct_fpr,
            n.voltage_rmse_mv,
            100.0 * n.voltage_explained_variance
        ),
        None => println!(
            "  NeuronIO's evaluation code: not applicable (its rule keeps trials with at most 24 spikes per 6 s)"
        ),
    }
}
