//! What Hay et al.'s (2011) channels share, as their `.mod` files write them: gates with a
//! steady state and a time constant that depend on the membrane potential (or, for `SK_E2`, on
//! the calcium under the membrane), a conductance `gbar · Π gateᵖ` through one ion's reversal,
//! and NEURON's `cnexp` update. Each channel is a file that implements [`Kinetics`]; the rates
//! are written in the `.mod`'s own order of operations, so that they agree with NEURON's to
//! rounding (tested against NEURON 9 under voltage clamp in each file), with two departures
//! that change only rounding and save the step's most expensive operations: `exp` and `ln` are
//! the vectorisable ones (2 ulp), and each gate's time constant is given as its rate `1/τ`,
//! formed without the divisions (`(α + β)·qt` where the `.mod` writes `(1/(α + β))/qt`).

use crate::fast_exp::{EXP_FLOPS, exp};

/// FLOPs of one `pow` (a logarithm and an `exp`).
pub const POW_FLOPS: f64 = 2.0 * EXP_FLOPS;

/// The ion a channel's current flows through, and so which reversal potential it uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ion {
    /// Sodium (`ena`).
    Na,
    /// Potassium (`ek`).
    K,
    /// Calcium (`eca`, from the pool's concentration when a pool writes it).
    Ca,
    /// A current with its own fixed reversal (`Ih`'s `ehcn`).
    NonSpecific(f64),
}

/// A channel's gates and conductance, as its `.mod` file defines them.
pub trait Kinetics {
    /// NEURON's name of the mechanism (its `SUFFIX`).
    const SUFFIX: &'static str;
    /// The gates, in the `.mod`'s `STATE` order.
    const GATES: &'static [&'static str];
    /// The ion its current flows through.
    const ION: Ion;
    /// Steady state and rate `1/τ` (per ms) of each gate at membrane potential `v` (mV), with
    /// the calcium concentration under the membrane `cai` (mM), which only `SK_E2` reads.
    fn rates(v: f64, cai: f64, inf: &mut [f64], rate: &mut [f64]);
    /// The open fraction `g / gbar` of the gates' values.
    fn open(gates: &[f64]) -> f64;
    /// FLOPs of one [`Kinetics::rates`] call, counted from its formulas (`+ − × ÷` and
    /// comparisons 1 each, an `exp` [`EXP_FLOPS`], a `pow` [`POW_FLOPS`]).
    const RATE_FLOPS: f64;
}

/// The temperature factor Hay's channels apply to their time constants: `2.3^((34 − 21)/10)`,
/// fixed at 34 °C in the `.mod` files whatever `celsius` is (a constant: `pow` per rate
/// evaluation would cost more than the rates).
#[inline(always)]
pub fn hay_qt() -> f64 {
    HAY_QT
}

/// `2.3^1.3` as libm's `pow` rounds it (tested).
const HAY_QT: f64 = f64::from_bits(0x4007_9F80_EF2E_5449);

/// `x²`, as C's `pow(x, 2)` gives it (both round the exact square once).
#[inline(always)]
pub fn square(x: f64) -> f64 {
    x * x
}

/// The activation gate Hay's sodium channels share (after Colbert & Pan 2002), half-way at
/// `theta` mV, as `(α + β, α/(α + β))` from the `.mod`'s `α = 0.182·(v − θ)/(1 − e^(−(v − θ)/6))`
/// and `β = 0.124·(θ − v)/(1 − e^(−(θ − v)/6))`. At `v == theta` the `.mod` moves `v` by 1e-4 mV,
/// and the moved `v` is what the rates after it read: so does this. With `E = e^(−(v − θ)/6)`,
/// `β = 0.124·(v − θ)·E/(1 − E)`, so `α + β = (v − θ)·(0.182 + 0.124·E)/(1 − E)` and
/// `α/(α + β) = 0.182/(0.182 + 0.124·E)`: one `exp` and two divisions where the `.mod` takes two
/// and four (equal but for rounding; these are the step's most expensive operations).
#[inline(always)]
pub fn sodium_activation(v: &mut f64, theta: f64) -> (f64, f64) {
    if *v == theta {
        *v += 0.0001;
    }
    let d = *v - theta;
    let e = exp(-d / 6.0);
    let weighted = 0.182 + 0.124 * e;
    (d * weighted / (1.0 - e), 0.182 / weighted)
}

