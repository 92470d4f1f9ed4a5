//! The ground truth: the passive cable equation integrated by forward Euler, as brain simulators
//! integrate it, and the convolution kernel that the same integration amounts to.
//!
//! `∂V/∂t = D ∇²V − V/τ + I` on a grid of `positions × dendrites` cells with spacing Δx and zero
//! (Dirichlet) boundaries. With `r = DΔt/Δx²` and the leak `a = Δt/τ`, one Euler step is
//!
//! `V' = (1 − a)·V + r·Σ_neighbours (V_n − V) + Δt·I`,
//!
//! a convolution with `[r, 1 − 2r − a, r]` in 1-D (a five-point stencil in 2-D), and `k` steps
//! without current are that stencil convolved with itself `k` times: the `(2k+1)`-wide
//! [`propagator`]. Essay, Part II: "this process is mathematically the same as the convolution
//! ... brain simulations use Euler's method for diffusion, which cannot be learned".
//!
//! Everything here is plain `f64` on the host: the reference the learned kernels are judged by.

use burn::config::Config;
use neuron_nn::ConfigError;
use neuron_nn::error::{check_nonzero, check_positive};

const NAME: &str = "Cable";

/// A dendritic cable (1-D) or sheet of coupled dendrites (2-D) and its Euler discretisation.
#[derive(Config, Debug, PartialEq)]
pub struct CableConfig {
    /// Diffusion constant D, in Δx² per unit time at `dx = 1`. Default 2.0.
    #[config(default = 2.0)]
    pub diffusion: f64,
    /// Membrane time constant τ. Default 2.0 (so Δt/τ = 0.05: the leak is well determined).
    #[config(default = 2.0)]
    pub tau: f64,
    /// Euler time step Δt. Default 0.1 (so r = DΔt/Δx² = 0.2).
    #[config(default = 0.1)]
    pub dt: f64,
    /// Grid spacing Δx. Default 1.0.
    #[config(default = 1.0)]
    pub dx: f64,
    /// Cells along each dendrite (first axis). Default 256.
    #[config(default = 256)]
    pub positions: usize,
    /// Dendrites (second axis). Default 1: a single cable, diffusion in 1-D. With more than one,
    /// charge also diffuses between neighbouring dendrites (2-D).
    #[config(default = 1)]
    pub dendrites: usize,
}

impl CableConfig {
    /// Spatial dimensions: 1 for a single cable, 2 when there are several dendrites.
    pub fn dims(&self) -> usize {
        if self.dendrites > 1 { 2 } else { 1 }
    }

    /// `r = DΔt/Δx²`, the diffusion number.
    pub fn r(&self) -> f64 {
        self.diffusion * self.dt / (self.dx * self.dx)
    }

    /// `a = Δt/τ`, the leak per step.
    pub fn leak(&self) -> f64 {
        self.dt / self.tau
    }

    /// Cells in one state: positions × dendrites.
    pub fn cells(&self) -> usize {
        self.positions * self.dendrites
    }

    /// Checks every field, and the stability of forward Euler with the leak: `4·dims·r + Δt/τ ≤ 2`
    /// (4r + Δt/τ ≤ 2 in 1-D, 8r + Δt/τ ≤ 2 in 2-D). Beyond it the highest spatial frequency is
    /// amplified every step and the simulation blows up.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_positive(NAME, "diffusion", self.diffusion)?;
        check_positive(NAME, "tau", self.tau)?;
        check_positive(NAME, "dt", self.dt)?;
        check_positive(NAME, "dx", self.dx)?;
        check_nonzero(NAME, "positions", self.positions)?;
        check_nonzero(NAME, "dendrites", self.dendrites)?;
        let (r, a, dims) = (self.r(), self.leak(), self.dims());
        let condition = 4.0 * dims as f64 * r + a;
        if condition > 2.0 {
            return Err(ConfigError::Inconsistent {
                module: NAME,
                message: format!(
                    "forward Euler is unstable: {}r + Δt/τ = {condition:.4} exceeds the bound 2 \
                     (r = DΔt/Δx² = {r:.4}, Δt/τ = {a:.4}, {dims}-D); use a smaller dt",
                    4 * dims
                ),
            });
        }
        if self.leak() >= 1.0 {
            return Err(ConfigError::Inconsistent {
                module: NAME,
                message: format!("Δt/τ = {a:.4} must be below 1 (the leak would remove more than all charge per step)"),
            });
        }
        Ok(())
    }

    /// One forward-Euler step of the state `v` (`[positions, dendrites]`, row-major) with zero
    /// boundaries, plus `drive = Δt·I` per cell if given.
    pub fn euler_step(&self, v: &[f64], drive: Option<&[f64]>) -> Vec<f64> {
        euler_step(v, [self.positions, self.dendrites], self.r(), self.leak(), drive)
    }

    /// `steps` Euler steps without current.
    pub fn euler(&self, v: &[f64], steps: usize) -> Vec<f64> {
        (0..steps).fold(v.to_vec(), |v, _| self.euler_step(&v, None))
    }

    /// The analytic `k`-step propagator of this discretisation.
    pub fn propagator(&self, k: usize) -> Kernel {
        propagator(self.r(), self.leak(), k, self.dims())
    }
}

