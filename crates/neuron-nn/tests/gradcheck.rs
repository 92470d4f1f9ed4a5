//! Finite-difference gradient checks of every stage with parameters, in f64.
//!
//! Own test binary: `Device::configure` sets the default float type once per process, and every
//! other test runs in f32.

use burn::tensor::Tensor;
use neuron_nn::dendrites::dendrite_conv;
use neuron_nn::dendritic_spike::dendritic_spike;
use neuron_nn::memory_soma::{MemoryRecurrence, leaky_memory};
use neuron_nn::soma::{after_spike_feedback, causal_filter};
use neuron_nn::summation::{bistable, dendrite_rates, sublinear, superlinear};
use neuron_nn::synapses::{SynapseMode, place_inputs, site_inputs, synapses_dense, synapses_gain};
use neuron_nn::{DendriteAlgorithm, RateFunction, axon::axon};
use test_support::gradcheck::{check, check_on, check_with, data, f64_devices, project};

#[test]
fn synapses() {
    // One neuron, and two neurons each with its own input block (the population form).
    for (n, blocks) in [(1, 1), (2, 2), (2, 1)] {
        check(
            &format!("Synapses dense ×{n}"),
            vec![data(2 * blocks * 3 * 4, 1), data(n * 5 * 3, 2)],
            |a| {
                project(
                    synapses_dense(
                        a[0].clone().reshape([2, blocks * 3, 4]),
                        a[1].clone().reshape([n, 5, 3]),
                    ),
                    3,
                )
            },
        );
        check(
            &format!("Synapses one-to-one ×{n}"),
            vec![data(2 * blocks * 3 * 4, 1), data(n * 3, 2)],
            |a| {
                project(
                    synapses_gain(
                        a[0].clone().reshape([2, blocks * 3, 4]),
                        a[1].clone().reshape([n, 3, 1]),
                        1,
                    ),
                    3,
                )
            },
        );
        check(
            &format!("Synapses mapped ×{n}"),
            vec![data(2 * blocks * 3 * 4, 1), data(n * 4, 2)],
            |a| {
                let mode = SynapseMode::Mapped { map: vec![2, 0, 0, 1] };
                let sites = site_inputs(a[0].clone().reshape([2, blocks * 3, 4]), &mode, 3);
                project(synapses_gain(sites, a[1].clone().reshape([n, 4, 1]), 1), 3)
            },
        );
        // Inputs 0 and 2 share site 1; site 0 holds input 1. One receptor type, then three.
        for receptors in [1, 3] {
            check(
                &format!("Synapses placed ×{n}, {receptors} receptors"),
                vec![data(2 * blocks * 3 * 4, 1), data(n * receptors * 2, 2)],
                |a| {
                    let sites = place_inputs(a[0].clone().reshape([2, blocks * 3, 4]), &[1, 0, 1], 2);
                    let gain = a[1].clone().reshape([n, receptors * 2, 1]);
                    project(synapses_gain(sites, gain, receptors), 3)
                },
            );
        }
    }
}

#[test]
fn dendrites_on_every_path() {
    for alg in [
        DendriteAlgorithm::Direct,
        DendriteAlgorithm::Expanded,
        DendriteAlgorithm::Fft,
        DendriteAlgorithm::Fused,
    ] {
        // ndarray has no Fourier transforms nor the fused loop: those paths are checked on flex. flex's FFT is
        // f32-accurate even on f64 tensors (f32 twiddle tables, ~1e-7 relative), and a central
        // difference divides that rounding by the step; the function is linear in each
        // argument, so a step of 1 is exact and keeps the rounding far below the tolerance.
        let devices: Vec<_> = f64_devices()
            .into_iter()
            .filter(|(name, _)| !matches!(alg, DendriteAlgorithm::Fft | DendriteAlgorithm::Fused) || *name == "flex")
            .map(|(n, d)| {
                (
                    n,
                    d,
                    if alg == DendriteAlgorithm::Fft {
                        (1.0, 1e-5)
                    } else {
                        (1e-6, 1e-6)
                    },
                )
            })
            .collect();
        // Two neurons (groups) of one channel each, as in a population, besides one neuron of two.
        for (dilation, groups) in [(1, 1), (2, 1), (1, 2)] {
            check_on(
                &format!("Dendrites {alg:?}, dilation {dilation}, groups {groups}"),
                vec![data(2 * 3 * 5 * 6, 4), data(2 * 2 / groups * 2 * 5 * 3, 5), data(2, 6)],
                |a| {
                    let y = dendrite_conv(
                        a[0].clone().reshape([1, 2, 3, 5, 6]),
                        a[1].clone().reshape([2, 2 / groups, 2, 5, 3]),
                        Some(a[2].clone()),
                        dilation,
                        alg,
                    );
                    project(y, 7)
                },
                devices.clone(),
            );
        }
    }
}