/// The inactivation gate of the same channels, half-way at `theta` mV, as `(α + β, α/(α + β))`
/// from `α = −0.015·(v − θ)/(1 − e^((v − θ)/6))` and `β = −0.015·(θ − v)/(1 − e^((θ − v)/6))`,
/// with the same guard: with `E = e^((v − θ)/6)`, `α + β = −0.015·(v − θ)·(1 + E)/(1 − E)` and
/// `α/(α + β) = 1/(1 + E)`.
#[inline(always)]
pub fn sodium_inactivation(v: &mut f64, theta: f64) -> (f64, f64) {
    if *v == theta {
        *v += 0.0001;
    }
    let d = *v - theta;
    let e = exp(d / 6.0);
    (-0.015 * d * (1.0 + e) / (1.0 - e), 1.0 / (1.0 + e))
}

/// Every gate at its steady state (the `.mod`'s `INITIAL`).
pub fn steady_state<C: Kinetics>(v: f64, cai: f64) -> Vec<f64> {
    let n = C::GATES.len();
    let (mut inf, mut rate) = (vec![0.0; n], vec![0.0; n]);
    C::rates(v, cai, &mut inf, &mut rate);
    inf
}

/// Advances the gates by `dt` (ms) at `v` with `cnexp`, as NEURON's `nrn_state` does after the
/// voltage solve.
pub fn advance<C: Kinetics>(gates: &mut [f64], v: f64, cai: f64, dt: f64) {
    let n = C::GATES.len();
    let (mut inf, mut rate) = ([0.0; 4], [0.0; 4]);
    C::rates(v, cai, &mut inf[..n], &mut rate[..n]);
    for ((g, &i), &r) in gates.iter_mut().zip(&inf).zip(&rate) {
        *g = cnexp(*g, i, r, dt);
    }
}

/// NEURON's `cnexp` for `x' = (x∞ − x)/τ`, `x + (1 − e^(dt·(−1/τ)))·(−(x∞/τ)/(−1/τ) − x)`, given
/// the rate `1/τ` and with `x∞` for `−(x∞/τ)/(−1/τ)` (equal but for rounding).
#[inline(always)]
pub fn cnexp(x: f64, inf: f64, rate: f64, dt: f64) -> f64 {
    x + (1.0 - exp(dt * -rate)) * (inf - x)
}

/// The current density (mA/cm²) at `v` through a density `gbar` (S/cm²) and reversal `e` (mV).
pub fn current<C: Kinetics>(gbar: f64, gates: &[f64], v: f64, e: f64) -> f64 {
    gbar * C::open(gates) * (v - e)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_temperature_factor_is_libms_pow() {
        assert_eq!(super::hay_qt(), 2.3f64.powf((34.0 - 21.0) / 10.0));
    }
}

#[cfg(test)]
pub(crate) mod neuron_reference {
    //! The channels under voltage clamp in NEURON 9 (`scripts/l5pc_mechanisms_reference.py`).
    use super::*;
    use serde_json::Value;

    pub fn reference() -> Value {
        serde_json::from_str(include_str!("../../tests/data/l5pc_mechanisms_neuron.json"))
            .expect("the reference JSON parses")
    }

    /// The clamp's command during the step from `t` to `t + dt`: NEURON evaluates it at
    /// `t + dt/2`.
    pub fn command(r: &Value, level: f64, t_mid: f64) -> f64 {
        let (on, off) = (r["step_on"].as_f64().unwrap(), r["step_off"].as_f64().unwrap());
        if t_mid > on && t_mid < off {
            level
        } else {
            r["hold"].as_f64().unwrap()
        }
    }

