//! NEURON's `hh` mechanism (`hh.mod`), rate for rate: the same functions, the same
//! singularity-safe `vtrap` at the removable points (v = −40 and −55 mV), the same temperature
//! factor 3^((celsius − 6.3)/10), and optionally the same lookup table NEURON uses by default
//! (`usetable_hh = 1`: 201 entries from −100 to 100 mV, linear interpolation, clamped outside).

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

/// One gate advanced by `dt` with NEURON's `cnexp` expression for `x' = (x∞ − x)/τ`.
#[inline]
pub fn cnexp(x: f64, inf: f64, tau: f64, dt: f64) -> f64 {
    x + (1.0 - (dt * (-1.0 / tau)).exp()) * (-(inf / tau) / (-1.0 / tau) - x)
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
    fn cnexp_is_the_exact_solution_for_fixed_rates() {
        let x = cnexp(0.2, 0.7, 3.0, 0.5);
        assert!((x - (0.7 + (0.2 - 0.7) * (-0.5f64 / 3.0).exp())).abs() < 1e-15);
    }
}
