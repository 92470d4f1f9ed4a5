//! Dendrites: charge diffusing along the dendritic tree over time, a spatio-temporal convolution.
//!
//! Essay, Part II ("estimating the cerebellar filter size"): synapses sit along branches of
//! dendrites; with 3 branches on each of 4 dendrites and 5 time steps "we have a 3×4×5
//! spatio-temporal convolution filter for cerebellar granule neurons ... for Purkinje neurons a
//! similar estimate would be about 10×1000×5". The same paragraph notes that this is
//! mathematically the model of particles diffusing from several sources (feature maps).
//!
//! Layout: the `sites = channels × positions × dendrites` synaptic sites (row-major, channel
//! slowest) are laid onto a `[channels, positions, dendrites]` grid; channels are transmitter
//! types. The convolution is `same` in both spatial axes and causal in time: no output depends
//! on a later input.
//!
//! A layer of `neurons` cells is a grouped convolution (one group per cell): the weight has a
//! leading neuron axis and tensors are neuron-major along the channel axis.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::module::conv3d;
use burn::tensor::ops::{ConvOptions, PadMode};
use burn::tensor::{Device, Tensor};

use crate::error::{ConfigError, ShapeError, check_nonzero, expect_shape, expect_valid};
use crate::fused_conv::{fused_dendrite_conv, fused_supported};

const NAME: &str = "Dendrites";

/// How [`Dendrites`] executes its convolution. Every choice computes the same function, with the
/// same gradients, to float tolerance.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum DendriteAlgorithm {
    /// The path [`plan`] estimates fastest for the shapes and backend: each path's time from
    /// its counted work and flex's measured costs (docs/benchmarks.md, "Choosing a path").
    /// On flex, small kernels (a granule cell, a population of them, one-channel temporal
    /// kernels) take the fused loop; the Purkinje and pyramidal trees the FFT; many channels the
    /// direct convolution. Elsewhere small kernels on small grids take the expanded GEMM.
    Auto,
    /// Burn's `conv3d` on the explicitly padded input: for dendrite kernels much narrower than
    /// the tree, where the expanded form would multiply mostly zeros.
    Direct,
    /// The dendrite axis becomes channels: a `[D_out, taps × D_in]` weight, each output dendrite
    /// seeing the kernel shifted along the input dendrites ([`expand_dendrite_weight`]), times
    /// the im2col of the input over positions × time. One large GEMM instead of a 1000-wide
    /// stencil (the Purkinje cell); same multiply-adds as `Direct` when `kd = dendrites`.
    Expanded,
    /// Through the Fourier transform (`burn::signal`): input and kernel are zero-padded to
    /// power-of-two lengths that rule out wrap-around, transformed along every axis the kernel
    /// spans, multiplied (one complex product per frequency, input channel and output channel),
    /// and transformed back: O(N log N) instead of the kernel's size per output. The kernel's
    /// spectrum is computed in every forward (no cache: the weight may change between calls).
    /// Flex and wgpu have the transforms; ndarray has none ([`fft_supported`]). flex's transforms
    /// are f32-accurate even on f64 tensors (its twiddle tables are f32): about 1e-7 relative.
    Fft,
    /// One loop over the kernel's taps reading the unpadded input in place, forward and
    /// backward ([`crate::fused_conv`], a backend extension): no padded copy, no im2col, no
    /// per-group setup. For the small grouped kernels of a population. Runs on flex (f32,
    /// f64); the capture device records it as `Direct` (the same convolution, for counting);
    /// elsewhere choosing it is an error.
    Fused,
}

impl DendriteAlgorithm {
    /// The concrete algorithm (never `Auto`) for input `x` `[batch, channels, positions,
    /// dendrites, time]` and weight `w` `[out_channels, channels / groups, kp, kd, kt]` with
    /// `dilation` steps between the time taps on `device`.
    pub fn resolve(self, x: [usize; 5], w: [usize; 5], dilation: usize, device: &Device) -> Self {
        match self {
            Self::Auto => plan(x, w, dilation, crate::backend::Backend::of(device)).algorithm,
            other => other,
        }
    }
}

/// One path's estimated cost for one convolution call.
#[derive(Debug, Clone, PartialEq)]
pub struct PathEstimate {
    /// The path.
    pub algorithm: DendriteAlgorithm,
    /// Its arithmetic, FLOPs (multiply-adds × 2; the FFT path's transforms and products).
    pub flops: f64,
    /// Estimated seconds on flex (calibrated: docs/benchmarks.md, "Choosing a path").
    pub seconds: f64,
    /// Whether the backend can run it (ndarray has no FFT).
    pub available: bool,
}

/// Which path `Auto` takes for a convolution, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct DendritePlan {
    /// The path taken.
    pub algorithm: DendriteAlgorithm,
    /// Why, in words.
    pub reason: String,
    /// Every path's estimate.
    pub estimates: Vec<PathEstimate>,
}

/// Flex's measured costs (2 cores; docs/benchmarks.md): a strided copy of one element (the
/// im2col of the expanded path, its weight), the GEMM rate, burn's conv3d (per kernel tap read
/// for one output, and per multiply-add, on one core; it runs tiles of 512 outputs in parallel),
/// the real FFT's rate and its cost per transformed line, one element of an elementwise op
/// on the spectra, and the fused loop's costs per run and per multiply-add (per core; in its
/// lane layout, per multiply-add and per element re-laid out).
mod flex_costs {
    pub const COPY: f64 = 13e-9;
    pub const WEIGHT_COPY: f64 = 7e-9;
    pub const GEMM: f64 = 80e9;
    pub const CONV3D_TAP: f64 = 9.7e-9;
    pub const CONV3D_MAC: f64 = 0.2e-9;
    pub const CONV3D_TILE: usize = 512;
    pub const CORES: usize = 2;
    pub const FFT: f64 = 3.4e9;
    pub const FFT_LINE: f64 = 240e-9;
    pub const SPECTRAL_OP: f64 = 1e-9;
    pub const FUSED_ROW: f64 = 9e-9;
    pub const FUSED_MAC: f64 = 0.3e-9;
    pub const LANE_MAC: f64 = 0.5e-9;
    pub const LANE_COPY: f64 = 4e-9;
}

/// Runs (one tap over one row of outputs) and multiply-adds of the fused path, forward: only
/// the outputs whose input lies in the grid ([`crate::fused_conv::Geometry::rows`], in closed form).
fn fused_work(x: [usize; 5], w: [usize; 5], dilation: usize) -> (f64, f64) {
    let [b, _, p, d, t] = x;
    let [co, cg, kp, kd, kt] = w;
    let inside = |k: usize, n: usize| -> f64 {
        let pad = same_padding(k).0;
        (0..k)
            .map(|i| (n + pad).saturating_sub(i).min(n).saturating_sub(pad.saturating_sub(i)))
            .sum::<usize>() as f64
    };
    let lags = (0..kt).map(|l| l * dilation.max(1)).filter(|&lag| lag < t);
    let (steps, macs_per_row) = (
        lags.clone().count() as f64,
        lags.map(|lag| t - lag).sum::<usize>() as f64,
    );
    let rows = (b * co * cg) as f64 * inside(kp, p) * inside(kd, d);
    (rows * steps, rows * macs_per_row)
}

