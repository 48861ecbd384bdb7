//! Runs the notes' circuit and sigmoid neuron backward on grad's runtime tape, prints their
//! values and gradients, and draws each graph as SVG with the value and the gradient on
//! every edge.
//!
//! Run with `cargo run -p grad-pictures-example -- [DIR]`; the pictures go to `DIR`
//! (`target/pictures` unless given).

use std::path::PathBuf;
use std::process::ExitCode;

/// At most four decimals, without trailing zeros, as the pictures write numbers.
fn brief(value: f64) -> String {
    let text = format!("{value:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.into()
    }
}

fn main() -> ExitCode {
    let directory = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/pictures"), PathBuf::from);
    if let Err(error) = std::fs::create_dir_all(&directory) {
        eprintln!("cannot create {}: {error}", directory.display());
        return ExitCode::FAILURE;
    }
    for drawn in [
        grad_pictures_example::circuit(),
        grad_pictures_example::neuron(),
        grad_pictures_example::compiled_circuit(),
    ] {
        let gradient: Vec<String> = drawn
            .gradient
            .iter()
            .map(|&(name, value)| format!("∂f/∂{name} = {}", brief(value)))
            .collect();
        println!("{}: f = {}", drawn.name, brief(drawn.value));
        println!("    {}", gradient.join(", "));
        let svg = match grad_pictures_example::svg(&drawn.dot) {
            Ok(svg) => svg,
            Err(message) => {
                eprintln!("{}: {message}", drawn.name);
                return ExitCode::FAILURE;
            }
        };
        let path = directory.join(format!("{}.svg", drawn.name));
        if let Err(error) = std::fs::write(&path, svg) {
            eprintln!("cannot write {}: {error}", path.display());
            return ExitCode::FAILURE;
        }
        println!("    wrote {}", path.display());
    }
    ExitCode::SUCCESS
}
