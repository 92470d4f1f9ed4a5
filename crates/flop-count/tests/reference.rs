//! DESIGN.md's reference rows (torch 2.15 FlopCounterMode, fp32), reproduced through burn-nn
//! modules, and hand counts for stride, dilation, groups and padding.

use burn::module::Module;
use burn::nn::conv::{Conv1dConfig, Conv2dConfig, Conv3dConfig};
use burn::nn::{LinearConfig, PaddingConfig1d, PaddingConfig2d, Relu};
use burn::tensor::Tensor;
use flop_count::{Convention, Report, capture};

/// (forward, backward params, backward params + input) under torch's convention.
fn torch(report: &Report) -> (u128, u128, u128) {
    (
        report.forward,
        report.backward_params.expect("parameters declared"),
        report.backward_params_and_input.expect("parameters declared"),
    )
}

fn count<M: Module, const D: usize, const E: usize>(
    build: impl FnOnce(&burn::tensor::Device) -> M,
    input: [usize; D],
    forward: impl FnOnce(&M, Tensor<D>) -> Tensor<E>,
    convention: Convention,
) -> Report {
    capture(|cx| {
        let model = build(cx.device());
        let x = cx.input(Tensor::<D>::zeros(input, cx.device()));
        cx.params(&model);
        let _ = forward(&model, x);
    })
    .unwrap()
    .count(&convention)
}

#[test]
fn linear_100000_to_1() {
    let r = count(
        |d| LinearConfig::new(100_000, 1).init(d),
        [1, 100_000],
        |m, x| m.forward(x),
        Convention::torch(),
    );
    assert_eq!(torch(&r), (200_000, 200_000, 400_000));
    assert_eq!(r.params, 100_001);
    assert!(r.unsupported.is_empty(), "{:?}", r.unsupported);
}

#[test]
fn conv3d_3x4x5() {
    let r = count(
        |d| Conv3dConfig::new([1, 1], [3, 4, 5]).init(d),
        [2, 1, 6, 8, 10],
        |m, x| m.forward(x),
        Convention::torch(),
    );
    assert_eq!(torch(&r), (28_800, 28_800, 57_600));
}

#[test]
fn conv1d_16_to_32() {
    let r = count(
        |d| Conv1dConfig::new(16, 32, 5).init(d),
        [4, 16, 50],
        |m, x| m.forward(x),
        Convention::torch(),
    );
    assert_eq!(torch(&r), (942_080, 942_080, 1_884_160));
}

#[derive(Module, Debug)]
struct Chain {
    linear: burn::nn::Linear,
    conv: burn::nn::conv::Conv3d,
    relu: Relu,
}

fn chain(convention: Convention) -> Report {
    count(
        |d| Chain {
            linear: LinearConfig::new(15, 60).init(d),
            conv: Conv3dConfig::new([1, 1], [3, 4, 5]).init(d),
            relu: Relu::new(),
        },
        [1, 15],
        |m, x| {
            m.relu.forward(
                m.conv
                    .forward(m.relu.forward(m.linear.forward(x)).reshape([1, 1, 3, 4, 5])),
            )
        },
        convention,
    )
}

#[test]
fn linear_relu_conv3d_relu_chain() {
    // The conv's input depends on the linear weight, so its grad-input is charged in both modes;
    // the linear's grad-input only when the input needs a gradient.
    assert_eq!(torch(&chain(Convention::torch())), (1_920, 2_040, 3_840));
}

#[test]
fn macs_are_half_and_full_adds_every_element_op() {
    let (t, m, f) = (
        chain(Convention::torch()),
        chain(Convention::macs()),
        chain(Convention::full()),
    );
    assert_eq!(torch(&m), (960, 1_020, 1_920));
    // Full: the linear's bias add (60), the two ReLUs (60 + 1).
    assert_eq!(f.forward - t.forward, 60 + 60 + 1, "{}", f.to_table());
    assert!(f.backward_params > t.backward_params);
    // Full adds exactly the elementwise ops' elements to the backward too: the bias add's grad
    // (60) and the two ReLU backward passes (60 + 1) wherever a gradient flows.
    assert_eq!(
        f.backward_params_and_input.unwrap() - t.backward_params_and_input.unwrap(),
        60 + 60 + 1
    );
}

