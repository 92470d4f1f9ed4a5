//! Counts the operations of one of the essay's cells (or a population of them) from its
//! captured op graph: nothing executes and no tensor data is allocated.
//!
//! ```text
//! cargo run --release --example count_flops -- --model granule|purkinje|pyramidal \
//!     [--population N] [--convention torch|macs|full|padding-aware] \
//!     [--algorithm auto|direct|expanded|fft|fused] [--json]
//! ```
//!
//! `--algorithm direct` counts the essay's dense convolution (5.0e10 for the Purkinje cell);
//! `auto` counts the path the dendrites' plan takes on this machine (the FFT there).

mod common;

use std::time::Instant;

use burn::tensor::Tensor;
use clap::{Parser, ValueEnum};
use common::DendritePath;
use flop_count::{Convention, capture};
use neuron_nn::{NeuronConfig, PopulationConfig};

/// Count the operations of one of the essay's cells from its captured op graph.
#[derive(Parser, Debug)]
#[command(name = "count_flops", version)]
struct Cli {
    /// Which cell.
    #[arg(long, value_enum, default_value_t = Model::Purkinje)]
    model: Model,
    /// Count a population of N cells of that type instead of one.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    population: Option<u64>,
    /// What counts and how.
    #[arg(long, value_enum, default_value_t = Conv::Torch)]
    convention: Conv,
    /// The dendrites' path: `auto` counts what the plan takes (docs/benchmarks.md).
    #[arg(long, value_enum, default_value_t = DendritePath::Auto)]
    algorithm: DendritePath,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Model {
    Granule,
    Purkinje,
    Pyramidal,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Conv {
    /// torch's FlopCounterMode: 2 per multiply-add of matmuls, convolutions, attention.
    Torch,
    /// Multiply-accumulates.
    Macs,
    /// Every op, one per element beyond matmuls and convolutions.
    Full,
    /// Only convolution taps inside the input.
    PaddingAware,
}

fn main() {
    common::exit_quietly_on_closed_pipe();
    let cli = Cli::parse();
    let (model, mut config) = match cli.model {
        Model::Granule => ("granule", NeuronConfig::granule()),
        Model::Purkinje => ("purkinje", NeuronConfig::purkinje()),
        Model::Pyramidal => ("pyramidal", NeuronConfig::pyramidal()),
    };
    let convention = match cli.convention {
        Conv::Torch => Convention::torch(),
        Conv::Macs => Convention::macs(),
        Conv::Full => Convention::full(),
        Conv::PaddingAware => Convention::padding_aware(),
    };
    config.dendrites.algorithm = cli.algorithm.single().unwrap_or_else(|e| {
        eprintln!("count_flops: {e}");
        std::process::exit(2)
    });
    let population = cli.population.map(|n| n as usize);
    let steps = 5; // one window: the essay's 5 time steps

    let started = Instant::now();
    let graph = capture(|cx| {
        let inputs = config.synapses.inputs;
        let device = cx.device().clone();
        let x = cx.input(Tensor::<3>::zeros([1, inputs, steps], &device));
        match population {
            Some(n) => {
                let cells = PopulationConfig::new(config.clone(), n).init(&device);
                cx.params(&cells);
                let _ = cells.forward(x);
            }
            None => {
                let cell = config.init(&device);
                cx.params(&cell);
                let _ = cell.forward(x);
            }
        }
    })
    .unwrap_or_else(|e| {
        eprintln!("count_flops: {e}");
        std::process::exit(1)
    });
    let report = graph.count(&convention);
    let seconds = started.elapsed().as_secs_f64();

    if cli.json {
        let mut json = report.to_json();
        json["model"] = model.into();
        json["population"] = population.unwrap_or(1).into();
        json["time_steps"] = steps.into();
        json["dendrite_algorithm"] = format!("{:?}", config.dendrites.algorithm).into();
        json["convention_text"] = convention.to_string().into();
        json["forward_flops"] = json["forward"].clone();
        json["backward_params_flops"] = json["backward_params"].clone();
        json["backward_params_and_input_flops"] = json["backward_params_and_input"].clone();
        json["count_seconds"] = seconds.into();
        println!("{}", serde_json::to_string_pretty(&json).expect("json"));
    } else {
        println!(
            "{model}{}, one window of {steps} steps, dendrites on {:?}: {convention}",
            population.map_or(String::new(), |n| format!(" × {n}")),
            config.dendrites.algorithm
        );
        print!("{}", report.to_table());
        println!(
            "arithmetic intensity {:.3} FLOP/byte; captured and counted in {:.1} ms",
            report.arithmetic_intensity(),
            seconds * 1e3
        );
    }
}
