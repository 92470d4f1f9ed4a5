//! What is counted and in which unit.

use serde::{Deserialize, Serialize};

/// Counting unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    /// 2 per multiply-add (torch; fvcore's "FLOPs" are MACs: beware).
    Flops,
    /// 1 per multiply-add. FFTs, which are not multiply-adds, count half their FLOPs.
    Macs,
}

/// Which operations count and how.
///
/// FFTs (`burn::signal`'s `rfft`/`irfft`) count under every convention: 2.5·N·log₂N real FLOPs
/// per transformed line of length N. torch's own counter charges them nothing, which would make
/// an FFT convolution look free.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Convention {
    /// FLOPs or MACs.
    pub unit: Unit,
    /// Count every op (elementwise, reductions, activations, pooling), not only matmul/conv.
    pub full: bool,
    /// Count only convolution taps that land inside the input (XLA's convention), including
    /// padding applied by a zero `pad` right before an unpadded convolution; for transposed
    /// convolutions, only taps whose output lies inside the cropped output. It cannot see zeros
    /// built into other arithmetic: an im2col + GEMM (the `Dendrites` expanded path) counts in
    /// full.
    #[serde(default)]
    pub padding_aware: bool,
}

impl Convention {
    /// torch `FlopCounterMode`: 2 per multiply-add, only matmul, convolutions and attention.
    pub fn torch() -> Self {
        Self {
            unit: Unit::Flops,
            full: false,
            padding_aware: false,
        }
    }

    /// Multiply-accumulates of matmul, convolutions and attention.
    pub fn macs() -> Self {
        Self {
            unit: Unit::Macs,
            ..Self::torch()
        }
    }

    /// torch's counts plus one FLOP per element for every other computing op
    /// ([`crate::OpCategory`]).
    pub fn full() -> Self {
        Self {
            full: true,
            ..Self::torch()
        }
    }

    /// torch's convention, counting only convolution taps inside the input.
    pub fn padding_aware() -> Self {
        Self {
            padding_aware: true,
            ..Self::torch()
        }
    }
}
