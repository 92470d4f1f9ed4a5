//! The dendrite convolution ([`super::dendrite_conv`]) as one loop over the kernel's
//! taps, reading the unpadded input in place, forward and backward: a Burn backend extension
//! ([`DendriteConvOps`]) implemented for flex, with its own backward for autodiff.
//!
//! It serves the small grouped kernels of a population (4096 granule cells, each a 3 × 4 × 5
//! kernel on a 4 × 4 grid), where burn's `conv3d` pays a fixed cost per group and the expanded
//! path's im2col copies ten times the GEMM's work (docs/benchmarks.md). Every output run that one
//! tap reads inside the grid is walked by one function ([`Geometry::rows`]); the forward, the
//! input gradient and the weight gradient are the three ways of consuming those runs.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::{Backend, backend_extension, tensor::FloatTensor};
use burn::tensor::{Shape, Tensor};

use super::direct::same_padding;
use crate::backend_kind::BackendKind;

/// The fused dendrite convolution, per backend. Call it through [`fused_dendrite_conv`].
#[backend_extension(Flex: cfg(feature = "flex"), Autodiff)]
pub trait DendriteConvOps: Backend {
    /// `y[b,o,p,d,t] = Σ_{c,i,j,l} w[o,c,i,j,l] · x[b, g·Cg+c, p+i−pp, d+j−pd, t−(kt−1−l)·δ]`
    /// (`g` the group of `o`, zeros outside the grid and before time 0): `[batch, channels,
    /// positions, dendrites, time]` and `[out_channels, channels / groups, kp, kd, kt]` to
    /// `[batch, out_channels, positions, dendrites, time]`.
    fn fused_dendrite_conv(x: FloatTensor<Self>, weight: FloatTensor<Self>, dilation: usize) -> FloatTensor<Self>;

    /// The gradient of the loss with respect to `x`, given its gradient `grad` at the output.
    fn fused_dendrite_conv_x_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        dilation: usize,
    ) -> FloatTensor<Self>;

    /// The gradient of the loss with respect to `weight`, given its gradient `grad` at the output.
    fn fused_dendrite_conv_weight_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        dilation: usize,
    ) -> FloatTensor<Self>;
}

/// The fused dendrite convolution on tensors: the same function as
/// [`super::dendrite_conv`] without bias, differentiable in `x` and `weight`.
///
/// Runs on flex (f32 and f64) only ([`BackendKind::has_fused_loop`]): elsewhere
/// [`super::DendriteAlgorithm::Fused`] is unavailable, and the plan says so.
///
/// # Shapes
///
/// - x: `[batch, channels, positions, dendrites, time]`
/// - weight: `[out_channels, channels / groups, kp, kd, kt]`
/// - output: `[batch, out_channels, positions, dendrites, time]`
///
/// # Example
///
/// ```
/// use burn::tensor::{Device, Distribution, Tensor};
/// use neuron_nn::dendrites::{DendriteAlgorithm, dendrite_conv};
/// use neuron_nn::dendrites::fused::fused_dendrite_conv;
///
/// let device = Device::flex();
/// // 8 granule cells (groups), each its own 3 × 4 × 5 kernel on a 4 × 4 grid.
/// let x = Tensor::<5>::random([1, 8, 4, 4, 5], Distribution::Default, &device);
/// let w = Tensor::<5>::random([8, 1, 3, 4, 5], Distribution::Default, &device);
/// let fused = fused_dendrite_conv(x.clone(), w.clone(), 1);
/// let direct = dendrite_conv(x, w, None, 1, DendriteAlgorithm::Direct);
/// let gap = (fused - direct).abs().max().into_scalar::<f32>();
/// assert!(gap < 1e-5);
/// ```
pub fn fused_dendrite_conv(x: Tensor<5>, weight: Tensor<5>, dilation: usize) -> Tensor<5> {
    let backend = BackendKind::of(&x.device());
    assert!(
        backend.has_fused_loop(x.dtype()),
        "Dendrites: the fused loop runs on flex with f32 or f64 tensors, not on {} with {:?}",
        backend.name(),
        x.dtype()
    );
    Tensor::from_dispatch(<burn::backend::Dispatch as DendriteConvOps>::fused_dendrite_conv(
        x.into_dispatch(),
        weight.into_dispatch(),
        dilation,
    ))
}