/// FLOPs, transformed lines and spectral elements of [`fft_conv`] on these shapes (its order of
/// transforms, the counter's 2.5·N·log₂N per line).
fn fft_work(x: [usize; 5], w: [usize; 5]) -> (f64, f64, f64) {
    let [b, channels, p, d, t] = x;
    let [co, cg, kp, kd, kt] = w;
    let fold = t <= FFT_FOLD_TIME;
    let mut axes: Vec<(usize, usize, usize)> = [(p, kp), (d, kd), (t, kt)]
        .into_iter()
        .enumerate()
        .filter(|&(a, (_, k))| k > 1 && !(a == 2 && fold))
        .map(|(a, (n, k))| (a, n, fft_length(n, k)))
        .collect();
    if axes.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let per_line = |len: usize| 2.5 * len as f64 * (len as f64).log2();
    let (mut flops, mut lines) = (0.0, 0.0);
    // Forward transforms of a real tensor of `shape` times `count`: rfft along the last axis
    // listed, then two rffts (a complex transform) along each other one. Returns the spectrum's shape.
    let mut transform = |mut shape: [usize; 3], count: f64| {
        let (&(last, _, len), rest) = axes.split_last().expect("axes");
        let l = count * shape.iter().product::<usize>() as f64 / shape[last] as f64;
        flops += l * per_line(len);
        lines += l;
        shape[last] = len / 2 + 1;
        for &(a, _, len) in rest {
            let l = 2.0 * count * shape.iter().product::<usize>() as f64 / shape[a] as f64;
            flops += l * per_line(len);
            lines += l;
            shape[a] = len + 2; // complex_fft's folded bins
        }
        shape
    };
    let xs = transform([p, d, t], (b * channels) as f64);
    let _ = transform([kp, kd, kt], (co * cg) as f64);
    // Products, as fft_conv computes them: 6 real ops per complex product, 2 per complex sum
    // over input channels, and (time folded) 2 per accumulated tap.
    let spectral = (b * co) as f64 * xs.iter().product::<usize>() as f64; // per step when folded
    let per_product = if cg > 1 { 8.0 } else { 6.0 } * cg as f64;
    let (products, taps) = if fold {
        let taps = kt.min(t);
        let bins = spectral / t as f64;
        let pairs: usize = (0..taps).map(|s| t - s).sum();
        (
            per_product * pairs as f64 * bins + 2.0 * (taps - 1) as f64 * spectral,
            taps as f64,
        )
    } else {
        (per_product * spectral, 1.0)
    };
    flops += products;
    // The inverse: complex axes (each unwrapped to its outputs), then the real one.
    let (&(last, _, last_len), rest) = axes.split_last().expect("axes");
    let mut ys = xs;
    for &(a, n, len) in rest {
        let l = 2.0 * (b * co) as f64 * ys.iter().product::<usize>() as f64 / ys[a] as f64;
        flops += l * per_line(len);
        lines += l;
        ys[a] = n;
    }
    let l = (b * co) as f64 * ys.iter().product::<usize>() as f64 / ys[last] as f64;
    flops += l * per_line(last_len);
    lines += l;
    axes.clear();
    (flops, lines, spectral * cg as f64 * taps)
}

/// The plan for one call (weight `w` with `dilation` steps between its time taps): each path's
/// estimate on flex, the cheapest available taken. The direct and expanded paths touch only the
/// kernel's real taps; the FFT transforms the dilated kernel, zeros included.
pub fn plan(x: [usize; 5], w: [usize; 5], dilation: usize, backend: crate::backend::Backend) -> DendritePlan {
    use crate::backend::Backend;
    use flex_costs::*;
    let [b, channels, p, d, t] = x;
    let [co, cg, kp, kd, kt] = w;
    let groups = channels / cg;
    let outputs = (b * co * p * d * t) as f64;
    let direct_macs = outputs * (cg * kp * kd * kt) as f64;
    // conv3d reads each kernel tap once per output site and group (all of a group's channels
    // at once), and runs (batch, tile of 512 sites) pairs in parallel.
    let direct_taps = (b * groups * p * d * t * kp * kd * kt) as f64;
    let direct_parallel = (b * (p * d * t).div_ceil(CONV3D_TILE)).min(CORES) as f64;
    let expanded_macs = outputs * (cg * kp * kt * d) as f64;
    let cols = (b * groups * cg * kp * kt * d * p * t) as f64;
    let expanded_weight = (co * d * cg * kp * kt * d) as f64;
    let (fft_flops, fft_lines, spectral) = fft_work(x, dilated_shape(w, dilation));
    let (fused_rows, fused_macs) = fused_work(x, w, dilation);
    let fused_seconds = if cg == 1 && co == groups && groups > 1 {
        // The lane layout (a population of one-channel kernels): a run serves a block of up to
        // 256 neurons at once; the input, output and weight are re-laid out around it.
        let blocks = (b * groups.div_ceil(256)) as f64;
        let moved = (2 * b * channels * p * d * t + co * kp * kd * kt) as f64;
        (FUSED_ROW * fused_rows / groups as f64 * blocks + LANE_MAC * fused_macs) / blocks.min(CORES as f64)
            + LANE_COPY * moved
    } else {
        (FUSED_ROW * fused_rows + FUSED_MAC * fused_macs) / (b * co).clamp(1, CORES) as f64
    };
    let estimates = vec![
        PathEstimate {
            algorithm: DendriteAlgorithm::Direct,
            flops: 2.0 * direct_macs,
            seconds: (CONV3D_TAP * direct_taps + CONV3D_MAC * direct_macs) / direct_parallel,
            available: true,
        },
        PathEstimate {
            algorithm: DendriteAlgorithm::Expanded,
            flops: 2.0 * expanded_macs,
            seconds: COPY * cols + WEIGHT_COPY * expanded_weight + 2.0 * expanded_macs / GEMM,
            available: true,
        },
        PathEstimate {
            algorithm: DendriteAlgorithm::Fft,
            flops: fft_flops,
            seconds: 2.0 * fft_flops / FFT + FFT_LINE * fft_lines + 10.0 * SPECTRAL_OP * spectral,
            available: backend.has_fft() && (kp > 1 || kd > 1),
        },
        PathEstimate {
            algorithm: DendriteAlgorithm::Fused,
            flops: 2.0 * fused_macs,
            seconds: fused_seconds,
            // The capture device records what flex runs; there the fused loop is recorded as the
            // direct path's convolution, the same arithmetic (`dendrite_conv`).
            available: matches!(backend, Backend::Flex | Backend::Capture),
        },
    ];
    let best = estimates
        .iter()
        .filter(|e| e.available)
        .min_by(|a, b| a.seconds.total_cmp(&b.seconds))
        .expect("direct is always available");
    let others: Vec<String> = estimates
        .iter()
        .filter(|e| e.algorithm != best.algorithm)
        .map(|e| {
            if e.available {
                format!("{:?} {:.2e} s", e.algorithm, e.seconds)
            } else {
                format!("{:?} unavailable on {}", e.algorithm, backend.name())
            }
        })
        .collect();
    DendritePlan {
        algorithm: best.algorithm,
        reason: format!(
            "{:?}: estimated {:.2e} s ({:.2e} FLOPs) on flex's measured costs; {}",
            best.algorithm,
            best.seconds,
            best.flops,
            others.join(", ")
        ),
        estimates,
    }
}

/// Configuration of [`Dendrites`].
#[derive(Config, Debug)]
pub struct DendritesConfig {
    /// Positions (synapse sites) along each dendrite: the first spatial axis.
    pub positions: usize,
    /// Number of dendrites: the second spatial axis.
    pub dendrites: usize,
    /// Kernel `[positions, dendrites, time]` (the essay: 3×4×5 granule, 10×1000×5 Purkinje).
    pub kernel: [usize; 3],
    /// Transmitter types (input channels). Default 1.
    #[config(default = 1)]
    pub channels: usize,
    /// Output channels (potential maps). Default 1.
    #[config(default = 1)]
    pub out_channels: usize,
    /// Neurons in the layer, each with its own kernel (a grouped convolution). Default 1.
    #[config(default = 1)]
    pub neurons: usize,
    /// Steps between the kernel's time taps: it spans `(kernel[2] − 1)·dilation + 1` steps with
    /// `kernel[2]` weights (a long memory, such as NMDA's 70 ms, at a small cost). Default 1.
    #[config(default = 1)]
    pub dilation: usize,
    /// Adds a learnable offset per output channel. Default `false` (a passive cable has none).
    #[config(default = false)]
    pub bias: bool,
    /// Execution strategy. Default [`DendriteAlgorithm::Auto`].
    #[config(default = "DendriteAlgorithm::Auto")]
    pub algorithm: DendriteAlgorithm,
    /// Weight initialiser. Default: Kaiming uniform, as burn's `Conv3d`.
    #[config(default = "Initializer::KaimingUniform{gain:1.0/num_traits::Float::sqrt(3.0),fan_out_only:false}")]
    pub initializer: Initializer,
}

/// The dendritic tree: layout of synaptic sites onto a grid, then a spatio-temporal convolution.
#[derive(Module, Debug)]
pub struct Dendrites {
    /// `[neurons, out_channels, channels, kp, kd, kt]`.
    pub weight: Param<Tensor<6>>,
    /// `[neurons, out_channels]`, if configured.
    pub bias: Option<Param<Tensor<2>>>,
    /// Transmitter types.
    pub channels: usize,
    /// Positions per dendrite.
    pub positions: usize,
    /// Number of dendrites.
    pub dendrites: usize,
    /// Steps between time taps.
    pub dilation: usize,
    /// Execution strategy as configured (may be `Auto`).
    #[module(skip)]
    pub algorithm: DendriteAlgorithm,
}

