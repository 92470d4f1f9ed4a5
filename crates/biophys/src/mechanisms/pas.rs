//! NEURON's `pas`: a passive leak `i = g·(v − e)`, linear in `v` and stateless, so every `pas`
//! on a node folds into one conductance and one `g·e` ([`super::Membrane::leak_g`]).

use serde::{Deserialize, Serialize};

use super::Membrane;
use crate::error::{Result, finite, non_negative};

/// `pas`'s parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pas {
    /// Conductance, S/cm².
    pub g: f64,
    /// Reversal, mV.
    pub e: f64,
}

impl Pas {
    /// Checks `g ≥ 0` (S/cm²) and a finite reversal `e` (mV); errors name `what`.
    pub fn validate(&self, what: &dyn Fn() -> String) -> Result<()> {
        non_negative(what, "pas.g", self.g)?;
        finite(what, "pas.e", self.e)
    }
}

/// Adds a leak of `g` µS reversing at `e` mV to `node`.
pub fn insert(membrane: &mut Membrane, node: usize, g: f64, e: f64) {
    membrane.leak_g[node] += g;
    membrane.leak_ge[node] += g * e;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaks_on_a_node_add_up() {
        let mut m = Membrane {
            leak_g: vec![0.0; 2],
            leak_ge: vec![0.0; 2],
            channels: Vec::new(),
        };
        insert(&mut m, 1, 2.0, -65.0);
        insert(&mut m, 1, 1.0, -80.0);
        // One leak of 3 µS whose current vanishes at the weighted reversal −70 mV.
        assert_eq!((m.leak_g[1], m.leak_ge[1]), (3.0, -210.0));
        assert_eq!(m.leak_ge[1] / m.leak_g[1], -70.0);
        assert_eq!((m.leak_g[0], m.leak_ge[0]), (0.0, 0.0));
        let what = || "soma".to_string();
        assert!(Pas { g: -1.0, e: 0.0 }.validate(&what).is_err());
        assert!(Pas { g: 1.0, e: f64::NAN }.validate(&what).is_err());
        assert!(Pas { g: 1.0, e: -65.0 }.validate(&what).is_ok());
    }
}
