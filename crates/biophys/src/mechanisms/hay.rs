//! Hay's channels and calcium pool inside the step loop: on each node where they are inserted,
//! the gates of every channel, the pool's `cai` and the calcium current that feeds it, with
//! `eca` from `cai` by Nernst where a pool writes it (NEURON's rule) and NEURON's default
//! elsewhere. The order within a step is NEURON's: the reversal from the old `cai`, the currents
//! at the old `v` and gates, the solve (outside), then the pool and the gates at the new `v`
//! (the pool first: `SK_E2` reads the new `cai`, as mechanisms run in their registration order).

use serde::{Deserialize, Serialize};

use super::ca_dynamics_e2::CaDynamicsE2;
use super::channel::{Ion, Kinetics};
use super::ions::{CAI0, CAO0, ECA0, nernst};
use super::{
    Context, ca_hva::CaHva, ca_lvast::CaLvast, cnexp, ih::Ih, im::Im, k_pst::KPst, k_tst::KTst, nap_et2::NapEt2,
    nata_t::NaTaT, nats2_t::NaTs2T, sk_e2::SkE2, skv3_1::Skv31,
};
use crate::error::{Result, finite, non_negative};
use crate::fast_exp::EXP_FLOPS;

/// One of Hay's channels, by its NEURON name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum HayChannel {
    /// Transient sodium of the axon.
    #[serde(rename = "NaTa_t")]
    NaTaT,
    /// Transient sodium of the soma and apical dendrites.
    #[serde(rename = "NaTs2_t")]
    NaTs2T,
    /// Persistent sodium.
    #[serde(rename = "Nap_Et2")]
    NapEt2,
    /// Persistent potassium.
    #[serde(rename = "K_Pst")]
    KPst,
    /// Transient potassium.
    #[serde(rename = "K_Tst")]
    KTst,
    /// Kv3.1 potassium.
    #[serde(rename = "SKv3_1")]
    Skv31,
    /// Calcium-activated potassium.
    #[serde(rename = "SK_E2")]
    SkE2,
    /// High-voltage-activated calcium.
    #[serde(rename = "Ca_HVA")]
    CaHva,
    /// Low-voltage-activated calcium.
    #[serde(rename = "Ca_LVAst")]
    CaLvast,
    /// Hyperpolarisation-activated cation current.
    #[serde(rename = "Ih")]
    Ih,
    /// Muscarinic potassium.
    #[serde(rename = "Im")]
    Im,
}

/// A channel at a density: `{"kind": "channel", "name": "NaTs2_t", "gbar": 0.998912}`, or one
/// per segment (`"per_segment": [...]`, as NEURON's range variables set segment by segment,
/// e.g. by distance from the soma).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelDensity {
    /// Which channel.
    pub name: HayChannel,
    /// Peak conductance, S/cm² (the `.mod`'s `g<name>bar`).
    pub gbar: f64,
    /// Peak conductance of each segment of the section, S/cm², in place of `gbar`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_segment: Option<Vec<f64>>,
}

impl ChannelDensity {
    /// One density on every segment.
    pub fn uniform(name: HayChannel, gbar: f64) -> Self {
        Self {
            name,
            gbar,
            per_segment: None,
        }
    }

    /// Checks every density `≥ 0`; errors name `what`.
    pub fn validate(&self, what: &dyn Fn() -> String) -> Result<()> {
        non_negative(what, "channel.gbar", self.gbar)?;
        for &g in self.per_segment.iter().flatten() {
            non_negative(what, "channel.per_segment", g)?;
        }
        Ok(())
    }

    /// The channel with segment `k`'s density.
    pub fn gbar_at(&self, k: usize) -> (HayChannel, f64) {
        let g = self
            .per_segment
            .as_ref()
            .and_then(|v| v.get(k).copied())
            .unwrap_or(self.gbar);
        (self.name, g)
    }
}

/// The sodium and potassium reversals of a section (the hoc's `ena = 50`, `ek = -85`):
/// `{"kind": "reversals", "ena": 50, "ek": -85}`. Without it NEURON's defaults hold (50, −77).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reversals {
    /// Sodium reversal, mV.
    pub ena: f64,
    /// Potassium reversal, mV.
    pub ek: f64,
}

impl Default for Reversals {
    /// NEURON's defaults.
    fn default() -> Self {
        Self { ena: 50.0, ek: -77.0 }
    }
}

