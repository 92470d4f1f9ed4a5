//! Hay's transient potassium channel (`K_Tst.mod`, after Korngreen & Sakmann 2000): `g =
//! gbar·m⁴h`, its rates read 10 mV above the membrane potential.

use super::channel::{Ion, Kinetics, POW_FLOPS, hay_qt};
use crate::fast_exp::EXP_FLOPS;

/// `K_Tst`: see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KTst;

impl Kinetics for KTst {
    const SUFFIX: &'static str = "K_Tst";
    const GATES: &'static [&'static str] = &["m", "h"];
    const ION: Ion = Ion::K;
    const RATE_FLOPS: f64 = 23.0 + 4.0 * EXP_FLOPS + 2.0 * POW_FLOPS;

    #[allow(unused_variables)]
    fn rates(v: f64, cai: f64, inf: &mut [f64], tau: &mut [f64]) {
        let qt = hay_qt();
        let v = v + 10.0;
        inf[0] = 1.0 / (1.0 + (-(v + 0.0) / 19.0).exp());
        tau[0] = (0.34 + 0.92 * (-((v + 71.0) / 59.0).powf(2.0)).exp()) / qt;
        inf[1] = 1.0 / (1.0 + (-(v + 66.0) / -10.0).exp());
        tau[1] = (8.0 + 49.0 * (-((v + 73.0) / 23.0).powf(2.0)).exp()) / qt;
    }

    fn open(g: &[f64]) -> f64 {
        g[0].powf(4.0) * g[1]
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
