//! How well the dendrite plan knows this machine: the costs it measured at first use, then, on
//! the shapes of docs/benchmarks.md ("Choosing a path"), every path's estimate beside its
//! measured forward time and the path `Auto` takes.
//!
//! ```text
//! cargo run --release --example dendrite_plan [-- --device flex|ndarray --reps 3 --json]
//! ```
//!
//! Paths estimated above `--skip-above` seconds are not run (the direct path takes minutes on
//! the Purkinje cell).

mod common;

use std::time::Instant;

use burn::tensor::{DType, Distribution, Tensor};
use clap::Parser;
use common::{Backend, median_secs};
use neuron_nn::dendrites::{DendriteAlgorithm, PlanCosts, dendrite_conv, plan};
use serde_json::json;

/// Print the plan's measured costs, and its estimates beside measured times on known shapes.
#[derive(Parser, Debug)]
#[command(name = "dendrite_plan", version)]
struct Cli {
    /// Backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    device: Backend,
    /// Timed repetitions (median), after one warm-up.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..))]
    reps: u64,
    /// Paths estimated slower than this many seconds are not timed.
    #[arg(long, default_value_t = 2.0)]
    skip_above: f64,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// (name, input, weight, dilation): the shapes docs/benchmarks.md's table times.
const SHAPES: [(&str, [usize; 5], [usize; 5], usize); 11] = [
    ("fit stage 1", [8, 2, 10, 5, 354], [4, 2, 3, 1, 16], 4),
    ("fit stage 2 of 8-8-1", [8, 8, 10, 5, 354], [8, 8, 3, 1, 16], 4),
    ("fit 1/4 (1 position)", [8, 2, 10, 5, 354], [4, 2, 1, 1, 16], 4),
    ("4096 granule cells", [1, 4096, 4, 4, 5], [4096, 1, 3, 4, 5], 1),
    ("512 granule cells × batch 8", [8, 512, 4, 4, 5], [512, 1, 3, 4, 5], 1),
    ("one granule cell", [1, 1, 4, 4, 5], [1, 1, 3, 4, 5], 1),
    ("pyramidal", [1, 1, 100, 100, 5], [1, 1, 5, 10, 5], 1),
    (
        "100 × 200 grid, kernel 10 × 200 × 5",
        [1, 1, 100, 200, 5],
        [1, 1, 10, 200, 5],
        1,
    ),
    ("train's 2-D case", [32, 1, 64, 64, 1], [1, 1, 7, 7, 1], 1),
    ("16 channels", [4, 16, 20, 20, 50], [16, 16, 3, 3, 5], 1),
    ("Purkinje dendrite", [1, 1, 100, 1000, 5], [1, 1, 10, 1000, 5], 1),
];

fn main() {
    common::exit_quietly_on_closed_pipe();
    let cli = Cli::parse();
    let device = cli.device.device_or_exit("dendrite_plan");
    let reps = cli.reps as usize;
    let started = Instant::now();
    let costs = PlanCosts::of(&device);
    let measured_in = started.elapsed().as_secs_f64();
    if !cli.json {
        print!("{costs}");
        println!("(measured in {measured_in:.2} s, this process)\n");
        println!(
            "| shape | {} | Auto | fastest measured |",
            DendriteAlgorithm::PATHS
                .map(|p| format!("{p:?} measured / est."))
                .join(" | ")
        );
        println!("|---|{}---|---|", "---|".repeat(DendriteAlgorithm::PATHS.len()));
    }
    let mut rows = Vec::new();
    for (name, x, w, dilation) in SHAPES {
        let p = plan(x, w, dilation, &device);
        let xt = Tensor::<5>::random(x, Distribution::Default, &device);
        let wt = Tensor::<5>::random(w, Distribution::Default, &device);
        let mut cells = Vec::new();
        let mut best: Option<(DendriteAlgorithm, f64)> = None;
        for e in &p.estimates {
            let measured = (e.available && e.seconds <= cli.skip_above && xt.dtype() == DType::F32).then(|| {
                median_secs(reps, || {
                    dendrite_conv(xt.clone(), wt.clone(), None, dilation, e.algorithm).into_data();
                })
            });
            if let Some(m) = measured
                && best.is_none_or(|(_, b)| m < b)
            {
                best = Some((e.algorithm, m));
            }
            cells.push(match (e.available, measured) {
                (false, _) => "unavailable".to_string(),
                (true, None) => format!("– / {}", secs(e.seconds)),
                (true, Some(m)) => format!("{} / {}", secs(m), secs(e.seconds)),
            });
            rows.push(json!({
                "shape": name, "path": format!("{:?}", e.algorithm), "available": e.available,
                "estimated_seconds": e.seconds, "measured_seconds": measured, "flops": e.flops,
            }));
        }
        let fastest = best.map_or("–".to_string(), |(a, _)| format!("{a:?}"));
        if !cli.json {
            println!("| {name} | {} | {:?} | {fastest} |", cells.join(" | "), p.algorithm);
        }
        rows.push(json!({"shape": name, "auto": format!("{:?}", p.algorithm), "fastest_measured": fastest}));
    }
    if cli.json {
        let out = json!({"device": format!("{device:?}"), "reps": reps, "costs": *costs, "rows": rows});
        println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
    }
}

/// Seconds in a readable unit.
fn secs(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}
