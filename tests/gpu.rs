//! Every module and every dendrite path on burn-wgpu against flex: forward values and the
//! gradients of every parameter and of the input, within float32 tolerance.
//!
//! ```text
//! cargo test --release --features wgpu --test gpu
//! ```
//!
//! Compiled only with the `wgpu` feature (the default test command never builds wgpu). Each test
//! prints a clear message and passes without checking anything when no wgpu adapter exists; on a
//! machine without a GPU, Mesa's software Vulkan (Debian: mesa-vulkan-drivers) is an adapter.
#![cfg(feature = "wgpu")]

use std::sync::OnceLock;

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Distribution, Gradients, Tensor};
use neuron_nn::*;
use test_support::{assert_close_values, require_absent, seed_lock, values};

/// Relative tolerance, `max|gpu − cpu| ≤ TOL · max(1, max|cpu|)`: float32 sums reordered by
/// different kernels (tiled GEMMs, tree reductions) differ by a few ulps per term; 1e-4 leaves
/// room for sums of thousands of terms while catching any wrong index or missing term.
const TOL: f64 = 1e-4;

/// The wgpu adapter, or `None` after saying why the test checks nothing. With
/// `NEURON_TEST_REQUIRE=wgpu` a missing adapter fails the test instead. The adapter is
/// initialised once per process: a second `init` fails ("Service already initialized").
fn gpu(test: &str) -> Option<Device> {
    static GPU: OnceLock<Result<Device, String>> = OnceLock::new();
    match GPU.get_or_init(|| Device::wgpu_options().init().map_err(|e| format!("{e:?}"))) {
        Ok(d) => Some(d.clone()),
        Err(e) => {
            require_absent("wgpu");
            eprintln!(
                "SKIPPED {test}: no wgpu adapter ({e}). Install a Vulkan driver (on CPU: Debian's mesa-vulkan-drivers)."
            );
            None
        }
    }
}

/// `a` from wgpu against `b` from flex, within [`TOL`].
fn close(a: &[f64], b: &[f64], what: &str) {
    assert_close_values(a, b, TOL, what)
}

/// Collects every float parameter's gradient, in the module's visiting order.
struct ParamGrads<'a> {
    grads: &'a Gradients,
    out: Vec<Vec<f64>>,
}

impl ModuleVisitor for ParamGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.out.push(param.grad(self.grads).map(values).unwrap_or_default());
    }
}

fn param_grads<M: Module>(module: &M, grads: &Gradients) -> Vec<Vec<f64>> {
    let mut v = ParamGrads { grads, out: Vec::new() };
    module.visit(&mut v);
    v.out
}

/// Runs `forward` with `module` on flex and on `gpu` (autodiff on both), from the same weights
/// and input, and compares the outputs and the gradients of `Σ y·w` (w fixed, random) with
/// respect to the input and every parameter.
fn compare<M, const I: usize, const O: usize>(
    name: &str,
    gpu: &Device,
    module: impl FnOnce(&Device) -> M,
    input: [usize; I],
    forward: impl Fn(&M, Tensor<I>) -> Tensor<O>,
) where
    M: Module + Clone,
{
    let (cpu, gpu) = (Device::flex().autodiff(), gpu.clone().autodiff());
    cpu.seed(7);
    let m_cpu = module(&cpu);
    let x = Tensor::<I>::random(input, Distribution::Uniform(-1.0, 1.0), &Device::flex());
    // from_data, not to_device: flex → flex-autodiff by to_device can keep a plain tensor.
    let x_cpu = Tensor::<I>::from_data(x.to_data(), &cpu).require_grad();
    // The first forward draws the (lazy) parameters on flex; only then are they copied.
    let y_cpu = forward(&m_cpu, x_cpu.clone());
    let m_gpu = m_cpu.clone().fork(&gpu);
    let x_gpu = Tensor::<I>::from_data(x.to_data(), &gpu).require_grad();
    let y_gpu = forward(&m_gpu, x_gpu.clone());
    assert_eq!(y_gpu.dims(), y_cpu.dims(), "{name}: output shapes");
    close(
        &values(y_gpu.clone()),
        &values(y_cpu.clone()),
        &format!("{name} forward"),
    );

    let w = Tensor::<O>::random(y_cpu.dims(), Distribution::Uniform(-1.0, 1.0), &Device::flex());
    let g_cpu = (y_cpu * Tensor::from_data(w.to_data(), &cpu)).sum().backward();
    let g_gpu = (y_gpu * Tensor::from_data(w.to_data(), &gpu)).sum().backward();
    let (a, b) = (x_gpu.grad(&g_gpu), x_cpu.grad(&g_cpu));
    let missing = || panic!("{name}: no input gradient");
    close(
        &values(a.unwrap_or_else(missing)),
        &values(b.unwrap_or_else(missing)),
        &format!("{name} input gradient"),
    );
    let (a, b) = (param_grads(&m_gpu, &g_gpu), param_grads(&m_cpu, &g_cpu));
    assert_eq!(a.len(), b.len(), "{name}: parameter counts");
    for (n, (a, b)) in a.iter().zip(&b).enumerate() {
        close(a, b, &format!("{name} gradient of parameter {n}"));
    }
}

