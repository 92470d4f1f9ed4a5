//! Which path a dendrite convolution takes, and why: the one place that decides.
//!
//! Every path's time is estimated as `Σ costᵢ · workᵢ`: its work terms (calls, kernel taps read,
//! copied elements, multiply-adds, transformed lines...) counted from the shapes, times seconds
//! per unit measured on this machine ([`PlanCosts`]: a short calibration on first use per
//! device, cached for the process). `Auto` takes the cheapest path the backend has, once per
//! (shapes, device, float type); the choice is cached, so a process never changes its mind. An
//! explicit path the backend lacks is an error naming both.
//!
//! Estimates differ between machines (and, where two paths are close, between processes on one),
//! so `Auto` may take another path elsewhere (the same function to float rounding). Runs that
//! must repeat their numbers record the paths they took (`Dendrites::path`) and name them
//! explicitly when repeated or resumed; or every process plans with the same figures, kept in
//! the file that [`PLAN_COSTS_ENV`] names.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use burn::config::Config;
use burn::tensor::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use super::direct::{dilated_shape, direct_conv, expanded_conv};
use super::fft::{fft_conv, fft_work};
use super::fused::{fused_dendrite_conv, fused_work};
use crate::backend_kind::BackendKind;

/// How [`super::Dendrites`] executes its convolution. Every choice computes the same function,
/// with the same gradients, to float tolerance.
#[derive(Config, Debug, Copy, PartialEq, Eq, Hash)]
pub enum DendriteAlgorithm {
    /// The path [`plan`] estimates fastest for the shapes on this machine and backend (see the
    /// module docs). Typically, on flex: the fused loop for small kernels (a granule cell, a
    /// population of them, one-channel temporal kernels), the FFT for the Purkinje and pyramidal
    /// trees, the direct convolution for many channels; elsewhere the expanded GEMM for small
    /// kernels on small grids.
    Auto,
    /// Burn's `conv3d` on the explicitly padded input: for dendrite kernels much narrower than
    /// the tree, where the expanded form would multiply mostly zeros.
    Direct,
    /// The dendrite axis becomes channels: a `[D_out, taps × D_in]` weight, each output dendrite
    /// seeing the kernel shifted along the input dendrites
    /// ([`super::direct::expand_dendrite_weight`]), times the im2col of the input over positions
    /// × time. One large GEMM instead of a 1000-wide stencil (the Purkinje cell); same
    /// multiply-adds as `Direct` when `kd = dendrites`.
    Expanded,
    /// Through the Fourier transform (`burn::signal`, [`super::fft::fft_conv`]): O(N log N)
    /// instead of the kernel's size per output. The kernel's spectrum is computed in every
    /// forward (the weight may change between calls). Flex and wgpu have the transforms; ndarray
    /// has none. flex's transforms are f32-accurate even on f64 tensors (its twiddle tables are
    /// f32): about 1e-7 relative. A kernel one tap wide in both spatial axes has nothing to
    /// transform and runs the direct path.
    Fft,
    /// One loop over the kernel's taps reading the unpadded input in place, forward and
    /// backward ([`super::fused`], a backend extension): no padded copy, no im2col, no per-group
    /// setup. For the small grouped kernels of a population. Runs on flex (f32, f64); the
    /// capture device records it as `Direct` (the same convolution, for counting); elsewhere
    /// choosing it is an error.
    Fused,
}

impl DendriteAlgorithm {
    /// The concrete paths, in the order [`DendritePlan::estimates`] lists them.
    pub const PATHS: [Self; 4] = [Self::Direct, Self::Expanded, Self::Fft, Self::Fused];

    fn index(self) -> usize {
        Self::PATHS.iter().position(|&p| p == self).expect("a concrete path")
    }

    /// What each term of this path's time estimate counts (the units of its [`PlanCosts`]).
    pub fn terms(self) -> &'static [&'static str] {
        match self {
            Self::Direct => &["call", "kernel tap read per output / core", "multiply-add / core"],
            Self::Expanded => &["call", "im2col element", "expanded weight element", "GEMM FLOP"],
            Self::Fft => &["call", "transform FLOP", "transformed line", "spectral element"],
            Self::Fused => &[
                "call",
                "run of outputs / core",
                "multiply-add / core",
                "lane multiply-add / core",
                "element re-laid into lanes",
            ],
            Self::Auto => &[],
        }
    }
}

/// The environment variable that names a file of plan costs ([`PlanCosts::of`]).
pub const PLAN_COSTS_ENV: &str = "NEURON_NN_PLAN_COSTS";

/// burn-flex's conv3d runs (batch, tile of this many output sites) pairs in parallel.
const CONV3D_TILE: usize = 512;

