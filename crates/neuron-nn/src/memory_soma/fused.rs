//! The memory's recurrence ([`super::leaky_memory`]'s loop over time) as one op on flex, with
//! back-propagation through time written out: a Burn backend extension ([`MemoryRecurrenceOps`])
//! implemented for flex, with its own backward for autodiff.
//!
//! Burn's loop records about ten ops per step for autodiff (760 steps in a fit's window): the
//! time goes to per-op overhead, not arithmetic. Here each (neuron, batch) chain runs its steps
//! in one loop, forward, and backward from the last step to the first, recomputing each step's
//! hidden layer and update from the saved memory trajectory (cheaper than keeping them).

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::{Backend, backend_extension, tensor::FloatTensor};
use burn::tensor::{Shape, Tensor};

use crate::backend_kind::BackendKind;

/// The memory recurrence, per backend. Call it through [`memory_recurrence`].
#[backend_extension(Flex: cfg(feature = "flex"), Autodiff)]
pub trait MemoryRecurrenceOps: Backend {
    /// `m[t] = κ ⊙ m[t−1] + (1 − κ) ⊙ tanh(relu(drive[t] + m[t−1]·W_m)·W_out + b_out)`, `m[−1] = 0`,
    /// per (neuron, batch) chain: `drive` `[neurons, batch, time, hidden]`, `w_memory`
    /// `[neurons, units, hidden]`, `w_out` `[neurons, hidden, units]`, `b_out` `[neurons,
    /// units]`, `decay` the `units` values κ; output `[neurons, batch, time, units]`.
    fn memory_recurrence(
        drive: FloatTensor<Self>,
        w_memory: FloatTensor<Self>,
        w_out: FloatTensor<Self>,
        b_out: FloatTensor<Self>,
        decay: Vec<f64>,
    ) -> FloatTensor<Self>;

    /// The gradients of the loss with respect to `drive`, `w_memory`, `w_out` and `b_out`, given
    /// its gradient `grad` at the output `memory` (what [`Self::memory_recurrence`] returned).
    #[allow(clippy::too_many_arguments)]
    fn memory_recurrence_backward(
        drive: FloatTensor<Self>,
        w_memory: FloatTensor<Self>,
        w_out: FloatTensor<Self>,
        b_out: FloatTensor<Self>,
        decay: Vec<f64>,
        memory: FloatTensor<Self>,
        grad: FloatTensor<Self>,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    );
}

/// Whether the fused recurrence runs for tensors of `x`'s backend and float type: flex's f32
/// and f64 (elsewhere [`super::leaky_memory`] runs Burn's loop).
pub fn fused_memory_supported(x: &Tensor<3>) -> bool {
    BackendKind::of(&x.device()).has_fused_loop(x.dtype())
}

/// The recurrence on tensors, differentiable in every argument but `decay`.
///
/// # Shapes
///
/// - drive: `[neurons, batch, time, hidden]` (the input's share of the first layer and its bias)
/// - w_memory: `[neurons, units, hidden]`; w_out: `[neurons, hidden, units]`; b_out: `[neurons, units]`
/// - output: `[neurons, batch, time, units]`
///
/// # Panics
///
/// Off flex, or on a float type other than f32 and f64 (see [`fused_memory_supported`]).
pub fn memory_recurrence(
    drive: Tensor<4>,
    w_memory: Tensor<3>,
    w_out: Tensor<3>,
    b_out: Tensor<2>,
    decay: &[f64],
) -> Tensor<4> {
    let backend = BackendKind::of(&drive.device());
    assert!(
        backend.has_fused_loop(drive.dtype()),
        "MemorySoma: the fused recurrence runs on flex with f32 or f64 tensors, not on {} with {:?}",
        backend.name(),
        drive.dtype()
    );
    Tensor::from_dispatch(<burn::backend::Dispatch as MemoryRecurrenceOps>::memory_recurrence(
        drive.into_dispatch(),
        w_memory.into_dispatch(),
        w_out.into_dispatch(),
        b_out.into_dispatch(),
        decay.to_vec(),
    ))
}

/// The sizes of one recurrence.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sizes {
    neurons: usize,
    batch: usize,
    time: usize,
    hidden: usize,
    units: usize,
}

impl Sizes {
    fn new(drive: &Shape, w_memory: &Shape, decay: &[f64]) -> Self {
        let (d, w) = (drive.as_slice(), w_memory.as_slice());
        assert!(
            d.len() == 4 && w.len() == 3 && w[0] == d[0] && w[2] == d[3] && w[1] == decay.len(),
            "MemorySoma: drive {d:?}, memory weight {w:?} and {} decays do not fit ([neurons, batch, time, \
             hidden], [neurons, units, hidden], units)",
            decay.len()
        );
        Self {
            neurons: d[0],
            batch: d[1],
            time: d[2],
            hidden: d[3],
            units: w[1],
        }
    }
}