/// One forward-Euler step on a `[p, d]` grid with zero (Dirichlet) boundaries: the functional
/// form of [`CableConfig::euler_step`]. The dendrite axis couples only when `d > 1`.
pub fn euler_step(v: &[f64], [p, d]: [usize; 2], r: f64, leak: f64, drive: Option<&[f64]>) -> Vec<f64> {
    assert_eq!(v.len(), p * d, "{NAME}: state has {} cells, the grid {p}×{d}", v.len());
    let at = |i: isize, j: isize| {
        if i < 0 || j < 0 || i >= p as isize || j >= d as isize {
            0.0
        } else {
            v[i as usize * d + j as usize]
        }
    };
    let mut out = Vec::with_capacity(v.len());
    for i in 0..p as isize {
        for j in 0..d as isize {
            let c = at(i, j);
            let mut laplacian = at(i - 1, j) + at(i + 1, j) - 2.0 * c;
            if d > 1 {
                laplacian += at(i, j - 1) + at(i, j + 1) - 2.0 * c;
            }
            out.push((1.0 - leak) * c + r * laplacian);
        }
    }
    if let Some(drive) = drive {
        out.iter_mut().zip(drive).for_each(|(o, i)| *o += i);
    }
    out
}

/// A convolution kernel `[kp, kd]` (row-major; `kd = 1` in 1-D), centred: tap `(i, j)` weighs
/// the input at offset `(i − kp/2, j − kd/2)`. The stencils here are symmetric, so this
/// cross-correlation (Burn's convention) and the convolution are the same kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct Kernel {
    /// `[kp, kd]`.
    pub shape: [usize; 2],
    /// Row-major taps.
    pub taps: Vec<f64>,
}

/// The `k`-step propagator of forward Euler: the one-step stencil convolved with itself `k`
/// times, `(2k+1)` wide on each diffusing axis. Computed by stepping a unit impulse: with the
/// impulse in the middle of a `2k+1` grid the boundary is never reached in `k` steps, so the
/// result is the free-space kernel.
pub fn propagator(r: f64, leak: f64, k: usize, dims: usize) -> Kernel {
    let w = 2 * k + 1;
    let shape = [w, if dims == 2 { w } else { 1 }];
    let mut v = vec![0.0; shape[0] * shape[1]];
    v[shape[0] / 2 * shape[1] + shape[1] / 2] = 1.0;
    for _ in 0..k {
        v = euler_step(&v, shape, r, leak, None);
    }
    Kernel { shape, taps: v }
}

/// The physical constants read back from a `k`-step kernel.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Physics {
    /// Diffusion constant D.
    pub diffusion: f64,
    /// Membrane time constant τ.
    pub tau: f64,
}

impl Kernel {
    /// Sum of the taps: `(1 − Δt/τ)^k` for a `k`-step propagator.
    pub fn sum(&self) -> f64 {
        self.taps.iter().sum()
    }

    /// Largest absolute tap difference to `other` (same shape).
    pub fn max_abs_diff(&self, other: &Kernel) -> f64 {
        assert_eq!(self.shape, other.shape, "kernels of different shapes");
        self.taps
            .iter()
            .zip(&other.taps)
            .fold(0.0, |m, (a, b)| m.max((a - b).abs()))
    }

