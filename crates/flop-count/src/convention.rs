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

impl std::fmt::Display for Convention {
    /// In words, e.g. `FLOPs (2 per multiply-add) of matmuls, convolutions and attention`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.unit {
            Unit::Flops => "FLOPs (2 per multiply-add)",
            Unit::Macs => "MACs (1 per multiply-add)",
        };
        let scope = if self.full {
            "every op (1 per element beyond matmuls and convolutions)"
        } else {
            "matmuls, convolutions and attention"
        };
        let taps = if self.padding_aware {
            ", only taps inside the input"
        } else {
            ""
        };
        write!(f, "{unit} of {scope}{taps}; FFTs at 2.5·N·log₂N per line")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conventions_read_as_words() {
        assert_eq!(
            Convention::torch().to_string(),
            "FLOPs (2 per multiply-add) of matmuls, convolutions and attention; FFTs at 2.5·N·log₂N per line"
        );
        assert!(Convention::macs().to_string().starts_with("MACs (1 per multiply-add)"));
        assert!(Convention::full().to_string().contains("every op"));
        assert!(
            Convention::padding_aware()
                .to_string()
                .contains("only taps inside the input")
        );
    }
}
