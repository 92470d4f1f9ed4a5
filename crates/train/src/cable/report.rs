//! What a run learned: kernels against the analytic propagator, D and τ read back from them,
//! held-out rollouts against the simulator, and the mis-specified-Euler baseline.

use burn::module::Module;
use serde::Serialize;

use neuron_nn::DendriteAlgorithm;

use super::data::{self, HELD_OUT_STREAM};
use super::learners::Learner;
use super::physics::{CableConfig, Kernel};
use super::session::{Session, TrainConfig};
use crate::rng::stream;

/// One learner's results.
#[derive(Debug, Clone, Serialize)]
pub struct LearnerReport {
    /// Which learner: `dendrites` (neuron_nn::Dendrites) or `conv` (burn's Conv2d).
    pub learner: Learner,
    /// D read back from the learned kernel (NaN, written `null`, when its sum is not positive).
    pub d_learned: f64,
    /// `|d_learned − d_true| / d_true`.
    pub d_rel_err: f64,
    /// τ read back from the learned kernel.
    pub tau_learned: f64,
    /// `|tau_learned − tau_true| / tau_true`.
    pub tau_rel_err: f64,
    /// Largest absolute tap error against the analytic `k`-step kernel.
    pub kernel_max_abs_err: f64,
    /// Relative L2 error of the taps.
    pub kernel_rel_l2_err: f64,
    /// Held-out rollout error (relative L2 over the interior at the last step).
    pub rollout_rel_err: f64,
    /// Training loss at the last step.
    pub final_loss: f64,
    /// The learned taps, row-major `[kp, kd]`.
    pub kernel: Vec<f64>,
}

/// A run's results: the truth, and each learner's.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// 1 or 2.
    pub dims: usize,
    /// Euler steps per kernel application.
    pub k: usize,
    /// Training steps done.
    pub steps: u64,
    /// The path the `Dendrites` learner's convolution took (a repeated run names it to repeat
    /// the numbers on another machine).
    pub dendrite_path: DendriteAlgorithm,
    /// D of the simulator.
    pub d_true: f64,
    /// τ of the simulator.
    pub tau_true: f64,
    /// Euler steps in the held-out rollout (`rollout · k`).
    pub rollout_euler_steps: usize,
    /// The baseline integrates with `D · baseline_d_factor`.
    pub baseline_d_factor: f64,
    /// The baseline's held-out rollout error.
    pub baseline_rollout_rel_err: f64,
    /// Every learner, in [`Learner::ALL`] order.
    pub learners: Vec<LearnerReport>,
    /// The analytic kernel's taps, row-major `[kp, kd]`.
    pub kernel_true: Vec<f64>,
    /// `[kp, kd]`.
    pub kernel_shape: [usize; 2],
    /// Wall time of the run in this process (set by the caller; 0 until then).
    pub seconds: f64,
}

/// Relative L2 error `‖a − b‖/‖b‖` over the interior cells of `[count, p, d]` states.
pub fn interior_rel_err(cable: &CableConfig, margin: [usize; 2], a: &[f64], b: &[f64]) -> f64 {
    let (p, d) = (cable.positions, cable.dendrites);
    let inside = |n: usize| {
        let (i, j) = ((n / d) % p, n % d);
        (margin[0]..p - margin[0]).contains(&i) && (margin[1]..d - margin[1]).contains(&j)
    };
    let pairs = || {
        a.iter()
            .zip(b)
            .enumerate()
            .filter(|(n, _)| inside(*n))
            .map(|(_, xy)| xy)
    };
    let diff: f64 = pairs().map(|(x, y)| (x - y) * (x - y)).sum();
    let norm: f64 = pairs().map(|(_, y)| y * y).sum();
    (diff / norm).sqrt()
}

fn learner_report(learner: Learner, c: &TrainConfig, kernel: &Kernel, truth: &Kernel) -> LearnerReport {
    let physics = kernel.physics(c.k, c.cable.dt, c.cable.dx);
    let d = physics.map_or(f64::NAN, |p| p.diffusion);
    let tau = physics.map_or(f64::NAN, |p| p.tau);
    LearnerReport {
        learner,
        d_learned: d,
        d_rel_err: (d - c.cable.diffusion).abs() / c.cable.diffusion,
        tau_learned: tau,
        tau_rel_err: (tau - c.cable.tau).abs() / c.cable.tau,
        kernel_max_abs_err: kernel.max_abs_diff(truth),
        kernel_rel_l2_err: kernel.rel_l2(truth),
        rollout_rel_err: f64::NAN,
        final_loss: f64::NAN,
        kernel: kernel.taps.clone(),
    }
}

