//! Hay's high-voltage-activated calcium channel (`Ca_HVA.mod`, after Reuveni et al. 1993):
//! `g = gbar·m²h`, no temperature factor.

use super::channel::{Ion, Kinetics};
use crate::fast_exp::{EXP_FLOPS, exp};

/// `Ca_HVA`: see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaHva;

impl Kinetics for CaHva {
    const SUFFIX: &'static str = "Ca_HVA";
    const GATES: &'static [&'static str] = &["m", "h"];
    const ION: Ion = Ion::Ca;
    const RATE_FLOPS: f64 = 24.0 + 4.0 * EXP_FLOPS;

    #[allow(unused_variables)]
    #[inline(always)]
    fn rates(v: f64, cai: f64, inf: &mut [f64], rate: &mut [f64]) {
        let mut v = v;
        if v == -27.0 {
            v += 0.0001;
        }
        let m_alpha = (0.055 * (-27.0 - v)) / (exp((-27.0 - v) / 3.8) - 1.0);
        let m_beta = 0.94 * exp((-75.0 - v) / 17.0);
        inf[0] = m_alpha / (m_alpha + m_beta);
        rate[0] = m_alpha + m_beta;
        let h_alpha = 0.000457 * exp((-13.0 - v) / 50.0);
        let h_beta = 0.0065 / (exp((-v - 15.0) / 28.0) + 1.0);
        inf[1] = h_alpha / (h_alpha + h_beta);
        rate[1] = h_alpha + h_beta;
    }

    #[inline(always)]
    fn open(g: &[f64]) -> f64 {
        g[0] * g[0] * g[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanisms::channel::neuron_reference::{assert_agrees_with_neuron, assert_guards_hold};

    #[test]
    fn gates_and_current_agree_with_neuron_under_voltage_clamp() {
        assert_agrees_with_neuron::<CaHva>();
    }

    #[test]
    fn the_mod_files_guards_keep_the_rates_finite_at_their_removable_singularities() {
        assert_guards_hold::<CaHva>(&[-27.0]);
    }
}