/// The work of the fused loop on one call, forward: runs of outputs (one tap over one row) and
/// multiply-adds, counting only outputs whose input lies in the grid (what [`Geometry::rows`]
/// walks, in closed form).
pub fn fused_work(x: [usize; 5], w: [usize; 5], dilation: usize) -> (f64, f64) {
    let [b, _, p, d, t] = x;
    let [co, cg, kp, kd, kt] = w;
    let rows_along = |k: usize, n: usize| -> f64 {
        let pad = same_padding(k).0;
        (0..k).map(|i| inside(i, pad, n).len()).sum::<usize>() as f64
    };
    let lags = (0..kt).map(|l| l * dilation.max(1)).filter(|&lag| lag < t);
    let (steps, macs_per_row) = (
        lags.clone().count() as f64,
        lags.map(|lag| t - lag).sum::<usize>() as f64,
    );
    let rows = (b * co * cg) as f64 * rows_along(kp, p) * rows_along(kd, d);
    (rows * steps, rows * macs_per_row)
}

/// The shapes of one fused convolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    /// Batch.
    pub batch: usize,
    /// Input channels (all groups).
    pub channels: usize,
    /// Output channels (all groups).
    pub out_channels: usize,
    /// Input channels per group.
    pub group_channels: usize,
    /// Positions, dendrites, time.
    pub grid: [usize; 3],
    /// Kernel positions, dendrites, time taps.
    pub kernel: [usize; 3],
    /// Steps between time taps.
    pub dilation: usize,
}

impl Geometry {
    /// From the input's and the weight's shapes; panics (naming both) where they do not fit.
    pub fn new(x: &Shape, w: &Shape, dilation: usize) -> Self {
        let (x, w) = (x.as_slice(), w.as_slice());
        assert!(
            x.len() == 5 && w.len() == 5 && w[1] > 0 && x[1] % w[1] == 0 && w[0] % (x[1] / w[1]).max(1) == 0,
            "fused dendrite conv: input {x:?} and weight {w:?} do not fit ([batch, channels, p, d, t] and \
             [out_channels, channels / groups, kp, kd, kt], out_channels a multiple of groups)"
        );
        Self {
            batch: x[0],
            channels: x[1],
            out_channels: w[0],
            group_channels: w[1],
            grid: [x[2], x[3], x[4]],
            kernel: [w[2], w[3], w[4]],
            dilation: dilation.max(1),
        }
    }

    /// Elements of one `[positions, dendrites, time]` plane.
    pub fn plane(&self) -> usize {
        self.grid.iter().product()
    }

    /// Weights of one kernel `[kp, kd, kt]`.
    pub fn taps(&self) -> usize {
        self.kernel.iter().product()
    }

    /// Output channels per group.
    fn group_out(&self) -> usize {
        self.out_channels / self.groups()
    }

    fn groups(&self) -> usize {
        self.channels / self.group_channels
    }

    /// Calls `row(y, x, len, tap)` for every run of outputs that one kernel tap reads inside
    /// the grid: outputs `y..y + len` of a plane pair with inputs `x..x + len` of an input plane
    /// through the weight at `tap` (the index in the flattened `[kp, kd, kt]` kernel).
    pub fn rows(&self, mut row: impl FnMut(usize, usize, usize, usize)) {
        let [p, d, t] = self.grid;
        let [kp, kd, kt] = self.kernel;
        let (pp, pd) = (same_padding(kp).0, same_padding(kd).0);
        for i in 0..kp {
            let ps = inside(i, pp, p);
            for j in 0..kd {
                let ds = inside(j, pd, d);
                for l in 0..kt {
                    // Output step s reads input step s − lag.
                    let lag = (kt - 1 - l) * self.dilation;
                    if lag >= t {
                        continue;
                    }
                    let tap = (i * kd + j) * kt + l;
                    for po in ps.clone() {
                        for dq in ds.clone() {
                            let y = (po * d + dq) * t;
                            let x = ((po + i - pp) * d + dq + j - pd) * t;
                            row(y + lag, x, t - lag, tap);
                        }
                    }
                }
            }
        }
    }
}

/// Outputs `o` of an axis of length `n` whose input `o + k − pad` lies inside it.
fn inside(k: usize, pad: usize, n: usize) -> core::ops::Range<usize> {
    let lo = pad.saturating_sub(k);
    let hi = (n + pad).saturating_sub(k).min(n);
    lo..hi.max(lo)
}

