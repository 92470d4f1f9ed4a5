//! The essay's brain estimate, rebuilt from the counted preset modules, with every assumption a
//! flag.
//!
//! ```text
//! cargo run --release --example brain_estimate -- [--json] [--granule-count 5e10] \
//!     [--purkinje-count 1e8] [--granule-synapses 15] [--purkinje-synapses 1e5] \
//!     [--rate 200] [--time-steps 5] [--doubling 1.8,3]
//! ```

mod common;

use clap::{Parser, ValueEnum};
use neuron_convnet::brain::{Census, estimate};
use neuron_nn::DendriteAlgorithm;

/// The essay's brain estimate from counted modules; every assumption a flag.
#[derive(Parser, Debug)]
#[command(name = "brain_estimate", version)]
struct Cli {
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Granule cells in the brain [default: 5e10].
    #[arg(long)]
    granule_count: Option<f64>,
    /// Purkinje cells in the brain [default: 1e8].
    #[arg(long)]
    purkinje_count: Option<f64>,
    /// Input synapses per granule cell [default: 15].
    #[arg(long)]
    granule_synapses: Option<f64>,
    /// Input synapses per Purkinje cell [default: 1e5].
    #[arg(long)]
    purkinje_synapses: Option<f64>,
    /// Windows per second, every cell [default: 200].
    #[arg(long)]
    rate: Option<f64>,
    /// Time steps per window, every cell [default: 5].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    time_steps: Option<u64>,
    /// Years per doubling of HPC speed, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1.0, 1.8, 3.0])]
    doubling: Vec<f64>,
    /// How the dendrites convolve: direct (the essay's assumption) or fft.
    #[arg(long, value_enum, default_value_t = Path::Direct)]
    dendrite_algorithm: Path,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Path {
    /// Every output multiplies the whole kernel.
    Direct,
    /// Through the Fourier transform.
    Fft,
}

fn main() {
    common::exit_quietly_on_closed_pipe();
    let cli = Cli::parse();
    let mut census = Census::essay();
    census.dendrite_algorithm = match cli.dendrite_algorithm {
        Path::Direct => DendriteAlgorithm::Direct,
        Path::Fft => DendriteAlgorithm::Fft,
    };
    for (value, cell, synapses) in [
        (cli.granule_count, "granule", false),
        (cli.purkinje_count, "purkinje", false),
        (cli.granule_synapses, "granule", true),
        (cli.purkinje_synapses, "purkinje", true),
    ] {
        if let Some(v) = value {
            let c = census.cell_mut(cell).expect("preset cell");
            if synapses { c.synapses = v } else { c.count = v }
        }
    }
    if let Some(rate) = cli.rate {
        census.cells.iter_mut().for_each(|c| c.windows_per_s = rate);
    }
    if let Some(steps) = cli.time_steps {
        census.cells.iter_mut().for_each(|c| c.time_steps = steps as usize);
    }
    let fail = |msg: String| -> ! {
        eprintln!("brain_estimate: {msg}");
        std::process::exit(2)
    };
    if let Some(p) = cli.doubling.iter().find(|p| !(p.is_finite() && **p > 0.0)) {
        fail(format!("--doubling takes positive years, got {p}"));
    }
    let periods = cli.doubling.clone();
    let e = estimate(&census, &periods)
        .unwrap_or_else(|err| fail(err.to_string().trim_start_matches("brain estimate: ").to_string()));

    if cli.json {
        println!("{}", serde_json::to_string_pretty(&e).expect("json"));
        return;
    }
    println!(
        "Brain estimate (Dettmers 2015, rebuilt from counted modules; torch convention; dendrites {:?})\n",
        census.dendrite_algorithm
    );
    println!(
        "{:<10} {:>10} {:>12} {:>18} {:>14}",
        "cell", "count", "windows/s", "FLOPs/window", "FLOP/s"
    );
    for r in &e.by_cell {
        println!(
            "{:<10} {:>10.3e} {:>12} {:>18} {:>14.3e}",
            r.cell, r.count, r.windows_per_s, r.flops_per_window, r.flops_per_s
        );
    }
    println!(
        "\nper-cell convention (each cell runs its whole module)   {:.3e} FLOP/s",
        e.total_flops_per_s
    );
    println!(
        "essay convention (every synapse at the Purkinje cost of {:.3e} FLOP/s)   {:.4e} FLOP/s",
        e.essay_flops_per_synapse_s, e.essay_total_flops_per_s
    );
    println!(
        "Kurzweil-style (1e13 synapses × 200 Hz)   {:.1e} FLOP/s",
        e.kurzweil_flops_per_s
    );
    println!(
        "memory traffic (per-cell, views counted as copies)   {:.3e} B/s",
        e.bytes_per_s
    );
    println!("\nprojection from 0.58e15 FLOPS in 2015 (essay convention):");
    for p in &e.projection {
        println!(
            "  one doubling every {:.2} years: {} doublings, year {}",
            p.doubling_years, p.doublings, p.year
        );
    }
    println!(
        "  the essay's \"Moore's law\" 2037 implies a doubling every {:.2} years",
        e.period_for_2037
    );
    for a in &e.accelerators {
        println!(
            "\n{}: {:.2e} at peak FLOP rate, {:.2e} at memory bandwidth (per-cell convention)",
            a.name, a.by_flops, a.by_bandwidth
        );
    }
}
