//! # flop-count: count the operations of any Burn model from its op graph
//!
//! The forward runs on Burn's capture device, which records every operation with its tensors'
//! shapes and executes nothing: a Purkinje cell (5e10 FLOPs) counts in milliseconds without
//! allocating its data. Backward costs are derived per op by rule, with requires-grad
//! propagation, as torch's `FlopCounterMode` does.
//!
//! ```
//! use burn::nn::LinearConfig;
//! use burn::tensor::Tensor;
//!
//! let graph = flop_count::capture(|cx| {
//!     let linear = LinearConfig::new(100_000, 1).init(cx.device());
//!     let x = cx.input(Tensor::<2>::zeros([1, 100_000], cx.device()));
//!     cx.params(&linear);
//!     let _ = linear.forward(x);
//! })
//! .unwrap();
//! let report = graph.count(&flop_count::Convention::torch());
//! assert_eq!(report.forward, 200_000);
//! assert_eq!(report.backward_params, 200_000);
//! assert_eq!(report.backward_params_and_input, 400_000);
//! ```
//!
//! Conventions (see [`Convention`]): torch's default (2 FLOPs per multiply-add, bias not counted,
//! padded taps counted, only matmul and convolutions), multiply-accumulates, and `full` (every
//! other op too, one rule per category, listed on [`OpCategory`]).
//!
//! A model that already exists (trained elsewhere) is counted through [`Capture::model`], which
//! swaps its parameters for shape-only capture tensors.
//!
//! Not yet here (tracked on the flop-count issue): `padding_aware`, attention.

mod rules;

use std::collections::{BTreeMap, HashSet};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use burn_ir::{OperationIr, TensorId};
use serde::{Deserialize, Serialize};

pub use rules::{OpCategory, classify};

/// Prefix of the marker ops [`scope`] records.
const MARK_BEGIN: &str = "flop-count/begin/";
const MARK_END: &str = "flop-count/end";

/// Names the operations `f` records on the capture device: they are attributed to `name` in
/// [`Report::modules`] unless they read a declared parameter (whose module path wins). Scopes
/// nest (`outer/inner`). On any other device this only runs `f`, so modules can call it in every
/// `forward` at no cost.
pub fn scope<R>(device: &Device, name: &str, f: impl FnOnce() -> R) -> R {
    let capture = match device.as_dispatch() {
        burn_dispatch::DispatchDevice::Capture(d) => Some(*d),
        #[allow(unreachable_patterns)]
        _ => None,
    };
    let mark = |id: &str| {
        if let Some(d) = &capture {
            use burn_router::RouterClient;
            let client = burn_router::get_client::<burn_capture::CaptureChannel>(d);
            let marker = burn_ir::CustomOpIr {
                id: id.to_string(),
                inputs: vec![],
                outputs: vec![],
                scalars: vec![],
            };
            client.register_op(OperationIr::Custom(marker));
        }
    };
    mark(&format!("{MARK_BEGIN}{name}"));
    let r = f();
    mark(MARK_END);
    r
}

/// What went wrong while capturing.
#[derive(Debug, thiserror::Error)]
pub enum CountError {
    /// Burn's capture device refused the scope.
    #[error("flop-count: capture failed: {0:?}")]
    Capture(burn::tensor::CaptureError),
}

/// Counting unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Unit {
    /// 2 per multiply-add (torch, fvcore's "FLOPs" are MACs: beware).
    Flops,
    /// 1 per multiply-add.
    Macs,
}

/// Which operations count and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Convention {
    /// FLOPs or MACs.
    pub unit: Unit,
    /// Count every op (elementwise, reductions, activations, pooling), not only matmul/conv.
    pub full: bool,
    /// Count only convolution taps that land inside the input (XLA's convention), including
    /// padding applied by a zero `pad` right before an unpadded convolution. It cannot see zeros
    /// built into other arithmetic: an im2col + GEMM (the `Dendrites` expanded path) counts in
    /// full.
    #[serde(default)]
    pub padding_aware: bool,
}

