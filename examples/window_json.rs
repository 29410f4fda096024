//! Prints the report JSON the window saves (File ▸ Report as JSON) after opening a file with
//! fresh settings: the desktop side of the web build's test (`packaging/web-test.sh`), which
//! compares it with what the page saved for the same file.
//!   cargo run --example window_json -- [FILE]      (no file: the demo cohort)

use survival_explorer::app::{App, Settings};

fn main() {
    let mut app = App::with_settings(Settings::default());
    if let Some(file) = std::env::args_os().nth(1) {
        app.open_file(std::path::Path::new(&file));
    }
    if app.loading().is_some() {
        eprintln!("error: files over 4 MB are read on a worker thread; not supported here");
        std::process::exit(1);
    }
    if let Some(e) = &app.error {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
    match app.report_json() {
        Ok(json) => println!("{json}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
