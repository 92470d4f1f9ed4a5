//! Fixed-step backward Euler, in NEURON's order within a step (its default, `secondorder = 0`):
//!
//! 1. deliver the input events due at this step (a spike in bin m arrives at t = m ms);
//! 2. at V(t): every membrane and synaptic current and its voltage derivative (a secant over
//!    0.001 mV, as NEURON's `nrn_cur` computes it), the axial currents, `C/dt` on the diagonal;
//! 3. solve the tree for ΔV (Hines) and set V(t + dt) = V(t) + ΔV;
//! 4. advance the gates at the new voltage by exponential Euler (`cnexp`) and let the synaptic
//!    states decay.
//!
//! Synaptic states are linear in their events, so every synapse of one receptor on one node
//! shares one state pair (the conductance is the same sum, computed once): a cell with 450
//! synapses on 60 nodes advances at most 3 × 60 pairs per step.

use serde::{Deserialize, Serialize};

use crate::cell::{CellConfig, Mechanism, MgBlock, SynapseType};
use crate::error::{BiophysError, Result};
use crate::hh::{HhRates, cnexp};
use crate::inputs::{Raster, Synapses};
use crate::tree::Tree;

/// A location on the cell: `branch` −1 is the soma, else the dendrite index; `pos` in [0, 1].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Site {
    /// −1 for the soma, else the dendrite index.
    pub branch: i64,
    /// Position along the section.
    pub pos: f64,
}

/// A constant current injected at a site while `delay ≤ t < delay + duration` (NEURON's
/// `IClamp`, evaluated at the middle of each step as NEURON does).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurrentClamp {
    /// Where.
    pub site: Site,
    /// Onset, ms.
    pub delay: f64,
    /// Duration, ms.
    pub duration: f64,
    /// Current, nA (positive depolarises).
    pub amplitude: f64,
}

/// Numerics and what to record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimConfig {
    /// Time step, ms; must divide 1 ms. Default 0.025 (NEURON's).
    pub dt: f64,
    /// Evaluate `hh` rates from NEURON's lookup table (its default, `usetable_hh = 1`).
    pub hh_table: bool,
    /// Extra sites whose voltage is recorded every ms.
    pub record: Vec<Site>,
    /// Injected currents.
    pub clamps: Vec<CurrentClamp>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            dt: 0.025,
            hh_table: true,
            record: Vec::new(),
            clamps: Vec::new(),
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Somatic voltage at t = 0, 1, …, T − 1 ms, mV.
    pub v_soma_1ms: Vec<f64>,
    /// Upward crossings of the spike threshold at the soma, interpolated within the step, ms.
    pub spike_times_ms: Vec<f64>,
    /// 1 in every ms bin `[m, m + 1)` holding a spike time.
    pub y_spike: Vec<i8>,
    /// Voltage at each recorded site, every ms, `[site][ms]`.
    pub v_sites_1ms: Vec<Vec<f64>>,
}

impl Output {
    /// Spikes per second over the run.
    pub fn rate_hz(&self) -> f64 {
        self.spike_times_ms.len() as f64 / (self.v_soma_1ms.len().max(1) as f64 / 1000.0)
    }
}

/// One `hh` node: absolute conductances (µS) and reversals.
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

/// A magnesium block as the step needs it: `[Mg]/k`, `γ`, and `exp(−γ·0.001)`, which turns the
/// block at `v` into the block at `v + 0.001` (the secant NEURON takes) without a second `exp`.
#[derive(Debug, Clone)]
struct Block {
    mg_over_k: f64,
    gamma: f64,
    secant_step: f64,
}

impl Block {
    fn new(b: &MgBlock) -> Self {
        Self {
            mg_over_k: b.mg / b.k,
            gamma: b.gamma,
            secant_step: (-b.gamma * 0.001).exp(),
        }
    }
}

/// FLOPs of one `exp`: range reduction (6), a degree-13 Horner polynomial (26), the scale (1).
pub const EXP_FLOPS: f64 = 33.0;