/// The loops on host slices (contiguous, row-major), generic over the float type.
#[cfg(feature = "flex")]
mod host {
    use num_traits::Float;
    use rayon::prelude::*;

    use super::Sizes;
    use crate::host_math::{axpy, dot};

    /// One chain's weights.
    struct Weights<'a, T> {
        w_memory: &'a [T],
        w_out: &'a [T],
        b_out: &'a [T],
    }

    impl<'a, T: Float> Weights<'a, T> {
        fn of(s: &Sizes, n: usize, w_memory: &'a [T], w_out: &'a [T], b_out: &'a [T]) -> Self {
            let (h, u) = (s.hidden, s.units);
            Self {
                w_memory: &w_memory[n * u * h..(n + 1) * u * h],
                w_out: &w_out[n * h * u..(n + 1) * h * u],
                b_out: &b_out[n * u..(n + 1) * u],
            }
        }

        /// One step's pre-activation `z = drive + m·W_m` (into `z`), hidden layer `relu(z)`
        /// (into `hidden`) and update `tanh(hidden·W_out + b_out)` (into `update`).
        fn step(&self, drive: &[T], m: &[T], z: &mut [T], hidden: &mut [T], update: &mut [T]) {
            let h = z.len();
            z.copy_from_slice(drive);
            for (j, &mj) in m.iter().enumerate() {
                if mj != T::zero() {
                    axpy(z, mj, &self.w_memory[j * h..(j + 1) * h]);
                }
            }
            let u = update.len();
            update.copy_from_slice(self.b_out);
            for (k, (hk, &zk)) in hidden.iter_mut().zip(z.iter()).enumerate() {
                *hk = zk.max(T::zero());
                if *hk != T::zero() {
                    axpy(update, *hk, &self.w_out[k * u..(k + 1) * u]);
                }
            }
            for v in update.iter_mut() {
                *v = v.tanh();
            }
        }
    }

    /// The memory trajectory `[neurons, batch, time, units]`, one (neuron, batch) chain per task.
    pub fn forward<T: Float + Send + Sync>(
        s: &Sizes,
        drive: &[T],
        w_memory: &[T],
        w_out: &[T],
        b_out: &[T],
        decay: &[T],
    ) -> Vec<T> {
        let (t_len, h, u) = (s.time, s.hidden, s.units);
        let mut out = vec![T::zero(); s.neurons * s.batch * t_len * u];
        out.par_chunks_mut(t_len * u).enumerate().for_each(|(chain, out)| {
            let w = Weights::of(s, chain / s.batch, w_memory, w_out, b_out);
            let drive = &drive[chain * t_len * h..(chain + 1) * t_len * h];
            let (mut z, mut hidden, mut update, mut m) = (
                vec![T::zero(); h],
                vec![T::zero(); h],
                vec![T::zero(); u],
                vec![T::zero(); u],
            );
            for t in 0..t_len {
                w.step(&drive[t * h..(t + 1) * h], &m, &mut z, &mut hidden, &mut update);
                for ((mj, &k), &v) in m.iter_mut().zip(decay).zip(&update) {
                    *mj = k * *mj + (T::one() - k) * v;
                }
                out[t * u..(t + 1) * u].copy_from_slice(&m);
            }
        });
        out
    }

    /// The four gradients (drive, `W_m`, `W_out`, `b_out`) by back-propagation through time,
    /// each chain from its last step to its first.
    #[allow(clippy::too_many_arguments)]
    pub fn backward<T: Float + Send + Sync>(
        s: &Sizes,
        drive: &[T],
        w_memory: &[T],
        w_out: &[T],
        b_out: &[T],
        decay: &[T],
        memory: &[T],
        grad: &[T],
    ) -> (Vec<T>, Vec<T>, Vec<T>, Vec<T>) {
        let (t_len, h, u) = (s.time, s.hidden, s.units);
        let chains = s.neurons * s.batch;
        let mut g_drive = vec![T::zero(); drive.len()];
        // Each chain's share of the weight gradients: W_m, then W_out, then b_out.
        let per_chain = u * h + h * u + u;
        let mut g_weights = vec![T::zero(); chains * per_chain];
        g_drive
            .par_chunks_mut(t_len * h)
            .zip(g_weights.par_chunks_mut(per_chain))
            .enumerate()
            .for_each(|(chain, (g_drive, g_weights))| {
                let w = Weights::of(s, chain / s.batch, w_memory, w_out, b_out);
                let (g_wm, rest) = g_weights.split_at_mut(u * h);
                let (g_wo, g_bo) = rest.split_at_mut(h * u);
                let drive = &drive[chain * t_len * h..(chain + 1) * t_len * h];
                let memory = &memory[chain * t_len * u..(chain + 1) * t_len * u];
                let grad = &grad[chain * t_len * u..(chain + 1) * t_len * u];
                let zeros = vec![T::zero(); u];
                let (mut z, mut hidden, mut update) = (vec![T::zero(); h], vec![T::zero(); h], vec![T::zero(); u]);
                let (mut carry, mut dy, mut dh) = (vec![T::zero(); u], vec![T::zero(); u], vec![T::zero(); h]);
                for t in (0..t_len).rev() {
                    let m_prev = if t == 0 {
                        &zeros[..]
                    } else {
                        &memory[(t - 1) * u..t * u]
                    };
                    w.step(&drive[t * h..(t + 1) * h], m_prev, &mut z, &mut hidden, &mut update);
                    // m[t] = κ m[t−1] + (1 − κ) tanh(y): through the update, and the leak.
                    for j in 0..u {
                        let g = grad[t * u + j] + carry[j];
                        dy[j] = g * (T::one() - decay[j]) * (T::one() - update[j] * update[j]);
                        carry[j] = g * decay[j];
                        g_bo[j] = g_bo[j] + dy[j];
                    }
                    // y = hidden·W_out + b_out.
                    for k in 0..h {
                        let row = &w.w_out[k * u..(k + 1) * u];
                        if hidden[k] != T::zero() {
                            axpy(&mut g_wo[k * u..(k + 1) * u], hidden[k], &dy);
                        }
                        // relu: only where z > 0 does the hidden unit pass a gradient.
                        dh[k] = if z[k] > T::zero() { dot(row, &dy) } else { T::zero() };
                    }
                    g_drive[t * h..(t + 1) * h].copy_from_slice(&dh);
                    // z = drive + m[t−1]·W_m.
                    for j in 0..u {
                        let row = &w.w_memory[j * h..(j + 1) * h];
                        if m_prev[j] != T::zero() {
                            axpy(&mut g_wm[j * h..(j + 1) * h], m_prev[j], &dh);
                        }
                        carry[j] = carry[j] + dot(row, &dh);
                    }
                }
            });
        // Sum each neuron's chains.
        let mut sums = vec![
            vec![T::zero(); s.neurons * u * h],
            vec![T::zero(); s.neurons * h * u],
            vec![T::zero(); s.neurons * u],
        ];
        for (chain, g) in g_weights.chunks(per_chain).enumerate() {
            let n = chain / s.batch;
            let parts = [(0, u * h), (u * h, h * u), (u * h + h * u, u)];
            for (sum, (start, len)) in sums.iter_mut().zip(parts) {
                for (o, &v) in sum[n * len..(n + 1) * len].iter_mut().zip(&g[start..start + len]) {
                    *o = *o + v;
                }
            }
        }
        let g_bo = sums.pop().expect("three sums");
        let g_wo = sums.pop().expect("three sums");
        let g_wm = sums.pop().expect("three sums");
        (g_drive, g_wm, g_wo, g_bo)
    }
}

