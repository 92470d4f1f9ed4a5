//! The Branch-ELM, the field's anchor on NeuronIO: the Expressive Leaky Memory neuron with
//! branches (Spieler, Rahaman, Martius, Schölkopf & Levina, ICLR 2024), written from its code
//! (`src/expressive_leaky_memory_neuron.py` and `modeling_utils.py` in
//! `github:AaronSpieler/elmneuron`, the version the paper's models were trained with).
//!
//! Each input row feeds synapses on overlapping branches (NeuronIO's routing: excitatory and
//! inhibitory rows interleaved, branch `b` reading the `per_branch` interleaved rows from
//! `b · ⌈synapses / branches⌉` on). A synapse `k` keeps a trace `s_k[t] = κ_s s_k[t−1] + w_k
//! x_k[t]` with `w_k = relu(w̃_k)`, and each branch sums its traces into `d_b[t]`. Leaky memory
//! units are updated by a one-layer MLP:
//!
//! `m[t] = κ_m ⊙ m[t−1] + λ (1 − κ_m) ⊙ 1.7159 tanh(⅔ (W₂ relu(W₁ [d[t], κ_m ⊙ m[t−1]] + b₁) + b₂))`,
//!
//! `κ = exp(−1/τ)`, `τ_s` 5 ms, `τ_m` log-spaced over 1–150 ms (fixed), λ = 5, and `W_y m[t] +
//! b_y` is (spike logit, voltage). The published 20-unit model has 45 branches of 100 synapses,
//! an MLP 40 wide with ReLU (its `model_config.json` names no activation: the code's default),
//! and 8 002 parameters.
//!
//! How it runs here (the same function): the traces are linear with one time constant, so the
//! branch sums are filtered instead of each synapse (a causal filter of
//! [`BranchElmConfig::trace_taps`] taps, which leaves out `κ_s^taps` of the trace: 5e-5 by
//! default); and with `m = 1.7159 λ u` the update is `memory_soma`'s recurrence in `u`
//! ([`leaky_memory`]: one fused op on flex), `W₁`'s memory rows scaled by `1.7159 λ κ_m` and
//! `W₂, b₂` by ⅔. The parameters are the ELM's own, so Adam sees the paper's parametrisation.
//!
//! ```
//! use burn::module::Module;
//! use burn::tensor::{Device, Tensor};
//! use fit::BranchElmConfig;
//!
//! let device = Device::flex();
//! // The published 20-unit Branch-ELM for NeuronIO's 1 278 input rows.
//! let elm = BranchElmConfig::new(1278).init(&device)?;
//! assert_eq!(elm.num_params(), 8002);
//! let out = elm.forward(Tensor::zeros([1, 1278, 10], &device)); // 10 ms of silence
//! assert_eq!(out.dims(), [1, 2, 10]); // spike logit and voltage every ms
//! # Ok::<(), neuron_nn::ConfigError>(())
//! ```

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::nn::conv::Conv1d;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor, TensorData};
use neuron_nn::ConfigError;
use neuron_nn::error::{check_nonzero, check_positive};
use neuron_nn::memory_soma::{MemoryRecurrence, leaky_memory};
use neuron_nn::soma::causal_filter;

use crate::baselines::causal;

const NAME: &str = "BranchElmConfig";

/// The scale of the ELM's `custom_tanh`: `1.7159 · tanh(⅔ x)` (LeCun's scaled tanh).
pub const SCALED_TANH_GAIN: f64 = 1.7159;