impl DendritesConfig {
    /// Number of synaptic sites the layout expects: channels × positions × dendrites.
    pub fn sites(&self) -> usize {
        self.channels * self.positions * self.dendrites
    }

    /// Checks sizes; a kernel wider than the grid is rejected (its outer taps could only ever
    /// see padding).
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_nonzero(NAME, "positions", self.positions)?;
        check_nonzero(NAME, "dendrites", self.dendrites)?;
        check_nonzero(NAME, "channels", self.channels)?;
        check_nonzero(NAME, "out_channels", self.out_channels)?;
        check_nonzero(NAME, "neurons", self.neurons)?;
        check_nonzero(NAME, "dilation", self.dilation)?;
        for (i, axis) in ["kernel[0] (positions)", "kernel[1] (dendrites)", "kernel[2] (time)"]
            .iter()
            .enumerate()
        {
            check_nonzero(NAME, axis, self.kernel[i])?;
        }
        for (k, n, axis) in [
            (self.kernel[0], self.positions, "positions"),
            (self.kernel[1], self.dendrites, "dendrites"),
        ] {
            if k > n {
                return Err(ConfigError::Inconsistent {
                    module: NAME,
                    message: format!("kernel of {k} along {axis} is larger than the {n} {axis} of the layout"),
                });
            }
        }
        Ok(())
    }

    /// Number of trainable parameters this config creates.
    pub fn num_params(&self) -> usize {
        self.neurons
            * (self.out_channels * self.channels * self.kernel.iter().product::<usize>()
                + if self.bias { self.out_channels } else { 0 })
    }

    /// Builds the module. Panics with the `validate()` message on an invalid config.
    pub fn init(&self, device: &Device) -> Dendrites {
        expect_valid(self.validate());
        let [kp, kd, kt] = self.kernel;
        let fan_in = self.channels * kp * kd * kt;
        let fan_out = self.out_channels * kp * kd * kt;
        let n = self.neurons;
        Dendrites {
            weight: self.initializer.init_with(
                [n, self.out_channels, self.channels, kp, kd, kt],
                Some(fan_in),
                Some(fan_out),
                device,
            ),
            bias: self.bias.then(|| {
                self.initializer
                    .init_with([n, self.out_channels], Some(fan_in), Some(fan_out), device)
            }),
            channels: self.channels,
            positions: self.positions,
            dendrites: self.dendrites,
            dilation: self.dilation,
            algorithm: self.algorithm,
        }
    }
}

impl Dendrites {
    /// Number of synaptic sites of each neuron: channels × positions × dendrites.
    pub fn sites(&self) -> usize {
        self.channels * self.positions * self.dendrites
    }

    /// Number of neurons in the layer.
    pub fn neurons(&self) -> usize {
        self.weight.dims()[0]
    }

    /// The path this module takes for `batch` samples of `time` steps on `device`, and why
    /// (`Auto` estimates each; an explicit algorithm is taken as given).
    pub fn plan(&self, batch: usize, time: usize, device: &Device) -> DendritePlan {
        let [n, co, ci, kp, kd, kt] = self.weight.dims();
        let x = [batch, n * ci, self.positions, self.dendrites, time];
        let w = [n * co, ci, kp, kd, kt];
        let backend = crate::backend::Backend::of(device);
        match self.algorithm {
            DendriteAlgorithm::Auto => plan(x, w, self.dilation, backend),
            chosen => DendritePlan {
                algorithm: chosen,
                reason: format!("{chosen:?}: set in the config"),
                estimates: plan(x, w, self.dilation, backend).estimates,
            },
        }
    }

    /// Synaptic drive to dendritic potential.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, neurons · sites, time]`, each neuron's sites ordered (channel, position,
    ///   dendrite)
    /// - output: `[batch, neurons · out_channels, positions, dendrites, time]`
    ///
    /// # Panics
    ///
    /// If the site axis is not neurons × channels × positions × dendrites.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<5> {
        expect_shape(self.try_forward(x))
    }

    /// [`Dendrites::forward`] returning a wrong input shape as an error.
    pub fn try_forward(&self, x: Tensor<3>) -> Result<Tensor<5>, ShapeError> {
        let [batch, sites, time] = x.dims();
        let n = self.neurons();
        if sites != n * self.sites() {
            let per = format!(
                "{} channels × {} positions × {} dendrites",
                self.channels, self.positions, self.dendrites
            );
            let per = if n == 1 { per } else { format!("{n} neurons × {per}") };
            return Err(ShapeError::new(
                NAME,
                format!("[batch, {} (= {per}), time]", n * self.sites()),
                &[batch, sites, time],
            ));
        }
        Ok(self.forward_grid(x.reshape([batch, n * self.channels, self.positions, self.dendrites, time])))
    }

    /// The convolution alone, on input already laid onto the grid.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, neurons · channels, positions, dendrites, time]`
    /// - output: `[batch, neurons · out_channels, positions, dendrites, time]`
    pub fn forward_grid(&self, x: Tensor<5>) -> Tensor<5> {
        let dims = x.dims();
        let n = self.neurons();
        if dims[1..4] != [n * self.channels, self.positions, self.dendrites] {
            panic!(
                "{}",
                ShapeError::new(
                    NAME,
                    format!(
                        "[batch, {}, {}, {}, time]",
                        n * self.channels,
                        self.positions,
                        self.dendrites
                    ),
                    &dims
                )
            );
        }
        let [_, co, ci, kp, kd, kt] = self.weight.dims();
        dendrite_conv(
            x,
            self.weight.val().reshape([n * co, ci, kp, kd, kt]),
            self.bias.as_ref().map(|b| b.val().reshape([n * co])),
            self.dilation,
            self.algorithm,
        )
    }
}

/// `same` padding of a kernel of width `k`: `(before, after)`, the extra tap after for even `k`.
pub fn same_padding(k: usize) -> (usize, usize) {
    let before = (k - 1) / 2;
    (before, k - 1 - before)
}

