//! Hay's calcium pool (`CaDynamics_E2.mod`): the calcium under the membrane, fed by the calcium
//! current in a shell of `depth` µm of which a fraction `gamma` stays free, and pumped back to
//! `min_cai` with time constant `decay`. It writes `cai`, so NEURON computes the calcium
//! reversal from it ([`super::ions::nernst`]) where the pool is inserted.

use serde::{Deserialize, Serialize};

use super::ions::FARADAY;
use crate::error::{Result, finite, non_negative, positive};

/// The pool's parameters (the `.mod`'s defaults in [`Default`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CaDynamicsE2 {
    /// Fraction of the entering calcium that stays free (not buffered); default 0.05.
    pub gamma: f64,
    /// Time constant of removal (ms); default 80.
    pub decay: f64,
    /// Depth of the shell under the membrane (µm); default 0.1.
    pub depth: f64,
    /// The concentration removal returns to (mM); default 1e-4.
    pub min_cai: f64,
}

impl Default for CaDynamicsE2 {
    fn default() -> Self {
        Self {
            gamma: 0.05,
            decay: 80.0,
            depth: 0.1,
            min_cai: 1e-4,
        }
    }
}

impl CaDynamicsE2 {
    /// Checks `gamma ≥ 0`, `decay > 0`, `depth > 0` and a finite `min_cai ≥ 0`; errors name
    /// `what`.
    pub fn validate(&self, what: &dyn Fn() -> String) -> Result<()> {
        non_negative(what, "ca_dynamics_e2.gamma", self.gamma)?;
        positive(what, "ca_dynamics_e2.decay", self.decay)?;
        positive(what, "ca_dynamics_e2.depth", self.depth)?;
        non_negative(what, "ca_dynamics_e2.min_cai", self.min_cai)?;
        finite(what, "ca_dynamics_e2.min_cai", self.min_cai)
    }

    /// `cai` (mM) advanced by `dt` (ms) under the calcium current density `ica` (mA/cm²), with
    /// NEURON's `cnexp` expression for `cai' = −10⁴·ica·γ/(2F·depth) − (cai − min)/decay`.
    pub fn advance(&self, cai: f64, ica: f64, dt: f64) -> f64 {
        self.advance_with(cai, ica, self.relaxation(dt))
    }

    /// `1 − exp(−dt/decay)`, the part of [`CaDynamicsE2::advance`] that only `dt` changes.
    pub fn relaxation(&self, dt: f64) -> f64 {
        1.0 - (dt * (-1.0 / self.decay)).exp()
    }

