//! Training and held-out data from the simulator: random initial states and injected currents,
//! then pairs `(V_t, V_{t+k})` with no current in between, so the target is a function of the
//! input alone.
//!
//! Every training step draws from its own stream ([`crate::rng::stream`]), so a resumed run
//! sees exactly the batches an uninterrupted run would.

use burn::tensor::{Device, Tensor, TensorData};
use rand::Rng as _;

use super::physics::CableConfig;
use crate::rng::{Rng, stream};

fn symmetric(rng: &mut Rng) -> f64 {
    rng.random_range(-1.0..1.0)
}

/// Stream number of the held-out set: far from every training step's stream (the step number).
pub const HELD_OUT_STREAM: u64 = u64::MAX;

/// How states are prepared before a pair is taken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preparation {
    /// Euler steps with a random injected current before `V_t`.
    pub steps: usize,
    /// Amplitude of the per-step drive `Δt·I`, uniform in `[-drive, drive]` per cell and step.
    pub drive: f64,
}

/// `count` states `[count, positions, dendrites]`: uniform initial voltages in `[-1, 1)`, then
/// `prep.steps` Euler steps with a fresh random current each step (synaptic input). The current
/// keeps every spatial frequency present, which keeps the kernel's least-squares problem well
/// conditioned; diffusion alone would smooth the high frequencies away.
pub fn prepared_states(cable: &CableConfig, prep: Preparation, count: usize, rng: &mut Rng) -> Vec<f64> {
    let n = cable.cells();
    let mut out = Vec::with_capacity(count * n);
    for _ in 0..count {
        let mut v: Vec<f64> = (0..n).map(|_| symmetric(rng)).collect();
        for _ in 0..prep.steps {
            let drive: Vec<f64> = (0..n).map(|_| prep.drive * symmetric(rng)).collect();
            v = cable.euler_step(&v, Some(&drive));
        }
        out.extend(v);
    }
    out
}

/// Each state of a `[count, positions, dendrites]` batch advanced `steps` Euler steps, no current.
pub fn advanced(cable: &CableConfig, states: &[f64], steps: usize) -> Vec<f64> {
    states
        .chunks(cable.cells())
        .flat_map(|v| cable.euler(v, steps))
        .collect()
}

/// A batch of states as a `[count, positions, dendrites]` tensor (f32 on most devices).
pub fn to_tensor(cable: &CableConfig, states: &[f64], device: &Device) -> Tensor<3> {
    let count = states.len() / cable.cells();
    Tensor::from_data(
        TensorData::new(
            states.iter().map(|&v| v as f32).collect::<Vec<f32>>(),
            [count, cable.positions, cable.dendrites],
        ),
        device,
    )
}

/// One training batch: inputs `V_t` and targets `V_{t+k}`, both `[batch, positions, dendrites]`,
/// drawn from stream `stream` of `seed`.
pub fn batch(
    cable: &CableConfig,
    prep: Preparation,
    k: usize,
    size: usize,
    seed: u64,
    stream_index: u64,
    device: &Device,
) -> (Tensor<3>, Tensor<3>) {
    let states = prepared_states(cable, prep, size, &mut stream(seed, stream_index));
    let targets = advanced(cable, &states, k);
    (to_tensor(cable, &states, device), to_tensor(cable, &targets, device))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_the_inputs_advanced_k_steps_without_current() {
        let cable = CableConfig::new().with_positions(20);
        let prep = Preparation { steps: 3, drive: 0.5 };
        let (x, y) = batch(&cable, prep, 2, 3, 7, 11, &Device::flex());
        let (x, y): (Vec<f64>, Vec<f64>) = (x.into_data().iter().collect(), y.into_data().iter().collect());
        for (xs, ys) in x.chunks(20).zip(y.chunks(20)) {
            let want = cable.euler(xs, 2);
            for (a, b) in ys.iter().zip(&want) {
                assert!((a - b).abs() < 1e-6, "{a} vs {b}");
            }
        }
        // The same stream gives the same batch.
        let (x2, _) = batch(&cable, prep, 2, 3, 7, 11, &Device::flex());
        assert_eq!(x, x2.into_data().iter::<f64>().collect::<Vec<_>>());
    }
}
