//! Memory soma: the cell body's slow state variables, updated non-linearly every step.
//!
//! Beyond the essay, whose soma is a linear temporal filter. A real soma holds state that
//! relaxes with its own time constants (channel gates, calcium, the after-spike currents) and
//! changes non-linearly with its input and with that state, so it knows, for example, that it
//! has just fired. Here that is a set of leaky memory units updated by a small MLP from the
//! input and the memory itself (the Expressive Leaky Memory neuron, Spieler et al., ICLR 2024):
//!
//! `m[t] = κ ⊙ m[t−1] + (1 − κ) ⊙ tanh(W₂ · relu(W₁ · [x[t], m[t−1]] + b₁) + b₂)`,
//! `κ_j = exp(−1/τ_j)`, `m[−1] = 0`,
//!
//! with the time constants `τ_j` log-spaced between [`MemorySomaConfig::tau_min`] and
//! [`MemorySomaConfig::tau_max`]. Recurrent in time (one step after another), causal. On flex
//! the steps run as one op with its own backward ([`fused`]); elsewhere as Burn's loop
//! ([`recurrence_loop`]): the same function to float rounding.

pub mod fused;

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::activation::{relu, tanh};
use burn::tensor::{Device, Tensor};

use crate::error::{ConfigError, ShapeError, check_nonzero, check_positive, expect_shape, expect_valid};
use crate::soma::constant_like;
use fused::{fused_memory_supported, memory_recurrence};

const NAME: &str = "MemorySoma";

/// Configuration of [`MemorySoma`].
#[derive(Config, Debug, PartialEq)]
pub struct MemorySomaConfig {
    /// Input channels per neuron (for a cell: its dendrites' rates and the soma's filter).
    pub inputs: usize,
    /// Memory units per neuron. Default 20.
    #[config(default = 20)]
    pub units: usize,
    /// Width of the MLP that updates the memory. Default 32.
    #[config(default = 32)]
    pub hidden: usize,
    /// Shortest memory time constant, in steps. Default 1.
    #[config(default = 1.0)]
    pub tau_min: f64,
    /// Longest memory time constant, in steps. Default 50 (with 1 ms steps: slower than
    /// after-hyperpolarisation, about NMDA's decay).
    #[config(default = 50.0)]
    pub tau_max: f64,
    /// Neurons in the layer, each with its own MLP and memory. Default 1.
    #[config(default = 1)]
    pub neurons: usize,
    /// Initialiser of the MLP. Default: Kaiming uniform, as burn's `Linear`.
    #[config(default = "Initializer::KaimingUniform{gain:1.0/num_traits::Float::sqrt(3.0),fan_out_only:false}")]
    pub initializer: Initializer,
    /// How the steps run. Default [`MemoryRecurrence::Auto`].
    #[config(default = "MemoryRecurrence::Auto")]
    pub recurrence: MemoryRecurrence,
}

/// How [`MemorySoma`] runs its steps. Both compute the same function, with the same gradients,
/// to float rounding.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum MemoryRecurrence {
    /// The fused op where it runs (flex, f32 and f64), Burn's loop elsewhere.
    Auto,
    /// Burn's loop over time, every backend: about ten recorded ops per step.
    Loop,
    /// One op with back-propagation through time written out ([`fused`]); flex only, an error
    /// elsewhere.
    Fused,
}

/// Leaky memory units updated by an MLP from the input and the memory.
#[derive(Module, Debug)]
pub struct MemorySoma {
    /// First layer, `[neurons, inputs + units, hidden]` (input rows first).
    pub w_in: Param<Tensor<3>>,
    /// `[neurons, hidden]`.
    pub b_in: Param<Tensor<2>>,
    /// Second layer, `[neurons, hidden, units]`.
    pub w_out: Param<Tensor<3>>,
    /// `[neurons, units]`.
    pub b_out: Param<Tensor<2>>,
    /// Per-step decay `κ_j = exp(−1/τ_j)` of each unit.
    #[module(skip)]
    pub decay: Vec<f64>,
    /// Input channels per neuron.
    pub inputs: usize,
    /// How the steps run.
    #[module(skip)]
    pub recurrence: MemoryRecurrence,
}

