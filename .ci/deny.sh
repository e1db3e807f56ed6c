#!/usr/bin/env bash
# cargo deny on the locked dependencies (deny.toml): licences, bans and sources always; the
# advisories check only where the RustSec database on GitHub can be reached (this project's
# machines reach crates.io but not GitHub, so there it is skipped, and said so).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! cargo deny --version >/dev/null 2>&1; then
    cargo install cargo-deny --locked --version 0.20.2 --quiet
fi
cargo deny --version
cargo deny --locked check --hide-inclusion-graph licenses bans sources
if timeout 20 git ls-remote https://github.com/rustsec/advisory-db HEAD >/dev/null 2>&1; then
    cargo deny --locked check advisories
else
    echo "deny: advisories skipped: the RustSec database (github.com) is not reachable from here"
fi