/// The dendrite convolution: `same` in positions and dendrites, causal in time, with time taps
/// `dilation` steps apart.
///
/// `y[b,o,p,d,t] = bias[o] + Σ_{c,i,j,l} w[o,c,i,j,l] · x[b, c, p+i−pp, d+j−pd, t−(kt−1−l)·δ]`
/// with zeros outside the grid and before time 0 (`pp`, `pd` from [`same_padding`], `δ` the
/// dilation): the kernel spans `(kt − 1)·δ + 1` steps with `kt` weights.
///
/// # Shapes
///
/// - x: `[batch, channels, positions, dendrites, time]`
/// - weight: `[out_channels, channels / groups, kp, kd, kt]`: with `groups > 1` (as in torch)
///   the channels split into independent groups, one per neuron of a population
/// - output: `[batch, out_channels, positions, dendrites, time]`
pub fn dendrite_conv(
    x: Tensor<5>,
    weight: Tensor<5>,
    bias: Option<Tensor<1>>,
    dilation: usize,
    algorithm: DendriteAlgorithm,
) -> Tensor<5> {
    let mut resolved = algorithm.resolve(x.dims(), weight.dims(), dilation, &x.device());
    if resolved == DendriteAlgorithm::Fused && !fused_supported(&x) {
        let backend = crate::backend::Backend::of(&x.device());
        if algorithm != DendriteAlgorithm::Auto && backend != crate::backend::Backend::Capture {
            panic!(
                "{NAME}: the Fused algorithm runs on flex with f32 or f64 tensors, not on {} with {:?}; \
                 use Auto, Direct or Expanded there",
                backend.name(),
                x.dtype()
            );
        }
        // The capture device records the same convolution through burn's conv3d (so a model
        // configured for flex's loop is counted), as does Auto where the loop cannot run.
        resolved = DendriteAlgorithm::Direct;
    }
    if dilation > 1 && resolved == DendriteAlgorithm::Fft {
        // The FFT sees the dilated kernel itself, zeros between the taps.
        return dendrite_conv(x, dilate_time(weight, dilation), bias, 1, DendriteAlgorithm::Fft);
    }
    let [out_channels, group_channels, kp, kd, kt] = weight.dims();
    let reach = (kt - 1) * dilation; // steps back the kernel sees
    let [batch, channels, positions, dendrites, time] = x.dims();
    // As torch: the input's channels are `groups` × the weight's (a population's neurons).
    let groups = channels / group_channels;
    let (pp, pd) = (same_padding(kp), same_padding(kd));
    let device = x.device();
    match resolved {
        DendriteAlgorithm::Expanded => {
            // Columns (im2col): cols[b, g, (c, i, l, e), (p, t)] = xpad[b, (g, c), p+i, e, t+l·δ].
            let xpad = x
                .pad([(pp.0, pp.1), (0, 0), (reach, 0)], PadMode::Constant(0.0))
                .swap_dims(2, 3);
            let taps: Vec<Tensor<6>> = (0..kp)
                .flat_map(|i| (0..kt).map(move |l| (i, l)))
                .map(|(i, l)| {
                    xpad.clone()
                        .narrow(3, i, positions)
                        .narrow(4, l * dilation, time)
                        .unsqueeze_dim(2)
                })
                .collect();
            let k = group_channels * kp * kt * dendrites;
            let cols = Tensor::cat(taps, 2).reshape([batch, groups, k, positions * time]);
            let w =
                expand_dendrite_weight(weight, dendrites).reshape([1, groups, out_channels / groups * dendrites, k]);
            let y = w
                .matmul(cols)
                .reshape([batch, out_channels * dendrites, positions * time]);
            let y = match bias {
                Some(b) => {
                    y + b
                        .reshape([1, out_channels, 1])
                        .expand([1, out_channels, dendrites])
                        .reshape([1, out_channels * dendrites, 1])
                }
                None => y,
            };
            // Rows came out in reverse dendrite order (see expand_dendrite_weight). The merge of
            // the swapped axes makes the result contiguous, as the direct path's is: burn-wgpu
            // 0.22.1 sums a size-1 axis of a swapped view wrongly (docs/benchmarks.md, GPU), and
            // every caller reduces over channels next. The copy is of the (small) output.
            y.reshape([batch, out_channels, dendrites, positions, time])
                .flip([2])
                .swap_dims(2, 3)
                .reshape([batch, out_channels, positions * dendrites, time])
                .reshape([batch, out_channels, positions, dendrites, time])
        }
        DendriteAlgorithm::Fft => {
            let backend = crate::backend::Backend::of(&device);
            if !backend.has_fft() {
                panic!(
                    "{NAME}: the Fft algorithm needs Fourier transforms, which {} does not have; \
                     use Auto, Direct or Expanded there",
                    backend.name()
                );
            }
            fft_conv(x, weight, bias)
        }
        DendriteAlgorithm::Fused => {
            let y = fused_dendrite_conv(x, weight, dilation);
            match bias {
                Some(b) => y + b.reshape([1, out_channels, 1, 1, 1]),
                None => y,
            }
        }
        DendriteAlgorithm::Direct | DendriteAlgorithm::Auto => {
            let x = x.pad([(pp.0, pp.1), (pd.0, pd.1), (reach, 0)], PadMode::Constant(0.0));
            conv3d(
                x,
                weight,
                bias,
                ConvOptions::new([1, 1, 1], [0, 0, 0], [1, 1, dilation], groups),
            )
        }
    }
}

/// The weight shape a dilated kernel occupies: `(kt − 1)·dilation + 1` steps.
fn dilated_shape([o, c, kp, kd, kt]: [usize; 5], dilation: usize) -> [usize; 5] {
    [o, c, kp, kd, (kt - 1) * dilation + 1]
}

/// The kernel with `dilation − 1` zeros between its time taps: `[.., kt]` → `[.., (kt − 1)·δ + 1]`.
pub fn dilate_time(weight: Tensor<5>, dilation: usize) -> Tensor<5> {
    let [o, c, kp, kd, kt] = weight.dims();
    weight
        .unsqueeze_dim::<6>(5)
        .pad([(0, 0), (0, dilation - 1)], PadMode::Constant(0.0))
        .reshape([o, c, kp, kd, kt * dilation])
        .narrow(4, 0, (kt - 1) * dilation + 1)
}

/// A complex tensor as its real and imaginary parts.
type Complex<const D: usize> = (Tensor<D>, Tensor<D>);

/// The transform length along an axis of `n` samples and a kernel of `k` taps: the power of two
/// at or above `n + k − 1` (no wrap-around can reach an output), or `n` where `k = 1` (that axis
/// is not transformed: a one-tap kernel is a product along it).
pub fn fft_length(n: usize, k: usize) -> usize {
    if k == 1 { n } else { (n + k - 1).next_power_of_two() }
}

/// The complex FFT of `re + i·im` along `axis`, zero-padded to `n` (a power of two ≥ 2), from
/// two real FFTs, as `n + 2` bins in a folded order: bins `k = 0 ..= n/2`, then bins `−k` for
/// the same `k`. With `X`, `Y` the half spectra of the parts, `Z[k] = X[k] + iY[k]` and
/// `Z[−k] = conj(X[k]) + i·conj(Y[k])`, so no bin is mirrored (burn's `cfft` extends both half
/// spectra to full length first; flipping them cost more than the transforms). Bins `0` and
/// `n/2` appear twice. Pointwise products do not care about the order;
/// [`inverse_correlation`] reads it.
fn complex_fft<const D: usize>(re: Tensor<D>, im: Tensor<D>, axis: usize, n: usize) -> Complex<D> {
    let (xr, xi) = burn::signal::rfft(re, axis, Some(n));
    let (yr, yi) = burn::signal::rfft(im, axis, Some(n));
    let low = (xr.clone() - yi.clone(), xi.clone() + yr.clone());
    let high = (xr + yi, yr - xi);
    (
        Tensor::cat(vec![low.0, high.0], axis),
        Tensor::cat(vec![low.1, high.1], axis),
    )
}

/// The spectrum of a real tensor along `axes` (tensor dimension, transform length, zeros put
/// before the samples), zero-padded to those lengths: a real FFT along the last axis listed, then
/// complex FFTs (in [`complex_fft`]'s folded order) along the others, each long transformed axis
/// swapped to the tensor's last place first ([`transform_place`]; the leading zeros go in with
/// the same copy). The spectrum keeps the swapped layout (pointwise products do not care, as
/// long as both operands share it); [`inverse_correlation`] swaps back.
fn spectrum<const D: usize>(v: Tensor<D>, axes: &[(usize, usize, usize)]) -> Complex<D> {
    let delayed = |v: Tensor<D>, a: usize, len: usize, zeros: usize| {
        let at = transform_place::<D>(a, len);
        let v = v.swap_dims(a, at);
        if zeros == 0 {
            return v;
        }
        let mut pads = [(0, 0); D];
        pads[at] = (zeros, 0);
        v.pad(pads, PadMode::Constant(0.0))
    };
    let (&(last, n, zeros), rest) = axes.split_last().expect("at least one axis");
    let at = transform_place::<D>(last, n);
    let (mut re, mut im) = burn::signal::rfft(delayed(v, last, n, zeros), at, Some(n));
    for &(a, n, zeros) in rest {
        let at = transform_place::<D>(a, n);
        (re, im) = complex_fft(delayed(re, a, n, zeros), delayed(im, a, n, zeros), at, n);
    }
    (re, im)
}

/// Where [`spectrum`] transforms axis `a` of length `len`: in the last place from
/// [`FFT_CONTIGUOUS_LEN`] up (the swap's copy costs less than strided fibres), in place below.
fn transform_place<const D: usize>(a: usize, len: usize) -> usize {
    if len >= FFT_CONTIGUOUS_LEN { D - 1 } else { a }
}

/// Transforms at least this long run on contiguous fibres (see [`spectrum`]). Measured on flex:
/// for the Purkinje grid's 128-sample position transforms (stride 1025) it is within noise on
/// its own (their cost is per-fibre overhead more than the stride); for the fit's 16-sample ones
/// it made the path 60 % slower (the swap's copies), so only long axes move.
const FFT_CONTIGUOUS_LEN: usize = 64;