/// Neurons per block of the fused loop's lane layout.
const LANES: usize = 256;

/// Each path's work terms on one call (input `x`, weight `w` with `dilation` steps between
/// its time taps, spread over `cores`), in [`DendriteAlgorithm::terms`] order, and its FLOPs.
fn work(path: DendriteAlgorithm, x: [usize; 5], w: [usize; 5], dilation: usize, cores: usize) -> (Vec<f64>, f64) {
    let [b, channels, p, d, t] = x;
    let [co, cg, kp, kd, kt] = w;
    let groups = channels / cg;
    let outputs = (b * co * p * d * t) as f64;
    let cores = cores.max(1);
    match path {
        DendriteAlgorithm::Direct => {
            let macs = outputs * (cg * kp * kd * kt) as f64;
            // conv3d reads each kernel tap once per output site and group (all of a group's
            // channels at once).
            let taps = (b * groups * p * d * t * kp * kd * kt) as f64;
            let parallel = (b * (p * d * t).div_ceil(CONV3D_TILE)).clamp(1, cores) as f64;
            (vec![1.0, taps / parallel, macs / parallel], 2.0 * macs)
        }
        DendriteAlgorithm::Expanded => {
            let macs = outputs * (cg * kp * kt * d) as f64;
            let cols = (b * groups * cg * kp * kt * d * p * t) as f64;
            let weight = (co * d * cg * kp * kt * d) as f64;
            (vec![1.0, cols, weight, 2.0 * macs], 2.0 * macs)
        }
        DendriteAlgorithm::Fft => {
            let f = fft_work(x, dilated_shape(w, dilation));
            (vec![1.0, 2.0 * f.flops, f.lines, f.spectral], f.flops)
        }
        DendriteAlgorithm::Fused => {
            let (rows, macs) = fused_work(x, w, dilation);
            if cg == 1 && co == groups && groups > 1 {
                // The lane layout (a population of one-channel kernels): a run serves a block
                // of up to 256 neurons at once; input, output and weight are re-laid out.
                let blocks = (b * groups.div_ceil(LANES)) as f64;
                let parallel = blocks.min(cores as f64);
                let moved = (2 * b * channels * p * d * t + co * kp * kd * kt) as f64;
                (
                    vec![
                        1.0,
                        rows / groups as f64 * blocks / parallel,
                        0.0,
                        macs / parallel,
                        moved,
                    ],
                    2.0 * macs,
                )
            } else {
                let parallel = (b * co).clamp(1, cores) as f64;
                (vec![1.0, rows / parallel, macs / parallel, 0.0, 0.0], 2.0 * macs)
            }
        }
        DendriteAlgorithm::Auto => unreachable!("Auto is not a path"),
    }
}

/// Seconds per unit of each path's work terms on one device, and the cores its loops use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanCosts {
    /// Cores the parallel loops spread over.
    pub cores: usize,
    /// Per path in [`DendriteAlgorithm::PATHS`] order, seconds per unit of each of its
    /// [`terms`](DendriteAlgorithm::terms); `None` where the backend lacks the path.
    pub paths: [Option<Vec<f64>>; 4],
    /// Where the figures come from, in words.
    pub source: String,
}

