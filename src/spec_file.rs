//! Spec files: an analysis saved as TOML (the cohort file, the spec, the app version), so it
//! can be repeated next month by anyone, in the window or with `analyze --spec`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis::{MatchOrder, Spec};

/// The first version whose random matching order is R's (`set.seed` + `sample.int`).
const R_RANDOM_ORDER_SINCE: (u32, u32, u32) = (0, 2, 0);

/// What a spec file holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SpecFile {
    /// The version of Survival Explorer that wrote the file.
    pub app_version: String,
    /// The cohort file analysed, when known.
    pub file: Option<PathBuf>,
    pub spec: Spec,
}

impl SpecFile {
    pub fn new(spec: Spec, file: Option<PathBuf>) -> Self {
        SpecFile {
            app_version: env!("CARGO_PKG_VERSION").to_string(),
            file,
            spec,
        }
    }

    pub fn to_toml(&self) -> Result<String, String> {
        toml::to_string_pretty(self).map_err(|e| format!("cannot write the spec as TOML: {e}"))
    }

    pub fn from_toml(text: &str, source: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| format!("{source}: not a valid spec file: {e}"))
    }

    /// What to tell whoever repeats this analysis with this version: a random matching order
    /// saved by a version before 0.2.0 came from that version's own generator, so the same
    /// seed now gives R's order and other pairs.
    pub fn warnings(&self) -> Vec<String> {
        let random = self
            .spec
            .matching
            .as_ref()
            .is_some_and(|m| m.order == MatchOrder::Random);
        let version: Option<(u32, u32, u32)> = {
            let mut parts = self.app_version.trim().split('.').map(|p| p.parse().ok());
            match (parts.next(), parts.next(), parts.next()) {
                (Some(Some(a)), Some(Some(b)), Some(Some(c))) => Some((a, b, c)),
                _ => None,
            }
        };
        if random && version.is_none_or(|v| v < R_RANDOM_ORDER_SINCE) {
            vec![format!(
                "this spec was saved by Survival Explorer {}, whose random matching order came \
                 from its own generator; this version draws R's order (set.seed + sample.int, as \
                 MatchIt), so the same seed gives other matched pairs than it did then",
                self.app_version
            )]
        } else {
            Vec::new()
        }
    }

    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read the spec file: {e}", path.display()))?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// Writes atomically; an existing file is replaced only when `force`.
    pub fn save(&self, path: &Path, force: bool) -> Result<(), String> {
        write_atomic(path, self.to_toml()?.as_bytes(), force)
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a crash never leaves a
/// half-written file. An existing file is replaced only when `force`.
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<(), String> {
    if path.exists() && !force {
        return Err(format!(
            "{}: the file exists; use --force (or confirm) to replace it",
            path.display()
        ));
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "out".to_string());
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(|e| format!("{}: cannot write: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: cannot write: {e}", path.display())
    })
}
