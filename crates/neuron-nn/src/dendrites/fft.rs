//! The dendrite convolution through the Fourier transform ([`super::DendriteAlgorithm::Fft`]):
//! O(N log N) per transformed line instead of the kernel's size per output, for kernels as wide
//! as the tree (the Purkinje cell). `burn::signal`'s transforms: flex and the GPU backends have
//! them, ndarray does not; lengths are powers of two (zero-padded).

use burn::tensor::Tensor;
use burn::tensor::ops::PadMode;

use super::direct::{dilate_time, direct_conv, same_padding};

/// The work of [`fft_conv`] on one call: what its time estimate multiplies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FftWork {
    /// FLOPs: the transforms (2.5·N·log₂N per real line) and the spectral products.
    pub flops: f64,
    /// Transformed lines (each has a fixed cost beside its arithmetic).
    pub lines: f64,
    /// Elements of the element-wise spectral ops.
    pub spectral: f64,
}

/// FLOPs, transformed lines and spectral elements of [`fft_conv`] on input `x` and weight `w`
/// (dilation applied: the kernel as transformed, zeros included), in its order of transforms
/// with the counter's 2.5·N·log₂N per line.
pub fn fft_work(x: [usize; 5], w: [usize; 5]) -> FftWork {
    let [b, channels, p, d, t] = x;
    let [co, cg, kp, kd, kt] = w;
    let fold = t <= FFT_FOLD_TIME;
    let axes: Vec<(usize, usize, usize)> = [(p, kp), (d, kd), (t, kt)]
        .into_iter()
        .enumerate()
        .filter(|&(a, (_, k))| k > 1 && !(a == 2 && fold))
        .map(|(a, (n, k))| (a, n, fft_length(n, k)))
        .collect();
    if axes.is_empty() {
        return FftWork {
            flops: 0.0,
            lines: 0.0,
            spectral: 0.0,
        };
    }
    let per_line = |len: usize| 2.5 * len as f64 * (len as f64).log2();
    let (mut flops, mut lines) = (0.0, 0.0);
    // Forward transforms of a real tensor of `shape` times `count`: rfft along the last axis
    // listed, then two rffts (a complex transform) along each other one. Returns the spectrum's shape.
    let mut transform = |mut shape: [usize; 3], count: f64| {
        let (&(last, _, len), rest) = axes.split_last().expect("axes");
        let l = count * shape.iter().product::<usize>() as f64 / shape[last] as f64;
        flops += l * per_line(len);
        lines += l;
        shape[last] = len / 2 + 1;
        for &(a, _, len) in rest {
            let l = 2.0 * count * shape.iter().product::<usize>() as f64 / shape[a] as f64;
            flops += l * per_line(len);
            lines += l;
            shape[a] = len + 2; // complex_fft's folded bins
        }
        shape
    };
    let xs = transform([p, d, t], (b * channels) as f64);
    let _ = transform([kp, kd, kt], (co * cg) as f64);
    // Products, as fft_conv computes them: 6 real ops per complex product, 2 per complex sum
    // over input channels, and (time folded) 2 per accumulated tap.
    let spectral = (b * co) as f64 * xs.iter().product::<usize>() as f64; // per step when folded
    let per_product = if cg > 1 { 8.0 } else { 6.0 } * cg as f64;
    let (products, taps) = if fold {
        let taps = kt.min(t);
        let bins = spectral / t as f64;
        let pairs: usize = (0..taps).map(|s| t - s).sum();
        (
            per_product * pairs as f64 * bins + 2.0 * (taps - 1) as f64 * spectral,
            taps as f64,
        )
    } else {
        (per_product * spectral, 1.0)
    };
    flops += products;
    // The inverse: complex axes (each unwrapped to its outputs), then the real one.
    let (&(last, _, last_len), rest) = axes.split_last().expect("axes");
    let mut ys = xs;
    for &(a, n, len) in rest {
        let l = 2.0 * (b * co) as f64 * ys.iter().product::<usize>() as f64 / ys[a] as f64;
        flops += l * per_line(len);
        lines += l;
        ys[a] = n;
    }
    let l = (b * co) as f64 * ys.iter().product::<usize>() as f64 / ys[last] as f64;
    flops += l * per_line(last_len);
    lines += l;
    FftWork {
        flops,
        lines,
        spectral: spectral * cg as f64 * taps,
    }
}

/// A complex tensor as its real and imaginary parts.
type Complex<const D: usize> = (Tensor<D>, Tensor<D>);

