//! Synaptic receptors on the tree: NEURON's `Exp2Syn` (two states `A`, `B` decaying with τ1
//! and τ2, conductance `B − A`, each event adding `weight · factor` to both), optionally with a
//! magnesium block (NMDA). States are linear in their events, so every synapse of one receptor
//! on one node shares one state pair, a [`ReceptorPool`]: the conductance is the same sum,
//! computed once (bs4: 450 receptors on 60 nodes advance at most 3 × 60 pairs per step).

use std::collections::HashMap;

use crate::cell::{CellConfig, MgBlock};
use crate::error::Result;
use crate::fast_exp::{EXP_FLOPS, exp};
use crate::simd::{lanes, lanes_mut};
use crate::synapse::{Site, SynapseType, Synapses};

/// A magnesium block as the step needs it: `[Mg]/k`, `γ`, and `exp(−γ·0.001)`, which turns the
/// block at `v` into the block at `v + 0.001` (the secant NEURON takes) without a second `exp`.
#[derive(Debug, Clone)]
struct MagnesiumBlock {
    mg_over_k: f64,
    gamma: f64,
    secant_step: f64,
}

impl MagnesiumBlock {
    fn new(b: &MgBlock) -> Self {
        Self {
            mg_over_k: b.mg / b.k,
            gamma: b.gamma,
            secant_step: (-b.gamma * 0.001).exp(),
        }
    }
}

/// The shared state pair of every synapse of one receptor on one node.
#[derive(Debug, Clone)]
struct ReceptorPool {
    node: usize,
    e: f64,
    block: Option<MagnesiumBlock>,
    /// `1 − exp(−dt/τ1)`, `1 − exp(−dt/τ2)`: NEURON's cnexp decay of A and B.
    decay: [f64; 2],
}

/// Every receptor of every synapse, pooled per (receptor, node), and which pools each synapse's
/// events feed.
#[derive(Debug, Clone)]
pub struct Receptors {
    pools: Vec<ReceptorPool>,
    /// For synapse s: `targets[target_start[s]..target_start[s + 1]]` = (pool, increment of A
    /// and B, µS).
    target_start: Vec<usize>,
    targets: Vec<(usize, f64)>,
}

impl Receptors {
    /// The receptors of `cell` at `synapses`, whose sites `node_of` maps to tree nodes (or
    /// refuses, naming the synapse), for steps of `dt` ms.
    pub fn new(
        cell: &CellConfig,
        synapses: &Synapses,
        dt: f64,
        node_of: impl Fn(Site, &str) -> Result<usize>,
    ) -> Result<Self> {
        let mut out = Self {
            pools: Vec::new(),
            target_start: vec![0],
            targets: Vec::new(),
        };
        let mut pool_of = HashMap::new();
        for i in 0..synapses.len() {
            let node = node_of(synapses.site(i), &format!("synapse {i}"))?;
            let receptors = match synapses.kind[i] {
                SynapseType::Excitatory => &cell.excitatory,
                SynapseType::Inhibitory => &cell.inhibitory,
            };
            for (r, receptor) in receptors.iter().enumerate() {
                let pools = &mut out.pools;
                let pool = *pool_of.entry((synapses.kind[i].code(), r, node)).or_insert_with(|| {
                    let (tau1, tau2) = receptor.effective_taus();
                    pools.push(ReceptorPool {
                        node,
                        e: receptor.e,
                        block: receptor.mg_block.as_ref().map(MagnesiumBlock::new),
                        decay: [1.0 - (dt * (-1.0 / tau1)).exp(), 1.0 - (dt * (-1.0 / tau2)).exp()],
                    });
                    pools.len() - 1
                });
                out.targets.push((pool, receptor.weight * receptor.factor()));
            }
            out.target_start.push(out.targets.len());
        }
        Ok(out)
    }

    /// State pairs advanced per step.
    pub fn pools(&self) -> usize {
        self.pools.len()
    }

    /// Zeroed states `A` and `B` for `K` trials: `[pool][trial]` each.
    pub fn states<const K: usize>(&self) -> (Vec<f64>, Vec<f64>) {
        (vec![0.0; self.pools.len() * K], vec![0.0; self.pools.len() * K])
    }

    /// An event of synapse `s` in trial `k`.
    pub fn deliver<const K: usize>(&self, s: usize, k: usize, a: &mut [f64], b: &mut [f64]) {
        for &(pool, w) in &self.targets[self.target_start[s]..self.target_start[s + 1]] {
            a[pool * K + k] += w;
            b[pool * K + k] += w;
        }
    }

    crate::simd::widest!(
        /// Subtracts every pool's current at `v` from `rhs` and adds its voltage derivative to `d`
        /// (with a block: a secant over 0.001 mV, as NEURON's `nrn_cur` computes it).
        pub fn current / current_body, current_avx2, current_avx512
            <const K: usize>(&self, v: &[f64], a: &[f64], b: &[f64], rhs: &mut [f64], d: &mut [f64])
    );

