//! The dendritic spike ([`super::dendritic_spike`]) as one op on flex with its own backward: the
//! window's maximum, the gate and the blend in one pass over each `[positions, dendrites, time]`
//! plane, where Burn runs a max pool and eight element-wise ops, each a pass over the tensor
//! and a node for autodiff.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::{Backend, backend_extension, tensor::FloatTensor};
use burn::tensor::{Shape, Tensor};

use crate::backend_kind::BackendKind;
use crate::dendrites::same_padding;

/// The fused dendritic spike, per backend. Call it through [`fused_dendritic_spike`].
#[backend_extension(Flex: cfg(feature = "flex"), Autodiff)]
pub trait DendriticSpikeOps: Backend {
    /// `y = (1 − a)·x + a·m`, `a = g·σ((m − θ)/τ)`, `m` the maximum over the `window` positions
    /// around each (a window of `2·positions − 1` or more: the whole dendrite): `x` `[batch,
    /// neurons · channels, positions, dendrites, time]`, `gain` and `threshold` `[neurons]`.
    fn fused_dendritic_spike(
        x: FloatTensor<Self>,
        gain: FloatTensor<Self>,
        threshold: FloatTensor<Self>,
        temperature: f64,
        window: usize,
    ) -> FloatTensor<Self>;

    /// The gradients with respect to `x`, `gain` and `threshold`, given the output's `grad`.
    fn fused_dendritic_spike_backward(
        x: FloatTensor<Self>,
        gain: FloatTensor<Self>,
        threshold: FloatTensor<Self>,
        temperature: f64,
        window: usize,
        grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// Whether the fused spike runs for `x` (flex, f32 or f64).
pub fn fused_spike_supported(x: &Tensor<5>) -> bool {
    BackendKind::of(&x.device()).has_fused_loop(x.dtype())
}

/// The dendritic spike in one op, differentiable in `x`, `gain` and `threshold`; `window`
/// `None` pools the whole dendrite.
///
/// # Shapes
///
/// As [`super::dendritic_spike`].
///
/// # Panics
///
/// Off flex, or on a float type other than f32 and f64.
pub fn fused_dendritic_spike(
    x: Tensor<5>,
    gain: Tensor<1>,
    threshold: Tensor<1>,
    temperature: f64,
    window: Option<usize>,
) -> Tensor<5> {
    let backend = BackendKind::of(&x.device());
    assert!(
        backend.has_fused_loop(x.dtype()),
        "DendriticSpike: the fused spike runs on flex with f32 or f64 tensors, not on {} with {:?}",
        backend.name(),
        x.dtype()
    );
    let positions = x.dims()[2];
    let window = window.unwrap_or(2 * positions).max(1);
    Tensor::from_dispatch(<burn::backend::Dispatch as DendriticSpikeOps>::fused_dendritic_spike(
        x.into_dispatch(),
        gain.into_dispatch(),
        threshold.into_dispatch(),
        temperature,
        window,
    ))
}

/// The sizes of one spike: planes of `positions` rows of `row` elements.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Planes {
    batch: usize,
    channels: usize,
    neurons: usize,
    positions: usize,
    row: usize,
    /// Positions before and after each one in its window.
    reach: (usize, usize),
}

impl Planes {
    fn new(x: &Shape, neurons: usize, window: usize) -> Self {
        let x = x.as_slice();
        assert!(
            x.len() == 5 && neurons > 0 && x[1].is_multiple_of(neurons),
            "DendriticSpike: input {x:?} is not [batch, neurons · channels, positions, dendrites, time] for {neurons} neurons"
        );
        let positions = x[2];
        let reach = if window >= 2 * positions - 1 {
            (positions, positions)
        } else {
            same_padding(window)
        };
        Self {
            batch: x[0],
            channels: x[1],
            neurons,
            positions,
            row: x[3] * x[4],
            reach,
        }
    }