/// The inverse of [`spectrum`] for a circular cross-correlation, times 2 per complex axis (the
/// caller folds the halves into the kernel), cut to the first `n` outputs along each axis
/// (`axes`: dimension, transform length, outputs). Along a complex axis the spectrum `S` splits
/// into two Hermitian parts, `2A = S[k] + conj(S[−k])` and `2B = (S[k] − conj(S[−k]))/i`, whose
/// inverses are real: `2·IFFT(S) = irfft(2A) + i·irfft(2B)`, two real inverse transforms on the
/// folded bins as they are. The complex axes are inverted in the reverse order of [`spectrum`],
/// each where it was transformed, cut and swapped back, so the real inverse along the last axis
/// transforms only the kept rows.
fn inverse_correlation<const D: usize>((mut re, mut im): Complex<D>, axes: &[(usize, usize, usize)]) -> Tensor<D> {
    let (&(last, len_last, n_last), rest) = axes.split_last().expect("at least one axis");
    for &(a, len, n) in rest.iter().rev() {
        let at = transform_place::<D>(a, len);
        let half = len / 2 + 1;
        let (low_re, high_re) = (re.clone().narrow(at, 0, half), re.narrow(at, half, half));
        let (low_im, high_im) = (im.clone().narrow(at, 0, half), im.narrow(at, half, half));
        let (a_re, a_im) = (low_re.clone() + high_re.clone(), low_im.clone() - high_im.clone());
        let (b_re, b_im) = (low_im + high_im, high_re - low_re);
        let inverse = |r, i| {
            burn::signal::irfft(r, i, at, Some(len))
                .narrow(at, 0, n)
                .swap_dims(a, at)
        };
        re = inverse(a_re, a_im);
        im = inverse(b_re, b_im);
    }
    let at = transform_place::<D>(last, len_last);
    burn::signal::irfft(re, im, at, Some(len_last))
        .narrow(at, 0, n_last)
        .swap_dims(last, at)
}

/// The transformed `axes` (dimension, length, outputs) of [`fft_conv`], each with the zeros its
/// input is delayed by: `before[a − first]` for dimension `a` (the taps reaching back).
fn delayed(axes: &[(usize, usize, usize)], before: &[usize], first: usize) -> Vec<(usize, usize, usize)> {
    axes.iter().map(|&(a, len, _)| (a, len, before[a - first])).collect()
}

/// The kernel times ½ per complex axis of a spectrum over `axes` axes: [`inverse_correlation`]
/// returns twice the correlation per complex axis, and the kernel is the smallest tensor to fix.
fn halved(weight: Tensor<5>, axes: usize) -> Tensor<5> {
    if axes > 1 {
        weight * 0.5f64.powi(axes as i32 - 1)
    } else {
        weight
    }
}

/// Time windows up to this many steps are not transformed by [`fft_conv`]: time becomes a
/// channel axis (each output step a causal combination of the input steps in the spectral
/// domain), which avoids padding a short window to `npot(T + kt − 1)` (5 steps to 16).
pub const FFT_FOLD_TIME: usize = 16;

/// [`dendrite_conv`] through the Fourier transform ([`DendriteAlgorithm::Fft`]).
///
/// Per spatial axis with `k > 1` taps, `n` samples and `before` of them reaching back (`same`
/// padding), the input is delayed by `before` zeros, both signals are zero-padded to
/// [`fft_length`] `L`, and `y[u] = Σ_j w[j]·x[u + j − before] = c[u]` for the first `n` entries
/// of the circular cross-correlation `c = IFFT(FFT(x) · conj(FFT(w)))` of the delayed input;
/// `L ≥ n + k − 1` keeps them free of wrap-around. Time is transformed the same way (causal:
/// `before = kt − 1`) unless the window is at most [`FFT_FOLD_TIME`] steps: then output step `t`
/// sums `conj(FFT(w))[t' − t + kt − 1]` times the input's spectrum at step `t' ≤ t`. The spectral products are counted by flop-count
/// as arithmetic (6 FLOPs per complex product, 2 per complex addition) under every convention.
///
/// # Shapes
///
/// As [`dendrite_conv`].
pub fn fft_conv(x: Tensor<5>, weight: Tensor<5>, bias: Option<Tensor<1>>) -> Tensor<5> {
    let [b, channels, p, d, t] = x.dims();
    let [out_channels, group_channels, kp, kd, kt] = weight.dims();
    let groups = channels / group_channels;
    let og = out_channels / groups;
    if kp == 1 && kd == 1 {
        // No spatial extent to transform: the direct convolution is as cheap.
        return crate::dendrites::dendrite_conv(x, weight, bias, 1, DendriteAlgorithm::Direct);
    }
    let device = x.device();
    let fold_time = t <= FFT_FOLD_TIME;
    let y = if fold_time {
        // Time leading ([B, C, T, P, D]): each time tap is a contiguous block of the spectrum.
        let spatial_axes: Vec<(usize, usize, usize)> = [(3, p, kp), (4, d, kd)]
            .into_iter()
            .filter(|&(_, _, k)| k > 1)
            .map(|(axis, n, k)| (axis, fft_length(n, k), n))
            .collect();
        let (xr, xi) = spectrum(
            x.permute([0, 1, 4, 2, 3]),
            &delayed(&spatial_axes, &[same_padding(kp).0, same_padding(kd).0], 3),
        );
        let (wr, wi) = spectrum(
            halved(weight, spatial_axes.len()).permute([0, 1, 4, 2, 3]),
            &delayed(&spatial_axes, &[0, 0], 3),
        );
        // The spectral axes, in `spectrum`'s layout.
        let [_, _, _, fp, fd] = xr.dims();
        let [_, _, _, wp, wd] = wr.dims();
        let (yr, yi) = crate::scope::counted_scope(&device, "spectral products", || {
            let x7 = |v: Tensor<5>| v.reshape([b, groups, 1, group_channels, t, fp, fd]);
            let (xr, xi) = (x7(xr), x7(xi));
            let mut acc: Option<(Tensor<6>, Tensor<6>)> = None;
            // Output step u sums input steps u − shift times conj(W) at tap kt − 1 − shift.
            for shift in 0..kt.min(t) {
                let l = kt - 1 - shift;
                let tap = |v: &Tensor<5>| {
                    v.clone()
                        .narrow(2, l, 1)
                        .reshape([1, groups, og, group_channels, 1, wp, wd])
                };
                let (kr, ki) = (tap(&wr), tap(&wi));
                let (ar, ai) = (xr.clone().narrow(4, 0, t - shift), xi.clone().narrow(4, 0, t - shift));
                let re = ar.clone() * kr.clone() + ai.clone() * ki.clone();
                let im = ai * kr - ar * ki;
                // Over the group's input channels, then delayed by `shift` steps.
                let delay = |v: Tensor<7>| {
                    let v = if group_channels > 1 { v.sum_dim(3) } else { v };
                    v.reshape([b, groups, og, t - shift, fp, fd])
                        .pad([(shift, 0), (0, 0), (0, 0)], PadMode::Constant(0.0))
                };
                let (re, im) = (delay(re), delay(im));
                acc = Some(match acc {
                    None => (re, im),
                    Some((sr, si)) => (sr + re, si + im),
                });
            }
            let (yr, yi) = acc.expect("at least one tap");
            let out = |v: Tensor<6>| v.reshape([b, out_channels, t, fp, fd]);
            (out(yr), out(yi))
        });
        inverse_correlation((yr, yi), &spatial_axes).permute([0, 1, 3, 4, 2])
    } else {
        let n = [p, d, t];
        let k = [kp, kd, kt];
        let all_axes: Vec<(usize, usize, usize)> = (0..3)
            .filter(|&a| k[a] > 1)
            .map(|a| (2 + a, fft_length(n[a], k[a]), n[a]))
            .collect();
        // Causal in time: every tap reaches back.
        let before = [same_padding(kp).0, same_padding(kd).0, kt - 1];
        let (xr, xi) = spectrum(x, &delayed(&all_axes, &before, 2));
        let (wr, wi) = spectrum(halved(weight, all_axes.len()), &delayed(&all_axes, &[0; 3], 2));
        // The spectral axes, in `spectrum`'s layout.
        let [_, _, fp, fd, ft] = xr.dims();
        let [_, _, wp, wd, wt] = wr.dims();
        let (yr, yi) = crate::scope::counted_scope(&device, "spectral products", || {
            // X · conj(W), summed over each group's input channels.
            let x7 = |v: Tensor<5>| v.reshape([b, groups, 1, group_channels, fp, fd, ft]);
            let w7 = |v: Tensor<5>| v.reshape([1, groups, og, group_channels, wp, wd, wt]);
            let (xr, xi, wr, wi) = (x7(xr), x7(xi), w7(wr), w7(wi));
            let re = xr.clone() * wr.clone() + xi.clone() * wi.clone();
            let im = xi * wr - xr * wi;
            let sum = |v: Tensor<7>| {
                let v = if group_channels > 1 { v.sum_dim(3) } else { v };
                v.reshape([b, out_channels, fp, fd, ft])
            };
            (sum(re), sum(im))
        });
        inverse_correlation((yr, yi), &all_axes)
    };
    match bias {
        Some(bias) => y + bias.reshape([1, out_channels, 1, 1, 1]),
        None => y,
    }
}

