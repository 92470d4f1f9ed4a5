//! The two models that learn the `k`-step propagator from data: a plain bias-free convolution
//! (what any deep-learning library offers) and the library's own [`Dendrites`] stage with a time
//! kernel of 1 (the layer users import). Both are trained together, on the same batches, by one
//! Adam: Adam is per parameter and the two losses share no parameters, so this is exactly two
//! separate runs, with one checkpoint.

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Tensor};
use neuron_nn::{Dendrites, DendritesConfig};

use super::physics::{CableConfig, Kernel};

/// Which model learns the propagator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Learner {
    /// `neuron_nn::Dendrites` with a time kernel of 1: the layer users import.
    Dendrites,
    /// burn's bias-free `Conv2d`: what any deep-learning library offers.
    Conv,
}

impl Learner {
    /// Every learner, in the order losses and reports list them.
    pub const ALL: [Learner; 2] = [Learner::Dendrites, Learner::Conv];

    /// The learner's name in reports and plots.
    pub fn name(self) -> &'static str {
        match self {
            Self::Dendrites => "dendrites",
            Self::Conv => "conv",
        }
    }

    /// Its position in [`Learner::ALL`] (and in every per-learner array).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Both learners of one run.
#[derive(Module, Debug)]
pub struct Learners {
    /// `neuron_nn::Dendrites`, kernel `[2k+1, 2k+1 or 1, 1]`: positions × dendrites × time.
    pub dendrites: Dendrites,
    /// `burn::nn::conv::Conv2d`, one channel, no bias, kernel `[2k+1, 2k+1 or 1]`, `same` padding.
    pub conv: Conv2d,
}

/// Kernel `[kp, kd]` of a `k`-step propagator on `cable`: `2k+1` along each diffusing axis.
pub fn kernel_shape(cable: &CableConfig, k: usize) -> [usize; 2] {
    [2 * k + 1, if cable.dims() == 2 { 2 * k + 1 } else { 1 }]
}

/// Builds both learners with their default (Kaiming) initialisation from the device's RNG.
/// Parameters are drawn now, not lazily at first use, so a seed fixes them.
pub fn init(cable: &CableConfig, k: usize, device: &Device) -> Learners {
    let [kp, kd] = kernel_shape(cable, k);
    let learners = Learners {
        dendrites: DendritesConfig::new(cable.positions, cable.dendrites, [kp, kd, 1]).init(device),
        conv: Conv2dConfig::new([1, 1], [kp, kd])
            .with_bias(false)
            .with_padding(PaddingConfig2d::Same)
            .init(device),
    };
    // Burn initialises parameters lazily; touch them in a fixed order.
    let _ = (learners.dendrites.weight.val(), learners.conv.weight.val());
    learners
}

impl Learners {
    /// A learner's prediction of the state `k` steps later.
    ///
    /// # Shapes
    ///
    /// - v: `[batch, positions, dendrites]`
    /// - output: `[batch, positions, dendrites]`
    pub fn propagate(&self, learner: Learner, v: Tensor<3>) -> Tensor<3> {
        let [b, p, d] = v.dims();
        match learner {
            Learner::Dendrites => self.dendrites.forward(v.reshape([b, p * d, 1])).reshape([b, p, d]),
            Learner::Conv => self.conv.forward(v.reshape([b, 1, p, d])).reshape([b, p, d]),
        }
    }

    /// A learner's kernel `[kp, kd]`, read back to the host.
    pub fn kernel(&self, learner: Learner) -> Kernel {
        // Dendrites: [neurons, out, in, kp, kd, kt = 1]; Conv2d: [out, in, kp, kd].
        let w: Tensor<2> = match learner {
            Learner::Dendrites => {
                let [_, _, _, kp, kd, _] = self.dendrites.weight.dims();
                self.dendrites.weight.val().reshape([kp, kd])
            }
            Learner::Conv => {
                let [_, _, kp, kd] = self.conv.weight.dims();
                self.conv.weight.val().reshape([kp, kd])
            }
        };
        Kernel {
            shape: w.dims(),
            taps: w.into_data().iter().collect(),
        }
    }
}