impl Reversals {
    /// Checks that both are finite; errors name `what`.
    pub fn validate(&self, what: &dyn Fn() -> String) -> Result<()> {
        finite(what, "reversals.ena", self.ena)?;
        finite(what, "reversals.ek", self.ek)
    }
}

/// A channel's kinetics as plain functions, so that one loop runs any of them.
#[derive(Debug, Clone, Copy)]
struct Kind {
    gates: usize,
    ion: Ion,
    rates: fn(f64, f64, &mut [f64], &mut [f64]),
    open: fn(&[f64]) -> f64,
    rate_flops: f64,
}

impl Kind {
    fn of<C: Kinetics>() -> Self {
        Self {
            gates: C::GATES.len(),
            ion: C::ION,
            rates: C::rates,
            open: C::open,
            rate_flops: C::RATE_FLOPS,
        }
    }
}

impl HayChannel {
    fn kind(self) -> Kind {
        match self {
            Self::NaTaT => Kind::of::<NaTaT>(),
            Self::NaTs2T => Kind::of::<NaTs2T>(),
            Self::NapEt2 => Kind::of::<NapEt2>(),
            Self::KPst => Kind::of::<KPst>(),
            Self::KTst => Kind::of::<KTst>(),
            Self::Skv31 => Kind::of::<Skv31>(),
            Self::SkE2 => Kind::of::<SkE2>(),
            Self::CaHva => Kind::of::<CaHva>(),
            Self::CaLvast => Kind::of::<CaLvast>(),
            Self::Ih => Kind::of::<Ih>(),
            Self::Im => Kind::of::<Im>(),
        }
    }
}

/// One channel on one node: its kinetics, its density (S/cm²) and where its gates start in the
/// node's states.
#[derive(Debug, Clone)]
struct Placed {
    kind: Kind,
    gbar: f64,
    first: usize,
}

/// Everything of Hay's on one node.
#[derive(Debug, Clone)]
struct HayNode {
    node: usize,
    /// `area · 1e-2`: S/cm² → µS and mA/cm² → nA on this node.
    per_area: f64,
    reversals: Reversals,
    pool: Option<CaDynamicsE2>,
    channels: Vec<Placed>,
    /// The node's first state; its states are the gates, then `cai` and `ica` with a pool.
    first: usize,
    states: usize,
}

/// Hay's mechanisms on every node that has one; state `[node's slots][trial]`.
#[derive(Debug, Clone, Default)]
pub struct HayChannels {
    nodes: Vec<HayNode>,
    states: usize,
    celsius: f64,
}

impl HayChannels {
    /// Nothing inserted yet.
    pub fn new(context: Context) -> Self {
        Self {
            celsius: context.celsius,
            ..Self::default()
        }
    }

    fn at(&mut self, node: usize, area: f64) -> &mut HayNode {
        if let Some(i) = self.nodes.iter().position(|n| n.node == node) {
            return &mut self.nodes[i];
        }
        self.nodes.push(HayNode {
            node,
            per_area: area * 1e-2,
            reversals: Reversals::default(),
            pool: None,
            channels: Vec::new(),
            first: 0,
            states: 0,
        });
        self.nodes.last_mut().expect("just pushed")
    }

    /// Inserts a channel at `node` (membrane area `area` µm²) with density `gbar` (S/cm²).
    pub fn insert_channel(&mut self, node: usize, area: f64, (channel, gbar): (HayChannel, f64)) {
        let kind = channel.kind();
        self.at(node, area).channels.push(Placed { kind, gbar, first: 0 });
    }

    /// Inserts the calcium pool at `node`.
    pub fn insert_pool(&mut self, node: usize, area: f64, pool: &CaDynamicsE2) {
        self.at(node, area).pool = Some(*pool);
    }

    /// Sets `node`'s sodium and potassium reversals.
    pub fn set_reversals(&mut self, node: usize, area: f64, r: &Reversals) {
        self.at(node, area).reversals = *r;
    }

    /// Lays the states out once every mechanism is inserted.
    pub fn finish(&mut self) {
        let mut first = 0;
        for n in &mut self.nodes {
            n.first = first;
            let mut slot = 0;
            for c in &mut n.channels {
                c.first = slot;
                slot += c.kind.gates;
            }
            n.states = slot + if n.pool.is_some() { 2 } else { 0 };
            first += n.states;
        }
        self.states = first;
    }

    /// Whether no node has any.
    pub fn is_empty(&self) -> bool {
        self.nodes.iter().all(|n| n.channels.is_empty() && n.pool.is_none())
    }

