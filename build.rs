//! Build script: for Windows (GNU toolchain) targets, embed the icon and the version
//! metadata (Explorer's Properties ▸ Details) in `survival-explorer.exe`. It writes a
//! resource script and compiles it with mingw-w64's `windres`
//! (`x86_64-w64-mingw32-windres` when cross-compiling; `WINDRES` overrides). Other targets:
//! nothing to do.

use std::env;
use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=assets/icon/survival-explorer.ico");
    println!("cargo:rerun-if-env-changed=WINDRES");
    if env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("windows") {
        return;
    }
    if env::var("CARGO_CFG_TARGET_ENV").as_deref() != Ok("gnu") {
        println!("cargo:warning=no icon or version metadata: only the GNU target embeds them");
        return;
    }
    let var = |name: &str| env::var(name).unwrap_or_default();
    let out = PathBuf::from(var("OUT_DIR"));
    let icon = PathBuf::from(var("CARGO_MANIFEST_DIR")).join("assets/icon/survival-explorer.ico");
    let version = var("CARGO_PKG_VERSION");
    let numeric = format!(
        "{},{},{},0",
        var("CARGO_PKG_VERSION_MAJOR"),
        var("CARGO_PKG_VERSION_MINOR"),
        var("CARGO_PKG_VERSION_PATCH")
    );
    let rc = format!(
        r#"1 ICON "{icon}"
1 VERSIONINFO
FILEVERSION {numeric}
PRODUCTVERSION {numeric}
FILEOS 0x40004
FILETYPE 0x1
BEGIN
  BLOCK "StringFileInfo"
  BEGIN
    BLOCK "040904B0"
    BEGIN
      VALUE "CompanyName", "Survival Explorer contributors"
      VALUE "FileDescription", "Survival Explorer"
      VALUE "FileVersion", "{version}"
      VALUE "InternalName", "survival-explorer"
      VALUE "LegalCopyright", "MIT OR Apache-2.0"
      VALUE "OriginalFilename", "survival-explorer.exe"
      VALUE "ProductName", "Survival Explorer"
      VALUE "ProductVersion", "{version}"
      VALUE "Comments", "For research; not a medical device."
    END
  END
  BLOCK "VarFileInfo"
  BEGIN
    VALUE "Translation", 0x409, 1200
  END
END
"#,
        icon = icon.display().to_string().replace('\\', "/"),
    );
    let rc_path = out.join("survival-explorer.rc");
    let obj_path = out.join("survival-explorer-resource.o");
    if let Err(e) = std::fs::write(&rc_path, rc) {
        fail(&format!("cannot write {}: {e}", rc_path.display()));
    }
    let windres = env::var("WINDRES").unwrap_or_else(|_| {
        if var("HOST") == var("TARGET") {
            "windres".to_string()
        } else {
            format!("{}-w64-mingw32-windres", var("CARGO_CFG_TARGET_ARCH"))
        }
    });
    let status = Command::new(&windres)
        .arg("--input")
        .arg(&rc_path)
        .arg("--output-format=coff")
        .arg("--output")
        .arg(&obj_path)
        .status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => fail(&format!("{windres} failed ({s}) on {}", rc_path.display())),
        Err(e) => fail(&format!(
            "cannot run {windres} ({e}); install mingw-w64 (Debian: binutils-mingw-w64-x86-64) \
             or set WINDRES"
        )),
    }
    // An object file on the link line is always linked (unlike an archive member), so its
    // .rsrc section lands in the .exe.
    println!("cargo:rustc-link-arg-bins={}", obj_path.display());
}

fn fail(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(1);
}