#[test]
fn stride_padding_groups_and_dilation_by_hand() {
    // Conv2d 4→6, k3, stride 2, padding 1, groups 2 on 9×9: output 5×5×6; per output 2·(4/2)·9.
    let r = count(
        |d| {
            Conv2dConfig::new([4, 6], [3, 3])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_groups(2)
                .init(d)
        },
        [1, 4, 9, 9],
        |m, x| m.forward(x),
        Convention::torch(),
    );
    assert_eq!(torch(&r), (150 * 36, 150 * 36, 2 * 150 * 36));
    // Conv1d 2→3, k3, dilation 2 on 10: output 10 − 4 = 6; per output 2·2·3.
    let r = count(
        |d| {
            Conv1dConfig::new(2, 3, 3)
                .with_dilation(2)
                .with_padding(PaddingConfig1d::Valid)
                .init(d)
        },
        [1, 2, 10],
        |m, x| m.forward(x),
        Convention::torch(),
    );
    assert_eq!(r.forward, 18 * 12);
}

#[test]
fn counts_scale_linearly_with_batch() {
    let at = |b| {
        count(
            |d| Conv1dConfig::new(16, 32, 5).init(d),
            [b, 16, 50],
            |m, x| m.forward(x),
            Convention::full(),
        )
    };
    let (one, seven) = (at(1), at(7));
    assert_eq!(seven.forward, 7 * one.forward);
    assert_eq!(
        seven.backward_params_and_input.unwrap(),
        7 * one.backward_params_and_input.unwrap()
    );
}

#[test]
fn an_op_without_a_rule_is_reported_not_zero() {
    let r = capture(|cx| {
        let x = cx.input(Tensor::<2>::zeros([3, 3], cx.device()));
        let _ = x.clone().cross(x, 1);
    })
    .unwrap()
    .count(&Convention::full());
    assert_eq!(r.unsupported.get("Cross"), Some(&1), "{:?}", r.unsupported);
    assert!(r.to_table().contains("UNSUPPORTED: Cross ×1"));
}

#[test]
fn a_capture_without_parameters_says_so() {
    let r = capture(|cx| {
        let x = Tensor::<2>::zeros([3, 8], cx.device());
        let _ = x.clone().matmul(x.transpose());
    })
    .unwrap()
    .count(&Convention::torch());
    assert_eq!(r.forward, 2 * 3 * 3 * 8);
    assert_eq!((r.backward_params, r.backward_params_and_input), (None, None));
    assert!(
        r.warnings[0].starts_with("no parameters were declared"),
        "{:?}",
        r.warnings
    );
    assert!(r.to_table().contains("backward (params) n/a"), "{}", r.to_table());
    assert!(r.to_table().contains("WARNING: no parameters were declared"));
    assert_eq!(r.to_json()["backward_params"], serde_json::Value::Null);
    // An input alone: the input's backward is known.
    let r = capture(|cx| {
        let x = cx.input(Tensor::<2>::zeros([3, 8], cx.device()));
        let _ = x.clone().matmul(x.transpose());
    })
    .unwrap()
    .count(&Convention::torch());
    assert_eq!(r.backward_params_and_input, Some(2 * 2 * 3 * 3 * 8));
}

#[test]
fn batch_norm_statistics_are_buffers_not_parameters() {
    use burn::nn::BatchNormConfig;
    let r = count(
        |d| BatchNormConfig::new(8).init(d),
        [2, 8, 5, 5],
        |m, x| m.forward(x),
        Convention::full(),
    );
    // γ and β are parameters; the running mean and variance are buffers (torch: parameters()
    // lists 16, buffers() 16 plus a counter).
    assert_eq!((r.params, r.buffers), (16, 16));
    assert_eq!(r.modules.iter().map(|m| m.buffers).sum::<u128>(), 16);
    // Buffers declared explicitly.
    let r = capture(|cx| {
        let frozen = LinearConfig::new(4, 2).init(cx.device());
        cx.buffers(&frozen);
        let x = cx.input(Tensor::<2>::zeros([1, 4], cx.device()));
        let _ = frozen.forward(x);
    })
    .unwrap()
    .count(&Convention::torch());
    assert_eq!((r.params, r.buffers), (0, 10));
}

#[test]
fn the_module_table_heads_every_column() {
    let table = chain(Convention::torch()).to_table();
    let module_header = table.lines().find(|l| l.starts_with("module")).unwrap();
    let row = table.lines().find(|l| l.starts_with("conv ")).unwrap();
    assert_eq!(
        module_header.split_whitespace().count() - 1, // "forward FLOPs" is two words
        row.split_whitespace().count(),
        "every column has a header:\n{module_header}\n{row}"
    );
    for h in ["MACs", "params", "buffers", "bytes", "FLOPs/B"] {
        assert!(module_header.contains(h), "{module_header}");
    }
}