/// The transform length along an axis of `n` samples and a kernel of `k` taps: the power of two
/// at or above `n + k − 1` (no wrap-around can reach an output), or `n` where `k = 1` (that axis
/// is not transformed: a one-tap kernel is a product along it).
pub fn fft_length(n: usize, k: usize) -> usize {
    if k == 1 { n } else { (n + k - 1).next_power_of_two() }
}

/// The complex FFT of `re + i·im` along `axis`, zero-padded to `n` (a power of two ≥ 2), from
/// two real FFTs, as `n + 2` bins in a folded order: bins `k = 0 ..= n/2`, then bins `−k` for
/// the same `k`. With `X`, `Y` the half spectra of the parts, `Z[k] = X[k] + iY[k]` and
/// `Z[−k] = conj(X[k]) + i·conj(Y[k])`, so no bin is mirrored (burn's `cfft` extends both half
/// spectra to full length first; flipping them cost more than the transforms). Bins `0` and
/// `n/2` appear twice. Pointwise products do not care about the order;
/// [`inverse_correlation`] reads it.
fn complex_fft<const D: usize>(re: Tensor<D>, im: Tensor<D>, axis: usize, n: usize) -> Complex<D> {
    let (xr, xi) = burn::signal::rfft(re, axis, Some(n));
    let (yr, yi) = burn::signal::rfft(im, axis, Some(n));
    let low = (xr.clone() - yi.clone(), xi.clone() + yr.clone());
    let high = (xr + yi, yr - xi);
    (
        Tensor::cat(vec![low.0, high.0], axis),
        Tensor::cat(vec![low.1, high.1], axis),
    )
}

/// The spectrum of a real tensor along `axes` (tensor dimension, transform length, zeros put
/// before the samples), zero-padded to those lengths: a real FFT along the last axis listed, then
/// complex FFTs (in [`complex_fft`]'s folded order) along the others, each long transformed axis
/// swapped to the tensor's last place first ([`transform_place`]; the leading zeros go in with
/// the same copy). The spectrum keeps the swapped layout (pointwise products do not care, as
/// long as both operands share it); [`inverse_correlation`] swaps back.
fn spectrum<const D: usize>(v: Tensor<D>, axes: &[(usize, usize, usize)]) -> Complex<D> {
    let delayed = |v: Tensor<D>, a: usize, len: usize, zeros: usize| {
        let at = transform_place::<D>(a, len);
        let v = v.swap_dims(a, at);
        if zeros == 0 {
            return v;
        }
        let mut pads = [(0, 0); D];
        pads[at] = (zeros, 0);
        v.pad(pads, PadMode::Constant(0.0))
    };
    let (&(last, n, zeros), rest) = axes.split_last().expect("at least one axis");
    let at = transform_place::<D>(last, n);
    let (mut re, mut im) = burn::signal::rfft(delayed(v, last, n, zeros), at, Some(n));
    for &(a, n, zeros) in rest {
        let at = transform_place::<D>(a, n);
        (re, im) = complex_fft(delayed(re, a, n, zeros), delayed(im, a, n, zeros), at, n);
    }
    (re, im)
}

/// Where [`spectrum`] transforms axis `a` of length `len`: in the last place from
/// [`FFT_CONTIGUOUS_LEN`] up (the swap's copy costs less than strided fibres), in place below.
fn transform_place<const D: usize>(a: usize, len: usize) -> usize {
    if len >= FFT_CONTIGUOUS_LEN { D - 1 } else { a }
}

/// Transforms at least this long run on contiguous fibres (see [`spectrum`]). Measured on flex:
/// for the Purkinje grid's 128-sample position transforms (stride 1025) it is within noise on
/// its own (their cost is per-fibre overhead more than the stride); for the fit's 16-sample ones
/// it made the path 60 % slower (the swap's copies), so only long axes move.
const FFT_CONTIGUOUS_LEN: usize = 64;

