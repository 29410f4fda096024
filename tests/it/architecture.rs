//! The shape of the code (ARCHITECTURE.md): arrows point down only, and the core names no
//! front end. Read from the sources, so a `use` that breaks the layering fails here before it
//! is merged. Test code (a file's `#[cfg(test)]` module, at its end) may reach further.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Each top-level module of `src/` and its layer: a module may name only modules of lower
/// layers (the crate root's `cores()` and demo constants are everyone's).
const LAYERS: [(&str, u32); 15] = [
    ("rng", 0),
    ("stats", 1),
    ("sample", 1),
    ("format", 1),
    ("simulate", 1),
    ("cohort", 2),
    ("propensity", 3),
    ("balance", 4),
    ("matching", 5),
    ("weighting", 5),
    ("analysis", 6),
    ("spec_file", 7),
    ("export", 8),
    ("cli", 9),
    ("app", 9),
];

/// The core: no front end, no window toolkit, no printing, no file writing.
const CORE: [&str; 10] = [
    "rng",
    "stats",
    "sample",
    "simulate",
    "cohort",
    "propensity",
    "balance",
    "matching",
    "weighting",
    "analysis",
];

const FORBIDDEN_IN_CORE: [&str; 13] = [
    "crate::app",
    "crate::export",
    "crate::cli",
    "crate::spec_file",
    "egui",
    "eframe",
    "rfd::",
    "arboard",
    "plotters",
    "println!",
    "eprintln!",
    "std::fs::write",
    "File::create",
];

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A module's files (`src/NAME.rs` or everything under `src/NAME/`), each without its test
/// module and without comments.
fn module_code(name: &str) -> Vec<(PathBuf, String)> {
    let mut files = Vec::new();
    let file = src().join(format!("{name}.rs"));
    if file.exists() {
        files.push(file);
    }
    let dir = src().join(name);
    if dir.is_dir() {
        rust_files(&dir, &mut files);
    }
    assert!(!files.is_empty(), "module {name} has no source");
    files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            let code: String = text
                .lines()
                .take_while(|l| !l.starts_with("#[cfg(test)]"))
                .map(|l| l.split("//").next().unwrap_or(""))
                .collect::<Vec<_>>()
                .join("\n");
            (f, code)
        })
        .collect()
}

/// Every `crate::NAME` a module's code names.
fn dependencies(name: &str) -> BTreeMap<String, PathBuf> {
    let mut deps = BTreeMap::new();
    for (file, code) in module_code(name) {
        for (i, _) in code.match_indices("crate::") {
            let rest = &code[i + "crate::".len()..];
            let dep: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if dep != name {
                deps.entry(dep).or_insert_with(|| file.clone());
            }
        }
    }
    deps
}

#[test]
fn every_module_of_src_has_a_layer() {
    let mut top: Vec<String> = std::fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let stem = p.file_stem()?.to_str()?.to_string();
            (p.is_dir() || p.extension().is_some_and(|e| e == "rs")).then_some(stem)
        })
        .filter(|s| s != "lib" && s != "main")
        .collect();
    top.sort();
    top.dedup();
    for m in &top {
        assert!(
            LAYERS.iter().any(|(n, _)| n == m),
            "src/{m} has no layer in tests/it/architecture.rs (and ARCHITECTURE.md)"
        );
    }
}

/// Arrows point down only; with strictly lower layers there can be no cycle either.
#[test]
fn arrows_point_down_only() {
    let layer = |m: &str| LAYERS.iter().find(|(n, _)| *n == m).map(|(_, l)| *l);
    let mut wrong = Vec::new();
    for (module, own) in LAYERS {
        for (dep, file) in dependencies(module) {
            // The crate root's items (cores(), the demo cohort) are not a module.
            let Some(theirs) = layer(&dep) else { continue };
            if theirs >= own {
                wrong.push(format!(
                    "{module} (layer {own}) names crate::{dep} (layer {theirs}) in {}",
                    file.display()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "upward arrows:\n{}", wrong.join("\n"));
}

#[test]
fn the_core_names_no_front_end_and_neither_prints_nor_writes_files() {
    let mut wrong = Vec::new();
    for module in CORE {
        for (file, code) in module_code(module) {
            for word in FORBIDDEN_IN_CORE {
                if code.contains(word) {
                    wrong.push(format!("{} names {word}", file.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The house rule of ../shared/STYLE.md: no file in src/ over 600 lines.
#[test]
fn no_source_file_is_over_600_lines() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > 600).then(|| format!("{} has {n} lines", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "{}", long.join("\n"));
}