impl MemorySomaConfig {
    /// Checks the sizes and that `0 < tau_min ≤ tau_max`, both finite.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_nonzero(NAME, "inputs", self.inputs)?;
        check_nonzero(NAME, "units", self.units)?;
        check_nonzero(NAME, "hidden", self.hidden)?;
        check_nonzero(NAME, "neurons", self.neurons)?;
        check_positive(NAME, "tau_min", self.tau_min)?;
        check_positive(NAME, "tau_max", self.tau_max)?;
        if self.tau_min > self.tau_max {
            return Err(ConfigError::Inconsistent {
                module: NAME,
                message: format!("tau_min {} is above tau_max {}", self.tau_min, self.tau_max),
            });
        }
        Ok(())
    }

    /// The time constants, log-spaced from `tau_min` to `tau_max`.
    pub fn time_constants(&self) -> Vec<f64> {
        let n = self.units;
        (0..n)
            .map(|j| {
                let f = if n == 1 { 1.0 } else { j as f64 / (n - 1) as f64 };
                self.tau_min * (self.tau_max / self.tau_min).powf(f)
            })
            .collect()
    }

    /// Number of trainable parameters this config creates.
    pub fn num_params(&self) -> usize {
        let (i, u, h) = (self.inputs, self.units, self.hidden);
        self.neurons * ((i + u) * h + h + h * u + u)
    }

    /// Builds the module. Panics with the `validate()` message on an invalid config.
    pub fn init(&self, device: &Device) -> MemorySoma {
        expect_valid(self.validate());
        let (n, i, u, h) = (self.neurons, self.inputs, self.units, self.hidden);
        let fan_in = i + u;
        MemorySoma {
            w_in: self
                .initializer
                .init_with([n, fan_in, h], Some(fan_in), Some(h), device),
            b_in: self.initializer.init_with([n, h], Some(fan_in), Some(h), device),
            w_out: self.initializer.init_with([n, h, u], Some(h), Some(u), device),
            b_out: self.initializer.init_with([n, u], Some(h), Some(u), device),
            decay: self.time_constants().iter().map(|tau| (-1.0 / tau).exp()).collect(),
            inputs: i,
            recurrence: self.recurrence,
        }
    }
}

impl MemorySoma {
    /// Neurons in the layer.
    pub fn neurons(&self) -> usize {
        self.w_in.dims()[0]
    }

    /// Memory units per neuron.
    pub fn units(&self) -> usize {
        self.decay.len()
    }

    /// Input to the memory of every step, or a [`ShapeError`] for the wrong channel count.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, neurons · inputs, time]`
    /// - output: `[batch, neurons · units, time]`
    pub fn try_forward(&self, x: Tensor<3>) -> Result<Tensor<3>, ShapeError> {
        let dims = x.dims();
        let n = self.neurons();
        if dims[1] != n * self.inputs {
            let expected = if n == 1 {
                format!("[batch, {}, time]", self.inputs)
            } else {
                format!("[batch, {} ({n} neurons × {}), time]", n * self.inputs, self.inputs)
            };
            return Err(ShapeError::new(NAME, expected, &dims));
        }
        Ok(leaky_memory(
            x,
            self.w_in.val(),
            self.b_in.val(),
            self.w_out.val(),
            self.b_out.val(),
            &self.decay,
            self.recurrence,
        ))
    }

    /// [`try_forward`](Self::try_forward), panicking with its message on a wrong shape.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, neurons · inputs, time]`
    /// - output: `[batch, neurons · units, time]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        expect_shape(self.try_forward(x))
    }
}

/// Leaky memory per neuron (the module docs give the update), every step in order, as
/// `recurrence` says (`Auto`: the fused op on flex with f32 or f64, Burn's loop elsewhere).
///
/// # Shapes
///
/// - x: `[batch, neurons · inputs, time]`
/// - w_in: `[neurons, inputs + units, hidden]`; b_in: `[neurons, hidden]`
/// - w_out: `[neurons, hidden, units]`; b_out: `[neurons, units]`; decay: `units` values
/// - output: `[batch, neurons · units, time]`
pub fn leaky_memory(
    x: Tensor<3>,
    w_in: Tensor<3>,
    b_in: Tensor<2>,
    w_out: Tensor<3>,
    b_out: Tensor<2>,
    decay: &[f64],
    recurrence: MemoryRecurrence,
) -> Tensor<3> {
    let fused = match recurrence {
        MemoryRecurrence::Auto => fused_memory_supported(&x),
        MemoryRecurrence::Loop => false,
        MemoryRecurrence::Fused => true,
    };
    let [batch, _, time] = x.dims();
    let (drive, w_memory) = drive(x, w_in, b_in, decay.len());
    let neurons = drive.dims()[0];
    let memory = if fused {
        memory_recurrence(drive, w_memory, w_out, b_out, decay)
    } else {
        recurrence_loop(drive, w_memory, w_out, b_out, decay)
    };
    // [neurons, batch, time, units] → [batch, neurons · units, time]
    memory
        .permute([1, 0, 3, 2])
        .reshape([batch, neurons * decay.len(), time])
}

