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

use crate::cable::{CableConfig, Kernel};

/// The learners' names, in the order [`Learners::propagate`] returns them.
pub const NAMES: [&str; 2] = ["dendrites", "conv"];

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
    /// Each learner's prediction of the state `k` steps later.
    ///
    /// # Shapes
    ///
    /// - v: `[batch, positions, dendrites]`
    /// - output: one `[batch, positions, dendrites]` per learner, in [`NAMES`] order
    pub fn propagate(&self, v: Tensor<3>) -> [Tensor<3>; 2] {
        [self.propagate_one(0, v.clone()), self.propagate_one(1, v)]
    }

    /// Learner `which`'s ([`NAMES`] order) prediction of the state `k` steps later; shapes as
    /// [`Learners::propagate`].
    pub fn propagate_one(&self, which: usize, v: Tensor<3>) -> Tensor<3> {
        let [b, p, d] = v.dims();
        match which {
            0 => self.dendrites.forward(v.reshape([b, p * d, 1])).reshape([b, p, d]),
            1 => self.conv.forward(v.reshape([b, 1, p, d])).reshape([b, p, d]),
            _ => panic!("Learners: no learner {which}; there are {}: {NAMES:?}", NAMES.len()),
        }
    }

    /// Each learner's kernel, read back to the host, in [`NAMES`] order.
    pub fn kernels(&self) -> [Kernel; 2] {
        let read = |dims: &[usize], t: Vec<f64>| Kernel {
            shape: [dims[2], dims[3]],
            taps: t,
        };
        let dw = self.dendrites.weight.val();
        let cw = self.conv.weight.val();
        [
            read(&dw.dims(), dw.into_data().iter().collect()),
            read(&cw.dims(), cw.into_data().iter().collect()),
        ]
    }
}
