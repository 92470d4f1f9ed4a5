//! Simulates a biophysical cell (crates/biophys, NEURON's numerics) on NeuronIO-style inputs and
//! writes each trial as `.npz`: the synapses, the input raster, the somatic voltage every ms,
//! the spike times and the 1 ms spike vector.
//!
//! ```text
//! cargo run --release --example simulate_cell -- --preset bs4 --seconds 30 --seed 1
//! cargo run --release --example simulate_cell -- --preset bs4 --no-nmda --trials 8 --out target/bs4.npz
//! cargo run --release --example simulate_cell -- --inputs target/bs4-0.npz --out replay.npz   # replay
//! cargo run --release --example simulate_cell -- --preset l5pc --seconds 6 --trials 8   # NeuronIO's cell
//! cargo run --release --example simulate_cell -- --preset l5pc --inputs neuron_trial.npz --out ours.npz
//! cargo run --release --example simulate_cell -- --cell my_cell.json --swc my_cell.swc --json
//! ```
//!
//! Several trials run on every core, eight at a time in lockstep per core
//! ([`biophys::Simulator::run_batch`]); trial `i` uses seed `seed + i`.

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use biophys::{Branch, CellConfig, Raster, SimConfig, Simulator, Site, Synapses, Trial};
use clap::Parser;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use serde_json::json;

/// Simulate a biophysical neuron and write its trials as .npz.
#[derive(Parser, Debug)]
#[command(name = "simulate_cell", version)]
struct Cli {
    /// The cell, as JSON (crates/biophys's CellConfig).
    #[arg(long, conflicts_with = "preset")]
    cell: Option<PathBuf>,
    /// A preset cell: bs4 (ball and four sticks, AMPA + NMDA), bs4-ampa, l5pc (Hay's layer-5
    /// pyramidal cell as NeuronIO simulates it, AMPA + NMDA) or l5pc-ampa. Default: bs4, or with
    /// --inputs the preset the file's metadata names.
    #[arg(long)]
    preset: Option<String>,
    /// Replace the cell's morphology with an SWC reconstruction (mechanisms from the cell).
    #[arg(long)]
    swc: Option<PathBuf>,
    /// Drop the NMDA receptors (their weight moves to AMPA: bs4 becomes bs4-ampa).
    #[arg(long)]
    no_nmda: bool,
    /// Simulated seconds per trial.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Seed of the inputs (trial i uses seed + i).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Independent trials, run in parallel; one file per trial.
    #[arg(long, default_value_t = 1)]
    trials: usize,
    /// Replay the synapses and raster of this trial file instead of generating inputs (rows
    /// placed by section name, syn_sec_kind/syn_sec_index/syn_x, map onto the cell's sections).
    #[arg(long, conflicts_with_all = ["trials", "seconds", "seed"])]
    inputs: Option<PathBuf>,
    /// Time step, ms (must divide 1 ms).
    #[arg(long, default_value_t = 0.025)]
    dt: f64,
    /// Compute hh's rates directly instead of from NEURON's lookup table (usetable_hh = 0).
    #[arg(long)]
    exact_rates: bool,
    /// Also record every dendrite at its middle and its far end.
    #[arg(long, conflicts_with = "record_synapse_segments")]
    record_dendrites: bool,
    /// Also record the voltage at every segment that holds a synapse, every ms (NeuronIO's
    /// dendritic voltage traces), in the order the synapses first reach each segment.
    #[arg(long)]
    record_synapse_segments: bool,
    /// Output file (trials > 1: STEM-0.npz, STEM-1.npz, ...). Default target/simulate_cell/CELL.npz.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print a JSON summary on stdout instead of text.
    #[arg(long)]
    json: bool,
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("simulate_cell: {msg}");
    std::process::exit(1)
}

