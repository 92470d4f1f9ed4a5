//! NeuronIO's input generator, as Beniaguev's `generate_input_spike_trains_for_simulation`
//! (`data/l5pc/simulate_L5PC_and_create_dataset.py`) draws a trial:
//!
//! 1. a hold time (one of `hold_ms_options`, plus a jitter uniform in ±`hold_jitter_ms`,
//!    truncated to whole ms) and a smoothing width σ (one of `smoothing_sigma_ms_options`, same
//!    jitter rule), once per trial;
//! 2. for every hold interval, a total count per tree per 100 ms: excitatory uniform in
//!    `*_excitatory_per_100ms`, inhibitory uniform in `[max(0, e + d₀), e + d₁]` where `[d₀, d₁]`
//!    is `*_inhibitory_minus_excitatory_per_100ms` (so inhibition tracks excitation);
//! 3. each row's share: the count spread over its tree's length (each segment lengthened by
//!    `min_segment_length_um`), times a gain uniform in `[0.5, 1.5]` per row and interval;
//! 4. the piecewise-constant rates smoothed over time by a Gaussian window of `1 + 7σ` samples
//!    (SciPy's `signal.gaussian`, normalised; `convolve(mode = "same")`, zero beyond the trial);
//! 5. in every 1 ms bin, a spike with probability `rate · X`, X exponential of mean 1.
//!
//! Every draw comes from one ChaCha8 stream of the seed, in the script's order (NumPy's stream
//! itself cannot be reproduced), so a seed fixes the raster on every platform.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{BiophysError, Result, finite, non_negative};
use crate::stimulus::Raster;
use crate::synapse::SynapseType;

/// The two trees the generator drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tree {
    /// The basal dendrites (`dend[i]`).
    Basal,
    /// The apical dendrite (`apic[i]`).
    Apical,
}

/// One raster row as the generator sees it: its tree, its type and its segment's length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputRow {
    /// Which tree's counts drive it.
    pub tree: Tree,
    /// Excitatory or inhibitory.
    pub kind: SynapseType,
    /// Length of its segment, µm (the section's `L / nseg`).
    pub length_um: f64,
}

/// The generator's settings; [`NeuronIoInputs::nmda`] and [`NeuronIoInputs::ampa`] are the
/// script's two sets of ranges.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeuronIoInputs {
    /// Excitatory spikes per 100 ms over the basal tree, range. NMDA: [0, 800].
    pub basal_excitatory_per_100ms: [f64; 2],
    /// Inhibitory minus excitatory spikes per 100 ms on the basal tree, range. NMDA: [−600, 200].
    pub basal_inhibitory_minus_excitatory_per_100ms: [f64; 2],
    /// Excitatory spikes per 100 ms over the apical tree, range. NMDA: [0, 800].
    pub apical_excitatory_per_100ms: [f64; 2],
    /// Inhibitory minus excitatory spikes per 100 ms on the apical tree. NMDA: [−600, 200].
    pub apical_inhibitory_minus_excitatory_per_100ms: [f64; 2],
    /// Added to every segment's length before weighting by length, µm. Default 10.
    pub min_segment_length_um: f64,
    /// Hold times of a rate level to choose from, ms. Default 25, 30, …, 450 (18 options).
    pub hold_ms_options: Vec<u32>,
    /// Uniform jitter added to the hold time, ±ms (truncated toward zero). Default 20.
    pub hold_jitter_ms: u32,
    /// Smoothing widths σ to choose from, ms. Default 25, 30, …, 600 (14 options).
    pub smoothing_sigma_ms_options: Vec<u32>,
    /// Uniform jitter added to σ, ±ms (truncated toward zero). Default 20.
    pub smoothing_jitter_ms: u32,
}

impl NeuronIoInputs {
    /// The script's NMDA ranges (its default, NeuronIO's dataset).
    pub fn nmda() -> Self {
        Self {
            basal_excitatory_per_100ms: [0.0, 800.0],
            basal_inhibitory_minus_excitatory_per_100ms: [-600.0, 200.0],
            apical_excitatory_per_100ms: [0.0, 800.0],
            apical_inhibitory_minus_excitatory_per_100ms: [-600.0, 200.0],
            min_segment_length_um: 10.0,
            hold_ms_options: vec![
                25, 30, 35, 40, 45, 55, 60, 65, 70, 75, 80, 85, 90, 100, 150, 200, 300, 450,
            ],
            hold_jitter_ms: 20,
            smoothing_sigma_ms_options: vec![25, 30, 35, 40, 50, 60, 80, 100, 150, 200, 300, 400, 500, 600],
            smoothing_jitter_ms: 20,
        }
    }

