//! Per-op rules: what each recorded operation is (matched on Burn's IR types, so a new Burn op
//! is a compile error here, not a silent zero), what it costs forward, and per operand backward.

use std::collections::HashMap;

use burn_ir::{
    ActivationOperationIr, BaseOperationIr, BoolOperationIr, DistributedOperationIr, FloatOperationIr, IntOperationIr,
    ModuleOperationIr, NumericOperationIr, OperationIr, PadModeIr, ScalarIr, TensorId, TensorIr,
};

use crate::convention::{Convention, Unit};

/// How an operation is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpCategory {
    /// `[.., m, k] @ [.., k, n]`: one multiply-add per `k` per output element. Backward: one
    /// forward per operand that needs a gradient.
    Matmul,
    /// Convolution (1-D to 3-D, any stride, padding, dilation, groups): `(C_in/groups) · taps`
    /// multiply-adds per output element, padded taps included (torch). Backward: grad-input and
    /// grad-weight each cost one forward; bias free. For grouped convolutions this is right where
    /// torch's counter multiplies grad-weight by the group count.
    Conv,
    /// Transposed convolution: `(C_out/groups) · taps` multiply-adds per *input* element.
    ConvTranspose,
    /// Burn's fused `linear` op: as a matmul.
    Linear,
    /// Scaled dot-product attention: `Lq·Lk·(d + d_v)` multiply-adds per batch and head
    /// (`QKᵀ` and the weighted sum of values); backward twice the forward (torch's rule).
    Attention,
    /// Fourier transforms (`burn::signal` rfft / irfft): 2.5·N·log₂N real FLOPs per transformed
    /// line of length N, under every convention; backward one transform of the same size.
    Fft,
    /// Elementwise arithmetic, comparisons, activations: `full` only, 1 per output element;
    /// backward 1 per output element when any input needs a gradient.
    Elementwise,
    /// Reductions, scans, softmax, norms: `full` only, 1 per input element (same backward rule).
    Reduction,
    /// Pooling: `full` only, 1 per output element (same backward rule).
    Pooling,
    /// Reshape, permute, slice, cat, pad, gather, select, cast...: 0 FLOPs; bytes counted.
    Movement,
    /// Tensor creation (random, zeros, data): the model's construction, not its forward.
    Creation,
    /// Drops and markers: neither FLOPs nor bytes.
    Bookkeeping,
    /// No rule: reported by name, never counted as zero silently.
    Unknown,
}

/// Matches `$op` against `$ty`'s variants, each listed once with its category; the match is
/// exhaustive, so a variant Burn adds fails to compile until it is given a rule.
macro_rules! rules {
    ($op:expr, $ty:ident { $($v:ident => $c:ident),* $(,)? }) => {
        match $op {
            $($ty::$v(..) => (stringify!($v), OpCategory::$c),)*
        }
    };
}

fn base(op: &BaseOperationIr) -> (&'static str, OpCategory) {
    rules!(op, BaseOperationIr {
        Reshape => Movement, SwapDims => Movement, Permute => Movement, Flip => Movement,
        Expand => Movement, Unfold => Movement, Slice => Movement, SliceAssign => Movement,
        Select => Movement, SelectAssign => Movement, MaskWhere => Elementwise, MaskFill => Elementwise,
        Gather => Movement, Scatter => Movement, ScatterNd => Movement, GatherNd => Movement,
        Equal => Elementwise, EqualElem => Elementwise, RepeatDim => Movement, Cat => Movement,
        Cast => Movement, Empty => Creation, Ones => Creation, Zeros => Creation,
        NotEqual => Elementwise, NotEqualElem => Elementwise, All => Reduction, Any => Reduction,
        AllDim => Reduction, AnyDim => Reduction,
    })
}