/// Configuration of [`BranchElm`]; the defaults are the published 20-unit Branch-ELM's.
#[derive(Config, Debug, PartialEq)]
pub struct BranchElmConfig {
    /// Input rows (for NeuronIO's cell 1 278: 639 excitatory, then 639 inhibitory).
    pub synapses: usize,
    /// Branches. Default 45.
    #[config(default = 45)]
    pub branches: usize,
    /// Synapses per branch (windows overlap when `branches · per_branch > synapses`). Default 100.
    #[config(default = 100)]
    pub per_branch: usize,
    /// Memory units. Default 20.
    #[config(default = 20)]
    pub units: usize,
    /// Width of the MLP; `None`: twice the units (the code's default).
    #[config(default = "None")]
    pub hidden: Option<usize>,
    /// λ, how far one step can move the memory. Default 5.
    #[config(default = 5.0)]
    pub lambda: f64,
    /// Synaptic trace time constant, ms. Default 5.
    #[config(default = 5.0)]
    pub tau_synapse: f64,
    /// Shortest memory time constant, ms. Default 1.
    #[config(default = 1.0)]
    pub tau_min: f64,
    /// Longest memory time constant, ms. Default 150 (NeuronIO's models).
    #[config(default = 150.0)]
    pub tau_max: f64,
    /// Every synaptic weight `w̃` at the start. Default 0.5.
    #[config(default = 0.5)]
    pub synapse_weight: f64,
    /// Taps of the branch traces' filter. Default 50 (`e^(−50/5)`: 5e-5 of the trace left out).
    #[config(default = 50)]
    pub trace_taps: usize,
    /// What multiplies the input raster: the fit sets `1 / input_scale`, so the ELM reads
    /// spikes as 0 and 1, as in its paper. Default 1.
    #[config(default = 1.0)]
    pub input_gain: f64,
    /// How the memory's steps run. Default [`MemoryRecurrence::Auto`].
    #[config(default = "MemoryRecurrence::Auto")]
    pub recurrence: MemoryRecurrence,
}

/// The Branch-ELM (module docs): synapses on branches, a leaky memory, a linear readout.
#[derive(Module, Debug)]
pub struct BranchElm {
    /// `w̃`, `[branches · per_branch]` (ReLU'd in use; slots past the last row stay unused).
    pub synapse_weight: Param<Tensor<1>>,
    /// `W₁`, `[branches + units, hidden]` (branch rows first).
    pub mlp_in: Param<Tensor<2>>,
    /// `b₁`, `[hidden]`.
    pub mlp_in_bias: Param<Tensor<1>>,
    /// `W₂`, `[hidden, units]`.
    pub mlp_out: Param<Tensor<2>>,
    /// `b₂`, `[units]`.
    pub mlp_out_bias: Param<Tensor<1>>,
    /// `W_y, b_y`: memory → (spike logit, normalised voltage).
    pub head: Conv1d,
    /// The fixed parts.
    #[module(skip)]
    pub dynamics: ElmDynamics,
}

/// What a Branch-ELM does not learn: which routed slots are used, the decays, λ and the input's gain.
#[derive(Debug, Clone, PartialEq)]
pub struct ElmDynamics {
    /// Input rows.
    pub synapses: usize,
    /// 1 for a synapse on an input row, 0 for a slot past the last row.
    pub valid: Vec<f64>,
    /// Branches.
    pub branches: usize,
    /// `κ_s`.
    pub synapse_decay: f64,
    /// Taps of the trace filter.
    pub trace_taps: usize,
    /// `κ_m` per unit.
    pub memory_decay: Vec<f64>,
    /// λ.
    pub lambda: f64,
    /// What multiplies the input raster.
    pub input_gain: f64,
    /// How the memory's steps run.
    pub recurrence: MemoryRecurrence,
}

/// NeuronIO's routing of `inputs` rows onto `branches` windows of `per_branch` synapses (the
/// ELM's `create_interlocking_indices` and `create_overlapping_window_indices`): rows `i` and
/// `inputs/2 + i` (a segment's excitatory and inhibitory synapse) side by side, then window `b`
/// from `b · ⌈inputs / branches⌉`. Returns each synapse's row and whether it is one (a slot past
/// the end repeats the last row, unused).
pub fn neuronio_routing(inputs: usize, branches: usize, per_branch: usize) -> (Vec<usize>, Vec<bool>) {
    let interlocked: Vec<usize> = (0..inputs).map(|i| (i % 2) * (inputs / 2) + i / 2).collect();
    let stride = inputs.div_ceil(branches);
    (0..branches)
        .flat_map(|b| (0..per_branch).map(move |j| b * stride + j))
        .map(|slot| (interlocked[slot.min(inputs - 1)], slot < inputs))
        .unzip()
}

impl BranchElmConfig {
    /// The MLP's width.
    pub fn hidden_width(&self) -> usize {
        self.hidden.unwrap_or(2 * self.units)
    }

