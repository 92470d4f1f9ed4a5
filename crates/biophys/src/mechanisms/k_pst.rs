//! Hay's persistent potassium channel (`K_Pst.mod`, after Korngreen & Sakmann 2000): `g =
//! gbar·m²h`, its rates read 10 mV above the membrane potential.

use super::channel::{Ion, Kinetics, POW_FLOPS, hay_qt, square};
use crate::fast_exp::{EXP_FLOPS, exp};

/// `K_Pst`: see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KPst;

impl Kinetics for KPst {
    const SUFFIX: &'static str = "K_Pst";
    const GATES: &'static [&'static str] = &["m", "h"];
    const ION: Ion = Ion::K;
    const RATE_FLOPS: f64 = 26.0 + 4.0 * EXP_FLOPS + POW_FLOPS;

    #[allow(unused_variables)]
    #[inline(always)]
    fn rates(v: f64, cai: f64, inf: &mut [f64], rate: &mut [f64]) {
        let qt = hay_qt();
        // The .mod shifts v by +10 mV and back; the shifted value is what its rates read.
        let v = v + 10.0;
        inf[0] = 1.0 / (1.0 + exp(-(v + 1.0) / 12.0));
        rate[0] = if v < -50.0 {
            qt / (1.25 + 175.03 * exp(-v * -0.026))
        } else {
            qt / (1.25 + 13.0 * exp(-v * 0.026))
        };
        inf[1] = 1.0 / (1.0 + exp(-(v + 54.0) / -11.0));
        rate[1] = qt / (360.0 + (1010.0 + 24.0 * (v + 55.0)) * exp(-square((v + 75.0) / 48.0)));
    }

    #[inline(always)]
    fn open(g: &[f64]) -> f64 {
        g[0] * g[0] * g[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanisms::channel::neuron_reference::assert_agrees_with_neuron;

    #[test]
    fn gates_and_current_agree_with_neuron_under_voltage_clamp() {
        assert_agrees_with_neuron::<KPst>();
    }
}
