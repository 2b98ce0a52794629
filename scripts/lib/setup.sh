# Idempotent set-up shared by scripts/run and scripts/test. Each step checks first and
# does nothing when the right thing is already there.

CARGO_LEPTOS_VERSION="0.3.10" # 0.3.11 needs rustc 1.96

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "error: '$*' needs root and sudo is not available" >&2
    return 1
  fi
}

ensure_rust_tools() {
  command -v cargo >/dev/null || { echo "error: cargo is missing: install Rust with rustup" >&2; return 1; }
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
  if [ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos $CARGO_LEPTOS_VERSION" ]; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes, once)"
    cargo install --locked cargo-leptos --version "$CARGO_LEPTOS_VERSION"
  fi
  # The wasm-bindgen CLI must match the crate in Cargo.lock exactly, or hydration breaks.
  local want
  want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
  if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $want" ]; then
    say "installing wasm-bindgen-cli $want (about 3 minutes, once)"
    CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo install wasm-bindgen-cli --version "$want" --force
  fi
}

# Tailwind and wasm-opt (binaryen 132, never Debian's 108) from npm; cargo-leptos finds them
# in node_modules/.bin and downloads nothing.
ensure_node_tools() {
  command -v npm >/dev/null || { echo "error: npm is missing: install Node.js 20 or newer" >&2; return 1; }
  if [ ! -x node_modules/.bin/tailwindcss ] || [ ! -x node_modules/.bin/wasm-opt ] ||
    [ package.json -nt node_modules/.package-lock.json ]; then
    say "installing Tailwind CSS and binaryen from npm"
    # `npm ci` cannot work here: the registry mirror serves only Linux builds of Tailwind's
    # native parts, so a lockfile from another OS names packages it cannot fetch.
    npm install --no-audit --no-fund
  fi
}

ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    say "installing Debian's Chromium for the browser tests"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
  fi
}

ensure_e2e_packages() {
  if [ ! -d end2end/node_modules/@playwright/test ] ||
    [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    say "installing Playwright and axe-core (no browser download)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  fi
}

# nginx from Debian: the reverse proxy (and balancer) of the proxy tests, started by the tests
# themselves on loopback from a temporary prefix.
ensure_nginx() {
  if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    say "installing Debian's nginx for the reverse-proxy tests"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx
  fi
}
