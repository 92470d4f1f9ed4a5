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
//! sharpness τ is fixed.

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
#[derive(Config, Debug)]
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
}

/// Max-pool-like dendritic amplification with a learnable gain and threshold.
#[derive(Module, Debug)]
pub struct DendriticSpike {
    /// Amplification gain `g`, `[1]`.
    pub gain: Param<Tensor<1>>,
    /// Threshold `θ`, `[1]`.
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
        check_finite(NAME, "gain", self.gain)?;
        check_finite(NAME, "threshold", self.threshold)?;
        check_positive(NAME, "temperature", self.temperature)
    }

    /// Builds the module. Panics with the `validate()` message on an invalid config.
    pub fn init(&self, device: &Device) -> DendriticSpike {
        expect_valid(self.validate());
        let scalar = |v: f64| Param::from_tensor(Tensor::<1>::from_floats([v as f32], device));
        DendriticSpike {
            gain: scalar(self.gain),
            threshold: scalar(self.threshold),
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
    /// - input: `[batch, channels, positions, dendrites, time]`
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
    let [b, c, p, d, t] = dims;
    match window {
        Some(w) if w < 2 * p - 1 => {
            let (before, after) = same_padding(w);
            let opts = MaxPoolOptions::new([w, 1]).with_stride([1, 1]);
            let opts = MaxPoolOptions { padding: [(before, after), (0, 0)], ..opts };
            max_pool2d(x.reshape([b * c, 1, p, d * t]), opts).reshape(dims)
        }
        // A window this wide sees the whole dendrite from every position.
        _ => x.max_dim(2).expand(dims),
    }
}

/// The functional form: `y = (1 − a)·x + a·m`, `a = g·σ((m − θ)/τ)`, `m` = [`position_max`].
///
/// Written as a blend so that `a = 1` gives `m` and `a = 0` gives `x` exactly.
///
/// # Shapes
///
/// - x: `[batch, channels, positions, dendrites, time]`; gain, threshold: `[1]`
/// - output: the same as x
pub fn dendritic_spike(x: Tensor<5>, gain: Tensor<1>, threshold: Tensor<1>, temperature: f64, window: Option<usize>) -> Tensor<5> {
    let m = position_max(x.clone(), window);
    let g = gain.reshape([1, 1, 1, 1, 1]);
    let a = sigmoid((m.clone() - threshold.reshape([1, 1, 1, 1, 1])) / temperature) * g;
    x * (a.clone().neg() + 1.0) + m * a
}
