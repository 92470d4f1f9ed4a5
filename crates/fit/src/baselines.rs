//! The two baselines: a temporal convnet in Beniaguev et al.'s style (a causal `Conv1d` stack
//! over the raster) and the linear-nonlinear model (one causal filter per synapse, summed into
//! one drive; a sigmoid of an affine map of it for spikes, in the loss, and another affine map
//! for voltage), the floor any convnet must clear.
//!
//! Both read synapses by raster row: their input channels are synapse indices, so they only
//! score trials with the placement they were trained on.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig1d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use neuron_nn::ConfigError;
use neuron_nn::error::check_nonzero;

/// A causal convolution: `kernel` taps `dilation` apart, left padding only.
pub(crate) fn causal(inputs: usize, outputs: usize, kernel: usize, dilation: usize, device: &Device) -> Conv1d {
    Conv1dConfig::new(inputs, outputs, kernel)
        .with_dilation(dilation)
        .with_padding(PaddingConfig1d::Explicit((kernel - 1) * dilation, 0))
        .init(device)
}

/// Configuration of [`TemporalConvNet`].
#[derive(Config, Debug, PartialEq)]
pub struct TcnConfig {
    /// Input synapses (raster rows).
    pub synapses: usize,
    /// Channels of every hidden layer.
    pub width: usize,
    /// Hidden layers (the first reads the raster).
    pub layers: usize,
    /// Taps of the first layer. Default 35 (Beniaguev et al.'s NMDA network).
    #[config(default = 35)]
    pub first_kernel: usize,
    /// Taps of the later layers. Default 5.
    #[config(default = 5)]
    pub kernel: usize,
    /// Steps between the later layers' taps. Default 2.
    #[config(default = 2)]
    pub dilation: usize,
    /// A batch norm after every hidden layer's ReLU, as Beniaguev et al.'s networks have
    /// (`fit_CNN.py`); at inference it is a per-channel affine map. Default `None`: none, as
    /// `Some(false)` (an `Option` so that configs saved before it existed still load).
    pub batch_norm: Option<bool>,
}

/// Causal `Conv1d` layers with ReLU (each then batch-normalised if configured), then a 1×1
/// convolution to (spike logit, voltage).
#[derive(Module, Debug)]
pub struct TemporalConvNet {
    /// The hidden layers.
    pub layers: Vec<Conv1d>,
    /// One per hidden layer, or none (`TcnConfig::batch_norm`).
    pub norms: Vec<BatchNorm>,
    /// Hidden channels → 2 outputs.
    pub head: Conv1d,
}

impl TcnConfig {
    /// Checks sizes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        const NAME: &str = "TcnConfig";
        for (field, v) in [
            ("synapses", self.synapses),
            ("width", self.width),
            ("layers", self.layers),
            ("first_kernel", self.first_kernel),
            ("kernel", self.kernel),
            ("dilation", self.dilation),
        ] {
            check_nonzero(NAME, field, v)?;
        }
        Ok(())
    }

    /// Milliseconds of input before an output that it depends on.
    pub fn reach(&self) -> usize {
        self.first_kernel - 1 + (self.layers - 1) * (self.kernel - 1) * self.dilation
    }

    /// Builds the network.
    pub fn init(&self, device: &Device) -> Result<TemporalConvNet, ConfigError> {
        self.validate()?;
        let mut layers = vec![causal(self.synapses, self.width, self.first_kernel, 1, device)];
        for _ in 1..self.layers {
            layers.push(causal(self.width, self.width, self.kernel, self.dilation, device));
        }
        let norms = match self.batch_norm.unwrap_or(false) {
            true => (0..self.layers)
                .map(|_| BatchNormConfig::new(self.width).init(device))
                .collect(),
            false => Vec::new(),
        };
        Ok(TemporalConvNet {
            layers,
            norms,
            head: causal(self.width, 2, 1, 1, device),
        })
    }
}

impl TemporalConvNet {
    /// Input raster to (spike logit, normalised voltage). Batch norms use the batch's
    /// statistics on an autodiff device and their running ones otherwise (Burn's `BatchNorm`).
    ///
    /// # Shapes
    ///
    /// - input: `[batch, synapses, time]`
    /// - output: `[batch, 2, time]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let h = self.layers.iter().enumerate().fold(x, |h, (i, layer)| {
            let h = relu(layer.forward(h));
            match self.norms.get(i) {
                Some(norm) => norm.forward(h),
                None => h,
            }
        });
        self.head.forward(h)
    }

    /// Input synapses it reads.
    pub fn synapses(&self) -> usize {
        self.layers[0].weight.dims()[1]
    }
}

/// Configuration of [`LinearNonlinear`].
#[derive(Config, Debug, PartialEq)]
pub struct LinearNonlinearConfig {
    /// Input synapses (raster rows).
    pub synapses: usize,
    /// Length of each synapse's filter, ms. Default 80 (NMDA's decay and more).
    #[config(default = 80)]
    pub kernel: usize,
}

/// One causal filter per synapse, summed into a drive `u`; then `a·u + b` is the spike logit
/// (through a sigmoid in the loss) and `c·u + d` the voltage.
#[derive(Module, Debug)]
pub struct LinearNonlinear {
    /// `[1, synapses, kernel]` filters (no offset: the maps below have theirs).
    pub filters: Conv1d,
    /// The two affine maps of the drive, `[2, 1, 1]` with offsets.
    pub head: Conv1d,
}

