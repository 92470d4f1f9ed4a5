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
use common::{Args, median_secs};
use flop_count::{Convention, capture};
use neuron_nn::{DendritesConfig, Neuron, NeuronConfig, PopulationConfig, devices};
use serde_json::json;

/// The essay's window: 5 time steps.
const STEPS: usize = 5;
const GRANULE_CELLS: usize = 4096;

/// Forward and (forward + parameter/input backward) FLOPs of `forward` on a fresh model.
fn counted<M: Module>(
    build: impl FnOnce(&Device) -> M,
    input: [usize; 3],
    forward: impl FnOnce(&M, Tensor<3>),
) -> (f64, f64) {
    let graph = capture(|cx| {
        let model = build(cx.device());
        cx.params(&model);
        let x = Tensor::<3>::zeros(input, cx.device());
        forward(&model, x);
    })
    .expect("the benchmark's models are countable");
    let r = graph.count(&Convention::torch());
    (r.forward as f64, (r.forward + r.backward_params) as f64)
}

fn main() {
    let args = Args::parse("gpu_bench", &["--device", "--reps", "--matmul"]);
    let default = if cfg!(feature = "wgpu") { "wgpu" } else { "flex" };
    let name = args.value("--device").unwrap_or_else(|| default.into());
    let device = devices::by_name(&name).unwrap_or_else(|e| args.fail(&e));
    let reps: usize = args.parsed("--reps", 5, "a positive count");
    let n: usize = args.parsed("--matmul", if name == "wgpu" { 8192 } else { 2048 }, "a size");
    if reps == 0 || n == 0 {
        args.fail("--reps and --matmul take positive numbers");
    }
    let sync = |d: &Device| d.sync().unwrap_or_else(|e| panic!("gpu_bench: device failed: {e:?}"));
    device.seed(0);
    let ad = device.clone().autodiff();
    let started = std::time::Instant::now();

    let a = Tensor::<2>::random([n, n], Distribution::Default, &device);
    let b = Tensor::<2>::random([n, n], Distribution::Default, &device);
    let mm = median_secs(reps, || {
        let kept = a.clone().matmul(b.clone());
        sync(&device);
        drop(kept);
    });
    let mm_rate = 2.0 * (n as f64).powi(3) / mm;
    let mut rows = Vec::new();
    let mut row = |what: &str, secs: f64, flops: f64| {
        eprintln!("{what:<44} {secs:>9.5} s {:>7.2} TFLOP/s", flops / secs / 1e12);
        rows.push(json!({
            "name": what,
            "median_seconds": secs,
            "flops": flops,
            "tflops": flops / secs / 1e12,
            "fraction_of_matmul": flops / secs / mm_rate,
        }));
    };

    // Purkinje dendrite: 100 000 sites on 100 positions × 1000 dendrites, a 10×1000×5 kernel.
    let dendrites = DendritesConfig::new(100, 1000, [10, 1000, 5]);
    let input = [1, 100_000, STEPS];
    let (fwd, fwd_bwd) = counted(|d| dendrites.init(d), input, |m, x| drop(m.forward(x)));
    let model = dendrites.init(&device);
    let x = Tensor::<3>::random(input, Distribution::Default, &device);
    row(
        "purkinje dendrite forward",
        median_secs(reps, || {
            let kept = model.forward(x.clone());
            sync(&device);
            drop(kept);
        }),
        fwd,
    );
    let model = dendrites.init(&ad);
    let x = Tensor::<3>::random(input, Distribution::Default, &ad);
    row(
        "purkinje dendrite forward + backward",
        median_secs(reps, || {
            let kept = model.forward(x.clone()).sum().backward();
            sync(&device);
            drop(kept);
        }),
        fwd_bwd,
    );

    // One Purkinje neuron, all stages (training mode: the stochastic stages draw on the device).
    let purkinje = NeuronConfig::purkinje();
    let (fwd, fwd_bwd) = counted(|d| purkinje.init(d), input, |m: &Neuron, x| drop(m.forward(x)));
    let cell = purkinje.init(&device).valid();
    let x = Tensor::<3>::random(input, Distribution::Default, &device);
    row(
        "purkinje neuron forward (eval)",
        median_secs(reps, || {
            let kept = cell.forward(x.clone());
            sync(&device);
            drop(kept);
        }),
        fwd,
    );
    let cell = purkinje.init(&ad);
    let x = Tensor::<3>::random(input, Distribution::Default, &ad);
    row(
        "purkinje neuron forward + backward",
        median_secs(reps, || {
            let kept = cell.forward(x.clone()).sum().backward();
            sync(&device);
            drop(kept);
        }),
        fwd_bwd,
    );

    // 4096 granule cells sharing 4 mossy fibres, batch 1.
    let granule = PopulationConfig::new(NeuronConfig::granule(), GRANULE_CELLS);
    let input = [1, 4, STEPS];
    let (fwd, fwd_bwd) = counted(|d| granule.init(d), input, |m, x| drop(m.forward(x)));
    let cells = granule.init(&device).valid();
    let x = Tensor::<3>::random(input, Distribution::Default, &device);
    row(
        "granule population ×4096 forward (eval)",
        median_secs(reps, || {
            let kept = cells.forward(x.clone());
            sync(&device);
            drop(kept);
        }),
        fwd,
    );
    let cells = granule.init(&ad);
    let x = Tensor::<3>::random(input, Distribution::Default, &ad);
    row(
        "granule population ×4096 forward + backward",
        median_secs(reps, || {
            let kept = cells.forward(x.clone()).sum().backward();
            sync(&device);
            drop(kept);
        }),
        fwd_bwd,
    );

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
