//! The `drill` binary. Everything lives in the library; see `runner/cli.rs`.

fn main() -> std::process::ExitCode {
    drillkit::cli::main()
}