impl LinearNonlinearConfig {
    /// Checks sizes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        check_nonzero("LinearNonlinearConfig", "synapses", self.synapses)?;
        check_nonzero("LinearNonlinearConfig", "kernel", self.kernel)
    }

    /// Milliseconds of input before an output that it depends on.
    pub fn reach(&self) -> usize {
        self.kernel - 1
    }

    /// Builds the model.
    pub fn init(&self, device: &Device) -> Result<LinearNonlinear, ConfigError> {
        self.validate()?;
        Ok(LinearNonlinear {
            filters: Conv1dConfig::new(self.synapses, 1, self.kernel)
                .with_padding(PaddingConfig1d::Explicit(self.kernel - 1, 0))
                .with_bias(false)
                .init(device),
            head: causal(1, 2, 1, 1, device),
        })
    }
}

impl LinearNonlinear {
    /// Input raster to (spike logit, normalised voltage).
    ///
    /// # Shapes
    ///
    /// - input: `[batch, synapses, time]`
    /// - output: `[batch, 2, time]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        self.head.forward(self.filters.forward(x))
    }

    /// Input synapses it reads.
    pub fn synapses(&self) -> usize {
        self.filters.weight.dims()[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::{ModuleMapper, Param};
    use burn::tensor::TensorData;

    /// Every weight made positive, so that no ReLU can hide an input's effect.
    struct Positive;

    impl ModuleMapper for Positive {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.map(|t| t.abs() + 0.01)
        }
    }

    /// The outputs that change when one input spike at `t0` is added: first and last ms.
    fn response(forward: impl Fn(Tensor<3>) -> Tensor<3>, synapses: usize, t0: usize, ms: usize) -> (usize, usize) {
        let device = Device::flex();
        let mut bits = vec![0.0f32; synapses * ms];
        let before: Vec<f64> = forward(Tensor::from_data(
            TensorData::new(bits.clone(), [1, synapses, ms]),
            &device,
        ))
        .into_data()
        .iter()
        .collect();
        bits[ms + t0] = 1.0; // synapse 1
        let after: Vec<f64> = forward(Tensor::from_data(TensorData::new(bits, [1, synapses, ms]), &device))
            .into_data()
            .iter()
            .collect();
        let changed: Vec<usize> = (0..ms).filter(|&t| (before[t] - after[t]).abs() > 1e-9).collect();
        (
            *changed.first().expect("a response"),
            *changed.last().expect("a response"),
        )
    }

    #[test]
    fn each_baseline_responds_from_the_spike_to_exactly_its_reach() {
        let device = Device::flex();
        let tcn = TcnConfig::new(3, 4, 3).with_first_kernel(4).with_kernel(3);
        // 3 taps of the first layer back, then 2 later layers of 2 taps 2 steps apart.
        assert_eq!(tcn.reach(), 3 + 2 * 2 * 2);
        let net = tcn.init(&device).unwrap().map(&mut Positive);
        assert_eq!(response(|x| net.forward(x), 3, 5, 30), (5, 5 + tcn.reach()));
        let ln = LinearNonlinearConfig::new(3).with_kernel(6);
        assert_eq!(ln.reach(), 5);
        let model = ln.init(&device).unwrap().map(&mut Positive);
        assert_eq!(response(|x| model.forward(x), 3, 5, 30), (5, 10));
        assert_eq!((net.synapses(), model.synapses()), (3, 3));
        let normed = tcn
            .clone()
            .with_batch_norm(Some(true))
            .init(&device)
            .unwrap()
            .map(&mut Positive);
        assert_eq!(response(|x| normed.forward(x), 3, 5, 30), (5, 5 + tcn.reach()));
    }

    #[test]
    fn batch_norm_follows_each_relu() {
        let device = Device::flex();
        let mut net = TcnConfig::new(2, 3, 1)
            .with_first_kernel(2)
            .with_batch_norm(Some(true))
            .init(&device)
            .unwrap();
        // Inference with fresh running statistics (mean 0, variance 1) and γ = −1: the norm
        // negates the ReLU's output; before the ReLU it would clip the negated drive instead.
        net.norms[0].gamma = Param::from_tensor(Tensor::full([3], -1.0, &device));
        let x = Tensor::<3>::random([1, 2, 12], burn::tensor::Distribution::Default, &device);
        let h = relu(net.layers[0].forward(x.clone()));
        let plain = TemporalConvNet {
            layers: net.layers.clone(),
            norms: Vec::new(),
            head: net.head.clone(),
        };
        let bias = net.head.bias.as_ref().unwrap().val().reshape([1, 2, 1]);
        let scale = -1.0 / (1.0 + net.norms[0].epsilon).sqrt();
        let want = (plain.forward(x.clone()) - bias.clone()) * scale + bias;
        let got = net.forward(x);
        let err: f64 = (got - want).abs().max().into_scalar();
        assert!(err < 1e-5, "{err}");
        assert!(h.max().into_scalar::<f32>() > 0.0, "some ReLU passes");
    }

    #[test]
    fn a_config_saved_before_batch_norm_loads_without_it() {
        let old = r#"{"synapses":3,"width":4,"layers":2,"first_kernel":35,"kernel":5,"dilation":2}"#;
        let config: TcnConfig = serde_json::from_str(old).unwrap();
        assert_eq!(config, TcnConfig::new(3, 4, 2));
        assert!(config.init(&Device::flex()).unwrap().norms.is_empty());
    }

    #[test]
    fn configs_without_size_are_refused() {
        let e = TcnConfig::new(3, 0, 2).validate().unwrap_err().to_string();
        assert!(e.contains("TcnConfig") && e.contains("width"), "{e}");
        let e = LinearNonlinearConfig::new(3)
            .with_kernel(0)
            .validate()
            .unwrap_err()
            .to_string();
        assert!(e.contains("kernel"), "{e}");
    }
}