/// Evaluates a session's learners (in inference mode, on the backend they trained on).
pub fn evaluate(session: &Session) -> Report {
    let c = &session.config;
    let truth = c.cable.propagator(c.k);
    let model = session.learners().valid();
    let mut learners: Vec<LearnerReport> = Learner::ALL
        .iter()
        .map(|&l| learner_report(l, c, &model.kernel(l), &truth))
        .collect();

    // Held-out rollout: `rollout` applications of each learned kernel against `rollout · k`
    // Euler steps, on states neither learner saw.
    let steps = c.rollout * c.k;
    let states = data::prepared_states(
        &c.cable,
        c.preparation(),
        c.held_out,
        &mut stream(c.seed, HELD_OUT_STREAM),
    );
    let expected = data::advanced(&c.cable, &states, steps);
    let margin = c.margin(c.rollout);
    let device = session.device().clone().inner();
    let x = data::to_tensor(&c.cable, &states, &device);
    for report in &mut learners {
        let l = report.learner;
        let rolled = (0..c.rollout).fold(x.clone(), |v, _| model.propagate(l, v));
        let rolled: Vec<f64> = rolled.into_data().iter().collect();
        report.rollout_rel_err = interior_rel_err(&c.cable, margin, &rolled, &expected);
        report.final_loss = session.losses().last().map_or(f64::NAN, |losses| losses[l.index()]);
    }
    let factor = 1.0 + c.baseline_error;
    let wrong = c.cable.clone().with_diffusion(c.cable.diffusion * factor);
    let baseline = data::advanced(&wrong, &states, steps);

    Report {
        dims: c.cable.dims(),
        k: c.k,
        steps: session.step(),
        dendrite_path: session.dendrite_path,
        d_true: c.cable.diffusion,
        tau_true: c.cable.tau,
        rollout_euler_steps: steps,
        baseline_d_factor: factor,
        baseline_rollout_rel_err: interior_rel_err(&c.cable, margin, &baseline, &expected),
        learners,
        kernel_true: truth.taps,
        kernel_shape: truth.shape,
        seconds: 0.0,
    }
}

impl Report {
    /// One JSON object (NaN values are written `null`).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a report serialises")
    }

    /// One learner's results.
    pub fn learner(&self, learner: Learner) -> &LearnerReport {
        &self.learners[learner.index()]
    }

    /// A table for people: the truth and every learner side by side, then the rollout comparison.
    pub fn to_table(&self) -> String {
        let cols = |f: &dyn Fn(&LearnerReport) -> String| self.learners.iter().map(f).collect::<String>();
        let mut s = format!(
            "{}-D cable, k = {} Euler steps per kernel, {} training steps (dendrites on the {:?} path)\n{:<28} {:>12}{}\n",
            self.dims,
            self.k,
            self.steps,
            self.dendrite_path,
            "",
            "true",
            cols(&|l| format!(" {:>12}", l.learner.name()))
        );
        s += &format!(
            "{:<28} {:>12.6}{}\n",
            "D (diffusion)",
            self.d_true,
            cols(&|l| format!(" {:>12.6}", l.d_learned))
        );
        s += &format!(
            "{:<28} {:>12.6}{}\n",
            "τ (membrane time constant)",
            self.tau_true,
            cols(&|l| format!(" {:>12.6}", l.tau_learned))
        );
        type Row = (&'static str, fn(&LearnerReport) -> f64);
        let rows: [Row; 6] = [
            ("final training loss", |l| l.final_loss),
            ("D relative error", |l| l.d_rel_err),
            ("τ relative error", |l| l.tau_rel_err),
            ("kernel max-abs error", |l| l.kernel_max_abs_err),
            ("kernel relative L2 error", |l| l.kernel_rel_l2_err),
            ("rollout relative error", |l| l.rollout_rel_err),
        ];
        for (name, value) in rows {
            s += &format!("{name:<28} {:>12}{}\n", "", cols(&|l| format!(" {:>12.2e}", value(l))));
        }
        s + &format!(
            "held-out rollout over {} Euler steps: learned{}; Euler with D × {:.2}: {:.2e}\n",
            self.rollout_euler_steps,
            self.learners
                .iter()
                .map(|l| format!(" {:.2e} ({})", l.rollout_rel_err, l.learner.name()))
                .collect::<Vec<_>>()
                .join(","),
            self.baseline_d_factor,
            self.baseline_rollout_rel_err
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rollout_error_ignores_exactly_the_cells_the_boundary_can_reach() {
        let cable = CableConfig::new().with_positions(6).with_dendrites(4);
        let truth = vec![1.0; 2 * 24];
        // Wrong everywhere except the interior [2, 4) × [1, 3) of each state.
        let mut guess = vec![100.0; 2 * 24];
        for s in 0..2 {
            for i in 2..4 {
                for j in 1..3 {
                    guess[s * 24 + i * 4 + j] = 1.5;
                }
            }
        }
        assert!((interior_rel_err(&cable, [2, 1], &guess, &truth) - 0.5).abs() < 1e-12);
        assert!(interior_rel_err(&cable, [1, 1], &guess, &truth) > 10.0);
    }
}
