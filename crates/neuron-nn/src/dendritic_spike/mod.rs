//! Dendritic spike: a max-pool-like amplification of neighbouring branches.
//!
//! Essay, Part II ("dendritic spikes"): a dendritic spike opens voltage-gated channels in
//! neighbouring branches, "greatly amplifying the signal in all neighbouring branches ... raising
//! the electrochemical level in neighbouring dendrites closer to the level of the maximum input:
//! the effect is close to max-pooling", without overwriting them as max-pooling does.
//!
//! `y = x + a·(m − x)` with `a = g·σ((m − θ)/τ)` and `m` the maximum over a window of positions
//! of the same dendrite (and channel, time step). The spike fires (`a → g`) where the window's
//! maximum exceeds the threshold θ. With `g = 1` and `θ → −∞`, `y = m`: max-pooling with stride 1,
//! broadcast back to every position. With `g = 0`, `y = x`. `g` and `θ` are learnable; the
//! sharpness τ is fixed. A layer of `neurons` cells has one `g` and one `θ` per cell. On flex
//! (f32, f64) the window's maximum, the gate and the blend run as one op with its own backward
//! ([`fused`]); elsewhere, and on the capture device, as Burn's max pool and element-wise ops.

pub mod fused;

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::activation::sigmoid;
use burn::tensor::module::max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Tensor};

use crate::dendrites::same_padding;
use crate::error::{ConfigError, check_finite, check_nonzero, check_positive, expect_valid};

const NAME: &str = "DendriticSpike";

/// Configuration of [`DendriticSpike`].
#[derive(Config, Debug, PartialEq)]
pub struct DendriticSpikeConfig {
    /// Positions pooled around each position (centred, `same`). `None`, the default: the whole
    /// dendrite, so every position is pulled toward the dendrite's maximum.
    #[config(default = "None")]
    pub window: Option<usize>,
    /// Initial amplification gain `g` (1: a fired spike raises a branch fully to the maximum).
    #[config(default = 1.0)]
    pub gain: f64,
    /// Initial spike threshold `θ` on the window's maximum potential. Default 0.
    #[config(default = 0.0)]
    pub threshold: f64,
    /// Sharpness `τ` of the threshold (fixed). Default 1.
    #[config(default = 1.0)]
    pub temperature: f64,
    /// Neurons in the layer, each with its own `g` and `θ`. Default 1.
    #[config(default = 1)]
    pub neurons: usize,
}

/// Max-pool-like dendritic amplification with a learnable gain and threshold.
#[derive(Module, Debug)]
pub struct DendriticSpike {
    /// Amplification gain `g`, `[neurons]`.
    pub gain: Param<Tensor<1>>,
    /// Threshold `θ`, `[neurons]`.
    pub threshold: Param<Tensor<1>>,
    /// Sharpness `τ`.
    pub temperature: f64,
    /// Pooling window along positions (`None`: the whole dendrite).
    #[module(skip)]
    pub window: Option<usize>,
}

impl DendriticSpikeConfig {
    /// Checks the window and that the numbers are finite (τ > 0).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(w) = self.window {
            check_nonzero(NAME, "window", w)?;
        }
        check_nonzero(NAME, "neurons", self.neurons)?;
        check_finite(NAME, "gain", self.gain)?;
        check_finite(NAME, "threshold", self.threshold)?;
        check_positive(NAME, "temperature", self.temperature)
    }

    /// Builds the module. Panics with the `validate()` message on an invalid config.
    pub fn init(&self, device: &Device) -> DendriticSpike {
        expect_valid(self.validate());
        let full = |v: f64| Param::from_tensor(Tensor::<1>::full([self.neurons], v, device));
        DendriticSpike {
            gain: full(self.gain),
            threshold: full(self.threshold),
            temperature: self.temperature,
            window: self.window,
        }
    }
}

impl DendriticSpike {
    /// Applies the amplification.
    ///
    /// # Shapes
    ///
    /// - input: `[batch, neurons · channels, positions, dendrites, time]`
    /// - output: the same
    pub fn forward(&self, x: Tensor<5>) -> Tensor<5> {
        dendritic_spike(x, self.gain.val(), self.threshold.val(), self.temperature, self.window)
    }
}

/// Maximum over a centred window of `window` positions (axis 2), stride 1, broadcast to the
/// input's shape; `None` takes the whole axis.
///
/// # Shapes
///
/// - x: `[batch, channels, positions, dendrites, time]`
/// - output: the same
pub fn position_max(x: Tensor<5>, window: Option<usize>) -> Tensor<5> {
    let dims = x.dims();
    window_max(x, window).expand(dims)
}