fn numeric(op: &NumericOperationIr) -> (&'static str, OpCategory) {
    rules!(op, NumericOperationIr {
        Add => Elementwise, AddScalar => Elementwise, Sub => Elementwise, SubScalar => Elementwise,
        Div => Elementwise, DivScalar => Elementwise, Rem => Elementwise, RemScalar => Elementwise,
        Mul => Elementwise, MulScalar => Elementwise, Abs => Elementwise, Full => Creation,
        MeanDim => Reduction, Mean => Reduction, Sum => Reduction, SumDim => Reduction,
        SumDims => Reduction, Prod => Reduction, ProdDim => Reduction, Greater => Elementwise,
        GreaterElem => Elementwise, GreaterEqual => Elementwise, GreaterEqualElem => Elementwise,
        Lower => Elementwise, LowerElem => Elementwise, LowerEqual => Elementwise,
        LowerEqualElem => Elementwise, ArgMax => Reduction, ArgTopK => Reduction, TopK => Reduction,
        TopKWithIndices => Reduction, ArgMin => Reduction, Max => Reduction,
        MaxDimWithIndices => Reduction, MinDimWithIndices => Reduction, Min => Reduction,
        MaxDim => Reduction, MinDim => Reduction, MaxAbs => Reduction, MaxAbsDim => Reduction,
        Clamp => Elementwise, IntRandom => Creation, Powi => Elementwise, PowiScalar => Elementwise,
        CumSum => Reduction, CumProd => Reduction, CumMin => Reduction, CumMax => Reduction,
        Neg => Elementwise, Sign => Elementwise, ClampMin => Elementwise, ClampMax => Elementwise,
        Sort => Reduction, SortWithIndices => Reduction, ArgSort => Reduction, Pad => Movement,
    })
}

fn float(op: &FloatOperationIr) -> (&'static str, OpCategory) {
    rules!(op, FloatOperationIr {
        Exp => Elementwise, Log => Elementwise, Log1p => Elementwise, Erf => Elementwise,
        PowfScalar => Elementwise, Sqrt => Elementwise, Cos => Elementwise, Cosh => Elementwise,
        Sin => Elementwise, Sinh => Elementwise, Tan => Elementwise, Tanh => Elementwise,
        ArcCos => Elementwise, ArcCosh => Elementwise, ArcSin => Elementwise, ArcSinh => Elementwise,
        ArcTan => Elementwise, ArcTanh => Elementwise, ArcTan2 => Elementwise, Round => Elementwise,
        Floor => Elementwise, Ceil => Elementwise, Trunc => Elementwise, IntoInt => Movement,
        Matmul => Matmul, Cross => Unknown, Random => Creation, Recip => Elementwise,
        IsNan => Elementwise, IsInf => Elementwise, Quantize => Unknown, Dequantize => Unknown,
        GridSample2d => Unknown, Powf => Elementwise, Hypot => Elementwise,
    })
}

fn int(op: &IntOperationIr) -> (&'static str, OpCategory) {
    rules!(op, IntOperationIr {
        IntoFloat => Movement, BitwiseAnd => Elementwise, BitwiseAndScalar => Elementwise,
        BitwiseOr => Elementwise, BitwiseOrScalar => Elementwise, BitwiseXor => Elementwise,
        BitwiseXorScalar => Elementwise, BitwiseNot => Elementwise, BitwiseLeftShift => Elementwise,
        BitwiseLeftShiftScalar => Elementwise, BitwiseRightShift => Elementwise,
        BitwiseRightShiftScalar => Elementwise, Matmul => Matmul,
    })
}

fn boolean(op: &BoolOperationIr) -> (&'static str, OpCategory) {
    rules!(op, BoolOperationIr {
        IntoFloat => Movement, IntoInt => Movement, Not => Elementwise, And => Elementwise,
        Or => Elementwise, Xor => Elementwise,
    })
}

fn activation(op: &ActivationOperationIr) -> (&'static str, OpCategory) {
    rules!(op, ActivationOperationIr {
        Relu => Elementwise, ReluBackward => Elementwise, LeakyRelu => Elementwise, PRelu => Elementwise,
        Gelu => Elementwise, GeluBackward => Elementwise, Sigmoid => Elementwise,
        SigmoidBackward => Elementwise, HardSigmoid => Elementwise, LogSigmoid => Elementwise,
        LogSigmoidBackward => Elementwise, Softmax => Reduction, LogSoftmax => Reduction,
        Softmin => Reduction,
    })
}

