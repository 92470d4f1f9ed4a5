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
//!
//! The convolution runs on one of four paths that compute the same function ([`plan`] says
//! which and why): burn's conv3d and the expanded GEMM ([`direct`]), the Fourier transform
//! ([`fft`]), and flex's fused loop ([`fused`]).

pub mod direct;
pub mod fft;
pub mod fused;
pub mod plan;

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::{Device, Tensor};

pub use direct::{dilate_time, expand_dendrite_weight, same_padding};
pub use fft::{FFT_FOLD_TIME, fft_conv, fft_length};
pub use fused::fused_dendrite_conv;
pub use plan::{DendriteAlgorithm, DendritePlan, PathEstimate, PlanCosts, plan, plan_with, resolve};

use crate::backend_kind::BackendKind;
use crate::error::{ConfigError, ShapeError, check_nonzero, expect_shape, expect_valid};

const NAME: &str = "Dendrites";

/// Configuration of [`Dendrites`].
#[derive(Config, Debug, PartialEq)]
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

    /// The path a forward of `batch` samples of `time` steps on `device` takes (f32), as
    /// [`Dendrites::path`] of the module this config builds.
    pub fn path(&self, batch: usize, time: usize, device: &Device) -> Result<DendriteAlgorithm, String> {
        let [kp, kd, kt] = self.kernel;
        let x = [
            batch,
            self.neurons * self.channels,
            self.positions,
            self.dendrites,
            time,
        ];
        let w = [self.neurons * self.out_channels, self.channels, kp, kd, kt];
        resolve(self.algorithm, x, w, self.dilation, device, burn::tensor::DType::F32)
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

    /// The convolution's input and weight shapes for `batch` samples of `time` steps.
    fn conv_shapes(&self, batch: usize, time: usize) -> ([usize; 5], [usize; 5]) {
        let [n, co, ci, kp, kd, kt] = self.weight.dims();
        (
            [batch, n * ci, self.positions, self.dendrites, time],
            [n * co, ci, kp, kd, kt],
        )
    }

    /// The plan for `batch` samples of `time` steps on `device` (f32): every path's estimate,
    /// the path taken and why (`Auto`: the cheapest; an explicit algorithm as given).
    pub fn plan(&self, batch: usize, time: usize, device: &Device) -> DendritePlan {
        let (x, w) = self.conv_shapes(batch, time);
        plan_with(
            self.algorithm,
            x,
            w,
            self.dilation,
            BackendKind::of(device),
            burn::tensor::DType::F32,
            PlanCosts::of(device),
        )
    }

    /// The path a forward of `batch` samples of `time` steps runs on `device` (f32): never
    /// `Auto`. Record it where a run must repeat its numbers on another machine, whose costs
    /// may make `Auto` choose differently. An explicit path the backend lacks is an error.
    pub fn path(&self, batch: usize, time: usize, device: &Device) -> Result<DendriteAlgorithm, String> {
        let (x, w) = self.conv_shapes(batch, time);
        resolve(self.algorithm, x, w, self.dilation, device, burn::tensor::DType::F32)
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
    let path = resolve(algorithm, x.dims(), weight.dims(), dilation, &x.device(), x.dtype())
        .unwrap_or_else(|message| panic!("{message}"));
    match path {
        DendriteAlgorithm::Direct | DendriteAlgorithm::Auto => direct::direct_conv(x, weight, bias, dilation),
        DendriteAlgorithm::Expanded => direct::expanded_conv(x, weight, bias, dilation),
        DendriteAlgorithm::Fft => fft::fft_conv(x, weight, bias, dilation),
        DendriteAlgorithm::Fused => {
            let out_channels = weight.dims()[0];
            let y = fused::fused_dendrite_conv(x, weight, dilation);
            match bias {
                Some(b) => y + b.reshape([1, out_channels, 1, 1, 1]),
                None => y,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;
    use burn::tensor::ops::PadMode;
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
        let backend = BackendKind::of(&x.device());
        match alg {
            DendriteAlgorithm::Fft => backend.has_fft(),
            DendriteAlgorithm::Fused => backend.has_fused_loop(x.dtype()),
            _ => true,
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
    fn the_plans_estimates_are_within_ten_times_of_measured_times() {
        // Loose enough for any machine's noise, tight enough to catch a cost off by 10×
        // (docs/benchmarks.md measures them within 4.3× on the 2-core VM).
        let _lock = seed_lock();
        let device = Device::flex();
        for (x, w, dilation) in [
            ([8, 2, 10, 5, 354], [4, 2, 3, 1, 16], 4),  // the fit's first stage
            ([1, 1, 100, 100, 5], [1, 1, 5, 10, 5], 1), // the pyramidal preset's dendrites
            ([8, 1, 64, 64, 1], [1, 1, 7, 7, 1], 1),    // train's 2-D cable
        ] {
            let p = plan(x, w, dilation, &device);
            let xt = uniform(x, 90, &device);
            let wt = uniform(w, 91, &device);
            for e in p.estimates.iter().filter(|e| e.available && e.seconds < 0.2) {
                let run = || {
                    let t = std::time::Instant::now();
                    dendrite_conv(xt.clone(), wt.clone(), None, dilation, e.algorithm).into_data();
                    t.elapsed().as_secs_f64()
                };
                run();
                let measured = (0..3).map(|_| run()).fold(f64::MAX, f64::min);
                let ratio = measured / e.seconds;
                assert!(
                    (0.1..10.0).contains(&ratio),
                    "{x:?} {w:?} on {:?}: measured {measured:.2e} s, estimated {:.2e} s\n{}",
                    e.algorithm,
                    e.seconds,
                    p.costs
                );
            }
        }
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
