//! Cheap checks of what packaging/ ships (the builds themselves are not run here: see
//! packaging/windows.sh, linux.sh and wine-check.sh): the icon files, the desktop entry and
//! the .deb's asset list, `--version`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (width, height) of a PNG, from its IHDR chunk.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

/// The .ico embedded in the .exe holds PNG images from 16 to 256 px, each the size its
/// directory entry says.
#[test]
fn the_windows_icon_holds_pngs_from_16_to_256_px() {
    let ico = std::fs::read(repo().join("assets/icon/survival-explorer.ico")).unwrap();
    let le16 = |i: usize| u16::from_le_bytes([ico[i], ico[i + 1]]) as usize;
    let le32 = |i: usize| u32::from_le_bytes(ico[i..i + 4].try_into().unwrap()) as usize;
    assert_eq!((le16(0), le16(2)), (0, 1), "an icon resource header");
    let mut sizes = Vec::new();
    for e in 0..le16(4) {
        let entry = 6 + 16 * e;
        let declared = if ico[entry] == 0 {
            256
        } else {
            ico[entry] as u32
        };
        let (len, offset) = (le32(entry + 8), le32(entry + 12));
        let (w, h) = png_size(&ico[offset..offset + len]);
        assert_eq!((w, h), (declared, declared), "entry {e}");
        sizes.push(w);
    }
    assert!(sizes.contains(&16) && sizes.contains(&32) && sizes.contains(&256));
}

/// The desktop entry opens a file given to it ("Open with"), for CSV and Excel files, with
/// the icon the .deb installs.
#[test]
fn the_desktop_entry_opens_csv_and_excel_files() {
    let entry =
        std::fs::read_to_string(repo().join("packaging/linux/survival-explorer.desktop")).unwrap();
    let value = |key: &str| {
        entry
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key}= line"))
            .to_string()
    };
    assert_eq!(value("Exec"), "survival-explorer %f");
    assert_eq!(value("Icon"), "survival-explorer");
    let mime = value("MimeType");
    for t in [
        "text/csv",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.ms-excel",
    ] {
        assert!(mime.split(';').any(|m| m == t), "{t} missing in {mime}");
    }
}

/// Every file the .deb takes from the repository exists, and each hicolor icon is the size
/// its folder names.
#[test]
fn the_deb_assets_exist_and_icons_have_their_folders_size() {
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(repo().join("Cargo.toml")).unwrap()).unwrap();
    let assets = manifest["package"]["metadata"]["deb"]["assets"]
        .as_array()
        .expect("[package.metadata.deb] assets");
    let mut icons = 0;
    for asset in assets {
        let source = asset[0].as_str().unwrap();
        let dest = asset[1].as_str().unwrap();
        if source.starts_with("target/") {
            continue;
        }
        let path = repo().join(source);
        assert!(Path::new(&path).is_file(), "{source} is missing");
        if let Some(dim) = dest
            .strip_prefix("usr/share/icons/hicolor/")
            .and_then(|d| d.split('/').next())
        {
            let (w, h) = png_size(&std::fs::read(&path).unwrap());
            assert_eq!(format!("{w}x{h}"), dim, "{source}");
            icons += 1;
        }
    }
    assert!(icons >= 3, "the .deb installs the icon at several sizes");
    assert!(assets
        .iter()
        .any(|a| a[1].as_str() == Some("usr/share/applications/")));
}

#[test]
fn version_prints_the_crate_version() {
    let out = Command::new(env!("CARGO_BIN_EXE_survival-explorer"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("survival-explorer {}", env!("CARGO_PKG_VERSION"))
    );
}

/// Help ▸ About shows the version, the intended use and the license.
#[test]
fn help_about_shows_version_intended_use_and_license() {
    use egui_kittest::kittest::Queryable;
    use survival_explorer::app::{App, Settings};
    let mut h = egui_kittest::Harness::builder()
        .with_size([1500.0, 1100.0])
        .build_ui_state(
            |ui, app: &mut App| app.ui_all(ui),
            App::with_settings(Settings::default()),
        );
    h.run();
    assert!(h.query_by_label_contains("not a medical device").is_none());
    h.get_by_label("Help").click();
    h.run();
    h.get_by_label("About Survival Explorer").click();
    h.run();
    for text in [
        format!("Survival Explorer {}", env!("CARGO_PKG_VERSION")).as_str(),
        "For research; not a medical device.",
        "MIT OR Apache-2.0",
        "How to cite",
        "polars",
    ] {
        assert!(
            h.query_by_label_contains(text).is_some(),
            "About does not show '{text}'"
        );
    }
    h.get_by_label("Close").click();
    h.run();
    assert!(h.query_by_label_contains("not a medical device").is_none());
}

/// Cargo.toml's `MIT OR Apache-2.0` has both texts at the repository's root, and every
/// package carries them: the .deb in its doc folder, the Windows zip, the tar.gz and the
/// macOS .app by the scripts that pack them.
#[test]
fn every_package_carries_both_license_texts() {
    let read = |p: &str| std::fs::read_to_string(repo().join(p)).unwrap();
    let manifest: toml::Table = toml::from_str(&read("Cargo.toml")).unwrap();
    assert_eq!(
        manifest["package"]["license"].as_str(),
        Some("MIT OR Apache-2.0")
    );
    assert!(read("LICENSE-MIT").contains("Permission is hereby granted, free of charge"));
    let apache = read("LICENSE-APACHE");
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    assert!(apache.contains("END OF TERMS AND CONDITIONS"));
    let assets = manifest["package"]["metadata"]["deb"]["assets"]
        .as_array()
        .unwrap();
    for file in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(
            assets.iter().any(|a| a[0].as_str() == Some(file)
                && a[1]
                    .as_str()
                    .unwrap()
                    .starts_with("usr/share/doc/survival-explorer/")),
            "the .deb does not install {file}"
        );
    }
    for script in ["windows", "linux", "macos"] {
        let text = read(&format!("packaging/{script}.sh"));
        assert!(
            text.contains("LICENSE-MIT LICENSE-APACHE"),
            "packaging/{script}.sh does not pack the license texts"
        );
    }
}
