//! Fixed-step backward Euler, in NEURON's order within a step (its default, `secondorder = 0`):
//!
//! 1. deliver the input events due at this step (a spike in bin m arrives at t = m ms);
//! 2. at V(t): every membrane and synaptic current and its voltage derivative (a secant over
//!    0.001 mV, as NEURON's `nrn_cur` computes it), the axial currents, `C/dt` on the diagonal;
//! 3. solve the tree for ΔV (Hines) and set V(t + dt) = V(t) + ΔV;
//! 4. advance the gates at the new voltage by exponential Euler (`cnexp`) and let the synaptic
//!    states decay.
//!
//! Membrane mechanisms are in [`crate::mechanisms`], synaptic receptors in [`crate::receptors`].

use serde::{Deserialize, Serialize};

use crate::cell::{CellConfig, Release};
use crate::error::{BiophysError, Result, finite, positive};
pub use crate::fast_exp::EXP_FLOPS;
use crate::mechanisms::{Context, Mechanism, Membrane};
use crate::receptors::Receptors;
use crate::stimulus::Raster;
use crate::synapse::{Branch, Site, Synapses};
use crate::tree::Tree;

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

/// NEURON's `epsp` point process (`data/l5pc/mods/epsp.mod`, Hay's BAC protocol): an injected
/// current that rises with `tau0` and decays with `tau1` from `onset`, peaking at `imax` nA,
/// evaluated at the middle of each step as NEURON evaluates it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EpspCurrent {
    /// Where.
    pub site: Site,
    /// Onset, ms.
    pub onset: f64,
    /// Rise time constant, ms.
    pub tau0: f64,
    /// Decay time constant, ms.
    pub tau1: f64,
    /// Peak current, nA (positive depolarises).
    pub imax: f64,
}

impl EpspCurrent {
    /// Checks different positive time constants and a finite onset and peak; errors name
    /// `what` (`epsp 0`).
    pub fn validate(&self, what: &str) -> Result<()> {
        let w = || what.to_string();
        positive(w, "tau0", self.tau0)?;
        positive(w, "tau1", self.tau1)?;
        finite(w, "onset", self.onset)?;
        finite(w, "imax", self.imax)?;
        if self.tau0 == self.tau1 {
            return Err(BiophysError::Invalid {
                what: w(),
                field: "tau1",
                expected: "a decay time different from tau0 (the peak normalisation divides by their difference)",
                value: self.tau1,
            });
        }
        Ok(())
    }

    /// The injected (depolarising) current at `t`, nA, in the `.mod`'s order of operations:
    /// `amp·((1 − e^(−(t − onset)/τ0)) − (1 − e^(−(t − onset)/τ1)))` with `amp` scaling the peak
    /// to `imax`, exponentials of arguments below −100 taken as 0.
    pub fn at(&self, t: f64) -> f64 {
        let myexp = |x: f64| if x < -100.0 { 0.0 } else { x.exp() };
        let (tau0, tau1) = (self.tau0, self.tau1);
        let tpeak = tau0 * tau1 * (tau0 / tau1).ln() / (tau0 - tau1);
        let adjust = 1.0 / ((1.0 - myexp(-tpeak / tau0)) - (1.0 - myexp(-tpeak / tau1)));
        let amp = adjust * self.imax;
        if t < self.onset {
            0.0
        } else {
            let a0 = 1.0 - myexp(-(t - self.onset) / tau0);
            let a1 = 1.0 - myexp(-(t - self.onset) / tau1);
            amp * (a0 - a1)
        }
    }
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
    /// Injected EPSP-like currents (NEURON's `epsp`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub epsps: Vec<EpspCurrent>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            dt: 0.025,
            hh_table: true,
            record: Vec::new(),
            clamps: Vec::new(),
            epsps: Vec::new(),
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

/// Trials per lockstep group in [`Simulator::run_batch`]: 8 doubles fill an AVX-512 register
/// or two AVX2 ones.
const BATCH: usize = 8;

/// A cell compiled for one set of synaptic sites and one [`SimConfig`]; [`Simulator::run`]
/// takes `&self`, so trials run in parallel from one simulator.
#[derive(Debug, Clone)]
pub struct Simulator {
    tree: Tree,
    dt: f64,
    steps_per_ms: usize,
    v_init: f64,
    threshold: f64,
    soma: usize,
    /// `C/dt` plus the axial conductances at each node: the part of the diagonal that never changes.
    d_fixed: Vec<f64>,
    membrane: Membrane,
    receptors: Receptors,
    release: Release,
    synapses: usize,
    record: Vec<usize>,
    clamps: Vec<(usize, CurrentClamp)>,
    epsps: Vec<(usize, EpspCurrent)>,
}

/// The `dt` of `config`, checked to divide 1 ms (inputs arrive at whole milliseconds), and the
/// steps per ms.
fn steps_per_ms(config: &SimConfig) -> Result<usize> {
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
    Ok(steps.round() as usize)
}

/// The tree node at `site` of `cell`, or an error naming `what` (a synapse, a recording site).
fn node_at(cell: &CellConfig, tree: &Tree, site: Site, what: &str) -> Result<usize> {
    let on_cell = match site.branch {
        Branch::Soma => true,
        Branch::Dendrite(d) => d < cell.dendrites(),
    };
    if !on_cell || !(0.0..=1.0).contains(&site.pos) {
        return Err(BiophysError::Inputs(format!(
            "{what} at branch {} position {} is not on cell {} (branches −1 to {}, positions in [0, 1])",
            site.branch.code(),
            site.pos,
            cell.name,
            cell.dendrites() as i64 - 1
        )));
    }
    Ok(tree.node_at(site.branch.section(), site.pos))
}

/// Every node's mechanisms with its membrane area, in section and node order.
fn placed_mechanisms<'a>(
    cell: &'a CellConfig,
    tree: &'a Tree,
) -> impl Iterator<Item = (usize, f64, usize, &'a Mechanism)> {
    cell.sections.iter().enumerate().flat_map(move |(s, section)| {
        tree.centres[s]
            .iter()
            .enumerate()
            .flat_map(move |(k, &node)| section.mechanisms.iter().map(move |m| (node, tree.area[node], k, m)))
    })
}

