//! Benchmark of the essay's hot path: the Purkinje dendrite stage (input `[1, 1, 100, 1000, 5]`,
//! kernel 10×1000×5, 5.0e10 FLOPs forward), forward and forward + backward, on a CPU backend,
//! beside the same run's 2048³ matmul rate.
//!
//! ```text
//! cargo run --release --example bench_dendrite [-- --device flex|ndarray --reps 5 --algorithm auto|direct|expanded]
//! ```
//!
//! The direct (conv3d) path takes minutes per forward on 2 cores; pass `--algorithm direct` only
//! with `--reps 1`.

use std::time::Instant;

use burn::tensor::{Device, Distribution, Tensor};
use neuron_nn::{DendriteAlgorithm, DendritesConfig, devices};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time<F: FnMut()>(reps: usize, mut f: F) -> f64 {
    f(); // warm-up: allocations, thread pools
    median((0..reps).map(|_| { let t = Instant::now(); f(); t.elapsed().as_secs_f64() }).collect())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: &str| args.iter().position(|a| a == name).map_or(default.to_string(), |i| args[i + 1].clone());
    let device = devices::by_name(&arg("--device", "flex")).unwrap_or_else(|e| { eprintln!("{e}"); std::process::exit(2) });
    let reps: usize = arg("--reps", "5").parse().expect("--reps takes a count");
    let algorithm = match arg("--algorithm", "auto").as_str() {
        "auto" => DendriteAlgorithm::Auto,
        "direct" => DendriteAlgorithm::Direct,
        "expanded" => DendriteAlgorithm::Expanded,
        other => { eprintln!("unknown --algorithm {other}: auto, direct or expanded"); std::process::exit(2) }
    };
    device.seed(0);

    let n = 2048;
    let a = Tensor::<2>::random([n, n], Distribution::Default, &device);
    let b = Tensor::<2>::random([n, n], Distribution::Default, &device);
    let mm = time(reps, || { a.clone().matmul(b.clone()).into_data(); });
    let mm_rate = 2.0 * (n as f64).powi(3) / mm / 1e9;

    let config = DendritesConfig::new(100, 1000, [10, 1000, 5]).with_algorithm(algorithm);
    let flops = 2.0 * 100.0 * 1000.0 * 5.0 * 10.0 * 1000.0 * 5.0;
    let dendrites = config.init(&device);
    let x = Tensor::<3>::random([1, 100_000, 5], Distribution::Default, &device);
    let fwd = time(reps, || { dendrites.forward(x.clone()).into_data(); });

    let ad = device.clone().autodiff();
    let dendrites_ad = config.init(&ad);
    let x_ad = Tensor::<3>::random([1, 100_000, 5], Distribution::Default, &ad);
    let bwd = time(reps, || {
        let g = dendrites_ad.forward(x_ad.clone()).sum().backward();
        dendrites_ad.weight.grad(&g).unwrap().into_data();
    });
    let resolved = dendrites.resolved_algorithm();
    println!("device {device:?}, algorithm {resolved}, median of {reps}");
    println!("matmul 2048³            {:>9.4} s  {:>7.1} GFLOP/s", mm, mm_rate);
    println!("dendrite forward        {:>9.4} s  {:>7.1} GFLOP/s  ({:.0} % of matmul)", fwd, flops / fwd / 1e9, 100.0 * flops / fwd / 1e9 / mm_rate);
    // Forward + weight gradient = 2 × forward FLOPs (the input needs no gradient here).
    println!("dendrite forward+backward {:>7.4} s  {:>7.1} GFLOP/s  ({:.0} % of matmul; 2 × 5.0e10 FLOPs)", bwd, 2.0 * flops / bwd / 1e9, 100.0 * 2.0 * flops / bwd / 1e9 / mm_rate);
    let _ = Device::flex;
}