impl Convention {
    /// torch `FlopCounterMode`: 2 per multiply-add, only matmul and convolutions.
    pub fn torch() -> Self {
        Self {
            unit: Unit::Flops,
            full: false,
            padding_aware: false,
        }
    }
    /// Multiply-accumulates of matmul and convolutions.
    pub fn macs() -> Self {
        Self {
            unit: Unit::Macs,
            ..Self::torch()
        }
    }
    /// torch's counts plus one FLOP per element for every other computing op ([`OpCategory`]).
    pub fn full() -> Self {
        Self {
            full: true,
            ..Self::torch()
        }
    }
    /// torch's convention, counting only convolution taps inside the input.
    pub fn padding_aware() -> Self {
        Self {
            padding_aware: true,
            ..Self::torch()
        }
    }
}

/// What the closure given to [`capture`] declares: the model's inputs, its parameters.
pub struct Capture {
    device: Device,
    inputs: Vec<TensorId>,
    params: Vec<(TensorId, u128)>,
    owners: BTreeMap<TensorId, String>,
}

fn id<const D: usize>(t: &Tensor<D>) -> TensorId {
    t.clone()
        .try_into_primitive::<burn_capture::CaptureBackend>()
        .expect("flop-count: tensor is not on the capture device given by Capture::device()")
        .id()
}

/// Collects each parameter's capture tensor id, size and owning module path. Burn's derive
/// calls `enter_module` with each field name (the parameter's own included), so the path of
/// the module that owns a parameter is the stack without its last entry.
struct ParamIds<'a> {
    out: &'a mut Vec<(TensorId, u128)>,
    owners: &'a mut BTreeMap<TensorId, String>,
    path: Vec<String>,
}

impl ModuleVisitor for ParamIds<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let tid = id(&t);
        self.out.push((tid, t.shape().num_elements() as u128));
        let module = &self.path[..self.path.len().saturating_sub(1)];
        let module = if module.is_empty() {
            "(root)".to_string()
        } else {
            module.join(".")
        };
        self.owners.insert(tid, module);
    }
}

/// Swaps each parameter for a capture tensor of the same shape: counting a model that already
/// exists (trained on flex, on a GPU) without copying its data to the capture device.
struct ToCapture<'a> {
    device: &'a Device,
}

impl burn::module::ModuleMapper for ToCapture<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        // `lazy_shape` reads no data (and initialises nothing).
        Param::initialized(param.id, Tensor::<D>::zeros(param.lazy_shape(), self.device))
    }
}

impl Capture {
    /// Brings an existing model into the scope and declares its parameters: each parameter is
    /// replaced by a capture tensor of the same shape and id, so no weight data is copied. Pass
    /// a clone to keep the original.
    pub fn model<M: Module>(&mut self, model: M) -> M {
        let model = model.map(&mut ToCapture { device: &self.device });
        self.params(&model);
        model
    }

    /// The capture device: build the model and its inputs here.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Declares a model input (it needs a gradient in "params and input" mode).
    pub fn input<const D: usize>(&mut self, t: Tensor<D>) -> Tensor<D> {
        self.inputs.push(id(&t));
        t
    }

    /// Declares a module's parameters (they need gradients).
    pub fn params<M: Module>(&mut self, module: &M) {
        module.visit(&mut ParamIds {
            out: &mut self.params,
            owners: &mut self.owners,
            path: Vec::new(),
        });
    }
}

/// A captured forward: operations in order, with the declared inputs and parameters.
pub struct Graph {
    /// Every recorded operation.
    pub operations: Vec<OperationIr>,
    inputs: Vec<TensorId>,
    params: Vec<(TensorId, u128)>,
    owners: BTreeMap<TensorId, String>,
}

/// Records what `f` does on a fresh capture device. `f` builds the model and its inputs there
/// (a module cannot outlive its capture scope), declares them, and runs the forward.
pub fn capture(f: impl FnOnce(&mut Capture)) -> Result<Graph, CountError> {
    let device = Device::capture();
    let mut cx = Capture {
        device: device.clone(),
        inputs: Vec::new(),
        params: Vec::new(),
        owners: BTreeMap::new(),
    };
    let graph = device
        .capture_scope(|scope| {
            f(&mut cx);
            scope.complete([], [])
        })
        .map_err(CountError::Capture)?;
    Ok(Graph {
        operations: graph.graph.operations,
        inputs: cx.inputs,
        params: cx.params,
        owners: cx.owners,
    })
}

