//! Per-op rules: what each recorded operation costs forward, and per operand backward.

use std::collections::HashMap;

use burn_ir::{ModuleOperationIr, NumericOperationIr, OperationIr, PadModeIr, ScalarIr, TensorId, TensorIr};

use crate::{Convention, Unit};

/// How an operation is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpCategory {
    /// `[.., m, k] @ [.., k, n]`: `2·k` per output element. Backward: one forward per operand
    /// that needs a gradient.
    Matmul,
    /// Convolution (1-D to 3-D, any stride, padding, dilation, groups): `2 · (C_in/groups) ·
    /// kernel taps` per output element, padded taps included (torch). Backward: grad-input and
    /// grad-weight each cost one forward; bias free. For grouped convolutions this is right where
    /// torch's counter multiplies grad-weight by the group count.
    Conv,
    /// Transposed convolution: `2 · (C_out/groups) · kernel taps` per *input* element.
    ConvTranspose,
    /// Burn's fused `linear` op: as a matmul.
    Linear,
    /// Elementwise arithmetic, comparisons, activations: `full` only, 1 per output element;
    /// backward 1 per output element when any input needs a gradient.
    Elementwise,
    /// Reductions, scans, softmax: `full` only, 1 per input element (same backward rule).
    Reduction,
    /// Pooling: `full` only, 1 per output element (same backward rule).
    Pooling,
    /// Reshape, permute, slice, cat, pad, gather, select, cast...: 0 FLOPs; bytes counted.
    Movement,
    /// Tensor creation (random, zeros, data): the model's construction, not its forward.
    Creation,
    /// Drops and custom markers: neither FLOPs nor bytes.
    Bookkeeping,
    /// No rule: reported by name, never counted as zero silently.
    Unknown,
}

const MOVEMENT: &[&str] = &[
    "Reshape",
    "SwapDims",
    "Permute",
    "Flip",
    "Expand",
    "Unfold",
    "Slice",
    "SliceAssign",
    "Select",
    "SelectAssign",
    "Gather",
    "Scatter",
    "ScatterNd",
    "GatherNd",
    "RepeatDim",
    "Cat",
    "Cast",
    "Pad",
    "IntoInt",
    "IntoFloat",
    "Unfold4d",
    "Embedding",
];
const CREATION: &[&str] = &[
    "Random",
    "Empty",
    "Ones",
    "Zeros",
    "Full",
    "Init",
    "IntRandom",
    "Arange",
];
const ELEMENTWISE: &[&str] = &[
    "Add",
    "AddScalar",
    "Sub",
    "SubScalar",
    "Div",
    "DivScalar",
    "Rem",
    "RemScalar",
    "Mul",
    "MulScalar",
    "Abs",
    "Greater",
    "GreaterElem",
    "GreaterEqual",
    "GreaterEqualElem",
    "Lower",
    "LowerElem",
    "LowerEqual",
    "LowerEqualElem",
    "Equal",
    "EqualElem",
    "NotEqual",
    "NotEqualElem",
    "MaskWhere",
    "MaskFill",
    "Clamp",
    "ClampMin",
    "ClampMax",
    "Neg",
    "Sign",
    "Powi",
    "PowiScalar",
    "Exp",
    "Log",
    "Log1p",
    "Erf",
    "PowfScalar",
    "Sqrt",
    "Cos",
    "Cosh",
    "Sin",
    "Sinh",
    "Tan",
    "Tanh",
    "ArcCos",
    "ArcCosh",
    "ArcSin",
    "ArcSinh",
    "ArcTan",
    "ArcTanh",
    "ArcTan2",
    "Round",
    "Floor",
    "Ceil",
    "Trunc",
    "Recip",
    "IsNan",
    "IsInf",
    "Powf",
    "Hypot",
    "Relu",
    "ReluBackward",
    "LeakyRelu",
    "PRelu",
    "Gelu",
    "GeluBackward",
    "Sigmoid",
    "SigmoidBackward",
    "HardSigmoid",
    "LogSigmoid",
    "LogSigmoidBackward",
    "BoolNot",
    "BoolAnd",
    "BoolOr",
    "BoolXor",
    "Not",
    "And",
    "Or",
];
const REDUCTION: &[&str] = &[
    "Mean",
    "MeanDim",
    "Sum",
    "SumDim",
    "SumDims",
    "Prod",
    "ProdDim",
    "ArgMax",
    "ArgMin",
    "Max",
    "Min",
    "MaxDim",
    "MinDim",
    "MaxAbs",
    "MaxAbsDim",
    "MaxDimWithIndices",
    "MinDimWithIndices",
    "All",
    "Any",
    "AllDim",
    "AnyDim",
    "CumSum",
    "CumProd",
    "CumMin",
    "CumMax",
    "Softmax",
    "LogSoftmax",
    "Softmin",
    "LayerNorm",
    "BatchNorm",
];
const POOLING: &[&str] = &[
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool1dWithIndices",
    "MaxPool2dWithIndices",
    "AvgPool1d",
    "AvgPool2d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "MaxPool1dWithIndicesBackward",
    "MaxPool2dWithIndicesBackward",
    "AvgPool1dBackward",
    "AvgPool2dBackward",
];

