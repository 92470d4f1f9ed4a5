//! Hay's persistent sodium channel (`Nap_Et2.mod`, after Magistretti & Alonso 1999): `g =
//! gbar·m³h`.

use super::channel::{Ion, Kinetics, hay_qt, sodium_activation};
use crate::fast_exp::{EXP_FLOPS, exp};

/// `Nap_Et2`: see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NapEt2;

impl Kinetics for NapEt2 {
    const SUFFIX: &'static str = "Nap_Et2";
    const GATES: &'static [&'static str] = &["m", "h"];
    const ION: Ion = Ion::Na;
    const RATE_FLOPS: f64 = 43.0 + 5.0 * EXP_FLOPS;

    #[allow(unused_variables)]
    #[inline(always)]
    fn rates(v: f64, cai: f64, inf: &mut [f64], rate: &mut [f64]) {
        let qt = hay_qt();
        let mut v = v;
        inf[0] = 1.0 / (1.0 + exp((v - -52.6) / -4.6));
        let (m_sum, _) = sodium_activation(&mut v, -38.0);
        rate[0] = m_sum * qt / 6.0;
        if v == -17.0 {
            v += 0.0001;
        }
        if v == -64.4 {
            v += 0.0001;
        }
        inf[1] = 1.0 / (1.0 + exp((v - -48.8) / 10.0));
        let h_alpha = -2.88e-6 * (v + 17.0) / (1.0 - exp((v + 17.0) / 4.63));
        let h_beta = 6.94e-6 * (v + 64.4) / (1.0 - exp(-(v + 64.4) / 2.63));
        rate[1] = (h_alpha + h_beta) * qt;
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
        assert_agrees_with_neuron::<NapEt2>();
    }

    #[test]
    fn the_mod_files_guards_keep_the_rates_finite_at_their_removable_singularities() {
        assert_guards_hold::<NapEt2>(&[-38.0, -17.0, -64.4]);
    }
}
