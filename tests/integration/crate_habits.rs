//! The crate's declarations stay true: the `rust-version` in Cargo.toml is at least what every
//! locked dependency declares, so a user on that toolchain can build with `--locked`.

use std::process::Command;

/// `1.89` or `1.89.0` as comparable numbers.
fn version(s: &str) -> Vec<u64> {
    let mut v: Vec<u64> = s.split('.').map(|x| x.parse().unwrap_or(0)).collect();
    v.resize(3, 0);
    v
}

#[test]
fn declared_rust_version_covers_every_locked_dependency() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--locked", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let packages = doc["packages"].as_array().expect("packages");
    let ours = packages
        .iter()
        .find(|p| p["name"] == "capsim")
        .and_then(|p| p["rust_version"].as_str())
        .expect("capsim declares rust-version");
    let needed = packages
        .iter()
        .filter_map(|p| Some((p["rust_version"].as_str()?, p["name"].as_str()?)))
        .max_by_key(|(v, _)| version(v))
        .expect("some dependency declares a rust-version");
    assert!(
        version(ours) >= version(needed.0),
        "Cargo.toml declares rust-version {ours}, but the locked {} needs {}",
        needed.1,
        needed.0
    );
    // Not higher than needed either, unless the code itself needs more: keep it honest.
    let toolchain = Command::new("rustc").arg("--version").output();
    if let Ok(t) = toolchain {
        let text = String::from_utf8_lossy(&t.stdout);
        if let Some(v) = text.split_whitespace().nth(1) {
            assert!(
                version(ours) <= version(v),
                "rust-version {ours} is above the toolchain {v}"
            );
        }
    }
}
