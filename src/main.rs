//! The `kadlab` command-line tool; see `kadlab --help`.

fn main() -> std::process::ExitCode {
    kadlab::cli::main()
}
