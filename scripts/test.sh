#!/usr/bin/env bash
# Runs every check l2lens has: formatting, lints, unit and integration tests.
# One profile (release) for everything, so polars compiles once for tests and runs.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all -- --check
cargo clippy --release --all-targets --locked -- -D warnings
cargo test --release --locked