/// Neuron or population configs with the stochastic stages switched off, so that both devices
/// compute the same function in training mode (their RNG streams differ).
fn deterministic(mut n: Neuron) -> Neuron {
    n.dropout.training = Param::from_bool(false);
    n.spikes.training = Param::from_bool(false);
    n
}

#[test]
fn stages_match_flex() {
    let _lock = seed_lock();
    let Some(gpu) = gpu("stages_match_flex") else { return };
    let map: Vec<usize> = (0..12).map(|s| (s * 5) % 4).collect();
    for (name, mode) in [
        ("Synapses dense", SynapseMode::Dense),
        ("Synapses one-to-one", SynapseMode::OneToOne),
        ("Synapses mapped", SynapseMode::Mapped { map }),
    ] {
        let sites = if mode == SynapseMode::OneToOne { 4 } else { 12 };
        compare(
            name,
            &gpu,
            |d| SynapsesConfig::new(4, sites).with_mode(mode.clone()).init(d),
            [3, 4, 6],
            |m, x| m.forward(x),
        );
    }
    // The FFT too: Auto takes it on wgpu for wide kernels. A 7-step window folds time into the
    // spectral products; 40 steps transform it (with dilated taps: the kernel's zeros included).
    for algorithm in [
        DendriteAlgorithm::Direct,
        DendriteAlgorithm::Expanded,
        DendriteAlgorithm::Fft,
    ] {
        // Odd and even kernels, channels in and out, bias: every index path of every algorithm.
        for (kernel, channels, out, time, dilation) in [
            ([3, 4, 5], 1, 1, 7, 1),
            ([2, 3, 2], 2, 3, 7, 1),
            ([3, 6, 4], 1, 2, 40, 3),
        ] {
            compare(
                &format!("Dendrites {algorithm:?} {kernel:?} over {time} steps, dilation {dilation}"),
                &gpu,
                |d| {
                    DendritesConfig::new(5, 6, kernel)
                        .with_channels(channels)
                        .with_out_channels(out)
                        .with_dilation(dilation)
                        .with_bias(true)
                        .with_algorithm(algorithm)
                        .init(d)
                },
                [2, channels * 30, time],
                |m, x| m.forward(x),
            );
        }
    }
    // The memory soma's recurrence (one neuron and a population of three), through time.
    for neurons in [1, 3] {
        compare(
            &format!("MemorySoma, {neurons} neurons"),
            &gpu,
            |d| {
                MemorySomaConfig::new(4)
                    .with_units(5)
                    .with_hidden(6)
                    .with_neurons(neurons)
                    .init(d)
            },
            [2, neurons * 4, 12],
            |m, x| m.forward(x),
        );
    }
    for window in [None, Some(3)] {
        compare(
            &format!("DendriticSpike window {window:?}"),
            &gpu,
            |d| {
                DendriticSpikeConfig::new()
                    .with_window(window)
                    .with_threshold(-0.2)
                    .init(d)
            },
            [2, 2, 5, 4, 3],
            |m, x| m.forward(x),
        );
    }
    for mode in [
        SummationMode::Linear,
        SummationMode::Sublinear { scale: 1.5 },
        SummationMode::Superlinear { scale: 2.0 },
        SummationMode::Bistable {
            threshold: 0.3,
            strength: 0.5,
            width: 0.4,
        },
    ] {
        compare(
            &format!("Summation {mode:?}"),
            &gpu,
            |d| SummationConfig::new().with_mode(mode.clone()).init(d),
            [2, 1, 5, 4, 3],
            |m, x| m.forward(x),
        );
    }
    compare(
        "Soma",
        &gpu,
        |d| SomaConfig::new().with_neurons(2).init(d),
        [3, 2, 9],
        |m, x| m.forward(x),
    );
    compare(
        "Axon",
        &gpu,
        |d| AxonConfig::new(6).with_neurons(2).init(d),
        [3, 2, 9],
        |m, x| m.forward(x),
    );
}