    /// `‖self − reference‖₂ / ‖reference‖₂`.
    pub fn rel_l2(&self, reference: &Kernel) -> f64 {
        assert_eq!(self.shape, reference.shape, "kernels of different shapes");
        let diff: f64 = self
            .taps
            .iter()
            .zip(&reference.taps)
            .map(|(a, b)| (a - b).powi(2))
            .sum();
        let norm: f64 = reference.taps.iter().map(|b| b * b).sum();
        (diff / norm).sqrt()
    }

    /// Variance of the normalised kernel along `axis` (0: positions, 1: dendrites), in Δx².
    pub fn variance(&self, axis: usize) -> f64 {
        let [kp, kd] = self.shape;
        let centre = [kp / 2, kd / 2];
        let s = self.sum();
        let offset = |n: usize| {
            let ij = [n / kd, n % kd];
            ij[axis] as f64 - centre[axis] as f64
        };
        let moment = |p: i32| {
            self.taps
                .iter()
                .enumerate()
                .map(|(n, w)| offset(n).powi(p) * w)
                .sum::<f64>()
                / s
        };
        moment(2) - moment(1).powi(2)
    }

    /// D and τ from a `k`-step kernel of a grid with steps `dt`, `dx`: the sum is `(1 − a)^k`,
    /// giving `a = Δt/τ`; the normalised variance along each diffusing axis is `2kr/(1 − a)`,
    /// giving `r = DΔt/Δx²` (averaged over the axes in 2-D). `None` when the sum is not
    /// positive (no decay rate fits).
    pub fn physics(&self, k: usize, dt: f64, dx: f64) -> Option<Physics> {
        let s = self.sum();
        if s.is_nan() || s <= 0.0 {
            return None;
        }
        let a = 1.0 - s.powf(1.0 / k as f64);
        let axes: Vec<usize> = (0..2).filter(|&axis| self.shape[axis] > 1).collect();
        let variance = axes.iter().map(|&axis| self.variance(axis)).sum::<f64>() / axes.len() as f64;
        let r = variance * (1.0 - a) / (2.0 * k as f64);
        Some(Physics {
            diffusion: r * dx * dx / dt,
            tau: dt / a,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cable(positions: usize, dendrites: usize) -> CableConfig {
        CableConfig::new().with_positions(positions).with_dendrites(dendrites)
    }

    /// sin(πx/L) on the interior points x = (i+1)Δx of (0, L), L = (N+1)Δx.
    fn sine_mode(n: usize, dx: f64) -> Vec<f64> {
        let l = (n + 1) as f64 * dx;
        (0..n)
            .map(|i| (std::f64::consts::PI * (i + 1) as f64 * dx / l).sin())
            .collect()
    }

    #[test]
    fn the_discrete_sine_mode_decays_by_the_exact_euler_factor() {
        let c = cable(31, 1);
        let v = sine_mode(31, c.dx);
        let factor = 1.0 - c.leak() - 4.0 * c.r() * (std::f64::consts::PI / (2.0 * 32.0)).sin().powi(2);
        let after = c.euler(&v, 50);
        for (a, b) in after.iter().zip(&v) {
            assert!(
                (a - b * factor.powi(50)).abs() < 1e-12,
                "{a} vs {}",
                b * factor.powi(50)
            );
        }
    }

    /// Against the continuous solution V = sin(πx/L)·exp(−(Dπ²/L² + 1/τ)t): the error is
    /// Euler's first-order time error (Δx² is small beside it here), so it halves with Δt and
    /// stays within the leading-order bound t·λ²Δt/2 (relative).
    #[test]
    fn euler_converges_to_the_analytic_heat_solution_at_first_order_in_dt() {
        let n = 63;
        let t_end = 4.0;
        let error = |dt: f64| {
            let c = cable(n, 1).with_dt(dt);
            let l = (n + 1) as f64 * c.dx;
            let lambda = c.diffusion * (std::f64::consts::PI / l).powi(2) + 1.0 / c.tau;
            let steps = (t_end / dt).round() as usize;
            let v0 = sine_mode(n, c.dx);
            let got = c.euler(&v0, steps);
            let err = got
                .iter()
                .zip(&v0)
                .map(|(g, v)| (g - v * (-lambda * t_end).exp()).abs())
                .fold(0.0, f64::max);
            (err / (-lambda * t_end).exp(), t_end * lambda * lambda * dt / 2.0)
        };
        let (coarse, bound) = error(0.1);
        let (fine, _) = error(0.05);
        assert!(
            coarse <= 1.1 * bound && coarse > 0.5 * bound,
            "error {coarse} vs bound {bound}"
        );
        let order = (coarse / fine).log2();
        assert!(
            (order - 1.0).abs() < 0.1,
            "observed order {order}, Euler is first order"
        );
    }

    #[test]
    fn k_euler_steps_are_one_convolution_with_the_propagator_away_from_the_ends() {
        for (p, d) in [(40, 1), (16, 12)] {
            let c = cable(p, d);
            let k = 3;
            let kernel = c.propagator(k);
            assert_eq!(kernel.shape, [7, if d > 1 { 7 } else { 1 }]);
            let v: Vec<f64> = (0..p * d).map(|n| ((n * 7919) % 23) as f64 / 11.0 - 1.0).collect();
            let stepped = c.euler(&v, k);
            let (kp, kd) = (kernel.shape[0] / 2, kernel.shape[1] / 2);
            for i in k..p - k {
                for j in (if d > 1 { k } else { 0 })..(if d > 1 { d - k } else { 1 }) {
                    let conv: f64 = (0..kernel.shape[0])
                        .flat_map(|a| (0..kernel.shape[1]).map(move |b| (a, b)))
                        .map(|(a, b)| kernel.taps[a * kernel.shape[1] + b] * v[(i + a - kp) * d + j + b - kd])
                        .sum();
                    assert!((conv - stepped[i * d + j]).abs() < 1e-12, "cell ({i}, {j})");
                }
            }
        }
    }

    #[test]
    fn the_propagator_gives_back_d_and_tau_exactly() {
        for d in [1, 9] {
            let c = cable(16, d).with_diffusion(1.3).with_tau(0.7);
            for k in [1, 4] {
                let p = c.propagator(k).physics(k, c.dt, c.dx).unwrap();
                assert!(
                    (p.diffusion - 1.3).abs() < 1e-12 && (p.tau - 0.7).abs() < 1e-12,
                    "{p:?}"
                );
                assert!((c.propagator(k).sum() - (1.0 - c.leak()).powi(k as i32)).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn unstable_or_invalid_settings_are_rejected_naming_r_leak_and_bound() {
        // 1-D: 4r + a = 4·0.5 + 0.05 > 2.
        let e = cable(8, 1)
            .with_dt(0.25)
            .with_tau(5.0)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("4r + Δt/τ = 2.0500") && e.contains("bound 2") && e.contains("r = DΔt/Δx² = 0.5000"),
            "{e}"
        );
        assert!(e.contains("Δt/τ = 0.0500"), "{e}");
        // Stable in 1-D, unstable in 2-D: 8·0.24 + 0.1 > 2.
        let ok = cable(8, 1).with_diffusion(2.4).with_tau(1.0);
        assert!(ok.validate().is_ok());
        let e = ok.with_dendrites(4).validate().unwrap_err().to_string();
        assert!(e.contains("8r + Δt/τ = 2.0200") && e.contains("2-D"), "{e}");
        let e = cable(8, 1).with_diffusion(f64::NAN).validate().unwrap_err().to_string();
        assert!(
            e.contains("Cable") && e.contains("diffusion") && e.contains("NaN"),
            "{e}"
        );
        assert!(cable(0, 1).validate().is_err());
        assert!(
            cable(8, 1)
                .with_tau(0.09)
                .validate()
                .unwrap_err()
                .to_string()
                .contains("below 1")
        );
    }

    #[test]
    fn physics_of_a_kernel_with_no_positive_mass_is_none() {
        let k = Kernel {
            shape: [3, 1],
            taps: vec![0.1, -0.5, 0.1],
        };
        assert_eq!(k.physics(1, 0.1, 1.0), None);
    }
}