/// Calibration shapes per path: one per work term, each chosen so that its term dominates
/// (input, weight, dilation), then shapes of the library's own uses (a fit's dilated stages, a
/// granule population, a pyramidal tree), which the fit weighs as much. A few milliseconds each
/// on two cores.
fn calibration_shapes(path: DendriteAlgorithm) -> Vec<([usize; 5], [usize; 5], usize)> {
    let tiny = ([1, 1, 2, 2, 2], [1, 1, 1, 1, 1], 1);
    let fit_stage = ([4, 2, 10, 5, 354], [4, 2, 3, 1, 16], 4);
    let fit_deeper = ([2, 8, 10, 5, 354], [8, 8, 3, 1, 16], 4);
    let granules = ([1, 256, 4, 4, 5], [256, 1, 3, 4, 5], 1);
    let pyramidal = ([1, 1, 100, 100, 5], [1, 1, 5, 10, 5], 1);
    match path {
        DendriteAlgorithm::Direct => vec![
            tiny,
            ([1, 1, 16, 16, 32], [1, 1, 3, 3, 5], 1),
            ([1, 32, 8, 8, 16], [32, 32, 3, 3, 3], 1),
            fit_stage,
            granules,
        ],
        DendriteAlgorithm::Expanded => vec![
            tiny,
            ([1, 1, 64, 4, 64], [1, 1, 3, 1, 5], 1),
            ([1, 1, 1, 512, 1], [1, 1, 1, 512, 1], 1),
            ([1, 1, 16, 64, 128], [32, 1, 1, 64, 1], 1),
            granules,
            pyramidal,
        ],
        DendriteAlgorithm::Fft => vec![
            ([1, 1, 4, 4, 2], [1, 1, 3, 1, 1], 1),
            // Two transformed axes, a complex one among them, at the lengths of real trees.
            ([8, 1, 100, 100, 1], [1, 1, 5, 10, 1], 1),
            ([1, 1, 4, 2048, 1], [1, 1, 3, 1, 1], 1),
            ([32, 16, 8, 8, 1], [16, 16, 3, 3, 1], 1),
            pyramidal,
            ([1, 1, 20, 200, 5], [1, 1, 10, 200, 5], 1),
        ],
        DendriteAlgorithm::Fused => vec![
            tiny,
            ([1, 1, 16, 16, 4], [1, 1, 3, 3, 4], 1),
            ([2, 4, 8, 8, 2048], [4, 4, 1, 1, 8], 1),
            ([1, 256, 4, 4, 64], [256, 1, 3, 3, 5], 1),
            ([1, 512, 8, 8, 16], [512, 1, 1, 1, 1], 1),
            fit_stage,
            fit_deeper,
            ([1, 1024, 4, 4, 5], [1024, 1, 3, 4, 5], 1),
        ],
        DendriteAlgorithm::Auto => Vec::new(),
    }
}

/// Runs `path` once on `x` and `w` and waits for the result.
fn run_path(path: DendriteAlgorithm, x: Tensor<5>, w: Tensor<5>, dilation: usize) {
    let y = match path {
        DendriteAlgorithm::Direct => direct_conv(x, w, None, dilation),
        DendriteAlgorithm::Expanded => expanded_conv(x, w, None, dilation),
        DendriteAlgorithm::Fft => fft_conv(x, w, None, dilation),
        DendriteAlgorithm::Fused => fused_dendrite_conv(x, w, dilation),
        DendriteAlgorithm::Auto => unreachable!("Auto is not a path"),
    };
    // A sum read back: a GPU has finished when it arrives, and it costs little beside the call.
    let _ = y.sum().into_scalar::<f32>();
}

/// The costs that reproduce `times` from each shape's `features` best in relative terms (least
/// squares of `(features·c − t)/t`); the first `features[0].len()` shapes are the targeted ones.
/// Each cost is at least 5 % of what its targeted shape alone implies: timing noise must not
/// make a term free.
fn fit_costs(features: &[Vec<f64>], times: &[f64]) -> Vec<f64> {
    let n = features[0].len();
    // Normal equations of the rows scaled by 1/t: (AᵀA)c = Aᵀ1.
    let mut ata = vec![vec![0.0; n]; n];
    let mut atb = vec![0.0; n];
    for (f, &t) in features.iter().zip(times) {
        for i in 0..n {
            atb[i] += f[i] / t;
            for j in 0..n {
                ata[i][j] += f[i] * f[j] / (t * t);
            }
        }
    }
    solve(ata, atb)
        .into_iter()
        .enumerate()
        .map(|(i, c)| c.max(0.05 * times[i] / features[i][i]))
        .collect()
}

/// Solves `a·c = t` (Gaussian elimination with partial pivoting) for the costs `c`.
fn solve(mut a: Vec<Vec<f64>>, mut t: Vec<f64>) -> Vec<f64> {
    let n = t.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .expect("rows");
        a.swap(col, pivot);
        t.swap(col, pivot);
        let (top, below) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (r, row) in below.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            t[col + 1 + r] -= f * t[col];
        }
    }
    let mut c = vec![0.0; n];
    for row in (0..n).rev() {
        let rest: f64 = (row + 1..n).map(|k| a[row][k] * c[k]).sum();
        c[row] = (t[row] - rest) / a[row][row];
    }
    c
}

impl PlanCosts {
    /// The figures measured on a 2-core VM (docs/benchmarks.md, "Choosing a path"), flex's
    /// paths with no per-call cost: for planning as that machine did (tests that pin its
    /// choices), and where nothing can be measured (the capture device in a build with no CPU
    /// backend).
    pub fn reference_vm() -> Self {
        Self {
            cores: 2,
            paths: [
                Some(vec![0.0, 9.7e-9, 0.2e-9]),
                Some(vec![0.0, 13e-9, 7e-9, 1.0 / 80e9]),
                Some(vec![0.0, 1.0 / 3.4e9, 240e-9, 10e-9]),
                Some(vec![0.0, 9e-9, 0.3e-9, 0.5e-9, 4e-9]),
            ],
            source: "a 2-core VM's measured costs (docs/benchmarks.md)".into(),
        }
    }