    /// Checks sizes, time constants and that every input row reaches a branch.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, v) in [
            ("synapses", self.synapses),
            ("branches", self.branches),
            ("per_branch", self.per_branch),
            ("units", self.units),
            ("hidden", self.hidden_width()),
            ("trace_taps", self.trace_taps),
        ] {
            check_nonzero(NAME, field, v)?;
        }
        for (field, v) in [
            ("lambda", self.lambda),
            ("tau_synapse", self.tau_synapse),
            ("tau_min", self.tau_min),
            ("tau_max", self.tau_max),
            ("synapse_weight", self.synapse_weight),
            ("input_gain", self.input_gain),
        ] {
            check_positive(NAME, field, v)?;
        }
        if self.tau_min >= self.tau_max {
            return Err(ConfigError::Inconsistent {
                module: NAME,
                message: format!("tau_min {} must be below tau_max {}", self.tau_min, self.tau_max),
            });
        }
        let stride = self.synapses.div_ceil(self.branches);
        if stride > self.per_branch {
            return Err(ConfigError::Inconsistent {
                module: NAME,
                message: format!(
                    "{} branches of {} synapses leave input rows unread: each branch starts {stride} rows after the last",
                    self.branches, self.per_branch
                ),
            });
        }
        Ok(())
    }

    /// The memory's time constants, as the ELM's code makes them: log-spaced from
    /// `tau_min + 1e-6` to `tau_max − 1e-6`.
    pub fn time_constants(&self) -> Vec<f64> {
        let (lo, hi) = ((self.tau_min + 1e-6).log10(), (self.tau_max - 1e-6).log10());
        let n = self.units;
        (0..n)
            .map(|j| {
                let f = if n == 1 { 0.0 } else { j as f64 / (n - 1) as f64 };
                10f64.powf(lo + (hi - lo) * f)
            })
            .collect()
    }

    /// Milliseconds of input before an output that it depends on: the trace's taps and three
    /// of the longest memory time constants (after which the earlier past weighs under 5 %).
    pub fn reach(&self) -> usize {
        self.trace_taps - 1 + (3.0 * self.tau_max).ceil() as usize
    }

    /// Trainable parameters (the unused slots' weights included, as the ELM counts them).
    pub fn num_params(&self) -> usize {
        let (b, u, h) = (self.branches, self.units, self.hidden_width());
        b * self.per_branch + (b + u) * h + h + h * u + u + 2 * u + 2
    }

    /// The fixed parts.
    pub fn dynamics(&self) -> ElmDynamics {
        let (_, valid) = neuronio_routing(self.synapses, self.branches, self.per_branch);
        ElmDynamics {
            synapses: self.synapses,
            valid: valid.into_iter().map(|v| if v { 1.0 } else { 0.0 }).collect(),
            branches: self.branches,
            synapse_decay: (-1.0 / self.tau_synapse).exp(),
            trace_taps: self.trace_taps,
            memory_decay: self.time_constants().iter().map(|tau| (-1.0 / tau).exp()).collect(),
            lambda: self.lambda,
            input_gain: self.input_gain,
            recurrence: self.recurrence,
        }
    }

    /// Builds the model, initialised as PyTorch's `nn.Linear` (uniform in `±1/√fan_in`,
    /// weights and offsets) and `w̃` at [`BranchElmConfig::synapse_weight`].
    pub fn init(&self, device: &Device) -> Result<BranchElm, ConfigError> {
        self.validate()?;
        let (b, u, h) = (self.branches, self.units, self.hidden_width());
        let torch_linear = |fan_in: usize| {
            let bound = 1.0 / (fan_in as f64).sqrt();
            Initializer::Uniform {
                min: -bound,
                max: bound,
            }
        };
        let first = torch_linear(b + u);
        let second = torch_linear(h);
        let head = causal(u, 2, 1, 1, device).map(&mut UniformInit(torch_linear(u)));
        Ok(BranchElm {
            synapse_weight: Initializer::Constant {
                value: self.synapse_weight,
            }
            .init([b * self.per_branch], device),
            mlp_in: first.init([b + u, h], device),
            mlp_in_bias: first.init([h], device),
            mlp_out: second.init([h, u], device),
            mlp_out_bias: second.init([u], device),
            head,
            dynamics: self.dynamics(),
        })
    }
}

/// Redraws every parameter from one initializer (the head as `nn.Linear` starts).
struct UniformInit(Initializer);

impl burn::module::ModuleMapper for UniformInit {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let t = param.val();
        let fresh: Param<Tensor<D>> = self.0.init(t.dims(), &t.device());
        fresh
    }
}

