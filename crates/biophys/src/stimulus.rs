//! The stimulus: binary rasters in 1 ms bins, one row per synaptic site, and a seeded
//! generator in the style of NeuronIO (Beniaguev, Segev & London 2021).
//!
//! The generator: for every (branch, synapse type) group, a piecewise-constant rate, each level
//! uniform in `[0, peak]` and held for a duration uniform in `hold_ms`, smoothed with a Gaussian
//! whose width σ is uniform in `smooth_ms` (one σ per group), then scaled per site by a gain
//! uniform in `gain`. Each site spikes in a 1 ms bin with probability `rate · 1 ms` (at most one
//! spike per site per ms). Every draw comes from one ChaCha8 stream of the seed, in a fixed order,
//! so a seed fixes the raster on every platform.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{BiophysError, Result, non_negative};
use crate::synapse::{Branch, SynapseType, Synapses};

/// Statistics of generated inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputConfig {
    /// Peak rate of an excitatory site before its gain, Hz. Default 6.
    pub excitatory_peak_hz: f64,
    /// Peak rate of an inhibitory site before its gain, Hz. Default 15.
    pub inhibitory_peak_hz: f64,
    /// Range of the hold time of each rate level, ms. Default [50, 300].
    pub hold_ms: [f64; 2],
    /// Range of the Gaussian smoothing width σ, ms. Default [20, 150].
    pub smooth_ms: [f64; 2],
    /// Range of the per-site gain. Default [0.5, 1.5].
    pub gain: [f64; 2],
}

impl Default for InputConfig {
    fn default() -> Self {
        Self {
            excitatory_peak_hz: 6.0,
            inhibitory_peak_hz: 15.0,
            hold_ms: [50.0, 300.0],
            smooth_ms: [20.0, 150.0],
            gain: [0.5, 1.5],
        }
    }
}

impl InputConfig {
    /// Checks rates ≥ 0 and ordered, positive ranges.
    pub fn validate(&self) -> Result<()> {
        let what = || "inputs".to_string();
        non_negative(what, "excitatory_peak_hz", self.excitatory_peak_hz)?;
        non_negative(what, "inhibitory_peak_hz", self.inhibitory_peak_hz)?;
        for (field, [lo, hi], min) in [
            ("hold_ms", self.hold_ms, f64::MIN_POSITIVE),
            ("smooth_ms", self.smooth_ms, 0.0),
            ("gain", self.gain, 0.0),
        ] {
            non_negative(what, field, lo)?;
            non_negative(what, field, hi)?;
            if lo < min || hi < lo {
                return Err(BiophysError::Inputs(format!(
                    "`{field}` must be an ordered range [low, high] with low ≥ {min}, got [{lo}, {hi}]"
                )));
            }
        }
        Ok(())
    }
}

/// A binary raster: `[sites, ms]`, row-major; bit (s, t) means site s receives a spike at t ms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raster {
    /// Number of rows (sites).
    pub sites: usize,
    /// Number of 1 ms bins.
    pub ms: usize,
    /// `sites · ms` bits, row-major.
    pub bits: Vec<bool>,
}

impl Raster {
    /// An empty raster (no spikes).
    pub fn zeros(sites: usize, ms: usize) -> Self {
        Self {
            sites,
            ms,
            bits: vec![false; sites * ms],
        }
    }

    /// Bit (site, t).
    pub fn get(&self, site: usize, t: usize) -> bool {
        self.bits[site * self.ms + t]
    }

    /// Sets bit (site, t).
    pub fn set(&mut self, site: usize, t: usize, on: bool) {
        self.bits[site * self.ms + t] = on;
    }

    /// For each ms, the sites that spike then (the delivery order of a step).
    pub fn events_by_ms(&self) -> Vec<Vec<u32>> {
        let mut by_ms = vec![Vec::new(); self.ms];
        for s in 0..self.sites {
            for (t, &on) in self.bits[s * self.ms..(s + 1) * self.ms].iter().enumerate() {
                if on {
                    by_ms[t].push(s as u32);
                }
            }
        }
        by_ms
    }

    /// Mean spikes per site per second.
    pub fn mean_rate_hz(&self) -> f64 {
        let n = self.bits.iter().filter(|b| **b).count();
        n as f64 / (self.sites.max(1) as f64 * self.ms.max(1) as f64 / 1000.0)
    }
}