/// The inverse of [`spectrum`] for a circular cross-correlation, times 2 per complex axis (the
/// caller folds the halves into the kernel), cut to the first `n` outputs along each axis
/// (`axes`: dimension, transform length, outputs). Along a complex axis the spectrum `S` splits
/// into two Hermitian parts, `2A = S[k] + conj(S[−k])` and `2B = (S[k] − conj(S[−k]))/i`, whose
/// inverses are real: `2·IFFT(S) = irfft(2A) + i·irfft(2B)`, two real inverse transforms on the
/// folded bins as they are. The complex axes are inverted in the reverse order of [`spectrum`],
/// each where it was transformed, cut and swapped back, so the real inverse along the last axis
/// transforms only the kept rows.
fn inverse_correlation<const D: usize>((mut re, mut im): Complex<D>, axes: &[(usize, usize, usize)]) -> Tensor<D> {
    let (&(last, len_last, n_last), rest) = axes.split_last().expect("at least one axis");
    for &(a, len, n) in rest.iter().rev() {
        let at = transform_place::<D>(a, len);
        let half = len / 2 + 1;
        let (low_re, high_re) = (re.clone().narrow(at, 0, half), re.narrow(at, half, half));
        let (low_im, high_im) = (im.clone().narrow(at, 0, half), im.narrow(at, half, half));
        let (a_re, a_im) = (low_re.clone() + high_re.clone(), low_im.clone() - high_im.clone());
        let (b_re, b_im) = (low_im + high_im, high_re - low_re);
        let inverse = |r, i| {
            burn::signal::irfft(r, i, at, Some(len))
                .narrow(at, 0, n)
                .swap_dims(a, at)
        };
        re = inverse(a_re, a_im);
        im = inverse(b_re, b_im);
    }
    let at = transform_place::<D>(last, len_last);
    burn::signal::irfft(re, im, at, Some(len_last))
        .narrow(at, 0, n_last)
        .swap_dims(last, at)
}

/// The transformed `axes` (dimension, length, outputs) of [`fft_conv`], each with the zeros its
/// input is delayed by: `before[a − first]` for dimension `a` (the taps reaching back).
fn delayed(axes: &[(usize, usize, usize)], before: &[usize], first: usize) -> Vec<(usize, usize, usize)> {
    axes.iter().map(|&(a, len, _)| (a, len, before[a - first])).collect()
}

/// The kernel times ½ per complex axis of a spectrum over `axes` axes: [`inverse_correlation`]
/// returns twice the correlation per complex axis, and the kernel is the smallest tensor to fix.
fn halved(weight: Tensor<5>, axes: usize) -> Tensor<5> {
    if axes > 1 {
        weight * 0.5f64.powi(axes as i32 - 1)
    } else {
        weight
    }
}

/// Time windows up to this many steps are not transformed by [`fft_conv`]: time becomes a
/// channel axis (each output step a causal combination of the input steps in the spectral
/// domain), which avoids padding a short window to `npot(T + kt − 1)` (5 steps to 16).
pub const FFT_FOLD_TIME: usize = 16;

