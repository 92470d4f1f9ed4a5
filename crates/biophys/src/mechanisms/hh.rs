//! NEURON's `hh` mechanism (`hh.mod`), rate for rate: the same functions, the same
//! singularity-safe `vtrap` at the removable points (v = −40 and −55 mV), the same temperature
//! factor 3^((celsius − 6.3)/10), and optionally the same lookup table NEURON uses by default
//! (`usetable_hh = 1`: 201 entries from −100 to 100 mV, linear interpolation, clamped outside).
//! Its gates advance by `cnexp` ([`super::cnexp`]), as `hh.mod`'s `SOLVE states METHOD cnexp`.

use serde::{Deserialize, Serialize};

use super::{Context, cnexp};
use crate::error::{Result, finite, non_negative};
use crate::fast_exp::EXP_FLOPS;

/// Steady states and time constants (ms) of the three gates at one voltage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Sodium activation `m∞`.
    pub minf: f64,
    /// `τ_m`, ms.
    pub mtau: f64,
    /// Sodium inactivation `h∞`.
    pub hinf: f64,
    /// `τ_h`, ms.
    pub htau: f64,
    /// Potassium activation `n∞`.
    pub ninf: f64,
    /// `τ_n`, ms.
    pub ntau: f64,
}

/// `x / (exp(x/y) − 1)`, with NEURON's series `y·(1 − x/y/2)` where `|x/y| < 1e-6`.
pub fn vtrap(x: f64, y: f64) -> f64 {
    if (x / y).abs() < 1e-6 {
        y * (1.0 - x / y / 2.0)
    } else {
        x / ((x / y).exp() - 1.0)
    }
}

/// `hh.mod`'s temperature factor.
pub fn q10(celsius: f64) -> f64 {
    3f64.powf((celsius - 6.3) / 10.0)
}

/// `hh.mod`'s `rates(v)` computed directly (NEURON with `usetable_hh = 0`).
pub fn rates(v: f64, q10: f64) -> Rates {
    let alpha = 0.1 * vtrap(-(v + 40.0), 10.0);
    let beta = 4.0 * (-(v + 65.0) / 18.0).exp();
    let sum = alpha + beta;
    let (mtau, minf) = (1.0 / (q10 * sum), alpha / sum);
    let alpha = 0.07 * (-(v + 65.0) / 20.0).exp();
    let beta = 1.0 / ((-(v + 35.0) / 10.0).exp() + 1.0);
    let sum = alpha + beta;
    let (htau, hinf) = (1.0 / (q10 * sum), alpha / sum);
    let alpha = 0.01 * vtrap(-(v + 55.0), 10.0);
    let beta = 0.125 * (-(v + 65.0) / 80.0).exp();
    let sum = alpha + beta;
    let (ntau, ninf) = (1.0 / (q10 * sum), alpha / sum);
    Rates {
        minf,
        mtau,
        hinf,
        htau,
        ninf,
        ntau,
    }
}

/// The rates as NEURON evaluates them: from its table (default) or directly.
#[derive(Debug, Clone)]
pub struct HhRates {
    q10: f64,
    table: Option<Vec<[f64; 6]>>,
}

const TABLE_MIN: f64 = -100.0;
const TABLE_STEPS: usize = 200;

impl HhRates {
    /// Rates at `celsius`; `table` as NEURON's `usetable_hh`.
    pub fn new(celsius: f64, table: bool) -> Self {
        let q10 = q10(celsius);
        let table = table.then(|| {
            // NEURON fills it with `x += dx` from −100 (dx = 1: exact in floating point).
            let mut x = TABLE_MIN;
            (0..=TABLE_STEPS)
                .map(|_| {
                    let r = rates(x, q10);
                    x += 1.0;
                    [r.minf, r.mtau, r.hinf, r.htau, r.ninf, r.ntau]
                })
                .collect()
        });
        Self { q10, table }
    }

    /// The rates at `v`.
    pub fn at(&self, v: f64) -> Rates {
        let Some(table) = &self.table else {
            return rates(v, self.q10);
        };
        let xi = v - TABLE_MIN; // NEURON's _mfac_rates is 200 / (100 − −100) = 1
        let row = if xi.is_nan() {
            [f64::NAN; 6]
        } else if xi <= 0.0 {
            table[0]
        } else if xi >= TABLE_STEPS as f64 {
            table[TABLE_STEPS]
        } else {
            let i = xi as usize;
            let theta = xi - i as f64;
            let (a, b) = (&table[i], &table[i + 1]);
            std::array::from_fn(|k| a[k] + theta * (b[k] - a[k]))
        };
        Rates {
            minf: row[0],
            mtau: row[1],
            hinf: row[2],
            htau: row[3],
            ninf: row[4],
            ntau: row[5],
        }
    }
}

