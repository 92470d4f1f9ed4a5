//! Soma: a temporal filter of spatial size one, then the rate non-linearity.
//!
//! Essay, Part II: "the filter in the soma (cell body) can be thought of as an additional
//! temporal convolution filter of size 1 in the spatial domain ... a 1×1×5 convolution filter
//! (this would be the same for all neurons). Again a non-linearity reduces this to an
//! instantaneous firing rate". Causal: the soma cannot react to input it has not received.
//!
//! Beyond the essay, optionally: after-spike currents ([`SomaConfig::after_spike_taus`]). A cell
//! that has just fired is refractory and hyperpolarised; a feed-forward filter cannot know when
//! it fired. With after-spike currents the soma feeds its own expected spikes back (a GLM's
//! spike-history term), which makes it recurrent in time ([`after_spike_feedback`]).

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::activation::sigmoid;
use burn::tensor::module::conv1d;
use burn::tensor::ops::{ConvOptions, PadMode};
use burn::tensor::{Device, Tensor, TensorData};

use crate::error::{ConfigError, check_nonzero, check_positive, expect_valid};
use crate::rate::RateFunction;

const NAME: &str = "Soma";

/// Configuration of [`Soma`].
#[derive(Config, Debug, PartialEq)]
pub struct SomaConfig {
    /// Time steps the filter spans. Default 5 (the essay's 1×1×5).
    #[config(default = 5)]
    pub kernel: usize,
    /// A learnable resting offset (neurons fire spontaneously at rest). Default `true`.
    #[config(default = true)]
    pub bias: bool,
    /// Rate non-linearity. Default: [`RateFunction::Relu`].
    #[config(default = "RateFunction::Relu")]
    pub rate: RateFunction,
    /// Neurons in the layer, each with its own filter (a depthwise convolution). Default 1.
    #[config(default = 1)]
    pub neurons: usize,
    /// Time constants (in steps) of after-spike currents: every step the soma fires with
    /// probability σ(potential), and each expected spike adds a current that decays with each
    /// of these time constants, at a learned amplitude per neuron and current (negative:
    /// after-hyperpolarisation, refractoriness). Default empty: the essay's feed-forward soma.
    #[config(default = "Vec::new()")]
    pub after_spike_taus: Vec<f64>,
    /// Initialiser. Default: Kaiming uniform, as burn's `Conv1d`.
    #[config(default = "Initializer::KaimingUniform{gain:1.0/num_traits::Float::sqrt(3.0),fan_out_only:false}")]
    pub initializer: Initializer,
}

/// A causal 1×1×k temporal convolution and a rate non-linearity.
#[derive(Module, Debug)]
pub struct Soma {
    /// `[neurons, 1, kernel]`.
    pub weight: Param<Tensor<3>>,
    /// `[neurons]`, if configured.
    pub bias: Option<Param<Tensor<1>>>,
    /// Amplitudes of the after-spike currents, `[neurons, currents]`, if configured (starting
    /// at zero: the feed-forward soma).
    pub after_spike: Option<Param<Tensor<2>>>,
    /// Per-step decay `exp(−1/τ)` of each after-spike current.
    #[module(skip)]
    pub after_spike_decay: Vec<f64>,
    /// Rate non-linearity.
    #[module(skip)]
    pub rate: RateFunction,
}

impl SomaConfig {
    /// Checks the kernel size, the neuron count and that every after-spike time constant is
    /// finite and positive.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_nonzero(NAME, "kernel", self.kernel)?;
        check_nonzero(NAME, "neurons", self.neurons)?;
        for &tau in &self.after_spike_taus {
            check_positive(NAME, "after_spike_taus", tau)?;
        }
        Ok(())
    }

    /// Number of trainable parameters this config creates.
    pub fn num_params(&self) -> usize {
        self.neurons * (self.kernel + usize::from(self.bias) + self.after_spike_taus.len())
    }

    /// Builds the module. Panics with the `validate()` message on an invalid config.
    pub fn init(&self, device: &Device) -> Soma {
        expect_valid(self.validate());
        let (k, n) = (self.kernel, self.neurons);
        Soma {
            weight: self.initializer.init_with([n, 1, k], Some(k), Some(k), device),
            bias: self
                .bias
                .then(|| self.initializer.init_with([n], Some(k), Some(k), device)),
            after_spike: (!self.after_spike_taus.is_empty())
                .then(|| Initializer::Zeros.init([n, self.after_spike_taus.len()], device)),
            after_spike_decay: self.after_spike_taus.iter().map(|tau| (-1.0 / tau).exp()).collect(),
            rate: self.rate,
        }
    }
}

impl Soma {
    /// Summed dendritic drive to the soma's firing rate. With after-spike currents the soma is
    /// recurrent: it runs step by step through time (still causal).
    ///
    /// # Shapes
    ///
    /// - input: `[batch, neurons, time]`
    /// - output: `[batch, neurons, time]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let y = causal_filter(x, self.weight.val(), self.bias.as_ref().map(|b| b.val()));
        let y = match &self.after_spike {
            Some(amplitude) => after_spike_feedback(y, amplitude.val(), &self.after_spike_decay),
            None => y,
        };
        self.rate.apply(y)
    }
}

