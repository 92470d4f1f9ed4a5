//! Training and held-out data from the simulator: random initial states and injected currents,
//! then pairs `(V_t, V_{t+k})` with no current in between, so the target is a function of the
//! input alone.
//!
//! Randomness is ChaCha8 (`rand_chacha`), keyed by `(seed, stream)` through ChaCha's own stream
//! parameter: every training step draws from its own stream, so a resumed run sees exactly the
//! batches an uninterrupted run would, whatever happened earlier in the process (Burn's device
//! RNG state cannot be saved). ChaCha's output is fixed by its specification, so a seed gives
//! the same batches on every platform and version.

use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::cable::CableConfig;

/// The random stream of one training step (or of the held-out set).
pub type Rng = ChaCha8Rng;

/// The generator of stream `stream` under `seed` (streams are independent for a seed).
pub fn stream(seed: u64, stream: u64) -> Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

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
    stream: u64,
    device: &Device,
) -> (Tensor<3>, Tensor<3>) {
    let states = prepared_states(cable, prep, size, &mut self::stream(seed, stream));
    let targets = advanced(cable, &states, k);
    (to_tensor(cable, &states, device), to_tensor(cable, &targets, device))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        use rand::RngCore;
        let draw = |seed, s| {
            let mut r = stream(seed, s);
            (0..4).map(|_| r.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(draw(1, 5), draw(1, 5));
        assert_ne!(draw(1, 5), draw(1, 6));
        assert_ne!(draw(1, 5), draw(2, 5));
        let mut rng = stream(3, 0);
        let xs: Vec<f64> = (0..10_000).map(|_| symmetric(&mut rng)).collect();
        assert!(xs.iter().all(|x| (-1.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| x * x).sum::<f64>() / xs.len() as f64;
        // Uniform on [-1, 1): mean 0, variance 1/3; 10 000 draws put both within ~0.01.
        assert!(
            mean.abs() < 0.02 && (var - 1.0 / 3.0).abs() < 0.02,
            "mean {mean}, variance {var}"
        );
    }

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
