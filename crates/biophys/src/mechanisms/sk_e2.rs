//! Hay's calcium-activated potassium channel (`SK_E2.mod`, after Köhler et al. 1996): `g =
//! gbar·z`, `z` following the calcium under the membrane with a time constant of 1 ms.

use host_math::HostFloat;

use super::channel::{Ion, Kinetics, POW_FLOPS};
use crate::fast_exp::exp;

/// The gate's time constant (ms), the `.mod`'s `zTau`.
const Z_TAU: f64 = 1.0;

/// `SK_E2`: see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SkE2;

impl Kinetics for SkE2 {
    const SUFFIX: &'static str = "SK_E2";
    const GATES: &'static [&'static str] = &["z"];
    const ION: Ion = Ion::K;
    const RATE_FLOPS: f64 = 4.0 + POW_FLOPS;

    #[allow(unused_variables)]
    #[inline(always)]
    fn rates(v: f64, cai: f64, inf: &mut [f64], rate: &mut [f64]) {
        let mut ca = cai;
        if ca < 1e-7 {
            ca += 1e-07;
        }
        // pow(b, 4.8) as e^(4.8·ln b): within a few ulp of libm, and vectorisable.
        inf[0] = 1.0 / (1.0 + exp(4.8 * (0.00043 / ca).ln_v()));
        rate[0] = 1.0 / Z_TAU;
    }

    #[inline(always)]
    fn open(g: &[f64]) -> f64 {
        g[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_open_at_0_43_micromolar_and_clamped_below_0_1_nanomolar() {
        let (mut inf, mut rate) = ([0.0], [0.0]);
        SkE2::rates(-70.0, 0.00043, &mut inf, &mut rate);
        assert!((inf[0] - 0.5).abs() < 1e-15 && rate[0] == 1.0);
        // Below 1e-7 mM the .mod adds 1e-7 before the Hill function.
        SkE2::rates(-70.0, 0.0, &mut inf, &mut rate);
        let want = 1.0 / (1.0 + (0.00043f64 / 1e-7).powf(4.8));
        assert!((inf[0] - want).abs() <= 1e-14 * want, "{} vs {want}", inf[0]);
    }
}