impl BranchElm {
    /// Input raster to (spike logit, normalised voltage).
    ///
    /// # Shapes
    ///
    /// - input: `[batch, synapses, time]`
    /// - output: `[batch, 2, time]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.head.forward(self.memory(x))
    }

    /// The memory `m` of every step.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, synapses, time]`
    /// - output: `[batch, units, time]`
    pub fn memory(&self, x: Tensor<3>) -> Tensor<3> {
        elm_memory(
            x,
            &self.dynamics,
            self.synapse_weight.val(),
            self.mlp_in.val(),
            self.mlp_in_bias.val(),
            self.mlp_out.val(),
            self.mlp_out_bias.val(),
        )
    }

    /// Input rows it reads.
    pub fn synapses(&self) -> usize {
        self.dynamics.synapses
    }
}

/// Every branch's summed synaptic trace `d_b[t] = Σ_k s_k[t]` (module docs).
///
/// # Shapes
///
/// - x: `[batch, synapses, time]`; synapse_weight `w̃`: `[branches · per_branch]`
/// - output: `[batch, branches, time]`
pub fn branch_traces(x: Tensor<3>, dynamics: &ElmDynamics, synapse_weight: Tensor<1>) -> Tensor<3> {
    let drive = branch_drive(x, dynamics, synapse_weight);
    // Tap l weighs the input l − (taps − 1) steps back: κ_s^(taps − 1 − l).
    let taps = dynamics.trace_taps;
    let kernel: Vec<f64> = (0..taps)
        .map(|l| dynamics.synapse_decay.powi((taps - 1 - l) as i32))
        .collect();
    let kernel = Tensor::<1>::from_data(TensorData::new(kernel, [taps]), &drive.device())
        .cast(drive.dtype())
        .reshape([1, 1, taps])
        .repeat_dim(0, dynamics.branches);
    causal_filter(drive, kernel, None)
}

/// Every branch's weighted input `Σ_k w_k x_k[t]` of a step, by NeuronIO's routing. Not a
/// gather of every synapse (a copy of the raster per branch a row is on, 3.5 on l5pc): the rows
/// are interleaved once and padded with zeros, and since branch `b` reads positions `b·stride +
/// j`, the `j`s in `[q·stride, (q + 1)·stride)` of every branch are one contiguous slice (a batched
/// matrix product per `q`).
fn branch_drive(x: Tensor<3>, dynamics: &ElmDynamics, synapse_weight: Tensor<1>) -> Tensor<3> {
    let [batch, rows, time] = x.dims();
    let (device, dtype) = (x.device(), x.dtype());
    let branches = dynamics.branches;
    let per_branch = dynamics.valid.len() / branches;
    let stride = rows.div_ceil(branches);
    let chunks = per_branch.div_ceil(stride);
    let padded = (chunks + branches - 1) * stride;
    let valid = Tensor::<1>::from_data(
        TensorData::new(dynamics.valid.clone(), [branches * per_branch]),
        &device,
    )
    .cast(x.dtype());
    let w = (relu(synapse_weight) * valid * dynamics.input_gain).reshape([branches, per_branch]);
    let w = Tensor::cat(
        vec![
            w,
            Tensor::<2>::zeros([branches, chunks * stride - per_branch], &device).cast(x.dtype()),
        ],
        1,
    );
    // Interleaved rows: 0, h, 1, h + 1, … with h = rows / 2 (an odd count repeats row h, as the
    // ELM's code does), time first, then zeros up to the last chunk's end.
    let (h, first) = (rows / 2, rows - rows / 2);
    let xt = x.swap_dims(1, 2);
    let mut second = xt.clone().narrow(2, h, h);
    if first > h {
        second = Tensor::cat(
            vec![second, Tensor::<3>::zeros([batch, time, 1], &device).cast(xt.dtype())],
            2,
        );
    }
    let interleaved = Tensor::stack::<4>(vec![xt.narrow(2, 0, first), second], 3)
        .reshape([batch, time, 2 * first])
        .narrow(2, 0, rows);
    let interleaved = Tensor::cat(
        vec![
            interleaved,
            Tensor::<3>::zeros([batch, time, padded - rows], &device).cast(dtype),
        ],
        2,
    )
    .reshape([batch * time, padded]);
    let drive = (0..chunks)
        .map(|q| {
            let slice = interleaved
                .clone()
                .narrow(1, q * stride, branches * stride)
                .reshape([batch * time, branches, stride])
                .swap_dims(0, 1);
            let wq = w.clone().narrow(1, q * stride, stride).reshape([branches, stride, 1]);
            slice.matmul(wq)
        })
        .reduce(|a, b| a + b)
        .expect("at least one chunk");
    drive.reshape([branches, batch, time]).swap_dims(0, 1)
}