    /// The window of position `p`: its first and last position.
    fn window(&self, p: usize) -> (usize, usize) {
        (
            p.saturating_sub(self.reach.0),
            (p + self.reach.1).min(self.positions - 1),
        )
    }

    fn plane(&self) -> usize {
        self.positions * self.row
    }
}

#[cfg(feature = "flex")]
mod host {
    use num_traits::Float;
    use rayon::prelude::*;

    use super::Planes;
    use host_math::{HostFloat, sigmoid, sum, wide_kernel};

    /// The window's maximum for every element of row `p` (into `m`), and with `offset` the
    /// position holding it (the first of equals), counted from the window's first, as a float
    /// (so that the loops select instead of branching, and vectorise).
    #[inline(always)]
    fn window_max<T: Float>(g: &Planes, x: &[T], p: usize, m: &mut [T], mut offset: Option<&mut [T]>) {
        let (lo, hi) = g.window(p);
        let r = g.row;
        m.copy_from_slice(&x[lo * r..(lo + 1) * r]);
        if let Some(o) = offset.as_deref_mut() {
            o.fill(T::zero());
        }
        for q in lo + 1..=hi {
            let row = &x[q * r..(q + 1) * r];
            match offset.as_deref_mut() {
                None => m.iter_mut().zip(row).for_each(|(mi, &v)| *mi = mi.max(v)),
                Some(o) => {
                    let k = T::from(q - lo).expect("a small offset");
                    for ((mi, oi), &v) in m.iter_mut().zip(o.iter_mut()).zip(row) {
                        let above = v > *mi;
                        *mi = if above { v } else { *mi };
                        *oi = if above { k } else { *oi };
                    }
                }
            }
        }
    }

    /// One (batch, channel) plane per task.
    pub fn forward<T: HostFloat>(g: &Planes, x: &[T], gain: &[T], threshold: &[T], temperature: T) -> Vec<T> {
        let mut y = vec![T::zero(); x.len()];
        let per_neuron = g.channels / g.neurons;
        y.par_chunks_mut(g.plane()).enumerate().for_each(|(bc, out)| {
            let n = (bc % g.channels) / per_neuron;
            let x = &x[bc * g.plane()..(bc + 1) * g.plane()];
            forward_plane(g, x, gain[n], threshold[n], temperature, out);
        });
        y
    }

    wide_kernel! {
        /// One (batch, channel) plane's output.
        fn forward_plane<T: HostFloat>(g: &Planes, x: &[T], gn: T, tn: T, temperature: T, out: &mut [T]) =
            forward_plane_kernel;
    }

    #[inline(always)]
    fn forward_plane_kernel<T: HostFloat>(g: &Planes, x: &[T], gn: T, tn: T, temperature: T, out: &mut [T]) {
        let mut m = vec![T::zero(); g.row];
        for p in 0..g.positions {
            window_max(g, x, p, &mut m, None);
            let (xr, yr) = (&x[p * g.row..(p + 1) * g.row], &mut out[p * g.row..(p + 1) * g.row]);
            for ((yi, &xi), &mi) in yr.iter_mut().zip(xr).zip(&m) {
                // As a blend, so that a = 0 gives x and a = 1 gives m exactly.
                let a = gn * sigmoid((mi - tn) / temperature);
                *yi = xi * (T::one() - a) + mi * a;
            }
        }
    }

    wide_kernel! {
        /// One plane's input gradient (into `dx`) and its shares of the gain's and the
        /// threshold's.
        fn backward_plane<T: HostFloat>(g: &Planes, x: &[T], grad: &[T], gn: T, tn: T, temperature: T, dx: &mut [T]) -> (T, T) =
            backward_plane_kernel;
    }

