//! Shared by the benchmark examples.

// Each example uses part of this module.
#![allow(dead_code)]

use std::time::Instant;

/// Median wall time of `reps` runs of `f`, after one warm-up run (allocations, thread pools).
pub fn median_secs(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut v: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Command-line arguments of the form `--name value` and `--flag`, with errors that name the
/// program and what was wrong.
pub struct Args {
    program: &'static str,
    args: Vec<String>,
}

impl Args {
    /// Reads the process's arguments; any `--x` not in `known` is an error.
    pub fn parse(program: &'static str, known: &[&str]) -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let this = Self { program, args };
        if let Some(a) = this
            .args
            .iter()
            .find(|a| a.starts_with("--") && !known.contains(&a.as_str()))
        {
            this.fail(&format!("unknown argument {a}; known: {}", known.join(", ")));
        }
        this
    }

    /// The value after `name`, if `name` was given.
    pub fn value(&self, name: &str) -> Option<String> {
        let i = self.args.iter().position(|a| a == name)?;
        Some(
            self.args
                .get(i + 1)
                .cloned()
                .unwrap_or_else(|| self.fail(&format!("{name} needs a value"))),
        )
    }

    /// The value after `name` parsed as `T`, or `default` when absent.
    pub fn parsed<T: std::str::FromStr>(&self, name: &str, default: T, what: &str) -> T {
        self.value(name).map_or(default, |v| {
            v.parse()
                .unwrap_or_else(|_| self.fail(&format!("{name} takes {what}, got {v}")))
        })
    }

    /// Whether `--flag` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.args.iter().any(|a| a == name)
    }

    /// Prints `program: msg` and exits with status 2.
    pub fn fail(&self, msg: &str) -> ! {
        eprintln!("{}: {msg}", self.program);
        std::process::exit(2)
    }
}
