//! The essay's brain estimate, rebuilt from the counted preset modules, with every assumption a
//! flag.
//!
//! ```text
//! cargo run --release --example brain_estimate -- [--json] [--granule-count 5e10] \
//!     [--purkinje-count 1e8] [--granule-synapses 15] [--purkinje-synapses 1e5] \
//!     [--rate 200] [--time-steps 5] [--doubling 1.8,3]
//! ```

mod common;

use common::Args;
use neuron_convnet::brain::{Census, estimate};

fn main() {
    let args = Args::parse(
        "brain_estimate",
        &[
            "--json",
            "--granule-count",
            "--purkinje-count",
            "--granule-synapses",
            "--purkinje-synapses",
            "--rate",
            "--time-steps",
            "--doubling",
        ],
    );
    let number = |name: &str| {
        args.value(name).map(|v| {
            v.parse::<f64>()
                .unwrap_or_else(|_| args.fail(&format!("{name} takes a number, got {v}")))
        })
    };
    let mut census = Census::essay();
    for (flag, cell, synapses) in [
        ("--granule-count", "granule", false),
        ("--purkinje-count", "purkinje", false),
        ("--granule-synapses", "granule", true),
        ("--purkinje-synapses", "purkinje", true),
    ] {
        if let Some(v) = number(flag) {
            let c = census.cell_mut(cell).expect("preset cell");
            if synapses { c.synapses = v } else { c.count = v }
        }
    }
    if let Some(rate) = number("--rate") {
        census.cells.iter_mut().for_each(|c| c.windows_per_s = rate);
    }
    if let Some(steps) = args.value("--time-steps") {
        let steps: usize = steps
            .parse()
            .ok()
            .filter(|s| *s > 0)
            .unwrap_or_else(|| args.fail("--time-steps takes a positive whole number"));
        census.cells.iter_mut().for_each(|c| c.time_steps = steps);
    }
    let periods: Vec<f64> = args.value("--doubling").map_or(vec![1.0, 1.8, 3.0], |v| {
        v.split(',')
            .map(|p| {
                p.trim()
                    .parse()
                    .ok()
                    .filter(|p: &f64| p.is_finite() && *p > 0.0)
                    .unwrap_or_else(|| args.fail(&format!("--doubling takes positive years, got {p}")))
            })
            .collect()
    });
    let e = estimate(&census, &periods)
        .unwrap_or_else(|err| args.fail(err.to_string().trim_start_matches("brain estimate: ")));

    if args.flag("--json") {
        println!("{}", serde_json::to_string_pretty(&e).expect("json"));
        return;
    }
    println!("Brain estimate (Dettmers 2015, rebuilt from counted modules; torch convention)\n");
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
    for (name, by_flops, by_bytes) in &e.accelerators {
        println!(
            "\n{name}: {by_flops:.2e} at peak FLOP rate, {by_bytes:.2e} at memory bandwidth (per-cell convention)"
        );
    }
}