#[test]
fn padding_aware_crops_transposed_convolutions() {
    use burn::nn::conv::ConvTranspose1dConfig;
    // ConvTranspose1d 1→1, k3, stride 1, padding 1 on 4 inputs: output 4; input i, tap j lands
    // on i + j − 1. Inside [0, 4): i = 0: taps 1, 2; i = 1, 2: all 3; i = 3: taps 0, 1 → 10.
    let t = |convention| {
        count(
            |d| ConvTranspose1dConfig::new([1, 1], 3).with_padding(1).init(d),
            [1, 1, 4],
            |m, x| m.forward(x),
            convention,
        )
    };
    assert_eq!(t(Convention::torch()).forward, 2 * 4 * 3);
    let aware = t(Convention::padding_aware());
    assert_eq!(aware.forward, 2 * 10);
    assert_eq!(aware.backward_params_and_input, Some(2 * 2 * 10));
}

#[test]
fn fourier_transforms_count_under_every_convention() {
    // rfft along the last axis of [3, 8]: 3 lines of N = 8, 2.5·8·3 = 60 FLOPs each; irfft
    // back to [3, 8]: the same.
    let graph = capture(|cx| {
        let x = cx.input(Tensor::<2>::zeros([3, 8], cx.device()));
        let (re, im) = burn::signal::rfft(x, 1, None);
        let _ = burn::signal::irfft(re, im, 1, Some(8));
    })
    .unwrap();
    let torch = graph.count(&Convention::torch());
    assert_eq!(torch.forward, 2 * 3 * 60);
    assert_eq!(torch.by_op["signal::rfft"].forward, 180);
    assert_eq!(torch.by_op["signal::irfft"].forward, 180);
    assert_eq!(torch.backward_params_and_input, Some(2 * 3 * 60));
    assert_eq!(graph.count(&Convention::macs()).forward, 180);
    // rfft of a length-4 signal padded to n = 16: the transform length is what costs.
    let r = capture(|cx| {
        let x = cx.input(Tensor::<2>::zeros([2, 4], cx.device()));
        let _ = burn::signal::rfft(x, 1, Some(16));
    })
    .unwrap()
    .count(&Convention::torch());
    assert_eq!(r.forward, 2 * 5 * 16 * 4 / 2);
}

#[test]
fn json_round_trips_and_carries_big_counts_as_strings() {
    let r = chain(Convention::full());
    let json = r.to_json();
    assert_eq!(json["forward_str"], serde_json::Value::String(r.forward.to_string()));
    let back: Report = serde_json::from_value(json).unwrap();
    assert_eq!(back, r);
}

#[test]
fn module_rows_add_up_to_the_totals() {
    let r = chain(Convention::full());
    let paths: Vec<&str> = r.modules.iter().map(|m| m.path.as_str()).collect();
    assert!(paths.contains(&"linear") && paths.contains(&"conv"), "{paths:?}");
    let sum = |f: fn(&flop_count::ModuleRow) -> u128| r.modules.iter().map(f).sum::<u128>();
    assert_eq!(sum(|m| m.flops), r.forward);
    assert_eq!(sum(|m| m.bytes), r.bytes);
    assert_eq!(sum(|m| m.params), r.params);
    let row = |p: &str| r.modules.iter().find(|m| m.path == p).unwrap().clone();
    // The linear's matmul (1800) and bias add (60); the conv (120, bias inside the op).
    assert_eq!(row("linear").flops, 1_860);
    assert_eq!(row("conv").flops, 120);
    assert_eq!(
        (row("linear").macs, row("conv").macs),
        (900, 60),
        "MACs exclude the elementwise ops"
    );
    assert_eq!((row("linear").params, row("conv").params), (15 * 60 + 60, 60 + 1));
    // The ReLUs read no parameter: unattributed.
    assert_eq!(row(flop_count::UNATTRIBUTED).flops, 61);
}

