//! The essay's hot path: one Purkinje cell's dendrite stage (100 000 synapses on 100 positions ×
//! 1000 dendrites, kernel 10×1000×5 over 5 time steps), built from `neuron_nn::Dendrites`, run
//! forward and forward + backward on each algorithm, beside the same run's 2048³ matmul and a
//! large real FFT (the machine's FFT rate). FLOPs come from our counter (flop-count, torch
//! convention plus its FFT rules): 5.0e10 forward on the direct and expanded paths, the
//! transforms and spectral products on the FFT path.
//!
//! ```text
//! cargo run --release --example purkinje_dendrite [-- --device flex|ndarray --reps 5 --algorithm auto|direct|expanded|fft|all]
//! ```
//!
//! The direct (conv3d) path takes minutes per forward on 2 cores: pass `--algorithm direct`
//! only with `--reps 1`. `--algorithm all` times the expanded and FFT paths side by side.

mod common;

use burn::tensor::{Device, Distribution, Tensor};
use clap::Parser;
use common::{Backend, DendritePath, median_secs};
use neuron_nn::{DendriteAlgorithm, DendritesConfig};
use serde_json::json;

/// Time the Purkinje dendrite stage forward and forward + backward.
#[derive(Parser, Debug)]
#[command(name = "purkinje_dendrite", version)]
struct Cli {
    /// Backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    device: Backend,
    /// Timed repetitions (median), after one warm-up.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    reps: u64,
    /// The dendrite stage's algorithm; `all` runs expanded and FFT in the same run.
    #[arg(long, value_enum, default_value_t = DendritePath::Auto)]
    algorithm: DendritePath,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Counted FLOPs of the stage on `algorithm`: forward, and forward + backward (weights only;
/// the input needs no gradient).
fn counted(config: &DendritesConfig) -> (f64, f64) {
    common::counted_fwd_bwd(|d| config.init(d), |m, x| drop(m.forward(x)), [1, 100_000, 5])
}

fn main() {
    common::exit_quietly_on_closed_pipe();
    let cli = Cli::parse();
    let device = cli.device.device_or_exit("purkinje_dendrite");
    let reps = cli.reps as usize;
    let algorithms = cli.algorithm.algorithms();
    device.seed(0);

    let n = 2048;
    let mm = common::matmul_secs(n, reps, &device);
    let mm_rate = 2.0 * (n as f64).powi(3) / mm;
    let fft_rate = neuron_nn::BackendKind::of(&device)
        .has_fft()
        .then(|| fft_rate(&device, reps));

    let mut rows = Vec::new();
    let mut row = |what: String, secs: f64, flops: f64| {
        let rate = flops / secs;
        if !cli.json {
            println!(
                "{what:<40} {secs:>9.4} s {:>10.3e} FLOPs {:>8.1} GFLOP/s {:>5.0} % of matmul",
                flops,
                rate / 1e9,
                100.0 * rate / mm_rate
            );
        }
        rows.push(json!({"name": what, "median_seconds": secs, "flops": flops, "gflops": rate / 1e9}));
    };
    if !cli.json {
        println!("Purkinje dendrite stage on {device:?}, median of {reps}");
        println!("  input  [1, 100000, 5] (batch, synapses, time); grid [1, 1, 100, 1000, 5]");
    }
    row(format!("matmul {n}³"), mm, 2.0 * (n as f64).powi(3));
    if let Some((secs, flops)) = fft_rate {
        row("rfft + irfft, 4096 lines of 8192".into(), secs, flops);
    }
    let mut outputs: Vec<Vec<f32>> = Vec::new();
    for algorithm in algorithms {
        let config = DendritesConfig::new(100, 1000, [10, 1000, 5]).with_algorithm(algorithm);
        device.seed(7); // the same weights and input on every path
        let dendrites = config.init(&device);
        let resolved = dendrites.plan(1, 5, &device).algorithm;
        let (flops, flops_bwd) = counted(&config.clone().with_algorithm(resolved));
        let x = Tensor::<3>::random([1, 100_000, 5], Distribution::Default, &device);
        let _ = dendrites.weight.val(); // drawn now, after x
        outputs.push(dendrites.forward(x.clone()).into_data().iter::<f32>().collect());
        let fwd = median_secs(reps, || {
            dendrites.forward(x.clone()).into_data();
        });
        row(format!("{resolved:?} forward"), fwd, flops);
        let ad = device.clone().autodiff();
        ad.seed(1);
        let trained = config.init(&ad);
        let x_ad = Tensor::<3>::random([1, 100_000, 5], Distribution::Default, &ad);
        let fwd_bwd = median_secs(reps, || {
            let grads = trained.forward(x_ad.clone()).sum().backward();
            trained.weight.grad(&grads).expect("weight gradient").into_data();
        });
        row(format!("{resolved:?} forward + backward"), fwd_bwd, flops_bwd);
        if let (Some((fft_secs, fft_flops)), DendriteAlgorithm::Fft) = (fft_rate, resolved) {
            let ideal = flops_bwd / (fft_flops / fft_secs);
            if !cli.json {
                println!(
                    "  at the measured FFT rate the counted forward + backward FLOPs take {ideal:.4} s: {:.1}× that",
                    fwd_bwd / ideal
                );
            }
        }
    }
    if outputs.len() == 2 {
        // The same weights (seed 0 on both) through both paths.
        let scale = outputs[0].iter().fold(1f32, |m, v| m.max(v.abs()));
        let err = outputs[0]
            .iter()
            .zip(&outputs[1])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        if !cli.json {
            println!("max |expanded − fft| = {err:.3e} (outputs up to {scale:.3e})");
        }
    }
    if cli.json {
        let out = json!({"device": format!("{device:?}"), "reps": reps, "rows": rows});
        println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
    }
}

/// The machine's FFT rate: a real transform and its inverse over 4096 lines of 8192 samples,
/// timed, with FLOPs from the counter's rule (2.5·N·log₂N per line each way).
fn fft_rate(device: &Device, reps: usize) -> (f64, f64) {
    let x = Tensor::<2>::random([4096, 8192], Distribution::Default, device);
    let secs = median_secs(reps, || {
        let (re, im) = burn::signal::rfft(x.clone(), 1, None);
        burn::signal::irfft(re, im, 1, Some(8192)).into_data();
    });
    (secs, 2.0 * 4096.0 * 2.5 * 8192.0 * 13.0)
}
