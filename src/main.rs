//! The `client-portal` program: the server and its commands (`src/cli.rs`). The browser's entry
//! point is `hydrate()` in `lib.rs`.

#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    client_portal::cli::main()
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser entry point is `hydrate()` in lib.rs; this binary needs the `ssr` feature.
}
