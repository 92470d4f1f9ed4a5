//! Inner loops for CPU kernels, written so that the compiler vectorises them: `neuron-nn`'s
//! fused ops (the dendrite loop, the spikes, the memory recurrence) and `biophys`'s step loops
//! share them. `exp`, `ln`, `sigmoid` and `softplus` are plain arithmetic (libm's are a call per
//! element, which keeps a loop scalar); `axpy` is independent per element, and `dot` keeps 32
//! partial sums (a single running sum is a dependency chain that float rules keep scalar).
//!
//! ```
//! use host_math::{HostFloat, dot, softplus};
//!
//! assert!((1.0f64.exp_v() - std::f64::consts::E).abs() < 1e-15);
//! assert!((softplus(0.0f32) - std::f32::consts::LN_2).abs() < 1e-7);
//! assert_eq!(dot(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
//! ```

use num_traits::Float;

/// The float types the fused ops run on (f32, f64), with the transcendental functions they
/// need written in plain arithmetic: libm's are a call per element, which keeps a loop scalar.
pub trait HostFloat: Float + Send + Sync {
    /// `eˣ` to within 2 ulp (inputs past the type's range are clamped: `e^±88` in f32, `e^±700`
    /// in f64).
    fn exp_v(self) -> Self;
    /// `ln x` to within 2 ulp for positive `x`; `ln 0 = −∞`, `ln ∞ = ∞`, NaN below 0.
    fn ln_v(self) -> Self;
}

impl HostFloat for f32 {
    /// Cody–Waite reduction `x = k·ln2 + r`, |r| ≤ ln2/2; `e^r` by Taylor to degree 7 (remainder
    /// below 6e-9); `2^k` built in the exponent bits; `k` rounded with the 1.5·2²³ trick.
    #[inline(always)]
    fn exp_v(self) -> f32 {
        const MAGIC: f32 = 12_582_912.0; // 1.5 · 2^23
        // Cephes' split of ln 2: a head exact in a few bits, so that k·LN2_HI is exact.
        const LN2_HI: f32 = 0.693_359_4;
        const LN2_LO: f32 = -2.121_944_4e-4;
        let x = self.clamp(-87.0, 88.0);
        let k = (x * std::f32::consts::LOG2_E + MAGIC) - MAGIC;
        let r = (x - k * LN2_HI) - k * LN2_LO;
        let mut p = 1.0 / 5040.0;
        for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
            p = p * r + c;
        }
        let scale = f32::from_bits(((k + 127.0 + MAGIC).to_bits() & 0xff) << 23);
        p * scale
    }

    /// Through the f64 logarithm (rounded once more).
    #[inline(always)]
    fn ln_v(self) -> f32 {
        (self as f64).ln_v() as f32
    }
}

impl HostFloat for f64 {
    /// As for f32 with fdlibm's split of ln 2 and Taylor to degree 13 (remainder below 1e-17),
    /// evaluated by Estrin's scheme: the same terms in a tree four multiplications deep rather
    /// than a chain of thirteen, so that the latency of one `exp` does not bound a loop of them.
    #[inline(always)]
    fn exp_v(self) -> f64 {
        const MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5 · 2^52
        const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
        const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
        const C: [f64; 14] = [
            1.0,
            1.0,
            0.5,
            1.0 / 6.0,
            1.0 / 24.0,
            1.0 / 120.0,
            1.0 / 720.0,
            1.0 / 5_040.0,
            1.0 / 40_320.0,
            1.0 / 362_880.0,
            1.0 / 3_628_800.0,
            1.0 / 39_916_800.0,
            1.0 / 479_001_600.0,
            1.0 / 6_227_020_800.0,
        ];
        let x = self.clamp(-700.0, 700.0);
        // `t` holds k = round(x·log2 e) in its low bits, so 2^k is an integer add and a shift
        // (the same bits as building it from k in floating point, off the busy add port).
        let t = x * std::f64::consts::LOG2_E + MAGIC;
        let k = t - MAGIC;
        let scale = f64::from_bits(t.to_bits().wrapping_add(1023) << 52);
        let r = (x - k * LN2_HI) - k * LN2_LO;
        let r2 = r * r;
        let r4 = r2 * r2;
        let r8 = r4 * r4;
        let pair = |i: usize| C[i] + C[i + 1] * r;
        let low = (pair(0) + pair(2) * r2) + (pair(4) + pair(6) * r2) * r4;
        let high = (pair(8) + pair(10) * r2) + pair(12) * r4;
        let p = low + high * r8;
        p * scale
    }