#[cfg(feature = "flex")]
mod flex {
    use burn::backend::{Flex, TensorMetadata, tensor::FloatTensor};
    use burn::tensor::{DType, Shape, TensorData};
    use num_traits::Float;

    use super::{MemoryRecurrenceOps, Sizes, host};

    fn tensor<T: burn::tensor::Element>(values: Vec<T>, shape: Vec<usize>) -> FloatTensor<Flex> {
        FloatTensor::<Flex>::from_data(TensorData::new(values, shape))
    }

    fn decays<T: Float>(decay: &[f64]) -> Vec<T> {
        decay.iter().map(|&k| T::from(k).expect("a decay in range")).collect()
    }

    impl MemoryRecurrenceOps for Flex {
        fn memory_recurrence(
            drive: FloatTensor<Self>,
            w_memory: FloatTensor<Self>,
            w_out: FloatTensor<Self>,
            b_out: FloatTensor<Self>,
            decay: Vec<f64>,
        ) -> FloatTensor<Self> {
            let s = Sizes::new(&drive.shape(), &w_memory.shape(), &decay);
            let [d, wm, wo, bo] = [drive, w_memory, w_out, b_out].map(|t| t.to_contiguous());
            let shape = vec![s.neurons, s.batch, s.time, s.units];
            macro_rules! run {
                ($t:ty) => {
                    tensor(
                        host::forward::<$t>(
                            &s,
                            d.storage(),
                            wm.storage(),
                            wo.storage(),
                            bo.storage(),
                            &decays::<$t>(&decay),
                        ),
                        shape,
                    )
                };
            }
            match d.dtype() {
                DType::F32 => run!(f32),
                DType::F64 => run!(f64),
                other => panic!("MemorySoma: flex runs the fused recurrence on f32 and f64, not {other:?}"),
            }
        }

