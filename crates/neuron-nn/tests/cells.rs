//! Whole neurons, the essay's presets, and populations.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Gradients;
use burn::tensor::{Device, Distribution, Tensor};
use neuron_nn::testing::{assert_close, seed_lock, values};
use neuron_nn::*;

/// A small cell that exercises every mode a preset does not: dense synapses, two channels,
/// a wide (expanded-path) dendrite kernel, dendrite bias, bistable summation, smooth rates.
fn small_cell() -> NeuronConfig {
    NeuronConfig::new(
        "test cell".into(),
        SynapsesConfig::new(3, 2 * 3 * 8),
        DendritesConfig::new(3, 8, [2, 8, 3])
            .with_channels(2)
            .with_out_channels(2)
            .with_bias(true),
        DendriticSpikeConfig::new().with_window(Some(2)),
        SummationConfig::new()
            .with_mode(SummationMode::Bistable {
                threshold: 1.0,
                strength: 0.3,
                width: 1.0,
            })
            .with_rate(RateFunction::Softplus),
        SomaConfig::new().with_rate(RateFunction::Softplus),
        PoissonDropoutConfig::new(),
        PoissonSpikesConfig::new(),
        AxonConfig::new(4),
    )
}

#[test]
fn presets_have_the_documented_sizes_and_parameter_counts() {
    let device = Device::flex();
    // By hand: synapse gains + dendrite kernel + spike (gain, threshold) + summation + soma (5 + bias) + axon.
    let cases = [
        (NeuronConfig::granule(), 4, 16, 100, 16 + 3 * 4 * 5 + 2 + 6 + 100),
        (
            NeuronConfig::purkinje(),
            100_000,
            100_000,
            1000,
            100_000 + 10 * 1000 * 5 + 2 + 6 + 1000,
        ),
        (
            NeuronConfig::pyramidal(),
            10_000,
            10_000,
            1000,
            10_000 + 5 * 10 * 5 + 2 + 2 + 6 + 1000,
        ),
    ];
    for (config, inputs, sites, terminals, params) in cases {
        assert_eq!(
            (config.synapses.inputs, config.synapses.sites, config.axon.terminals),
            (inputs, sites, terminals)
        );
        assert_eq!(config.dendrites.sites(), sites, "{}", config.name);
        assert_eq!(config.num_params(), params, "{}: config count", config.name);
        assert_eq!(
            config.init(&device).num_params(),
            params,
            "{}: module count",
            config.name
        );
        let json = serde_json::to_string(&config).unwrap();
        let back: NeuronConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(
            serde_json::to_string(&back).unwrap(),
            json,
            "{}: JSON round trip",
            config.name
        );
    }
    assert_eq!(NeuronConfig::granule().dendrites.kernel, [3, 4, 5]);
    assert_eq!(NeuronConfig::purkinje().dendrites.kernel, [10, 1000, 5]);
    assert_eq!(
        NeuronConfig::purkinje().init(&device).dendrites.resolved_algorithm(),
        DendriteAlgorithm::Expanded
    );
}

#[test]
fn a_population_equals_its_neurons_run_one_by_one() {
    let _lock = seed_lock();
    for (name, device) in devices::cpu() {
        for config in [NeuronConfig::granule(), small_cell()] {
            device.seed(5);
            let population = PopulationConfig::new(config.clone(), 5).init(&device);
            let inputs = config.synapses.inputs;
            let x = Tensor::<3>::random([2, inputs, 7], Distribution::Default, &device);
            let y = population.forward(x.clone());
            assert_eq!(y.dims(), [2, 5, config.axon.terminals, 7]);
            let each: Vec<Tensor<3>> = (0..5).map(|i| population.neuron(i).forward(x.clone())).collect();
            assert_close(
                y,
                Tensor::stack(each, 1),
                1e-5,
                &format!("{name} {}: shared input", config.name),
            );

            let xs = Tensor::<4>::random([2, 5, inputs, 7], Distribution::Default, &device);
            let y = population.forward_each(xs.clone());
            let each: Vec<Tensor<3>> = (0..5)
                .map(|i| population.neuron(i).forward(xs.clone().narrow(1, i, 1).squeeze_dim(1)))
                .collect();
            assert_close(
                y,
                Tensor::stack(each, 1),
                1e-5,
                &format!("{name} {}: per-neuron input", config.name),
            );

            // And back: neurons → population → the same outputs.
            let neurons: Vec<Neuron> = (0..5).map(|i| population.neuron(i)).collect();
            let again = Population::from_neurons(&config, &neurons);
            assert_eq!(values(again.forward(x.clone())), values(population.forward(x)));
        }
    }
}

struct AllGrads<'a> {
    grads: &'a Gradients,
    missing: Vec<String>,
    seen: usize,
}

impl ModuleVisitor for AllGrads<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.seen += 1;
        match param.val().grad(self.grads) {
            Some(g) if values(g.clone().abs().sum())[0] > 0.0 => {}
            _ => self.missing.push(format!("{:?} {:?}", param.id, param.dims())),
        }
    }
}

