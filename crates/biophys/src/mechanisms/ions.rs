//! Ion concentrations and reversal potentials as NEURON computes them.

use host_math::HostFloat;

/// Faraday's constant (C/mol) as NEURON 9 uses it: `e·N_A` from CODATA 2018's exact constants
/// (96485.33212 rounded to the digits CODATA prints).
pub const FARADAY: f64 = 96485.33212331001;
/// The gas constant (J/(mol·K)) as NEURON 9 uses it: `k_B·N_A` (CODATA 2018, exact).
pub const GAS_CONSTANT: f64 = 8.31446261815324;
/// NEURON's default calcium concentrations (mM) inside and outside (`cai0_ca_ion`, `cao0_ca_ion`).
pub const CAI0: f64 = 5e-5;
/// See [`CAI0`].
pub const CAO0: f64 = 2.0;
/// NEURON's default calcium reversal (mV), the one a channel reads where no mechanism writes
/// the concentration (`eca` is then a parameter, not computed).
pub const ECA0: f64 = 132.4579341637009;

/// The Nernst potential (mV) of an ion of valence `z` at concentrations `ci` inside and `co`
/// outside, at `celsius`, exactly as NEURON's `nrn_nernst` computes it (±1e6 mV where a
/// concentration is not positive).
#[inline(always)]
pub fn nernst(ci: f64, co: f64, z: f64, celsius: f64) -> f64 {
    if z == 0.0 {
        0.0
    } else if ci <= 0.0 {
        1e6
    } else if co <= 0.0 {
        -1e6
    } else {
        nernst_factor(celsius, z) * (co / ci).ln_v()
    }
}

/// `RT/zF` in mV, in `nrn_nernst`'s order of operations (`1000·R·T/F/z`).
#[inline(always)]
pub fn nernst_factor(celsius: f64, z: f64) -> f64 {
    1000.0 * GAS_CONSTANT * (celsius + 273.15) / FARADAY / z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nernst_gives_neurons_calcium_reversal_at_its_default_temperature() {
        // NEURON 9 at 6.3 °C, cai 5e-5 mM, cao 2 mM (scripts/l5pc_mechanisms_reference.py).
        let r: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/data/l5pc_mechanisms_neuron.json")).unwrap();
        let want = r["calcium"]["traces"]["eca"][0].as_f64().unwrap();
        assert!((nernst(CAI0, CAO0, 2.0, 6.3) - want).abs() < 1e-12, "{want}");
        assert_eq!(nernst(0.0, 2.0, 2.0, 6.3), 1e6);
        assert_eq!(nernst(1.0, 0.0, 2.0, 6.3), -1e6);
        // A tenfold ratio at 37 °C: RT·ln 10 / 2F = 30.770 mV.
        assert!((nernst(0.1, 1.0, 2.0, 37.0) - 30.7702).abs() < 1e-4);
        assert_eq!(r["eca_default"].as_f64().unwrap(), ECA0);
        // The constants are products of CODATA 2018's exact ones, as NEURON computes them.
        let (e, k, n_a) = (1.602176634e-19, 1.380649e-23, 6.02214076e23);
        assert_eq!((FARADAY, GAS_CONSTANT), (e * n_a, k * n_a));
    }
}
