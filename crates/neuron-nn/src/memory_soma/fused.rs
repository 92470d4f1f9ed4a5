//! The memory's recurrence ([`super::leaky_memory`]'s loop over time) as one op on flex, with
//! back-propagation through time written out: a Burn backend extension ([`MemoryRecurrenceOps`])
//! implemented for flex, with its own backward for autodiff.
//!
//! Burn's loop records about ten ops per step for autodiff (760 steps in a fit's window): the
//! time goes to per-op overhead, not arithmetic. Here each (neuron, batch) chain runs its steps
//! in one loop, forward (keeping each step's hidden layer and update), and backward from the
//! last step to the first: the sequential part (the gradient through the memory, one step to
//! the one before) per chain, then the weight gradients as two GEMMs per neuron over every step
//! of every chain.

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

    /// [`Self::memory_recurrence`] keeping what the backward needs: the memory, and each step's
    /// hidden layer `[neurons, batch, time, hidden]` and update `[neurons, batch, time, units]`.
    fn memory_recurrence_states(
        drive: FloatTensor<Self>,
        w_memory: FloatTensor<Self>,
        w_out: FloatTensor<Self>,
        b_out: FloatTensor<Self>,
        decay: Vec<f64>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// The gradients of the loss with respect to `drive`, `w_memory`, `w_out` and `b_out`, given
    /// its gradient `grad` at the output, from the states [`Self::memory_recurrence_states`] kept.
    #[allow(clippy::too_many_arguments)]
    fn memory_recurrence_backward(
        w_memory: FloatTensor<Self>,
        w_out: FloatTensor<Self>,
        decay: Vec<f64>,
        memory: FloatTensor<Self>,
        hidden: FloatTensor<Self>,
        update: FloatTensor<Self>,
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
    use host_math::{axpy, dot};

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

    /// The memory trajectory `[neurons, batch, time, units]`, one (neuron, batch) chain per
    /// task; with `keep`, also each step's hidden layer and update (else empty).
    #[allow(clippy::type_complexity)]
    pub fn forward<T: Float + Send + Sync>(
        s: &Sizes,
        drive: &[T],
        w_memory: &[T],
        w_out: &[T],
        b_out: &[T],
        decay: &[T],
        keep: bool,
    ) -> (Vec<T>, Vec<T>, Vec<T>) {
        let (t_len, h, u) = (s.time, s.hidden, s.units);
        let chains = s.neurons * s.batch;
        let mut out = vec![T::zero(); chains * t_len * u];
        let states = if keep { t_len } else { 1 };
        let (mut hidden, mut update) = (
            vec![T::zero(); chains * states * h],
            vec![T::zero(); chains * states * u],
        );
        out.par_chunks_mut(t_len * u)
            .zip(hidden.par_chunks_mut(states * h))
            .zip(update.par_chunks_mut(states * u))
            .enumerate()
            .for_each(|(chain, ((out, hidden), update))| {
                let w = Weights::of(s, chain / s.batch, w_memory, w_out, b_out);
                let drive = &drive[chain * t_len * h..(chain + 1) * t_len * h];
                let (mut z, mut m) = (vec![T::zero(); h], vec![T::zero(); u]);
                for t in 0..t_len {
                    let at = if keep { t } else { 0 };
                    let (hid, upd) = (&mut hidden[at * h..(at + 1) * h], &mut update[at * u..(at + 1) * u]);
                    w.step(&drive[t * h..(t + 1) * h], &m, &mut z, hid, upd);
                    for ((mj, &k), &v) in m.iter_mut().zip(decay).zip(upd.iter()) {
                        *mj = k * *mj + (T::one() - k) * v;
                    }
                    out[t * u..(t + 1) * u].copy_from_slice(&m);
                }
            });
        if !keep {
            (hidden, update) = (Vec::new(), Vec::new());
        }
        (out, hidden, update)
    }

    /// The four gradients (drive, `W_m`, `W_out`, `b_out`) by back-propagation through time:
    /// each chain from its last step to its first (the gradient through the memory, and the
    /// pre-activations' gradients `dz`, `dy` of every step), then per neuron `W_out`'s gradient
    /// `Σ hiddenᵀ·dy` and `W_m`'s `Σ m[t−1]ᵀ·dz` as GEMMs over every step of its chains.
    #[allow(clippy::too_many_arguments)]
    pub fn backward<T: Float + Send + Sync + Gemm>(
        s: &Sizes,
        w_memory: &[T],
        w_out: &[T],
        decay: &[T],
        memory: &[T],
        hidden: &[T],
        update: &[T],
        grad: &[T],
    ) -> (Vec<T>, Vec<T>, Vec<T>, Vec<T>) {
        let (t_len, h, u) = (s.time, s.hidden, s.units);
        let chains = s.neurons * s.batch;
        let mut dz_all = vec![T::zero(); chains * t_len * h];
        let mut dy_all = vec![T::zero(); chains * t_len * u];
        dz_all
            .par_chunks_mut(t_len * h)
            .zip(dy_all.par_chunks_mut(t_len * u))
            .enumerate()
            .for_each(|(chain, (dz_chain, dy_chain))| {
                let n = chain / s.batch;
                let w_memory = &w_memory[n * u * h..(n + 1) * u * h];
                let w_out = &w_out[n * h * u..(n + 1) * h * u];
                let hidden = &hidden[chain * t_len * h..(chain + 1) * t_len * h];
                let update = &update[chain * t_len * u..(chain + 1) * t_len * u];
                let grad = &grad[chain * t_len * u..(chain + 1) * t_len * u];
                let mut carry = vec![T::zero(); u];
                for t in (0..t_len).rev() {
                    // m[t] = κ m[t−1] + (1 − κ) tanh(y): through the update, and the leak.
                    let dy = &mut dy_chain[t * u..(t + 1) * u];
                    for j in 0..u {
                        let g = grad[t * u + j] + carry[j];
                        let v = update[t * u + j];
                        dy[j] = g * (T::one() - decay[j]) * (T::one() - v * v);
                        carry[j] = g * decay[j];
                    }
                    // y = hidden·W_out + b_out, hidden = relu(z): only where z > 0 does a unit pass.
                    let dz = &mut dz_chain[t * h..(t + 1) * h];
                    for (k, dzk) in dz.iter_mut().enumerate() {
                        *dzk = if hidden[t * h + k] > T::zero() {
                            dot(&w_out[k * u..(k + 1) * u], dy)
                        } else {
                            T::zero()
                        };
                    }
                    // z = drive + m[t−1]·W_m.
                    if t > 0 {
                        for (j, cj) in carry.iter_mut().enumerate() {
                            *cj = *cj + dot(&w_memory[j * h..(j + 1) * h], dz);
                        }
                    }
                }
            });
        let (mut g_wm, mut g_wo, mut g_bo) = (
            vec![T::zero(); s.neurons * u * h],
            vec![T::zero(); s.neurons * h * u],
            vec![T::zero(); s.neurons * u],
        );
        let rows = s.batch * t_len;
        for n in 0..s.neurons {
            let steps = n * rows..(n + 1) * rows;
            // W_out: [h, u] += hiddenᵀ [h, rows] · dy [rows, u].
            T::gemm_at_b(
                &hidden[steps.start * h..steps.end * h],
                &dy_all[steps.start * u..steps.end * u],
                rows,
                h,
                u,
                &mut g_wo[n * h * u..(n + 1) * h * u],
            );
            for dy in dy_all[steps.start * u..steps.end * u].chunks(u) {
                axpy(&mut g_bo[n * u..(n + 1) * u], T::one(), dy);
            }
            // W_m: [u, h] += m[t−1]ᵀ · dz[t] over each chain's steps 1..T.
            for b in 0..s.batch {
                let chain = n * s.batch + b;
                let m = &memory[chain * t_len * u..(chain * t_len + t_len - 1) * u];
                let dz = &dz_all[(chain * t_len + 1) * h..(chain + 1) * t_len * h];
                T::gemm_at_b(m, dz, t_len - 1, u, h, &mut g_wm[n * u * h..(n + 1) * u * h]);
            }
        }
        (dz_all, g_wm, g_wo, g_bo)
    }

    /// `c += aᵀ·b` for row-major `a` `[k, m]`, `b` `[k, n]`, `c` `[m, n]`.
    pub trait Gemm: Sized {
        fn gemm_at_b(a: &[Self], b: &[Self], k: usize, m: usize, n: usize, c: &mut [Self]);
    }

    macro_rules! gemm {
        ($t:ty, $f:path) => {
            impl Gemm for $t {
                fn gemm_at_b(a: &[$t], b: &[$t], k: usize, m: usize, n: usize, c: &mut [$t]) {
                    assert!(
                        a.len() >= k * m && b.len() >= k * n && c.len() >= m * n,
                        "gemm: short slices"
                    );
                    if k == 0 {
                        return;
                    }
                    // SAFETY: the slices hold at least [k, m], [k, n] and [m, n] row-major
                    // elements (checked above), which the strides below address.
                    unsafe {
                        $f(
                            m,
                            k,
                            n,
                            1.0,
                            a.as_ptr(),
                            1,
                            m as isize,
                            b.as_ptr(),
                            n as isize,
                            1,
                            1.0,
                            c.as_mut_ptr(),
                            n as isize,
                            1,
                        )
                    }
                }
            }
        };
    }
    gemm!(f32, matrixmultiply::sgemm);
    gemm!(f64, matrixmultiply::dgemm);
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
            run_forward(drive, w_memory, w_out, b_out, &decay, false).0
        }

        fn memory_recurrence_states(
            drive: FloatTensor<Self>,
            w_memory: FloatTensor<Self>,
            w_out: FloatTensor<Self>,
            b_out: FloatTensor<Self>,
            decay: Vec<f64>,
        ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
            run_forward(drive, w_memory, w_out, b_out, &decay, true)
        }

        fn memory_recurrence_backward(
            w_memory: FloatTensor<Self>,
            w_out: FloatTensor<Self>,
            decay: Vec<f64>,
            memory: FloatTensor<Self>,
            hidden: FloatTensor<Self>,
            update: FloatTensor<Self>,
            grad: FloatTensor<Self>,
        ) -> (
            FloatTensor<Self>,
            FloatTensor<Self>,
            FloatTensor<Self>,
            FloatTensor<Self>,
        ) {
            let m_shape = memory.shape();
            let s = Sizes::new(
                &Shape::new([m_shape[0], m_shape[1], m_shape[2], w_memory.shape()[2]]),
                &w_memory.shape(),
                &decay,
            );
            let shapes = [
                vec![s.neurons, s.batch, s.time, s.hidden],
                vec![s.neurons, s.units, s.hidden],
                vec![s.neurons, s.hidden, s.units],
                vec![s.neurons, s.units],
            ];
            let [wm, wo, m, h, v, g] = [w_memory, w_out, memory, hidden, update, grad].map(|t| t.to_contiguous());
            macro_rules! run {
                ($t:ty) => {{
                    let (gd, gwm, gwo, gbo) = host::backward::<$t>(
                        &s,
                        wm.storage(),
                        wo.storage(),
                        &decays::<$t>(&decay),
                        m.storage(),
                        h.storage(),
                        v.storage(),
                        g.storage(),
                    );
                    let [s0, s1, s2, s3] = shapes;
                    (tensor(gd, s0), tensor(gwm, s1), tensor(gwo, s2), tensor(gbo, s3))
                }};
            }
            match wm.dtype() {
                DType::F32 => run!(f32),
                DType::F64 => run!(f64),
                other => panic!("MemorySoma: flex runs the fused recurrence on f32 and f64, not {other:?}"),
            }
        }
    }

    /// The memory, and with `keep` each step's hidden layer and update (else empty tensors).
    fn run_forward(
        drive: FloatTensor<Flex>,
        w_memory: FloatTensor<Flex>,
        w_out: FloatTensor<Flex>,
        b_out: FloatTensor<Flex>,
        decay: &[f64],
        keep: bool,
    ) -> (FloatTensor<Flex>, FloatTensor<Flex>, FloatTensor<Flex>) {
        let s = Sizes::new(&drive.shape(), &w_memory.shape(), decay);
        let [d, wm, wo, bo] = [drive, w_memory, w_out, b_out].map(|t| t.to_contiguous());
        let steps = if keep { s.time } else { 0 };
        let shapes = [
            vec![s.neurons, s.batch, s.time, s.units],
            vec![s.neurons, s.batch, steps, s.hidden],
            vec![s.neurons, s.batch, steps, s.units],
        ];
        macro_rules! run {
            ($t:ty) => {{
                let (m, h, v) = host::forward::<$t>(
                    &s,
                    d.storage(),
                    wm.storage(),
                    wo.storage(),
                    bo.storage(),
                    &decays::<$t>(decay),
                    keep,
                );
                let [s0, s1, s2] = shapes;
                (tensor(m, s0), tensor(h, s1), tensor(v, s2))
            }};
        }
        match d.dtype() {
            DType::F32 => run!(f32),
            DType::F64 => run!(f64),
            other => panic!("MemorySoma: flex runs the fused recurrence on f32 and f64, not {other:?}"),
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
            /// The weights (checkpointed), the decays, and the states the forward kept.
            type State = ([NodeId; 2], Vec<f64>, [FloatTensor<B>; 3]);

            fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
                let grad = grads.consume::<B>(&ops.node);
                let (ids, decay, [memory, hidden, update]) = ops.state;
                let [w_memory, w_out] = ids.map(|id| checkpointer.retrieve_node_output::<FloatTensor<B>>(id));
                let (g0, g1, g2, g3) =
                    B::memory_recurrence_backward(w_memory, w_out, decay, memory, hidden, update, grad);
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
                let ids = [&w_memory, &w_out].map(|t| prep.checkpoint(t));
                let (out, hidden, update) = B::memory_recurrence_states(
                    drive.into_primitive(),
                    w_memory.into_primitive(),
                    w_out.into_primitive(),
                    b_out.into_primitive(),
                    decay.clone(),
                );
                prep.finish((ids, decay, [out.clone(), hidden, update]), out)
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

    fn memory_recurrence_states(
        _drive: FloatTensor<Self>,
        _w_memory: FloatTensor<Self>,
        _w_out: FloatTensor<Self>,
        _b_out: FloatTensor<Self>,
        _decay: Vec<f64>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        panic!("MemorySoma: the recurrence's states are kept by its own autodiff step, not asked for")
    }

    fn memory_recurrence_backward(
        _w_memory: FloatTensor<Self>,
        _w_out: FloatTensor<Self>,
        _decay: Vec<f64>,
        _memory: FloatTensor<Self>,
        _hidden: FloatTensor<Self>,
        _update: FloatTensor<Self>,
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