/// The op's variant name (`Matmul`, `Conv3d`, `AddScalar`, ...) and its category.
pub fn classify(op: &OperationIr) -> (String, OpCategory) {
    use OpCategory::*;
    match op {
        OperationIr::Drop(_) | OperationIr::Custom(_) => return (outer_name(op), Bookkeeping),
        OperationIr::Init(_) => return ("Init".into(), Creation),
        OperationIr::Module(m) => {
            let category = match m {
                ModuleOperationIr::Conv1d(_) | ModuleOperationIr::Conv2d(_) | ModuleOperationIr::Conv3d(_) => Conv,
                ModuleOperationIr::ConvTranspose1d(_)
                | ModuleOperationIr::ConvTranspose2d(_)
                | ModuleOperationIr::ConvTranspose3d(_) => ConvTranspose,
                ModuleOperationIr::Linear(_) => Linear,
                _ => Unknown,
            };
            let name = inner_name(op);
            let category = if category == Unknown { by_name(&name) } else { category };
            return (name, category);
        }
        _ => {}
    }
    let name = inner_name(op);
    let category = if name == "Matmul" { Matmul } else { by_name(&name) };
    (name, category)
}

fn by_name(name: &str) -> OpCategory {
    let is = |list: &[&str]| list.contains(&name);
    if is(MOVEMENT) {
        OpCategory::Movement
    } else if is(CREATION) {
        OpCategory::Creation
    } else if is(ELEMENTWISE) {
        OpCategory::Elementwise
    } else if is(REDUCTION) {
        OpCategory::Reduction
    } else if is(POOLING) {
        OpCategory::Pooling
    } else {
        OpCategory::Unknown
    }
}

fn outer_name(op: &OperationIr) -> String {
    let s = format!("{op:?}");
    s.split(['(', ' ', '{']).next().unwrap_or("?").to_string()
}

/// `Float(F32, Matmul(..))` → `Matmul`; `BaseFloat(Reshape(..))` → `Reshape`.
fn inner_name(op: &OperationIr) -> String {
    let s = format!("{op:?}");
    let inner = s.split_once('(').map_or(s.as_str(), |(_, rest)| rest);
    // Skip a leading dtype argument (`F32, `).
    let inner = match inner.split_once(", ") {
        Some((first, rest)) if !first.contains('(') && !first.contains('{') => rest,
        _ => inner,
    };
    inner.split(['(', ' ', '{', ',', ')']).next().unwrap_or("?").to_string()
}

fn elems(t: &TensorIr) -> u128 {
    t.shape.iter().map(|&d| d as u128).product()
}

/// What a backward through an op costs.
#[derive(Debug, Clone)]
pub(crate) enum Grad {
    /// For each input operand in order: the cost of its gradient, charged if it needs one.
    PerOperand(Vec<u128>),
    /// Charged once if any input needs a gradient.
    Any(u128),
}

/// Forward cost and backward rule of one op.
#[derive(Debug, Clone)]
pub(crate) struct Cost {
    pub(crate) forward: u128,
    pub(crate) grad: Grad,
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

/// Multiply-adds of a convolution counting only taps inside the (unpadded) input.
fn conv_macs_inside(op: &OperationIr, m: &ModuleOperationIr, pads: &Pads) -> Option<u128> {
    let (stride, padding, dilation) = conv_geometry(m)?;
    let ins: Vec<&TensorIr> = op.inputs().collect();
    let (x, w, out) = (ins[0], ins[1], op.outputs().next()?);
    let spatial = stride.len();
    let rank = x.shape.len();
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

pub(crate) fn cost(op: &OperationIr, category: OpCategory, convention: &Convention, pads: &Pads) -> Cost {
    let per_mac = match convention.unit {
        Unit::Flops => 2,
        Unit::Macs => 1,
    };
    let ins: Vec<&TensorIr> = op.inputs().collect();
    let out = op.outputs().next();
    let out_elems = out.map_or(0, elems);
    // Multiply-adds per output element (or per input element for transposed convolutions).
    let macs = match (category, op) {
        (OpCategory::Matmul, _) | (OpCategory::Linear, _) => {
            Some(mul(out_elems, *ins[0].shape.last().unwrap_or(&0) as u128))
        }
        (OpCategory::Conv, OperationIr::Module(m)) if convention.padding_aware => conv_macs_inside(op, m, pads),
        (OpCategory::Conv, _) => {
            let w = ins[1];
            Some(mul(out_elems, elems(w) / w.shape[0].max(1) as u128))
        }
        (OpCategory::ConvTranspose, _) => {
            let w = ins[1];
            Some(mul(elems(ins[0]), elems(w) / w.shape[0].max(1) as u128))
        }
        _ => None,
    };
    if let Some(macs) = macs {
        let f = mul(macs, per_mac);
        // Operands: data, weight, then bias (free, as in torch).
        let mut per = vec![f, f];
        per.resize(ins.len(), 0);
        return Cost {
            forward: f,
            grad: Grad::PerOperand(per),
        };
    }
    let forward = if !convention.full {
        0
    } else {
        match category {
            OpCategory::Elementwise | OpCategory::Pooling => out_elems,
            OpCategory::Reduction => ins.iter().map(|t| elems(t)).max().unwrap_or(0),
            _ => 0,
        }
    };
    Cost {
        forward,
        grad: Grad::Any(forward),
    }
}

pub(crate) fn backward(cost: &Cost, needs_grad: &[bool]) -> u128 {
    match &cost.grad {
        Grad::PerOperand(v) => v.iter().zip(needs_grad).filter(|(_, g)| **g).map(|(c, _)| *c).sum(),
        Grad::Any(c) => *c,
    }
}

/// Bytes read (inputs) and written (outputs).
pub(crate) fn bytes(op: &OperationIr) -> u128 {
    op.inputs()
        .chain(op.outputs())
        .map(|t| mul(elems(t), t.dtype.size() as u128))
        .sum()
}
