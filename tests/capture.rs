//! Every cell and stage runs on Burn's capture device (records the op graph, holds no data):
//! no `forward` reads tensor data back to the host. And the Purkinje dendrite's recorded
//! arithmetic is the essay's 5.0e10 FLOPs on every algorithm path.

use burn::tensor::{Device, Tensor};
use neuron_nn::*;

/// Records `f` on the capture device and counts it in torch's convention.
fn count(f: impl FnOnce(&Device) -> Vec<Tensor<3>>) -> flop_count::Report {
    flop_count::capture(|cx| {
        let device = cx.device().clone();
        let _ = f(&device);
    })
    .expect("capture")
    .count(&flop_count::Convention::torch())
}

#[test]
fn the_purkinje_dendrite_is_5e10_flops_on_every_path() {
    for algorithm in [
        DendriteAlgorithm::Direct,
        DendriteAlgorithm::Expanded,
        DendriteAlgorithm::Auto,
    ] {
        let report = count(|device| {
            let dendrites = DendritesConfig::new(100, 1000, [10, 1000, 5])
                .with_algorithm(algorithm)
                .init(device);
            let y = dendrites.forward(Tensor::<3>::zeros([1, 100_000, 5], device));
            assert_eq!(y.dims(), [1, 1, 100, 1000, 5]);
            vec![]
        });
        assert_eq!(report.forward, 50_000_000_000, "{algorithm:?}");
        assert!(report.unsupported.is_empty(), "{:?}", report.unsupported);
    }
}

#[test]
fn every_cell_and_population_runs_on_the_capture_device() {
    for config in [
        NeuronConfig::granule(),
        NeuronConfig::purkinje(),
        NeuronConfig::pyramidal(),
    ] {
        let inputs = config.synapses.inputs;
        let report = count(|device| {
            let neuron = config.init(device);
            let y = neuron.forward(Tensor::<3>::zeros([2, inputs, 5], device));
            assert_eq!(y.dims(), [2, config.axon.terminals, 5]);
            vec![]
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
        let counted = report.forward;
        assert!(
            counted >= dense && counted <= dense * expanded_waste.max(1) + 100,
            "{}: {counted} vs {dense}",
            config.name
        );
    }
    let report = count(|device| {
        let population = PopulationConfig::new(NeuronConfig::granule(), 4096).init(device);
        let y = population.forward(Tensor::<3>::zeros([1, 4, 5], device));
        assert_eq!(y.dims(), [1, 4096 * 100, 5]);
        vec![]
    });
    // 4096 × (2 × 80 outputs × 60 taps + soma 50).
    assert_eq!(report.forward, 4096 * (2 * 80 * 60 + 50));
    assert!(report.unsupported.is_empty(), "{:?}", report.unsupported);
}

#[test]
fn a_purkinje_cells_rows_name_its_stages_and_add_up() {
    let report = flop_count::capture(|cx| {
        let device = cx.device().clone();
        let neuron = NeuronConfig::purkinje().init(&device);
        cx.params(&neuron);
        let x = cx.input(Tensor::<3>::zeros([1, 100_000, 5], &device));
        let _ = neuron.forward(x);
    })
    .unwrap()
    .count(&flop_count::Convention::full());
    let row = |p: &str| {
        report
            .modules
            .iter()
            .find(|m| m.path == p)
            .unwrap_or_else(|| panic!("no row {p}: {:?}", report.modules))
    };
    // The expanded weight's GEMM is the dendrites' (computed from their weight alone).
    assert!(row("dendrites").flops >= 50_000_000_000);
    assert_eq!(row("dendrites").params, 50_000);
    assert_eq!(row("synapses").params, 100_000);
    assert_eq!(row("axon").params, 1000);
    assert_eq!(report.modules.iter().map(|m| m.flops).sum::<u128>(), report.forward);
    assert_eq!(report.modules.iter().map(|m| m.bytes).sum::<u128>(), report.bytes);
    assert_eq!(report.params, 151_008);
    // Parameter-free stages are named by the Neuron's scopes, not left unattributed.
    assert!(row("summation").bytes > 0 && row("soma").flops > 0);
    assert!(
        report.modules.iter().all(|m| m.path != flop_count::UNATTRIBUTED),
        "{:?}",
        report.modules
    );
}

#[test]
fn padding_aware_sees_the_direct_dendrite_paths_explicit_padding() {
    let aware = |algorithm| {
        flop_count::capture(|cx| {
            let device = cx.device().clone();
            let dendrites = DendritesConfig::new(4, 4, [3, 4, 5])
                .with_algorithm(algorithm)
                .init(&device);
            let _ = dendrites.forward(Tensor::<3>::zeros([1, 16, 5], &device));
        })
        .unwrap()
        .count(&flop_count::Convention::padding_aware())
        .forward
    };
    // Taps inside the grid per axis, by hand: positions (k3, same) 2+3+3+2 = 10; dendrites
    // (k4, 1 before) 3+4+3+2 = 12; time (k5, causal) 1+2+3+4+5 = 15. Dense: 2·80·60 = 9600.
    assert_eq!(aware(DendriteAlgorithm::Direct), 2 * 10 * 12 * 15);
    // The expanded path's zeros are inside a GEMM: it cannot see them and counts in full.
    assert_eq!(aware(DendriteAlgorithm::Expanded), 9600);
}