    /// fdlibm's `log`: `x = 2^k·m` with `m` in (√2/2, √2], `ln m = f − f²/2 + s·(f²/2 + R(s²))`
    /// with `f = m − 1`, `s = f/(2 + f)` and its degree-14 polynomial `R`; `k·ln 2` in two
    /// parts. Integers go through float bit patterns, not conversions, so it vectorises on AVX2.
    #[inline(always)]
    fn ln_v(self) -> f64 {
        // fdlibm's constants, by their bits.
        const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
        const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
        const LG: [f64; 7] = [
            f64::from_bits(0x3FE5_5555_5555_5593),
            f64::from_bits(0x3FD9_9999_9997_FA04),
            f64::from_bits(0x3FD2_4924_9422_9359),
            f64::from_bits(0x3FCC_71C5_1D8E_78AF),
            f64::from_bits(0x3FC7_4664_96CB_03DE),
            f64::from_bits(0x3FC3_9A09_D078_C69F),
            f64::from_bits(0x3FC2_F112_DF3E_5244),
        ];
        const TWO52: f64 = 4_503_599_627_370_496.0;
        let x = self;
        // Subnormals scaled into the normal range first (by 2^54).
        let tiny = x < f64::MIN_POSITIVE;
        let xs = if tiny { x * 18_014_398_509_481_984.0 } else { x };
        let bits = xs.to_bits();
        let exponent = f64::from_bits(((bits >> 52) & 0x7ff) | TWO52.to_bits()) - TWO52;
        let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
        let high = m > std::f64::consts::SQRT_2;
        let m = if high { m * 0.5 } else { m };
        let k = exponent - 1023.0 - if tiny { 54.0 } else { 0.0 } + if high { 1.0 } else { 0.0 };
        let f = m - 1.0;
        let hfsq = 0.5 * f * f;
        let s = f / (2.0 + f);
        let z = s * s;
        let w = z * z;
        let t1 = w * (LG[1] + w * (LG[3] + w * LG[5]));
        let t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])));
        let r = t2 + t1;
        let ln = k * LN2_HI - ((hfsq - (s * (hfsq + r) + k * LN2_LO)) - f);
        if x == 0.0 {
            f64::NEG_INFINITY
        } else if x == f64::INFINITY {
            x
        } else if x < 0.0 || x.is_nan() {
            f64::NAN
        } else {
            ln
        }
    }
}

/// The logistic function `1 / (1 + e^−x)`.
#[inline(always)]
pub fn sigmoid<T: HostFloat>(x: T) -> T {
    T::one() / (T::one() + (-x).exp_v())
}

/// `ln(1 + eˣ)`, as `max(x, 0) + ln(1 + e^−|x|)` (no overflow, and exact `x` far above 0).
#[inline(always)]
pub fn softplus<T: HostFloat>(x: T) -> T {
    x.max(T::zero()) + ln_1p_unit((-x.abs()).exp_v())
}

/// `ln(1 + u)` for `u` in [0, 1], as `2·atanh(s)` with `s = u / (2 + u)` in [0, 1/3]: its odd
/// series converges by 1/9 a term, with no cancellation at small `u`.
#[inline(always)]
fn ln_1p_unit<T: Float>(u: T) -> T {
    let s = u / (T::from(2.0).expect("2") + u);
    let s2 = s * s;
    // Terms s^(2k+1) / (2k+1) up to where (1/9)^k / (2k+1) is below the type's rounding.
    let terms = if T::epsilon() > T::from(1e-10).expect("small") {
        8
    } else {
        17
    };
    let mut p = T::zero();
    for k in (0..terms).rev() {
        p = p * s2 + T::one() / T::from(2 * k + 1).expect("small");
    }
    (s + s) * p
}

