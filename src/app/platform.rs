//! Files in and out, wherever the app runs. On the desktop: native dialogs and the file
//! system. In the browser: the page's file picker, drag and drop, and downloads made in the
//! page; a file's bytes stay in the tab, nothing is sent anywhere.

use std::sync::{Arc, Mutex};

#[cfg(target_arch = "wasm32")]
use eframe::egui;

/// A file chosen in the browser's picker: it arrives a few frames later (reading it is
/// asynchronous) and waits in the [`Inbox`] for the next frame.
pub(super) struct Picked {
    pub name: String,
    pub bytes: Result<Vec<u8>, String>,
}

/// Files picked in the browser, waiting for the next frame. Always empty on the desktop,
/// where a dialog returns a path at once.
#[derive(Clone, Default)]
pub(super) struct Inbox(Arc<Mutex<Vec<Picked>>>);

impl Inbox {
    /// The files that arrived since the last call.
    pub fn take(&self) -> Vec<Picked> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }

    #[cfg(target_arch = "wasm32")]
    fn put(&self, picked: Picked) {
        if let Ok(mut v) = self.0.lock() {
            v.push(picked);
        }
    }
}

/// The media type a download is offered with, by its extension.
#[cfg(target_arch = "wasm32")]
fn media_type(ext: &str) -> &'static str {
    match ext {
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "pdf" => "application/pdf",
        "tiff" | "tif" => "image/tiff",
        "csv" => "text/csv",
        "json" => "application/json",
        _ => "text/plain",
    }
}

/// Asks where to save `name` (a native dialog), then makes the file's bytes and writes them
/// there; Ok(false) when the user cancelled (nothing is made).
#[cfg(not(target_arch = "wasm32"))]
pub(super) fn save(
    name: &str,
    what: &str,
    bytes: impl FnOnce() -> Result<Vec<u8>, String>,
) -> Result<bool, String> {
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    let Some(path) = rfd::FileDialog::new()
        .add_filter(what, &[ext])
        .set_file_name(name)
        .save_file()
    else {
        return Ok(false);
    };
    // The native dialog has asked before replacing a file.
    crate::spec_file::write_atomic(&path, &bytes()?, true).map_err(|e| e.to_string())?;
    Ok(true)
}

/// Offers `bytes` as a download named `name`: the browser saves it where the user keeps
/// downloads (or asks, as set up). Made in the page from memory; nothing leaves the tab.
#[cfg(target_arch = "wasm32")]
pub(super) fn save(
    name: &str,
    _what: &str,
    bytes: impl FnOnce() -> Result<Vec<u8>, String>,
) -> Result<bool, String> {
    use eframe::wasm_bindgen::JsCast;
    use eframe::web_sys;
    let js = |e: eframe::wasm_bindgen::JsValue| format!("cannot offer the download: {e:?}");
    let window = web_sys::window().ok_or("no browser window")?;
    let document = window.document().ok_or("no document")?;
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(&bytes()?[..]));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(media_type(ext));
    let blob =
        web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(js)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(js)?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(js)?
        .dyn_into()
        .map_err(|_| "cannot offer the download: no link element")?;
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // The object URL is let go once the browser has taken the download.
    let revoke = eframe::wasm_bindgen::closure::Closure::once_into_js(move || {
        let _ = web_sys::Url::revoke_object_url(&url);
    });
    let _ = window
        .set_timeout_with_callback_and_timeout_and_arguments_0(revoke.unchecked_ref(), 60_000);
    Ok(true)
}

/// Opens the browser's file picker for files matching `accept` (".csv,.xlsx"); the chosen
/// file is read in the tab and put in `inbox`, and the window repaints.
#[cfg(target_arch = "wasm32")]
pub(super) fn pick(accept: &str, inbox: &Inbox, ctx: Option<&egui::Context>) -> Result<(), String> {
    use eframe::wasm_bindgen::JsCast;
    use eframe::web_sys;
    let js = |e: eframe::wasm_bindgen::JsValue| format!("cannot open the file picker: {e:?}");
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let input: web_sys::HtmlInputElement = document
        .create_element("input")
        .map_err(js)?
        .dyn_into()
        .map_err(|_| "cannot open the file picker: no input element")?;
    input.set_type("file");
    input.set_accept(accept);
    let (chosen, inbox, ctx) = (input.clone(), inbox.clone(), ctx.cloned());
    let on_change = eframe::wasm_bindgen::closure::Closure::once_into_js(move || {
        let Some(file) = chosen.files().and_then(|files| files.get(0)) else {
            return;
        };
        wasm_bindgen_futures::spawn_local(async move {
            let name = file.name();
            let read = wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await;
            let bytes = read
                .map(|buffer| js_sys::Uint8Array::new(&buffer).to_vec())
                .map_err(|e| format!("{name}: the browser could not read the file: {e:?}"));
            inbox.put(Picked { name, bytes });
            if let Some(ctx) = ctx {
                ctx.request_repaint();
            }
        });
    });
    input.set_onchange(Some(on_change.unchecked_ref()));
    input.click();
    Ok(())
}

/// Reads a file dropped on the page into `inbox`; the window repaints when it is there.
#[cfg(target_arch = "wasm32")]
pub(super) fn read_dropped(
    file: egui::DroppedFileHandle,
    inbox: &Inbox,
    ctx: Option<&egui::Context>,
) {
    let (inbox, ctx) = (inbox.clone(), ctx.cloned());
    wasm_bindgen_futures::spawn_local(async move {
        let name = file.path().file_name().map_or_else(
            || "dropped file".to_string(),
            |n| n.to_string_lossy().to_string(),
        );
        let bytes = file
            .bytes_async()
            .await
            .map_err(|e| format!("{name}: the browser could not read the file: {e}"));
        inbox.put(Picked { name, bytes });
        if let Some(ctx) = ctx {
            ctx.request_repaint();
        }
    });
}