    /// The script's ranges for AMPA-only excitation (its commented-out alternative).
    pub fn ampa() -> Self {
        Self {
            basal_excitatory_per_100ms: [0.0, 1900.0],
            basal_inhibitory_minus_excitatory_per_100ms: [-1650.0, 150.0],
            apical_excitatory_per_100ms: [0.0, 2000.0],
            apical_inhibitory_minus_excitatory_per_100ms: [-1650.0, 150.0],
            ..Self::nmda()
        }
    }

    /// Checks ordered, finite ranges, non-negative counts, and hold times and widths that stay
    /// at least 1 ms after the largest negative jitter.
    pub fn validate(&self) -> Result<()> {
        let what = || "NeuronIO inputs".to_string();
        let ranges = [
            ("basal_excitatory_per_100ms", self.basal_excitatory_per_100ms, true),
            (
                "basal_inhibitory_minus_excitatory_per_100ms",
                self.basal_inhibitory_minus_excitatory_per_100ms,
                false,
            ),
            ("apical_excitatory_per_100ms", self.apical_excitatory_per_100ms, true),
            (
                "apical_inhibitory_minus_excitatory_per_100ms",
                self.apical_inhibitory_minus_excitatory_per_100ms,
                false,
            ),
        ];
        for (field, [lo, hi], counts) in ranges {
            finite(what, field, lo)?;
            finite(what, field, hi)?;
            if hi < lo || (counts && lo < 0.0) {
                return Err(BiophysError::Inputs(format!(
                    "NeuronIO inputs: `{field}` must be an ordered range [low, high]{}, got [{lo}, {hi}]",
                    if counts { " of counts ≥ 0" } else { "" }
                )));
            }
        }
        non_negative(what, "min_segment_length_um", self.min_segment_length_um)?;
        for (field, options, jitter) in [
            ("hold_ms_options", &self.hold_ms_options, self.hold_jitter_ms),
            (
                "smoothing_sigma_ms_options",
                &self.smoothing_sigma_ms_options,
                self.smoothing_jitter_ms,
            ),
        ] {
            match options.iter().min() {
                Some(&least) if least > jitter => {}
                _ => {
                    return Err(BiophysError::Inputs(format!(
                        "NeuronIO inputs: `{field}` needs at least one option, each longer than its jitter \
                         ({jitter} ms), got {options:?}"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// One of `options` plus a jitter uniform in ±`jitter`, truncated toward zero as Python's `int`.
fn option_with_jitter(rng: &mut ChaCha8Rng, options: &[u32], jitter: u32) -> usize {
    let base = options[rng.random_range(0..options.len())] as f64;
    let j = jitter as f64;
    (base + (2.0 * j * rng.random::<f64>() - j).trunc()) as usize
}

fn uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// The weight of each hold interval at each ms after smoothing: interval `k` (ms
/// `[k·hold, (k+1)·hold)` of the trial) contributes `level_k · weight[k][t − start[k]]` at ms
/// `t`. The same for every row, so the convolution is done once per interval, not per row.
struct Smoothing {
    start: Vec<usize>,
    weight: Vec<Vec<f64>>,
}

impl Smoothing {
    fn new(ms: usize, hold: usize, sigma: usize) -> Self {
        // SciPy: gaussian(1 + 7σ, std = σ), normalised; convolve(…, mode = "same") keeps the
        // full convolution's samples from (M − 1) / 2 on.
        let m = 1 + 7 * sigma;
        let centre = (m as f64 - 1.0) / 2.0;
        let mut w: Vec<f64> = (0..m)
            .map(|n| (-0.5 * ((n as f64 - centre) / sigma as f64).powi(2)).exp())
            .collect();
        let total: f64 = w.iter().sum();
        w.iter_mut().for_each(|x| *x /= total);
        let mut prefix = vec![0.0; m + 1];
        for n in 0..m {
            prefix[n + 1] = prefix[n] + w[n];
        }
        let shift = (m - 1) / 2;
        let intervals = ms.div_ceil(hold);
        let (mut start, mut weight) = (Vec::with_capacity(intervals), Vec::with_capacity(intervals));
        for k in 0..intervals {
            let (a, b) = (k * hold, ((k + 1) * hold).min(ms));
            // Output t reads input u through w[t + shift − u]: u in [a, b) touches t in
            // [a − shift, b − 1 + m − 1 − shift].
            let lo = a.saturating_sub(shift);
            let hi = (b + m - 1 - shift).min(ms);
            let weights = (lo..hi)
                .map(|t| {
                    // Σ over u in [a, b) of w[t + shift − u], i.e. w over [t + shift − b + 1, t + shift − a].
                    let top = (t + shift + 1).saturating_sub(a).min(m);
                    let bottom = (t + shift + 1).saturating_sub(b).min(m);
                    prefix[top] - prefix[bottom]
                })
                .collect();
            start.push(lo);
            weight.push(weights);
        }
        Self { start, weight }
    }
}

/// Generates `ms` ms of input for `rows` from `seed` (see the module docs).
pub fn generate(config: &NeuronIoInputs, rows: &[InputRow], ms: usize, seed: u64) -> Result<Raster> {
    config.validate()?;
    for (i, r) in rows.iter().enumerate() {
        if !(r.length_um.is_finite() && r.length_um >= 0.0) {
            return Err(BiophysError::Inputs(format!(
                "NeuronIO inputs: row {i}'s segment length is {}, expected a length ≥ 0 µm",
                r.length_um
            )));
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let hold = option_with_jitter(&mut rng, &config.hold_ms_options, config.hold_jitter_ms);
    let sigma = option_with_jitter(&mut rng, &config.smoothing_sigma_ms_options, config.smoothing_jitter_ms);
    let intervals = ms.div_ceil(hold);
    // Counts per tree per 100 ms for every interval: basal excitatory, basal inhibitory, apical …
    let mut counts = |[lo, hi]: [f64; 2], [d0, d1]: [f64; 2]| {
        let ex: Vec<f64> = (0..intervals).map(|_| uniform(&mut rng, lo, hi)).collect();
        let inh: Vec<f64> = ex
            .iter()
            .map(|&e| uniform(&mut rng, (e + d0).max(0.0), e + d1))
            .collect();
        (ex, inh)
    };
    let basal = counts(
        config.basal_excitatory_per_100ms,
        config.basal_inhibitory_minus_excitatory_per_100ms,
    );
    let apical = counts(
        config.apical_excitatory_per_100ms,
        config.apical_inhibitory_minus_excitatory_per_100ms,
    );
    let adjusted = |r: &InputRow| r.length_um + config.min_segment_length_um;
    let tree_length = |tree: Tree, kind: SynapseType| -> f64 {
        rows.iter()
            .filter(|r| r.tree == tree && r.kind == kind)
            .map(adjusted)
            .sum()
    };
    let smoothing = Smoothing::new(ms, hold, sigma);
    let mut raster = Raster::zeros(rows.len(), ms);
    let mut rate = vec![0.0; ms];
    // Excitatory rows first, then inhibitory, each in row order (the script's draw order).
    for kind in [SynapseType::Excitatory, SynapseType::Inhibitory] {
        let chosen: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].kind == kind).collect();
        let mut levels = vec![vec![0.0; intervals]; chosen.len()];
        for (row_levels, &i) in levels.iter_mut().zip(&chosen) {
            let r = &rows[i];
            let (ex, inh) = match r.tree {
                Tree::Basal => &basal,
                Tree::Apical => &apical,
            };
            let per_100ms = if kind == SynapseType::Excitatory { ex } else { inh };
            let per_um_per_ms = 1.0 / (tree_length(r.tree, kind) * 100.0);
            for (level, &count) in row_levels.iter_mut().zip(per_100ms) {
                *level = uniform(&mut rng, 0.5, 1.5) * count * per_um_per_ms * adjusted(r);
            }
        }
        for (row_levels, &i) in levels.iter().zip(&chosen) {
            rate.iter_mut().for_each(|x| *x = 0.0);
            for (k, &level) in row_levels.iter().enumerate() {
                let s = smoothing.start[k];
                for (x, w) in rate[s..].iter_mut().zip(&smoothing.weight[k]) {
                    *x += level * w;
                }
            }
            for (t, &p) in rate.iter().enumerate() {
                let x = -(1.0 - rng.random::<f64>()).ln();
                if rng.random::<f64>() < p * x {
                    raster.set(i, t, true);
                }
            }
        }
    }
    Ok(raster)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree of `n` segments of `length` µm per type, basal then apical, excitatory rows first.
    fn rows(n: usize, length: f64) -> Vec<InputRow> {
        let mut out = Vec::new();
        for kind in [SynapseType::Excitatory, SynapseType::Inhibitory] {
            for tree in [Tree::Basal, Tree::Apical] {
                out.extend((0..n).map(|_| InputRow {
                    tree,
                    kind,
                    length_um: length,
                }));
            }
        }
        out
    }

    #[test]
    fn smoothing_is_scipys_same_mode_convolution() {
        // Direct evaluation of convolve(x, w / Σw, mode = "same") on a piecewise-constant x.
        let (ms, hold, sigma): (usize, usize, usize) = (173, 9, 4);
        let levels: Vec<f64> = (0..ms.div_ceil(hold)).map(|k| (k * 7 % 5) as f64 + 0.5).collect();
        let x: Vec<f64> = (0..ms).map(|t| levels[t / hold]).collect();
        let m = 1 + 7 * sigma;
        let c = (m as f64 - 1.0) / 2.0;
        let w: Vec<f64> = (0..m)
            .map(|n| (-0.5 * ((n as f64 - c) / sigma as f64).powi(2)).exp())
            .collect();
        let total: f64 = w.iter().sum();
        let shift = (m - 1) / 2;
        let direct: Vec<f64> = (0..ms)
            .map(|t| {
                (0..m)
                    .filter_map(|j| {
                        (t + shift)
                            .checked_sub(j)
                            .filter(|&u| u < ms)
                            .map(|u| x[u] * w[j] / total)
                    })
                    .sum()
            })
            .collect();
        let s = Smoothing::new(ms, hold, sigma);
        let mut y = vec![0.0; ms];
        for (k, &level) in levels.iter().enumerate() {
            for (v, w) in y[s.start[k]..].iter_mut().zip(&s.weight[k]) {
                *v += level * w;
            }
        }
        for t in 0..ms {
            assert!((y[t] - direct[t]).abs() < 1e-12, "t = {t}: {} vs {}", y[t], direct[t]);
        }
        // Away from the edges a constant input stays constant; at the edges it falls (zeros beyond).
        let s = Smoothing::new(500, 500, 10);
        let edge = s.weight[0][0];
        let middle = s.weight[0][250];
        assert!(
            (middle - 1.0).abs() < 1e-12 && edge < 0.6 && edge > 0.4,
            "{edge} {middle}"
        );
    }

    #[test]
    fn counts_per_tree_follow_the_ranges() {
        // A tree's excitatory count per 100 ms is uniform in [0, 800] (400 on average), shared
        // over its rows; inhibition is uniform in [max(0, e − 600), e + 200], whose mean over e
        // is (∫₀⁶⁰⁰ (e + 200)/2 de + ∫₆₀₀⁸⁰⁰ (e − 200) de) / 800 = 312.5.
        let config = NeuronIoInputs::nmda();
        let (n, ms, trials) = (200, 6000, 20);
        let r = rows(n, 20.0);
        let mut per_100ms = [0.0; 4];
        for seed in 0..trials {
            let raster = generate(&config, &r, ms, seed).unwrap();
            for (g, total) in per_100ms.iter_mut().enumerate() {
                let spikes: usize = (g * n..(g + 1) * n)
                    .map(|i| (0..ms).filter(|&t| raster.get(i, t)).count())
                    .sum();
                *total += spikes as f64 / (ms as f64 / 100.0) / trials as f64;
            }
        }
        // Groups: basal and apical excitatory, basal and apical inhibitory. The smoothing's zero
        // edges take a few per cent.
        for (g, (&got, want)) in per_100ms.iter().zip([400.0, 400.0, 312.5, 312.5]).enumerate() {
            assert!(
                got > 0.8 * want && got < 1.1 * want,
                "group {g}: {got} per 100 ms, expected ≈ {want}"
            );
        }
    }

    #[test]
    fn a_seed_fixes_the_raster_and_longer_segments_get_more_input() {
        let config = NeuronIoInputs::nmda();
        let n = 500;
        let mut r = rows(n, 5.0);
        // Row 0 (basal, excitatory) is 20× longer than its neighbours (after the +10 µm); many
        // rows keep its share of the tree small, so its bins rarely saturate.
        r[0].length_um = 290.0;
        let a = generate(&config, &r, 3000, 9).unwrap();
        assert_eq!(a, generate(&config, &r, 3000, 9).unwrap());
        assert_ne!(a, generate(&config, &r, 3000, 10).unwrap());
        let count = |raster: &Raster, i: usize| (0..raster.ms).filter(|&t| raster.get(i, t)).count();
        let (mut long, mut short) = (0, 0);
        for seed in 0..10 {
            let x = generate(&config, &r, 3000, seed).unwrap();
            long += count(&x, 0);
            short += (1..n).map(|i| count(&x, i)).sum::<usize>();
        }
        let ratio = long as f64 / (short as f64 / (n - 1) as f64);
        assert!(
            ratio > 15.0 && ratio < 24.0,
            "a 20× longer segment got {ratio}× the spikes"
        );
    }

    #[test]
    fn invalid_settings_are_named() {
        let mut c = NeuronIoInputs::nmda();
        c.hold_ms_options = vec![25, 15];
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("hold_ms_options") && e.contains("jitter (20 ms)"), "{e}");
        let mut c = NeuronIoInputs::ampa();
        c.apical_excitatory_per_100ms = [10.0, 5.0];
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("apical_excitatory_per_100ms") && e.contains("[10, 5]"),
            "{e}"
        );
        let mut c = NeuronIoInputs::nmda();
        c.min_segment_length_um = f64::NAN;
        assert!(c.validate().unwrap_err().to_string().contains("min_segment_length_um"));
        let mut r = rows(2, 5.0);
        r[3].length_um = -1.0;
        let e = generate(&NeuronIoInputs::nmda(), &r, 10, 0).unwrap_err().to_string();
        assert!(e.contains("row 3's segment length is -1"), "{e}");
    }
}