fn main() {
    common::exit_quietly_on_closed_pipe();
    let cli = Cli::parse();
    let mut cell = match &cli.cell {
        Some(path) => CellConfig::load(path).unwrap_or_else(|e| fail(e)),
        None => {
            // A replayed trial of ours names its preset; anything else defaults to bs4.
            let named = || -> Option<String> {
                let t = Trial::load(cli.inputs.as_ref()?).ok()?;
                let name = t.meta.get("cell")?.as_str()?.to_string();
                biophys::PRESETS.contains(&name.as_str()).then_some(name)
            };
            let name = cli.preset.clone().or_else(named).unwrap_or_else(|| "bs4".into());
            biophys::preset(&name).unwrap_or_else(|e| fail(e))
        }
    };
    // A preset is named in each file's metadata; a changed or loaded cell is written out whole.
    let described = cli.cell.is_some() || cli.swc.is_some() || cli.no_nmda;
    if let Some(swc) = &cli.swc {
        cell = biophys::swc::load(swc, &cell).unwrap_or_else(|e| fail(e));
    }
    if cli.no_nmda {
        cell = cell.without_nmda();
    }
    if !(cli.seconds > 0.0 && cli.seconds.is_finite()) || cli.trials == 0 {
        fail("--seconds and --trials must be positive");
    }
    // Inputs: replayed, or generated per trial.
    let (synapses, rasters, seeds): (Synapses, Vec<Raster>, Vec<Option<u64>>) = match &cli.inputs {
        Some(path) => {
            let t = Trial::load_for(path, &cell).unwrap_or_else(|e| {
                let hint = if cli.preset.is_none() && cli.cell.is_none() {
                    format!(
                        " (the cell was {} by default: name it with --preset or --cell)",
                        cell.name
                    )
                } else {
                    String::new()
                };
                fail(format!("{e}{hint}"))
            });
            (t.synapses, vec![t.raster], vec![None])
        }
        None => {
            let synapses = Synapses::place(&cell);
            let ms = (cli.seconds * 1000.0).round() as usize;
            let seeds: Vec<u64> = (0..cli.trials as u64).map(|i| cli.seed + i).collect();
            let rasters = seeds
                .par_iter()
                .map(|&s| cell.input_raster(&synapses, ms, s))
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| fail(e));
            (synapses, rasters, seeds.into_iter().map(Some).collect())
        }
    };
    let record: Vec<Site> = if cli.record_dendrites {
        (0..cell.dendrites())
            .map(Branch::Dendrite)
            .flat_map(|branch| [0.5, 1.0].map(|pos| Site { branch, pos }))
            .collect()
    } else if cli.record_synapse_segments {
        let mut seen = std::collections::HashSet::new();
        (0..synapses.len())
            .map(|i| synapses.site(i))
            .filter(|s| seen.insert((s.branch, s.pos.to_bits())))
            .collect()
    } else {
        Vec::new()
    };
    let config = SimConfig {
        dt: cli.dt,
        hh_table: !cli.exact_rates,
        record: record.clone(),
        clamps: Vec::new(),
        epsps: Vec::new(),
    };
    let sim = Simulator::new(&cell, &synapses, &config).unwrap_or_else(|e| fail(e));
    let ms = rasters[0].ms;
    let total = (ms * rasters.len()) as u64;
    let bar = if cli.json || total < 20_000 {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total).with_style(
            ProgressStyle::with_template("{bar:40} {percent:>3}% simulated ms {pos}/{len} eta {eta}")
                .expect("template"),
        )
    };
    let done = AtomicU64::new(0);
    let started = Instant::now();
    // Groups of up to 8 trials in lockstep, enough groups to keep every thread busy.
    let group = rasters.len().div_ceil(rayon::current_num_threads()).clamp(1, 8);
    let outputs: Vec<_> = rasters
        .par_chunks(group)
        .map(|group| {
            sim.run_batch_with(group, |trials| {
                let n = done.fetch_add(trials as u64, Ordering::Relaxed) + trials as u64;
                if n % 1000 < trials as u64 {
                    bar.set_position(n);
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| fail(e))
        .into_iter()
        .flatten()
        .collect();
    let wall = started.elapsed().as_secs_f64();
    bar.finish_and_clear();

    let out = cli
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("target/simulate_cell/{}.npz", cell.name)));
    let paths: Vec<PathBuf> = if outputs.len() == 1 {
        vec![out.clone()]
    } else {
        let stem = out
            .file_stem()
            .map_or("trial".into(), |s| s.to_string_lossy().to_string());
        (0..outputs.len())
            .map(|i| out.with_file_name(format!("{stem}-{i}.npz")))
            .collect()
    };
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).unwrap_or_else(|e| fail(format!("cannot create {}: {e}", dir.display())));
    }
    let mut rates = Vec::new();
    let input_spikes: usize = rasters.iter().map(|r| r.bits.iter().filter(|&&b| b).count()).sum();
    for ((output, raster), (path, seed)) in outputs.into_iter().zip(rasters).zip(paths.iter().zip(&seeds)) {
        rates.push(output.rate_hz());
        let meta = json!({
            "cell": if described { json!(cell) } else { json!(cell.name) },
            "sim": config,
            "seed": seed,
            "ms": ms,
            "replayed_from": cli.inputs,
            "biophys": env!("CARGO_PKG_VERSION"),
        });
        let trial = Trial {
            synapses: synapses.clone(),
            raster,
            output: Some(output),
            sites: record.clone(),
            placement: cell.section_names_of(&synapses),
            meta,
        };
        trial.save(path).unwrap_or_else(|e| fail(e));
    }
    let simulated = ms as f64 / 1000.0 * rates.len() as f64;
    // The step loop's own count (biophys::Simulator::flops_per_ms), at the inputs' event rate.
    let events_per_ms = input_spikes as f64 / (ms as f64 * rates.len() as f64);
    let flops_per_ms = sim.flops_per_ms(events_per_ms);
    let gflops = flops_per_ms * 1000.0 * simulated / wall / 1e9;
    let mean_rate = rates.iter().sum::<f64>() / rates.len() as f64;
    if cli.json {
        let summary = json!({
            "cell": cell.name,
            "trials": rates.len(),
            "simulated_seconds": simulated,
            "wall_seconds": wall,
            "simulated_seconds_per_wall_second": simulated / wall,
            "flops_per_simulated_ms": flops_per_ms,
            "gflops_per_second": gflops,
            "nodes": sim.nodes(),
            "threads": rayon::current_num_threads(),
            "output_rate_hz": rates,
            "mean_output_rate_hz": mean_rate,
            "files": paths,
        });
        println!("{}", serde_json::to_string_pretty(&summary).expect("JSON"));
    } else {
        println!(
            "{}: {} trial(s) × {:.1} s simulated in {wall:.2} s ({:.2} simulated s per wall s, {} threads; \
             {flops_per_ms:.2e} FLOPs per simulated ms by the step loop's count, {gflops:.1} GFLOP/s); output {mean_rate:.2} Hz",
            cell.name,
            rates.len(),
            ms as f64 / 1000.0,
            simulated / wall,
            rayon::current_num_threads()
        );
        for p in &paths {
            println!("wrote {}", p.display());
        }
    }
}
