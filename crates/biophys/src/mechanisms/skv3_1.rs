//! Hay's fast non-inactivating potassium channel (`SKv3_1.mod`, Kv3.1 after Rettig et al.
//! 1992): `g = gbar·m`, no temperature factor.

use super::channel::{Ion, Kinetics};
use crate::fast_exp::{EXP_FLOPS, exp};

/// `SKv3_1`: see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Skv31;

impl Kinetics for Skv31 {
    const SUFFIX: &'static str = "SKv3_1";
    const GATES: &'static [&'static str] = &["m"];
    const ION: Ion = Ion::K;
    const RATE_FLOPS: f64 = 8.0 + 2.0 * EXP_FLOPS;

    #[allow(unused_variables)]
    #[inline(always)]
    fn rates(v: f64, cai: f64, inf: &mut [f64], rate: &mut [f64]) {
        inf[0] = 1.0 / (1.0 + exp((v - 18.700) / -9.700));
        rate[0] = (1.0 + exp((v - -46.560) / -44.140)) / (0.2 * 20.000);
    }

    #[inline(always)]
    fn open(g: &[f64]) -> f64 {
        g[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanisms::channel::neuron_reference::assert_agrees_with_neuron;

    #[test]
    fn gates_and_current_agree_with_neuron_under_voltage_clamp() {
        assert_agrees_with_neuron::<Skv31>();
    }
}
