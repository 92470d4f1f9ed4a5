//! Membrane mechanisms, one file each: its parameters (a variant of [`Mechanism`]), its
//! validation, how it compiles onto the nodes of a tree, and the current and state update the
//! step loop calls, integrated as its `.mod` file says. Adding a channel is a file here, a
//! variant of [`Mechanism`] and one of [`Channel`].
//!
//! Passive leaks (`pas`) fold into one conductance per node; channels with state (`hh`) keep
//! theirs per node, trials innermost (the simulator runs `K` trials in lockstep).
//!
//! Hay et al.'s (2011) layer-5 pyramidal cell brings its own channels and calcium pool
//! (`data/l5pc/mods`), one file each here with its rates written as the `.mod` writes them and
//! tested against NEURON 9 under voltage clamp: sodium `NaTa_t`, `NaTs2_t`, `Nap_Et2`;
//! potassium `K_Pst`, `K_Tst`, `SKv3_1`, `SK_E2`, `Im`; calcium `Ca_HVA`, `Ca_LVAst`; `Ih`; the
//! pool `CaDynamics_E2` and the ions' reversal potentials. They share [`channel::Kinetics`].

pub mod ca_dynamics_e2;
pub mod ca_hva;
pub mod ca_lvast;
pub mod channel;
pub mod hay;
pub mod hh;
pub mod ih;
pub mod im;
pub mod ions;
pub mod k_pst;
pub mod k_tst;
pub mod nap_et2;
pub mod nata_t;
pub mod nats2_t;
pub mod pas;
pub mod sk_e2;
pub mod skv3_1;

use serde::{Deserialize, Serialize};

use crate::error::Result;

/// A membrane mechanism, as NEURON's built-ins of the same name. In JSON, the parameters with
/// `"kind"`: `{"kind": "pas", "g": 5e-5, "e": -65}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mechanism {
    /// Passive leak `i = g·(v − e)`: NEURON's `pas` ([`pas`]).
    Pas(pas::Pas),
    /// Hodgkin–Huxley sodium, potassium and leak, exactly NEURON's `hh` ([`hh`]).
    Hh(hh::Hh),
    /// One of Hay's channels at a density ([`hay`]): `{"kind": "channel", "name": "NaTs2_t",
    /// "gbar": 0.998912}`.
    Channel(hay::ChannelDensity),
    /// Hay's calcium pool ([`ca_dynamics_e2`]); where it is, `eca` follows its `cai`.
    CaDynamicsE2(ca_dynamics_e2::CaDynamicsE2),
    /// The section's sodium and potassium reversals for Hay's channels (the hoc's `ena`, `ek`).
    Reversals(hay::Reversals),
}

impl Mechanism {
    /// NEURON's `pas` with conductance `g` (S/cm²) and reversal `e` (mV).
    pub fn pas(g: f64, e: f64) -> Self {
        Self::Pas(pas::Pas { g, e })
    }

    /// NEURON's `hh` with its default parameters and ion reversals.
    pub fn hh() -> Self {
        Self::Hh(hh::Hh::default())
    }

    /// Checks the parameters; errors name `what` (the section).
    pub fn validate(&self, what: &dyn Fn() -> String) -> Result<()> {
        match self {
            Self::Pas(p) => p.validate(what),
            Self::Hh(h) => h.validate(what),
            Self::Channel(c) => c.validate(what),
            Self::CaDynamicsE2(p) => p.validate(what),
            Self::Reversals(r) => r.validate(what),
        }
    }
}

/// What compiling a mechanism needs besides the tree: the cell's temperature, the numerics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Context {
    /// Temperature, °C.
    pub celsius: f64,
    /// Evaluate `hh`'s rates from NEURON's table.
    pub hh_table: bool,
}

/// A mechanism with state, compiled onto the nodes it is inserted in.
#[derive(Debug, Clone)]
pub enum Channel {
    /// NEURON's `hh`.
    Hh(hh::HhChannel),
    /// Hay's channels and calcium pools.
    Hay(hay::HayChannels),
}

impl Channel {
    /// State values per trial (nodes × states per node).
    pub fn states(&self) -> usize {
        match self {
            Self::Hh(c) => c.states(),
            Self::Hay(c) => c.states(),
        }
    }

    /// Every state at its steady state for `v` (NEURON's `INITIAL`), for `K` trials.
    pub fn init<const K: usize>(&self, v: f64, state: &mut [f64]) {
        match self {
            Self::Hh(c) => c.init::<K>(v, state),
            Self::Hay(c) => c.init::<K>(v, state),
        }
    }

