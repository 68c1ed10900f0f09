//! Locating the project's `shared/` folder (specs, real captures, test vectors), which sits
//! beside the repository rather than in it, so tests that need it can skip cleanly when a
//! checkout lacks it.

use std::path::PathBuf;

/// The `shared/` folder: `$CLAUDE_SHARED_DIR` if set, else `../shared` next to the
/// workspace root. `None` when it does not exist.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("CLAUDE_SHARED_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    dir.is_dir().then_some(dir)
}

/// A path under `shared/`, e.g. `fixtures/vectors/eventstream-vectors.json`, if it exists.
pub fn shared_file(relative: &str) -> Option<PathBuf> {
    let path = shared_dir()?.join(relative);
    path.exists().then_some(path)
}

/// A path under `shared/fixtures/bedrock-captures/`, if it exists.
pub fn capture(name: &str) -> Option<PathBuf> {
    shared_file(&format!("fixtures/bedrock-captures/{name}"))
}

/// A path under `shared/fixtures/vectors/`, if it exists.
pub fn vector(name: &str) -> Option<PathBuf> {
    shared_file(&format!("fixtures/vectors/{name}"))
}
