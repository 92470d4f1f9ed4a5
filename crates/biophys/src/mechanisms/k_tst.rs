//! Hay's transient potassium channel (`K_Tst.mod`, after Korngreen & Sakmann 2000): `g =
//! gbar·m⁴h`, its rates read 10 mV above the membrane potential.

use super::channel::{Ion, Kinetics, POW_FLOPS, hay_qt, square};
use crate::fast_exp::{EXP_FLOPS, exp};

/// `K_Tst`: see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KTst;

impl Kinetics for KTst {
    const SUFFIX: &'static str = "K_Tst";
    const GATES: &'static [&'static str] = &["m", "h"];
    const ION: Ion = Ion::K;
    const RATE_FLOPS: f64 = 23.0 + 4.0 * EXP_FLOPS + 2.0 * POW_FLOPS;

    #[allow(unused_variables)]
    #[inline(always)]
    fn rates(v: f64, cai: f64, inf: &mut [f64], rate: &mut [f64]) {
        let qt = hay_qt();
        let v = v + 10.0;
        inf[0] = 1.0 / (1.0 + exp(-(v + 0.0) / 19.0));
        rate[0] = qt / (0.34 + 0.92 * exp(-square((v + 71.0) / 59.0)));
        inf[1] = 1.0 / (1.0 + exp(-(v + 66.0) / -10.0));
        rate[1] = qt / (8.0 + 49.0 * exp(-square((v + 73.0) / 23.0)));
    }

    #[inline(always)]
    fn open(g: &[f64]) -> f64 {
        square(square(g[0])) * g[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanisms::channel::neuron_reference::assert_agrees_with_neuron;

    #[test]
    fn gates_and_current_agree_with_neuron_under_voltage_clamp() {
        assert_agrees_with_neuron::<KTst>();
    }
}
