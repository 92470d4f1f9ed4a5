//! Every cell and stage runs on Burn's capture device (records the op graph, holds no data):
//! no `forward` reads tensor data back to the host. And the Purkinje dendrite's recorded
//! arithmetic is the essay's 5.0e10 FLOPs on every algorithm path.

use burn::tensor::{Device, Tensor};
use burn_ir::{FloatOperationIr, ModuleOperationIr, OperationIr};
use neuron_nn::*;

/// Records `f` on a fresh capture device and returns the operations.
fn capture(f: impl FnOnce(&Device)) -> Vec<OperationIr> {
    let device = Device::capture();
    let graph = device
        .capture_scope(|scope| {
            f(&device);
            scope.complete([], [])
        })
        .expect("capture");
    graph.graph.operations
}

/// Multiply-adds × 2 of the matmuls and convolutions (torch's convention), read off the graph.
fn matmul_conv_flops(ops: &[OperationIr]) -> u128 {
    let n = |s: &burn_ir::TensorIr| s.shape.iter().map(|&d| d as u128).product::<u128>();
    ops.iter()
        .map(|op| match op {
            OperationIr::Float(_, FloatOperationIr::Matmul(m)) => {
                let k = *m.lhs.shape.last().unwrap() as u128;
                2 * n(&m.out) * k
            }
            OperationIr::Module(ModuleOperationIr::Conv3d(c)) => 2 * n(&c.out) * n(&c.weight) / c.weight.shape[0] as u128,
            OperationIr::Module(ModuleOperationIr::Conv1d(c)) => 2 * n(&c.out) * n(&c.weight) / c.weight.shape[0] as u128,
            _ => 0,
        })
        .sum()
}

#[test]
fn the_purkinje_dendrite_is_5e10_flops_on_every_path() {
    for algorithm in [DendriteAlgorithm::Direct, DendriteAlgorithm::Expanded, DendriteAlgorithm::Auto] {
        let ops = capture(|device| {
            let dendrites = DendritesConfig::new(100, 1000, [10, 1000, 5]).with_algorithm(algorithm).init(device);
            let y = dendrites.forward(Tensor::<3>::zeros([1, 100_000, 5], device));
            assert_eq!(y.dims(), [1, 1, 100, 1000, 5]);
        });
        assert_eq!(matmul_conv_flops(&ops), 50_000_000_000, "{algorithm:?}");
    }
}

#[test]
fn every_cell_and_population_runs_on_the_capture_device() {
    for config in [NeuronConfig::granule(), NeuronConfig::purkinje(), NeuronConfig::pyramidal()] {
        let inputs = config.synapses.inputs;
        let ops = capture(|device| {
            let neuron = config.init(device);
            let y = neuron.forward(Tensor::<3>::zeros([2, inputs, 5], device));
            assert_eq!(y.dims(), [2, config.axon.terminals, 5]);
        });
        // Dendrites + soma, per batch element; the soma is 2 FLOPs × 5 taps × 5 steps.
        let d = &config.dendrites;
        let taps = (d.kernel.iter().product::<usize>() * d.channels) as u128;
        let dense = 2 * 2 * (d.positions * d.dendrites * 5) as u128 * taps + 2 * 50;
        let expanded_waste = if d.algorithm.resolve(d.kernel[1], d.dendrites) == DendriteAlgorithm::Expanded {
            d.dendrites as u128 / d.kernel[1] as u128
        } else {
            1
        };
        let counted = matmul_conv_flops(&ops);
        assert!(counted >= dense && counted <= dense * expanded_waste.max(1) + 100, "{}: {counted} vs {dense}", config.name);
    }
    let ops = capture(|device| {
        let population = PopulationConfig::new(NeuronConfig::granule(), 4096).init(device);
        let y = population.forward(Tensor::<3>::zeros([1, 4, 5], device));
        assert_eq!(y.dims(), [1, 4096, 100, 5]);
    });
    // 4096 × (2 × 80 outputs × 60 taps + soma 50).
    assert_eq!(matmul_conv_flops(&ops), 4096 * (2 * 80 * 60 + 50));
}