/// Runs `work(index, chunk)` over the `chunk`-sized pieces of `out`, in parallel (rayon).
#[cfg(feature = "flex")]
fn for_each_chunk<T: Send>(out: &mut [T], chunk: usize, work: impl Fn(usize, &mut [T]) + Sync + Send) {
    use rayon::prelude::*;
    if chunk == 0 {
        return;
    }
    out.par_chunks_mut(chunk).enumerate().for_each(|(i, c)| work(i, c));
}

/// The three loops on host slices (contiguous, row-major), generic over the float type.
#[cfg(feature = "flex")]
mod host {
    use super::{Geometry, for_each_chunk, lanes};
    use host_math::{axpy, dot};
    use num_traits::Float;

    /// One input and one output channel per group, and several groups: the lane layout.
    fn depthwise(g: &Geometry) -> bool {
        g.group_channels == 1 && g.group_out() == 1 && g.groups() > 1
    }

    /// The forward: one output plane per (batch, output channel).
    pub fn forward<T: Float + Send + Sync>(g: &Geometry, x: &[T], w: &[T]) -> Vec<T> {
        if depthwise(g) {
            return lanes::forward(g, x, w);
        }
        let (plane, taps, cg, og) = (g.plane(), g.taps(), g.group_channels, g.group_out());
        let mut y = vec![T::zero(); g.batch * g.out_channels * plane];
        for_each_chunk(&mut y, plane, |bo, out| {
            let (b, o) = (bo / g.out_channels, bo % g.out_channels);
            let first = (b * g.channels + o / og * cg) * plane;
            for c in 0..cg {
                let xs = &x[first + c * plane..first + (c + 1) * plane];
                let ws = &w[(o * cg + c) * taps..(o * cg + c + 1) * taps];
                g.rows(|yo, xo, len, tap| axpy(&mut out[yo..yo + len], ws[tap], &xs[xo..xo + len]));
            }
        });
        y
    }

    /// The input gradient: one group's input planes per (batch, group).
    pub fn x_backward<T: Float + Send + Sync>(g: &Geometry, w: &[T], grad: &[T]) -> Vec<T> {
        if depthwise(g) {
            return lanes::x_backward(g, w, grad);
        }
        let (plane, taps, cg, og) = (g.plane(), g.taps(), g.group_channels, g.group_out());
        let groups = g.groups();
        let mut gx = vec![T::zero(); g.batch * g.channels * plane];
        for_each_chunk(&mut gx, cg * plane, |bg, out| {
            let (b, group) = (bg / groups, bg % groups);
            for o in group * og..(group + 1) * og {
                let gy = &grad[(b * g.out_channels + o) * plane..(b * g.out_channels + o + 1) * plane];
                for c in 0..cg {
                    let ws = &w[(o * cg + c) * taps..(o * cg + c + 1) * taps];
                    let xs = &mut out[c * plane..(c + 1) * plane];
                    g.rows(|yo, xo, len, tap| axpy(&mut xs[xo..xo + len], ws[tap], &gy[yo..yo + len]));
                }
            }
        });
        gx
    }

    /// The weight gradient: one output channel's kernels per task, summed over the batch.
    pub fn weight_backward<T: Float + Send + Sync>(g: &Geometry, x: &[T], grad: &[T]) -> Vec<T> {
        if depthwise(g) {
            return lanes::weight_backward(g, x, grad);
        }
        let (plane, taps, cg, og) = (g.plane(), g.taps(), g.group_channels, g.group_out());
        let mut gw = vec![T::zero(); g.out_channels * cg * taps];
        for_each_chunk(&mut gw, cg * taps, |o, out| {
            for b in 0..g.batch {
                let gy = &grad[(b * g.out_channels + o) * plane..(b * g.out_channels + o + 1) * plane];
                let first = (b * g.channels + o / og * cg) * plane;
                for c in 0..cg {
                    let xs = &x[first + c * plane..first + (c + 1) * plane];
                    let ws = &mut out[c * taps..(c + 1) * taps];
                    g.rows(|yo, xo, len, tap| {
                        ws[tap] = ws[tap] + dot(&gy[yo..yo + len], &xs[xo..xo + len]);
                    });
                }
            }
        });
        gw
    }
}

