//! Softplus as one op on flex with its own backward: `ln(1 + eˣ)` forward and `σ(x)` backward
//! in one pass each, where Burn's `softplus` runs seven element-wise ops (its threshold mask
//! among them), each a pass over the tensor and a node for autodiff.

use burn::backend::autodiff::Autodiff;
use burn::backend::autodiff::NodeId;
use burn::backend::autodiff::checkpoint::{base::Checkpointer, strategy::CheckpointStrategy};
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::{Backend, backend_extension, tensor::FloatTensor};
use burn::tensor::Tensor;

use crate::backend_kind::BackendKind;

/// Above this, softplus is `x` itself (as Burn's `softplus` with β = 1).
const THRESHOLD: f64 = 20.0;

/// The fused softplus, per backend. Call it through [`fused_softplus`].
#[backend_extension(Flex: cfg(feature = "flex"), Autodiff)]
pub trait SoftplusOps: Backend {
    /// `ln(1 + eˣ)` elementwise (`x` above 20).
    fn fused_softplus(x: FloatTensor<Self>) -> FloatTensor<Self>;

    /// `grad · σ(x)` elementwise (`grad` above 20).
    fn fused_softplus_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self>;
}

/// Whether the fused softplus runs for `x` (flex, f32 or f64).
pub fn fused_softplus_supported<const D: usize>(x: &Tensor<D>) -> bool {
    BackendKind::of(&x.device()).has_fused_loop(x.dtype())
}

/// Softplus in one op, differentiable.
///
/// # Panics
///
/// Off flex, or on a float type other than f32 and f64.
pub fn fused_softplus<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let backend = BackendKind::of(&x.device());
    assert!(
        backend.has_fused_loop(x.dtype()),
        "softplus: the fused op runs on flex with f32 or f64 tensors, not on {} with {:?}",
        backend.name(),
        x.dtype()
    );
    Tensor::from_dispatch(<burn::backend::Dispatch as SoftplusOps>::fused_softplus(
        x.into_dispatch(),
    ))
}

#[cfg(feature = "flex")]
mod flex {
    use burn::backend::{Flex, TensorMetadata, tensor::FloatTensor};
    use burn::tensor::{DType, TensorData};
    use rayon::prelude::*;

    use super::{SoftplusOps, THRESHOLD};
    use host_math::{HostFloat, sigmoid, softplus, wide_kernel};

    /// `kernel(out, x, other)` over parallel blocks of the three.
    fn map2<T: HostFloat>(x: &[T], other: &[T], kernel: fn(&mut [T], &[T], &[T])) -> Vec<T> {
        const BLOCK: usize = 1 << 14;
        let mut out = vec![T::zero(); x.len()];
        out.par_chunks_mut(BLOCK)
            .zip(x.par_chunks(BLOCK))
            .zip(other.par_chunks(BLOCK))
            .for_each(|((o, x), other)| kernel(o, x, other));
        out
    }

    #[inline(always)]
    fn threshold<T: HostFloat>() -> T {
        T::from(THRESHOLD).expect("20")
    }

    wide_kernel! {
        /// `out = softplus(x)` (`x` itself above the threshold); `_unused` keeps `map2`'s form.
        fn forward<T: HostFloat>(out: &mut [T], x: &[T], _unused: &[T]) = forward_kernel;
    }

    #[inline(always)]
    fn forward_kernel<T: HostFloat>(out: &mut [T], x: &[T], _unused: &[T]) {
        for (o, &x) in out.iter_mut().zip(x) {
            *o = if x > threshold() { x } else { softplus(x) };
        }
    }

    wide_kernel! {
        /// `out = grad · σ(x)` (`grad` above the threshold).
        fn slope<T: HostFloat>(out: &mut [T], x: &[T], grad: &[T]) = slope_kernel;
    }

    #[inline(always)]
    fn slope_kernel<T: HostFloat>(out: &mut [T], x: &[T], grad: &[T]) {
        for ((o, &x), &g) in out.iter_mut().zip(x).zip(grad) {
            *o = if x > threshold() { g } else { g * sigmoid(x) };
        }
    }

    impl SoftplusOps for Flex {
        fn fused_softplus(x: FloatTensor<Self>) -> FloatTensor<Self> {
            let shape = x.shape().to_vec();
            let x = x.to_contiguous();
            let data = match x.dtype() {
                DType::F32 => TensorData::new(map2::<f32>(x.storage(), x.storage(), forward), shape),
                DType::F64 => TensorData::new(map2::<f64>(x.storage(), x.storage(), forward), shape),
                other => panic!("softplus: flex runs the fused op on f32 and f64, not {other:?}"),
            };
            FloatTensor::<Flex>::from_data(data)
        }

        fn fused_softplus_backward(x: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
            let shape = x.shape().to_vec();
            let (x, grad) = (x.to_contiguous(), grad.to_contiguous());
            let data = match x.dtype() {
                DType::F32 => TensorData::new(map2::<f32>(x.storage(), grad.storage(), slope), shape),
                DType::F64 => TensorData::new(map2::<f64>(x.storage(), grad.storage(), slope), shape),
                other => panic!("softplus: flex runs the fused op on f32 and f64, not {other:?}"),
            };
            FloatTensor::<Flex>::from_data(data)
        }
    }
}

impl<B: Backend + SoftplusOps, C: CheckpointStrategy> SoftplusOps for Autodiff<B, C> {
    fn fused_softplus(x: FloatTensor<Self>) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct Softplus;

        impl<B: Backend + SoftplusOps> Backward<B, 1> for Softplus {
            /// The input (checkpointed).
            type State = NodeId;

            fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, checkpointer: &mut Checkpointer) {
                let grad = grads.consume::<B>(&ops.node);
                let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(ops.state);
                if let [Some(node)] = ops.parents {
                    grads.register::<B>(node.id, B::fused_softplus_backward(x, grad));
                }
            }
        }

        match Softplus.prepare::<C>([x.node()]).compute_bound().stateful() {
            OpsKind::Tracked(mut prep) => {
                let id = prep.checkpoint(&x);
                let y = B::fused_softplus(x.into_primitive());
                prep.finish(id, y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::fused_softplus(x.into_primitive())),
        }
    }

    fn fused_softplus_backward(_x: FloatTensor<Self>, _grad: FloatTensor<Self>) -> FloatTensor<Self> {
        panic!("softplus: second derivatives of the fused op are not implemented")
    }
}
