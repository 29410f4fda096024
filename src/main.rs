//! Thin entry point: parse the command line, run a subcommand or open the window (in the web
//! build: start the window on the page).
//!
//! On Windows the .exe is a GUI program (no console window behind the app when it is
//! double-clicked) that attaches to the console of the terminal it was started from, so
//! `survival-explorer.exe analyze …` still prints there.

// Release builds only: a debug build keeps its console for `cargo run` diagnostics.
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

#[cfg(not(target_arch = "wasm32"))]
use std::process::ExitCode;

#[cfg(not(target_arch = "wasm32"))]
use clap::Parser;
#[cfg(not(target_arch = "wasm32"))]
use survival_explorer::app::{StartOptions, View};
#[cfg(not(target_arch = "wasm32"))]
use survival_explorer::cli::{
    run_analysis, run_emit_r, run_report, run_simulate, warning_lines, Cli, Command,
};

/// The web build (`packaging/web.sh`): the window on the page's canvas; no command line.
#[cfg(target_arch = "wasm32")]
fn main() {
    survival_explorer::app::start_web();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() -> ExitCode {
    let started = web_time::Instant::now();
    #[cfg(windows)]
    attach_parent_console();
    let cli = Cli::parse();
    let one_shot_file = match &cli.command {
        Some(Command::Analyze(args)) => args.file.as_deref(),
        Some(Command::Report(args)) => args.analysis.file.as_deref(),
        _ => None,
    };
    if one_shot_file
        .and_then(|f| std::fs::metadata(f).ok())
        .is_some_and(|m| m.len() < KEEP_FREED_BELOW_BYTES)
    {
        keep_freed_memory();
    }
    match cli.command {
        Some(Command::Analyze(args)) if args.emit_r => match run_emit_r(&args) {
            Ok((script, warnings)) => {
                for w in warnings {
                    eprintln!("warning: {w}");
                }
                to_stdout("cannot write the R script", |out| {
                    out.write_all(script.as_bytes())
                })
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Analyze(args)) => match run_analysis(&args) {
            Ok(mut report) => {
                for w in warning_lines(&report) {
                    eprintln!("warning: {w}");
                }
                // Straight to standard output, not through a string of the whole report (the
                // matched pairs rendered side by side).
                to_stdout("cannot write the report as JSON", |out| {
                    survival_explorer::export::json::report_to_writer(&mut *out, &mut report)?;
                    writeln!(out)
                })
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Report(args)) => match run_report(&args) {
            Ok((w, warnings)) => {
                for w in warnings {
                    eprintln!("warning: {w}");
                }
                eprintln!(
                    "wrote {} figures and {} tables, summary.json, report.md{} and analysis.toml to {}",
                    w.figures.len(),
                    w.tables.len(),
                    if args.analysis.emit_r { ", analysis.R" } else { "" },
                    args.out.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Some(Command::Simulate(args)) => match run_simulate(&args) {
            // Written to a file by `run_simulate` when one was given.
            Ok(None) => ExitCode::SUCCESS,
            Ok(Some(csv)) => to_stdout("cannot write to standard output", |out| {
                out.write_all(csv.as_bytes())
            }),
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        None => {
            let view = match cli.view.as_deref().map(View::parse) {
                None => None,
                Some(Some(v)) => Some(v),
                Some(None) => {
                    eprintln!(
                        "error: --view: expected survival, response, balance, sensitivity or subgroups"
                    );
                    return ExitCode::FAILURE;
                }
            };
            let options = StartOptions {
                file: cli.file,
                fresh_settings: cli.screenshot.is_some(),
                screenshot: cli.screenshot,
                view,
                presentation: cli.presentation,
                columns_dialog: cli.columns,
                risk_table: cli.risk_table,
                started: Some(started),
            };
            match survival_explorer::app::run(options) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Writes to standard output through a buffer, flushed; a write that fails (a full disk, a
/// closed pipe) is a one-line error after `message`, and exit code 1. The buffer is 1 MiB:
/// standard output is line-buffered, and through an 8 KiB buffer the report of 100,000
/// patients (2 MB then, 1.1 MB since arrays of scalars stay on one line) took about 600
/// write calls (8 through this one).
#[cfg(not(target_arch = "wasm32"))]
fn to_stdout(
    message: &str,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {message}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Files below this size (about 500,000 rows of CSV) are analysed with [`keep_freed_memory`].
/// Above it, memory comes first, as for the analysis' parts run one after the other from
/// 500,000 patients: kept memory raised the peak at 1,000,000 patients from 500 to 585 MB.
#[cfg(not(target_arch = "wasm32"))]
const KEEP_FREED_BELOW_BYTES: u64 = 32 << 20;

/// For a command that analyses one file and exits: memory it frees stays with the process
/// for its next allocations. By default glibc maps each block over 128 KiB (a column of
/// 100,000 numbers is 800 KB) fresh from the kernel and unmaps it when freed (its adaptive
/// threshold rises only up to 32 MiB), so every such block costs page faults and zeroed
/// pages again: a tenth of `analyze`'s time at 100,000 patients (docs/performance.md).
/// Here blocks up to 32 MiB come from the heap and freed memory is kept up to 1 GiB, and all
/// threads share one heap, so what one core frees the other reuses (without this each
/// thread's blocks come from its own arena: 7 % more page faults; an analysis of 100,000
/// patients makes about 5,000 allocations, so the one heap's lock is hardly contended,
/// whatever the number of cores). The window keeps glibc's defaults: it runs for hours and
/// should give memory back.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    use std::ffi::c_int;
    const M_TRIM_THRESHOLD: c_int = -1;
    const M_MMAP_THRESHOLD: c_int = -3;
    const M_ARENA_MAX: c_int = -8;
    extern "C" {
        fn mallopt(param: c_int, value: c_int) -> c_int;
    }
    // SAFETY: glibc's documented tuning call (malloc.h), made before any other thread
    // exists; a value it refuses leaves its default in place. The trim threshold alone
    // would switch off the adaptive mmap threshold and map every block (slower): it is set
    // only when the mmap threshold was.
    unsafe {
        if mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 {
            mallopt(M_TRIM_THRESHOLD, 1 << 30);
        }
        // Before any other thread exists, so no second arena has been made.
        mallopt(M_ARENA_MAX, 1);
    }
}

#[cfg(all(
    not(target_arch = "wasm32"),
    not(all(target_os = "linux", target_env = "gnu"))
))]
fn keep_freed_memory() {}

/// Gives a GUI-subsystem .exe the console of the terminal that started it, so the CLI prints
/// there. Handles that were already valid (output redirected to a file or a pipe) are kept.
/// Started from Explorer there is no parent console and nothing changes. (cmd.exe does not
/// wait for a GUI program: its prompt can come back before the output; redirect or use
/// `start /wait` in scripts.)
#[cfg(windows)]
fn attach_parent_console() {
    use std::ffi::c_void;
    const ATTACH_PARENT_PROCESS: u32 = u32::MAX;
    const STD_HANDLES: [u32; 3] = [-10i32 as u32, -11i32 as u32, -12i32 as u32];
    #[link(name = "kernel32")]
    extern "system" {
        fn AttachConsole(process_id: u32) -> i32;
        fn GetStdHandle(std_handle: u32) -> *mut c_void;
        fn SetStdHandle(std_handle: u32, handle: *mut c_void) -> i32;
    }
    // SAFETY: plain Win32 calls with valid constants; handles are only passed back to the OS.
    unsafe {
        let before = STD_HANDLES.map(|h| GetStdHandle(h));
        if AttachConsole(ATTACH_PARENT_PROCESS) == 0 {
            return;
        }
        for (id, handle) in STD_HANDLES.into_iter().zip(before) {
            if !handle.is_null() && handle as isize != -1 {
                SetStdHandle(id, handle);
            }
        }
    }
}