        fn memory_recurrence_backward(
            drive: FloatTensor<Self>,
            w_memory: FloatTensor<Self>,
            w_out: FloatTensor<Self>,
            b_out: FloatTensor<Self>,
            decay: Vec<f64>,
            memory: FloatTensor<Self>,
            grad: FloatTensor<Self>,
        ) -> (
            FloatTensor<Self>,
            FloatTensor<Self>,
            FloatTensor<Self>,
            FloatTensor<Self>,
        ) {
            let s = Sizes::new(&drive.shape(), &w_memory.shape(), &decay);
            let shapes: Vec<Shape> = [&drive, &w_memory, &w_out, &b_out].map(|t| t.shape()).to_vec();
            let [d, wm, wo, bo, m, g] = [drive, w_memory, w_out, b_out, memory, grad].map(|t| t.to_contiguous());
            macro_rules! run {
                ($t:ty) => {{
                    let (gd, gwm, gwo, gbo) = host::backward::<$t>(
                        &s,
                        d.storage(),
                        wm.storage(),
                        wo.storage(),
                        bo.storage(),
                        &decays::<$t>(&decay),
                        m.storage(),
                        g.storage(),
                    );
                    (
                        tensor(gd, shapes[0].to_vec()),
                        tensor(gwm, shapes[1].to_vec()),
                        tensor(gwo, shapes[2].to_vec()),
                        tensor(gbo, shapes[3].to_vec()),
                    )
                }};
            }
            match d.dtype() {
                DType::F32 => run!(f32),
                DType::F64 => run!(f64),
                other => panic!("MemorySoma: flex runs the fused recurrence on f32 and f64, not {other:?}"),
            }
        }
    }
}

impl<B: Backend + MemoryRecurrenceOps, C: CheckpointStrategy> MemoryRecurrenceOps for Autodiff<B, C> {
    fn memory_recurrence(
        drive: FloatTensor<Self>,
        w_memory: FloatTensor<Self>,
        w_out: FloatTensor<Self>,
        b_out: FloatTensor<Self>,
        decay: Vec<f64>,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct MemoryRecurrence;

        impl<B: Backend + MemoryRecurrenceOps> Backward<B, 4> for MemoryRecurrence {
            /// The inputs (checkpointed) and the output, which the backward recomputes from.
            type State = ([NodeId; 4], Vec<f64>, FloatTensor<B>);

            fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
                let grad = grads.consume::<B>(&ops.node);
                let (ids, decay, memory) = ops.state;
                let [drive, w_memory, w_out, b_out] =
                    ids.map(|id| checkpointer.retrieve_node_output::<FloatTensor<B>>(id));
                let (g0, g1, g2, g3) =
                    B::memory_recurrence_backward(drive, w_memory, w_out, b_out, decay, memory, grad);
                for (parent, g) in ops.parents.into_iter().zip([g0, g1, g2, g3]) {
                    if let Some(node) = parent {
                        grads.register::<B>(node.id, g);
                    }
                }
            }
        }

        let parents = [drive.node(), w_memory.node(), w_out.node(), b_out.node()];
        match MemoryRecurrence.prepare::<C>(parents).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let ids = [&drive, &w_memory, &w_out, &b_out].map(|t| prep.checkpoint(t));
                let out = B::memory_recurrence(
                    drive.into_primitive(),
                    w_memory.into_primitive(),
                    w_out.into_primitive(),
                    b_out.into_primitive(),
                    decay.clone(),
                );
                prep.finish((ids, decay, out.clone()), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::memory_recurrence(
                drive.into_primitive(),
                w_memory.into_primitive(),
                w_out.into_primitive(),
                b_out.into_primitive(),
                decay,
            )),
        }
    }

    fn memory_recurrence_backward(
        _drive: FloatTensor<Self>,
        _w_memory: FloatTensor<Self>,
        _w_out: FloatTensor<Self>,
        _b_out: FloatTensor<Self>,
        _decay: Vec<f64>,
        _memory: FloatTensor<Self>,
        _grad: FloatTensor<Self>,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        panic!("MemorySoma: second derivatives of the fused recurrence are not implemented")
    }
}
