//! `survival-explorer --screenshot OUT.png --view V` under Xvfb, for each view: the PNG must
//! exist, have the window's size and not be blank. Needs `xvfb-run` (installed by .ci/run);
//! without it the test says so and skips.

use std::process::Command;

fn has_xvfb() -> bool {
    Command::new("sh")
        .args(["-c", "command -v xvfb-run"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Distinct colours in the image (a blank window has one or two).
fn distinct_colours(path: &std::path::Path) -> (u32, u32, usize) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let bytes = &buf[..info.buffer_size()];
    let channels = info.color_type.samples();
    let mut colours = std::collections::HashSet::new();
    for px in bytes.chunks(channels) {
        colours.insert(px.to_vec());
        if colours.len() > 5000 {
            break;
        }
    }
    (info.width, info.height, colours.len())
}

#[test]
fn screenshots_of_every_view_are_not_blank() {
    if !has_xvfb() {
        eprintln!("SKIPPED: xvfb-run is not installed (.ci/run installs it)");
        return;
    }
    let dir = std::env::temp_dir().join(format!("se-shots-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for view in ["survival", "response", "balance"] {
        let out = dir.join(format!("{view}.png"));
        let status = Command::new("xvfb-run")
            .args(["-a", "-s", "-screen 0 1600x1000x24"])
            .arg(env!("CARGO_BIN_EXE_survival-explorer"))
            .args(["--screenshot", out.to_str().unwrap(), "--view", view])
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            .status()
            .expect("xvfb-run runs");
        assert!(status.success(), "{view}: exit {status}");
        assert!(out.exists(), "{view}: no PNG written");
        let (w, h, colours) = distinct_colours(&out);
        assert!(w >= 900 && h >= 600, "{view}: {w}x{h}");
        assert!(
            colours > 50,
            "{view}: the screenshot is blank ({colours} colours)"
        );
    }
}
