//! Hay's channels and calcium pool inside the step loop: on each node where they are inserted,
//! the gates of every channel, the pool's `cai` and the calcium current that feeds it, with
//! `eca` from `cai` by Nernst where a pool writes it (NEURON's rule) and NEURON's default
//! elsewhere. The order within a step is NEURON's: the reversal from the old `cai`, the currents
//! at the old `v` and gates, the solve (outside), then the pool and the gates at the new `v`
//! (the pool first: `SK_E2` reads the new `cai`, as mechanisms run in their registration order).

use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use super::ca_dynamics_e2::CaDynamicsE2;
use super::channel::{self, Ion, Kinetics};
use host_math::HostFloat;

use super::ions::{CAI0, CAO0, ECA0, nernst_factor};
use super::{
    Context, ca_hva::CaHva, ca_lvast::CaLvast, ih::Ih, im::Im, k_pst::KPst, k_tst::KTst, nap_et2::NapEt2,
    nata_t::NaTaT, nats2_t::NaTs2T, sk_e2::SkE2, skv3_1::Skv31,
};
use crate::error::{Result, finite, non_negative};
use crate::fast_exp::EXP_FLOPS;
use crate::simd::{lanes, lanes_mut};

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

/// Calls `$f::<Channel, K>(args)` for the channel `$which` names: the step's loops are
/// compiled once per channel, with its rates inlined.
macro_rules! for_channel {
    ($which:expr, $f:ident::<_, $k:ident>($($arg:expr),*)) => {
        match $which {
            HayChannel::NaTaT => $f::<NaTaT, $k>($($arg),*),
            HayChannel::NaTs2T => $f::<NaTs2T, $k>($($arg),*),
            HayChannel::NapEt2 => $f::<NapEt2, $k>($($arg),*),
            HayChannel::KPst => $f::<KPst, $k>($($arg),*),
            HayChannel::KTst => $f::<KTst, $k>($($arg),*),
            HayChannel::Skv31 => $f::<Skv31, $k>($($arg),*),
            HayChannel::SkE2 => $f::<SkE2, $k>($($arg),*),
            HayChannel::CaHva => $f::<CaHva, $k>($($arg),*),
            HayChannel::CaLvast => $f::<CaLvast, $k>($($arg),*),
            HayChannel::Ih => $f::<Ih, $k>($($arg),*),
            HayChannel::Im => $f::<Im, $k>($($arg),*),
        }
    };
}

impl HayChannel {
    /// Every channel, in the order the step visits them.
    const ALL: [Self; 11] = [
        Self::NaTaT,
        Self::NaTs2T,
        Self::NapEt2,
        Self::KPst,
        Self::KTst,
        Self::Skv31,
        Self::SkE2,
        Self::CaHva,
        Self::CaLvast,
        Self::Ih,
        Self::Im,
    ];

    fn gates(self) -> usize {
        fn n<C: Kinetics, const K: usize>() -> usize {
            C::GATES.len()
        }
        for_channel!(self, n::<_, K1>())
    }

    fn ion(self) -> Ion {
        fn ion<C: Kinetics, const K: usize>() -> Ion {
            C::ION
        }
        for_channel!(self, ion::<_, K1>())
    }

    /// FLOPs of one site per step: the rates, a `cnexp` per gate (6 + an `exp`), the current
    /// (4 + a multiply per gate).
    fn flops(self) -> f64 {
        fn f<C: Kinetics, const K: usize>() -> f64 {
            C::RATE_FLOPS + C::GATES.len() as f64 * (6.0 + EXP_FLOPS + 1.0) + 4.0
        }
        for_channel!(self, f::<_, K1>())
    }
}

/// The lane count of the per-channel queries above (they do not depend on it).
const K1: usize = 1;

/// What one node received before [`HayChannels::finish`], in insertion order.
#[derive(Debug, Clone)]
struct HayNode {
    node: usize,
    /// `area · 1e-2`: S/cm² → µS and mA/cm² → nA on this node.
    per_area: f64,
    reversals: Reversals,
    pool: Option<CaDynamicsE2>,
    channels: Vec<(HayChannel, f64)>,
}

/// One channel on one node, as the step reads it.
#[derive(Debug, Clone, Copy)]
struct Site {
    node: usize,
    /// Density, S/cm².
    gbar: f64,
    per_area: f64,
    /// The reversal of a sodium, potassium or fixed current; NEURON's default `eca` for a
    /// calcium current on a node without a pool.
    e: f64,
    /// The first state slot of the node's pool (`cai`, `ica`, `eca`), if it has one.
    pool: Option<usize>,
    /// The state slot of its first gate.
    first: usize,
}

/// Every site of one channel.
#[derive(Debug, Clone)]
struct Group {
    channel: HayChannel,
    sites: Vec<Site>,
}