/// A smoothed, piecewise-constant rate (Hz) for `ms` bins, drawn from `rng`.
fn smoothed_rate(config: &InputConfig, peak: f64, ms: usize, rng: &mut ChaCha8Rng) -> Vec<f64> {
    let sigma = uniform(rng, config.smooth_ms);
    let half = (4.0 * sigma).ceil() as usize;
    // Levels over the trial plus a margin on each side, so the edges are smoothed too.
    let n = ms + 2 * half;
    let mut levels = Vec::with_capacity(n);
    while levels.len() < n {
        let hold = uniform(rng, config.hold_ms).round().max(1.0) as usize;
        let level = rng.random::<f64>() * peak;
        levels.extend(std::iter::repeat_n(level, hold.min(n - levels.len())));
    }
    if sigma == 0.0 {
        return levels[half..half + ms].to_vec();
    }
    let kernel: Vec<f64> = (0..=2 * half)
        .map(|k| {
            let x = k as f64 - half as f64;
            (-0.5 * (x / sigma).powi(2)).exp()
        })
        .collect();
    let norm: f64 = kernel.iter().sum();
    (0..ms)
        .map(|t| {
            // Output t is centred on level t + half.
            levels[t..t + 2 * half + 1]
                .iter()
                .zip(&kernel)
                .map(|(l, k)| l * k)
                .sum::<f64>()
                / norm
        })
        .collect()
}

fn uniform(rng: &mut ChaCha8Rng, [lo, hi]: [f64; 2]) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

/// Generates `ms` milliseconds of input for `synapses` from `seed` (see the module docs).
pub fn generate(config: &InputConfig, synapses: &Synapses, ms: usize, seed: u64) -> Raster {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut raster = Raster::zeros(synapses.len(), ms);
    // Groups in a fixed order: branch −1 (soma) upwards, excitatory before inhibitory.
    let mut groups: Vec<(Branch, SynapseType)> = synapses
        .branch
        .iter()
        .zip(&synapses.kind)
        .map(|(&b, &k)| (b, k))
        .collect();
    groups.sort_by_key(|&(b, k)| (b, k.code() == 0));
    groups.dedup();
    for (branch, kind) in groups {
        let peak = match kind {
            SynapseType::Excitatory => config.excitatory_peak_hz,
            SynapseType::Inhibitory => config.inhibitory_peak_hz,
        };
        let rate = smoothed_rate(config, peak, ms, &mut rng);
        for s in 0..synapses.len() {
            if synapses.branch[s] != branch || synapses.kind[s] != kind {
                continue;
            }
            let gain = uniform(&mut rng, config.gain);
            for (t, r) in rate.iter().enumerate() {
                if rng.random::<f64>() < (r * gain / 1000.0).min(1.0) {
                    raster.set(s, t, true);
                }
            }
        }
    }
    raster
}

#[cfg(test)]
mod tests {
    use super::*;

    /// bs4's layout of sites: 200 excitatory and 40 inhibitory over 4 dendrites, 10 somatic.
    fn sites() -> Synapses {
        let mut s = Synapses::empty();
        for (n, kind) in [(200, SynapseType::Excitatory), (40, SynapseType::Inhibitory)] {
            for i in 0..n {
                s.branch.push(Branch::Dendrite(i % 4));
                s.pos.push((i as f64 * 0.37) % 1.0);
                s.kind.push(kind);
            }
        }
        for _ in 0..10 {
            s.branch.push(Branch::Soma);
            s.pos.push(0.5);
            s.kind.push(SynapseType::Inhibitory);
        }
        s
    }

    #[test]
    fn generated_rates_respect_the_peaks_and_gains() {
        let (inputs, s) = (InputConfig::default(), sites());
        let r = generate(&inputs, &s, 20_000, 3);
        assert_eq!(generate(&inputs, &s, 20_000, 3), r, "a seed fixes the raster");
        assert_ne!(generate(&inputs, &s, 20_000, 4), r);
        let rate = |kind: SynapseType| {
            let rows: Vec<usize> = (0..s.len()).filter(|&i| s.kind[i] == kind).collect();
            let n: usize = rows.iter().map(|&i| (0..r.ms).filter(|&t| r.get(i, t)).count()).sum();
            n as f64 / (rows.len() as f64 * 20.0)
        };
        // Mean of a uniform level in [0, peak] times a gain of mean 1: peak / 2.
        let (exc, inh) = (rate(SynapseType::Excitatory), rate(SynapseType::Inhibitory));
        assert!(exc > 0.5 * 3.0 && exc < 1.5 * 3.0, "excitatory {exc} Hz");
        assert!(inh > 0.5 * 7.5 && inh < 1.5 * 7.5, "inhibitory {inh} Hz");
        // No site exceeds peak × max gain over a long window.
        for i in 0..s.len() {
            let n = (0..r.ms).filter(|&t| r.get(i, t)).count() as f64 / 20.0;
            assert!(n < 15.0 * 1.5 * 1.5, "site {i}: {n} Hz");
        }
    }

    #[test]
    fn smoothing_preserves_a_constant_rate() {
        let config = InputConfig {
            hold_ms: [1e9, 1e9],
            ..InputConfig::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let r = smoothed_rate(&config, 10.0, 1000, &mut rng);
        assert!(r.iter().all(|v| (v - r[0]).abs() < 1e-9), "one level, held: constant");
    }

    #[test]
    fn events_are_grouped_by_ms() {
        let mut r = Raster::zeros(3, 4);
        r.set(2, 1, true);
        r.set(0, 1, true);
        r.set(1, 3, true);
        assert_eq!(r.events_by_ms(), vec![vec![], vec![0, 2], vec![], vec![1]]);
    }
}
