//! `--screenshot`: render the window for a few frames, save it as PNG and close; and the
//! presentation mode.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use eframe::egui;

use super::{theme, App};

/// A `--screenshot` request: render a few frames, save a PNG, close.
pub(super) struct ScreenshotJob {
    path: PathBuf,
    frames_left: u32,
    requested: bool,
    done: Arc<AtomicBool>,
    error: Arc<std::sync::Mutex<Option<String>>>,
}

impl ScreenshotJob {
    /// A screenshot to `path` after a few frames (the first ones lay the window out).
    pub(super) fn new(path: PathBuf) -> Self {
        ScreenshotJob {
            path,
            frames_left: 6,
            requested: false,
            done: Arc::new(AtomicBool::new(false)),
            error: Arc::new(std::sync::Mutex::new(None)),
        }
    }
}

impl App {
    pub(super) fn drive_screenshot(&mut self, ctx: &egui::Context) {
        let Some(job) = &mut self.screenshot else {
            return;
        };
        ctx.request_repaint();
        if job.done.load(Ordering::SeqCst) {
            if let Ok(guard) = job.error.lock() {
                if let Some(e) = guard.as_ref() {
                    eprintln!("error: {e}");
                }
            }
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return;
        }
        // The file named on the command line may still be read, then analysed.
        if self.pending.is_some() || self.loading.is_some() {
            return;
        }
        if job.frames_left > 0 {
            job.frames_left -= 1;
            return;
        }
        if !job.requested {
            job.requested = true;
            let path = job.path.clone();
            let done = Arc::clone(&job.done);
            let error = Arc::clone(&job.error);
            let repaint = ctx.clone();
            ctx.request_screenshot(move |image| {
                if let Err(e) = theme::save_png(&path, &image) {
                    if let Ok(mut g) = error.lock() {
                        *g = Some(format!(
                            "{}: cannot write the screenshot: {e}",
                            path.display()
                        ));
                    }
                }
                done.store(true, Ordering::SeqCst);
                repaint.request_repaint();
            });
        }
    }

    pub fn set_presentation(&mut self, ctx: &egui::Context, on: bool) {
        self.presentation = on;
        ctx.send_viewport_cmd(egui::ViewportCommand::Fullscreen(on));
        theme::apply(ctx, self.settings.dark, on);
    }
}