/// `e^x` for |x| ≤ 700 to within 2 ulp, in plain arithmetic so that loops over a batch's trials
/// vectorise (libm's `exp` is a call per element): x = k·ln2 + r with |r| ≤ ln2/2 (Cody–Waite),
/// `e^r` by its Taylor series to degree 13 (remainder below 1e-17), `2^k` built in the exponent
/// bits. Rounding to the nearest k uses the 1.5·2^52 trick, which needs no SSE4.1.
#[inline(always)]
fn exp(x: f64) -> f64 {
    const MAGIC: f64 = 6755399441055744.0; // 1.5 · 2^52
    // fdlibm's split of ln 2: a head with trailing zero bits (so k·LN2_HI is exact) and the rest.
    const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
    let x = x.clamp(-700.0, 700.0);
    let k = (x * std::f64::consts::LOG2_E + MAGIC) - MAGIC;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0;
    for c in [
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    // 2^k: k + 1023 in the exponent field.
    let scale = f64::from_bits(((k + 1023.0 + MAGIC).to_bits() & 0x7ff) << 52);
    p * scale
}

/// Trials per lockstep group in [`Simulator::run_batch`]: 8 doubles fill an AVX-512 register
/// or two AVX2 ones.
const BATCH: usize = 8;

/// The shared state pair of every synapse of one receptor on one node.
#[derive(Debug, Clone)]
struct Lump {
    node: usize,
    e: f64,
    block: Option<Block>,
    /// `1 − exp(−dt/τ1)`, `1 − exp(−dt/τ2)`: NEURON's cnexp decay of A and B.
    decay: [f64; 2],
}

/// A cell compiled for one set of synaptic sites and one [`SimConfig`]; [`Simulator::run`]
/// takes `&self`, so trials run in parallel from one simulator.
#[derive(Debug, Clone)]
pub struct Simulator {
    tree: Tree,
    dt: f64,
    steps_per_ms: usize,
    v_init: f64,
    threshold: f64,
    rates: HhRates,
    soma: usize,
    /// `C/dt` plus the axial conductances at each node: the part of the diagonal that never changes.
    d_fixed: Vec<f64>,
    /// Lumped passive leak per node: `Σ g` and `Σ g·e` (µS, nA).
    leak_g: Vec<f64>,
    leak_ge: Vec<f64>,
    hh: Vec<HhNode>,
    lumps: Vec<Lump>,
    /// For synapse s: `targets[start[s]..start[s + 1]]` = (lump, increment of A and B, µS).
    target_start: Vec<usize>,
    targets: Vec<(usize, f64)>,
    synapses: usize,
    record: Vec<usize>,
    clamps: Vec<(usize, CurrentClamp)>,
}

impl Simulator {
    /// Compiles `cell` with its synapses at `synapses` (one raster row each).
    pub fn new(cell: &CellConfig, synapses: &Synapses, config: &SimConfig) -> Result<Self> {
        cell.validate()?;
        synapses.validate_for(cell)?;
        let dt = config.dt;
        let steps = 1.0 / dt;
        if !(dt.is_finite() && dt > 0.0 && (steps - steps.round()).abs() < 1e-9 * steps.max(1.0)) {
            return Err(BiophysError::Invalid {
                what: "simulation".into(),
                field: "dt",
                expected: "a positive step that divides 1 ms (inputs arrive at whole milliseconds), e.g. 0.025",
                value: dt,
            });
        }
        let tree = Tree::new(cell);
        let n = tree.len();
        let site_node = |site: Site, what: &str| -> Result<usize> {
            let section = site.branch + 1;
            if section < 0 || section as usize >= cell.sections.len() || !(0.0..=1.0).contains(&site.pos) {
                return Err(BiophysError::Inputs(format!(
                    "{what} at branch {} position {} is not on cell {} (branches −1 to {}, positions in [0, 1])",
                    site.branch,
                    site.pos,
                    cell.name,
                    cell.dendrites() as i64 - 1
                )));
            }
            Ok(tree.node_at(section as usize, site.pos))
        };
        let mut d_fixed: Vec<f64> = tree.capacitance.iter().map(|c| c / dt).collect();
        for i in 1..n {
            d_fixed[i] += tree.g_axial[i];
            d_fixed[tree.parent[i]] += tree.g_axial[i];
        }
        let (mut leak_g, mut leak_ge) = (vec![0.0; n], vec![0.0; n]);
        let mut hh = Vec::new();
        for (s, sec) in cell.sections.iter().enumerate() {
            for &node in &tree.centres[s] {
                // S/cm² × µm² → µS.
                let abs = |g: f64| g * tree.area[node] * 1e-2;
                for m in &sec.mechanisms {
                    match *m {
                        Mechanism::Pas { g, e } => {
                            leak_g[node] += abs(g);
                            leak_ge[node] += abs(g) * e;
                        }
                        Mechanism::Hh {
                            gnabar,
                            gkbar,
                            gl,
                            el,
                            ena,
                            ek,
                        } => hh.push(HhNode {
                            node,
                            gnabar: abs(gnabar),
                            gkbar: abs(gkbar),
                            gl: abs(gl),
                            el,
                            ena,
                            ek,
                        }),
                    }
                }
            }
        }
        let mut lumps: Vec<Lump> = Vec::new();
        let mut lump_of = std::collections::HashMap::new();
        let (mut target_start, mut targets) = (vec![0], Vec::new());
        for i in 0..synapses.len() {
            let node = site_node(
                Site {
                    branch: synapses.branch[i],
                    pos: synapses.pos[i],
                },
                &format!("synapse {i}"),
            )?;
            let receptors = match synapses.kind[i] {
                SynapseType::Excitatory => &cell.excitatory,
                SynapseType::Inhibitory => &cell.inhibitory,
            };
            for (r, receptor) in receptors.iter().enumerate() {
                let key = (synapses.kind[i].code(), r, node);
                let lump = *lump_of.entry(key).or_insert_with(|| {
                    let (tau1, tau2) = receptor.effective_taus();
                    lumps.push(Lump {
                        node,
                        e: receptor.e,
                        block: receptor.mg_block.as_ref().map(Block::new),
                        decay: [1.0 - (dt * (-1.0 / tau1)).exp(), 1.0 - (dt * (-1.0 / tau2)).exp()],
                    });
                    lumps.len() - 1
                });
                targets.push((lump, receptor.weight * receptor.factor()));
            }
            target_start.push(targets.len());
        }
        let record = config
            .record
            .iter()
            .enumerate()
            .map(|(i, &s)| site_node(s, &format!("recording site {i}")))
            .collect::<Result<_>>()?;
        let clamps = config
            .clamps
            .iter()
            .enumerate()
            .map(|(i, c)| Ok((site_node(c.site, &format!("current clamp {i}"))?, *c)))
            .collect::<Result<_>>()?;
        Ok(Self {
            soma: tree.node_at(0, 0.5),
            tree,
            dt,
            steps_per_ms: steps.round() as usize,
            v_init: cell.v_init,
            threshold: cell.spike_threshold,
            rates: HhRates::new(cell.celsius, config.hh_table),
            d_fixed,
            leak_g,
            leak_ge,
            hh,
            lumps,
            target_start,
            targets,
            synapses: synapses.len(),
            record,
            clamps,
        })
    }

    /// Nodes in the discretised tree.
    pub fn nodes(&self) -> usize {
        self.tree.len()
    }

    /// State pairs advanced per step (receptor × node combinations that hold a synapse).
    pub fn synaptic_states(&self) -> usize {
        self.lumps.len()
    }

    /// Floating-point operations per simulated millisecond, derived from the step loop (not
    /// measured): each `+ − × ÷` counts 1 and an `exp` [`EXP_FLOPS`] (the polynomial this crate
    /// evaluates); nodes include the zero-area section ends. Per step: the leak and axial currents (3 per node, 4 per axial link), each `hh`
    /// node (20 for its currents, 20 for the table lookup, 42 per gate update of m, h, n), each
    /// synaptic state pair (5 for its current, 50 with the magnesium block, 4 for the decay),
    /// the Hines solve (8 per link + 1) and the voltage update (1 per node); per event, 2 per
    /// receptor it drives. `events_per_ms`: input spikes per ms over all synapses.
    pub fn flops_per_ms(&self, events_per_ms: f64) -> f64 {
        let n = self.tree.len() as f64;
        let links = n - 1.0;
        let blocked = self.lumps.iter().filter(|l| l.block.is_some()).count() as f64;
        let plain = self.lumps.len() as f64 - blocked;
        let hh = self.hh.len() as f64 * (20.0 + 20.0 + 3.0 * (9.0 + EXP_FLOPS));
        let lumps = plain * 5.0 + blocked * (17.0 + EXP_FLOPS) + self.lumps.len() as f64 * 4.0;
        let step = 3.0 * n + 4.0 * links + hh + lumps + 8.0 * links + 1.0 + n;
        let per_event = self.targets.len() as f64 / self.synapses.max(1) as f64 * 2.0;
        step * self.steps_per_ms as f64 + events_per_ms * per_event
    }

    /// Time steps per simulated millisecond.
    pub fn steps_per_ms(&self) -> usize {
        self.steps_per_ms
    }

    /// The tree.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    /// Runs the cell on `raster` (rows: the synapses given to [`Simulator::new`]) from rest at
    /// `v_init`, for as many milliseconds as the raster has bins.
    pub fn run(&self, raster: &Raster) -> Result<Output> {
        Ok(self
            .integrate::<1>(std::slice::from_ref(raster), None, &mut |_| {})?
            .remove(0))
    }

    /// Runs several trials in lockstep through one solve: every state is stored node-major with
    /// the trials innermost, so each loop over nodes does all trials' arithmetic at once (SIMD).
    /// The same outputs as [`Simulator::run`] on each raster, several times the throughput per
    /// core (docs/benchmarks.md). All rasters must have the same length.
    pub fn run_batch(&self, rasters: &[Raster]) -> Result<Vec<Output>> {
        self.run_batch_with(rasters, |_| {})
    }

    /// [`Simulator::run_batch`], calling `progress(trials)` after every simulated millisecond of
    /// each lockstep group of `trials` trials (for progress bars: `ms × rasters.len()` in all).
    pub fn run_batch_with(&self, rasters: &[Raster], mut progress: impl FnMut(usize)) -> Result<Vec<Output>> {
        let mut outs = Vec::with_capacity(rasters.len());
        let mut chunks = rasters.chunks_exact(BATCH);
        for chunk in &mut chunks {
            outs.extend(self.integrate::<BATCH>(chunk, None, &mut progress)?);
        }
        // The rest in groups of 4, 2 and 1 (each size its own unrolled loop).
        let mut rest = chunks.remainder();
        while !rest.is_empty() {
            let (group, tail) = match rest.len() {
                4.. => rest.split_at(4),
                2..=3 => rest.split_at(2),
                _ => rest.split_at(1),
            };
            outs.extend(match group.len() {
                4 => self.integrate::<4>(group, None, &mut progress)?,
                2 => self.integrate::<2>(group, None, &mut progress)?,
                _ => self.integrate::<1>(group, None, &mut progress)?,
            });
            rest = tail;
        }
        Ok(outs)
    }

    /// The somatic voltage at every step, `t = 0, dt, 2·dt, …, T`, for a run of [`Simulator::run`]
    /// (spike shapes, kinetics).
    pub fn trace_soma(&self, raster: &Raster) -> Result<Vec<f64>> {
        let mut trace = Vec::with_capacity(raster.ms * self.steps_per_ms + 1);
        self.integrate::<1>(std::slice::from_ref(raster), Some(&mut trace), &mut |_| {})?;
        Ok(trace)
    }

    /// `K` trials in lockstep (`rasters.len() == K`); a constant `K` lets every loop over
    /// trials unroll and vectorise.
    fn integrate<const K: usize>(
        &self,
        rasters: &[Raster],
        mut trace: Option<&mut Vec<f64>>,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Output>> {
        let lanes = rasters.len();
        debug_assert_eq!(lanes, K);
        let Some(first) = rasters.first() else {
            return Ok(Vec::new());
        };
        let ms = first.ms;
        for (k, r) in rasters.iter().enumerate() {
            if r.sites != self.synapses {
                return Err(BiophysError::Inputs(format!(
                    "the raster{} has {} rows but the simulator was built for {} synapses",
                    if lanes > 1 {
                        format!(" of trial {k}")
                    } else {
                        String::new()
                    },
                    r.sites,
                    self.synapses
                )));
            }
            if r.ms != ms {
                return Err(BiophysError::Inputs(format!(
                    "trials of a batch must have the same length: trial 0 has {ms} ms, trial {k} {} ms",
                    r.ms
                )));
            }
        }
        let (n, dt, k_) = (self.tree.len(), self.dt, K);
        let events: Vec<Vec<Vec<u32>>> = rasters.iter().map(Raster::events_by_ms).collect();
        let lane = |i: usize| i * k_..(i + 1) * k_;
        let mut v = vec![self.v_init; n * k_];
        // Gates m, h, n of each hh node, lanes innermost.
        let mut gates = vec![0.0; self.hh.len() * 3 * k_];
        for (j, h) in self.hh.iter().enumerate() {
            let r = self.rates.at(self.v_init);
            for (g, inf) in [r.minf, r.hinf, r.ninf].into_iter().enumerate() {
                gates[lane(3 * j + g)].fill(inf);
            }
            let _ = h;
        }
        let mut a = vec![0.0f64; self.lumps.len() * k_];
        let mut b = vec![0.0f64; self.lumps.len() * k_];
        let (mut d, mut rhs) = (vec![0.0; n * k_], vec![0.0; n * k_]);
        let mut v_soma_before = vec![0.0; k_];
        let mut outs: Vec<Output> = (0..k_)
            .map(|_| Output {
                v_soma_1ms: Vec::with_capacity(ms),
                spike_times_ms: Vec::new(),
                y_spike: vec![0; ms],
                v_sites_1ms: vec![Vec::with_capacity(ms); self.record.len()],
            })
            .collect();
        let parent = &self.tree.parent;
        let g_ax = &self.tree.g_axial;
        if let Some(t) = trace.as_deref_mut() {
            t.push(v[self.soma * k_]);
        }
        // `m` indexes every trial's events, not one slice: a range loop is the clear form.
        #[allow(clippy::needless_range_loop)]
        for m in 0..ms {
            for (k, out) in outs.iter_mut().enumerate() {
                out.v_soma_1ms.push(v[self.soma * k_ + k]);
                for (site, trace) in self.record.iter().zip(&mut out.v_sites_1ms) {
                    trace.push(v[site * k_ + k]);
                }
                for &s in &events[k][m] {
                    let s = s as usize;
                    for &(lump, w) in &self.targets[self.target_start[s]..self.target_start[s + 1]] {
                        a[lump * k_ + k] += w;
                        b[lump * k_ + k] += w;
                    }
                }
            }
            for step_in_ms in 0..self.steps_per_ms {
                let t0 = (m * self.steps_per_ms + step_in_ms) as f64 * dt;
                for i in 0..n {
                    let (gl, ge, df) = (self.leak_g[i], self.leak_ge[i], self.d_fixed[i]);
                    for ((r, dd), x) in rhs[lane(i)].iter_mut().zip(&mut d[lane(i)]).zip(&v[lane(i)]) {
                        *r = ge - gl * x;
                        *dd = df + gl;
                    }
                }
                for i in 1..n {
                    let (p, g) = (parent[i], g_ax[i]);
                    let (r_lo, r_hi) = rhs.split_at_mut(i * k_);
                    for (((ri, rp), vi), vp) in r_hi[..k_]
                        .iter_mut()
                        .zip(&mut r_lo[lane(p)])
                        .zip(&v[lane(i)])
                        .zip(&v[lane(p)])
                    {
                        let flow = g * (vp - vi);
                        *ri += flow;
                        *rp -= flow;
                    }
                }
                for (j, h) in self.hh.iter().enumerate() {
                    let node = lane(h.node);
                    for k in 0..k_ {
                        let (gm, gh, gn) = (
                            gates[3 * j * k_ + k],
                            gates[(3 * j + 1) * k_ + k],
                            gates[(3 * j + 2) * k_ + k],
                        );
                        let x = v[node.start + k];
                        let gna = h.gnabar * gm * gm * gm * gh;
                        let gk = h.gkbar * gn * gn * gn * gn;
                        rhs[node.start + k] -= gna * (x - h.ena) + gk * (x - h.ek) + h.gl * (x - h.el);
                        d[node.start + k] += gna + gk + h.gl;
                    }
                }
                for (j, l) in self.lumps.iter().enumerate() {
                    let node = lane(l.node);
                    let (aj, bj) = (&a[lane(j)], &b[lane(j)]);
                    match &l.block {
                        None => {
                            for k in 0..k_ {
                                let g = bj[k] - aj[k];
                                rhs[node.start + k] -= g * (v[node.start + k] - l.e);
                                d[node.start + k] += g;
                            }
                        }
                        Some(blk) => {
                            for k in 0..k_ {
                                let g = bj[k] - aj[k];
                                let x = v[node.start + k];
                                // 1 / (1 + [Mg]/k · exp(−γ·v)), at v and at v + 0.001.
                                let e = exp(blk.gamma * -x) * blk.mg_over_k;
                                let i = g * (x - l.e) / (1.0 + e);
                                let xp = x + 0.001;
                                rhs[node.start + k] -= i;
                                d[node.start + k] += (g * (xp - l.e) / (1.0 + e * blk.secant_step) - i) / 0.001;
                            }
                        }
                    }
                }
                let t_mid = t0 + 0.5 * dt;
                for (node, c) in &self.clamps {
                    if t_mid >= c.delay && t_mid < c.delay + c.duration {
                        rhs[lane(*node)].iter_mut().for_each(|r| *r += c.amplitude);
                    }
                }
                self.tree.solve_lanes::<K>(&mut d, &mut rhs);
                v_soma_before.copy_from_slice(&v[lane(self.soma)]);
                for (x, dx) in v.iter_mut().zip(&rhs) {
                    *x += dx;
                }
                for (j, h) in self.hh.iter().enumerate() {
                    for k in 0..k_ {
                        let r = self.rates.at(v[h.node * k_ + k]);
                        let g = &mut gates[3 * j * k_..(3 * j + 3) * k_];
                        g[k] = cnexp(g[k], r.minf, r.mtau, dt);
                        g[k_ + k] = cnexp(g[k_ + k], r.hinf, r.htau, dt);
                        g[2 * k_ + k] = cnexp(g[2 * k_ + k], r.ninf, r.ntau, dt);
                    }
                }
                for (j, l) in self.lumps.iter().enumerate() {
                    for x in &mut a[lane(j)] {
                        *x -= l.decay[0] * *x;
                    }
                    for x in &mut b[lane(j)] {
                        *x -= l.decay[1] * *x;
                    }
                }
                if let Some(t) = trace.as_deref_mut() {
                    t.push(v[self.soma * k_]);
                }
                for (k, out) in outs.iter_mut().enumerate() {
                    let (before, after) = (v_soma_before[k], v[self.soma * k_ + k]);
                    if before < self.threshold && after >= self.threshold {
                        let t = t0 + dt * (self.threshold - before) / (after - before);
                        out.spike_times_ms.push(t);
                        out.y_spike[(t.floor() as usize).min(ms - 1)] = 1;
                    }
                }
            }
            progress(K);
        }
        Ok(outs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vectorisable_exp_agrees_with_libm() {
        let mut worst: f64 = 0.0;
        for i in -700_000..=700_000 {
            let x = i as f64 * 1e-3 + 1e-7 * (i % 7) as f64;
            let (a, b) = (exp(x), x.exp());
            worst = worst.max(((a - b) / b).abs());
        }
        assert!(worst < 4.5e-16, "relative error {worst:e} (2 ulp is 4.4e-16)");
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn flops_per_ms_by_hand() {
        // A lone hh soma with one GABA_A synapse. Its tree has 3 nodes (the centre and two
        // zero-area ends) and 2 links. Per step: 3·3 (leak) + 4·2 (axial) + 166 (hh: 20
        // currents, 20 table, 3 × 42 gates) + 9 (one state pair: 5 current, 4 decay)
        // + 8·2 + 1 (Hines) + 3 (voltage) = 212, 40 steps per ms; an event adds 2 (A and B).
        let mut cell = CellConfig::bs4();
        cell.sections.truncate(1);
        cell.placement.dendritic_excitatory = 0;
        cell.placement.dendritic_inhibitory = 0;
        cell.placement.somatic_inhibitory = 1;
        let s = Synapses::place(&cell);
        let sim = Simulator::new(&cell, &s, &SimConfig::default()).unwrap();
        assert_eq!(sim.flops_per_ms(0.0), 212.0 * 40.0);
        assert_eq!(sim.flops_per_ms(1.5), 212.0 * 40.0 + 3.0);
        // The magnesium block makes NMDA's state pairs dearer than AMPA's.
        let cell = CellConfig::bs4();
        let s = Synapses::place(&cell);
        let sim = Simulator::new(&cell, &s, &SimConfig::default()).unwrap();
        let with_nmda = sim.flops_per_ms(0.0);
        let cell = cell.without_nmda();
        let no_nmda = Simulator::new(&cell, &s, &SimConfig::default())
            .unwrap()
            .flops_per_ms(0.0);
        assert!(with_nmda > no_nmda, "NMDA adds work: {with_nmda} vs {no_nmda}");
    }

    #[test]
    fn dt_must_divide_a_millisecond() {
        let cell = CellConfig::bs4();
        let s = Synapses::place(&cell);
        for dt in [0.03, 0.0, -0.025, f64::NAN, 2.0] {
            let config = SimConfig {
                dt,
                ..SimConfig::default()
            };
            let e = Simulator::new(&cell, &s, &config).unwrap_err().to_string();
            assert!(
                e.starts_with("simulation: `dt` must be a positive step that divides 1 ms"),
                "{e}"
            );
        }
        for dt in [0.025, 0.0125, 0.1, 1.0] {
            let config = SimConfig {
                dt,
                ..SimConfig::default()
            };
            assert!(Simulator::new(&cell, &s, &config).is_ok(), "dt = {dt}");
        }
    }

    #[test]
    fn bs4_lumps_its_synapses_per_receptor_and_node() {
        let cell = CellConfig::bs4();
        let s = Synapses::place(&cell);
        let sim = Simulator::new(&cell, &s, &SimConfig::default()).unwrap();
        assert_eq!(sim.nodes(), 67);
        // At most (AMPA + NMDA + GABA_A) × 60 dendritic nodes + GABA_A on the soma.
        assert!(sim.synaptic_states() <= 3 * 60 + 1);
        assert!(sim.synaptic_states() > 2 * 50, "{}", sim.synaptic_states());
        // A batch equals its trials run one by one, bit for bit (a full group and a remainder).
        let rasters: Vec<Raster> = (0..BATCH as u64 + 2)
            .map(|k| crate::generate(&cell.inputs, &s, 300, k))
            .collect();
        let batch = sim.run_batch(&rasters).unwrap();
        for (r, out) in rasters.iter().zip(&batch) {
            assert_eq!(&sim.run(r).unwrap(), out);
        }
        let wrong = Raster::zeros(s.len() - 1, 10);
        assert_eq!(
            sim.run(&wrong).unwrap_err().to_string(),
            "inputs: the raster has 249 rows but the simulator was built for 250 synapses"
        );
    }
}
