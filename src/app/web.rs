//! The web build's entry: the same app on the page's canvas (`index.html`, built by trunk
//! with `packaging/web.sh`). The demo cohort opens first; settings are kept in the browser's
//! storage by eframe (the settings only: never a cohort's data).

use eframe::wasm_bindgen::JsCast;
use eframe::web_sys;

use super::{App, StartOptions};

/// Starts the app on the canvas `the_canvas_id`; the page's "loading" text is removed, or
/// replaced by the reason when the app cannot start (no WebGL, say).
pub fn start() {
    wasm_bindgen_futures::spawn_local(async {
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let Some(canvas) = document
            .get_element_by_id("the_canvas_id")
            .and_then(|e| e.dyn_into::<web_sys::HtmlCanvasElement>().ok())
        else {
            return;
        };
        keep_shortcuts_from_the_browser(&canvas);
        let started = eframe::WebRunner::new()
            .start(
                canvas,
                eframe::WebOptions::default(),
                Box::new(|cc| Ok(Box::new(App::new(cc, StartOptions::default())))),
            )
            .await;
        if let Some(loading) = document.get_element_by_id("loading_text") {
            match started {
                Ok(()) => loading.remove(),
                Err(e) => loading
                    .set_text_content(Some(&format!("Survival Explorer could not start: {e:?}"))),
            }
        }
    });
}

/// Ctrl/Cmd+J (save the report) and Ctrl/Cmd+E (export the figure) are the app's while the
/// canvas has focus: the browser's own actions for them (its downloads page, its search bar)
/// are cancelled. eframe cancels those of Ctrl+O and Ctrl+S itself.
fn keep_shortcuts_from_the_browser(canvas: &web_sys::HtmlCanvasElement) {
    let on_key = eframe::wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(
        |e: web_sys::KeyboardEvent| {
            let key = e.key().to_lowercase();
            if (e.ctrl_key() || e.meta_key()) && (key == "j" || key == "e") {
                e.prevent_default();
            }
        },
    );
    let _ = canvas.add_event_listener_with_callback("keydown", on_key.as_ref().unchecked_ref());
    // The listener lives as long as the page.
    on_key.forget();
}