    #[inline(always)]
    fn backward_plane_kernel<T: HostFloat>(
        g: &Planes,
        x: &[T],
        grad: &[T],
        gn: T,
        tn: T,
        temperature: T,
        dx: &mut [T],
    ) -> (T, T) {
        let (mut m, mut argmax) = (vec![T::zero(); g.row], vec![T::zero(); g.row]);
        let mut dm = vec![T::zero(); g.row];
        // The parameters' gradients summed per element of a row, so that the loop is elementwise
        // and vectorises; summed over the row at the end.
        let (mut dg, mut dt) = (vec![T::zero(); g.row], vec![T::zero(); g.row]);
        let inv_t = T::one() / temperature;
        for p in 0..g.positions {
            window_max(g, x, p, &mut m, Some(&mut argmax));
            let rows = p * g.row..(p + 1) * g.row;
            let (dx_row, x_row, grad_row) = (&mut dx[rows.clone()], &x[rows.clone()], &grad[rows]);
            // y = (1 − a)·x + a·m: through x directly, and through m (and a) to its argmax.
            for e in 0..g.row {
                let (xi, mi, dy) = (x_row[e], m[e], grad_row[e]);
                let s = sigmoid((mi - tn) * inv_t);
                let a = gn * s;
                let diff = mi - xi;
                let slope = a * (T::one() - s) * inv_t;
                dx_row[e] = dx_row[e] + dy * (T::one() - a);
                dm[e] = dy * (a + diff * slope);
                dg[e] = dg[e] + dy * s * diff;
                dt[e] = dt[e] - dy * diff * slope;
            }
            // Each window row takes the gradient of the maxima it holds.
            let (lo, hi) = g.window(p);
            for q in lo..=hi {
                let k = T::from(q - lo).expect("a small offset");
                let target = &mut dx[q * g.row..(q + 1) * g.row];
                for ((t, &dmi), &at) in target.iter_mut().zip(&dm).zip(&argmax) {
                    *t = *t + if at == k { dmi } else { T::zero() };
                }
            }
        }
        (sum(&dg), sum(&dt))
    }

    /// `(dx, dgain, dthreshold)`: each plane's share of the parameters' gradients summed per
    /// neuron.
    pub fn backward<T: HostFloat>(
        g: &Planes,
        x: &[T],
        gain: &[T],
        threshold: &[T],
        temperature: T,
        grad: &[T],
    ) -> (Vec<T>, Vec<T>, Vec<T>) {
        let per_neuron = g.channels / g.neurons;
        let planes = g.batch * g.channels;
        let mut dx = vec![T::zero(); x.len()];
        let mut dparams = vec![T::zero(); 2 * planes];
        dx.par_chunks_mut(g.plane())
            .zip(dparams.par_chunks_mut(2))
            .enumerate()
            .for_each(|(bc, (dx, dp))| {
                let n = (bc % g.channels) / per_neuron;
                let plane = bc * g.plane()..(bc + 1) * g.plane();
                let (x, grad) = (&x[plane.clone()], &grad[plane]);
                let (dg, dt) = backward_plane(g, x, grad, gain[n], threshold[n], temperature, dx);
                dp[0] = dg;
                dp[1] = dt;
            });
        let (mut dgain, mut dthreshold) = (vec![T::zero(); g.neurons], vec![T::zero(); g.neurons]);
        for (bc, dp) in dparams.chunks(2).enumerate() {
            let n = (bc % g.channels) / per_neuron;
            dgain[n] = dgain[n] + dp[0];
            dthreshold[n] = dthreshold[n] + dp[1];
        }
        (dx, dgain, dthreshold)
    }
}

#[cfg(feature = "flex")]
mod flex {
    use burn::backend::{Flex, TensorMetadata, tensor::FloatTensor};
    use burn::tensor::{DType, TensorData};

    use super::{DendriticSpikeOps, Planes, host};

    fn tensor<T: burn::tensor::Element>(values: Vec<T>, shape: Vec<usize>) -> FloatTensor<Flex> {
        FloatTensor::<Flex>::from_data(TensorData::new(values, shape))
    }

