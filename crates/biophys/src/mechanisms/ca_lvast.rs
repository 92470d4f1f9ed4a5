//! Hay's low-voltage-activated calcium channel (`Ca_LVAst.mod`, after Avery & Johnston 1996):
//! `g = gbar·m²h`, its rates read 10 mV above the membrane potential.

use super::channel::{Ion, Kinetics, hay_qt};
use crate::fast_exp::{EXP_FLOPS, exp};

/// `Ca_LVAst`: see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaLvast;

impl Kinetics for CaLvast {
    const SUFFIX: &'static str = "Ca_LVAst";
    const GATES: &'static [&'static str] = &["m", "h"];
    const ION: Ion = Ion::Ca;
    const RATE_FLOPS: f64 = 25.0 + 4.0 * EXP_FLOPS;

    #[allow(unused_variables)]
    #[inline(always)]
    fn rates(v: f64, cai: f64, inf: &mut [f64], rate: &mut [f64]) {
        let qt = hay_qt();
        let v = v + 10.0;
        inf[0] = 1.0000 / (1.0 + exp((v - -30.000) / -6.0));
        rate[0] = qt / (5.0000 + 20.0000 / (1.0 + exp((v - -25.000) / 5.0)));
        inf[1] = 1.0000 / (1.0 + exp((v - -80.000) / 6.4));
        rate[1] = qt / (20.0000 + 50.0000 / (1.0 + exp((v - -40.000) / 7.0)));
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
        assert_agrees_with_neuron::<CaLvast>();
    }
}
