//! Shared by the examples: choosing a backend by name, and timing.

// Each example uses part of this module.
#![allow(dead_code)]

use std::time::Instant;

use burn::tensor::Device;

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
