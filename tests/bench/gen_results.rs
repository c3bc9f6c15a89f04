//! Benchmark data: writes N synthetic attempt records (the documented
//! results format) into a directory. Used by tests/bench/stats.sh.
//!
//!     cargo run --release --example gen-results -- DIR [N] [SEED]

#[path = "../util/records.rs"]
mod records;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = std::path::PathBuf::from(args.next().expect("usage: gen-results DIR [N] [SEED]"));
    let n: usize = args.next().map_or(100_000, |s| s.parse().expect("N"));
    let seed: u64 = args.next().map_or(1, |s| s.parse().expect("SEED"));
    for spec in records::generate_specs(n, seed) {
        records::write(&dir, &spec);
    }
    eprintln!("wrote {n} records to {}", dir.display());
}
