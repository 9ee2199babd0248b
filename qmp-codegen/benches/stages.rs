//! `cargo bench -p qmp-codegen --bench stages [SCHEMA]`: the time of each stage for the
//! QEMU 10.0.2 QMP schema (default: ../shared/qemu-10.0.2/qapi/qapi-schema.json), best
//! of 10 runs. Target: the whole pipeline under 100 ms.

use std::path::PathBuf;
use std::time::Duration;

fn main() {
    let path = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../shared/qemu-10.0.2/qapi/qapi-schema.json")
        });
    let mut best: Vec<(&str, Duration)> = Vec::new();
    for _ in 0..10 {
        let t = match qmp_codegen::stage_timings(&path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        };
        if best.is_empty() {
            best = t;
        } else {
            for (b, (_, d)) in best.iter_mut().zip(t) {
                b.1 = b.1.min(d);
            }
        }
    }
    println!("{} (best of 10)", path.display());
    let mut total = Duration::ZERO;
    for (stage, d) in &best {
        println!("  {stage:<9} {:>8.2} ms", d.as_secs_f64() * 1e3);
        total += *d;
    }
    let verdict = if total < Duration::from_millis(100) {
        "met"
    } else {
        "NOT met"
    };
    println!(
        "  total     {:>8.2} ms   (target < 100 ms: {verdict})",
        total.as_secs_f64() * 1e3
    );
}