    /// [`CaDynamicsE2::advance`] given its [`CaDynamicsE2::relaxation`].
    #[inline(always)]
    pub fn advance_with(&self, cai: f64, ica: f64, relaxation: f64) -> f64 {
        let (gamma, decay, depth, min_cai) = (self.gamma, self.decay, self.depth, self.min_cai);
        cai + relaxation
            * (-((-10000.0) * ((ica * gamma) / (2.0 * FARADAY * depth)) - (-min_cai) / decay) / (-1.0 / decay) - cai)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mechanisms::ca_hva::CaHva;
    use crate::mechanisms::channel::{self, neuron_reference};
    use crate::mechanisms::ions::{CAI0, CAO0, nernst};
    use crate::mechanisms::sk_e2::SkE2;

    #[test]
    fn the_faraday_constant_is_the_one_the_compiled_mod_holds() {
        // nocmodl writes `(faraday) (coulombs)` as 0x1.78e555060882cp+16.
        assert_eq!(FARADAY.to_bits(), 0x40F7_8E55_5060_882C);
    }

    /// Ca_HVA, this pool and SK_E2 in one compartment stepped to 0 mV, against NEURON 9: per
    /// step the reversal from the old `cai`, the currents at the old `v` and gates, the solve,
    /// then the states in NEURON's order (the pool before SK_E2, which reads the new `cai`).
    #[test]
    fn calcium_its_reversal_and_sk_follow_neuron_through_a_clamp_step() {
        let r = neuron_reference::reference();
        let c = &r["calcium"];
        let p = &c["params"];
        let pool = CaDynamicsE2 {
            gamma: p["CaDynamics_E2"]["gamma_CaDynamics_E2"].as_f64().unwrap(),
            decay: p["CaDynamics_E2"]["decay_CaDynamics_E2"].as_f64().unwrap(),
            ..Default::default()
        };
        let g_ca = p["Ca_HVA"]["gCa_HVAbar_Ca_HVA"].as_f64().unwrap();
        let g_sk = p["SK_E2"]["gSK_E2bar_SK_E2"].as_f64().unwrap();
        let (dt, end, hold) = (
            r["dt"].as_f64().unwrap(),
            r["end"].as_f64().unwrap(),
            r["hold"].as_f64().unwrap(),
        );
        let (ek, celsius) = (r["ek"].as_f64().unwrap(), r["celsius"].as_f64().unwrap());
        let series = |k: &str| -> Vec<f64> {
            c["traces"][k]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        };
        let (mut v, mut cai) = (hold, CAI0);
        let mut ca_gates = channel::steady_state::<CaHva>(v, cai);
        let mut z = channel::steady_state::<SkE2>(v, cai);
        let eca_of = |cai: f64| nernst(cai, CAO0, 2.0, celsius);
        let mut eca = eca_of(cai);
        let mut ica = channel::current::<CaHva>(g_ca, &ca_gates, v, eca);
        let mut ik = channel::current::<SkE2>(g_sk, &z, v, ek);
        let every_ms = (1.0 / dt).round() as usize;
        let mut worst = [0.0f64; 5];
        let scale = |k: &str| series(k).iter().fold(1e-30f64, |m, x| m.max(x.abs()));
        let scales = ["cai", "eca", "ica", "z", "ik"].map(scale);
        for n in 0..=(end / dt).round() as usize {
            if n % every_ms == 0 {
                let k = n / every_ms;
                for (j, (name, value)) in [("cai", cai), ("eca", eca), ("ica", ica), ("z", z[0]), ("ik", ik)]
                    .iter()
                    .enumerate()
                {
                    worst[j] = worst[j].max((value - series(name)[k]).abs() / scales[j]);
                }
            }
            eca = eca_of(cai);
            ica = channel::current::<CaHva>(g_ca, &ca_gates, v, eca);
            ik = channel::current::<SkE2>(g_sk, &z, v, ek);
            v = neuron_reference::command(&r, 0.0, n as f64 * dt + 0.5 * dt);
            channel::advance::<CaHva>(&mut ca_gates, v, cai, dt);
            cai = pool.advance(cai, ica, dt);
            channel::advance::<SkE2>(&mut z, v, cai, dt);
        }
        for (name, w) in ["cai", "eca", "ica", "z", "ik"].iter().zip(worst) {
            assert!(w < 1e-8, "{name} differs from NEURON's by {w:e} of its largest value");
        }
        // The protocol exercises the coupling: the step raised calcium sevenfold and opened SK.
        assert!(series("cai").iter().cloned().fold(0.0, f64::max) > 7.0 * CAI0);
        assert!(series("z").iter().cloned().fold(0.0, f64::max) > 0.3);
    }

    #[test]
    fn without_current_the_pool_relaxes_to_its_floor_exponentially() {
        let pool = CaDynamicsE2::default();
        let cai = pool.advance(1e-3, 0.0, 80.0);
        let want = 1e-4 + (1e-3 - 1e-4) * (-1.0f64).exp();
        assert!((cai - want).abs() < 1e-15, "{cai} vs {want}");
        // An inward current (negative ica) raises calcium.
        assert!(pool.advance(1e-4, -0.01, 0.025) > 1e-4);
    }
}