fn module(op: &ModuleOperationIr) -> (&'static str, OpCategory) {
    rules!(op, ModuleOperationIr {
        BatchNorm => Reduction, Embedding => Movement, EmbeddingBackward => Movement, Linear => Linear,
        LinearXBackward => Unknown, LinearWeightBackward => Unknown, LinearBiasBackward => Unknown,
        Conv1d => Conv, Conv1dXBackward => Unknown, Conv1dWeightBackward => Unknown,
        Conv1dBiasBackward => Unknown, Conv2d => Conv, Conv2dXBackward => Unknown,
        Conv2dWeightBackward => Unknown, Conv2dBiasBackward => Unknown, Conv3d => Conv,
        Conv3dXBackward => Unknown, Conv3dWeightBackward => Unknown, Conv3dBiasBackward => Unknown,
        DeformableConv2d => Unknown, DeformableConv2dBackward => Unknown,
        ConvTranspose1d => ConvTranspose, ConvTranspose2d => ConvTranspose,
        ConvTranspose3d => ConvTranspose, AvgPool1d => Pooling, AvgPool2d => Pooling,
        AvgPool1dBackward => Pooling, AvgPool2dBackward => Pooling, AdaptiveAvgPool1d => Pooling,
        AdaptiveAvgPool2d => Pooling, AdaptiveAvgPool1dBackward => Pooling,
        AdaptiveAvgPool2dBackward => Pooling, AdaptiveAvgPool3d => Pooling,
        AdaptiveAvgPool3dBackward => Pooling, MaxPool1d => Pooling, MaxPool1dWithIndices => Pooling,
        MaxPool1dWithIndicesBackward => Pooling, MaxPool2d => Pooling, MaxPool2dWithIndices => Pooling,
        MaxPool2dWithIndicesBackward => Pooling, Interpolate => Unknown, InterpolateBackward => Unknown,
        Attention => Attention, CtcLoss => Unknown, CtcLossBackward => Unknown, LayerNorm => Reduction,
        Unfold4d => Movement, ConvTranspose1dWeightBackward => Unknown,
        ConvTranspose1dBiasBackward => Unknown, ConvTranspose2dWeightBackward => Unknown,
        ConvTranspose2dBiasBackward => Unknown, ConvTranspose3dWeightBackward => Unknown,
        ConvTranspose3dBiasBackward => Unknown,
    })
}

/// Id of `burn::signal`'s forward real FFT as recorded on the capture device.
pub const RFFT: &str = "signal::rfft";
/// Id of `burn::signal`'s inverse real FFT.
pub const IRFFT: &str = "signal::irfft";

/// The op's name (`Matmul`, `Conv3d`, `AddScalar`, `signal::rfft`, ...) and its category.
pub fn classify(op: &OperationIr) -> (String, OpCategory) {
    let (name, category) = match op {
        OperationIr::BaseFloat(o) | OperationIr::BaseInt(o) | OperationIr::BaseBool(o) => base(o),
        OperationIr::NumericFloat(_, o) | OperationIr::NumericInt(_, o) => numeric(o),
        OperationIr::Bool(o) => boolean(o),
        OperationIr::Int(o) => int(o),
        OperationIr::Float(_, o) => float(o),
        OperationIr::Module(o) => module(o),
        OperationIr::Activation(o) => activation(o),
        OperationIr::Init(_) => ("Init", OpCategory::Creation),
        OperationIr::Drop(_) => ("Drop", OpCategory::Bookkeeping),
        OperationIr::Distributed(d) => match d {
            DistributedOperationIr::AllReduce(_) => ("AllReduce", OpCategory::Unknown),
            DistributedOperationIr::SyncCollective => ("SyncCollective", OpCategory::Bookkeeping),
        },
        OperationIr::Custom(c) => {
            return match c.id.as_str() {
                RFFT | IRFFT => (c.id.clone(), OpCategory::Fft),
                id if id.starts_with(crate::MARK_PREFIX) => (id.to_string(), OpCategory::Bookkeeping),
                id => (format!("Custom({id})"), OpCategory::Unknown),
            };
        }
    };
    (name.to_string(), category)
}