    /// States per trial.
    pub fn states(&self) -> usize {
        self.states
    }

    /// Gates at their steady states for `v` and `cai` at NEURON's default.
    pub fn init<const K: usize>(&self, v: f64, state: &mut [f64]) {
        let (mut inf, mut tau) = ([0.0; 4], [0.0; 4]);
        for n in &self.nodes {
            for c in &n.channels {
                (c.kind.rates)(v, CAI0, &mut inf[..c.kind.gates], &mut tau[..c.kind.gates]);
                for (g, &x) in inf[..c.kind.gates].iter().enumerate() {
                    let s = n.first + c.first + g;
                    state[s * K..(s + 1) * K].fill(x);
                }
            }
            if n.pool.is_some() {
                let s = n.first + n.states - 2;
                state[s * K..(s + 1) * K].fill(CAI0);
                state[(s + 1) * K..(s + 2) * K].fill(0.0);
            }
        }
    }

    /// Subtracts the currents at `v` from `rhs`, adds their conductances to `d`, and keeps each
    /// pool's calcium current for [`HayChannels::advance`].
    pub fn current<const K: usize>(&self, v: &[f64], state: &mut [f64], rhs: &mut [f64], d: &mut [f64]) {
        for n in &self.nodes {
            let base = n.node * K;
            for k in 0..K {
                let x = v[base + k];
                let pool_slot = (n.first + n.states - 2) * K + k;
                let eca = if n.pool.is_some() {
                    nernst(state[pool_slot], CAO0, 2.0, self.celsius)
                } else {
                    ECA0
                };
                let (mut i_sum, mut g_sum, mut ica) = (0.0, 0.0, 0.0);
                let mut gates = [0.0; 4];
                for c in &n.channels {
                    for (g, gate) in gates[..c.kind.gates].iter_mut().enumerate() {
                        *gate = state[(n.first + c.first + g) * K + k];
                    }
                    let g = c.gbar * (c.kind.open)(&gates[..c.kind.gates]);
                    let e = match c.kind.ion {
                        Ion::Na => n.reversals.ena,
                        Ion::K => n.reversals.ek,
                        Ion::Ca => eca,
                        Ion::NonSpecific(e) => e,
                    };
                    let i = g * (x - e);
                    if c.kind.ion == Ion::Ca {
                        ica += i;
                    }
                    i_sum += i;
                    g_sum += g;
                }
                rhs[base + k] -= i_sum * n.per_area;
                d[base + k] += g_sum * n.per_area;
                if n.pool.is_some() {
                    state[pool_slot + K] = ica;
                }
            }
        }
    }

    /// The pools, then the gates, advanced by `dt` at the new `v`.
    pub fn advance<const K: usize>(&self, v: &[f64], state: &mut [f64], dt: f64) {
        let (mut inf, mut tau) = ([0.0; 4], [0.0; 4]);
        for n in &self.nodes {
            for k in 0..K {
                let x = v[n.node * K + k];
                let cai = match &n.pool {
                    Some(pool) => {
                        let s = (n.first + n.states - 2) * K + k;
                        state[s] = pool.advance(state[s], state[s + K], dt);
                        state[s]
                    }
                    None => CAI0,
                };
                for c in &n.channels {
                    let gates = c.kind.gates;
                    (c.kind.rates)(x, cai, &mut inf[..gates], &mut tau[..gates]);
                    for g in 0..gates {
                        let s = (n.first + c.first + g) * K + k;
                        state[s] = cnexp(state[s], inf[g], tau[g], dt);
                    }
                }
            }
        }
    }

    /// Per step and trial: each channel's rates, a `cnexp` per gate (9 + an `exp`) and its
    /// current (4 + a multiply per gate); each pool's reversal (Nernst: 6 + a logarithm, counted
    /// as an `exp`) and update (12 + an `exp`).
    pub fn flops_per_step(&self) -> f64 {
        self.nodes
            .iter()
            .map(|n| {
                let channels: f64 = n
                    .channels
                    .iter()
                    .map(|c| c.kind.rate_flops + c.kind.gates as f64 * (9.0 + EXP_FLOPS + 1.0) + 4.0)
                    .sum();
                let pool = if n.pool.is_some() {
                    6.0 + 12.0 + 2.0 * EXP_FLOPS
                } else {
                    0.0
                };
                channels + pool + 4.0
            })
            .sum()
    }
}