/// One row per kind of operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpRow {
    /// How many such ops ran.
    pub count: u64,
    /// Forward count in the convention's unit.
    pub forward: u128,
    /// Bytes read and written by these ops (inputs + outputs; views counted as copies).
    pub bytes: u128,
}

/// One module's share of a forward.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleRow {
    /// Field path from the root module (`dendrites`, `granule.synapses`), or `(unattributed)`.
    pub path: String,
    /// Forward count in the convention's unit.
    pub flops: u128,
    /// Forward multiply-accumulates of its matmuls and convolutions (convention's padding rule).
    pub macs: u128,
    /// Parameters this module owns directly.
    pub params: u128,
    /// Bytes read and written by its ops.
    pub bytes: u128,
}

impl ModuleRow {
    /// FLOPs per byte moved.
    pub fn arithmetic_intensity(&self) -> f64 {
        self.flops as f64 / self.bytes.max(1) as f64
    }
}

/// Name of the row for operations no module owns.
pub const UNATTRIBUTED: &str = "(unattributed)";

/// Totals of a captured forward under one convention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The convention used.
    pub convention: Convention,
    /// Forward total.
    pub forward: u128,
    /// Backward when only parameters need gradients.
    pub backward_params: u128,
    /// Backward when parameters and the declared inputs need gradients.
    pub backward_params_and_input: u128,
    /// Declared parameters' element count.
    pub params: u128,
    /// Bytes read + written by all computing and data-movement ops (creation ops excluded).
    pub bytes: u128,
    /// Per op kind.
    pub by_op: BTreeMap<String, OpRow>,
    /// Per module. An op belongs to the module whose parameter it reads, directly or through
    /// tensors computed from parameters alone (an expanded weight); else to the innermost
    /// [`scope`] it was recorded in; else to [`UNATTRIBUTED`]. Rows add up to the totals.
    pub modules: Vec<ModuleRow>,
    /// Ops without a rule: name and count. Never silently zero.
    pub unsupported: BTreeMap<String, u64>,
}

impl Report {
    /// Forward FLOPs per byte moved.
    pub fn arithmetic_intensity(&self) -> f64 {
        self.forward as f64 / self.bytes.max(1) as f64
    }

    /// JSON, with every count also as a string for readers that lose integers above 2^53.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("report serialises");
        for key in [
            "forward",
            "backward_params",
            "backward_params_and_input",
            "params",
            "bytes",
        ] {
            let s = v[key].to_string();
            v[format!("{key}_str")] = serde_json::Value::String(s);
        }
        v
    }

    /// A plain-text table.
    pub fn to_table(&self) -> String {
        let mut out = format!("{:<24} {:>8} {:>22} {:>16}\n", "op", "count", "forward", "bytes");
        for (name, row) in &self.by_op {
            out += &format!("{name:<24} {:>8} {:>22} {:>16}\n", row.count, row.forward, row.bytes);
        }
        out += &format!(
            "total forward {}  backward (params) {}  backward (params+input) {}  params {}  bytes {}\n",
            self.forward, self.backward_params, self.backward_params_and_input, self.params, self.bytes
        );
        out += &format!(
            "\n{:<32} {:>22} {:>12} {:>16} {:>10}\n",
            "module", "forward", "params", "bytes", "FLOP/B"
        );
        for m in &self.modules {
            out += &format!(
                "{:<32} {:>22} {:>20} {:>12} {:>16} {:>10.3}\n",
                m.path,
                m.flops,
                m.macs,
                m.params,
                m.bytes,
                m.arithmetic_intensity()
            );
        }
        for (name, n) in &self.unsupported {
            out += &format!("UNSUPPORTED: {name} ×{n} (not counted)\n");
        }
        out
    }
}