fn elems(t: &TensorIr) -> u128 {
    t.shape.iter().map(|&d| d as u128).product()
}

fn mul(a: u128, b: u128) -> u128 {
    a.checked_mul(b).expect("flop-count: count overflows u128")
}

/// Zero-padded tensors: id → (shape before padding, `(before, after)` per dimension).
pub(crate) type Pads = HashMap<TensorId, (Vec<usize>, Vec<(usize, usize)>)>;

/// Remembers a constant-zero `pad`'s output, so a convolution reading it can see the padding.
pub(crate) fn record_pad(op: &OperationIr, pads: &mut Pads) {
    let pad = match op {
        OperationIr::NumericFloat(_, NumericOperationIr::Pad(p)) => p,
        _ => return,
    };
    let zero = matches!(pad.mode, PadModeIr::Constant(ScalarIr::Float(v)) if v == 0.0)
        || matches!(pad.mode, PadModeIr::Constant(ScalarIr::Int(0)));
    if zero {
        pads.insert(pad.out.id, (pad.input.shape.to_vec(), pad.padding.clone()));
    }
}

/// A convolution's stride, `(before, after)` padding and dilation, per spatial axis.
type Geometry = (Vec<usize>, Vec<(usize, usize)>, Vec<usize>);

fn conv_geometry(m: &ModuleOperationIr) -> Option<Geometry> {
    let sym = |p: &[usize]| p.iter().map(|&x| (x, x)).collect::<Vec<_>>();
    Some(match m {
        ModuleOperationIr::Conv1d(c) => (
            c.options.stride.to_vec(),
            c.options.padding.to_vec(),
            c.options.dilation.to_vec(),
        ),
        ModuleOperationIr::Conv2d(c) => (
            c.options.stride.to_vec(),
            c.options.padding.to_vec(),
            c.options.dilation.to_vec(),
        ),
        ModuleOperationIr::Conv3d(c) => (
            c.options.stride.to_vec(),
            sym(&c.options.padding),
            c.options.dilation.to_vec(),
        ),
        ModuleOperationIr::ConvTranspose1d(c) => (
            c.options.stride.to_vec(),
            sym(&c.options.padding),
            c.options.dilation.to_vec(),
        ),
        ModuleOperationIr::ConvTranspose2d(c) => (
            c.options.stride.to_vec(),
            sym(&c.options.padding),
            c.options.dilation.to_vec(),
        ),
        ModuleOperationIr::ConvTranspose3d(c) => (
            c.options.stride.to_vec(),
            sym(&c.options.padding),
            c.options.dilation.to_vec(),
        ),
        _ => return None,
    })
}

/// Pairs (output position, tap) whose input index `o·s + k·d − before` lies in `[0, n)`.
fn taps_inside(n: usize, out: usize, k: usize, s: usize, d: usize, before: usize) -> u128 {
    let mut inside = 0u128;
    for o in 0..out {
        for j in 0..k {
            let i = (o * s + j * d) as isize - before as isize;
            if i >= 0 && (i as usize) < n {
                inside += 1;
            }
        }
    }
    inside
}

/// Pairs (input position, tap) of a transposed convolution whose output index
/// `i·s + k·d − padding` lies in `[0, out)`: the others land in the cropped padding.
fn transposed_taps_inside(n: usize, out: usize, k: usize, s: usize, d: usize, padding: usize) -> u128 {
    let mut inside = 0u128;
    for i in 0..n {
        for j in 0..k {
            let o = (i * s + j * d) as isize - padding as isize;
            if o >= 0 && (o as usize) < out {
                inside += 1;
            }
        }
    }
    inside
}