/// The input's share of the first layer for every step at once, with its bias, and the first
/// layer's memory rows.
///
/// # Shapes
///
/// - x: `[batch, neurons · inputs, time]`; w_in: `[neurons, inputs + units, hidden]`; b_in: `[neurons, hidden]`
/// - output: drive `[neurons, batch, time, hidden]`, memory rows `[neurons, units, hidden]`
fn drive(x: Tensor<3>, w_in: Tensor<3>, b_in: Tensor<2>, units: usize) -> (Tensor<4>, Tensor<3>) {
    let [batch, channels, time] = x.dims();
    let [neurons, rows, hidden] = w_in.dims();
    let inputs = channels / neurons;
    assert_eq!(rows, inputs + units, "{NAME}: w_in must have inputs + units rows");
    let x = x.reshape([batch, neurons, inputs, time]).permute([1, 0, 3, 2]);
    let drive = x
        .reshape([neurons, batch * time, inputs])
        .matmul(w_in.clone().narrow(1, 0, inputs))
        + b_in.unsqueeze_dim::<3>(1);
    (
        drive.reshape([neurons, batch, time, hidden]),
        w_in.narrow(1, inputs, units),
    )
}

/// The recurrence as Burn's loop over time (about ten recorded ops per step): every backend,
/// and the capture device (the counter counts it).
///
/// # Shapes
///
/// As [`fused::memory_recurrence`]: drive `[neurons, batch, time, hidden]` to `[neurons, batch,
/// time, units]`.
pub fn recurrence_loop(
    drive: Tensor<4>,
    w_memory: Tensor<3>,
    w_out: Tensor<3>,
    b_out: Tensor<2>,
    decay: &[f64],
) -> Tensor<4> {
    let [neurons, batch, time, hidden] = drive.dims();
    let units = decay.len();
    let device = drive.device();
    let dtype = drive.dtype();
    let keep = constant_like(decay, &drive).reshape([1, 1, units]);
    let take = constant_like(&decay.iter().map(|k| 1.0 - k).collect::<Vec<_>>(), &drive).reshape([1, 1, units]);
    let b_out = b_out.unsqueeze_dim::<3>(1);
    let mut m = Tensor::<3>::zeros([neurons, batch, units], &device).cast(dtype);
    let mut out = Vec::with_capacity(time);
    for t in 0..time {
        let h =
            relu(drive.clone().narrow(2, t, 1).reshape([neurons, batch, hidden]) + m.clone().matmul(w_memory.clone()));
        let update = tanh(h.matmul(w_out.clone()) + b_out.clone());
        m = m * keep.clone() + update * take.clone();
        out.push(m.clone().unsqueeze_dim::<4>(2));
    }
    Tensor::cat(out, 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::select_neurons;
    use test_support::{assert_close_values, uniform, values};

    /// The update written out in f64 loops, neuron by neuron.
    fn reference(x: &[f64], [b, c, t]: [usize; 3], soma: &MemorySoma) -> Vec<f64> {
        let (w1, b1, w2, b2) = (
            values(soma.w_in.val()),
            values(soma.b_in.val()),
            values(soma.w_out.val()),
            values(soma.b_out.val()),
        );
        let [n, rows, h] = soma.w_in.dims();
        let (i, u) = (c / n, soma.units());
        assert_eq!(rows, i + u);
        let mut out = vec![0.0; b * n * u * t];
        for bi in 0..b {
            for ni in 0..n {
                let mut m = vec![0.0; u];
                for ti in 0..t {
                    let z: Vec<f64> = (0..i)
                        .map(|k| x[(bi * c + ni * i + k) * t + ti])
                        .chain(m.iter().copied())
                        .collect();
                    let hid: Vec<f64> = (0..h)
                        .map(|q| {
                            (b1[ni * h + q] + (0..i + u).map(|r| z[r] * w1[(ni * rows + r) * h + q]).sum::<f64>())
                                .max(0.0)
                        })
                        .collect();
                    for j in 0..u {
                        let a = b2[ni * u + j] + (0..h).map(|q| hid[q] * w2[(ni * h + q) * u + j]).sum::<f64>();
                        m[j] = soma.decay[j] * m[j] + (1.0 - soma.decay[j]) * a.tanh();
                    }
                    for j in 0..u {
                        out[((bi * n + ni) * u + j) * t + ti] = m[j];
                    }
                }
            }
        }
        out
    }

    #[test]
    fn memory_matches_the_update_written_out() {
        let device = Device::flex();
        let _lock = test_support::seed_lock();
        device.seed(11);
        let soma = MemorySomaConfig::new(3)
            .with_units(4)
            .with_hidden(5)
            .with_neurons(2)
            .init(&device);
        let shape = [2, 6, 9];
        let x = uniform(shape, 4, &device) * 2.0 - 1.0;
        let got = values(soma.forward(x.clone()));
        assert_close_values(&got, &reference(&values(x), shape, &soma), 1e-5, "memory soma");
    }

    /// The memory's output and every gradient through the fused recurrence and through Burn's
    /// loop, on the same weights and input.
    fn both_paths(n: usize, shape: [usize; 3], seed: u64) -> [(Vec<f64>, Vec<f64>); 6] {
        let device = Device::flex().autodiff();
        let [b, c, t] = shape;
        let i = c / n;
        let (u, h) = (4, 5);
        let w_in = uniform([n, i + u, h], seed, &device) - 0.5;
        let b_in = uniform([n, h], seed + 1, &device) - 0.3;
        let w_out = uniform([n, h, u], seed + 2, &device) - 0.5;
        let b_out = uniform([n, u], seed + 3, &device) - 0.5;
        let x = uniform(shape, seed + 4, &device) * 2.0;
        let probe = uniform([b, n * u, t], seed + 5, &device);
        let decay = MemorySomaConfig::new(i)
            .with_units(u)
            .time_constants()
            .iter()
            .map(|tau| (-1.0 / tau).exp())
            .collect::<Vec<_>>();
        let run = |fused: bool| {
            let params = [w_in.clone(), w_out.clone()].map(|p| p.require_grad());
            let (bi, bo, xi) = (
                b_in.clone().require_grad(),
                b_out.clone().require_grad(),
                x.clone().require_grad(),
            );
            let (drive, w_memory) = drive(xi.clone(), params[0].clone(), bi.clone(), u);
            let m = if fused {
                memory_recurrence(drive, w_memory, params[1].clone(), bo.clone(), &decay)
            } else {
                recurrence_loop(drive, w_memory, params[1].clone(), bo.clone(), &decay)
            };
            let y = m.permute([1, 0, 3, 2]).reshape([b, n * u, t]);
            let grads = (y.clone() * probe.clone()).sum().backward();
            let g = |t: &Tensor<3>| values(t.grad(&grads).unwrap());
            [
                values(y.inner()),
                g(&xi),
                g(&params[0]),
                values(bi.grad(&grads).unwrap()),
                g(&params[1]),
                values(bo.grad(&grads).unwrap()),
            ]
        };
        let (fused, looped) = (run(true), run(false));
        std::array::from_fn(|k| (fused[k].clone(), looped[k].clone()))
    }

    #[test]
    fn the_fused_recurrence_computes_the_loop_forward_and_backward() {
        // One neuron and a population of three; a window long enough that the memory's leak and
        // its recurrence through W_m carry gradients back many steps.
        for (n, shape) in [(1, [2, 3, 30]), (3, [2, 6, 11])] {
            let _lock = test_support::seed_lock();
            for ((fused, looped), what) in both_paths(n, shape, 30).iter().zip([
                "output",
                "input gradient",
                "w_in gradient",
                "b_in gradient",
                "w_out gradient",
                "b_out gradient",
            ]) {
                assert!(fused.iter().any(|v| *v != 0.0), "{what}: all zero");
                assert_close_values(fused, looped, 1e-5, &format!("{n} neurons: {what}"));
            }
        }
    }

    #[test]
    fn off_flex_the_loop_runs_and_the_fused_op_says_why_not() {
        for (name, device) in test_support::cpu_devices() {
            let x = Tensor::<3>::zeros([1, 2, 3], &device);
            assert_eq!(fused_memory_supported(&x), name == "flex", "{name}");
            if name == "flex" {
                continue;
            }
            let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                memory_recurrence(
                    Tensor::zeros([1, 1, 3, 2], &device),
                    Tensor::zeros([1, 2, 2], &device),
                    Tensor::zeros([1, 2, 2], &device),
                    Tensor::zeros([1, 2], &device),
                    &[0.5, 0.5],
                )
            }))
            .unwrap_err();
            let msg = panic.downcast_ref::<String>().unwrap();
            assert!(
                msg.contains("runs on flex with f32 or f64 tensors, not on ndarray"),
                "{msg}"
            );
            // The module runs Burn's loop there, as the reference says.
            let soma = MemorySomaConfig::new(2).with_units(2).with_hidden(3).init(&device);
            let x = uniform([1, 2, 5], 3, &device);
            assert_close_values(
                &values(soma.forward(x.clone())),
                &reference(&values(x), [1, 2, 5], &soma),
                1e-5,
                name,
            );
        }
    }

    #[test]
    fn time_constants_are_log_spaced_and_causal() {
        let config = MemorySomaConfig::new(2)
            .with_units(3)
            .with_tau_min(2.0)
            .with_tau_max(50.0);
        let taus = config.time_constants();
        assert!(
            (taus[0] - 2.0).abs() < 1e-12 && (taus[1] - 10.0).abs() < 1e-9 && (taus[2] - 50.0).abs() < 1e-9,
            "{taus:?}"
        );
        let device = Device::flex();
        let soma = config.init(&device);
        let x = uniform([1, 2, 10], 8, &device);
        let kick = Tensor::<3>::zeros([1, 2, 10], &device)
            .slice_assign([0..1, 0..2, 6..7], Tensor::full([1, 2, 1], 5.0, &device));
        let (a, b) = (values(soma.forward(x.clone())), values(soma.forward(x + kick)));
        for u in 0..3 {
            let row = |v: &[f64]| v[u * 10..(u + 1) * 10].to_vec();
            assert_eq!(row(&a)[..6], row(&b)[..6], "unit {u} saw the future");
        }
        assert!(
            a.iter().zip(&b).any(|(p, q)| (p - q).abs() > 1e-4),
            "the kick changed nothing"
        );
    }

    #[test]
    fn a_population_equals_its_neurons_one_by_one() {
        let device = Device::flex();
        let _lock = test_support::seed_lock();
        device.seed(12);
        let config = MemorySomaConfig::new(2).with_units(3).with_hidden(4);
        let layer = config.clone().with_neurons(3).init(&device);
        let x = uniform([2, 6, 7], 9, &device);
        let y = values(layer.forward(x.clone()));
        for n in 0..3 {
            let one = select_neurons(&layer, config.init(&device), n, 1);
            let want = values(one.forward(x.clone().narrow(1, 2 * n, 2)));
            for b in 0..2 {
                let got = &y[(b * 9 + 3 * n) * 7..(b * 9 + 3 * n + 3) * 7];
                assert_close_values(
                    got,
                    &want[b * 21..(b + 1) * 21],
                    1e-6,
                    &format!("neuron {n}, batch {b}"),
                );
            }
        }
    }

    #[test]
    fn bad_configs_and_shapes_are_errors() {
        assert_eq!(
            MemorySomaConfig::new(2)
                .with_tau_min(60.0)
                .validate()
                .unwrap_err()
                .to_string(),
            "MemorySoma: tau_min 60 is above tau_max 50"
        );
        assert_eq!(
            MemorySomaConfig::new(0).validate().unwrap_err().to_string(),
            "MemorySoma: `inputs` must be at least 1, got 0"
        );
        assert!(MemorySomaConfig::new(2).with_tau_max(f64::NAN).validate().is_err());
        assert_eq!(
            MemorySomaConfig::new(3)
                .with_units(4)
                .with_hidden(5)
                .with_neurons(2)
                .num_params(),
            2 * (7 * 5 + 5 + 5 * 4 + 4)
        );
        let device = Device::flex();
        let soma = MemorySomaConfig::new(3).with_neurons(2).init(&device);
        let e = soma.try_forward(Tensor::zeros([1, 5, 4], &device)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "MemorySoma: expected input of shape [batch, 6 (2 neurons × 3), time], got [1, 5, 4]"
        );
    }
}
