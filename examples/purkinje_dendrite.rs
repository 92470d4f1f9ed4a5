//! The essay's hot path: one Purkinje cell's dendrite stage (100 000 synapses on 100 positions ×
//! 1000 dendrites, kernel 10×1000×5 over 5 time steps, 5.0e10 FLOPs forward), built from
//! `neuron_nn::Dendrites`, run forward and forward + backward, beside the same run's 2048³ matmul.
//!
//! ```text
//! cargo run --release --example purkinje_dendrite [-- --device flex|ndarray --reps 5 --algorithm auto|direct|expanded]
//! ```
//!
//! The direct (conv3d) path takes minutes per forward on 2 cores: pass `--algorithm direct`
//! only with `--reps 1`.

mod common;

use burn::module::Module;
use burn::tensor::{Distribution, Tensor};
use clap::{Parser, ValueEnum};
use common::{Backend, median_secs};
use neuron_nn::{DendriteAlgorithm, DendritesConfig};

/// FLOPs of the dense convolution (torch convention: 2 per multiply-add, padded taps counted).
const FLOPS: f64 = 2.0 * (100.0 * 1000.0 * 5.0) * (10.0 * 1000.0 * 5.0);

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
    /// The dendrite stage's algorithm.
    #[arg(long, value_enum, default_value_t = Algorithm::Auto)]
    algorithm: Algorithm,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Algorithm {
    Auto,
    Direct,
    Expanded,
}

fn main() {
    let cli = Cli::parse();
    let device = cli.device.device_or_exit("purkinje_dendrite");
    let reps = cli.reps as usize;
    let algorithm = match cli.algorithm {
        Algorithm::Auto => DendriteAlgorithm::Auto,
        Algorithm::Direct => DendriteAlgorithm::Direct,
        Algorithm::Expanded => DendriteAlgorithm::Expanded,
    };
    device.seed(0);

    let n = 2048;
    let a = Tensor::<2>::random([n, n], Distribution::Default, &device);
    let b = Tensor::<2>::random([n, n], Distribution::Default, &device);
    let mm = median_secs(reps, || {
        a.clone().matmul(b.clone()).into_data();
    });
    let mm_rate = 2.0 * (n as f64).powi(3) / mm / 1e9;

    let config = DendritesConfig::new(100, 1000, [10, 1000, 5]).with_algorithm(algorithm);
    let dendrites = config.init(&device);
    let x = Tensor::<3>::random([1, 100_000, 5], Distribution::Default, &device);
    let y = dendrites.forward(x.clone());
    println!(
        "Purkinje dendrite stage on {device:?}, {:?} path, median of {reps}",
        dendrites.resolved_algorithm()
    );
    println!("  input  {:?} (batch, synapses, time)", x.dims());
    println!("  grid   [1, 1, 100, 1000, 5] (batch, channels, positions, dendrites, time)");
    println!("  output {:?}", y.dims());
    println!("  parameters {} (kernel 10×1000×5)", dendrites.num_params());
    let fwd = median_secs(reps, || {
        dendrites.forward(x.clone()).into_data();
    });

    let ad = device.clone().autodiff();
    let trained = config.init(&ad);
    let x_ad = Tensor::<3>::random([1, 100_000, 5], Distribution::Default, &ad);
    let fwd_bwd = median_secs(reps, || {
        let grads = trained.forward(x_ad.clone()).sum().backward();
        trained.weight.grad(&grads).expect("weight gradient").into_data();
    });

    let row = |what: &str, secs: f64, flops: f64| {
        let rate = flops / secs / 1e9;
        println!(
            "{what:<28} {secs:>9.4} s {rate:>8.1} GFLOP/s {:>5.0} % of matmul",
            100.0 * rate / mm_rate
        );
    };
    row("matmul 2048³", mm, 2.0 * (n as f64).powi(3));
    row("dendrite forward", fwd, FLOPS);
    // The input needs no gradient: backward is the weight gradient, one more forward's FLOPs.
    row("dendrite forward + backward", fwd_bwd, 2.0 * FLOPS);
}