/// [`position_max`] before its broadcast: one value per dendrite (size 1 along positions) where
/// the window sees the whole dendrite, so that what follows runs on a quarter of a granule
/// cell's elements and reads no broadcast view.
fn window_max(x: Tensor<5>, window: Option<usize>) -> Tensor<5> {
    let dims = x.dims();
    let [b, c, p, d, t] = dims;
    match window {
        Some(w) if w < 2 * p - 1 => {
            let (before, after) = same_padding(w);
            let opts = MaxPoolOptions::new([w, 1]).with_stride([1, 1]);
            let opts = MaxPoolOptions {
                padding: [(before, after), (0, 0)],
                ..opts
            };
            max_pool2d(x.reshape([b * c, 1, p, d * t]), opts).reshape(dims)
        }
        // A window this wide sees the whole dendrite from every position.
        _ => x.max_dim(2),
    }
}

/// The functional form: `y = (1 − a)·x + a·m`, `a = g·σ((m − θ)/τ)`, `m` = [`position_max`].
///
/// Written as a blend so that `a = 1` gives `m` and `a = 0` gives `x` exactly.
///
/// # Shapes
///
/// - x: `[batch, neurons · channels, positions, dendrites, time]`
/// - gain, threshold: `[neurons]`
/// - output: the same as x
pub fn dendritic_spike(
    x: Tensor<5>,
    gain: Tensor<1>,
    threshold: Tensor<1>,
    temperature: f64,
    window: Option<usize>,
) -> Tensor<5> {
    if fused::fused_spike_supported(&x) {
        return fused::fused_dendritic_spike(x, gain, threshold, temperature, window);
    }
    dendritic_spike_ops(x, gain, threshold, temperature, window)
}

