//! A vectorisable `exp` for the step loops (libm's `exp` is a call per element, which stops a
//! loop over a batch's trials from vectorising), and what it costs in FLOPs.

/// FLOPs of one `exp`: range reduction (6), a degree-13 Horner polynomial (26), the scale (1).
pub const EXP_FLOPS: f64 = 33.0;

/// `e^x` for |x| ≤ 700 to within 2 ulp, in plain arithmetic so that loops over a batch's trials
/// vectorise (libm's `exp` is a call per element): x = k·ln2 + r with |r| ≤ ln2/2 (Cody–Waite),
/// `e^r` by its Taylor series to degree 13 (remainder below 1e-17), `2^k` built in the exponent
/// bits. Rounding to the nearest k uses the 1.5·2^52 trick, which needs no SSE4.1.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    const MAGIC: f64 = 6755399441055744.0; // 1.5 · 2^52
    // fdlibm's split of ln 2: a head with trailing zero bits (so k·LN2_HI is exact) and the rest.
    const LN2_HI: f64 = f64::from_bits(0x3FE6_2E42_FEE0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3DEA_39EF_3579_3C76);
    let x = x.clamp(-700.0, 700.0);
    let k = (x * std::f64::consts::LOG2_E + MAGIC) - MAGIC;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0;
    for c in [
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = p * r + c;
    }
    // 2^k: k + 1023 in the exponent field.
    let scale = f64::from_bits(((k + 1023.0 + MAGIC).to_bits() & 0x7ff) << 52);
    p * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vectorisable_exp_agrees_with_libm() {
        let mut worst: f64 = 0.0;
        for i in -700_000..=700_000 {
            let x = i as f64 * 1e-3 + 1e-7 * (i % 7) as f64;
            let (a, b) = (exp(x), x.exp());
            worst = worst.max(((a - b) / b).abs());
        }
        assert!(worst < 4.5e-16, "relative error {worst:e} (2 ulp is 4.4e-16)");
        assert_eq!(exp(0.0), 1.0);
    }
}
