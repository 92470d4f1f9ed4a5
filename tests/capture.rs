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

/// The FFT path's work on the Purkinje dendrite, by hand (2.5·N·log₂N per transformed line).
/// Time (5 steps) is folded into channels; positions are padded to 128, dendrites to 2048.
/// Input, time leading `[5, 100, 1000]`: rfft over dendrites, 500 lines × 2.5·2048·11 =
/// 28 160 000; a complex FFT over positions (two real ones) on 5·1025 lines × 2.5·128·7, twice:
/// 22 960 000. Kernel `[5, 10, 1000]`: 50 lines × 56 320 = 2 816 000, then 22 960 000. The
/// complex spectrum keeps 65 bins and their 65 mirror images along positions (130, not 128).
/// Products: 6 real ops per complex product over 15 (step, earlier step) pairs of 130·1025 bins,
/// and 2 additions for each of the 4 later taps over 5·130·1025: 90 + 40 = 130 × 133 250 =
/// 17 322 500. Inverse: two real inverse FFTs over positions, 22 960 000, then the real one over
/// the 500 kept rows, 28 160 000. Total 145 338 500, against 5.0e10 for the dense paths.
const PURKINJE_FFT_FLOPS: u128 =
    28_160_000 + 22_960_000 + 2_816_000 + 22_960_000 + 17_322_500 + 22_960_000 + 28_160_000;

#[test]
fn the_purkinje_dendrite_counts_its_true_work_on_every_path() {
    for (algorithm, want) in [
        (DendriteAlgorithm::Direct, 50_000_000_000),
        (DendriteAlgorithm::Expanded, 50_000_000_000),
        (DendriteAlgorithm::Fft, PURKINJE_FFT_FLOPS),
        // Auto on the capture device plans as on flex: the FFT.
        (DendriteAlgorithm::Auto, PURKINJE_FFT_FLOPS),
    ] {
        let report = count(|device| {
            let dendrites = DendritesConfig::new(100, 1000, [10, 1000, 5])
                .with_algorithm(algorithm)
                .init(device);
            let y = dendrites.forward(Tensor::<3>::zeros([1, 100_000, 5], device));
            assert_eq!(y.dims(), [1, 1, 100, 1000, 5]);
            vec![]
        });
        assert_eq!(report.forward, want, "{algorithm:?}");
        assert!(report.unsupported.is_empty(), "{:?}", report.unsupported);
    }
    assert_eq!(PURKINJE_FFT_FLOPS, 145_338_500);
}

#[test]
fn every_cell_and_population_runs_on_the_capture_device() {
    for mut config in [
        NeuronConfig::granule(),
        NeuronConfig::purkinje(),
        NeuronConfig::pyramidal(),
    ] {
        // The dense convolution's count, whatever Auto would take (the FFT for two of these).
        config.dendrites.algorithm = DendriteAlgorithm::Direct;
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
        let dense = 2 * 2 * (d.positions * d.dendrites * 5) as u128 * taps + 2 * 2 * 25;
        assert_eq!(report.forward, dense, "{}", config.name);
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
    // Auto takes the FFT here: its transforms and products are the dendrites' rows (the
    // kernel's spectrum comes from their weight, the rest runs in their scopes); the full
    // convention adds the path's elementwise bookkeeping (negations, scaling) to the exact
    // torch-convention count of the_purkinje_dendrite_counts_its_true_work_on_every_path.
    let dendrites: u128 = report
        .modules
        .iter()
        .filter(|m| m.path.starts_with("dendrites"))
        .map(|m| m.flops)
        .sum();
    assert!(
        (PURKINJE_FFT_FLOPS..2 * PURKINJE_FFT_FLOPS).contains(&dendrites),
        "{dendrites}"
    );
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
    assert_eq!(aware(DendriteAlgorithm::Fused), 2 * 10 * 12 * 15);
    // Auto counts what its plan takes on the capture device (flex's costs on this machine); the
    // fused loop is recorded as the direct path's convolution, so it counts the in-grid taps.
    let plan = neuron_nn::dendrites::plan([1, 1, 4, 4, 5], [1, 1, 3, 4, 5], 1, &burn::tensor::Device::capture());
    let recorded = match plan.algorithm {
        DendriteAlgorithm::Fused => DendriteAlgorithm::Direct,
        other => other,
    };
    assert_eq!(aware(DendriteAlgorithm::Auto), aware(recorded), "{plan}");
    assert_eq!(plan.estimate(DendriteAlgorithm::Fused).flops, (2 * 10 * 12 * 15) as f64);
}