/// [`dendritic_spike`] as Burn's max pool and element-wise ops: every backend, and the capture
/// device (whose counts charge each op).
///
/// # Shapes
///
/// As [`dendritic_spike`].
pub fn dendritic_spike_ops(
    x: Tensor<5>,
    gain: Tensor<1>,
    threshold: Tensor<1>,
    temperature: f64,
    window: Option<usize>,
) -> Tensor<5> {
    let channels = x.dims()[1];
    let m = window_max(x.clone(), window); // broadcasts against x
    // One value per neuron, repeated over its channels.
    let per_channel = |p: Tensor<1>| {
        let n = p.dims()[0];
        p.reshape([n, 1])
            .expand([n, channels / n])
            .reshape([1, channels, 1, 1, 1])
    };
    let a = sigmoid((m.clone() - per_channel(threshold)) / temperature) * per_channel(gain);
    x * (a.clone().neg() + 1.0) + m * a
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_support::{assert_close, cpu_devices, seed_lock, uniform, values};

    fn with(spike: DendriticSpike, gain: f32, threshold: f32, device: &Device) -> DendriticSpike {
        DendriticSpike {
            gain: Param::from_tensor(Tensor::from_floats([gain], device)),
            threshold: Param::from_tensor(Tensor::from_floats([threshold], device)),
            ..spike
        }
    }

    #[test]
    fn the_fused_spike_computes_burns_ops_forward_and_backward() {
        let _lock = seed_lock();
        let device = Device::flex().autodiff();
        // Windows of 1, 3 and 4 positions (even: one more after), and the whole dendrite; one
        // neuron and two (their own g and θ).
        for (window, neurons) in [(Some(1), 1), (Some(3), 2), (Some(4), 1), (None, 2)] {
            let shape = [2, 2 * neurons, 5, 3, 4];
            let probe = uniform(shape, 40, &device);
            let run = |fused: bool| {
                let x = (uniform(shape, 41, &device) * 4.0 - 2.0).require_grad();
                let g = (uniform([neurons], 42, &device) + 0.5).require_grad();
                let t = (uniform([neurons], 43, &device) - 0.5).require_grad();
                let y = if fused {
                    fused::fused_dendritic_spike(x.clone(), g.clone(), t.clone(), 0.7, window)
                } else {
                    dendritic_spike_ops(x.clone(), g.clone(), t.clone(), 0.7, window)
                };
                let grads = (y.clone() * probe.clone()).sum().backward();
                [
                    values(y.inner()),
                    values(x.grad(&grads).unwrap()),
                    values(g.grad(&grads).unwrap()),
                    values(t.grad(&grads).unwrap()),
                ]
            };
            let (fused, ops) = (run(true), run(false));
            for ((a, b), what) in
                fused
                    .iter()
                    .zip(&ops)
                    .zip(["output", "input gradient", "gain gradient", "threshold gradient"])
            {
                test_support::assert_close_values(a, b, 1e-5, &format!("window {window:?}, {neurons} neurons: {what}"));
            }
        }
    }

    #[test]
    fn full_gain_and_no_threshold_is_max_pool_broadcast_exactly() {
        let _lock = seed_lock();
        for (name, device) in cpu_devices() {
            let x = uniform([2, 2, 7, 3, 4], 5, &device);
            let xv = values(x.clone());
            for window in [None, Some(3), Some(4), Some(1)] {
                let spike = with(
                    DendriticSpikeConfig::new().with_window(window).init(&device),
                    1.0,
                    -1e30,
                    &device,
                );
                let y = values(spike.forward(x.clone()));
                for (n, v) in y.iter().enumerate() {
                    let (p, rest) = (n / 12 % 7, n % 12);
                    let base = n / 84 * 84;
                    let (lo, hi) = match window {
                        None => (0, 6),
                        Some(w) => {
                            let (b, a) = same_padding(w);
                            (p.saturating_sub(b), (p + a).min(6))
                        }
                    };
                    let want = (lo..=hi).map(|q| xv[base + q * 12 + rest]).fold(f64::MIN, f64::max);
                    assert_eq!(
                        *v, want,
                        "{name} window {window:?}: element {n} is not the window's maximum"
                    );
                }
            }
        }
    }

    #[test]
    fn each_neuron_uses_its_own_gain_and_threshold() {
        let _lock = seed_lock();
        let device = Device::flex();
        // Three neurons of two channels: full gain, no gain, full gain above a threshold no
        // position reaches.
        let spike = DendriticSpike {
            gain: Param::from_tensor(Tensor::from_floats([1.0, 0.0, 1.0], &device)),
            threshold: Param::from_tensor(Tensor::from_floats([-1e30, 0.0, 1e30], &device)),
            ..DendriticSpikeConfig::new().with_neurons(3).init(&device)
        };
        let x = uniform([2, 6, 4, 3, 2], 8, &device);
        let y = spike.forward(x.clone());
        let m = position_max(x.clone(), None);
        for c in 0..6 {
            let (got, want) = (
                y.clone().narrow(1, c, 1),
                if c < 2 { m.clone() } else { x.clone() }.narrow(1, c, 1),
            );
            assert_eq!(values(got), values(want), "channel {c} (neuron {})", c / 2);
        }
    }

    #[test]
    fn zero_gain_is_the_identity_exactly() {
        let _lock = seed_lock();
        let device = Device::flex();
        let x = uniform([1, 1, 5, 2, 3], 6, &device);
        let spike = with(
            DendriticSpikeConfig::new().with_window(Some(3)).init(&device),
            0.0,
            0.0,
            &device,
        );
        assert_eq!(values(spike.forward(x.clone())), values(x));
    }

    #[test]
    fn a_subthreshold_dendrite_is_barely_amplified_and_a_spiking_one_is() {
        let device = Device::flex();
        // One dendrite, positions [0, 0, 5]: max 5. Threshold 10 (τ = 0.5): a = σ(−10) ≈ 4.5e-5.
        let x = Tensor::<5>::from_floats([[[[[0.0]], [[0.0]], [[5.0]]]]], &device);
        let spike = with(
            DendriticSpikeConfig::new().with_temperature(0.5).init(&device),
            1.0,
            10.0,
            &device,
        );
        let y = values(spike.forward(x.clone()));
        assert!(y[0] < 1e-3 && y[0] > 0.0, "below threshold: {y:?}");
        let spike = with(
            DendriticSpikeConfig::new().with_temperature(0.5).init(&device),
            1.0,
            1.0,
            &device,
        );
        let y = values(spike.forward(x));
        // a = σ(8) ≈ 0.99966: pulled to 4.998.
        assert!(
            (y[0] - 5.0 * (1.0 / (1.0 + (-8.0f64).exp()))).abs() < 1e-4,
            "above threshold: {y:?}"
        );
        assert_eq!(y[2], 5.0, "the maximum itself stays");
    }

    #[test]
    fn gradients_reach_gain_and_threshold() {
        let _lock = seed_lock();
        let device = Device::flex().autodiff();
        let spike = DendriticSpikeConfig::new().with_window(Some(3)).init(&device);
        let x = uniform([1, 1, 4, 2, 3], 7, &device);
        let g = spike.forward(x).sum().backward();
        for (what, p) in [("gain", &spike.gain), ("threshold", &spike.threshold)] {
            let v = values(p.val().grad(&g).expect(what));
            assert!(v[0].is_finite() && v[0] != 0.0, "{what} gradient {v:?}");
        }
        assert_close(
            spike.gain.val().inner(),
            Tensor::from_floats([1.0], &Device::flex()),
            0.0,
            "gain init",
        );
    }

    #[test]
    fn invalid_configs_are_rejected_with_a_message() {
        assert!(
            DendriticSpikeConfig::new()
                .with_window(Some(0))
                .validate()
                .unwrap_err()
                .to_string()
                .contains("`window` must be at least 1")
        );
        let e = DendriticSpikeConfig::new()
            .with_temperature(f64::NAN)
            .validate()
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "DendriticSpike: `temperature` must be a finite number, got NaN"
        );
        assert!(DendriticSpikeConfig::new().with_temperature(0.0).validate().is_err());
    }
}