/// Depthwise convolutions of many neurons (a population: one channel in and one out per
/// neuron) with the neurons as the innermost axis, in blocks of up to [`lanes::MAX_LANES`]: each
/// (output site, tap) pair of [`Geometry::rows`] becomes one multiply-add across a block's
/// neurons, which vectorises, where the plane loops walk short runs (a granule cell: 600 runs of
/// at most 5 outputs).
#[cfg(feature = "flex")]
mod lanes {
    use super::{Geometry, for_each_chunk};
    use num_traits::Float;

    /// Neurons per block (one task).
    pub const MAX_LANES: usize = 256;

    /// Lanes per block for `n` neurons: all of them up to [`MAX_LANES`], rounded up to 8.
    fn width(n: usize) -> usize {
        n.min(MAX_LANES).next_multiple_of(8)
    }

    /// `[batch, n, inner]` → `[batch, blocks, inner, lanes]`, zeros past the last neuron.
    fn to_lanes<T: Float>(src: &[T], batch: usize, n: usize, inner: usize) -> Vec<T> {
        let w = width(n);
        let blocks = n.div_ceil(w);
        let mut dst = vec![T::zero(); batch * blocks * inner * w];
        for b in 0..batch {
            for i in 0..n {
                let (c, l) = (i / w, i % w);
                let row = &src[(b * n + i) * inner..(b * n + i + 1) * inner];
                for (pos, &v) in row.iter().enumerate() {
                    dst[((b * blocks + c) * inner + pos) * w + l] = v;
                }
            }
        }
        dst
    }

    /// The inverse of [`to_lanes`].
    fn from_lanes<T: Float>(src: &[T], batch: usize, n: usize, inner: usize) -> Vec<T> {
        let w = width(n);
        let blocks = n.div_ceil(w);
        let mut dst = vec![T::zero(); batch * n * inner];
        for b in 0..batch {
            for i in 0..n {
                let (c, l) = (i / w, i % w);
                let row = &mut dst[(b * n + i) * inner..(b * n + i + 1) * inner];
                for (pos, v) in row.iter_mut().enumerate() {
                    *v = src[((b * blocks + c) * inner + pos) * w + l];
                }
            }
        }
        dst
    }

    /// `acc[l] += a[l] · b[l]` over one block's lanes.
    fn fma<T: Float>(acc: &mut [T], a: &[T], b: &[T]) {
        for ((o, &x), &y) in acc.iter_mut().zip(a).zip(b) {
            *o = *o + x * y;
        }
    }

    /// Every run's `out[to] += w[tap] · src[from]`, block by block: from the input to the
    /// output (the forward), or with `back` from the output's gradient to the input's.
    fn spread<T: Float + Send + Sync>(g: &Geometry, src: &[T], w: &[T], back: bool) -> Vec<T> {
        let (n, plane, taps, lanes) = (g.channels, g.plane(), g.taps(), width(g.channels));
        let blocks = n.div_ceil(lanes);
        let (sb, wb) = (to_lanes(src, g.batch, n, plane), to_lanes(w, 1, n, taps));
        let mut ob = vec![T::zero(); sb.len()];
        for_each_chunk(&mut ob, plane * lanes, |bc, out| {
            let from_block = &sb[bc * plane * lanes..(bc + 1) * plane * lanes];
            let ws = &wb[bc % blocks * taps * lanes..(bc % blocks + 1) * taps * lanes];
            g.rows(|y, x, len, tap| {
                let (to, from) = if back { (x, y) } else { (y, x) };
                let wl = &ws[tap * lanes..(tap + 1) * lanes];
                for k in 0..len {
                    let at = |o: usize| (o + k) * lanes..(o + k + 1) * lanes;
                    fma(&mut out[at(to)], wl, &from_block[at(from)]);
                }
            });
        });
        from_lanes(&ob, g.batch, n, plane)
    }

    pub fn forward<T: Float + Send + Sync>(g: &Geometry, x: &[T], w: &[T]) -> Vec<T> {
        spread(g, x, w, false)
    }

    pub fn x_backward<T: Float + Send + Sync>(g: &Geometry, w: &[T], grad: &[T]) -> Vec<T> {
        spread(g, grad, w, true)
    }