    /// Asserts that channel `C` follows NEURON's traces: gates within 1e-9, the current within
    /// 1e-8 of its peak (the clamp's own imprecision is about 1e-10 mV).
    pub fn assert_agrees_with_neuron<C: Kinetics>() {
        let (gates, current) = worst_against_neuron::<C>();
        assert!(gates < 1e-9, "{}: a gate differs from NEURON's by {gates:e}", C::SUFFIX);
        assert!(
            current < 1e-8,
            "{}: the current differs from NEURON's by {current:e} of its peak",
            C::SUFFIX
        );
    }

    /// Asserts that the `.mod`'s guards keep every rate finite and continuous at the removable
    /// singularities `at` (mV), where the formulas are 0/0.
    pub fn assert_guards_hold<C: Kinetics>(at: &[f64]) {
        let n = C::GATES.len();
        for &v in at {
            let (mut inf, mut rate) = (vec![0.0; n], vec![0.0; n]);
            C::rates(v, 5e-5, &mut inf, &mut rate);
            let (mut near, mut near_rate) = (vec![0.0; n], vec![0.0; n]);
            C::rates(v + 1e-3, 5e-5, &mut near, &mut near_rate);
            for g in 0..n {
                assert!(
                    inf[g].is_finite() && rate[g].is_finite() && rate[g] > 0.0,
                    "{} at {v}",
                    C::SUFFIX
                );
                assert!(
                    (inf[g] - near[g]).abs() < 1e-3 && (rate[g] - near_rate[g]).abs() < 1e-2 * rate[g],
                    "{} at {v}: gate {g} jumps",
                    C::SUFFIX
                );
            }
        }
    }

    /// Simulates channel `C` alone under the script's clamp steps and returns the largest
    /// differences from NEURON's traces: (gates, current relative to its largest value).
    pub fn worst_against_neuron<C: Kinetics>() -> (f64, f64) {
        let r = reference();
        let (dt, end) = (r["dt"].as_f64().unwrap(), r["end"].as_f64().unwrap());
        let hold = r["hold"].as_f64().unwrap();
        let e = match C::ION {
            Ion::Na => r["ena"].as_f64().unwrap(),
            Ion::K => r["ek"].as_f64().unwrap(),
            Ion::Ca => r["eca_default"].as_f64().unwrap(),
            Ion::NonSpecific(e) => e,
        };
        let gbar = 0.01; // the script's density
        let cai = 5e-5; // NEURON's default; no pool in these runs
        let runs = r["channels"][C::SUFFIX].as_array().expect("the channel's runs");
        let levels = r["levels"].as_array().unwrap();
        let (mut worst_gate, mut worst_current) = (0.0f64, 0.0f64);
        for (run, level) in runs.iter().zip(levels) {
            let level = level.as_f64().unwrap();
            let series =
                |k: &str| -> Vec<f64> { run[k].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect() };
            let reference_i = series("i");
            let scale = reference_i.iter().fold(1e-12f64, |m, x| m.max(x.abs()));
            let mut gates = steady_state::<C>(hold, cai);
            let (mut v, steps) = (hold, (end / dt).round() as usize);
            let every_ms = (1.0 / dt).round() as usize;
            let mut i = current::<C>(gbar, &gates, v, e);
            for n in 0..=steps {
                if n % every_ms == 0 {
                    let k = n / every_ms;
                    for (g, name) in gates.iter().zip(C::GATES) {
                        worst_gate = worst_gate.max((g - series(name)[k]).abs());
                    }
                    worst_current = worst_current.max((i - reference_i[k]).abs() / scale);
                }
                // One step: the current at the old v and gates, then the solve, then the gates.
                i = current::<C>(gbar, &gates, v, e);
                v = command(&r, level, n as f64 * dt + 0.5 * dt);
                advance::<C>(&mut gates, v, cai, dt);
            }
        }
        (worst_gate, worst_current)
    }
}