/// `values` as a tensor on `like`'s device, in its float type (f64 in the gradient checks).
pub(crate) fn constant_like<const D: usize>(values: &[f64], like: &Tensor<D>) -> Tensor<1> {
    Tensor::<1>::from_data(TensorData::new(values.to_vec(), [values.len()]), &like.device()).cast(like.dtype())
}

/// The soma's potential with after-spike currents fed back from its own expected spikes:
///
/// `v[b,n,t] = u[b,n,t] + Σ_j w[n,j] · a[b,n,j,t]`,
/// `a[b,n,j,t+1] = decay[j] · a[b,n,j,t] + σ(v[b,n,t])`, `a[·,·,·,0] = 0`,
///
/// where σ(v) is the probability of a spike in step t (escape noise), so each current is the
/// expected spike train filtered by `exp(−t/τ_j)`. Recurrent: one step at a time.
///
/// # Shapes
///
/// - u: `[batch, neurons, time]`; w: `[neurons, currents]`; decay: `currents` values
/// - output: `[batch, neurons, time]`
///
/// # Example
///
/// ```
/// use burn::tensor::{Device, Tensor};
/// use neuron_nn::soma::after_spike_feedback;
///
/// let device = Device::flex();
/// // One neuron at rest, one current halving every step, amplitude −2 (hyperpolarising).
/// let v = after_spike_feedback(Tensor::<3>::zeros([1, 1, 3], &device), Tensor::from_floats([[-2.0]], &device), &[0.5]);
/// let v: Vec<f32> = v.into_data().to_vec().unwrap();
/// // v[0] = 0 fires with σ(0) = ½, so v[1] = −2·½; then a[2] = ½·½ + σ(−1).
/// let a2 = 0.25 + 1.0 / (1.0 + 1.0_f32.exp());
/// assert!((v[0] - 0.0).abs() < 1e-6 && (v[1] + 1.0).abs() < 1e-6 && (v[2] + 2.0 * a2).abs() < 1e-6);
/// ```
pub fn after_spike_feedback(u: Tensor<3>, w: Tensor<2>, decay: &[f64]) -> Tensor<3> {
    let [batch, neurons, time] = u.dims();
    let currents = decay.len();
    assert_eq!(
        w.dims(),
        [neurons, currents],
        "{NAME}: after-spike amplitudes must be [neurons, currents] = [{neurons}, {currents}], got {:?}",
        w.dims()
    );
    let device = u.device();
    let decay = constant_like(decay, &u).reshape([1, 1, currents]);
    let w = w.unsqueeze_dim::<3>(0);
    let mut a = Tensor::<3>::zeros([batch, neurons, currents], &device).cast(u.dtype());
    let mut out = Vec::with_capacity(time);
    for t in 0..time {
        let v = u.clone().narrow(2, t, 1) + (a.clone() * w.clone()).sum_dim(2);
        a = a * decay.clone() + sigmoid(v.clone());
        out.push(v);
    }
    Tensor::cat(out, 2)
}