/// Defines `fn $name<T: $bound>(args) -> R` that runs the `#[inline(always)]` kernel `$kernel`
/// compiled for AVX2 where this x86-64 CPU has it, else as the default target compiles it (SSE2:
/// a quarter of a current core's vector width). The kernel is inlined into each of the two, so
/// its loops are compiled twice. The arithmetic is the same either way (no fused multiply-add),
/// so every CPU gets the same bits.
#[macro_export]
macro_rules! wide_kernel {
    ($(#[$meta:meta])* $vis:vis fn $name:ident<$T:ident: $bound:path>($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? = $kernel:path;) => {
        $(#[$meta])*
        #[inline]
        $vis fn $name<$T: $bound>($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2")]
                unsafe fn wide<$T: $bound>($($arg: $ty),*) $(-> $ret)? {
                    $kernel($($arg),*)
                }
                if $crate::wide_vectors() {
                    // SAFETY: the CPU has the features `wide` is compiled for (checked above).
                    return unsafe { wide($($arg),*) };
                }
            }
            $kernel($($arg),*)
        }
    };
}

wide_kernel! {
    /// `acc += a · x`, elementwise.
    pub fn axpy<T: Float>(acc: &mut [T], a: T, x: &[T]) = axpy_body;
}

wide_kernel! {
    /// `Σ a·b`, in four interleaved chains of eight partial sums: enough independent vector
    /// chains to hide the add latency (one chain runs at a quarter of the multiply rate). The
    /// order of the sum is fixed by the code, not the vector width, so every CPU gets the same
    /// bits.
    pub fn dot<T: Float>(a: &[T], b: &[T]) -> T = dot_body;
}

/// `Σ a`, in the same chains as [`dot`].
#[inline]
pub fn sum<T: Float>(a: &[T]) -> T {
    let (chunks, rest) = (a.chunks_exact(32), a.chunks_exact(32).remainder());
    let mut acc = [[T::zero(); 8]; 4];
    for c in chunks {
        for (k, chain) in acc.iter_mut().enumerate() {
            for i in 0..8 {
                chain[i] = chain[i] + c[8 * k + i];
            }
        }
    }
    rest.iter().fold(reduce(&acc), |s, &x| s + x)
}

/// Whether this x86-64 CPU has AVX2 (checked once, then cached by std); [`wide_kernel!`]'s test.
#[cfg(target_arch = "x86_64")]
#[doc(hidden)]
#[inline]
pub fn wide_vectors() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

#[inline(always)]
fn axpy_body<T: Float>(acc: &mut [T], a: T, x: &[T]) {
    for (o, &v) in acc.iter_mut().zip(x) {
        *o = *o + a * v;
    }
}

/// `acc[i] += x[i] · y[i]` for one vector of eight.
#[inline(always)]
fn mul_add8<T: Float>(acc: &mut [T; 8], x: &[T], y: &[T]) {
    let (x, y): (&[T; 8], &[T; 8]) = (x.try_into().expect("8"), y.try_into().expect("8"));
    for i in 0..8 {
        acc[i] = acc[i] + x[i] * y[i];
    }
}

#[inline(always)]
fn dot_body<T: Float>(a: &[T], b: &[T]) -> T {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    // Four chains of eight: each an independent vector register.
    let (mut a0, mut a1, mut a2, mut a3) = ([T::zero(); 8], [T::zero(); 8], [T::zero(); 8], [T::zero(); 8]);
    let (chunks_a, chunks_b) = (a.chunks_exact(32), b.chunks_exact(32));
    let (rest_a, rest_b) = (chunks_a.remainder(), chunks_b.remainder());
    for (x, y) in chunks_a.zip(chunks_b) {
        mul_add8(&mut a0, &x[..8], &y[..8]);
        mul_add8(&mut a1, &x[8..16], &y[8..16]);
        mul_add8(&mut a2, &x[16..24], &y[16..24]);
        mul_add8(&mut a3, &x[24..], &y[24..]);
    }
    let head = reduce(&[a0, a1, a2, a3]);
    rest_a.iter().zip(rest_b).fold(head, |s, (&x, &y)| s + x * y)
}

/// The sum of the four chains, in a fixed order. Kept out of line: inlined, the vectoriser
/// lays the chains out for this reduction and the main loop loses its full-width adds.
#[inline(never)]
fn reduce<T: Float>(acc: &[[T; 8]; 4]) -> T {
    let mut sum = [T::zero(); 8];
    for i in 0..8 {
        sum[i] = (acc[0][i] + acc[2][i]) + (acc[1][i] + acc[3][i]);
    }
    ((sum[0] + sum[4]) + (sum[1] + sum[5])) + ((sum[2] + sum[6]) + (sum[3] + sum[7]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_and_axpy_match_their_definitions_at_every_length() {
        for n in [0, 1, 7, 8, 9, 16, 29, 31, 32, 33, 64, 100] {
            let a: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
            let want: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - want).abs() < 1e-12, "n = {n}");
            let mut acc = b.clone();
            axpy(&mut acc, 2.0, &a);
            assert!((sum(&a) - a.iter().sum::<f64>()).abs() < 1e-12, "n = {n}");
            assert!(
                acc.iter()
                    .zip(a.iter().zip(&b))
                    .all(|(o, (x, y))| (o - (y + 2.0 * x)).abs() < 1e-15)
            );
        }
    }

    #[test]
    fn the_vectorisable_exp_agrees_with_libm_to_two_ulp() {
        let (mut worst32, mut worst64) = (0.0f64, 0.0f64);
        for i in -86_999..=87_999 {
            let x = i as f32 * 1e-3 + 1e-5 * (i % 7) as f32;
            let (a, b) = (x.exp_v(), x.exp());
            worst32 = worst32.max(((a - b) / b).abs() as f64);
            let x = i as f64 * 7.9e-3 + 1e-7 * (i % 7) as f64;
            let (a, b) = (x.exp_v(), x.exp());
            worst64 = worst64.max(((a - b) / b).abs());
        }
        assert!(worst32 < 2.0 * f32::EPSILON as f64, "f32: relative error {worst32:e}");
        assert!(worst64 < 2.0 * f64::EPSILON, "f64: relative error {worst64:e}");
        assert_eq!((0.0f32.exp_v(), 0.0f64.exp_v()), (1.0, 1.0));
        // Past the range: clamped, finite, never NaN.
        assert!(1e4f32.exp_v().is_finite() && (-1e4f32).exp_v() >= 0.0);
    }

    #[test]
    fn the_vectorisable_ln_agrees_with_libm_to_two_ulp() {
        let mut worst = 0.0f64;
        let mut check = |x: f64| {
            let (a, b) = (x.ln_v(), x.ln());
            let ulp = (b.abs() * f64::EPSILON).max(f64::MIN_POSITIVE);
            worst = worst.max((a - b).abs() / ulp);
        };
        // Across the whole range by exponent, densely near 1 (where ln is small).
        for e in -1074..1024 {
            for j in 0..23 {
                check(
                    2f64.powi(e.max(-1022))
                        * (1.0 + j as f64 / 23.0)
                        * if e < -1022 { 2f64.powi(e + 1022) } else { 1.0 },
                );
            }
        }
        for i in 1..200_000 {
            check(0.5 + i as f64 * 5e-6);
            check(1.0 + (i as f64 - 100_000.0) * 1e-12);
        }
        assert!(worst <= 2.0, "ln: {worst} ulp");
        assert_eq!(1.0f64.ln_v(), 0.0);
        assert_eq!(0.0f64.ln_v(), f64::NEG_INFINITY);
        assert_eq!(f64::INFINITY.ln_v(), f64::INFINITY);
        assert!((-1.0f64).ln_v().is_nan() && f64::NAN.ln_v().is_nan());
        assert!((2.0f32.ln_v() - std::f32::consts::LN_2).abs() <= f32::EPSILON);
    }

    #[test]
    fn softplus_and_sigmoid_agree_with_their_definitions() {
        for i in -4000..=4000 {
            let x = i as f64 * 0.01;
            let want = x.exp().ln_1p();
            assert!(
                (softplus(x) - want).abs() <= 4.0 * f64::EPSILON * want.max(1e-300),
                "f64 softplus({x})"
            );
            let x32 = x as f32;
            let want32 = (x32 as f64).exp().ln_1p() as f32;
            let got32 = softplus(x32);
            assert!(
                (got32 - want32).abs() <= 4.0 * f32::EPSILON * want32,
                "f32 softplus({x}): {got32} vs {want32}"
            );
            let s = 1.0 / (1.0 + (-x).exp());
            assert!((sigmoid(x) - s).abs() <= 4.0 * f64::EPSILON * s, "sigmoid({x})");
        }
        // Far below zero softplus is eˣ, far above it is x.
        assert!((softplus(-60.0f64) / (-60.0f64).exp() - 1.0).abs() < 1e-14);
        assert_eq!(softplus(1e6f32), 1e6);
    }

    #[test]
    fn the_wide_kernels_compute_the_portable_bits() {
        let a: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.11).cos()).collect();
        assert_eq!(dot(&a, &b).to_bits(), dot_body(&a, &b).to_bits());
        let (mut wide, mut portable) = (b.clone(), b.clone());
        axpy(&mut wide, 0.3, &a);
        axpy_body(&mut portable, 0.3, &a);
        assert_eq!(wide, portable);
    }
}
