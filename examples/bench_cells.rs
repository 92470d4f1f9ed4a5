//! Benchmarks of whole cells on a CPU backend: one Purkinje `Neuron` (batch 1, 5 steps) and a
//! 4096-cell granule `Population`, forward and forward + backward, beside the same run's 2048³
//! matmul rate and a large-tensor copy bandwidth.
//!
//! ```text
//! cargo run --release --example bench_cells [-- --device flex|ndarray --reps 5 --algorithm auto|direct|expanded|fft|all]
//! ```
//!
//! `--algorithm` forces both cells' dendrite path (`all`: expanded, then FFT, in the same run;
//! the FFT needs flex or a GPU backend; direct takes minutes on the Purkinje cell).
//!
//! FLOPs are counted by flop-count on the path each model takes (torch convention plus its FFT
//! rules): the Purkinje neuron's dendrites take the FFT on flex (1.45e8 FLOPs, not the direct
//! 5.0e10). The granule rows include the work of `../shared/peers/torch_population.py` (own
//! inputs, stochastic stages off): run it right before for the side-by-side comparison.

mod common;

use burn::module::Module;
use burn::tensor::{Distribution, Tensor};
use clap::Parser;
use common::{Backend, DendritePath, median_secs};
use neuron_nn::{DendriteAlgorithm, NeuronConfig, Population, PopulationConfig};

/// Time whole cells: one Purkinje neuron and a 4096-cell granule population.
#[derive(Parser, Debug)]
#[command(name = "bench_cells", version)]
struct Cli {
    /// Backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    device: Backend,
    /// Timed repetitions (median), after one warm-up.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    reps: u64,
    /// The dendrites' path for both cells (`auto`: each cell's plan); `all` runs expanded and
    /// FFT in the same run.
    #[arg(long, value_enum, default_value_t = DendritePath::Auto)]
    algorithm: DendritePath,
}

/// Counted FLOPs of a population's forward, and of its forward + backward.
fn count(build: impl Fn(&burn::tensor::Device) -> Population, input: [usize; 3]) -> (f64, f64) {
    common::counted_fwd_bwd(build, |m, x| drop(m.forward(x)), input)
}

fn main() {
    common::exit_quietly_on_closed_pipe();
    let cli = Cli::parse();
    let device = cli.device.device_or_exit("bench_cells");
    let reps = cli.reps as usize;
    device.seed(0);

    let n = 2048;
    let mm = common::matmul_secs(n, reps, &device);
    let mm_rate = 2.0 * (n as f64).powi(3) / mm;
    let big = Tensor::<1>::random([1 << 26], Distribution::Default, &device); // 256 MiB
    let copy = median_secs(reps, || {
        (big.clone() + 1.0).sum().into_data();
    });
    // Read + write of the sum's input is not counted: the add reads 256 MiB and writes 256 MiB.
    let bandwidth = 2.0 * 4.0 * (1u64 << 26) as f64 / copy;
    println!("device {device:?}, median of {reps}");
    println!(
        "matmul 2048³: {:.1} GFLOP/s; elementwise add over 256 MiB: {:.1} GB/s",
        mm_rate / 1e9,
        bandwidth / 1e9
    );

    for algorithm in cli.algorithm.algorithms() {
        bench_cells(algorithm, reps, mm_rate, bandwidth, &device);
    }
}

/// Both cells on `algorithm`, forward and forward + backward.
fn bench_cells(algorithm: DendriteAlgorithm, reps: usize, mm_rate: f64, bandwidth: f64, device: &burn::tensor::Device) {
    let ad = device.clone().autodiff();
    let row = |what: &str, secs: f64, flops: f64| {
        println!(
            "{what:<44} {secs:>9.4} s {:>10.3e} FLOPs {:>8.2} GFLOP/s {:>5.1} % of matmul",
            flops,
            flops / secs / 1e9,
            100.0 * flops / secs / mm_rate
        );
    };

    let mut purkinje = NeuronConfig::purkinje();
    purkinje.dendrites.algorithm = algorithm;
    let path = purkinje.init(device).dendrites.plan(1, 5, device);
    println!("Purkinje dendrites ({algorithm:?}): {path}");
    let (flops, flops_train) = count(|d| purkinje.init(d), [1, 100_000, 5]);
    let cell = purkinje.init(device).valid();
    let x = Tensor::<3>::random([1, 100_000, 5], Distribution::Default, device);
    row(
        "Purkinje neuron forward (eval)",
        median_secs(reps, || {
            cell.forward(x.clone()).into_data();
        }),
        flops,
    );
    let cell = purkinje.init(&ad);
    let x = Tensor::<3>::random([1, 100_000, 5], Distribution::Default, &ad);
    row(
        "Purkinje neuron forward + backward (train)",
        median_secs(reps, || {
            let g = cell.forward(x.clone()).sum().backward();
            cell.dendrites.weight.grad(&g).expect("gradient").into_data();
        }),
        flops_train,
    );

    // Granule population: FLOPs from our counter (torch convention).
    let cells = 4096;
    let mut granule_cell = NeuronConfig::granule();
    granule_cell.dendrites.algorithm = algorithm;
    let granule = PopulationConfig::new(granule_cell, cells);
    let path = granule.init(device).dendrites.plan(1, 5, device);
    println!("granule dendrites ({algorithm:?}): {path}");
    let (flops, flops_bwd) = count(|d| granule.init(d), [1, 4 * cells, 5]);
    let init = std::time::Instant::now();
    let population = granule.init(device).valid();
    println!(
        "(4096-cell granule population built in {:.2} s, {} parameters)",
        init.elapsed().as_secs_f64(),
        population.num_params()
    );
    // The work of ../shared/peers/torch_population.py: each cell its own 4 mossy fibres
    // (input [1, 4096 × 4, 5]), evaluation forward; forward + backward with the stochastic
    // stages off (the peer has none), gradients for every parameter, none for the input.
    for (what, shared) in [("own inputs", false), ("shared input", true)] {
        let inputs = if shared { 4 } else { 4 * cells };
        let x = Tensor::<3>::random([1, inputs, 5], Distribution::Default, device);
        let fwd = median_secs(reps, || {
            population.forward(x.clone()).into_data();
        });
        row(&format!("granule ×4096 ({what}) forward"), fwd, flops);
        let mut trained = granule.init(&ad);
        trained.dropout.training = burn::module::Param::from_bool(false);
        trained.spikes.training = burn::module::Param::from_bool(false);
        let x = Tensor::<3>::random([1, inputs, 5], Distribution::Default, &ad);
        let bwd = median_secs(reps, || {
            let g = trained.forward(x.clone()).sum().backward();
            trained.dendrites.weight.grad(&g).expect("gradient").into_data();
        });
        row(&format!("granule ×4096 ({what}) forward + backward"), bwd, flops_bwd);
    }
    // The output alone is 4096 × 100 terminals × 5 steps: 8.2 MB written.
    let out_bytes = 4.0 * (cells * 100 * 5) as f64;
    println!(
        "granule bounds: FLOPs/matmul rate {:.2e} s, output bytes/bandwidth {:.2e} s",
        flops / mm_rate,
        out_bytes / bandwidth
    );
}