    #[inline(always)]
    fn current_body<const K: usize>(&self, v: &[f64], a: &[f64], b: &[f64], rhs: &mut [f64], d: &mut [f64]) {
        for (j, p) in self.pools.iter().enumerate() {
            let (aj, bj, x) = (lanes::<K>(a, j), lanes::<K>(b, j), lanes::<K>(v, p.node));
            let (mut i, mut di) = ([0.0; K], [0.0; K]);
            match &p.block {
                None => {
                    for k in 0..K {
                        let g = bj[k] - aj[k];
                        i[k] = g * (x[k] - p.e);
                        di[k] = g;
                    }
                }
                Some(blk) => {
                    for k in 0..K {
                        let g = bj[k] - aj[k];
                        // 1 / (1 + [Mg]/k · exp(−γ·v)), at v and at v + 0.001.
                        let e = exp(blk.gamma * -x[k]) * blk.mg_over_k;
                        i[k] = g * (x[k] - p.e) / (1.0 + e);
                        let xp = x[k] + 0.001;
                        di[k] = (g * (xp - p.e) / (1.0 + e * blk.secant_step) - i[k]) / 0.001;
                    }
                }
            }
            let r = lanes_mut::<K>(rhs, p.node);
            for k in 0..K {
                r[k] -= i[k];
            }
            let dd = lanes_mut::<K>(d, p.node);
            for k in 0..K {
                dd[k] += di[k];
            }
        }
    }

    /// Every state decayed by one step (cnexp).
    #[inline(always)]
    pub fn decay<const K: usize>(&self, a: &mut [f64], b: &mut [f64]) {
        for (j, p) in self.pools.iter().enumerate() {
            for x in &mut a[j * K..(j + 1) * K] {
                *x -= p.decay[0] * *x;
            }
            for x in &mut b[j * K..(j + 1) * K] {
                *x -= p.decay[1] * *x;
            }
        }
    }

    /// FLOPs per step: 5 for a pair's current, 17 and an `exp` with the block, 4 for its decay.
    pub fn flops_per_step(&self) -> f64 {
        let blocked = self.pools.iter().filter(|p| p.block.is_some()).count() as f64;
        let plain = self.pools.len() as f64 - blocked;
        plain * 5.0 + blocked * (17.0 + EXP_FLOPS) + self.pools.len() as f64 * 4.0
    }

    /// FLOPs per input event: 2 per receptor it drives, averaged over the synapses.
    pub fn flops_per_event(&self) -> f64 {
        let synapses = self.target_start.len() - 1;
        self.targets.len() as f64 / synapses.max(1) as f64 * 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synapse::Branch;

    #[test]
    fn synapses_of_one_receptor_on_one_node_share_a_pool() {
        let cell = CellConfig::bs4();
        // Two excitatory synapses on node 4, one on node 9, one inhibitory on node 4.
        let synapses = Synapses {
            branch: vec![Branch::Dendrite(0); 4],
            pos: vec![0.1, 0.1, 0.9, 0.1],
            kind: vec![
                SynapseType::Excitatory,
                SynapseType::Excitatory,
                SynapseType::Excitatory,
                SynapseType::Inhibitory,
            ],
        };
        let node = |s: Site, _: &str| Ok(if s.pos < 0.5 { 4 } else { 9 });
        let r = Receptors::new(&cell, &synapses, 0.025, node).unwrap();
        // AMPA and NMDA on each of 2 nodes, GABA_A on one.
        assert_eq!(r.pools(), 5);
        let (mut a, mut b) = r.states::<1>();
        r.deliver::<1>(0, 0, &mut a, &mut b);
        r.deliver::<1>(1, 0, &mut a, &mut b);
        // Both events landed in the same two pools (AMPA, NMDA on node 4), each `weight · factor`.
        let ampa = cell.excitatory[0].weight * cell.excitatory[0].factor();
        assert_eq!(a[0], 2.0 * ampa);
        assert_eq!(a.iter().filter(|x| **x != 0.0).count(), 2);
        // A pool decays by NEURON's cnexp factor per step.
        let before = b[0];
        r.decay::<1>(&mut a, &mut b);
        assert!((b[0] - before * (-0.025f64 / 3.0).exp()).abs() < 1e-15 * before);
        // An open AMPA pool at rest pulls toward 0 mV: a positive (depolarising) drive.
        let (mut rhs, mut d) = (vec![0.0; 10], vec![0.0; 10]);
        r.current::<1>(&[-65.0; 10], &a, &b, &mut rhs, &mut d);
        assert!(rhs[4] > 0.0 && d[4] > 0.0 && rhs[9] == 0.0);
        assert_eq!(r.flops_per_event(), 2.0 * 7.0 / 4.0);
    }
}