/// `C/dt` plus the axial conductances at each node.
fn fixed_diagonal(tree: &Tree, dt: f64) -> Vec<f64> {
    let mut d: Vec<f64> = tree.capacitance.iter().map(|c| c / dt).collect();
    for i in 1..tree.len() {
        d[i] += tree.g_axial[i];
        d[tree.parent[i]] += tree.g_axial[i];
    }
    d
}

impl Simulator {
    /// Compiles `cell` with its synapses at `synapses` (one raster row each).
    pub fn new(cell: &CellConfig, synapses: &Synapses, config: &SimConfig) -> Result<Self> {
        cell.validate()?;
        synapses.validate_for(cell)?;
        let steps_per_ms = steps_per_ms(config)?;
        let tree = Tree::new(cell);
        let node = |site: Site, what: &str| node_at(cell, &tree, site, what);
        let receptors = Receptors::new(cell, synapses, config.dt, node)?;
        let record = (config.record.iter().enumerate())
            .map(|(i, &s)| node(s, &format!("recording site {i}")))
            .collect::<Result<_>>()?;
        let clamps = (config.clamps.iter().enumerate())
            .map(|(i, c)| Ok((node(c.site, &format!("current clamp {i}"))?, *c)))
            .collect::<Result<_>>()?;
        let epsps = (config.epsps.iter().enumerate())
            .map(|(i, c)| {
                let what = format!("epsp {i}");
                c.validate(&what)?;
                Ok((node(c.site, &what)?, *c))
            })
            .collect::<Result<_>>()?;
        let context = Context {
            celsius: cell.celsius,
            hh_table: config.hh_table,
        };
        Ok(Self {
            soma: tree.node_at(0, 0.5),
            d_fixed: fixed_diagonal(&tree, config.dt),
            membrane: Membrane::new(tree.len(), placed_mechanisms(cell, &tree), context),
            tree,
            dt: config.dt,
            steps_per_ms,
            v_init: cell.v_init,
            threshold: cell.spike_threshold,
            receptors,
            release: cell.release,
            synapses: synapses.len(),
            record,
            clamps,
            epsps,
        })
    }

    /// Nodes in the discretised tree.
    pub fn nodes(&self) -> usize {
        self.tree.len()
    }

    /// State pairs advanced per step (receptor × node combinations that hold a synapse).
    pub fn synaptic_states(&self) -> usize {
        self.receptors.pools()
    }