/// One pool: state slots `first` (`cai`), `first + 1` (`ica`, the calcium current density the
/// node's channels carried this step) and `first + 2` (`eca`).
#[derive(Debug, Clone, Copy)]
struct Pool {
    pool: CaDynamicsE2,
    first: usize,
}

/// Hay's mechanisms on every node that has one, laid out by channel: each channel's sites
/// together, so that one loop per channel runs with its rates inlined, trials innermost in the
/// state (`[slot][trial]`) so that the trials of a batch are one vector.
#[derive(Debug, Clone, Default)]
pub struct HayChannels {
    building: Vec<HayNode>,
    index: HashMap<usize, usize>,
    groups: Vec<Group>,
    pools: Vec<Pool>,
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
        let building = &mut self.building;
        let i = *self.index.entry(node).or_insert_with(|| {
            building.push(HayNode {
                node,
                per_area: area * 1e-2,
                reversals: Reversals::default(),
                pool: None,
                channels: Vec::new(),
            });
            building.len() - 1
        });
        &mut self.building[i]
    }

    /// Inserts a channel at `node` (membrane area `area` µm²) with density `gbar` (S/cm²).
    pub fn insert_channel(&mut self, node: usize, area: f64, channel: (HayChannel, f64)) {
        self.at(node, area).channels.push(channel);
    }

    /// Inserts the calcium pool at `node`.
    pub fn insert_pool(&mut self, node: usize, area: f64, pool: &CaDynamicsE2) {
        self.at(node, area).pool = Some(*pool);
    }

    /// Sets `node`'s sodium and potassium reversals.
    pub fn set_reversals(&mut self, node: usize, area: f64, r: &Reversals) {
        self.at(node, area).reversals = *r;
    }

    /// Lays the states out once every mechanism is inserted: the pools, then each channel's
    /// gates, site by site.
    pub fn finish(&mut self) {
        let mut nodes = std::mem::take(&mut self.building);
        self.index.clear();
        nodes.sort_by_key(|n| n.node);
        // The pools first (three slots each), so a site knows its pool's slot as it is placed.
        let mut slot = 0;
        let mut pool_of = Vec::with_capacity(nodes.len());
        for node in &nodes {
            pool_of.push(node.pool.map(|pool| {
                self.pools.push(Pool { pool, first: slot });
                slot += 3;
                slot - 3
            }));
        }
        self.groups = HayChannel::ALL
            .iter()
            .map(|&channel| Group {
                channel,
                sites: Vec::new(),
            })
            .collect();
        for (node, &pool) in nodes.iter().zip(&pool_of) {
            for &(channel, gbar) in &node.channels {
                let g = HayChannel::ALL
                    .iter()
                    .position(|&c| c == channel)
                    .expect("every channel is in ALL");
                let e = match channel.ion() {
                    Ion::Na => node.reversals.ena,
                    Ion::K => node.reversals.ek,
                    Ion::Ca => ECA0,
                    Ion::NonSpecific(e) => e,
                };
                self.groups[g].sites.push(Site {
                    node: node.node,
                    gbar,
                    per_area: node.per_area,
                    e,
                    pool,
                    first: 0,
                });
            }
        }
        // Then each channel's gates, site by site.
        for group in &mut self.groups {
            let gates = group.channel.gates();
            for site in &mut group.sites {
                site.first = slot;
                slot += gates;
            }
        }
        self.groups.retain(|g| !g.sites.is_empty());
        self.states = slot;
    }

    /// Whether no node has any.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty() && self.pools.is_empty()
    }

    /// States per trial.
    pub fn states(&self) -> usize {
        self.states
    }

    /// Gates at their steady states for `v` and `cai` at NEURON's default.
    pub fn init<const K: usize>(&self, v: f64, state: &mut [f64]) {
        fn steady<C: Kinetics, const K: usize>(sites: &[Site], v: f64, state: &mut [f64]) {
            let inf = channel::steady_state::<C>(v, CAI0);
            for s in sites {
                for (g, &x) in inf.iter().enumerate() {
                    state[(s.first + g) * K..(s.first + g + 1) * K].fill(x);
                }
            }
        }
        for group in &self.groups {
            for_channel!(group.channel, steady::<_, K>(&group.sites, v, state));
        }
        for p in &self.pools {
            state[p.first * K..(p.first + 1) * K].fill(CAI0);
            state[(p.first + 1) * K..(p.first + 3) * K].fill(0.0);
        }
    }

    crate::simd::widest!(
        /// Subtracts the currents at `v` from `rhs`, adds their conductances to `d`, and keeps each
        /// pool's calcium current for [`HayChannels::advance`]; `eca` from each pool's `cai` first.
        pub fn current / current_body, current_avx2, current_avx512 <const K: usize>(&self, v: &[f64], state: &mut [f64], rhs: &mut [f64], d: &mut [f64])
    );

    #[inline(always)]
    fn current_body<const K: usize>(&self, v: &[f64], state: &mut [f64], rhs: &mut [f64], d: &mut [f64]) {
        // Nernst for calcium as `nrn_nernst` computes it, the factor before the logarithm in
        // its order of operations; lanes without calcium get its ±1e6 mV.
        let factor = nernst_factor(self.celsius, 2.0);
        for p in &self.pools {
            let (cai, rest) = state[p.first * K..(p.first + 3) * K].split_at_mut(K);
            let (ica, eca) = rest.split_at_mut(K);
            for k in 0..K {
                let e = factor * (CAO0 / cai[k]).ln_v();
                eca[k] = if cai[k] <= 0.0 { 1e6 } else { e };
                ica[k] = 0.0;
            }
        }
        for group in &self.groups {
            for_channel!(group.channel, channel_current::<_, K>(&group.sites, v, state, rhs, d));
        }
    }

    crate::simd::widest!(
        /// The pools, then the gates, advanced by `dt` at the new `v` (`SK_E2` reads the new `cai`).
        pub fn advance / advance_body, advance_avx2, advance_avx512 <const K: usize>(&self, v: &[f64], state: &mut [f64], dt: f64)
    );

    #[inline(always)]
    fn advance_body<const K: usize>(&self, v: &[f64], state: &mut [f64], dt: f64) {
        for p in &self.pools {
            let (cai, ica) = state[p.first * K..(p.first + 2) * K].split_at_mut(K);
            let relax = p.pool.relaxation(dt);
            for k in 0..K {
                cai[k] = p.pool.advance_with(cai[k], ica[k], relax);
            }
        }
        for group in &self.groups {
            for_channel!(group.channel, channel_advance::<_, K>(&group.sites, v, state, dt));
        }
    }

    /// Per step and trial: each site's rates, a `cnexp` per gate and its current; each pool's
    /// reversal (Nernst: 6 + a logarithm, counted as an `exp`) and update (12 + an `exp`).
    pub fn flops_per_step(&self) -> f64 {
        let sites: f64 = self
            .groups
            .iter()
            .map(|g| g.sites.len() as f64 * g.channel.flops())
            .sum();
        sites + self.pools.len() as f64 * (6.0 + 12.0 + 2.0 * EXP_FLOPS)
    }
}