/// `hh`'s parameters: peak conductances (S/cm²) and reversals (mV).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hh {
    /// Peak sodium conductance, S/cm² (NEURON: 0.12).
    pub gnabar: f64,
    /// Peak potassium conductance, S/cm² (0.036).
    pub gkbar: f64,
    /// Leak conductance, S/cm² (0.0003).
    pub gl: f64,
    /// Leak reversal, mV (−54.3).
    pub el: f64,
    /// Sodium reversal, mV (NEURON's default 50).
    pub ena: f64,
    /// Potassium reversal, mV (NEURON's default −77).
    pub ek: f64,
}

impl Default for Hh {
    /// NEURON's defaults.
    fn default() -> Self {
        Self {
            gnabar: 0.12,
            gkbar: 0.036,
            gl: 0.0003,
            el: -54.3,
            ena: 50.0,
            ek: -77.0,
        }
    }
}

impl Hh {
    /// Checks the conductances (≥ 0) and reversals (finite); errors name `what`.
    pub fn validate(&self, what: &dyn Fn() -> String) -> Result<()> {
        non_negative(what, "hh.gnabar", self.gnabar)?;
        non_negative(what, "hh.gkbar", self.gkbar)?;
        non_negative(what, "hh.gl", self.gl)?;
        finite(what, "hh.el", self.el)?;
        finite(what, "hh.ena", self.ena)?;
        finite(what, "hh.ek", self.ek)
    }
}

/// One `hh` node: absolute conductances (µS) and reversals (mV).
#[derive(Debug, Clone)]
struct HhNode {
    node: usize,
    gnabar: f64,
    gkbar: f64,
    gl: f64,
    el: f64,
    ena: f64,
    ek: f64,
}

/// `hh` on every node it is inserted in; its state is the gates m, h, n of each node,
/// `[node][gate][trial]`.
#[derive(Debug, Clone)]
pub struct HhChannel {
    nodes: Vec<HhNode>,
    rates: HhRates,
}

impl HhChannel {
    /// No nodes yet, with the rates of `context` (temperature, table).
    pub fn new(context: Context) -> Self {
        Self {
            nodes: Vec::new(),
            rates: HhRates::new(context.celsius, context.hh_table),
        }
    }

    /// Inserts `hh` at `node`; `absolute` turns S/cm² into µS there.
    pub fn insert(&mut self, node: usize, hh: &Hh, absolute: &dyn Fn(f64) -> f64) {
        self.nodes.push(HhNode {
            node,
            gnabar: absolute(hh.gnabar),
            gkbar: absolute(hh.gkbar),
            gl: absolute(hh.gl),
            el: hh.el,
            ena: hh.ena,
            ek: hh.ek,
        });
    }

    /// Whether no node has it.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Gates per trial: 3 per node.
    pub fn states(&self) -> usize {
        3 * self.nodes.len()
    }

    /// Every gate at its steady state for `v`.
    pub fn init<const K: usize>(&self, v: f64, gates: &mut [f64]) {
        let r = self.rates.at(v);
        for j in 0..self.nodes.len() {
            for (g, inf) in [r.minf, r.hinf, r.ninf].into_iter().enumerate() {
                gates[(3 * j + g) * K..(3 * j + g + 1) * K].fill(inf);
            }
        }
    }

    /// `i = gna·(v − ena) + gk·(v − ek) + gl·(v − el)` with `gna = gnabar·m³h`,
    /// `gk = gkbar·n⁴`; its derivative is the conductance sum (linear in `v` at fixed gates).
    pub fn current<const K: usize>(&self, v: &[f64], gates: &[f64], rhs: &mut [f64], d: &mut [f64]) {
        for (j, h) in self.nodes.iter().enumerate() {
            let node = h.node * K;
            for k in 0..K {
                let (gm, gh, gn) = (
                    gates[3 * j * K + k],
                    gates[(3 * j + 1) * K + k],
                    gates[(3 * j + 2) * K + k],
                );
                let x = v[node + k];
                let gna = h.gnabar * gm * gm * gm * gh;
                let gk = h.gkbar * gn * gn * gn * gn;
                rhs[node + k] -= gna * (x - h.ena) + gk * (x - h.ek) + h.gl * (x - h.el);
                d[node + k] += gna + gk + h.gl;
            }
        }
    }

    /// The gates advanced by `dt` at `v` (`cnexp`).
    pub fn advance<const K: usize>(&self, v: &[f64], gates: &mut [f64], dt: f64) {
        for (j, h) in self.nodes.iter().enumerate() {
            for k in 0..K {
                let r = self.rates.at(v[h.node * K + k]);
                let g = &mut gates[3 * j * K..(3 * j + 3) * K];
                g[k] = cnexp(g[k], r.minf, r.mtau, dt);
                g[K + k] = cnexp(g[K + k], r.hinf, r.htau, dt);
                g[2 * K + k] = cnexp(g[2 * K + k], r.ninf, r.ntau, dt);
            }
        }
    }

