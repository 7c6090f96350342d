//! Every plot kadlab writes renders: each SVG of `compare --out`, `sweep`
//! and `trace` is turned into a PNG by `rsvg-convert` (librsvg, which CI
//! installs) and must not be blank. The curves plot also keeps one style
//! per strategy, whichever plot it is in.

use std::path::{Path, PathBuf};
use std::process::Command;

fn kadlab(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_kadlab"))
        .args(args)
        .output()
        .expect("kadlab runs");
    assert!(out.status.success(), "{args:?}: {out:?}");
}

/// Render `svg` to a PNG beside it with rsvg-convert; its size in bytes.
fn render(svg: &Path) -> u64 {
    let png = svg.with_extension("png");
    let status = Command::new("rsvg-convert")
        .arg(svg)
        .arg("-o")
        .arg(&png)
        .status()
        .expect("rsvg-convert runs (apt-get install librsvg2-bin)");
    assert!(status.success(), "rsvg-convert {}", svg.display());
    std::fs::metadata(&png).expect("a PNG was written").len()
}

#[test]
fn every_plot_renders_to_a_png_that_is_not_blank() {
    let dir: PathBuf = std::env::temp_dir().join(format!("kadlab-plots-{}", std::process::id()));
    let small = [
        "--nodes",
        "400",
        "--lookups",
        "30",
        "--value-lookups",
        "0",
        "--quiet",
    ];
    let with = |head: &[&str]| -> Vec<String> {
        head.iter().chain(&small).map(|s| s.to_string()).collect()
    };
    let compare = dir.join("compare");
    let eclipse = dir.join("eclipse");
    let sweep = dir.join("sweep");
    let trace = dir.join("trace.svg");
    for args in [
        with(&["compare", "--no-legend", "--out", compare.to_str().unwrap()]),
        with(&[
            "compare",
            "--preset",
            "eclipse",
            "--out",
            eclipse.to_str().unwrap(),
        ]),
        with(&[
            "sweep",
            "--alpha-range",
            "1..3",
            "--out",
            sweep.to_str().unwrap(),
        ]),
    ] {
        kadlab(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }
    kadlab(&[
        "trace",
        "--strategy",
        "disjoint",
        "--nodes",
        "400",
        "--svg",
        trace.to_str().unwrap(),
    ]);
    // A white 900×600 PNG is about 2 KB; axes, text and curves make it
    // several times that.
    for svg in [
        compare.join("recall_vs_rpcs.svg"),
        sweep.join("recall_vs_rpcs.svg"),
        eclipse.join("success_vs_f.svg"),
        trace.clone(),
    ] {
        let bytes = render(&svg);
        assert!(
            bytes > 10_000,
            "{} rendered to {bytes} bytes",
            svg.display()
        );
    }
    // One colour per strategy across plots: kademlia's colour in the
    // compare plot is its colour in the sweep.
    let (red, _) = kadlab::plot::style_of("kademlia");
    let colour = format!("#{:02X}{:02X}{:02X}", red.0, red.1, red.2);
    for svg in [
        compare.join("recall_vs_rpcs.svg"),
        sweep.join("recall_vs_rpcs.svg"),
    ] {
        let text = std::fs::read_to_string(&svg).unwrap();
        assert!(text.contains(&colour), "{} lacks {colour}", svg.display());
    }
    // Sweep points carry their value, both ends at least.
    let sweep_svg = std::fs::read_to_string(sweep.join("recall_vs_rpcs.svg")).unwrap();
    assert!(sweep_svg.contains("alpha=1") && sweep_svg.contains("alpha=3"));
    // Each of disjoint's four paths has its ring colour and legend line.
    let trace_svg = std::fs::read_to_string(&trace).unwrap();
    for path in 1..=4 {
        assert!(trace_svg.contains(&format!("path {path}: ring")));
    }
    assert!(!trace_svg.contains("path 5: ring"));
    // The eclipse preset's d = 2, 4 and 8 all succeed at every f on so
    // small a network by kadlab's criterion: the plot says they coincide.
    let eclipse_svg = std::fs::read_to_string(eclipse.join("success_vs_f.svg")).unwrap();
    assert!(
        eclipse_svg.contains("on top of each other"),
        "no overlap note in the eclipse plot"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
