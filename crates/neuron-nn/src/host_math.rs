//! The inner loops the fused ops (flex's dendrite loop, the memory recurrence) share, written
//! so that the compiler vectorises them: `axpy` is independent per element, and `dot` keeps eight
//! partial sums (a single running sum is a dependency chain that float rules keep scalar).

use num_traits::Float;

/// `acc += a · x`, elementwise.
#[inline]
pub fn axpy<T: Float>(acc: &mut [T], a: T, x: &[T]) {
    for (o, &v) in acc.iter_mut().zip(x) {
        *o = *o + a * v;
    }
}

/// `Σ a·b`, in eight interleaved partial sums.
#[inline]
pub fn dot<T: Float>(a: &[T], b: &[T]) -> T {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [T::zero(); 8];
    let (chunks_a, chunks_b) = (a.chunks_exact(8), b.chunks_exact(8));
    let (rest_a, rest_b) = (chunks_a.remainder(), chunks_b.remainder());
    for (x, y) in chunks_a.zip(chunks_b) {
        for i in 0..8 {
            acc[i] = acc[i] + x[i] * y[i];
        }
    }
    let head = (acc[0] + acc[4]) + (acc[1] + acc[5]) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    rest_a.iter().zip(rest_b).fold(head, |s, (&x, &y)| s + x * y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_and_axpy_match_their_definitions_at_every_length() {
        for n in [0, 1, 7, 8, 9, 16, 29] {
            let a: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
            let want: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - want).abs() < 1e-12, "n = {n}");
            let mut acc = b.clone();
            axpy(&mut acc, 2.0, &a);
            assert!(
                acc.iter()
                    .zip(a.iter().zip(&b))
                    .all(|(o, (x, y))| (o - (y + 2.0 * x)).abs() < 1e-15)
            );
        }
    }
}