    /// Measures every path `device`'s backend has: each path on one small shape per work
    /// term (after a warm-up run, the fastest of three), then the costs that reproduce those
    /// times. About a quarter of a second on two cores. Uses no random numbers (a seeded run's
    /// stream is untouched).
    pub fn measure(device: &Device) -> Self {
        let started = Instant::now();
        let device = device.clone().inner();
        let backend = BackendKind::of(&device);
        let cores = match backend {
            BackendKind::Gpu => 1,
            _ => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        let paths = DendriteAlgorithm::PATHS.map(|path| {
            let available = match path {
                DendriteAlgorithm::Fft => backend.has_fft(),
                DendriteAlgorithm::Fused => backend.has_fused_loop(DType::F32),
                _ => true,
            };
            available.then(|| {
                let (features, times): (Vec<Vec<f64>>, Vec<f64>) = calibration_shapes(path)
                    .into_iter()
                    .map(|(x, w, dilation)| {
                        let xt = Tensor::<5>::full(x, 0.5, &device);
                        let wt = Tensor::<5>::full(w, 0.25, &device);
                        let time = || {
                            let t = Instant::now();
                            run_path(path, xt.clone(), wt.clone(), dilation);
                            t.elapsed().as_secs_f64()
                        };
                        time();
                        let best = (0..2).map(|_| time()).fold(f64::MAX, f64::min);
                        (work(path, x, w, dilation, cores).0, best)
                    })
                    .unzip();
                fit_costs(&features, &times)
            })
        });
        Self {
            cores,
            paths,
            source: format!(
                "costs measured on {} at first use ({:.2} s, {cores} cores)",
                backend.name(),
                started.elapsed().as_secs_f64()
            ),
        }
    }

    /// The costs of `device`, measured at its first use in this process and kept. The capture
    /// device plans as flex (it records what flex would run).
    ///
    /// With the environment variable [`PLAN_COSTS_ENV`] naming a JSON file, the costs come from
    /// that file when it holds the backend's, and are measured and added to it when it does not
    /// ([`PlanCosts::from_file_or_measure`]): every process then plans alike, on this machine
    /// or, with the file copied, on another.
    ///
    /// # Panics
    ///
    /// If that file cannot be read, parsed or written (the message names it and why).
    pub fn of(device: &Device) -> Arc<Self> {
        static MEASURED: Mutex<Vec<(Device, Arc<PlanCosts>)>> = Mutex::new(Vec::new());
        let device = match BackendKind::of(device) {
            BackendKind::Capture => match cpu_device() {
                Some(cpu) => cpu,
                None => {
                    static REFERENCE: OnceLock<Arc<PlanCosts>> = OnceLock::new();
                    return REFERENCE.get_or_init(|| Arc::new(Self::reference_vm())).clone();
                }
            },
            _ => device.clone().inner(),
        };
        let mut measured = MEASURED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, costs)) = measured.iter().find(|(d, _)| *d == device) {
            return costs.clone();
        }
        let costs = match std::env::var_os(PLAN_COSTS_ENV) {
            Some(file) => Self::from_file_or_measure(Path::new(&file), &device).unwrap_or_else(|e| panic!("{e}")),
            None => Self::measure(&device),
        };
        let costs = Arc::new(costs);
        measured.push((device, costs.clone()));
        costs
    }

    /// The costs of `device`'s backend as `file` holds them (a JSON object from backend name
    /// to costs), or measured now and added to it (written atomically). An error says which
    /// file and why.
    pub fn from_file_or_measure(file: &Path, device: &Device) -> Result<Self, String> {
        let backend = BackendKind::of(device).name();
        let why = |what: &str, e: &dyn std::fmt::Display| {
            format!(
                "Dendrites: the plan's costs file {} ({PLAN_COSTS_ENV}): {what}: {e}",
                file.display()
            )
        };
        let mut all: BTreeMap<String, PlanCosts> = match std::fs::read(file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| why("not a costs file", &e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(why("cannot read it", &e)),
        };
        if let Some(costs) = all.get(backend) {
            return Ok(costs.clone());
        }
        let mut costs = Self::measure(device);
        costs.source = format!("{} (kept in {})", costs.source, file.display());
        all.insert(backend.into(), costs.clone());
        let json = serde_json::to_vec_pretty(&all).expect("costs serialise");
        crate::save::write_atomic(file, &json).map_err(|e| why("cannot write it", &e))?;
        Ok(costs)
    }

    /// `path`'s estimated seconds for one call, or `None` where these costs lack it.
    pub fn seconds(&self, path: DendriteAlgorithm, x: [usize; 5], w: [usize; 5], dilation: usize) -> Option<f64> {
        let costs = self.paths[path.index()].as_ref()?;
        let (terms, _) = work(path, x, w, dilation, self.cores);
        Some(costs.iter().zip(terms).map(|(c, n)| c * n).sum())
    }
}

