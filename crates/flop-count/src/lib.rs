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
//! assert_eq!(report.backward_params, Some(200_000));
//! assert_eq!(report.backward_params_and_input, Some(400_000));
//! ```
//!
//! Conventions (see [`Convention`]): torch's default (2 FLOPs per multiply-add, bias not counted,
//! padded taps counted, only matmul, convolutions and attention), multiply-accumulates, `full`
//! (every other op too, one rule per category, listed on [`OpCategory`]) and `padding_aware`
//! (only convolution taps inside the input). Fourier transforms count under every convention.
//!
//! A model that already exists (trained elsewhere) is counted through [`Capture::model`], which
//! swaps its parameters for shape-only capture tensors. Rows per module come from parameter
//! ownership and [`scope`] markers; BatchNorm's running statistics are listed as buffers, not
//! parameters (as torch's `parameters()` leaves them out).

mod convention;
mod rules;

use std::collections::{BTreeMap, HashSet};

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor};
use burn_ir::{OperationIr, TensorId};
use serde::{Deserialize, Serialize};

pub use convention::{Convention, Unit};
pub use rules::{IRFFT, OpCategory, RFFT, classify};

/// Prefix of every marker op this crate records.
const MARK_PREFIX: &str = "flop-count/";
/// Prefix of the marker ops [`scope`] records.
const MARK_BEGIN: &str = "flop-count/begin/";
/// Prefix of the marker ops [`counted_scope`] records.
const MARK_BEGIN_COUNTED: &str = "flop-count/begin-counted/";
const MARK_END: &str = "flop-count/end";

/// Names the operations `f` records on the capture device: they are attributed to `name` in
/// [`Report::modules`] unless they read a declared parameter (whose module path wins). Scopes
/// nest (`outer/inner`). On any other device this only runs `f`, so modules can call it in every
/// `forward` at no cost.
pub fn scope<R>(device: &Device, name: &str, f: impl FnOnce() -> R) -> R {
    marked(device, MARK_BEGIN, name, f)
}

/// A [`scope`] whose elementwise ops and reductions are the model's core arithmetic, not
/// overhead: they count as the `full` convention counts them (1 per element) under every
/// convention. For arithmetic that replaces a matmul or a convolution, such as the complex
/// products of an FFT convolution (6 FLOPs per complex multiply, 2 per complex addition), which
/// torch's counter would not see.
pub fn counted_scope<R>(device: &Device, name: &str, f: impl FnOnce() -> R) -> R {
    marked(device, MARK_BEGIN_COUNTED, name, f)
}

fn marked<R>(device: &Device, begin: &str, name: &str, f: impl FnOnce() -> R) -> R {
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
    mark(&format!("{begin}{name}"));
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

/// What the closure given to [`capture`] declares: the model's inputs, its parameters.
pub struct Capture {
    device: Device,
    inputs: Vec<TensorId>,
    params: Vec<(TensorId, u128)>,
    buffers: Vec<(TensorId, u128)>,
    owners: BTreeMap<TensorId, String>,
}

fn id<const D: usize>(t: &Tensor<D>) -> TensorId {
    t.clone()
        .try_into_primitive::<burn_capture::CaptureBackend>()
        .expect("flop-count: tensor is not on the capture device given by Capture::device()")
        .id()
}

/// Collects each parameter's capture tensor id, size and owning module path. Burn's derive
/// calls `enter_module` with each field name (the parameter's own included) and the type of
/// the struct holding it, so the path of the module that owns a parameter is the stack without
/// its last entry. BatchNorm's running statistics (`RunningState`, visited like parameters)
/// are recognised by their field names and go to the buffers; `all_buffers` sends everything
/// there.
struct ParamIds<'a> {
    params: &'a mut Vec<(TensorId, u128)>,
    buffers: &'a mut Vec<(TensorId, u128)>,
    owners: &'a mut BTreeMap<TensorId, String>,
    path: Vec<(String, String)>,
    all_buffers: bool,
}