impl Graph {
    /// Counts the graph under `convention`.
    ///
    /// # Panics
    ///
    /// If a total overflows `u128` (checked arithmetic; a brain is 1e21, far below 3.4e38).
    pub fn count(&self, convention: &Convention) -> Report {
        let mut forward = 0u128;
        let mut bytes = 0u128;
        let mut by_op: BTreeMap<String, OpRow> = BTreeMap::new();
        let mut unsupported = BTreeMap::new();
        let params: HashSet<TensorId> = self.params.iter().map(|p| p.0).collect();
        let inputs: HashSet<TensorId> = self.inputs.iter().copied().collect();
        // Tensors needing a gradient, in each mode.
        let mut needs = [
            params.clone(),
            params.iter().chain(&inputs).copied().collect::<HashSet<_>>(),
        ];
        let mut backward = [0u128; 2];
        // Owner of each parameter-derived tensor (parameters, and what is computed from them alone).
        let mut owner: BTreeMap<TensorId, String> = self.owners.clone();
        let mut modules: BTreeMap<String, ModuleRow> = BTreeMap::new();
        // Outputs of zero-padding ops: their unpadded shape and padding, for padding_aware.
        let mut pads = rules::Pads::new();
        let mut scopes: Vec<String> = Vec::new();
        let add = |a: u128, b: u128| a.checked_add(b).expect("flop-count: count overflows u128");
        for op in &self.operations {
            if let OperationIr::Custom(c) = op {
                if let Some(name) = c.id.strip_prefix(MARK_BEGIN) {
                    scopes.push(name.to_string());
                } else if c.id == MARK_END {
                    scopes.pop();
                }
            }
            let (name, category) = classify(op);
            if matches!(category, OpCategory::Creation | OpCategory::Bookkeeping) {
                continue;
            }
            let op_owner = op.inputs().find_map(|t| owner.get(&t.id).cloned());
            let param_derived = op.inputs().all(|t| owner.contains_key(&t.id) || !t.dtype.is_float());
            if let (Some(o), true) = (&op_owner, param_derived) {
                for out in op.outputs() {
                    owner.insert(out.id, o.clone());
                }
            }
            if category == OpCategory::Unknown {
                *unsupported.entry(name).or_insert(0) += 1;
                continue;
            }
            rules::record_pad(op, &mut pads);
            let cost = rules::cost(op, category, convention, &pads);
            let macs = rules::cost(
                op,
                category,
                &Convention {
                    unit: Unit::Macs,
                    full: false,
                    ..*convention
                },
                &pads,
            );
            let moved = rules::bytes(op);
            forward = add(forward, cost.forward);
            bytes = add(bytes, moved);
            let row = by_op.entry(name).or_default();
            row.count += 1;
            row.forward = add(row.forward, cost.forward);
            row.bytes = add(row.bytes, moved);
            let path = op_owner.unwrap_or_else(|| {
                if scopes.is_empty() {
                    UNATTRIBUTED.to_string()
                } else {
                    scopes.join("/")
                }
            });
            let m = modules.entry(path.clone()).or_insert_with(|| ModuleRow {
                path,
                ..Default::default()
            });
            m.flops = add(m.flops, cost.forward);
            m.macs = add(m.macs, macs.forward);
            m.bytes = add(m.bytes, moved);
            for (mode, set) in needs.iter_mut().enumerate() {
                let grads: Vec<bool> = op.inputs().map(|t| set.contains(&t.id)).collect();
                if !grads.iter().any(|g| *g) {
                    continue;
                }
                backward[mode] = add(backward[mode], rules::backward(&cost, &grads));
                for out in op.outputs() {
                    if out.dtype.is_float() {
                        set.insert(out.id);
                    }
                }
            }
        }
        let unique: BTreeMap<TensorId, u128> = self.params.iter().copied().collect();
        for (tid, n) in &unique {
            let path = &self.owners[tid];
            let m = modules.entry(path.clone()).or_insert_with(|| ModuleRow {
                path: path.clone(),
                ..Default::default()
            });
            m.params += n;
        }
        Report {
            modules: modules.into_values().collect(),
            convention: *convention,
            forward,
            backward_params: backward[0],
            backward_params_and_input: backward[1],
            // A module declared twice is counted once.
            params: unique.values().sum(),
            bytes,
            by_op,
            unsupported,
        }
    }
}