/// The CPU device whose costs the capture device plans with: flex, else ndarray.
fn cpu_device() -> Option<Device> {
    #[cfg(feature = "flex")]
    {
        Some(Device::flex())
    }
    #[cfg(all(not(feature = "flex"), feature = "ndarray"))]
    #[allow(deprecated)]
    {
        Some(Device::ndarray())
    }
    #[cfg(not(any(feature = "flex", feature = "ndarray")))]
    {
        None
    }
}

impl std::fmt::Display for PlanCosts {
    /// Each path's costs with what they count, one path per line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}:", self.source)?;
        for (path, costs) in DendriteAlgorithm::PATHS.iter().zip(&self.paths) {
            match costs {
                None => writeln!(f, "  {path:?}: not on this backend")?,
                Some(c) => {
                    let terms: Vec<String> = path
                        .terms()
                        .iter()
                        .zip(c)
                        .map(|(name, s)| format!("{s:.2e} s per {name}"))
                        .collect();
                    writeln!(f, "  {path:?}: {}", terms.join(", "))?;
                }
            }
        }
        Ok(())
    }
}

/// One path's estimated cost for one convolution call.
#[derive(Debug, Clone, PartialEq)]
pub struct PathEstimate {
    /// The path.
    pub algorithm: DendriteAlgorithm,
    /// Its arithmetic, FLOPs (multiply-adds × 2; the FFT path's transforms and products).
    pub flops: f64,
    /// Estimated seconds on this machine (from [`PlanCosts`]).
    pub seconds: f64,
    /// Whether the backend can run it (ndarray has no FFT; the fused loop runs on flex).
    pub available: bool,
}

/// Which path a convolution takes, every path's estimate, and the costs behind them.
/// `Display` says which and why.
#[derive(Debug, Clone, PartialEq)]
pub struct DendritePlan {
    /// The path taken (for an explicit choice, that choice).
    pub algorithm: DendriteAlgorithm,
    /// What was asked for: `Auto` or an explicit path.
    pub requested: DendriteAlgorithm,
    /// The backend planned for.
    pub backend: BackendKind,
    /// Every concrete path's estimate, in [`DendriteAlgorithm::PATHS`] order.
    pub estimates: Vec<PathEstimate>,
    /// The costs the estimates used.
    pub costs: Arc<PlanCosts>,
}

impl DendritePlan {
    /// Why, in words (the `Display` text).
    pub fn reason(&self) -> String {
        self.to_string()
    }

    /// The estimate of `path`.
    pub fn estimate(&self, path: DendriteAlgorithm) -> &PathEstimate {
        &self.estimates[path.index()]
    }
}

impl std::fmt::Display for DendritePlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let chosen = self.estimate(self.algorithm);
        if self.requested == DendriteAlgorithm::Auto {
            write!(
                f,
                "{:?}: estimated {:.2e} s ({:.2e} FLOPs) on {}",
                chosen.algorithm, chosen.seconds, chosen.flops, self.costs.source
            )?;
        } else {
            write!(
                f,
                "{:?}: set in the config (estimated {:.2e} s, {:.2e} FLOPs)",
                chosen.algorithm, chosen.seconds, chosen.flops
            )?;
        }
        let others: Vec<String> = self
            .estimates
            .iter()
            .filter(|e| e.algorithm != self.algorithm)
            .map(|e| {
                if e.available {
                    format!("{:?} {:.2e} s", e.algorithm, e.seconds)
                } else {
                    format!("{:?} unavailable on {}", e.algorithm, self.backend.name())
                }
            })
            .collect();
        write!(f, "; {}", others.join(", "))
    }
}

/// Whether `path` runs on `backend` with `dtype` for weight shape `w`, and if not, why.
fn availability(path: DendriteAlgorithm, backend: BackendKind, dtype: DType, w: [usize; 5]) -> Result<(), String> {
    match path {
        DendriteAlgorithm::Fft if !backend.has_fft() => Err(format!(
            "the Fft algorithm needs Fourier transforms, which {} does not have",
            backend.name()
        )),
        DendriteAlgorithm::Fft if w[2] == 1 && w[3] == 1 => {
            Err("a kernel one tap wide in both spatial axes has nothing to transform".into())
        }
        DendriteAlgorithm::Fused if !backend.has_fused_loop(dtype) && backend != BackendKind::Capture => Err(format!(
            "the Fused algorithm runs on flex with f32 or f64 tensors, not on {} with {dtype:?}",
            backend.name()
        )),
        _ => Ok(()),
    }
}