/// Whether `device`'s backend has Fourier transforms (`burn::signal`): flex and the GPU
/// backends do, ndarray does not. The capture device records them (for counting).
pub fn fft_supported(device: &Device) -> bool {
    crate::backend::Backend::of(device).has_fft()
}

/// The dendrite kernel as a dense dendrite-to-dendrite weight, for [`DendriteAlgorithm::Expanded`],
/// with the output dendrites in **reverse** order (row `s` is output dendrite `D − 1 − s`).
///
/// `out[(o, s), (c, i, l, d_in)] = w[o, c, i, d_in − (D−1−s) + pd, l]`, zero where that tap is
/// outside the kernel: per tap a Toeplitz (banded) matrix along the dendrites. Built without
/// gather: the taps, zero-padded to the `2D − 1` possible offsets, are unfolded into `D`
/// overlapping windows of `D` (a view), and one copy lays them out. Reversing the rows is what
/// makes the windows a plain unfold; the caller flips its (small) output back. The dendrite index
/// is innermost on both sides, so the copy moves whole rows; burn's `conv2d` weight layout (taps
/// innermost) needs an element-wise transpose of this 200 MB Purkinje matrix instead, which cost
/// more than the GEMM saved (docs/benchmarks.md).
///
/// # Shapes
///
/// - weight: `[out_channels, channels, kp, kd, kt]` with `kd ≤ dendrites`
/// - output: `[out_channels · dendrites, channels · kp · kt · dendrites]`
pub fn expand_dendrite_weight(weight: Tensor<5>, dendrites: usize) -> Tensor<2> {
    let [co, ci, kp, kd, kt] = weight.dims();
    let d = dendrites;
    assert!(kd <= d, "{NAME}: dendrite kernel {kd} wider than {d} dendrites");
    let before = same_padding(kd).0;
    let k = ci * kp * kt;
    // Index q holds offset d_in − d_out = q − (D−1), i.e. tap j = q − (D−1) + before.
    let offsets = weight
        .permute([0, 1, 2, 4, 3]) // [co, ci, kp, kt, kd]
        .reshape([co * k, kd])
        .pad([(d - 1 - before, d - kd + before)], PadMode::Constant(0.0)); // [co·k, 2D−1]
    // Window s, element e: offset s + e − (D−1) = d_in − d_out with d_in = e, d_out = D−1−s.
    let windows: Tensor<3> = offsets.unfold(1, d, 1); // [co·k, s, d_in]
    windows.reshape([co, k, d, d]).swap_dims(1, 2).reshape([co * d, k * d])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    use test_support::{assert_close, cpu_devices, seed_lock, uniform, values};

    /// [`reference_values`] on tensors: the expected output on `x`'s device.
    fn reference(x: &Tensor<5>, w: &Tensor<5>, bias: Option<&Tensor<1>>, dilation: usize) -> Tensor<5> {
        let (xs, ws) = (x.dims(), w.dims());
        let bias = bias.map(|b| values(b.clone()));
        let y = reference_values(
            &values(x.clone()),
            xs,
            &values(w.clone()),
            ws,
            bias.as_deref(),
            dilation,
        );
        Tensor::from_data(
            TensorData::new(
                y.iter().map(|&v| v as f32).collect(),
                [xs[0], ws[0], xs[2], xs[3], xs[4]],
            ),
            &x.device(),
        )
    }

    /// Direct loops over the definition in [`dendrite_conv`]'s docs.
    fn reference_values(
        x: &[f64],
        [b, c, p, d, t]: [usize; 5],
        w: &[f64],
        [o, _, kp, kd, kt]: [usize; 5],
        bias: Option<&[f64]>,
        dilation: usize,
    ) -> Vec<f64> {
        let (pp, pd) = (same_padding(kp).0 as isize, same_padding(kd).0 as isize);
        let mut y = vec![0.0; b * o * p * d * t];
        for (bi, oi, pi, di, ti) in itertools(b, o, p, d, t) {
            let mut s = bias.map_or(0.0, |bias| bias[oi]);
            for ci in 0..c {
                for i in 0..kp {
                    for j in 0..kd {
                        for l in 0..kt {
                            let (xp, xd, xt) = (
                                pi as isize + i as isize - pp,
                                di as isize + j as isize - pd,
                                ti as isize - ((kt - 1 - l) * dilation) as isize,
                            );
                            if xp < 0 || xp >= p as isize || xd < 0 || xd >= d as isize || xt < 0 {
                                continue;
                            }
                            let xi = (((bi * c + ci) * p + xp as usize) * d + xd as usize) * t + xt as usize;
                            s += w[(((oi * c + ci) * kp + i) * kd + j) * kt + l] * x[xi];
                        }
                    }
                }
            }
            y[(((bi * o + oi) * p + pi) * d + di) * t + ti] = s;
        }
        y
    }

    fn itertools(
        b: usize,
        o: usize,
        p: usize,
        d: usize,
        t: usize,
    ) -> impl Iterator<Item = (usize, usize, usize, usize, usize)> {
        (0..b).flat_map(move |bi| {
            (0..o).flat_map(move |oi| {
                (0..p).flat_map(move |pi| (0..d).flat_map(move |di| (0..t).map(move |ti| (bi, oi, pi, di, ti))))
            })
        })
    }

    // (input [b,c,p,d,t], out channels, kernel): odd and even kernels, kd == D, kd < D, channels,
    // and a window longer than FFT_FOLD_TIME (the FFT transforms time there).
    const CASES: [([usize; 5], usize, [usize; 3]); 10] = [
        ([2, 1, 4, 4, 5], 1, [3, 4, 5]),
        ([1, 2, 5, 6, 4], 3, [2, 6, 3]),
        ([2, 1, 10, 9, 5], 1, [10, 9, 5]),
        ([1, 1, 3, 12, 6], 2, [1, 5, 2]),
        ([1, 3, 2, 8, 3], 1, [2, 8, 1]),
        ([1, 2, 3, 5, 21], 2, [2, 3, 7]),
        // Transforms of 64 and more, which the FFT path runs in the last place: both spatial
        // axes; positions alone (its real axis is not the last); a long complex axis beside a
        // short real one; time not folded, long, beside short spatial axes.
        ([1, 2, 34, 20, 5], 2, [9, 16, 5]),
        ([2, 1, 70, 3, 4], 1, [5, 1, 3]),
        ([1, 1, 70, 6, 4], 1, [5, 3, 2]),
        ([1, 1, 3, 6, 40], 1, [2, 3, 30]),
    ];

    /// Whether `alg` runs on `x`'s device (ndarray has neither the FFT nor the fused loop).
    fn runs_on(alg: DendriteAlgorithm, x: &Tensor<5>) -> bool {
        match alg {
            DendriteAlgorithm::Fft => fft_supported(&x.device()),
            DendriteAlgorithm::Fused => fused_supported(x),
            _ => true,
        }
    }

    #[test]
    fn fused_estimate_counts_the_walked_multiply_adds() {
        use crate::fused_conv::Geometry;
        for (x, w, dilation) in [
            ([1, 4096, 4, 4, 5], [4096, 1, 3, 4, 5], 1),
            ([8, 2, 10, 5, 354], [4, 2, 3, 1, 16], 4),
            ([2, 3, 5, 7, 9], [6, 1, 4, 2, 4], 3),
            ([1, 1, 3, 3, 4], [1, 1, 5, 5, 6], 1),
        ] {
            let g = Geometry::new(&x.into(), &w.into(), dilation);
            let mut macs = 0;
            g.rows(|_, _, len, _| macs += len);
            let macs = (macs * x[0] * w[0] * w[1]) as f64;
            let p = plan(x, w, dilation, crate::backend::Backend::Flex);
            let fused = p
                .estimates
                .iter()
                .find(|e| e.algorithm == DendriteAlgorithm::Fused)
                .unwrap();
            assert_eq!(fused.flops, 2.0 * macs, "{x:?} {w:?} dilation {dilation}");
        }
    }

    #[test]
    fn every_algorithm_matches_the_definition() {
        let _lock = seed_lock();
        for (name, device) in cpu_devices() {
            for (n, (xs, o, [kp, kd, kt])) in CASES.into_iter().enumerate() {
                let x = uniform(xs, 10 + n as u64, &device);
                let w = uniform([o, xs[1], kp, kd, kt], 20 + n as u64, &device);
                let b = uniform([o], 30 + n as u64, &device);
                let want = reference(&x, &w, Some(&b), 1);
                for alg in [
                    DendriteAlgorithm::Direct,
                    DendriteAlgorithm::Expanded,
                    DendriteAlgorithm::Fft,
                    DendriteAlgorithm::Fused,
                    DendriteAlgorithm::Auto,
                ] {
                    if !runs_on(alg, &x) {
                        continue;
                    }
                    let got = dendrite_conv(x.clone(), w.clone(), Some(b.clone()), 1, alg);
                    assert_close(got, want.clone(), 1e-5, &format!("{name} case {n} {alg:?}"));
                }
            }
        }
    }

    #[test]
    fn dilated_time_taps_match_the_definition_on_every_path() {
        let _lock = seed_lock();
        let device = Device::flex();
        // A short window (the FFT folds time) and a long one (it transforms time).
        for (xs, kernel, dilation) in [([1, 2, 4, 5, 9], [3, 5, 3], 2), ([2, 1, 3, 4, 40], [2, 4, 4], 5)] {
            let o = 2;
            let x = uniform(xs, 60, &device);
            let w = uniform([o, xs[1], kernel[0], kernel[1], kernel[2]], 61, &device);
            let want = reference(&x, &w, None, dilation);
            for alg in [
                DendriteAlgorithm::Direct,
                DendriteAlgorithm::Expanded,
                DendriteAlgorithm::Fft,
                DendriteAlgorithm::Fused,
            ] {
                let got = dendrite_conv(x.clone(), w.clone(), None, dilation, alg);
                assert_close(
                    got,
                    want.clone(),
                    1e-5,
                    &format!("{alg:?} dilation {dilation}, T = {}", xs[4]),
                );
            }
        }
        let d = DendritesConfig::new(4, 5, [1, 1, 4]).with_dilation(10).init(&device);
        assert_eq!(d.dilation, 10);
        assert!(
            DendritesConfig::new(4, 5, [1, 1, 4])
                .with_dilation(0)
                .validate()
                .is_err()
        );
    }

    #[test]
    fn every_path_has_the_direct_paths_gradients() {
        let _lock = seed_lock();
        for (name, device) in cpu_devices() {
            let device = device.autodiff();
            for (n, (xs, o, [kp, kd, kt])) in CASES.into_iter().enumerate() {
                let probe = uniform([xs[0], o, xs[2], xs[3], xs[4]], 40 + n as u64, &device);
                let grads = |alg| {
                    let x = uniform(xs, 10 + n as u64, &device).require_grad();
                    let w = uniform([o, xs[1], kp, kd, kt], 20 + n as u64, &device).require_grad();
                    let b = uniform([o], 30 + n as u64, &device).require_grad();
                    let loss = (dendrite_conv(x.clone(), w.clone(), Some(b.clone()), 1, alg) * probe.clone()).sum();
                    let g = loss.backward();
                    (x.grad(&g).unwrap(), w.grad(&g).unwrap(), b.grad(&g).unwrap())
                };
                let (dx, dw, db) = grads(DendriteAlgorithm::Direct);
                for alg in [
                    DendriteAlgorithm::Expanded,
                    DendriteAlgorithm::Fft,
                    DendriteAlgorithm::Fused,
                ] {
                    if !runs_on(alg, &probe) {
                        continue;
                    }
                    let (ex, ew, eb) = grads(alg);
                    let what = |g: &str| format!("{name} case {n} {alg:?}: {g} gradient");
                    assert_close(ex, dx.clone(), 1e-5, &what("input"));
                    assert_close(ew, dw.clone(), 1e-5, &what("weight"));
                    assert_close(eb, db.clone(), 1e-5, &what("bias"));
                }
            }
        }
    }

    #[test]
    fn fused_populations_match_the_direct_path_forward_and_backward() {
        // One channel in and out per neuron (the fused loop's lane layout, blocks of 256
        // neurons): 5 neurons (one short block), 300 (a full block and a partial one).
        let _lock = seed_lock();
        let device = Device::flex().autodiff();
        for (n, dilation) in [(5, 1), (300, 2)] {
            let xs = [2, n, 4, 3, 7];
            let probe = uniform(xs, 70, &device);
            let run = |alg| {
                let x = uniform(xs, 71, &device).require_grad();
                let w = uniform([n, 1, 3, 2, 4], 72, &device).require_grad();
                let y = dendrite_conv(x.clone(), w.clone(), None, dilation, alg);
                let g = (y.clone() * probe.clone()).sum().backward();
                (y.inner(), x.grad(&g).unwrap(), w.grad(&g).unwrap())
            };
            let (y, dx, dw) = run(DendriteAlgorithm::Direct);
            let (fy, fx, fw) = run(DendriteAlgorithm::Fused);
            let what = |g: &str| format!("{n} neurons, dilation {dilation}: {g}");
            assert_close(fy, y, 1e-5, &what("output"));
            assert_close(fx, dx, 1e-5, &what("input gradient"));
            assert_close(fw, dw, 1e-5, &what("weight gradient"));
        }
    }

    #[test]
    fn groups_are_independent_convolutions() {
        let _lock = seed_lock();
        let device = Device::flex();
        let (g, c, o) = (3, 2, 2);
        let x = uniform([2, g * c, 4, 9, 5], 50, &device);
        let w = uniform([g * o, c, 3, 9, 2], 51, &device);
        let b = uniform([g * o], 52, &device);
        for alg in [
            DendriteAlgorithm::Direct,
            DendriteAlgorithm::Expanded,
            DendriteAlgorithm::Fft,
            DendriteAlgorithm::Fused,
        ] {
            let grouped = dendrite_conv(x.clone(), w.clone(), Some(b.clone()), 1, alg);
            for gi in 0..g {
                let one = dendrite_conv(
                    x.clone().narrow(1, gi * c, c),
                    w.clone().narrow(0, gi * o, o),
                    Some(b.clone().narrow(0, gi * o, o)),
                    1,
                    DendriteAlgorithm::Direct,
                );
                assert_close(
                    grouped.clone().narrow(1, gi * o, o),
                    one,
                    1e-5,
                    &format!("{alg:?} group {gi}"),
                );
            }
        }
    }

    #[test]
    fn no_output_depends_on_a_later_input() {
        let _lock = seed_lock();
        let device = Device::flex();
        for alg in [
            DendriteAlgorithm::Direct,
            DendriteAlgorithm::Expanded,
            DendriteAlgorithm::Fft,
            DendriteAlgorithm::Fused,
        ] {
            let dendrites = DendritesConfig::new(4, 8, [3, 8, 5]).with_algorithm(alg).init(&device);
            let x = uniform([1, 32, 12], 1, &device);
            let y0 = values(dendrites.forward(x.clone()));
            for t0 in [0, 5, 11] {
                // Change every input at time t0 only.
                let bump = uniform([1, 32, 1], 2, &device).pad([(t0, 11 - t0)], PadMode::Constant(0.0));
                let y1 = values(dendrites.forward(x.clone() + bump));
                // Exact on the direct paths; the FFT mixes every time step, so earlier outputs
                // may move by rounding (1e-6 of the output scale), never by the bump's size.
                let tol = if alg == DendriteAlgorithm::Fft { 1e-6 } else { 0.0 };
                let scale = y0.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                for (i, (a, b)) in y0.iter().zip(&y1).enumerate().filter(|(i, _)| i % 12 < t0) {
                    assert!(
                        (a - b).abs() <= tol * scale,
                        "{alg:?}: output at t = {} changed ({a} → {b}) when only the input at t = {t0} did",
                        i % 12
                    );
                }
                let changed = y0
                    .iter()
                    .zip(&y1)
                    .enumerate()
                    .filter(|(i, (a, b))| i % 12 >= t0 && (*a - *b).abs() > 1e-3)
                    .count();
                assert!(changed > 0, "{alg:?}: an input change at t = {t0} changed nothing");
            }
        }
    }

    #[test]
    fn sites_are_laid_out_channel_position_dendrite() {
        let device = Device::flex();
        let mut dendrites = DendritesConfig::new(3, 4, [1, 1, 1])
            .with_channels(2)
            .with_out_channels(2)
            .init(&device);
        // Identity kernel: out channel o copies input channel o.
        dendrites.weight = Param::from_tensor(Tensor::<6>::from_data(
            TensorData::new(vec![1.0f32, 0.0, 0.0, 1.0], [1, 2, 2, 1, 1, 1]),
            &device,
        ));
        let sites: Vec<f32> = (0..24).map(|s| s as f32).collect();
        let y = dendrites.forward(Tensor::<3>::from_data(TensorData::new(sites, [1, 24, 1]), &device));
        for (s, v) in values(y).into_iter().enumerate() {
            assert_eq!(
                v,
                s as f64,
                "site {s} (channel {}, position {}, dendrite {}) landed elsewhere",
                s / 12,
                s / 4 % 3,
                s % 4
            );
        }
    }

    #[test]
    fn auto_takes_the_cheapest_path_the_backend_has() {
        use crate::backend::Backend;
        let purkinje = ([1, 1, 100, 1000, 5], [1, 1, 10, 1000, 5]);
        let granule_population = ([1, 4096, 4, 4, 5], [4096, 1, 3, 4, 5]);
        let granule = ([1, 1, 4, 4, 5], [1, 1, 3, 4, 5]);
        let pyramidal = ([1, 1, 100, 100, 5], [1, 1, 5, 10, 5]);
        // The fit's neuron (train::fit): 16 taps 4 steps apart on a 10 × 5 grid, batch 8.
        let fit_first = ([8, 2, 10, 5, 354], [4, 2, 3, 1, 16]);
        let fit_deeper = ([8, 8, 10, 5, 354], [8, 8, 3, 1, 16]);
        for ((x, w), dilation, backend, want) in [
            (fit_first, 4, Backend::Flex, DendriteAlgorithm::Fused),
            (fit_deeper, 4, Backend::Flex, DendriteAlgorithm::Fused),
            (fit_deeper, 4, Backend::NdArray, DendriteAlgorithm::Direct),
            // 16 channels: the fused loop's planes are long, its multiply-adds scalar.
            (
                ([4, 16, 20, 20, 50], [16, 16, 3, 3, 5]),
                1,
                Backend::Flex,
                DendriteAlgorithm::Direct,
            ),
            (fit_first, 1, Backend::Flex, DendriteAlgorithm::Fused),
            (fit_first, 4, Backend::NdArray, DendriteAlgorithm::Direct),
        ]
        .into_iter()
        .chain(
            [
                (purkinje, Backend::Flex, DendriteAlgorithm::Fft),
                (purkinje, Backend::NdArray, DendriteAlgorithm::Expanded),
                (granule_population, Backend::Flex, DendriteAlgorithm::Fused),
                (granule_population, Backend::NdArray, DendriteAlgorithm::Expanded),
                (granule, Backend::Flex, DendriteAlgorithm::Fused),
                (pyramidal, Backend::Flex, DendriteAlgorithm::Fft),
            ]
            .map(|(s, b, a)| (s, 1, b, a)),
        ) {
            let p = plan(x, w, dilation, backend);
            assert_eq!(p.algorithm, want, "{x:?} on {backend:?}: {}", p.reason);
            assert!(p.reason.starts_with(&format!("{want:?}: estimated")), "{}", p.reason);
        }
        // Dilation leaves the direct and expanded paths' work alone (they skip the zeros) and
        // lengthens the FFT's kernel: 16 taps 4 apart span 61 steps.
        let (dense, dilated) = (
            plan(fit_first.0, fit_first.1, 1, Backend::Flex),
            plan(fit_first.0, fit_first.1, 4, Backend::Flex),
        );
        assert_eq!(dense.estimates[..2], dilated.estimates[..2]);
        assert_eq!(
            dilated.estimates[0].flops,
            2.0 * (8 * 4 * 10 * 5 * 354 * 2 * 3 * 16) as f64
        );
        let zeros_filled = plan(fit_first.0, [4, 2, 3, 1, 61], 1, Backend::Flex);
        assert_eq!(dilated.estimates[2], zeros_filled.estimates[2]);
        assert!(zeros_filled.estimates[0].flops > 3.0 * dilated.estimates[0].flops);
        // The estimates: the Purkinje's direct arithmetic is the essay's 5.0e10; its FFT path is
        // the counted transforms and products (tests/capture.rs counts the same 1.45e8).
        let p = plan(purkinje.0, purkinje.1, 1, Backend::Flex);
        assert_eq!(p.estimates[0].flops, 5.0e10);
        assert!(
            (p.estimates[2].flops / 1.453e8 - 1.0).abs() < 0.01,
            "{}",
            p.estimates[2].flops
        );
        assert!(
            plan(purkinje.0, purkinje.1, 1, Backend::NdArray)
                .reason
                .contains("Fft unavailable on ndarray")
        );
        // An explicit choice is taken as given.
        let device = Device::flex();
        let d = DendritesConfig::new(100, 1000, [10, 1000, 5])
            .with_algorithm(DendriteAlgorithm::Expanded)
            .init(&device);
        assert_eq!(d.plan(1, 5, &device).algorithm, DendriteAlgorithm::Expanded);
        assert_eq!(
            DendriteAlgorithm::Direct.resolve(purkinje.0, purkinje.1, 1, &device),
            DendriteAlgorithm::Direct
        );
    }

    #[test]
    fn invalid_configs_are_rejected_with_a_message() {
        let err = DendritesConfig::new(4, 4, [5, 4, 5]).validate().unwrap_err();
        assert!(
            err.to_string()
                .contains("kernel of 5 along positions is larger than the 4 positions"),
            "{err}"
        );
        let err = DendritesConfig::new(4, 0, [1, 1, 1]).validate().unwrap_err();
        assert_eq!(
            err,
            ConfigError::Zero {
                module: "Dendrites",
                field: "dendrites"
            }
        );
        let err = DendritesConfig::new(4, 4, [1, 1, 0]).validate().unwrap_err();
        assert!(err.to_string().contains("kernel[2] (time)"), "{err}");
        let json = r#"{"positions":4,"dendrites":4,"kernel":[3,4,5],"algorithm":"Fastest"}"#;
        assert!(
            serde_json::from_str::<DendritesConfig>(json).is_err(),
            "an unknown algorithm must not load"
        );
    }

    #[test]
    fn an_explicit_fused_path_without_the_loop_is_an_error_and_auto_falls_back() {
        let _lock = seed_lock();
        for (name, device) in cpu_devices().into_iter().filter(|(n, _)| *n != "flex") {
            let x = uniform([1, 1, 4, 4, 5], 80, &device);
            let w = uniform([1, 1, 3, 4, 5], 81, &device);
            let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                dendrite_conv(x.clone(), w.clone(), None, 1, DendriteAlgorithm::Fused)
            }))
            .unwrap_err();
            let msg = panic.downcast_ref::<String>().unwrap();
            assert!(
                msg.starts_with("Dendrites: the Fused algorithm runs on flex") && msg.contains(name),
                "{msg}"
            );
            let auto = dendrite_conv(x.clone(), w.clone(), None, 1, DendriteAlgorithm::Auto);
            assert_close(auto, reference(&x, &w, None, 1), 1e-5, name);
        }
    }

    #[test]
    fn wrong_site_count_names_the_stage_and_both_shapes() {
        let device = Device::flex();
        let dendrites = DendritesConfig::new(4, 4, [3, 4, 5]).init(&device);
        let err = dendrites
            .try_forward(Tensor::<3>::zeros([2, 15, 5], &device))
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("Dendrites: expected input of shape [batch, 16"),
            "{msg}"
        );
        assert!(msg.ends_with("got [2, 15, 5]"), "{msg}");
        let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            dendrites.forward(Tensor::<3>::zeros([2, 15, 5], &device))
        }))
        .unwrap_err();
        assert_eq!(panic.downcast_ref::<String>().unwrap(), &msg);
    }
}