#[test]
fn gradients_reach_every_parameter_of_a_neuron() {
    let _lock = seed_lock();
    let device = Device::flex().autodiff();
    for config in [
        small_cell(),
        NeuronConfig {
            summation: SummationConfig::new()
                .with_mode(SummationMode::Sublinear { scale: 3.0 })
                .with_rate(RateFunction::Softplus),
            soma: SomaConfig::new().with_rate(RateFunction::Softplus),
            ..NeuronConfig::granule()
        },
    ] {
        device.seed(9);
        let neuron = config.init(&device);
        let x = Tensor::<3>::random([4, config.synapses.inputs, 9], Distribution::Default, &device);
        let grads = neuron.forward(x).sum().backward();
        let mut v = AllGrads {
            grads: &grads,
            missing: vec![],
            seen: 0,
        };
        neuron.visit(&mut v);
        assert!(v.seen >= 8, "{}: visited only {} parameters", config.name, v.seen);
        assert!(v.missing.is_empty(), "{}: no gradient for {:?}", config.name, v.missing);
    }
}

#[test]
fn a_population_trains_on_an_autodiff_device() {
    let _lock = seed_lock();
    let device = Device::flex().autodiff();
    device.seed(12);
    let config = small_cell();
    let population = PopulationConfig::new(config.clone(), 3).init(&device);
    let x = Tensor::<3>::random([2, 3, 6], Distribution::Default, &device);
    let grads = population.forward(x).sum().backward();
    let mut v = AllGrads {
        grads: &grads,
        missing: vec![],
        seen: 0,
    };
    population.visit(&mut v);
    assert!(
        v.seen >= 10 && v.missing.is_empty(),
        "visited {}, no gradient for {:?}",
        v.seen,
        v.missing
    );
    // And a neuron taken out of it is trainable on its own.
    let one = population.neuron(1);
    let grads = one
        .forward(Tensor::<3>::random([2, 3, 6], Distribution::Default, &device))
        .sum()
        .backward();
    assert!(one.dendrites.weight.val().grad(&grads).is_some());
}

#[test]
fn evaluation_turns_poisson_dropout_and_spikes_off() {
    let _lock = seed_lock();
    let device = Device::flex().autodiff();
    device.seed(10);
    let config = small_cell();
    let neuron = config.init(&device);
    let x = Tensor::<3>::random([3, 3, 12], Distribution::Default, &device);
    let eval = neuron.valid();
    let (a, b) = (
        values(eval.forward(x.clone().inner())),
        values(eval.forward(x.clone().inner())),
    );
    assert_eq!(a, b, "evaluation is deterministic");
    // Training samples: two draws differ, and blocked steps are exact zeros at the axon.
    let (t1, t2) = (values(neuron.forward(x.clone())), values(neuron.forward(x)));
    assert_ne!(t1, t2, "training samples");
    assert!(t1.contains(&0.0), "some steps blocked");
    assert!(
        a.iter().all(|v| *v > 0.0),
        "evaluation outputs expected counts of a softplus rate (> 0)"
    );
}

#[test]
fn bad_input_names_the_cell() {
    let device = Device::flex();
    let neuron = NeuronConfig::granule().init(&device);
    let e = neuron.try_forward(Tensor::<3>::zeros([1, 5, 5], &device)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "granule > Synapses: expected input of shape [batch, 4, time], got [1, 5, 5]"
    );
    let population = PopulationConfig::new(NeuronConfig::granule(), 3).init(&device);
    let e = population
        .try_forward(Tensor::<3>::zeros([1, 5, 5], &device))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "granule population: expected input of shape [batch, 4, time], got [1, 5, 5]"
    );

    let mut bad = NeuronConfig::granule();
    bad.dendrites.positions = 3;
    let e = bad.validate().unwrap_err().to_string();
    assert!(
        e.contains("granule: synapses produce 16 sites but the dendrites lay out 12"),
        "{e}"
    );
    assert!(PopulationConfig::new(NeuronConfig::granule(), 0).validate().is_err());
}

#[test]
fn a_saved_neuron_rebuilds_from_the_file_alone() {
    let _lock = seed_lock();
    let device = Device::flex();
    device.seed(11);
    let config = small_cell();
    let neuron = config.init(&device);
    let dir = std::env::temp_dir().join(format!("neuron-nn-cells-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cell.nnn");
    neuron.save(&config, &path).unwrap();
    let (loaded_config, loaded) = Neuron::load(&path, &device).unwrap();
    assert_eq!(
        serde_json::to_string(&loaded_config).unwrap(),
        serde_json::to_string(&config).unwrap()
    );
    let x = Tensor::<3>::random([2, 3, 6], Distribution::Default, &device);
    assert_eq!(values(loaded.forward(x.clone())), values(neuron.forward(x)));

    // A truncated file is an error.
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(Neuron::load(&path, &device), Err(LoadError::Mismatch { .. })));
}
