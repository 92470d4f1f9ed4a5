//! Shared by the examples: choosing a backend by name, and timing.

// Each example uses part of this module.
#![allow(dead_code)]

use std::time::Instant;

use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};

/// Lets the process end silently, as command-line tools do, when its output pipe closes
/// (`count_flops | head`): Rust ignores SIGPIPE, so a write to a closed pipe would panic with a
/// backtrace; with the default action restored the process simply ends.
pub fn exit_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called at the start of `main`, before any thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// A Burn backend, chosen on the command line (`--device flex`). `Device::default()` would
/// prefer wgpu whenever it is compiled in, even without a GPU, so the examples always name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Backend {
    /// Pure-Rust CPU backend (the default).
    Flex,
    /// The ndarray CPU backend (deprecated in Burn 0.22, still supported).
    Ndarray,
    /// A GPU through wgpu (Vulkan): builds with `--features wgpu` only.
    Wgpu,
}

impl Backend {
    /// The device, or why it is not available in this build or on this machine.
    pub fn device(self) -> Result<Device, String> {
        match self {
            Self::Flex => Ok(Device::flex()),
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            Self::Ndarray => Ok(Device::ndarray()),
            #[cfg(not(feature = "ndarray"))]
            Self::Ndarray => Err("ndarray is not compiled in (cargo feature `ndarray`)".into()),
            #[cfg(feature = "wgpu")]
            // The lazy `Device::wgpu(..)` panics on first use without an adapter: probe first.
            Self::Wgpu => Device::wgpu_options()
                .init()
                .map_err(|e| format!("no wgpu adapter available: {e:?}")),
            #[cfg(not(feature = "wgpu"))]
            Self::Wgpu => Err("wgpu is not compiled in: build with `--features wgpu`".into()),
        }
    }

    /// The device, or exit with status 2 saying why not (as clap does for bad arguments).
    pub fn device_or_exit(self, program: &str) -> Device {
        self.device().unwrap_or_else(|e| {
            eprintln!("{program}: --device: {e}");
            std::process::exit(2)
        })
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Flex => "flex",
            Self::Ndarray => "ndarray",
            Self::Wgpu => "wgpu",
        }
    }
}

/// Median wall time of `reps` runs of `f`, after one warm-up run (allocations, thread pools).
pub fn median_secs(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut v: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Counted FLOPs (torch convention plus the FFT rules) of a module's forward on a zero input of
/// `input`, and of its forward + backward when every parameter needs a gradient (the input
/// needs none).
pub fn counted_fwd_bwd<M: Module>(
    build: impl FnOnce(&Device) -> M,
    run: impl FnOnce(&M, Tensor<3>),
    input: [usize; 3],
) -> (f64, f64) {
    let r = flop_count::capture(|cx| {
        let m = build(cx.device());
        cx.params(&m);
        run(&m, Tensor::<3>::zeros(input, cx.device()));
    })
    .expect("the module captures")
    .count(&flop_count::Convention::torch());
    let f = r.forward as f64;
    (f, f + r.backward_params.expect("parameters declared") as f64)
}

/// Median seconds of an `n`³ matmul on `device`: the machine's reference rate.
pub fn matmul_secs(n: usize, reps: usize, device: &Device) -> f64 {
    let a = Tensor::<2>::random([n, n], Distribution::Default, device);
    let b = Tensor::<2>::random([n, n], Distribution::Default, device);
    median_secs(reps, || {
        a.clone().matmul(b.clone()).into_data();
    })
}

/// A dendrite path chosen on the command line (`--algorithm`); `all` times the expanded and FFT
/// paths in the same run. The direct (conv3d) and fused paths take minutes per forward on the
/// Purkinje cell on 2 cores: pass them only with `--reps 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DendritePath {
    Auto,
    Direct,
    Expanded,
    Fft,
    Fused,
    All,
}

impl DendritePath {
    /// The one algorithm this names (`all` names several: an error for options taking one).
    pub fn single(self) -> Result<neuron_nn::DendriteAlgorithm, &'static str> {
        match self.algorithms().as_slice() {
            [one] => Ok(*one),
            _ => Err("--algorithm takes one path here (auto, direct, expanded, fft or fused), not all"),
        }
    }

    /// The algorithms to time, in order.
    pub fn algorithms(self) -> Vec<neuron_nn::DendriteAlgorithm> {
        use neuron_nn::DendriteAlgorithm as A;
        match self {
            Self::Auto => vec![A::Auto],
            Self::Direct => vec![A::Direct],
            Self::Expanded => vec![A::Expanded],
            Self::Fft => vec![A::Fft],
            Self::Fused => vec![A::Fused],
            Self::All => vec![A::Expanded, A::Fft],
        }
    }
}
