//! Opening cohort files: read on the UI thread when small, on a worker when large (the
//! desktop), or from bytes (a file dropped on or picked in the browser); on failure the
//! current cohort stays.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Arc;
use web_time::Instant;

use super::{App, LoadedCohort};
use crate::cohort::{Cohort, LoadOptions};

/// The web build reads every file on the UI thread (it has no threads).
const WEB: bool = cfg!(target_arch = "wasm32");

/// Files up to this size are read on the UI thread (well under a frame's worth of waiting);
/// larger ones on a worker, with progress in the status bar.
pub(super) const INLINE_FILE_BYTES: u64 = 4 << 20;

/// A file being read on a worker thread.
pub(super) struct Loading {
    path: PathBuf,
    started: Instant,
    rx: Receiver<Result<(Cohort, Cohort, LoadOptions), String>>,
}

/// Reads a file and prepares it with `options`: (as read, prepared).
pub(super) fn read_and_prepare(
    path: &Path,
    options: &LoadOptions,
) -> Result<(Cohort, Cohort), String> {
    let raw = Cohort::read(path, options.sheet.as_deref()).map_err(|e| e.to_string())?;
    let mut cohort = raw.clone();
    cohort.prepare(options).map_err(|e| e.to_string())?;
    Ok((raw, cohort))
}

impl App {
    /// Opens a cohort file read with `options`. Large files are read on a worker thread.
    pub fn open_file_with(&mut self, path: &Path, options: LoadOptions) {
        let large = !WEB && std::fs::metadata(path).is_ok_and(|m| m.len() > INLINE_FILE_BYTES);
        if large {
            let (tx, rx) = channel();
            let p = path.to_path_buf();
            std::thread::spawn(move || {
                let read = read_and_prepare(&p, &options).map(|(raw, cohort)| {
                    // The controls list each column's distinct values and leave out columns
                    // of identifiers: found here, not in the first frame that shows the
                    // cohort (a sort and a pass per column).
                    for column in &cohort.columns {
                        column.distinct();
                        column.is_identifier_like();
                    }
                    (raw, cohort, options)
                });
                let _ = tx.send(read);
            });
            self.loading = Some(Loading {
                path: path.to_path_buf(),
                started: Instant::now(),
                rx,
            });
            return;
        }
        let result = read_and_prepare(path, &options);
        self.finish_loading(path, result.map(|(raw, c)| (raw, c, options)));
    }

    /// Opens a cohort from its bytes (a file dropped on or picked in the browser), read with
    /// `options`, on the UI thread; on failure the current cohort stays.
    pub fn open_bytes_with(&mut self, name: &str, bytes: Vec<u8>, options: LoadOptions) {
        // A workbook's bytes are kept, to read another sheet; a text file's are not needed.
        let keep = (crate::cohort::FileKind::sniff(&bytes) == crate::cohort::FileKind::Spreadsheet)
            .then(|| Arc::<[u8]>::from(&bytes[..]));
        let read =
            crate::cohort::read_bytes(name, bytes, options.sheet.as_deref()).and_then(|raw| {
                let mut cohort = raw.clone();
                cohort.prepare(&options)?;
                Ok((raw, cohort))
            });
        match read {
            Ok((raw, cohort)) => self.take_cohort(name, raw, cohort, options, keep),
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    pub(super) fn finish_loading(
        &mut self,
        path: &Path,
        result: Result<(Cohort, Cohort, LoadOptions), String>,
    ) {
        match result {
            Ok((raw, cohort, options)) => {
                self.take_cohort(&path.display().to_string(), raw, cohort, options, None);
                self.settings.recent.retain(|p| p != path);
                self.settings.recent.insert(0, path.to_path_buf());
                self.settings.recent.truncate(8);
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// Shows a cohort just read: the settings take the options it was read with.
    fn take_cohort(
        &mut self,
        label: &str,
        raw: Cohort,
        cohort: Cohort,
        options: LoadOptions,
        bytes: Option<Arc<[u8]>>,
    ) {
        self.settings.spec.column_map = options.column_map.clone();
        self.settings.spec.sheet = options.sheet.clone();
        self.settings.spec.date_format = options.date_format;
        self.set_cohort(LoadedCohort {
            cohort: Arc::new(cohort),
            raw: Arc::new(raw),
            options,
            is_demo: false,
            label: label.to_string(),
            bytes,
        });
    }

    /// Re-reads the current cohort with other options (the column-mapping dialog). The file
    /// is read again only when the sheet changes; on failure the current cohort stays.
    pub fn apply_load_options(&mut self, options: LoadOptions) {
        if !self.loaded.is_demo && options.sheet != self.loaded.options.sheet {
            match self.loaded.bytes.clone() {
                Some(bytes) => {
                    let name = self.loaded.label.clone();
                    self.open_bytes_with(&name, bytes.to_vec(), options);
                }
                None => self.open_file_with(&PathBuf::from(&self.loaded.label), options),
            }
            return;
        }
        let mut cohort = (*self.loaded.raw).clone();
        match cohort.prepare(&options) {
            Ok(()) => {
                self.settings.spec.column_map = options.column_map.clone();
                self.settings.spec.sheet = options.sheet.clone();
                self.settings.spec.date_format = options.date_format;
                let loaded = LoadedCohort {
                    cohort: Arc::new(cohort),
                    raw: Arc::clone(&self.loaded.raw),
                    options,
                    is_demo: self.loaded.is_demo,
                    label: self.loaded.label.clone(),
                    bytes: self.loaded.bytes.clone(),
                };
                self.set_cohort(loaded);
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    /// The file being read on a worker, and for how long, if any.
    pub fn loading(&self) -> Option<(&Path, f64)> {
        self.loading
            .as_ref()
            .map(|l| (l.path.as_path(), l.started.elapsed().as_secs_f64()))
    }

    pub(super) fn poll_loading(&mut self) {
        let Some(l) = &self.loading else { return };
        match l.rx.try_recv() {
            Ok(result) => {
                let path = l.path.clone();
                self.loading = None;
                self.finish_loading(&path, result);
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => {}
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                let path = l.path.display().to_string();
                self.loading = None;
                self.error = Some(format!("{path}: reading the file failed"));
            }
        }
    }
}
