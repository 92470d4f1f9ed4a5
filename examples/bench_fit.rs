//! One training step of each fit family at the fit's shapes (batch 8 windows of the scored ms
//! plus the model's reach; forward, backward, Adam: the fit's own step, through `FitSession`),
//! timed, with its counted FLOPs and the achieved rate; with `--peer PYTHON`, the PyTorch mirror
//! (`scripts/bench_fit.py`: the same stages, shapes, loss and optimizer) in the same run.
//!
//! ```text
//! cargo run --release --example bench_fit [-- --reps 5 --peer /path/to/venv/bin/python --json]
//! ```
//!
//! The trials (2 × 3 s of bs4) are simulated once and cached in `target/bench_fit/data`.

mod common;

use std::process::Command;

use biophys::CellConfig;
use burn::tensor::Tensor;
use clap::Parser;
use common::Backend;
use fit::{DataConfig, FitConfig, FitSession, Size};
use flop_count::{Convention, capture};
use serde_json::json;

/// Time one training step of each fit family; compare with PyTorch in the same run.
#[derive(Parser, Debug)]
#[command(name = "bench_fit", version)]
struct Cli {
    /// Timed steps per model (median), after one warm-up step.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    reps: u64,
    /// Sizes to time (window 512 ms for the memory somas, 256 for the others, as the fit's
    /// commands use them).
    #[arg(long, value_delimiter = ',', default_value = "4-1,4-4+m80,3x32,k80")]
    size: Vec<Size>,
    /// Run the memory somas' steps as Burn's loop (`MemoryRecurrence::Loop`), as before the
    /// fused recurrence, and every dendrite stage on `--dendrites` (default: the fit's own).
    #[arg(long)]
    memory_loop: bool,
    /// The dendrite stages' path [default: each size's config].
    #[arg(long, value_enum)]
    dendrites: Option<common::DendritePath>,
    /// A Python with torch: also run scripts/bench_fit.py (2 threads) and print both.
    #[arg(long)]
    peer: Option<String>,
    /// Backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    device: Backend,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// The PyTorch mirror's name of a size.
fn peer_name(size: Size) -> String {
    format!("{}-{}", size.family().name(), size.label())
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("bench_fit: {msg}");
    std::process::exit(1)
}

fn main() {
    common::exit_quietly_on_closed_pipe();
    let cli = Cli::parse();
    let device = cli.device.device_or_exit("bench_fit");
    let data = fit::load_or_simulate(
        &DataConfig {
            train_seeds: vec![1, 2],
            valid_seeds: vec![],
            test_seeds: vec![],
            seconds: 3.0,
            ..DataConfig::standard(CellConfig::bs4(), "target/bench_fit/data")
        },
        |_, _| {},
    )
    .unwrap_or_else(|e| fail(e));
    let synapses = data.synapses();
    let peer = cli.peer.as_ref().map(|python| {
        let models: Vec<String> = cli.size.iter().map(|&s| peer_name(s)).collect();
        let out = Command::new(python)
            .args(["scripts/bench_fit.py", "--threads", "2", "--reps"])
            .arg(cli.reps.to_string())
            .args(["--models", &models.join(",")])
            .output()
            .unwrap_or_else(|e| fail(format!("cannot run {python}: {e}")));
        if !out.status.success() {
            fail(format!(
                "scripts/bench_fit.py failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_else(|e| fail(e))
    });
    if !cli.json {
        println!(
            "one training step (batch 8, forward + backward + Adam) on {device:?}, median of {}",
            cli.reps
        );
        println!("| size | window | step | FLOPs/step (counted) | GFLOP/s | PyTorch step | PyTorch / Burn |");
        println!("|---|---:|---:|---:|---:|---:|---:|");
    }
    let mut rows = Vec::new();
    for size in cli.size.iter().copied() {
        let window = if size.label().contains("+m") { 512 } else { 256 };
        let model = match size.model(synapses.len(), CellConfig::bs4().dendrites()) {
            fit::ModelConfig::Neuron(mut net) => {
                if let Some(path) = cli.dendrites {
                    net.algorithm = path.single().unwrap_or_else(|e| fail(e));
                    net.stages.iter_mut().for_each(|s| s.algorithm = None);
                }
                if let Some(memory) = &mut net.soma_memory
                    && cli.memory_loop
                {
                    memory.recurrence = Some(neuron_nn::MemoryRecurrence::Loop);
                }
                fit::ModelConfig::Neuron(net)
            }
            other => other,
        };
        let reach = model.reach();
        let config = FitConfig::new(model.clone())
            .with_window(window)
            .with_steps(cli.reps + 1)
            .with_checkpoint_every(u64::MAX);
        let mut times = Vec::new();
        let mut last = std::time::Instant::now();
        let session = FitSession::new(config, &data, &device).unwrap_or_else(|e| fail(e));
        session
            .run(&data, u64::MAX, None, |p| {
                if p.step > 1 {
                    times.push(last.elapsed().as_secs_f64());
                }
                last = std::time::Instant::now();
            })
            .unwrap_or_else(|e| fail(e));
        times.sort_by(f64::total_cmp);
        let step = times[times.len() / 2];
        let counted = capture(|cx| {
            let m = cx.model(model.init(&synapses, cx.device()).expect("a valid size"));
            cx.params(&m);
            let _ = m.forward(Tensor::<3>::zeros([8, synapses.len(), reach + window], cx.device()));
        })
        .expect("the fit's models capture")
        .count(&Convention::torch());
        let flops = (counted.forward + counted.backward_params.expect("parameters declared")) as f64;
        let torch = peer
            .as_ref()
            .and_then(|p| p["results"][peer_name(size)]["median_seconds"].as_f64());
        if !cli.json {
            println!(
                "| {size} | {window} | {:.3} s | {flops:.3e} | {:.2} | {} | {} |",
                step,
                flops / step / 1e9,
                torch.map_or("–".into(), |t| format!("{t:.3} s")),
                torch.map_or("–".into(), |t| format!("{:.2}", t / step)),
            );
        }
        rows.push(json!({"size": size, "window": window, "step_seconds": step, "flops_per_step": flops, "torch_step_seconds": torch}));
    }
    if cli.json {
        let out = json!({"device": format!("{device:?}"), "reps": cli.reps, "rows": rows, "peer": peer});
        println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
    }
}