#[test]
fn spike_amplification() {
    // One neuron of two channels, and two neurons of one channel each.
    for (window, gains) in [(None, vec![0.7]), (Some(2), vec![0.7]), (Some(2), vec![0.7, 0.3])] {
        let thresholds: Vec<f64> = gains.iter().map(|g| g - 0.9).collect();
        let args = vec![data(2 * 4 * 3 * 2, 8), gains, thresholds];
        let f = |a: &[Tensor<1>]| {
            project(
                dendritic_spike(
                    a[0].clone().reshape([1, 2, 4, 3, 2]),
                    a[1].clone(),
                    a[2].clone(),
                    0.8,
                    window,
                ),
                9,
            )
        };
        check_with(
            &format!("DendriticSpike window {window:?}, {} neuron(s)", args[1].len()),
            args,
            f,
            true,
        );
    }
}

#[test]
fn summation_modes() {
    // Two neurons of two channels; positive drive (away from the rectifier's kink at 0).
    let x: Vec<f64> = data(2 * 4 * 3 * 4 * 3, 10).iter().map(|v| v + 1.5).collect();
    let rates = |a: &Tensor<1>| {
        dendrite_rates(a.clone().reshape([2, 4, 3, 4, 3]), RateFunction::Relu, 2)
            .sum_dim(2)
            .reshape([2, 2, 3])
    };
    let per_neuron = |t: &Tensor<1>| t.clone().reshape([1, 2, 1]);
    check("Summation sublinear", vec![x.clone(), vec![0.3, 1.1]], |a| {
        project(sublinear(rates(&a[0]), per_neuron(&a[1])), 11)
    });
    check("Summation superlinear", vec![x.clone(), vec![0.3, 1.1]], |a| {
        project(superlinear(rates(&a[0]), per_neuron(&a[1])), 11)
    });
    check("Summation bistable", vec![x, vec![6.0, 7.0], vec![0.4, 0.2]], |a| {
        project(bistable(rates(&a[0]), per_neuron(&a[1]), per_neuron(&a[2]), 2.0), 11)
    });
}

#[test]
fn soma_and_axon() {
    // Two neurons: the grouped (population) form of the soma filter.
    check(
        "Soma",
        vec![data(3 * 2 * 7, 12), data(2 * 5, 13), vec![0.1, -0.2]],
        |a| {
            let y = causal_filter(
                a[0].clone().reshape([3, 2, 7]),
                a[1].clone().reshape([2, 1, 5]),
                Some(a[2].clone()),
            );
            project(y, 14)
        },
    );
    // After-spike currents: the recurrence through σ, with respect to the drive and the
    // amplitudes (two neurons, two currents; distinct signs).
    let decay = [(-1.0_f64 / 3.0).exp(), (-1.0_f64 / 12.0).exp()];
    check_with(
        "Soma after-spike currents",
        vec![data(3 * 2 * 7, 18), vec![-1.2, 0.4, -0.3, -2.0]],
        |a| {
            let y = after_spike_feedback(a[0].clone().reshape([3, 2, 7]), a[1].clone().reshape([2, 2]), &decay);
            project(y, 19)
        },
        true,
    );
    // The memory soma: two neurons, 2 inputs, 3 units, 4 hidden, through relu and tanh, with
    // respect to the input and all four weights: Burn's loop (every backend) and the fused
    // recurrence with its handwritten backward (flex).
    let decay = [0.2, 0.7, 0.95];
    for recurrence in [MemoryRecurrence::Loop, MemoryRecurrence::Auto] {
        check_with(
            &format!("MemorySoma ({recurrence:?})"),
            vec![
                data(2 * 4 * 6, 20),
                data(2 * 5 * 4, 21),
                data(2 * 4, 22),
                data(2 * 4 * 3, 23),
                data(2 * 3, 24),
            ],
            |a| {
                let y = leaky_memory(
                    a[0].clone().reshape([2, 4, 6]),
                    a[1].clone().reshape([2, 5, 4]),
                    a[2].clone().reshape([2, 4]),
                    a[3].clone().reshape([2, 4, 3]),
                    a[4].clone().reshape([2, 3]),
                    &decay,
                    recurrence,
                );
                project(y, 25)
            },
            true,
        );
    }
    check("Axon", vec![data(3 * 2 * 7, 15), data(2 * 4, 16)], |a| {
        project(axon(a[0].clone().reshape([3, 2, 7]), a[1].clone().reshape([2, 4])), 17)
    });
}