/// Every site's current of channel `C` at `v`, for `K` trials.
#[inline(always)]
fn channel_current<C: Kinetics, const K: usize>(
    sites: &[Site],
    v: &[f64],
    state: &mut [f64],
    rhs: &mut [f64],
    d: &mut [f64],
) {
    let n = C::GATES.len();
    for s in sites {
        let calcium_pool = if C::ION == Ion::Ca { s.pool } else { None };
        let erev = match calcium_pool {
            Some(p) => lanes::<K>(state, p + 2),
            None => [s.e; K],
        };
        let vk = lanes::<K>(v, s.node);
        let mut gates = [[0.0; K]; 4];
        for (g, gate) in gates[..n].iter_mut().enumerate() {
            *gate = lanes::<K>(state, s.first + g);
        }
        let (mut i, mut g) = ([0.0; K], [0.0; K]);
        for k in 0..K {
            let open = [gates[0][k], gates[1][k], gates[2][k], gates[3][k]];
            g[k] = s.gbar * C::open(&open[..n]);
            i[k] = g[k] * (vk[k] - erev[k]);
        }
        let r = lanes_mut::<K>(rhs, s.node);
        for k in 0..K {
            r[k] -= i[k] * s.per_area;
        }
        let dd = lanes_mut::<K>(d, s.node);
        for k in 0..K {
            dd[k] += g[k] * s.per_area;
        }
        if let Some(p) = calcium_pool {
            for (ica, i) in state[(p + 1) * K..(p + 2) * K].iter_mut().zip(i) {
                *ica += i;
            }
        }
    }
}

/// Every site's gates of channel `C` advanced by `dt` at `v` with `cnexp`, for `K` trials.
#[inline(always)]
fn channel_advance<C: Kinetics, const K: usize>(sites: &[Site], v: &[f64], state: &mut [f64], dt: f64) {
    let n = C::GATES.len();
    for s in sites {
        let cai = match s.pool {
            Some(p) => lanes::<K>(state, p),
            None => [CAI0; K],
        };
        let vk = lanes::<K>(v, s.node);
        let (mut inf, mut rate) = ([[0.0; K]; 4], [[0.0; K]; 4]);
        for k in 0..K {
            let (mut i, mut r) = ([0.0; 4], [0.0; 4]);
            C::rates(vk[k], cai[k], &mut i, &mut r);
            for g in 0..4 {
                inf[g][k] = i[g];
                rate[g][k] = r[g];
            }
        }
        for g in 0..n {
            let x = &mut state[(s.first + g) * K..(s.first + g + 1) * K];
            for k in 0..K {
                x[k] = channel::cnexp(x[k], inf[g][k], rate[g][k], dt);
            }
        }
    }
}
