//! Hay's muscarinic potassium channel (`Im.mod`, after Adams et al. 1982): `g = gbar·m`.

use super::channel::{Ion, Kinetics, hay_qt};
use crate::fast_exp::{EXP_FLOPS, exp};

/// `Im`: see the module's documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Im;

impl Kinetics for Im {
    const SUFFIX: &'static str = "Im";
    const GATES: &'static [&'static str] = &["m"];
    const ION: Ion = Ion::K;
    const RATE_FLOPS: f64 = 16.0 + EXP_FLOPS;

    #[allow(unused_variables)]
    #[inline(always)]
    fn rates(v: f64, cai: f64, inf: &mut [f64], rate: &mut [f64]) {
        let qt = hay_qt();
        // exp(−x) as 1/exp(x): one `exp` for both rates.
        let e = exp(2.5 * 0.04 * (v - -35.0));
        let m_alpha = 3.3e-3 * e;
        let m_beta = 3.3e-3 * (1.0 / e);
        inf[0] = m_alpha / (m_alpha + m_beta);
        rate[0] = (m_alpha + m_beta) * qt;
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
        assert_agrees_with_neuron::<Im>();
    }
}
