//! Hay's calcium-activated potassium channel (`SK_E2.mod`, after Köhler et al. 1996): `g =
//! gbar·z`, `z` following the calcium under the membrane with a time constant of 1 ms.

use super::channel::{Ion, Kinetics, POW_FLOPS};

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
    fn rates(v: f64, cai: f64, inf: &mut [f64], tau: &mut [f64]) {
        let mut ca = cai;
        if ca < 1e-7 {
            ca += 1e-07;
        }
        inf[0] = 1.0 / (1.0 + (0.00043 / ca).powf(4.8));
        tau[0] = Z_TAU;
    }

    fn open(g: &[f64]) -> f64 {
        g[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_open_at_0_43_micromolar_and_clamped_below_0_1_nanomolar() {
        let (mut inf, mut tau) = ([0.0], [0.0]);
        SkE2::rates(-70.0, 0.00043, &mut inf, &mut tau);
        assert!((inf[0] - 0.5).abs() < 1e-15 && tau[0] == 1.0);
        // Below 1e-7 mM the .mod adds 1e-7 before the Hill function.
        SkE2::rates(-70.0, 0.0, &mut inf, &mut tau);
        assert_eq!(inf[0], 1.0 / (1.0 + (0.00043f64 / 1e-7).powf(4.8)));
    }
}