    pub fn weight_backward<T: Float + Send + Sync>(g: &Geometry, x: &[T], grad: &[T]) -> Vec<T> {
        let (n, plane, taps, lanes) = (g.channels, g.plane(), g.taps(), width(g.channels));
        let blocks = n.div_ceil(lanes);
        let (xb, gyb) = (to_lanes(x, g.batch, n, plane), to_lanes(grad, g.batch, n, plane));
        let mut gwb = vec![T::zero(); blocks * taps * lanes];
        for_each_chunk(&mut gwb, taps * lanes, |c, out| {
            for b in 0..g.batch {
                let block = (b * blocks + c) * plane * lanes..(b * blocks + c + 1) * plane * lanes;
                let (xs, gy) = (&xb[block.clone()], &gyb[block]);
                g.rows(|y, x, len, tap| {
                    let acc = &mut out[tap * lanes..(tap + 1) * lanes];
                    for k in 0..len {
                        let at = |o: usize| (o + k) * lanes..(o + k + 1) * lanes;
                        fma(acc, &gy[at(y)], &xs[at(x)]);
                    }
                });
            }
        });
        from_lanes(&gwb, 1, n, taps)
    }
}

#[cfg(feature = "flex")]
mod flex {
    use super::{DendriteConvOps, Geometry, host};
    use burn::backend::{Flex, TensorMetadata, tensor::FloatTensor};
    use burn::tensor::{DType, TensorData};

    /// Runs `f` on the host slices of `a` and `b` in their float type (read in place where they
    /// are contiguous); the result has `shape`.
    fn on_host(
        a: FloatTensor<Flex>,
        b: FloatTensor<Flex>,
        shape: Vec<usize>,
        f32s: impl FnOnce(&[f32], &[f32]) -> Vec<f32>,
        f64s: impl FnOnce(&[f64], &[f64]) -> Vec<f64>,
    ) -> FloatTensor<Flex> {
        let (a, b) = (a.to_contiguous(), b.to_contiguous());
        assert_eq!(
            a.dtype(),
            b.dtype(),
            "fused dendrite conv: operands of different float types"
        );
        let data = match a.dtype() {
            DType::F32 => TensorData::new(f32s(a.storage(), b.storage()), shape),
            DType::F64 => TensorData::new(f64s(a.storage(), b.storage()), shape),
            other => panic!("fused dendrite conv: flex runs it on f32 and f64, not {other:?}"),
        };
        FloatTensor::<Flex>::from_data(data)
    }

    impl DendriteConvOps for Flex {
        fn fused_dendrite_conv(x: FloatTensor<Self>, weight: FloatTensor<Self>, dilation: usize) -> FloatTensor<Self> {
            let g = Geometry::new(&x.shape(), &weight.shape(), dilation);
            let [p, d, t] = g.grid;
            let shape = vec![g.batch, g.out_channels, p, d, t];
            on_host(
                x,
                weight,
                shape,
                |x, w| host::forward(&g, x, w),
                |x, w| host::forward(&g, x, w),
            )
        }

        fn fused_dendrite_conv_x_backward(
            x: FloatTensor<Self>,
            weight: FloatTensor<Self>,
            grad: FloatTensor<Self>,
            dilation: usize,
        ) -> FloatTensor<Self> {
            let shape = x.shape();
            let g = Geometry::new(&shape, &weight.shape(), dilation);
            on_host(
                weight,
                grad,
                shape.to_vec(),
                |w, gy| host::x_backward(&g, w, gy),
                |w, gy| host::x_backward(&g, w, gy),
            )
        }

        fn fused_dendrite_conv_weight_backward(
            x: FloatTensor<Self>,
            weight: FloatTensor<Self>,
            grad: FloatTensor<Self>,
            dilation: usize,
        ) -> FloatTensor<Self> {
            let shape = weight.shape();
            let g = Geometry::new(&x.shape(), &shape, dilation);
            on_host(
                x,
                grad,
                shape.to_vec(),
                |x, gy| host::weight_backward(&g, x, gy),
                |x, gy| host::weight_backward(&g, x, gy),
            )
        }
    }
}

impl<B: Backend + DendriteConvOps, C: CheckpointStrategy> DendriteConvOps for Autodiff<B, C> {
    fn fused_dendrite_conv(x: FloatTensor<Self>, weight: FloatTensor<Self>, dilation: usize) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct FusedDendriteConv;

        impl<B: Backend + DendriteConvOps> Backward<B, 2> for FusedDendriteConv {
            type State = (NodeId, NodeId, usize);

            fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
                let [node_x, node_weight] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (x_state, weight_state, dilation) = ops.state;
                let x = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(x_state);
                let weight = checkpointer.retrieve_node_output::<B::FloatTensorPrimitive>(weight_state);
                if let Some(node) = node_x {
                    let gx = B::fused_dendrite_conv_x_backward(x.clone(), weight.clone(), grad.clone(), dilation);
                    grads.register::<B>(node.id, gx);
                }
                if let Some(node) = node_weight {
                    let gw = B::fused_dendrite_conv_weight_backward(x, weight, grad, dilation);
                    grads.register::<B>(node.id, gw);
                }
            }
        }

        match FusedDendriteConv
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                let y = B::fused_dendrite_conv(x.into_primitive(), weight.into_primitive(), dilation);
                prep.finish((x_state, weight_state, dilation), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_dendrite_conv(
                x.into_primitive(),
                weight.into_primitive(),
                dilation,
            )),
        }
    }

    fn fused_dendrite_conv_x_backward(
        _x: FloatTensor<Self>,
        _weight: FloatTensor<Self>,
        _grad: FloatTensor<Self>,
        _dilation: usize,
    ) -> FloatTensor<Self> {
        panic!("fused dendrite conv: second derivatives are not implemented (the backward is not differentiable)")
    }

    fn fused_dendrite_conv_weight_backward(
        _x: FloatTensor<Self>,
        _weight: FloatTensor<Self>,
        _grad: FloatTensor<Self>,
        _dilation: usize,
    ) -> FloatTensor<Self> {
        panic!("fused dendrite conv: second derivatives are not implemented (the backward is not differentiable)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_visit_each_in_grid_pair_once() {
        // Every (output site, tap) pair whose input lies in the grid, and no other, against a
        // direct enumeration of the definition.
        let g = Geometry {
            batch: 1,
            channels: 1,
            out_channels: 1,
            group_channels: 1,
            grid: [3, 4, 7],
            kernel: [2, 3, 3],
            dilation: 2,
        };
        let [p, d, t] = g.grid;
        let [kp, kd, kt] = g.kernel;
        let (pp, pd) = (same_padding(kp).0, same_padding(kd).0);
        let mut expected = Vec::new();
        for (po, dq, s) in itertools(p, d, t) {
            for i in 0..kp {
                for j in 0..kd {
                    for l in 0..kt {
                        let (xi, xj) = (po + i, dq + j);
                        let lag = (kt - 1 - l) * g.dilation;
                        if xi >= pp && xi - pp < p && xj >= pd && xj - pd < d && s >= lag {
                            let x = ((xi - pp) * d + xj - pd) * t + s - lag;
                            expected.push(((po * d + dq) * t + s, x, (i * kd + j) * kt + l));
                        }
                    }
                }
            }
        }
        let mut seen = Vec::new();
        g.rows(|y, x, len, tap| seen.extend((0..len).map(|k| (y + k, x + k, tap))));
        expected.sort_unstable();
        seen.sort_unstable();
        assert_eq!(seen, expected);
    }

    #[test]
    fn the_closed_form_work_counts_the_walked_multiply_adds() {
        for (x, w, dilation) in [
            ([1, 4096, 4, 4, 5], [4096, 1, 3, 4, 5], 1),
            ([8, 2, 10, 5, 354], [4, 2, 3, 1, 16], 4),
            ([2, 3, 5, 7, 9], [6, 1, 4, 2, 4], 3),
            ([1, 1, 3, 3, 4], [1, 1, 5, 5, 6], 1),
        ] {
            let g = Geometry::new(&x.into(), &w.into(), dilation);
            let (mut runs, mut macs) = (0, 0);
            g.rows(|_, _, len, _| {
                runs += 1;
                macs += len;
            });
            let per_kernel = (x[0] * w[0] * w[1]) as f64;
            let (rows, walked) = fused_work(x, w, dilation);
            assert_eq!(walked, macs as f64 * per_kernel, "{x:?} {w:?} dilation {dilation}");
            assert_eq!(rows, runs as f64 * per_kernel, "{x:?} {w:?} dilation {dilation}");
        }
    }

    fn itertools(p: usize, d: usize, t: usize) -> impl Iterator<Item = (usize, usize, usize)> {
        (0..p).flat_map(move |a| (0..d).flat_map(move |b| (0..t).map(move |c| (a, b, c))))
    }
}