/// Multiply-adds of a convolution counting only taps inside the (unpadded) input, or of a
/// transposed convolution counting only taps inside the output.
fn conv_macs_inside(op: &OperationIr, m: &ModuleOperationIr, pads: &Pads, transposed: bool) -> Option<u128> {
    let (stride, padding, dilation) = conv_geometry(m)?;
    let ins: Vec<&TensorIr> = op.inputs().collect();
    let (x, w, out) = (ins[0], ins[1], op.outputs().next()?);
    let spatial = stride.len();
    let rank = x.shape.len();
    if transposed {
        // weight [C_in, C_out/groups, k...]: batch × C_in × C_out/groups × taps inside.
        let mut inside = 1u128;
        for a in 0..spatial {
            let (n, o, k) = (x.shape[2 + a], out.shape[2 + a], w.shape[2 + a]);
            inside = mul(
                inside,
                transposed_taps_inside(n, o, k, stride[a], dilation[a], padding[a].0),
            );
        }
        return Some(mul(
            mul(x.shape[0] as u128 * x.shape[1] as u128, w.shape[1] as u128),
            inside,
        ));
    }
    // Padding a zero `pad` applied to the spatial axes just before (none elsewhere).
    let (shape, extra): (Vec<usize>, Vec<(usize, usize)>) = match pads.get(&x.id) {
        Some((shape, pairs)) if pairs[..rank - spatial].iter().all(|p| *p == (0, 0)) => {
            (shape.clone(), pairs[rank - spatial..].to_vec())
        }
        _ => (x.shape.to_vec(), vec![(0, 0); spatial]),
    };
    let mut inside = 1u128;
    for a in 0..spatial {
        let n = shape[rank - spatial + a];
        let before = padding[a].0 + extra[a].0;
        let k = w.shape[2 + a];
        inside = mul(
            inside,
            taps_inside(n, out.shape[2 + a], k, stride[a], dilation[a], before),
        );
    }
    // batch × C_out × (C_in / groups) × taps inside.
    Some(mul(
        mul(out.shape[0] as u128 * out.shape[1] as u128, w.shape[1] as u128),
        inside,
    ))
}

/// 2.5·N·log₂N per line, as a whole number: `5·N·log₂N / 2` (N a power of two, log₂N exact).
fn fft_flops(op: &OperationIr) -> u128 {
    let OperationIr::Custom(c) = op else { return 0 };
    let dim = match c.scalars.first() {
        Some(ScalarIr::UInt(d)) => *d as usize,
        _ => return 0,
    };
    // The real signal side: rfft's input (or its length n), irfft's output.
    let signal = if c.id == RFFT { &c.inputs[0] } else { &c.outputs[0] };
    let n = match (c.id.as_str(), c.scalars.get(1), c.scalars.get(2)) {
        (RFFT, Some(ScalarIr::Bool(true)), Some(ScalarIr::UInt(n))) => *n as u128,
        _ => signal.shape[dim] as u128,
    };
    let lines = elems(signal) / (signal.shape[dim] as u128).max(1);
    let log2 = 127 - n.max(1).leading_zeros() as u128;
    mul(lines, 5 * n * log2) / 2
}

/// Everything an op costs, computed once per count; a [`Convention`] picks from it.
#[derive(Debug, Clone, Default)]
pub(crate) struct OpCost {
    /// Multiply-adds of matmul, convolutions and attention, every tap counted.
    pub(crate) macs: u128,
    /// The same, only taps inside the input (convolutions; `None` for other ops).
    pub(crate) macs_inside: Option<u128>,
    /// Per input operand: whether its gradient costs one forward's multiply-adds (data and weight
    /// of matmuls and convolutions; bias free).
    pub(crate) grad_operands: Vec<bool>,
    /// Multiply-adds charged once if any input needs a gradient (attention: twice its forward).
    pub(crate) grad_any_macs: u128,
    /// Elements counted by the `full` convention (elementwise, reductions, pooling).
    pub(crate) elements: u128,
    /// Real FLOPs of Fourier transforms (every convention).
    pub(crate) fft: u128,
}

impl OpCost {
    fn core(&self, convention: &Convention, macs: u128) -> u128 {
        match convention.unit {
            Unit::Flops => mul(2, macs),
            Unit::Macs => macs,
        }
    }

