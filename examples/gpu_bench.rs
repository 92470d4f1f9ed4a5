//! The hot paths on any device, as one JSON object: the Purkinje dendrite forward and forward +
//! backward, one Purkinje neuron, and a 4096-cell granule population, each with its median time
//! and achieved TFLOP/s, beside the same run's large fp32 matmul rate. FLOPs come from our own
//! counter (`flop_count`, torch convention: forward, plus the backward of everything that needs a
//! gradient), not from constants.
//!
//! ```text
//! cargo run --release --features wgpu --example gpu_bench [-- --device wgpu --reps 10 --matmul 8192]
//! scripts/gpu-check.sh            # builds, packs, and runs it (see the script)
//! ```
//!
//! Timing waits for the device (`Device::sync`) after every repetition, with the result still
//! alive (so a lazy backend cannot skip unread work), and counts queued GPU work; one warm-up run
//! per workload first (autotune, pipelines, allocations).

mod common;

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use clap::Parser;
use common::{Backend, median_secs};
use flop_count::{Convention, capture};
use neuron_nn::{DendritesConfig, NeuronConfig, PopulationConfig};
use serde_json::json;

/// The essay's window: 5 time steps.
const STEPS: usize = 5;
const GRANULE_CELLS: usize = 4096;

/// Times the model `build` makes, in evaluation mode on the plain device and forward + backward
/// on autodiff (training mode: a neuron's stochastic stages draw on the device), with FLOPs
/// counted on the capture device: `[(name, median seconds, FLOPs); 2]`. `forward` ends in a sum
/// (no FLOPs under the torch convention), the scalar the backward starts from.
fn bench<M: Module>(
    name: &str,
    reps: usize,
    device: &Device,
    input: [usize; 3],
    build: impl Fn(&Device) -> M,
    forward: impl Fn(&M, Tensor<3>) -> Tensor<1>,
) -> [(String, f64, f64); 2] {
    let graph = capture(|cx| {
        let model = build(cx.device());
        cx.params(&model);
        drop(forward(&model, Tensor::<3>::zeros(input, cx.device())));
    })
    .expect("the benchmark's models are countable");
    let r = graph.count(&Convention::torch());
    let sync = || {
        device
            .sync()
            .unwrap_or_else(|e| panic!("gpu_bench: device failed: {e:?}"))
    };
    // The result stays alive until the device is idle, so a lazy backend cannot skip work.
    let model = build(device).valid();
    let x = Tensor::<3>::random(input, Distribution::Default, device);
    let fwd = median_secs(reps, || {
        let kept = forward(&model, x.clone());
        sync();
        drop(kept);
    });
    let ad = device.clone().autodiff();
    let model = build(&ad);
    let x = Tensor::<3>::random(input, Distribution::Default, &ad);
    let fwd_bwd = median_secs(reps, || {
        let kept = forward(&model, x.clone()).backward();
        sync();
        drop(kept);
    });
    [
        (format!("{name} forward (eval)"), fwd, r.forward as f64),
        (
            format!("{name} forward + backward"),
            fwd_bwd,
            (r.forward + r.backward_params.expect("parameters declared")) as f64,
        ),
    ]
}

/// The hot paths on one device, as one JSON object.
#[derive(Parser, Debug)]
#[command(name = "gpu_bench", version)]
struct Cli {
    /// Backend [default: wgpu when compiled in, else flex].
    #[arg(long, value_enum)]
    device: Option<Backend>,
    /// Timed repetitions (median), after one warm-up.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    reps: u64,
    /// Size of the reference matmul [default: 8192 on wgpu, 2048 on a CPU].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    matmul: Option<u64>,
}

fn main() {
    common::exit_quietly_on_closed_pipe();
    let cli = Cli::parse();
    let backend = cli.device.unwrap_or(if cfg!(feature = "wgpu") {
        Backend::Wgpu
    } else {
        Backend::Flex
    });
    let name = backend.name();
    let device = backend.device_or_exit("gpu_bench");
    let reps = cli.reps as usize;
    let n = cli
        .matmul
        .map_or(if backend == Backend::Wgpu { 8192 } else { 2048 }, |n| n as usize);
    device.seed(0);
    let started = std::time::Instant::now();

    let a = Tensor::<2>::random([n, n], Distribution::Default, &device);
    let b = Tensor::<2>::random([n, n], Distribution::Default, &device);
    let mm = median_secs(reps, || {
        let kept = a.clone().matmul(b.clone());
        device.sync().expect("device sync");
        drop(kept);
    });
    let mm_rate = 2.0 * (n as f64).powi(3) / mm;

    // The Purkinje dendrite (100 000 sites on 100 positions × 1000 dendrites, a 10×1000×5
    // kernel), a whole Purkinje neuron, and 4096 granule cells sharing 4 mossy fibres.
    let dendrites = DendritesConfig::new(100, 1000, [10, 1000, 5]);
    let purkinje = NeuronConfig::purkinje();
    let granule = PopulationConfig::new(NeuronConfig::granule(), GRANULE_CELLS);
    let purkinje_input = [1, 100_000, STEPS];
    let results = [
        bench(
            "purkinje dendrite",
            reps,
            &device,
            purkinje_input,
            |d| dendrites.init(d),
            |m, x| m.forward(x).sum(),
        ),
        bench(
            "purkinje neuron",
            reps,
            &device,
            purkinje_input,
            |d| purkinje.init(d),
            |m, x| m.forward(x).sum(),
        ),
        bench(
            "granule population ×4096",
            reps,
            &device,
            [1, 4, STEPS],
            |d| granule.init(d),
            |m, x| m.forward(x).sum(),
        ),
    ];
    let rows: Vec<_> = results
        .iter()
        .flatten()
        .map(|(what, secs, flops)| {
            eprintln!("{what:<44} {secs:>9.5} s {:>7.2} TFLOP/s", flops / secs / 1e12);
            json!({
                "name": what,
                "median_seconds": secs,
                "flops": flops,
                "tflops": flops / secs / 1e12,
                "fraction_of_matmul": flops / secs / mm_rate,
            })
        })
        .collect();

    let out = json!({
        "device": name,
        "device_debug": format!("{device:?}"),
        "reps": reps,
        "matmul": {
            "n": n,
            "median_seconds": mm,
            "tflops": mm_rate / 1e12,
        },
        "workloads": rows,
        "convention": "torch (2 FLOPs per multiply-add of matmuls and convolutions)",
        "seconds": started.elapsed().as_secs_f64(),
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("JSON"));
}