/// A causal temporal filter per neuron:
/// `y[b,n,t] = bias[n] + Σ_l w[n,0,l] · x[b, n, t + l − (k−1)]`, zero before time 0.
///
/// # Shapes
///
/// - x: `[batch, neurons, time]`; weight: `[neurons, 1, k]`; bias: `[neurons]`
/// - output: `[batch, neurons, time]`
pub fn causal_filter(x: Tensor<3>, weight: Tensor<3>, bias: Option<Tensor<1>>) -> Tensor<3> {
    let [neurons, _, k] = weight.dims();
    let x = x.pad([(k - 1, 0)], PadMode::Constant(0.0));
    conv1d(x, weight, bias, ConvOptions::new([1], [0], [1], neurons))
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_support::values;

    #[test]
    fn causal_filter_matches_the_definition() {
        let device = Device::flex();
        let x = Tensor::<2>::from_floats([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]], &device);
        let w = Tensor::<3>::from_floats([[[0.5, -1.0, 2.0]]], &device);
        let y = values(causal_filter(
            x.unsqueeze_dim(1),
            w,
            Some(Tensor::from_floats([0.25], &device)),
        ));
        // y[t] = 0.25 + 0.5 x[t−2] − x[t−1] + 2 x[t].
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        for (t, got) in y.iter().enumerate() {
            let at = |i: isize| if i < 0 { 0.0 } else { xs[i as usize] };
            let want = 0.25 + 0.5 * at(t as isize - 2) - at(t as isize - 1) + 2.0 * at(t as isize);
            assert!((got - want).abs() < 1e-6, "t = {t}: {got} vs {want}");
        }
    }

    #[test]
    fn output_is_a_non_negative_rate_and_causal() {
        let device = Device::flex();
        let soma = SomaConfig::new().init(&device);
        let x = Tensor::<3>::from_floats([[[1.0, -2.0, 3.0, 0.5, -1.0, 2.0, 0.0]]], &device);
        let y0 = values(soma.forward(x.clone()));
        assert!(y0.iter().all(|v| *v >= 0.0));
        let y1 = values(soma.forward(x + Tensor::<3>::from_floats([[[0.0, 0.0, 0.0, 0.0, 9.0, 0.0, 0.0]]], &device)));
        assert_eq!(y0[..4], y1[..4], "outputs before t = 4 must not see the input at t = 4");
    }

    /// The recurrence written out in f64 loops.
    fn after_spike_reference(u: &[f64], [b, n, t]: [usize; 3], w: &[f64], decay: &[f64]) -> Vec<f64> {
        let j = decay.len();
        let mut out = vec![0.0; u.len()];
        for bi in 0..b {
            for ni in 0..n {
                let mut a = vec![0.0; j];
                for ti in 0..t {
                    let i = (bi * n + ni) * t + ti;
                    let v = u[i] + (0..j).map(|k| w[ni * j + k] * a[k]).sum::<f64>();
                    let p = 1.0 / (1.0 + (-v).exp());
                    for k in 0..j {
                        a[k] = decay[k] * a[k] + p;
                    }
                    out[i] = v;
                }
            }
        }
        out
    }

    #[test]
    fn after_spike_feedback_matches_the_recurrence() {
        let device = Device::flex();
        let shape = [2, 3, 9];
        let u = test_support::uniform(shape, 3, &device) * 4.0 - 2.0;
        // Distinct amplitudes per neuron: hyperpolarising, mixed, depolarising.
        let w = [-1.5, -0.5, 0.8, -2.0, 0.3, 0.6];
        let decay = [(-1.0_f64 / 2.0).exp(), (-1.0_f64 / 20.0).exp()];
        let got = values(after_spike_feedback(
            u.clone(),
            Tensor::<1>::from_floats(w, &device).reshape([3, 2]),
            &decay,
        ));
        let want = after_spike_reference(&values(u), shape, &w, &decay);
        test_support::assert_close_values(&got, &want, 1e-5, "after-spike feedback");
    }

    #[test]
    fn after_spike_currents_start_as_the_feed_forward_soma_and_stay_causal() {
        let device = Device::flex();
        let config = SomaConfig::new()
            .with_neurons(2)
            .with_kernel(3)
            .with_rate(RateFunction::Identity);
        let plain = config.init(&device);
        let mut soma = config.clone().with_after_spike_taus(vec![4.0, 30.0]).init(&device);
        assert_eq!(soma.after_spike_decay, vec![(-0.25_f64).exp(), (-1.0_f64 / 30.0).exp()]);
        soma.weight = plain.weight.clone();
        soma.bias = plain.bias.clone();
        let x = test_support::uniform([1, 2, 12], 5, &device);
        // Zero amplitudes at init: the feed-forward soma, exactly.
        assert_eq!(values(soma.forward(x.clone())), values(plain.forward(x.clone())));

        soma.after_spike = Some(Param::from_tensor(Tensor::from_floats(
            [[-3.0, -1.0], [-2.0, 0.5]],
            &device,
        )));
        let kick = Tensor::<3>::zeros([1, 2, 12], &device)
            .slice_assign([0..1, 0..2, 4..5], Tensor::full([1, 2, 1], 9.0, &device));
        let (y0, y1) = (values(soma.forward(x.clone())), values(soma.forward(x + kick)));
        for n in 0..2 {
            let row = |y: &[f64]| y[n * 12..(n + 1) * 12].to_vec();
            let (a, b) = (row(&y0), row(&y1));
            assert_eq!(
                a[..4],
                b[..4],
                "neuron {n}: outputs before t = 4 must not see the input at t = 4"
            );
            // The filter spans 3 steps, so from t = 7 on only the fed-back spike at t = 4..6
            // can tell the two runs apart.
            assert!(
                a[7..].iter().zip(&b[7..]).any(|(p, q)| (p - q).abs() > 1e-3),
                "neuron {n}: no after-spike effect"
            );
        }
    }

    #[test]
    fn after_spike_time_constants_must_be_positive() {
        assert_eq!(
            SomaConfig::new()
                .with_after_spike_taus(vec![3.0, 0.0])
                .validate()
                .unwrap_err()
                .to_string(),
            "Soma: `after_spike_taus` must be greater than 0, got 0"
        );
        assert!(
            SomaConfig::new()
                .with_after_spike_taus(vec![f64::NAN])
                .validate()
                .is_err()
        );
        assert_eq!(
            SomaConfig::new()
                .with_after_spike_taus(vec![3.0, 10.0])
                .with_neurons(4)
                .num_params(),
            4 * (5 + 1 + 2)
        );
    }

    #[test]
    fn zero_kernel_is_rejected() {
        assert_eq!(
            SomaConfig::new().with_kernel(0).validate().unwrap_err().to_string(),
            "Soma: `kernel` must be at least 1, got 0"
        );
    }
}