    impl DendriticSpikeOps for Flex {
        fn fused_dendritic_spike(
            x: FloatTensor<Self>,
            gain: FloatTensor<Self>,
            threshold: FloatTensor<Self>,
            temperature: f64,
            window: usize,
        ) -> FloatTensor<Self> {
            let shape = x.shape();
            let g = Planes::new(&shape, gain.shape()[0], window);
            let [x, gain, threshold] = [x, gain, threshold].map(|t| t.to_contiguous());
            match x.dtype() {
                DType::F32 => tensor(
                    host::forward::<f32>(&g, x.storage(), gain.storage(), threshold.storage(), temperature as f32),
                    shape.to_vec(),
                ),
                DType::F64 => tensor(
                    host::forward::<f64>(&g, x.storage(), gain.storage(), threshold.storage(), temperature),
                    shape.to_vec(),
                ),
                other => panic!("DendriticSpike: flex runs the fused spike on f32 and f64, not {other:?}"),
            }
        }

        fn fused_dendritic_spike_backward(
            x: FloatTensor<Self>,
            gain: FloatTensor<Self>,
            threshold: FloatTensor<Self>,
            temperature: f64,
            window: usize,
            grad: FloatTensor<Self>,
        ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
            let (shape, neurons) = (x.shape(), gain.shape()[0]);
            let g = Planes::new(&shape, neurons, window);
            let [x, gain, threshold, grad] = [x, gain, threshold, grad].map(|t| t.to_contiguous());
            macro_rules! run {
                ($t:ty) => {{
                    let (dx, dg, dt) = host::backward::<$t>(
                        &g,
                        x.storage(),
                        gain.storage(),
                        threshold.storage(),
                        temperature as $t,
                        grad.storage(),
                    );
                    (
                        tensor(dx, shape.to_vec()),
                        tensor(dg, vec![neurons]),
                        tensor(dt, vec![neurons]),
                    )
                }};
            }
            match x.dtype() {
                DType::F32 => run!(f32),
                DType::F64 => run!(f64),
                other => panic!("DendriticSpike: flex runs the fused spike on f32 and f64, not {other:?}"),
            }
        }
    }
}

impl<B: Backend + DendriticSpikeOps, C: CheckpointStrategy> DendriticSpikeOps for Autodiff<B, C> {
    fn fused_dendritic_spike(
        x: FloatTensor<Self>,
        gain: FloatTensor<Self>,
        threshold: FloatTensor<Self>,
        temperature: f64,
        window: usize,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct FusedSpike;

        impl<B: Backend + DendriticSpikeOps> Backward<B, 3> for FusedSpike {
            /// The inputs (checkpointed), τ and the window.
            type State = ([NodeId; 3], f64, usize);

            fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
                let grad = grads.consume::<B>(&ops.node);
                let (ids, temperature, window) = ops.state;
                let [x, gain, threshold] = ids.map(|id| checkpointer.retrieve_node_output::<FloatTensor<B>>(id));
                let (dx, dg, dt) = B::fused_dendritic_spike_backward(x, gain, threshold, temperature, window, grad);
                for (parent, g) in ops.parents.into_iter().zip([dx, dg, dt]) {
                    if let Some(node) = parent {
                        grads.register::<B>(node.id, g);
                    }
                }
            }
        }

        match FusedSpike
            .prepare::<C>([x.node(), gain.node(), threshold.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let ids = [&x, &gain, &threshold].map(|t| prep.checkpoint(t));
                let y = B::fused_dendritic_spike(
                    x.into_primitive(),
                    gain.into_primitive(),
                    threshold.into_primitive(),
                    temperature,
                    window,
                );
                prep.finish((ids, temperature, window), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_dendritic_spike(
                x.into_primitive(),
                gain.into_primitive(),
                threshold.into_primitive(),
                temperature,
                window,
            )),
        }
    }

    fn fused_dendritic_spike_backward(
        _x: FloatTensor<Self>,
        _gain: FloatTensor<Self>,
        _threshold: FloatTensor<Self>,
        _temperature: f64,
        _window: usize,
        _grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        panic!("DendriticSpike: second derivatives of the fused spike are not implemented")
    }
}
