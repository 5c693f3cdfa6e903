//! The `moments` binary: parses the command line and hands over to the library.

use clap::Parser as _;
use mimalloc::MiMalloc;
use tracing_subscriber::EnvFilter;

/// A GraphQL response is built from many small allocations; mimalloc serves them with far less
/// locking than the system allocator (a third of the server's time in the load benchmark).
#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

/// Each worker thread's stack. Every recursion on client input is bounded far below what 2 MiB
/// holds; this is the margin behind those bounds.
const WORKER_STACK_BYTES: usize = 8 << 20;

fn main() -> std::process::ExitCode {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().thread_stack_size(WORKER_STACK_BYTES).build();
    match runtime {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> std::process::ExitCode {
    use std::io::IsTerminal as _;
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("moments=info,tower_http=warn")),
        )
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal: a file or a log collector gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = moments::config::Cli::parse();
    match moments::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