    /// Floating-point operations per simulated millisecond, derived from the step loop (not
    /// measured): each `+ − × ÷` counts 1 and an `exp` [`EXP_FLOPS`] (the polynomial this crate
    /// evaluates); nodes include the zero-area section ends. Per step: the leak and axial
    /// currents (3 per node, 4 per axial link), each mechanism's currents and state updates
    /// (`hh`: 20 for its currents, 20 for the table lookup, 42 per gate update of m, h, n), each
    /// synaptic state pair (5 for its current, 50 with the magnesium block, 4 for the decay),
    /// the Hines solve (8 per link + 1) and the voltage update (1 per node); per event, 2 per
    /// receptor it drives. `events_per_ms`: input spikes per ms over all synapses.
    pub fn flops_per_ms(&self, events_per_ms: f64) -> f64 {
        let n = self.tree.len() as f64;
        let links = n - 1.0;
        let channels: f64 = self.membrane.channels.iter().map(|c| c.flops_per_step()).sum();
        let step = 3.0 * n + 4.0 * links + channels + self.receptors.flops_per_step() + 8.0 * links + 1.0 + n;
        step * self.steps_per_ms as f64 + events_per_ms * self.receptors.flops_per_event()
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

    /// Checks that `rasters` fit this simulator and each other; returns their length in ms.
    fn check_rasters(&self, rasters: &[Raster]) -> Result<usize> {
        let ms = rasters.first().map_or(0, |r| r.ms);
        for (k, r) in rasters.iter().enumerate() {
            if r.sites != self.synapses {
                let which = if rasters.len() > 1 {
                    format!(" of trial {k}")
                } else {
                    String::new()
                };
                return Err(BiophysError::Inputs(format!(
                    "the raster{which} has {} rows but the simulator was built for {} synapses",
                    r.sites, self.synapses
                )));
            }
            if r.ms != ms {
                return Err(BiophysError::Inputs(format!(
                    "trials of a batch must have the same length: trial 0 has {ms} ms, trial {k} {} ms",
                    r.ms
                )));
            }
        }
        Ok(ms)
    }

    /// `K` trials in lockstep (`rasters.len() == K`); a constant `K` lets every loop over
    /// trials unroll and vectorise. Each millisecond: record, deliver that ms's events, then
    /// [`Simulator::step`] `steps_per_ms` times.
    fn integrate<const K: usize>(
        &self,
        rasters: &[Raster],
        mut trace: Option<&mut Vec<f64>>,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<Output>> {
        debug_assert_eq!(rasters.len(), K);
        if rasters.is_empty() {
            return Ok(Vec::new());
        }
        let ms = self.check_rasters(rasters)?;
        let events: Vec<Vec<Vec<u32>>> = rasters.iter().map(|r| self.releasing_events(r)).collect();
        let mut state = State::<K>::new(self);
        let mut outs: Vec<Output> = (0..K)
            .map(|_| Output {
                v_soma_1ms: Vec::with_capacity(ms),
                spike_times_ms: Vec::new(),
                y_spike: vec![0; ms],
                v_sites_1ms: vec![Vec::with_capacity(ms); self.record.len()],
            })
            .collect();
        if let Some(t) = trace.as_deref_mut() {
            t.push(state.v[self.soma * K]);
        }
        // `m` indexes every trial's events, not one slice: a range loop is the clear form.
        #[allow(clippy::needless_range_loop)]
        for m in 0..ms {
            for (k, out) in outs.iter_mut().enumerate() {
                out.v_soma_1ms.push(state.v[self.soma * K + k]);
                for (site, trace) in self.record.iter().zip(&mut out.v_sites_1ms) {
                    trace.push(state.v[site * K + k]);
                }
                for &s in &events[k][m] {
                    self.receptors.deliver::<K>(s as usize, k, &mut state.a, &mut state.b);
                }
            }
            for step_in_ms in 0..self.steps_per_ms {
                let t0 = (m * self.steps_per_ms + step_in_ms) as f64 * self.dt;
                let v_soma_before: [f64; K] = std::array::from_fn(|k| state.v[self.soma * K + k]);
                self.step(&mut state, t0);
                if let Some(t) = trace.as_deref_mut() {
                    t.push(state.v[self.soma * K]);
                }
                self.detect_spikes(&state, &v_soma_before, t0, &mut outs);
            }
            progress(K);
        }
        Ok(outs)
    }

    /// The raster's events by ms, less those the cell's [`Release`] rule drops: with
    /// [`Release::ProbUdfNoDepression`], every event of a synapse that has one at t = 0.
    fn releasing_events(&self, raster: &Raster) -> Vec<Vec<u32>> {
        let mut by_ms = raster.events_by_ms();
        if self.release == Release::ProbUdfNoDepression && raster.ms > 0 {
            let silenced: std::collections::HashSet<u32> = by_ms[0].drain(..).collect();
            if !silenced.is_empty() {
                by_ms.iter_mut().for_each(|e| e.retain(|s| !silenced.contains(s)));
            }
        }
        by_ms
    }

    crate::simd::widest!(
        /// One backward-Euler step from `t0`: currents at V(t), the Hines solve, V(t + dt), then
        /// every state advanced at the new voltage.
        fn step / step_body, step_avx2, step_avx512 <const K: usize>(&self, s: &mut State<K>, t0: f64)
    );

    #[inline(always)]
    fn step_body<const K: usize>(&self, s: &mut State<K>, t0: f64) {
        self.passive_currents(s);
        for (channel, state) in self.membrane.channels.iter().zip(&mut s.channels) {
            channel.current::<K>(&s.v, state, &mut s.rhs, &mut s.d);
        }
        self.receptors.current::<K>(&s.v, &s.a, &s.b, &mut s.rhs, &mut s.d);
        self.clamp_currents(s, t0 + 0.5 * self.dt);
        self.tree.solve_lanes::<K>(&mut s.d, &mut s.rhs);
        for (x, dx) in s.v.iter_mut().zip(&s.rhs) {
            *x += dx;
        }
        for (channel, state) in self.membrane.channels.iter().zip(&mut s.channels) {
            channel.advance::<K>(&s.v, state, self.dt);
        }
        self.receptors.decay::<K>(&mut s.a, &mut s.b);
    }

    /// The leak and `C/dt` and axial terms of the diagonal, the leak and axial currents.
    #[inline(always)]
    fn passive_currents<const K: usize>(&self, s: &mut State<K>) {
        let lane = |i: usize| i * K..(i + 1) * K;
        for i in 0..self.tree.len() {
            let (gl, ge, df) = (self.membrane.leak_g[i], self.membrane.leak_ge[i], self.d_fixed[i]);
            for ((r, dd), x) in s.rhs[lane(i)].iter_mut().zip(&mut s.d[lane(i)]).zip(&s.v[lane(i)]) {
                *r = ge - gl * x;
                *dd = df + gl;
            }
        }
        let (parent, g_ax) = (&self.tree.parent, &self.tree.g_axial);
        for i in 1..self.tree.len() {
            let (p, g) = (parent[i], g_ax[i]);
            let (r_lo, r_hi) = s.rhs.split_at_mut(i * K);
            for (((ri, rp), vi), vp) in r_hi[..K]
                .iter_mut()
                .zip(&mut r_lo[lane(p)])
                .zip(&s.v[lane(i)])
                .zip(&s.v[lane(p)])
            {
                let flow = g * (vp - vi);
                *ri += flow;
                *rp -= flow;
            }
        }
    }

    /// Injected currents active at `t_mid` (the middle of the step, as NEURON evaluates them).
    #[inline(always)]
    fn clamp_currents<const K: usize>(&self, s: &mut State<K>, t_mid: f64) {
        for (node, c) in &self.epsps {
            let i = c.at(t_mid);
            s.rhs[node * K..(node + 1) * K].iter_mut().for_each(|r| *r += i);
        }
        for (node, c) in &self.clamps {
            if t_mid >= c.delay && t_mid < c.delay + c.duration {
                s.rhs[node * K..(node + 1) * K]
                    .iter_mut()
                    .for_each(|r| *r += c.amplitude);
            }
        }
    }

    /// Upward threshold crossings at the soma in the step from `t0`, interpolated within it.
    fn detect_spikes<const K: usize>(&self, s: &State<K>, before: &[f64; K], t0: f64, outs: &mut [Output]) {
        for (k, out) in outs.iter_mut().enumerate() {
            let (before, after) = (before[k], s.v[self.soma * K + k]);
            if before < self.threshold && after >= self.threshold {
                let t = t0 + self.dt * (self.threshold - before) / (after - before);
                out.spike_times_ms.push(t);
                let last = out.y_spike.len() - 1;
                out.y_spike[(t.floor() as usize).min(last)] = 1;
            }
        }
    }
}

/// Everything that changes during a run of `K` trials in lockstep, trials innermost.
struct State<const K: usize> {
    v: Vec<f64>,
    /// Each channel's states.
    channels: Vec<Vec<f64>>,
    /// The receptor pools' `A` and `B`.
    a: Vec<f64>,
    b: Vec<f64>,
    /// The system of one step: diagonal and right-hand side (then ΔV).
    d: Vec<f64>,
    rhs: Vec<f64>,
}

impl<const K: usize> State<K> {
    /// At rest: `v_init` everywhere, channels at their steady states, no synaptic conductance.
    fn new(sim: &Simulator) -> Self {
        let n = sim.tree.len();
        let channels = sim
            .membrane
            .channels
            .iter()
            .map(|c| {
                let mut state = vec![0.0; c.states() * K];
                c.init::<K>(sim.v_init, &mut state);
                state
            })
            .collect();
        let (a, b) = sim.receptors.states::<K>();
        Self {
            v: vec![sim.v_init; n * K],
            channels,
            a,
            b,
            d: vec![0.0; n * K],
            rhs: vec![0.0; n * K],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            .map(|k| cell.input_raster(&s, 300, k).unwrap())
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
