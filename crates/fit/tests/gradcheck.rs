//! Finite-difference gradient check of the Branch-ELM, in f64 (own test binary: the checks set
//! the default float type for the whole process).

use fit::branch_elm::{BranchElmConfig, elm_memory};
use neuron_nn::MemoryRecurrence;
use test_support::gradcheck::{check_with, data, project};

#[test]
fn branch_elm_memory_gradients_match_finite_differences() {
    // 7 rows (odd: the interleaving repeats a row), 3 branches of 4 (the last runs past the
    // rows), 3 units, MLP 4 wide, 12 ms; with respect to the input, w̃ (some below zero: the ReLU
    // stops them), W₁, b₁, W₂ and b₂. Burn's loop (every backend) and the fused recurrence (flex).
    for recurrence in [MemoryRecurrence::Loop, MemoryRecurrence::Auto] {
        let config = BranchElmConfig::new(7)
            .with_branches(3)
            .with_per_branch(4)
            .with_units(3)
            .with_hidden(Some(4))
            .with_tau_max(8.0)
            .with_trace_taps(6)
            .with_input_gain(0.8)
            .with_recurrence(recurrence);
        let dynamics = config.dynamics();
        check_with(
            &format!("Branch-ELM ({recurrence:?})"),
            vec![
                data(2 * 7 * 12, 30),
                data(12, 31),
                data(6 * 4, 32),
                data(4, 33),
                data(4 * 3, 34),
                data(3, 35),
            ],
            |a| {
                let m = elm_memory(
                    a[0].clone().reshape([2, 7, 12]),
                    &dynamics,
                    a[1].clone(),
                    a[2].clone().reshape([6, 4]),
                    a[3].clone(),
                    a[4].clone().reshape([4, 3]),
                    a[5].clone(),
                );
                project(m, 36)
            },
            false,
        );
    }
}