    /// Multiply-adds under the convention's padding rule.
    pub(crate) fn macs_counted(&self, convention: &Convention) -> u128 {
        if convention.padding_aware {
            self.macs_inside.unwrap_or(self.macs)
        } else {
            self.macs
        }
    }

    fn fft_counted(&self, convention: &Convention) -> u128 {
        match convention.unit {
            Unit::Flops => self.fft,
            Unit::Macs => self.fft / 2,
        }
    }

    /// Forward count under `convention`.
    pub(crate) fn forward(&self, convention: &Convention) -> u128 {
        let extra = if convention.full { self.elements } else { 0 };
        self.core(convention, self.macs_counted(convention)) + self.fft_counted(convention) + extra
    }

    /// Backward count when `needs_grad[i]` says which inputs need a gradient.
    pub(crate) fn backward(&self, convention: &Convention, needs_grad: &[bool]) -> u128 {
        if !needs_grad.iter().any(|g| *g) {
            return 0;
        }
        let per = self.core(convention, self.macs_counted(convention));
        let operands = self
            .grad_operands
            .iter()
            .zip(needs_grad)
            .filter(|(charged, needs)| **charged && **needs)
            .count() as u128;
        let extra = if convention.full { self.elements } else { 0 };
        mul(per, operands) + self.core(convention, self.grad_any_macs) + self.fft_counted(convention) + extra
    }
}

/// What `op` costs (category from [`classify`]).
pub(crate) fn cost(op: &OperationIr, category: OpCategory, pads: &Pads) -> OpCost {
    let ins: Vec<&TensorIr> = op.inputs().collect();
    let out_elems = op.outputs().next().map_or(0, elems);
    let data_and_weight = |n: usize| {
        let mut v = vec![true, true];
        v.resize(n, false);
        v
    };
    match (category, op) {
        (OpCategory::Matmul | OpCategory::Linear, _) => OpCost {
            macs: mul(out_elems, *ins[0].shape.last().unwrap_or(&0) as u128),
            grad_operands: data_and_weight(ins.len()),
            ..OpCost::default()
        },
        (OpCategory::Conv, OperationIr::Module(m)) => {
            let w = ins[1];
            OpCost {
                macs: mul(out_elems, elems(w) / w.shape[0].max(1) as u128),
                macs_inside: conv_macs_inside(op, m, pads, false),
                grad_operands: data_and_weight(ins.len()),
                ..OpCost::default()
            }
        }
        (OpCategory::ConvTranspose, OperationIr::Module(m)) => {
            let w = ins[1];
            OpCost {
                macs: mul(elems(ins[0]), elems(w) / w.shape[0].max(1) as u128),
                macs_inside: conv_macs_inside(op, m, pads, true),
                grad_operands: data_and_weight(ins.len()),
                ..OpCost::default()
            }
        }
        (OpCategory::Attention, OperationIr::Module(ModuleOperationIr::Attention(a))) => {
            let (q, k, v) = (&a.query.shape, &a.key.shape, &a.value.shape);
            let r = q.len();
            let lead: u128 = q[..r - 2].iter().map(|&d| d as u128).product();
            let macs = mul(
                mul(lead, q[r - 2] as u128 * k[r - 2] as u128),
                (q[r - 1] + v[r - 1]) as u128,
            );
            OpCost {
                macs,
                grad_any_macs: mul(2, macs),
                ..OpCost::default()
            }
        }
        (OpCategory::Fft, _) => OpCost {
            fft: fft_flops(op),
            ..OpCost::default()
        },
        (OpCategory::Elementwise | OpCategory::Pooling, _) => OpCost {
            elements: out_elems,
            ..OpCost::default()
        },
        (OpCategory::Reduction, _) => OpCost {
            elements: ins.iter().map(|t| elems(t)).max().unwrap_or(0),
            ..OpCost::default()
        },
        _ => OpCost::default(),
    }
}

/// Bytes read (inputs) and written (outputs).
pub(crate) fn bytes(op: &OperationIr) -> u128 {
    op.inputs()
        .chain(op.outputs())
        .map(|t| mul(elems(t), t.dtype.size() as u128))
        .sum()
}