impl ModuleVisitor for ParamIds<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.push((name.to_string(), container_type.to_string()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val();
        let tid = id(&t);
        let entry = (tid, t.shape().num_elements() as u128);
        let running_stat = matches!(
            self.path.last(),
            Some((field, container)) if container == "Struct:BatchNorm"
                && (field == "running_mean" || field == "running_var")
        );
        if self.all_buffers || running_stat {
            self.buffers.push(entry);
        } else {
            self.params.push(entry);
        }
        let module = &self.path[..self.path.len().saturating_sub(1)];
        let module = if module.is_empty() {
            "(root)".to_string()
        } else {
            module.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(".")
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

    /// Declares a module's parameters (they need gradients). BatchNorm's running statistics
    /// are declared as buffers.
    pub fn params<M: Module>(&mut self, module: &M) {
        self.declare(module, false);
    }

    /// Declares every float tensor of a module as a buffer: state that is not trained (running
    /// statistics of your own modules, frozen weights). Buffers need no gradient and are listed
    /// apart from the parameters.
    pub fn buffers<M: Module>(&mut self, module: &M) {
        self.declare(module, true);
    }

    fn declare<M: Module>(&mut self, module: &M, all_buffers: bool) {
        module.visit(&mut ParamIds {
            params: &mut self.params,
            buffers: &mut self.buffers,
            owners: &mut self.owners,
            path: Vec::new(),
            all_buffers,
        });
    }
}

/// A captured forward: operations in order, with the declared inputs and parameters.
pub struct Graph {
    /// Every recorded operation.
    pub operations: Vec<OperationIr>,
    inputs: Vec<TensorId>,
    params: Vec<(TensorId, u128)>,
    buffers: Vec<(TensorId, u128)>,
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
        buffers: Vec::new(),
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
        buffers: cx.buffers,
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
    /// Buffers (running statistics) this module owns directly.
    pub buffers: u128,
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
    /// Backward when only parameters need gradients; `None` when no parameter was declared
    /// (then nothing is known to need one: declare them with [`Capture::params`]).
    pub backward_params: Option<u128>,
    /// Backward when parameters and the declared inputs need gradients; `None` when neither
    /// was declared.
    pub backward_params_and_input: Option<u128>,
    /// Declared parameters' element count (buffers excluded).
    pub params: u128,
    /// Declared buffers' element count (BatchNorm's running statistics, [`Capture::buffers`]).
    pub buffers: u128,
    /// What the counts cannot show, in words (nothing declared, say).
    pub warnings: Vec<String>,
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
            "buffers",
            "bytes",
        ] {
            let s = match &v[key] {
                serde_json::Value::Null => serde_json::Value::Null,
                other => serde_json::Value::String(other.to_string()),
            };
            v[format!("{key}_str")] = s;
        }
        v
    }

    /// A plain-text table: per op kind, the totals, per module (every column headed).
    pub fn to_table(&self) -> String {
        let unit = match self.convention.unit {
            Unit::Flops => "FLOPs",
            Unit::Macs => "MACs",
        };
        let opt = |v: Option<u128>| v.map_or_else(|| "n/a".to_string(), |v| v.to_string());
        let mut out = format!(
            "{:<24} {:>8} {:>22} {:>16}\n",
            "op",
            "count",
            format!("forward {unit}"),
            "bytes"
        );
        for (name, row) in &self.by_op {
            out += &format!("{name:<24} {:>8} {:>22} {:>16}\n", row.count, row.forward, row.bytes);
        }
        out += &format!(
            "total forward {}  backward (params) {}  backward (params+input) {}  params {}  buffers {}  bytes {}\n",
            self.forward,
            opt(self.backward_params),
            opt(self.backward_params_and_input),
            self.params,
            self.buffers,
            self.bytes
        );
        out += &format!(
            "\n{:<32} {:>22} {:>20} {:>12} {:>10} {:>16} {:>10}\n",
            "module",
            format!("forward {unit}"),
            "MACs",
            "params",
            "buffers",
            "bytes",
            format!("{unit}/B")
        );
        for m in &self.modules {
            out += &format!(
                "{:<32} {:>22} {:>20} {:>12} {:>10} {:>16} {:>10.3}\n",
                m.path,
                m.flops,
                m.macs,
                m.params,
                m.buffers,
                m.bytes,
                m.arithmetic_intensity()
            );
        }
        for (name, n) in &self.unsupported {
            out += &format!("UNSUPPORTED: {name} ×{n} (not counted)\n");
        }
        for w in &self.warnings {
            out += &format!("WARNING: {w}\n");
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
        // Open scopes: name, and whether its arithmetic counts under every convention.
        let mut scopes: Vec<(String, bool)> = Vec::new();
        let add = |a: u128, b: u128| a.checked_add(b).expect("flop-count: count overflows u128");
        for op in &self.operations {
            if let OperationIr::Custom(c) = op {
                if let Some(name) = c.id.strip_prefix(MARK_BEGIN) {
                    scopes.push((name.to_string(), false));
                } else if let Some(name) = c.id.strip_prefix(MARK_BEGIN_COUNTED) {
                    scopes.push((name.to_string(), true));
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
            let cost = rules::cost(op, category, &pads);
            let here = Convention {
                full: convention.full || scopes.iter().any(|(_, counted)| *counted),
                ..*convention
            };
            let convention = &here;
            let fwd = cost.forward(convention);
            let moved = rules::bytes(op);
            forward = add(forward, fwd);
            bytes = add(bytes, moved);
            let row = by_op.entry(name).or_default();
            row.count += 1;
            row.forward = add(row.forward, fwd);
            row.bytes = add(row.bytes, moved);
            let path = op_owner.unwrap_or_else(|| {
                if scopes.is_empty() {
                    UNATTRIBUTED.to_string()
                } else {
                    scopes.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join("/")
                }
            });
            let m = modules.entry(path.clone()).or_insert_with(|| ModuleRow {
                path,
                ..Default::default()
            });
            m.flops = add(m.flops, fwd);
            m.macs = add(m.macs, cost.macs_counted(convention));
            m.bytes = add(m.bytes, moved);
            for (mode, set) in needs.iter_mut().enumerate() {
                let grads: Vec<bool> = op.inputs().map(|t| set.contains(&t.id)).collect();
                if !grads.iter().any(|g| *g) {
                    continue;
                }
                backward[mode] = add(backward[mode], cost.backward(convention, &grads));
                for out in op.outputs() {
                    if out.dtype.is_float() {
                        set.insert(out.id);
                    }
                }
            }
        }
        let unique: BTreeMap<TensorId, u128> = self.params.iter().copied().collect();
        let unique_buffers: BTreeMap<TensorId, u128> = self.buffers.iter().copied().collect();
        for (tid, n, buffer) in unique
            .iter()
            .map(|(t, n)| (t, n, false))
            .chain(unique_buffers.iter().map(|(t, n)| (t, n, true)))
        {
            let path = &self.owners[tid];
            let m = modules.entry(path.clone()).or_insert_with(|| ModuleRow {
                path: path.clone(),
                ..Default::default()
            });
            if buffer {
                m.buffers += n;
            } else {
                m.params += n;
            }
        }
        let mut warnings = Vec::new();
        if self.params.is_empty() {
            warnings.push(
                "no parameters were declared (Capture::params or Capture::model): nothing is known to need a \
                 gradient, so the backward counts are not reported"
                    .to_string(),
            );
        }
        Report {
            modules: modules.into_values().collect(),
            convention: *convention,
            forward,
            backward_params: (!self.params.is_empty()).then_some(backward[0]),
            backward_params_and_input: (!self.params.is_empty() || !self.inputs.is_empty()).then_some(backward[1]),
            // A module declared twice is counted once.
            params: unique.values().sum(),
            buffers: unique_buffers.values().sum(),
            warnings,
            bytes,
            by_op,
            unsupported,
        }
    }
}