    /// Subtracts the currents at `v` from `rhs` and adds their voltage derivatives to `d`
    /// (and keeps what the state update needs of them, such as a pool's calcium current).
    pub fn current<const K: usize>(&self, v: &[f64], state: &mut [f64], rhs: &mut [f64], d: &mut [f64]) {
        match self {
            Self::Hh(c) => c.current::<K>(v, state, rhs, d),
            Self::Hay(c) => c.current::<K>(v, state, rhs, d),
        }
    }

    /// Advances the states by `dt` at the new `v`.
    pub fn advance<const K: usize>(&self, v: &[f64], state: &mut [f64], dt: f64) {
        match self {
            Self::Hh(c) => c.advance::<K>(v, state, dt),
            Self::Hay(c) => c.advance::<K>(v, state, dt),
        }
    }

    /// FLOPs of one step (current and update), per trial.
    pub fn flops_per_step(&self) -> f64 {
        match self {
            Self::Hh(c) => c.flops_per_step(),
            Self::Hay(c) => c.flops_per_step(),
        }
    }
}

/// Every section's mechanisms compiled onto a tree's nodes.
#[derive(Debug, Clone)]
pub struct Membrane {
    /// Passive leak per node, `Σ g` (µS).
    pub leak_g: Vec<f64>,
    /// Passive leak per node, `Σ g·e` (nA).
    pub leak_ge: Vec<f64>,
    /// Mechanisms with state.
    pub channels: Vec<Channel>,
}

impl Membrane {
    /// Compiles the mechanisms onto a tree of `nodes` nodes: `placed` lists every node's
    /// mechanisms in order, as `(node, membrane area in µm², segment index in its section,
    /// mechanism)`.
    pub fn new<'a>(
        nodes: usize,
        placed: impl IntoIterator<Item = (usize, f64, usize, &'a Mechanism)>,
        context: Context,
    ) -> Self {
        let mut membrane = Self {
            leak_g: vec![0.0; nodes],
            leak_ge: vec![0.0; nodes],
            channels: Vec::new(),
        };
        let mut hh = hh::HhChannel::new(context);
        let mut hay = hay::HayChannels::new(context);
        for (node, area, segment, m) in placed {
            // S/cm² × µm² → µS.
            let absolute = |g: f64| g * area * 1e-2;
            match m {
                Mechanism::Pas(p) => pas::insert(&mut membrane, node, absolute(p.g), p.e),
                Mechanism::Hh(h) => hh.insert(node, h, &absolute),
                Mechanism::Channel(c) => hay.insert_channel(node, area, c.gbar_at(segment)),
                Mechanism::CaDynamicsE2(p) => hay.insert_pool(node, area, p),
                Mechanism::Reversals(r) => hay.set_reversals(node, area, r),
            }
        }
        if !hh.is_empty() {
            membrane.channels.push(Channel::Hh(hh));
        }
        hay.finish();
        if !hay.is_empty() {
            membrane.channels.push(Channel::Hay(hay));
        }
        membrane
    }
}

/// One state advanced by `dt` with NEURON's `cnexp` expression for `x' = (x∞ − x)/τ` (the
/// exact solution at fixed rates).
#[inline]
pub fn cnexp(x: f64, inf: f64, tau: f64, dt: f64) -> f64 {
    x + (1.0 - (dt * (-1.0 / tau)).exp()) * (-(inf / tau) / (-1.0 / tau) - x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mechanisms_read_and_write_their_json_as_before() {
        // The format cells have been saved in: the parameters beside a `kind` tag.
        let pas: Mechanism = serde_json::from_str(r#"{"kind": "pas", "g": 5e-5, "e": -65.0}"#).unwrap();
        assert_eq!(pas, Mechanism::pas(5e-5, -65.0));
        let json = serde_json::to_value(Mechanism::hh()).unwrap();
        assert_eq!(json["kind"], "hh");
        assert_eq!(
            (json["gnabar"].as_f64(), json["ek"].as_f64()),
            (Some(0.12), Some(-77.0))
        );
        assert_eq!(serde_json::from_value::<Mechanism>(json).unwrap(), Mechanism::hh());
        assert!(serde_json::from_str::<Mechanism>(r#"{"kind": "nav", "g": 1}"#).is_err());
        let e = Mechanism::pas(-1.0, 0.0)
            .validate(&|| "soma".into())
            .unwrap_err()
            .to_string();
        assert!(e.contains("soma") && e.contains("pas.g"), "{e}");
    }

    #[test]
    fn cnexp_is_the_exact_solution_for_fixed_rates() {
        let x = cnexp(0.2, 0.7, 3.0, 0.5);
        assert!((x - (0.7 + (0.2 - 0.7) * (-0.5f64 / 3.0).exp())).abs() < 1e-15);
    }
}
