#[cfg(feature = "ssr")]
fn main() -> std::process::ExitCode {
    client_portal::server::cli::main()
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser entry point is `hydrate()` in lib.rs; this binary needs the `ssr` feature.
}
