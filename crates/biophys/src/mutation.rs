//! Random damage to a file's bytes, for the readers' property tests (asc, SWC, npz).

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Applies 1 to `max − 1` edits to `m`, each a byte removed, changed or inserted; new bytes come
/// from `alphabet`, or are any byte when it is empty.
pub(crate) fn mutate(m: &mut Vec<u8>, rng: &mut ChaCha8Rng, alphabet: &[u8], max: usize) {
    let byte = |rng: &mut ChaCha8Rng| {
        if alphabet.is_empty() {
            rng.random()
        } else {
            alphabet[rng.random_range(0..alphabet.len())]
        }
    };
    for _ in 0..rng.random_range(1..max) {
        let i = rng.random_range(0..m.len().max(1));
        match rng.random_range(0..3) {
            0 if !m.is_empty() => {
                m.remove(i);
            }
            1 if !m.is_empty() => m[i] = byte(rng),
            _ => {
                let b = byte(rng);
                m.insert(i.min(m.len()), b);
            }
        }
    }
}
