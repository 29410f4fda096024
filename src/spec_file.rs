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
    /// The cohort file analysed, when known. In the file: relative to the spec file's folder
    /// (so a folder of results can be moved or sent); after [`SpecFile::load`]: a path to
    /// open, resolved from the spec's folder, else as written, else [`SpecFile::file_absolute`].
    pub file: Option<PathBuf>,
    /// The cohort file's absolute path when the spec was saved: the fallback when the
    /// relative path finds nothing (the spec file was moved without its cohort).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_absolute: Option<PathBuf>,
    pub spec: Spec,
}

impl SpecFile {
    pub fn new(spec: Spec, file: Option<PathBuf>) -> Self {
        SpecFile {
            app_version: env!("CARGO_PKG_VERSION").to_string(),
            file,
            file_absolute: None,
            spec,
        }
    }

    pub fn to_toml(&self) -> Result<String, SpecFileError> {
        toml::to_string_pretty(self).map_err(|e| SpecFileError::Toml(e.to_string()))
    }

    pub fn from_toml(text: &str, source: &str) -> Result<Self, SpecFileError> {
        toml::from_str(text).map_err(|e| SpecFileError::Invalid {
            file: source.to_string(),
            message: e.to_string(),
        })
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

    /// Reads a spec file; its cohort path is resolved from the spec file's folder first,
    /// then as written (specs saved before 0.3 held paths relative to where they were
    /// saved from), then the saved absolute path; when none exists, the first.
    pub fn load(path: &Path) -> Result<Self, SpecFileError> {
        let text = std::fs::read_to_string(path).map_err(|error| SpecFileError::Read {
            file: path.display().to_string(),
            error,
        })?;
        let mut f = Self::from_toml(&text, &path.display().to_string())?;
        if let Some(file) = &f.file {
            let folder = path.parent().unwrap_or(Path::new(""));
            // The spec's folder first, then where it was saved, then as written (specs of
            // 0.2: relative to where they were saved from).
            let candidates: Vec<PathBuf> = [Some(folder.join(file)), f.file_absolute.clone()]
                .into_iter()
                .chain([Some(file.clone())])
                .flatten()
                .collect();
            f.file = candidates
                .iter()
                .find(|p| p.is_file())
                .or(candidates.first())
                .cloned();
        }
        Ok(f)
    }

    /// Writes atomically; an existing file is replaced only when `force`. The cohort path is
    /// written relative to the spec file's folder, and absolute as a fallback.
    pub fn save(&self, path: &Path, force: bool) -> Result<(), SpecFileError> {
        let mut out = self.clone();
        if let Some(file) = &self.file {
            let absolute = absolute(file);
            let folder = absolute_folder(path);
            out.file = Some(relative_to(&folder, &absolute).unwrap_or_else(|| absolute.clone()));
            out.file_absolute = Some(absolute);
        }
        Ok(write_atomic(path, out.to_toml()?.as_bytes(), force)?)
    }
}

/// Is this file a spec file (by its extension, or a TOML text that starts like one)?
pub fn is_spec_file(path: &Path) -> bool {
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
    {
        return true;
    }
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = [0u8; 64];
    let n = std::io::Read::read(&mut f, &mut head).unwrap_or(0);
    head[..n].starts_with(b"app_version")
}

/// A path made absolute (symbolic links resolved when the file exists).
fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p)
        .or_else(|_| std::path::absolute(p))
        .unwrap_or_else(|_| p.to_path_buf())
}

/// The absolute folder a file is (to be) written in.
fn absolute_folder(file: &Path) -> PathBuf {
    let folder = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    absolute(&folder)
}

/// `target` relative to `folder` (both absolute): "../data/cohort.csv", written with `/`
/// (which every platform reads, so a spec saved on Windows opens on a Mac). `None` when they
/// share no root (another drive on Windows).
fn relative_to(folder: &Path, target: &Path) -> Option<PathBuf> {
    let from: Vec<_> = folder.components().collect();
    let to: Vec<_> = target.components().collect();
    if from.first() != to.first() {
        return None;
    }
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().to_string()),
    );
    Some(PathBuf::from(parts.join("/")))
}

/// Why a spec file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SpecFileError {
    // The I/O error is part of the message (not a `#[source]`), so it is printed once.
    #[error("{file}: cannot read the spec file: {error}")]
    Read { file: String, error: std::io::Error },
    #[error("{file}: not a valid spec file: {message}")]
    Invalid { file: String, message: String },
    #[error("cannot write the spec as TOML: {0}")]
    Toml(String),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{file}: the file exists; use --force (or confirm) to replace it")]
    Exists { file: String },
    #[error("{file}: cannot write: {error}")]
    Io { file: String, error: std::io::Error },
}

/// Writes `bytes` to `path` through a temporary file in the same folder, persisted (renamed)
/// over the target only once complete, so a crash never leaves a half-written file. An
/// existing file is replaced only when `force`; without it the persist itself refuses to
/// replace one, so a file that appears meanwhile is not overwritten either.
pub fn write_atomic(path: &Path, bytes: &[u8], force: bool) -> Result<(), WriteError> {
    use std::io::Write;
    let file = path.display().to_string();
    let io = |error| WriteError::Io {
        file: file.clone(),
        error,
    };
    if !force && path.exists() {
        return Err(WriteError::Exists { file });
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let builder = tempfile::Builder::new();
    // A temporary file is private (0600); what is written is for colleagues to read too.
    // (Shadowed rather than `let mut`, which is unused, and warned about, on Windows and wasm.)
    #[cfg(unix)]
    let builder = {
        use std::os::unix::fs::PermissionsExt;
        let mut builder = builder;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
        builder
    };
    let mut tmp = builder.tempfile_in(folder).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.flush().map_err(io)?;
    if force {
        tmp.persist(path).map_err(|e| io(e.error))?;
    } else {
        match tmp.persist_noclobber(path) {
            Ok(_) => {}
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(WriteError::Exists { file });
            }
            // Some drives (FAT, some network shares) have no no-replace rename: checked
            // absent just before, the file is renamed into place.
            Err(e) if !path.exists() => {
                e.file.persist(path).map_err(|e| io(e.error))?;
            }
            Err(e) => return Err(io(e.error)),
        }
    }
    Ok(())
}