/// The Branch-ELM's memory `m` of every step, from the input and its five learned tensors
/// (module docs); the functional form of [`BranchElm::memory`].
///
/// # Shapes
///
/// - x: `[batch, synapses, time]`; synapse_weight: `[branches · per_branch]`
/// - mlp_in: `[branches + units, hidden]`; mlp_in_bias: `[hidden]`
/// - mlp_out: `[hidden, units]`; mlp_out_bias: `[units]`
/// - output: `[batch, units, time]`
pub fn elm_memory(
    x: Tensor<3>,
    dynamics: &ElmDynamics,
    synapse_weight: Tensor<1>,
    mlp_in: Tensor<2>,
    mlp_in_bias: Tensor<1>,
    mlp_out: Tensor<2>,
    mlp_out_bias: Tensor<1>,
) -> Tensor<3> {
    let traces = branch_traces(x, dynamics, synapse_weight);
    let (b, units) = (dynamics.branches, dynamics.memory_decay.len());
    let hidden = mlp_in.dims()[1];
    let scale = SCALED_TANH_GAIN * dynamics.lambda;
    // The MLP reads κ_m ⊙ m = scale · κ_m ⊙ u: its memory rows absorb scale · κ_m.
    let row_scale: Vec<f64> = dynamics.memory_decay.iter().map(|k| scale * k).collect();
    let row_scale = Tensor::<1>::from_data(TensorData::new(row_scale, [units]), &traces.device())
        .cast(traces.dtype())
        .reshape([units, 1]);
    let w_in = Tensor::cat(
        vec![mlp_in.clone().narrow(0, 0, b), mlp_in.narrow(0, b, units) * row_scale],
        0,
    );
    let u = leaky_memory(
        traces,
        w_in.reshape([1, b + units, hidden]),
        mlp_in_bias.reshape([1, hidden]),
        (mlp_out * (2.0 / 3.0)).reshape([1, hidden, units]),
        (mlp_out_bias * (2.0 / 3.0)).reshape([1, units]),
        &dynamics.memory_decay,
        dynamics.recurrence,
    );
    u * scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_support::{assert_close_values, cpu_devices, seed_lock, uniform, values};

    #[test]
    fn routing_interleaves_each_segments_two_synapses_and_overlaps_windows() {
        // 6 rows (3 excitatory, then 3 inhibitory), 2 branches of 4: stride 3.
        let (rows, valid) = neuronio_routing(6, 2, 4);
        assert_eq!(rows, [0, 3, 1, 4, 4, 2, 5, 5]);
        assert_eq!(valid, [true, true, true, true, true, true, true, false]);
        // NeuronIO's cell: 45 windows of 100 from every 29th interleaved row; every row is read.
        let (rows, valid) = neuronio_routing(1278, 45, 100);
        assert_eq!(&rows[..4], [0, 639, 1, 640]);
        // The last four windows (from rows 1189, 1218, 1247, 1276) run past the rows.
        assert_eq!(valid.iter().filter(|v| !**v).count(), 11 + 40 + 69 + 98);
        let mut seen = vec![false; 1278];
        rows.iter()
            .zip(&valid)
            .filter(|(_, v)| **v)
            .for_each(|(&r, _)| seen[r] = true);
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn the_published_model_has_its_8002_parameters() {
        let config = BranchElmConfig::new(1278);
        assert_eq!(config.num_params(), 8002);
        let model = config.init(&Device::flex()).unwrap();
        assert_eq!(model.num_params(), 8002);
        assert_eq!(model.synapses(), 1278);
        // The code's time constants: 1 to 150 ms, log-spaced.
        let taus = config.time_constants();
        assert!((taus[0] - 1.0).abs() < 1e-5 && (taus[19] - 150.0).abs() < 1e-5);
        assert!(((taus[1] / taus[0]).ln() - 150f64.ln() / 19.0).abs() < 1e-6);
    }

    #[test]
    fn invalid_configs_are_refused_naming_the_field() {
        let e = BranchElmConfig::new(100)
            .with_units(0)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("BranchElmConfig") && e.contains("units"), "{e}");
        let e = BranchElmConfig::new(100)
            .with_lambda(f64::NAN)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("lambda") && e.contains("finite"), "{e}");
        let e = BranchElmConfig::new(100)
            .with_tau_min(200.0)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("tau_min 200 must be below tau_max 150"), "{e}");
        // 1000 rows on 4 branches of 100: each branch starts 250 rows on.
        let e = BranchElmConfig::new(1000)
            .with_branches(4)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("leave input rows unread") && e.contains("250"), "{e}");
    }

    /// The ELM's `forward` written out in f64 loops as its code runs it: a trace per synapse,
    /// the MLP on `[branch sums, κ_m ⊙ m]`, `custom_tanh`, λ, then `W_y`.
    fn reference(x: &[f64], [batch, rows, time]: [usize; 3], model: &BranchElm) -> Vec<f64> {
        let d = &model.dynamics;
        let w_s: Vec<f64> = values(model.synapse_weight.val()).iter().map(|w| w.max(0.0)).collect();
        let (w1, b1, w2, b2) = (
            values(model.mlp_in.val()),
            values(model.mlp_in_bias.val()),
            values(model.mlp_out.val()),
            values(model.mlp_out_bias.val()),
        );
        let (wy, by) = (
            values(model.head.weight.val()),
            values(model.head.bias.as_ref().unwrap().val()),
        );
        let (nb, u) = (d.branches, d.memory_decay.len());
        let h = b1.len();
        let per = d.valid.len() / nb;
        let (routing, _) = neuronio_routing(d.synapses, nb, per);
        let mut out = vec![0.0; batch * 2 * time];
        for bi in 0..batch {
            let mut s = vec![0.0; routing.len()];
            let mut m = vec![0.0; u];
            for t in 0..time {
                for (k, sk) in s.iter_mut().enumerate() {
                    let input = x[(bi * rows + routing[k]) * time + t] * d.valid[k] * d.input_gain;
                    *sk = d.synapse_decay * *sk + w_s[k] * input;
                }
                let z: Vec<f64> = (0..nb)
                    .map(|b| s[b * per..(b + 1) * per].iter().sum::<f64>())
                    .chain((0..u).map(|j| d.memory_decay[j] * m[j]))
                    .collect();
                let hid: Vec<f64> = (0..h)
                    .map(|q| (b1[q] + (0..nb + u).map(|r| z[r] * w1[r * h + q]).sum::<f64>()).max(0.0))
                    .collect();
                for j in 0..u {
                    let a = b2[j] + (0..h).map(|q| hid[q] * w2[q * u + j]).sum::<f64>();
                    let delta = SCALED_TANH_GAIN * (a * 2.0 / 3.0).tanh();
                    m[j] = d.memory_decay[j] * m[j] + d.lambda * (1.0 - d.memory_decay[j]) * delta;
                }
                for o in 0..2 {
                    out[(bi * 2 + o) * time + t] = by[o] + (0..u).map(|j| wy[o * u + j] * m[j]).sum::<f64>();
                }
            }
        }
        out
    }

    #[test]
    fn forward_is_the_elm_codes_dynamics_on_every_cpu_backend() {
        let _lock = seed_lock();
        for (name, device) in cpu_devices() {
            // 2 batches, 9 rows (odd: a row repeated, one unread by the interleaving, as the
            // code does), 3 branches of 5 (the last window runs past the rows), 40 ms. A short
            // trace time constant, so that its 30 taps leave out e^-15 of it.
            let config = BranchElmConfig::new(9)
                .with_branches(3)
                .with_per_branch(5)
                .with_units(4)
                .with_tau_synapse(2.0)
                .with_trace_taps(30)
                .with_tau_max(20.0)
                .with_input_gain(0.7);
            device.seed(5);
            let mut model = config.init(&device).unwrap();
            // Some synapses silenced by the ReLU, the rest varied.
            model.synapse_weight = Param::from_tensor(uniform([15], 6, &device));
            let shape = [2, 9, 40];
            let x = uniform(shape, 7, &device).greater_elem(0.3).float();
            let got = values(model.forward(x.clone()));
            let want = reference(&values(x), shape, &model);
            assert_close_values(&got, &want, 1e-4, &format!("Branch-ELM on {name}"));
        }
    }
}