/// [`super::dendrite_conv`] through the Fourier transform ([`super::DendriteAlgorithm::Fft`]).
///
/// Per spatial axis with `k > 1` taps, `n` samples and `before` of them reaching back (`same`
/// padding), the input is delayed by `before` zeros, both signals are zero-padded to
/// [`fft_length`] `L`, and `y[u] = Σ_j w[j]·x[u + j − before] = c[u]` for the first `n` entries
/// of the circular cross-correlation `c = IFFT(FFT(x) · conj(FFT(w)))` of the delayed input;
/// `L ≥ n + k − 1` keeps them free of wrap-around. Time is transformed the same way (causal:
/// `before = kt − 1`) unless the window is at most [`FFT_FOLD_TIME`] steps: then output step `t`
/// sums `conj(FFT(w))[t' − t + kt − 1]` times the input's spectrum at step `t' ≤ t`. The spectral products are counted by flop-count
/// as arithmetic (6 FLOPs per complex product, 2 per complex addition) under every convention.
/// Time taps `dilation` apart are transformed as the dilated kernel, zeros included.
///
/// # Shapes
///
/// As [`super::dendrite_conv`].
pub fn fft_conv(x: Tensor<5>, weight: Tensor<5>, bias: Option<Tensor<1>>, dilation: usize) -> Tensor<5> {
    if dilation > 1 {
        // The FFT sees the dilated kernel itself, zeros between the taps.
        return fft_conv(x, dilate_time(weight, dilation), bias, 1);
    }
    let [b, channels, p, d, t] = x.dims();
    let [out_channels, group_channels, kp, kd, kt] = weight.dims();
    let groups = channels / group_channels;
    let og = out_channels / groups;
    if kp == 1 && kd == 1 {
        // No spatial extent to transform: the direct convolution is as cheap.
        return direct_conv(x, weight, bias, 1);
    }
    let device = x.device();
    let fold_time = t <= FFT_FOLD_TIME;
    let y = if fold_time {
        // Time leading ([B, C, T, P, D]): each time tap is a contiguous block of the spectrum.
        let spatial_axes: Vec<(usize, usize, usize)> = [(3, p, kp), (4, d, kd)]
            .into_iter()
            .filter(|&(_, _, k)| k > 1)
            .map(|(axis, n, k)| (axis, fft_length(n, k), n))
            .collect();
        let (xr, xi) = spectrum(
            x.permute([0, 1, 4, 2, 3]),
            &delayed(&spatial_axes, &[same_padding(kp).0, same_padding(kd).0], 3),
        );
        let (wr, wi) = spectrum(
            halved(weight, spatial_axes.len()).permute([0, 1, 4, 2, 3]),
            &delayed(&spatial_axes, &[0, 0], 3),
        );
        // The spectral axes, in `spectrum`'s layout.
        let [_, _, _, fp, fd] = xr.dims();
        let [_, _, _, wp, wd] = wr.dims();
        let (yr, yi) = crate::scope::counted_scope(&device, "spectral products", || {
            let x7 = |v: Tensor<5>| v.reshape([b, groups, 1, group_channels, t, fp, fd]);
            let (xr, xi) = (x7(xr), x7(xi));
            let mut acc: Option<(Tensor<6>, Tensor<6>)> = None;
            // Output step u sums input steps u − shift times conj(W) at tap kt − 1 − shift.
            for shift in 0..kt.min(t) {
                let l = kt - 1 - shift;
                let tap = |v: &Tensor<5>| {
                    v.clone()
                        .narrow(2, l, 1)
                        .reshape([1, groups, og, group_channels, 1, wp, wd])
                };
                let (kr, ki) = (tap(&wr), tap(&wi));
                let (ar, ai) = (xr.clone().narrow(4, 0, t - shift), xi.clone().narrow(4, 0, t - shift));
                let re = ar.clone() * kr.clone() + ai.clone() * ki.clone();
                let im = ai * kr - ar * ki;
                // Over the group's input channels, then delayed by `shift` steps.
                let delay = |v: Tensor<7>| {
                    let v = if group_channels > 1 { v.sum_dim(3) } else { v };
                    v.reshape([b, groups, og, t - shift, fp, fd])
                        .pad([(shift, 0), (0, 0), (0, 0)], PadMode::Constant(0.0))
                };
                let (re, im) = (delay(re), delay(im));
                acc = Some(match acc {
                    None => (re, im),
                    Some((sr, si)) => (sr + re, si + im),
                });
            }
            let (yr, yi) = acc.expect("at least one tap");
            let out = |v: Tensor<6>| v.reshape([b, out_channels, t, fp, fd]);
            (out(yr), out(yi))
        });
        inverse_correlation((yr, yi), &spatial_axes).permute([0, 1, 3, 4, 2])
    } else {
        let n = [p, d, t];
        let k = [kp, kd, kt];
        let all_axes: Vec<(usize, usize, usize)> = (0..3)
            .filter(|&a| k[a] > 1)
            .map(|a| (2 + a, fft_length(n[a], k[a]), n[a]))
            .collect();
        // Causal in time: every tap reaches back.
        let before = [same_padding(kp).0, same_padding(kd).0, kt - 1];
        let (xr, xi) = spectrum(x, &delayed(&all_axes, &before, 2));
        let (wr, wi) = spectrum(halved(weight, all_axes.len()), &delayed(&all_axes, &[0; 3], 2));
        // The spectral axes, in `spectrum`'s layout.
        let [_, _, fp, fd, ft] = xr.dims();
        let [_, _, wp, wd, wt] = wr.dims();
        let (yr, yi) = crate::scope::counted_scope(&device, "spectral products", || {
            // X · conj(W), summed over each group's input channels.
            let x7 = |v: Tensor<5>| v.reshape([b, groups, 1, group_channels, fp, fd, ft]);
            let w7 = |v: Tensor<5>| v.reshape([1, groups, og, group_channels, wp, wd, wt]);
            let (xr, xi, wr, wi) = (x7(xr), x7(xi), w7(wr), w7(wi));
            let re = xr.clone() * wr.clone() + xi.clone() * wi.clone();
            let im = xi * wr - xr * wi;
            let sum = |v: Tensor<7>| {
                let v = if group_channels > 1 { v.sum_dim(3) } else { v };
                v.reshape([b, out_channels, fp, fd, ft])
            };
            (sum(re), sum(im))
        });
        inverse_correlation((yr, yi), &all_axes)
    };
    match bias {
        Some(bias) => y + bias.reshape([1, out_channels, 1, 1, 1]),
        None => y,
    }
}