#[test]
fn cells_and_populations_match_flex() {
    let _lock = seed_lock();
    let Some(gpu) = gpu("cells_and_populations_match_flex") else {
        return;
    };
    let granule = NeuronConfig::granule();
    compare(
        "Neuron granule",
        &gpu,
        |d| deterministic(granule.init(d)),
        [2, 4, 6],
        |m, x| m.forward(x),
    );
    // The Purkinje design at small scale: one-to-one sites, a tree-wide kernel (expanded path).
    let purkinje = NeuronConfig {
        synapses: SynapsesConfig::new(64, 64).with_mode(SynapseMode::OneToOne),
        dendrites: DendritesConfig::new(8, 8, [3, 8, 5]),
        axon: AxonConfig::new(3),
        ..NeuronConfig::purkinje()
    };
    compare(
        "Neuron purkinje-like",
        &gpu,
        |d| deterministic(purkinje.init(d)),
        [2, 64, 6],
        |m, x| m.forward(x),
    );
    compare(
        "Population of 5 granule cells",
        &gpu,
        |d| {
            let mut p = PopulationConfig::new(granule.clone(), 5).init(d);
            p.dropout.training = Param::from_bool(false);
            p.spikes.training = Param::from_bool(false);
            p
        },
        [2, 4, 6],
        |m, x| m.forward(x),
    );
}

/// The stochastic stages draw from wgpu's own RNG (another stream than flex's): checked by their
/// distributions instead: with 200 000 draws the bounds below are 8 or more standard errors wide.
#[test]
fn stochastic_stages_have_their_distributions_on_wgpu() {
    let _lock = seed_lock();
    let Some(gpu) = gpu("stochastic_stages_have_their_distributions_on_wgpu") else {
        return;
    };
    let ad = gpu.clone().autodiff();
    ad.seed(3);
    let n = 200_000;
    let counts = values(
        PoissonSpikesConfig::new()
            .init()
            .forward(Tensor::<1>::full([n], 3.0, &ad)),
    );
    let mean = counts.iter().sum::<f64>() / n as f64;
    let var = counts.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / n as f64;
    assert!(
        counts.iter().all(|c| c.fract() == 0.0 && *c >= 0.0),
        "counts are whole numbers"
    );
    assert!(
        (mean - 3.0).abs() < 0.03 && (var - 3.0).abs() < 0.06,
        "Poisson(3): mean {mean}, variance {var}"
    );

    let lambda = 0.5;
    let kept = values(
        PoissonDropoutConfig::new()
            .with_lambda(lambda)
            .init()
            .forward(Tensor::<3>::ones([1, 1000, 200], &ad)),
    );
    let fraction = kept.iter().filter(|v| **v > 0.0).count() as f64 / kept.len() as f64;
    assert!(
        (fraction - 1.0 / (1.0 + lambda)).abs() < 0.01,
        "kept fraction {fraction}"
    );
    assert!(kept.iter().all(|v| *v == 0.0 || (*v - (1.0 + lambda)).abs() < 1e-6));
}

#[test]
fn diffusion_learners_match_flex() {
    let _lock = seed_lock();
    let Some(gpu) = gpu("diffusion_learners_match_flex") else {
        return;
    };
    for cable in [
        train::CableConfig::new().with_positions(40),
        train::CableConfig::new().with_positions(12).with_dendrites(10),
    ] {
        for learner in train::Learner::ALL {
            compare(
                &format!("{} learner, {}-D", learner.name(), cable.dims()),
                &gpu,
                |d| train::cable::learners::init(&cable, 2, d),
                [3, cable.positions, cable.dendrites],
                |m, x| m.propagate(learner, x),
            );
        }
    }
}