/// The plan of `requested` for one call on a backend with `costs`: every path's estimate, and
/// the path taken (for `Auto`, the cheapest available).
pub fn plan_with(
    requested: DendriteAlgorithm,
    x: [usize; 5],
    w: [usize; 5],
    dilation: usize,
    backend: BackendKind,
    dtype: DType,
    costs: Arc<PlanCosts>,
) -> DendritePlan {
    let estimates: Vec<PathEstimate> = DendriteAlgorithm::PATHS
        .iter()
        .map(|&path| {
            let flops = work(path, x, w, dilation, costs.cores).1;
            let seconds = costs.seconds(path, x, w, dilation);
            PathEstimate {
                algorithm: path,
                flops,
                seconds: seconds.unwrap_or(f64::INFINITY),
                available: seconds.is_some() && availability(path, backend, dtype, w).is_ok(),
            }
        })
        .collect();
    let algorithm = match requested {
        DendriteAlgorithm::Auto => {
            estimates
                .iter()
                .filter(|e| e.available)
                .min_by(|a, b| a.seconds.total_cmp(&b.seconds))
                .expect("the direct path is always available")
                .algorithm
        }
        explicit => explicit,
    };
    DendritePlan {
        algorithm,
        requested,
        backend,
        estimates,
        costs,
    }
}

/// The plan `Auto` makes for one call on `device` (f32): input `x` `[batch, channels,
/// positions, dendrites, time]`, weight `w` `[out_channels, channels / groups, kp, kd, kt]`
/// with `dilation` steps between its time taps. Measures the device's costs on first use.
pub fn plan(x: [usize; 5], w: [usize; 5], dilation: usize, device: &Device) -> DendritePlan {
    plan_with(
        DendriteAlgorithm::Auto,
        x,
        w,
        dilation,
        BackendKind::of(device),
        DType::F32,
        PlanCosts::of(device),
    )
}

/// One remembered `Auto` choice.
struct Choice {
    x: [usize; 5],
    w: [usize; 5],
    dilation: usize,
    dtype: DType,
    device: Device,
    algorithm: DendriteAlgorithm,
}

