//! The two dense paths of the dendrite convolution: burn's `conv3d` on the explicitly padded
//! input ([`direct_conv`]), and the dendrite axis turned into channels, one large GEMM
//! ([`expanded_conv`]); with the padding helpers every path shares.

use burn::tensor::Tensor;
use burn::tensor::module::conv3d;
use burn::tensor::ops::{ConvOptions, PadMode};

/// `same` padding of a kernel of width `k`: `(before, after)`, the extra tap after for even `k`.
pub fn same_padding(k: usize) -> (usize, usize) {
    let before = (k - 1) / 2;
    (before, k - 1 - before)
}

/// The weight shape a dilated kernel occupies: `(kt − 1)·dilation + 1` steps.
pub fn dilated_shape([o, c, kp, kd, kt]: [usize; 5], dilation: usize) -> [usize; 5] {
    [o, c, kp, kd, (kt - 1) * dilation + 1]
}

/// The kernel with `dilation − 1` zeros between its time taps: `[.., kt]` → `[.., (kt − 1)·δ + 1]`.
pub fn dilate_time(weight: Tensor<5>, dilation: usize) -> Tensor<5> {
    let [o, c, kp, kd, kt] = weight.dims();
    weight
        .unsqueeze_dim::<6>(5)
        .pad([(0, 0), (0, dilation - 1)], PadMode::Constant(0.0))
        .reshape([o, c, kp, kd, kt * dilation])
        .narrow(4, 0, (kt - 1) * dilation + 1)
}

/// [`super::dendrite_conv`] by burn's `conv3d` ([`super::DendriteAlgorithm::Direct`]): the
/// input padded (`same` in space, causal in time: conv3d rejects asymmetric padding), then an
/// unpadded grouped convolution with the time taps `dilation` apart.
///
/// # Shapes
///
/// As [`super::dendrite_conv`].
pub fn direct_conv(x: Tensor<5>, weight: Tensor<5>, bias: Option<Tensor<1>>, dilation: usize) -> Tensor<5> {
    let [_, group_channels, kp, kd, kt] = weight.dims();
    let groups = x.dims()[1] / group_channels;
    let (pp, pd) = (same_padding(kp), same_padding(kd));
    let x = x.pad(
        [(pp.0, pp.1), (pd.0, pd.1), ((kt - 1) * dilation, 0)],
        PadMode::Constant(0.0),
    );
    conv3d(
        x,
        weight,
        bias,
        ConvOptions::new([1, 1, 1], [0, 0, 0], [1, 1, dilation], groups),
    )
}

/// [`super::dendrite_conv`] as one GEMM per group ([`super::DendriteAlgorithm::Expanded`]):
/// the weight expanded along the dendrites ([`expand_dendrite_weight`]) times the im2col of the
/// input over positions × time.
///
/// # Shapes
///
/// As [`super::dendrite_conv`].
pub fn expanded_conv(x: Tensor<5>, weight: Tensor<5>, bias: Option<Tensor<1>>, dilation: usize) -> Tensor<5> {
    let [out_channels, group_channels, kp, _, kt] = weight.dims();
    let [batch, channels, positions, dendrites, time] = x.dims();
    let groups = channels / group_channels;
    let pp = same_padding(kp);
    // Columns (im2col): cols[b, g, (c, i, l, e), (p, t)] = xpad[b, (g, c), p+i, e, t+l·δ].
    let xpad = x
        .pad([(pp.0, pp.1), (0, 0), ((kt - 1) * dilation, 0)], PadMode::Constant(0.0))
        .swap_dims(2, 3);
    let taps: Vec<Tensor<6>> = (0..kp)
        .flat_map(|i| (0..kt).map(move |l| (i, l)))
        .map(|(i, l)| {
            xpad.clone()
                .narrow(3, i, positions)
                .narrow(4, l * dilation, time)
                .unsqueeze_dim(2)
        })
        .collect();
    let k = group_channels * kp * kt * dendrites;
    let cols = Tensor::cat(taps, 2).reshape([batch, groups, k, positions * time]);
    let w = expand_dendrite_weight(weight, dendrites).reshape([1, groups, out_channels / groups * dendrites, k]);
    let y = w
        .matmul(cols)
        .reshape([batch, out_channels * dendrites, positions * time]);
    let y = match bias {
        Some(b) => {
            y + b
                .reshape([1, out_channels, 1])
                .expand([1, out_channels, dendrites])
                .reshape([1, out_channels * dendrites, 1])
        }
        None => y,
    };
    // Rows came out in reverse dendrite order (see expand_dendrite_weight). The merge of the
    // swapped axes makes the result contiguous, as the direct path's is: burn-wgpu 0.22.1 sums a
    // size-1 axis of a swapped view wrongly (docs/benchmarks.md, GPU), and every caller reduces
    // over channels next. The copy is of the (small) output.
    y.reshape([batch, out_channels, dendrites, positions, time])
        .flip([2])
        .swap_dims(2, 3)
        .reshape([batch, out_channels, positions * dendrites, time])
        .reshape([batch, out_channels, positions, dendrites, time])
}

