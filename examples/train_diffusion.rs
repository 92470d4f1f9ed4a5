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
//! `--help` lists every option; docs/train.md explains the run and its results.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use common::{Backend, DendritePath};
use indicatif::{ProgressBar, ProgressStyle};
use train::cable::plot;
use train::{Learner, Progress, Session, TrainConfig, evaluate};

/// Learn the k-step diffusion kernel of a forward-Euler cable with Adam, and read D and τ back.
#[derive(Parser, Debug)]
#[command(name = "train_diffusion", version)]
struct Cli {
    /// 1: one cable of 256 cells; 2: 64 positions × 64 coupled dendrites.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    dims: u8,
    /// Adam steps [default: 1500; 800 in 2-D].
    #[arg(long)]
    steps: Option<u64>,
    /// First learning rate, decaying geometrically to 1e-5 [default: 1e-2].
    #[arg(long)]
    lr: Option<f64>,
    /// Euler steps per kernel application [default: 4; 3 in 2-D].
    #[arg(long)]
    k: Option<usize>,
    /// Seed of the weights and of every batch [default: 0].
    #[arg(long)]
    seed: Option<u64>,
    /// The `Dendrites` learner's path [default: auto, the plan's choice here]: name the one a
    /// report recorded (`dendrite_path`) to repeat its numbers on another machine.
    #[arg(long, value_enum)]
    algorithm: Option<DendritePath>,
    /// Backend.
    #[arg(long, value_enum, default_value_t = Backend::Flex)]
    device: Backend,
    /// Plots, report.json and checkpoint.nnn [default: target/train_diffusion, -2d in 2-D].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Stop after step N (a checkpoint is written), as if interrupted.
    #[arg(long)]
    stop_after: Option<u64>,
    /// Continue from OUT/checkpoint.nnn (its config is the run's config).
    #[arg(long, conflicts_with_all = ["dims", "steps", "lr", "k", "seed", "algorithm"])]
    resume: bool,
    /// Print one JSON object on stdout (progress stays on stderr).
    #[arg(long)]
    json: bool,
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("train_diffusion: {msg}");
    std::process::exit(1)
}

fn main() {
    common::exit_quietly_on_closed_pipe();
    let cli = Cli::parse();
    let device = cli.device.device_or_exit("train_diffusion");
    let out = cli.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "target/train_diffusion{}",
            if cli.dims == 2 { "-2d" } else { "" }
        ))
    });
    let checkpoint = out.join("checkpoint.nnn");
    let started = Instant::now();

    let session = if cli.resume {
        if !checkpoint.exists() {
            fail(format!(
                "no checkpoint at {}; start a run without --resume",
                checkpoint.display()
            ));
        }
        let s = Session::resume(&checkpoint, &device).unwrap_or_else(|e| fail(e));
        if !cli.json {
            println!(
                "resumed {} at step {} of {}",
                checkpoint.display(),
                s.step(),
                s.config.steps
            );
        }
        s
    } else {
        std::fs::create_dir_all(&out).unwrap_or_else(|e| fail(format!("cannot create {}: {e}", out.display())));
        let base = if cli.dims == 2 {
            TrainConfig::two_d()
        } else {
            TrainConfig::new()
        };
        let config = base
            .clone()
            .with_steps(cli.steps.unwrap_or(base.steps))
            .with_learning_rate(cli.lr.unwrap_or(base.learning_rate))
            .with_k(cli.k.unwrap_or(base.k))
            .with_seed(cli.seed.unwrap_or(base.seed))
            .with_dendrite_algorithm(match cli.algorithm {
                None => base.dendrite_algorithm,
                Some(path) => path.single().unwrap_or_else(|e| fail(e)),
            });
        Session::new(config, &device).unwrap_or_else(|e| fail(e))
    };
    let c = session.config.clone();
    if !cli.json {
        let [kp, kd] = train::cable::learners::kernel_shape(&c.cable, c.k);
        println!(
            "{}-D cable {}×{}: D = {}, τ = {}, Δt = {}, Δx = {} (r = {:.3}, Δt/τ = {:.3}); \
             learning the {}-step kernel ({kp}×{kd}) with Adam on {} (Dendrites on the {:?} path)",
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
            cli.device.name(),
            session.dendrite_path,
        );
    }

    let until = cli.stop_after.unwrap_or(c.steps);
    // indicatif draws on a terminal and stays quiet in logs and CI.
    let bar = ProgressBar::new(c.steps).with_style(
        ProgressStyle::with_template("[{bar:30}] step {pos}/{len} {msg} {elapsed}")
            .expect("template")
            .progress_chars("#>."),
    );
    bar.set_position(session.step());
    let loss = |p: &Progress, l: Learner| p.losses[l.index()];
    let session = session
        .run(until, Some(&checkpoint), |p| {
            bar.set_position(p.step);
            if p.step.is_multiple_of(10) {
                bar.set_message(format!(
                    "loss {:.2e} (dendrites) {:.2e} (conv) lr {:.1e}",
                    loss(p, Learner::Dendrites),
                    loss(p, Learner::Conv),
                    p.learning_rate
                ));
            }
        })
        .unwrap_or_else(|e| {
            bar.abandon();
            fail(e)
        });
    bar.finish_and_clear();

    let mut report = evaluate(&session);
    report.seconds = started.elapsed().as_secs_f64();
    let write = |name: &str, r: std::io::Result<()>| {
        r.unwrap_or_else(|e| fail(format!("cannot write {}: {e}", out.join(name).display())))
    };
    write(
        "report.json",
        train::write_atomic(&out.join("report.json"), report.to_json().as_bytes()),
    );
    write("loss.svg", plot::loss_curve(out.join("loss.svg"), session.losses()));
    write("kernel.svg", plot::kernels(out.join("kernel.svg"), &report));
    if cli.json {
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
            session.step(),
            c.steps,
            cli.out
                .as_ref()
                .map_or(String::new(), |o| format!(" --out {}", o.display()))
        );
    }
}