/// The path one call runs, for `requested` on `x`'s shape, device and float type: `Auto`'s
/// choice (planned once per shapes, device and float type, then remembered), or the explicit
/// path. The capture device records the fused loop as the direct path's convolution (the same
/// arithmetic, counted). An explicit path the backend lacks is an error saying why.
pub fn resolve(
    requested: DendriteAlgorithm,
    x: [usize; 5],
    w: [usize; 5],
    dilation: usize,
    device: &Device,
    dtype: DType,
) -> Result<DendriteAlgorithm, String> {
    let backend = BackendKind::of(device);
    let chosen = match requested {
        DendriteAlgorithm::Auto => {
            static CHOICES: Mutex<Vec<Choice>> = Mutex::new(Vec::new());
            let device = device.clone().inner();
            let remembered = CHOICES
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .find(|c| c.x == x && c.w == w && c.dilation == dilation && c.dtype == dtype && c.device == device)
                .map(|c| c.algorithm);
            match remembered {
                Some(algorithm) => algorithm,
                None => {
                    // Planned outside the lock: the first plan on a device measures its costs.
                    let costs = PlanCosts::of(&device);
                    let algorithm = plan_with(requested, x, w, dilation, backend, dtype, costs).algorithm;
                    CHOICES.lock().unwrap_or_else(|e| e.into_inner()).push(Choice {
                        x,
                        w,
                        dilation,
                        dtype,
                        device,
                        algorithm,
                    });
                    algorithm
                }
            }
        }
        explicit => {
            if let Err(why) = availability(explicit, backend, dtype, w) {
                // The FFT of a kernel with no spatial extent is the direct convolution.
                if explicit == DendriteAlgorithm::Fft && backend.has_fft() {
                    return Ok(DendriteAlgorithm::Direct);
                }
                return Err(format!("Dendrites: {why}; use Auto, Direct or Expanded there"));
            }
            explicit
        }
    };
    Ok(match (chosen, backend) {
        (DendriteAlgorithm::Fused, BackendKind::Capture) => DendriteAlgorithm::Direct,
        (path, _) => path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_solve_inverts_a_known_system() {
        let a = vec![vec![2.0, 1.0, 0.0], vec![1.0, 3.0, 1.0], vec![0.0, 1.0, 4.0]];
        let c = [1.0, -2.0, 0.5];
        let t: Vec<f64> = a.iter().map(|r| r.iter().zip(&c).map(|(x, y)| x * y).sum()).collect();
        for (got, want) in solve(a, t).iter().zip(c) {
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
    }

    #[test]
    fn a_costs_file_is_measured_into_once_then_read() {
        let dir = std::env::temp_dir().join(format!("plan-costs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("costs.json");
        let device = Device::flex();
        let first = PlanCosts::from_file_or_measure(&file, &device).unwrap();
        assert!(first.source.contains("kept in"), "{}", first.source);
        // Read back, not measured again: the same figures to the bit.
        let again = PlanCosts::from_file_or_measure(&file, &device).unwrap();
        assert_eq!(again, first);
        // A file someone edited by hand decides the plan.
        let mut edited: BTreeMap<String, PlanCosts> = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        edited.get_mut("flex").unwrap().cores = 7;
        std::fs::write(&file, serde_json::to_vec(&edited).unwrap()).unwrap();
        assert_eq!(PlanCosts::from_file_or_measure(&file, &device).unwrap().cores, 7);
        std::fs::write(&file, b"{ not json").unwrap();
        let e = PlanCosts::from_file_or_measure(&file, &device).unwrap_err();
        assert!(e.contains("costs.json") && e.contains("not a costs file"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_fit_recovers_costs_that_explain_every_time_and_floors_a_free_term() {
        let costs = [2e-6, 5e-9, 1e-10];
        let features = vec![
            vec![1.0, 10.0, 100.0],
            vec![1.0, 1e6, 1e5],
            vec![1.0, 1e4, 1e8],
            vec![1.0, 3e5, 3e7],
            vec![1.0, 2e3, 5e6],
        ];
        let time = |f: &Vec<f64>| f.iter().zip(costs).map(|(n, c)| n * c).sum::<f64>();
        let times: Vec<f64> = features.iter().map(time).collect();
        for (got, want) in fit_costs(&features, &times).iter().zip(costs) {
            assert!((got / want - 1.0).abs() < 1e-6, "{got} vs {want}");
        }
        // Times that a term does not explain (the call is free): it keeps 5 % of its solo share.
        let free: Vec<f64> = features.iter().map(|f| f[1] * costs[1] + f[2] * costs[2]).collect();
        let fitted = fit_costs(&features, &free);
        assert!((fitted[0] - 0.05 * free[0]).abs() < 1e-15, "{fitted:?}");
    }

    #[test]
    fn every_calibration_shape_is_dominated_by_its_own_term_under_the_reference_costs() {
        // Each shape must weigh its own term most (else the solve is ill-conditioned), judged
        // by a machine's real costs: the reference VM's.
        let reference = PlanCosts::reference_vm();
        for path in DendriteAlgorithm::PATHS {
            let costs = reference.paths[path.index()].as_ref().unwrap();
            let shapes = calibration_shapes(path);
            assert!(shapes.len() >= path.terms().len(), "{path:?}");
            for (i, (x, w, dilation)) in shapes.into_iter().enumerate().take(path.terms().len()).skip(1) {
                let (terms, _) = work(path, x, w, dilation, reference.cores);
                let parts: Vec<f64> = terms.iter().zip(costs).map(|(n, c)| n * c).collect();
                let total: f64 = parts.iter().sum();
                assert!(
                    parts[i] > 0.4 * total,
                    "{path:?} shape {i} ({x:?}, {w:?}): its term is {:.0} % of {total:.2e} s ({parts:?})",
                    100.0 * parts[i] / total
                );
            }
        }
    }

    #[test]
    fn auto_takes_the_cheapest_path_the_backend_has_at_the_reference_costs() {
        let purkinje = ([1, 1, 100, 1000, 5], [1, 1, 10, 1000, 5]);
        let granule_population = ([1, 4096, 4, 4, 5], [4096, 1, 3, 4, 5]);
        let granule = ([1, 1, 4, 4, 5], [1, 1, 3, 4, 5]);
        let pyramidal = ([1, 1, 100, 100, 5], [1, 1, 5, 10, 5]);
        // The fit's neuron (fit crate): 16 taps 4 steps apart on a 10 × 5 grid, batch 8.
        let fit_first = ([8, 2, 10, 5, 354], [4, 2, 3, 1, 16]);
        let fit_deeper = ([8, 8, 10, 5, 354], [8, 8, 3, 1, 16]);
        let reference = Arc::new(PlanCosts::reference_vm());
        let at = |(x, w): ([usize; 5], [usize; 5]), dilation, backend| {
            plan_with(
                DendriteAlgorithm::Auto,
                x,
                w,
                dilation,
                backend,
                DType::F32,
                reference.clone(),
            )
        };
        use BackendKind::{Flex, NdArray};
        for (shapes, dilation, backend, want) in [
            (fit_first, 4, Flex, DendriteAlgorithm::Fused),
            (fit_deeper, 4, Flex, DendriteAlgorithm::Fused),
            (fit_deeper, 4, NdArray, DendriteAlgorithm::Direct),
            // 16 channels: the fused loop's planes are long, its multiply-adds scalar.
            (
                ([4, 16, 20, 20, 50], [16, 16, 3, 3, 5]),
                1,
                Flex,
                DendriteAlgorithm::Direct,
            ),
            (fit_first, 1, Flex, DendriteAlgorithm::Fused),
            (fit_first, 4, NdArray, DendriteAlgorithm::Direct),
            (purkinje, 1, Flex, DendriteAlgorithm::Fft),
            (purkinje, 1, NdArray, DendriteAlgorithm::Expanded),
            (granule_population, 1, Flex, DendriteAlgorithm::Fused),
            (granule_population, 1, NdArray, DendriteAlgorithm::Expanded),
            (granule, 1, Flex, DendriteAlgorithm::Fused),
            (pyramidal, 1, Flex, DendriteAlgorithm::Fft),
        ] {
            let p = at(shapes, dilation, backend);
            assert_eq!(p.algorithm, want, "{shapes:?} on {backend:?}: {p}");
            assert!(p.reason().starts_with(&format!("{want:?}: estimated")), "{p}");
        }
        // Dilation leaves the direct and expanded paths' work alone (they skip the zeros) and
        // lengthens the FFT's kernel: 16 taps 4 apart span 61 steps.
        let (dense, dilated) = (at(fit_first, 1, Flex), at(fit_first, 4, Flex));
        assert_eq!(dense.estimates[..2], dilated.estimates[..2]);
        assert_eq!(
            dilated.estimates[0].flops,
            2.0 * (8 * 4 * 10 * 5 * 354 * 2 * 3 * 16) as f64
        );
        let zeros_filled = at((fit_first.0, [4, 2, 3, 1, 61]), 1, Flex);
        assert_eq!(dilated.estimates[2], zeros_filled.estimates[2]);
        assert!(zeros_filled.estimates[0].flops > 3.0 * dilated.estimates[0].flops);
        // The estimates: the Purkinje's direct arithmetic is the essay's 5.0e10; its FFT path is
        // the counted transforms and products (tests/capture.rs counts the same 1.45e8).
        let p = at(purkinje, 1, Flex);
        assert_eq!(p.estimate(DendriteAlgorithm::Direct).flops, 5.0e10);
        let fft = p.estimate(DendriteAlgorithm::Fft).flops;
        assert!((fft / 1.453e8 - 1.0).abs() < 0.01, "{fft}");
        assert!(at(purkinje, 1, NdArray).reason().contains("Fft unavailable on ndarray"));
    }

    #[test]
    fn an_explicit_path_is_taken_as_given_or_refused_with_the_reason() {
        let device = Device::flex();
        let (x, w) = ([1, 1, 100, 1000, 5], [1, 1, 10, 1000, 5]);
        let d = super::super::DendritesConfig::new(100, 1000, [10, 1000, 5])
            .with_algorithm(DendriteAlgorithm::Expanded)
            .init(&device);
        let p = d.plan(1, 5, &device);
        assert_eq!(
            (p.algorithm, p.requested),
            (DendriteAlgorithm::Expanded, DendriteAlgorithm::Expanded)
        );
        assert!(p.reason().starts_with("Expanded: set in the config"), "{p}");
        assert_eq!(d.path(1, 5, &device), Ok(DendriteAlgorithm::Expanded));
        let direct = resolve(DendriteAlgorithm::Direct, x, w, 1, &device, DType::F32);
        assert_eq!(direct, Ok(DendriteAlgorithm::Direct));
        // The FFT of a kernel one tap wide in space is the direct convolution.
        let flat = resolve(DendriteAlgorithm::Fft, x, [1, 1, 1, 1, 5], 1, &device, DType::F32);
        assert_eq!(flat, Ok(DendriteAlgorithm::Direct));
        // The fused loop runs on f32 and f64 only.
        let half = resolve(DendriteAlgorithm::Fused, x, w, 1, &device, DType::F16).unwrap_err();
        assert!(
            half.contains("runs on flex with f32 or f64 tensors, not on flex with F16"),
            "{half}"
        );
    }
}
