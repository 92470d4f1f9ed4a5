//! The essay's central claim, run: diffusion along a dendrite, which brain simulators integrate
//! with Euler steps (nothing to learn), is a convolution, and backprop learns it. A forward-Euler
//! cable simulator makes the data; a plain convolution and the library's `Dendrites` stage learn
//! the k-step kernel with Adam; D and τ are read back from the learned kernels and compared with
//! the truth, with a held-out rollout against an Euler integrator whose D is off by 20 %.
//!
//! ```text
//! cargo run --release --example train_diffusion [-- --dims 2 --steps N --device ndarray --json ...]
//! ```
//!
//! `--help` lists every option (see `USAGE`); docs/train.md explains the run and its results.

mod common;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;

use common::Args;
use train::{Progress, Session, TrainConfig, evaluate, plot};

const FLAGS: [&str; 11] = [
    "--help",
    "--dims",
    "--steps",
    "--lr",
    "--k",
    "--seed",
    "--device",
    "--out",
    "--stop-after",
    "--resume",
    "--json",
];

/// A progress bar on a terminal; a line every 10 % otherwise (logs, CI).
struct Bar {
    tty: bool,
    started: Instant,
    shown: u64,
}

impl Bar {
    fn update(&mut self, p: &Progress) {
        let done = p.step as f64 / p.steps as f64;
        let line = format!(
            "step {:>5}/{}  loss {:.2e} (dendrites) {:.2e} (conv)  lr {:.1e}  {:.0} s",
            p.step,
            p.steps,
            p.losses[0],
            p.losses[1],
            p.learning_rate,
            self.started.elapsed().as_secs_f64()
        );
        if self.tty {
            if p.step.is_multiple_of(10) || p.step == p.steps {
                let filled = (done * 30.0) as usize;
                eprint!("\r[{}{}] {line}", "#".repeat(filled), ".".repeat(30 - filled));
                let _ = std::io::stderr().flush();
            }
        } else if (done * 10.0) as u64 > self.shown || p.step == p.steps {
            self.shown = (done * 10.0) as u64;
            eprintln!("{line}");
        }
    }

    fn finish(&self) {
        if self.tty {
            eprintln!();
        }
    }
}

const USAGE: &str = "cargo run --release --example train_diffusion [-- OPTIONS]
  --dims 1|2        1: one cable (default); 2: 64 positions × 64 coupled dendrites
  --steps N         Adam steps (default 1500; 800 in 2-D)
  --lr X            first learning rate (default 1e-2, decaying geometrically to 1e-5)
  --k K             Euler steps per kernel application (default 4; 3 in 2-D)
  --seed S          weights and data (default 0)
  --device NAME     flex (default), ndarray, wgpu (when compiled with --features wgpu)
  --out DIR         plots, report.json, checkpoint.nnn (default target/train_diffusion[-2d])
  --stop-after N    stop after step N (a checkpoint is written), as if interrupted
  --resume          continue from DIR/checkpoint.nnn (its config is the run's config)
  --json            print one JSON object on stdout (progress stays on stderr)";

fn main() {
    let args = Args::parse("train_diffusion", &FLAGS);
    if args.flag("--help") {
        println!("{USAGE}");
        return;
    }
    let fail = |msg: &str| -> ! { args.fail(msg) };
    let json = args.flag("--json");
    let device = neuron_nn::devices::by_name(&args.value("--device").unwrap_or_else(|| "flex".into()))
        .unwrap_or_else(|e| fail(&e));
    let dims: usize = args.parsed("--dims", 1, "1 or 2");
    if dims != 1 && dims != 2 {
        fail(&format!("--dims takes 1 or 2, got {dims}"));
    }
    let out = PathBuf::from(
        args.value("--out")
            .unwrap_or_else(|| format!("target/train_diffusion{}", if dims == 2 { "-2d" } else { "" })),
    );
    let checkpoint = out.join("checkpoint.nnn");
    let started = Instant::now();

    let session = if args.flag("--resume") {
        if let Some(flag) = ["--dims", "--steps", "--lr", "--k", "--seed"]
            .iter()
            .find(|f| args.flag(f))
        {
            fail(&format!(
                "--resume continues the run in its checkpoint with that run's config; drop {flag}"
            ));
        }
        if !checkpoint.exists() {
            fail(&format!(
                "no checkpoint at {}; start a run without --resume",
                checkpoint.display()
            ));
        }
        let s = Session::resume(&checkpoint, &device).unwrap_or_else(|e| fail(&e.to_string()));
        if !json {
            println!(
                "resumed {} at step {} of {}",
                checkpoint.display(),
                s.step,
                s.config.steps
            );
        }
        s
    } else {
        std::fs::create_dir_all(&out).unwrap_or_else(|e| fail(&format!("cannot create {}: {e}", out.display())));
        let base = if dims == 2 {
            TrainConfig::two_d()
        } else {
            TrainConfig::new()
        };
        let config = base
            .clone()
            .with_steps(args.parsed("--steps", base.steps, "a count"))
            .with_learning_rate(args.parsed("--lr", base.learning_rate, "a number"))
            .with_k(args.parsed("--k", base.k, "a count"))
            .with_seed(args.parsed("--seed", base.seed, "an integer"));
        Session::new(config, &device).unwrap_or_else(|e| fail(&e.to_string()))
    };
    let c = session.config.clone();
    if !json {
        let [kp, kd] = train::learners::kernel_shape(&c.cable, c.k);
        println!(
            "{}-D cable {}×{}: D = {}, τ = {}, Δt = {}, Δx = {} (r = {:.3}, Δt/τ = {:.3}); \
             learning the {}-step kernel ({kp}×{kd}) with Adam on {}",
            c.cable.dims(),
            c.cable.positions,
            c.cable.dendrites,
            c.cable.diffusion,
            c.cable.tau,
            c.cable.dt,
            c.cable.dx,
            c.cable.r(),
            c.cable.leak(),
            c.k,
            args.value("--device").unwrap_or_else(|| "flex".into()),
        );
    }

    let until: u64 = args.parsed("--stop-after", c.steps, "a step number");
    let mut bar = Bar {
        tty: std::io::stderr().is_terminal(),
        started: Instant::now(),
        shown: 0,
    };
    let session = session
        .run(until, Some(&checkpoint), |p| bar.update(p))
        .unwrap_or_else(|e| {
            bar.finish();
            eprintln!("train_diffusion: {e}");
            std::process::exit(1)
        });
    bar.finish();

    let mut report = evaluate(&session);
    report.seconds = started.elapsed().as_secs_f64();
    let write = |name: &str, r: std::io::Result<()>| {
        r.unwrap_or_else(|e| fail(&format!("cannot write {}: {e}", out.join(name).display())))
    };
    write(
        "report.json",
        neuron_nn::write_atomic(&out.join("report.json"), report.to_json().as_bytes()),
    );
    write("loss.svg", plot::loss_curve(out.join("loss.svg"), &session.losses));
    write("kernel.svg", plot::kernels(out.join("kernel.svg"), &report));
    if json {
        println!("{}", report.to_json());
        return;
    }
    print!("{}", report.to_table());
    println!(
        "wrote {}/{{loss.svg, kernel.svg, report.json, checkpoint.nnn}} in {:.1} s",
        out.display(),
        report.seconds
    );
    if !session.finished() {
        println!(
            "stopped at step {} of {}: continue with --resume{}",
            session.step,
            c.steps,
            args.value("--out").map_or(String::new(), |o| format!(" --out {o}"))
        );
    }
}
