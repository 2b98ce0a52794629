//! The `client-portal` program: the server and its commands (`src/cli.rs`). The browser's entry
//! point is `hydrate()` in `lib.rs`.

/// mimalloc's per-thread heaps: measured on the dashboard, glibc's malloc took over a third of
/// the time, much of it waiting on its arena locks.
#[cfg(feature = "ssr")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    client_portal::cli::main()
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser entry point is `hydrate()` in lib.rs; this binary needs the `ssr` feature.
}