/// The dendrite kernel as a dense dendrite-to-dendrite weight, for [`expanded_conv`], with the
/// output dendrites in **reverse** order (row `s` is output dendrite `D − 1 − s`).
///
/// `out[(o, s), (c, i, l, d_in)] = w[o, c, i, d_in − (D−1−s) + pd, l]`, zero where that tap is
/// outside the kernel: per tap a Toeplitz (banded) matrix along the dendrites. Built without
/// gather: the taps, zero-padded to the `2D − 1` possible offsets, are unfolded into `D`
/// overlapping windows of `D` (a view), and one copy lays them out. Reversing the rows is what
/// makes the windows a plain unfold; the caller flips its (small) output back. The dendrite index
/// is innermost on both sides, so the copy moves whole rows; burn's `conv2d` weight layout (taps
/// innermost) needs an element-wise transpose of this 200 MB Purkinje matrix instead, which cost
/// more than the GEMM saved (docs/benchmarks.md).
///
/// # Shapes
///
/// - weight: `[out_channels, channels, kp, kd, kt]` with `kd ≤ dendrites`
/// - output: `[out_channels · dendrites, channels · kp · kt · dendrites]`
pub fn expand_dendrite_weight(weight: Tensor<5>, dendrites: usize) -> Tensor<2> {
    let [co, ci, kp, kd, kt] = weight.dims();
    let d = dendrites;
    assert!(kd <= d, "Dendrites: dendrite kernel {kd} wider than {d} dendrites");
    let before = same_padding(kd).0;
    let k = ci * kp * kt;
    // Index q holds offset d_in − d_out = q − (D−1), i.e. tap j = q − (D−1) + before.
    let offsets = weight
        .permute([0, 1, 2, 4, 3]) // [co, ci, kp, kt, kd]
        .reshape([co * k, kd])
        .pad([(d - 1 - before, d - kd + before)], PadMode::Constant(0.0)); // [co·k, 2D−1]
    // Window s, element e: offset s + e − (D−1) = d_in − d_out with d_in = e, d_out = D−1−s.
    let windows: Tensor<3> = offsets.unfold(1, d, 1); // [co·k, s, d_in]
    windows.reshape([co, k, d, d]).swap_dims(1, 2).reshape([co * d, k * d])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_puts_the_extra_tap_after() {
        assert_eq!(same_padding(1), (0, 0));
        assert_eq!(same_padding(3), (1, 1));
        assert_eq!(same_padding(4), (1, 2));
        assert_eq!(same_padding(10), (4, 5));
        assert_eq!(dilated_shape([2, 3, 4, 5, 6], 3), [2, 3, 4, 5, 16]);
    }
}