    /// Per node and step: 20 for the currents, 20 for the table lookup, 9 + an `exp` for each
    /// of the three gate updates.
    pub fn flops_per_step(&self) -> f64 {
        self.nodes.len() as f64 * (20.0 + 20.0 + 3.0 * (9.0 + EXP_FLOPS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vtrap_is_continuous_through_its_removable_point() {
        for y in [10.0, 5.0] {
            let at0 = vtrap(0.0, y);
            assert_eq!(at0, y);
            for x in [1e-9, -1e-9, 1e-5, -1e-5] {
                assert!((vtrap(x, y) - at0).abs() < 1e-4, "x = {x}");
            }
        }
        // The direct form at the singular points gives 0/0; the rates there are finite.
        let r = rates(-40.0, 1.0);
        assert!((r.minf - 1.0 / (1.0 + 4.0 * (-25.0f64 / 18.0).exp())).abs() < 1e-15);
        assert!(rates(-55.0, 1.0).ninf.is_finite());
    }

    #[test]
    fn resting_values_match_hodgkin_huxley() {
        // At −65 mV (6.3 °C): the classic m∞ ≈ 0.0529, h∞ ≈ 0.596, n∞ ≈ 0.3177.
        let r = rates(-65.0, 1.0);
        assert!((r.minf - 0.0529).abs() < 1e-4, "{r:?}");
        assert!((r.hinf - 0.5961).abs() < 1e-4, "{r:?}");
        assert!((r.ninf - 0.3177).abs() < 1e-4, "{r:?}");
        assert!((q10(16.3) - 3.0).abs() < 1e-15);
    }

    #[test]
    fn the_table_interpolates_between_exact_rates_and_clamps_outside() {
        let t = HhRates::new(6.3, true);
        // On a grid point the table is exact.
        assert_eq!(t.at(-65.0), rates(-65.0, 1.0));
        // Between points: linear interpolation of the neighbours.
        let (a, b) = (rates(-65.0, 1.0), rates(-64.0, 1.0));
        let mid = t.at(-64.75);
        assert!((mid.minf - (a.minf + 0.25 * (b.minf - a.minf))).abs() < 1e-15);
        // Close to the exact value (1 mV grid).
        assert!((mid.minf - rates(-64.75, 1.0).minf).abs() < 1e-3);
        // Outside [−100, 100]: the end values.
        assert_eq!(t.at(150.0), rates(100.0, 1.0));
        assert_eq!(t.at(-150.0), rates(-100.0, 1.0));
    }

    #[test]
    fn the_channel_starts_at_rest_and_its_current_is_hh_mod_s() {
        let mut c = HhChannel::new(Context {
            celsius: 6.3,
            hh_table: false,
        });
        // 1000 µm² of membrane: S/cm² × 1000 µm² × 1e-2 = 10·g µS.
        c.insert(1, &Hh::default(), &|g| g * 1000.0 * 1e-2);
        assert_eq!(c.states(), 3);
        let mut gates = vec![0.0; 3 * 2];
        c.init::<2>(-65.0, &mut gates);
        let r = rates(-65.0, 1.0);
        assert_eq!(gates, vec![r.minf, r.minf, r.hinf, r.hinf, r.ninf, r.ninf]);
        // Two trials at −65 and −40 mV on node 1 (lanes 2 and 3).
        let v = [0.0, 0.0, -65.0, -40.0];
        let (mut rhs, mut d) = (vec![0.0; 4], vec![0.0; 4]);
        c.current::<2>(&v, &gates, &mut rhs, &mut d);
        for (k, x) in [-65.0, -40.0].into_iter().enumerate() {
            let (gna, gk, gl) = (1.2 * r.minf.powi(3) * r.hinf, 0.36 * r.ninf.powi(4), 0.003);
            let i = gna * (x - 50.0) + gk * (x + 77.0) + gl * (x + 54.3);
            assert!((rhs[2 + k] + i).abs() < 1e-12, "trial {k}: {} vs {}", rhs[2 + k], -i);
            assert!((d[2 + k] - (gna + gk + gl)).abs() < 1e-15);
        }
        assert_eq!((rhs[0], d[0]), (0.0, 0.0), "node 0 has no hh");
        // At rest the gates stay; depolarised, m opens toward m∞(−40) by cnexp.
        let mut after = gates.clone();
        c.advance::<2>(&v, &mut after, 0.025);
        assert!((after[0] - r.minf).abs() < 1e-15);
        let r40 = rates(-40.0, 1.0);
        assert_eq!(after[1], cnexp(r.minf, r40.minf, r40.mtau, 0.025));
        assert!(after[1] > r.minf);
    }
}