#[test]
fn an_existing_model_counts_without_copying_its_weights() {
    let flex = burn::tensor::Device::flex();
    let trained = LinearConfig::new(1000, 10).init(&flex);
    let _ = trained.forward(Tensor::<2>::ones([1, 1000], &flex)); // weights exist on flex
    let graph = capture(|cx| {
        let model = cx.model(trained.clone());
        let x = cx.input(Tensor::<2>::zeros([4, 1000], cx.device()));
        let _ = model.forward(x);
    })
    .unwrap();
    // No operation carries data onto the capture device.
    assert!(
        !graph
            .operations
            .iter()
            .any(|op| matches!(op, burn_ir::OperationIr::Init(_)))
    );
    let r = graph.count(&Convention::torch());
    assert_eq!(torch(&r), (2 * 4 * 1000 * 10, 2 * 4 * 1000 * 10, 4 * 4 * 1000 * 10));
    assert_eq!(r.params, 1000 * 10 + 10);
    // The original is untouched and still computes on flex.
    assert_eq!(trained.forward(Tensor::<2>::ones([1, 1000], &flex)).dims(), [1, 10]);
}

#[test]
fn padding_aware_counts_only_taps_inside_the_input() {
    // Conv2d 1→1, k3, padding 1 on 4×4: per axis the 4 outputs see 2, 3, 3, 2 real taps.
    let conv = |convention| {
        count(
            |d| {
                Conv2dConfig::new([1, 1], [3, 3])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(d)
            },
            [1, 1, 4, 4],
            |m, x| m.forward(x),
            convention,
        )
    };
    assert_eq!(conv(Convention::torch()).forward, 2 * 16 * 9);
    let aware = conv(Convention::padding_aware());
    assert_eq!(aware.forward, 2 * 10 * 10);
    assert_eq!(aware.backward_params_and_input, Some(2 * aware.forward));

    // Causal padding applied with `pad` before an unpadded conv1d (k3 on 6 steps): 1, 2, 3, 3, 3, 3.
    let traced = |convention| {
        count(
            |d| Conv1dConfig::new(1, 1, 3).with_padding(PaddingConfig1d::Valid).init(d),
            [1, 1, 6],
            |m, x| m.forward(x.pad([(2, 0)], burn::tensor::ops::PadMode::Constant(0.0))),
            convention,
        )
    };
    assert_eq!(traced(Convention::torch()).forward, 2 * 6 * 3);
    assert_eq!(traced(Convention::padding_aware()).forward, 2 * 15);
}

#[test]
fn scopes_name_the_rows_of_parameter_free_ops() {
    let r = capture(|cx| {
        let model = Chain {
            linear: LinearConfig::new(15, 60).init(cx.device()),
            conv: Conv3dConfig::new([1, 1], [3, 4, 5]).init(cx.device()),
            relu: Relu::new(),
        };
        cx.params(&model);
        let device = cx.device().clone();
        let x = cx.input(Tensor::<2>::zeros([1, 15], &device));
        let h = flop_count::scope(&device, "hidden", || model.relu.forward(model.linear.forward(x)));
        let _ = model.relu.forward(model.conv.forward(h.reshape([1, 1, 3, 4, 5])));
    })
    .unwrap()
    .count(&Convention::full());
    let row = |p: &str| r.modules.iter().find(|m| m.path == p).map(|m| m.flops);
    // The linear's ops read its parameters and stay "linear"; the ReLU inside the scope is named.
    assert_eq!(row("linear"), Some(1_860));
    assert_eq!(row("hidden"), Some(60));
    assert_eq!(row(flop_count::UNATTRIBUTED), Some(1));
    assert_eq!(r.modules.iter().map(|m| m.flops).sum::<u128>(), r.forward);
    // Off the capture device the scope only runs its closure.
    let flex = burn::tensor::Device::flex();
    assert_eq!(flop_count::scope(&flex, "x", || 41 + 1), 42);
}

#[test]
fn a_counted_scope_counts_its_arithmetic_under_every_convention() {
    let graph = capture(|cx| {
        let device = cx.device().clone();
        let a = cx.input(Tensor::<2>::zeros([4, 8], &device));
        let b = Tensor::<2>::zeros([4, 8], &device);
        // A complex product (a + ib)·(a − ib)'s real part: 2 products and an add, 32 each.
        let re = flop_count::counted_scope(&device, "products", || a.clone() * a.clone() + b.clone() * b.clone());
        // Outside: the same ops count only under `full`.
        let _ = re + a * b;
    })
    .unwrap();
    let torch = graph.count(&Convention::torch());
    assert_eq!(torch.forward, 3 * 32);
    assert_eq!(torch.modules.iter().find(|m| m.path == "products").unwrap().flops, 96);
    // Where a gradient flows (a·a and the add read the input; b·b does not), the backward
    // counts too: 1 per element per op.
    assert_eq!(torch.backward_params_and_input, Some(2 * 32));
    assert_eq!(graph.count(&Convention::full()).forward, 3 * 32 + 2 * 32);
}
