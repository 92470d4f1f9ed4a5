//! The step loops' `exp` and what it costs in FLOPs. It is `host-math`'s: plain arithmetic, so
//! that a loop over a batch's trials vectorises (libm's `exp` is a call per element).

use host_math::HostFloat;

/// FLOPs of one `exp`: range reduction (6), a degree-13 Horner polynomial (26), the scale (1).
pub const EXP_FLOPS: f64 = 33.0;

/// `e^x` for |x| ≤ 700 to within 2 ulp (tested in `host-math`).
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    x.exp_v()
}
