//! Hay's transient sodium channel of the soma and apical dendrites (`NaTs2_t.mod`): `g =
//! gbar·m³h`, the axon's kinetics shifted by 6 mV.

use super::channel::{Ion, Kinetics, hay_qt, sodium_activation, sodium_inactivation};
use crate::fast_exp::EXP_FLOPS;

/// `NaTs2_t`: see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NaTs2T;

impl Kinetics for NaTs2T {
    const SUFFIX: &'static str = "NaTs2_t";
    const GATES: &'static [&'static str] = &["m", "h"];
    const ION: Ion = Ion::Na;
    const RATE_FLOPS: f64 = 22.0 + 2.0 * EXP_FLOPS;

    #[allow(unused_variables)]
    #[inline(always)]
    fn rates(v: f64, cai: f64, inf: &mut [f64], rate: &mut [f64]) {
        let qt = hay_qt();
        let mut v = v;
        let (m_sum, m_inf) = sodium_activation(&mut v, -32.0);
        inf[0] = m_inf;
        rate[0] = m_sum * qt;
        let (h_sum, h_inf) = sodium_inactivation(&mut v, -60.0);
        inf[1] = h_inf;
        rate[1] = h_sum * qt;
    }

    #[inline(always)]
    fn open(g: &[f64]) -> f64 {
        g[0] * g[0] * g[0] * g[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanisms::channel::neuron_reference::{assert_agrees_with_neuron, assert_guards_hold};

    #[test]
    fn gates_and_current_agree_with_neuron_under_voltage_clamp() {
        assert_agrees_with_neuron::<NaTs2T>();
    }

    #[test]
    fn the_mod_files_guards_keep_the_rates_finite_at_their_removable_singularities() {
        assert_guards_hold::<NaTs2T>(&[-32.0, -60.0]);
    }
}
