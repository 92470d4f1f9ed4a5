//! Hay's hyperpolarisation-activated cation channel (`Ih.mod`, after Kole et al. 2006): `g =
//! gbar·m` through its own reversal `ehcn` = −45 mV; no temperature factor.

use super::channel::{Ion, Kinetics};
use crate::fast_exp::{EXP_FLOPS, exp};

/// The reversal of `Ih`'s current (mV), the `.mod`'s `ehcn`.
pub const EHCN: f64 = -45.0;
/// Half activation (mV) and shift, the `.mod`'s `vhalf` and `vshift` (0 in Hay's cell).
const VHALF: f64 = -154.9;
const VSHIFT: f64 = 0.0;

/// `Ih`: see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Ih;

impl Kinetics for Ih {
    const SUFFIX: &'static str = "Ih";
    const GATES: &'static [&'static str] = &["m"];
    const ION: Ion = Ion::NonSpecific(EHCN);
    const RATE_FLOPS: f64 = 18.0 + 2.0 * EXP_FLOPS;

    #[allow(unused_variables)]
    #[inline(always)]
    fn rates(v: f64, cai: f64, inf: &mut [f64], rate: &mut [f64]) {
        let mut v = v;
        if v == VHALF {
            v += 0.0001;
        }
        let m_alpha = 0.001 * 6.43 * (v - (VHALF + VSHIFT)) / (exp((v - (VHALF + VSHIFT)) / 11.9) - 1.0);
        let m_beta = 0.001 * 193.0 * exp((v - VSHIFT) / 33.1);
        inf[0] = m_alpha / (m_alpha + m_beta);
        rate[0] = m_alpha + m_beta;
    }

    #[inline(always)]
    fn open(g: &[f64]) -> f64 {
        g[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanisms::channel::neuron_reference::{assert_agrees_with_neuron, assert_guards_hold};

    #[test]
    fn gates_and_current_agree_with_neuron_under_voltage_clamp() {
        assert_agrees_with_neuron::<Ih>();
    }

    #[test]
    fn the_mod_files_guards_keep_the_rates_finite_at_their_removable_singularities() {
        assert_guards_hold::<Ih>(&[-154.9]);
    }
}
