//! The `report.html` pages of `compare --out`, `sweep` and the attack
//! presets, checked twice: as documents (an XML parser reads the whole
//! page; every table's rows have as many cells as its header; every plot
//! is an inline `<svg>` with its size; nothing is loaded from elsewhere),
//! and in a real browser, Debian's headless Chromium, which CI installs:
//! its screenshot must not be blank, and the text it rendered must name
//! every strategy and every column.

use std::path::{Path, PathBuf};
use std::process::Command;

fn kadlab(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_kadlab"))
        .args(args)
        .output()
        .expect("kadlab runs");
    assert!(out.status.success(), "{args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Chromium's flags for a machine without a display or a network: no
/// sandbox (CI runs as root), no GPU, none of its calls home.
const CHROMIUM: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
];

fn chromium(profile: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("chromium")
        .args(CHROMIUM)
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium runs (apt-get install chromium)");
    assert!(out.status.success(), "chromium {args:?}: {out:?}");
    out.stdout
}

/// What a browser makes of `page`: the text of the page it rendered (the
/// DOM after parsing, tags removed), and the size in bytes of its
/// screenshot, which must show more than a white page.
fn render(page: &Path, profile: &Path) -> (String, u64) {
    let url = format!("file://{}", page.display());
    let dom = String::from_utf8(chromium(profile, &["--dump-dom", &url])).expect("UTF-8 DOM");
    let parsed = roxmltree::Document::parse(&dom);
    // The serialised DOM is HTML, not XML; its text is what matters here.
    let text = match parsed {
        Ok(doc) => doc
            .descendants()
            .filter_map(|n| n.text())
            .collect::<Vec<_>>()
            .join(" "),
        Err(_) => strip_tags(&dom),
    };
    let png = page.with_extension("png");
    chromium(
        profile,
        &[
            "--window-size=1280,2400",
            &format!("--screenshot={}", png.display()),
            &url,
        ],
    );
    let decoder = png::Decoder::new(std::fs::File::open(&png).expect("a screenshot"));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    let channels = info.color_type.samples();
    let pixels = &pixels[..info.buffer_size()];
    let painted = pixels
        .chunks(channels)
        .filter(|p| p.iter().take(3).any(|&c| c < 200))
        .count();
    let total = pixels.len() / channels;
    assert!(
        painted * 100 > total,
        "{}: only {painted} of {total} pixels are not white",
        png.display()
    );
    let bytes = std::fs::metadata(&png).expect("a screenshot").len();
    (text, bytes)
}

fn strip_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

/// Parse `page` as XML and check its tables and plots; return the
/// header cells of its tables, in order.
fn check_document(page: &Path) -> Vec<String> {
    let html = std::fs::read_to_string(page).expect("report.html is written");
    assert!(html.starts_with("<!DOCTYPE html>\n"), "{}", page.display());
    let doc = roxmltree::Document::parse_with_options(
        &html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        },
    )
    .unwrap_or_else(|e| panic!("{} is not well-formed: {e}", page.display()));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "html");
    let named = |name: &'static str| root.descendants().filter(move |n| n.has_tag_name(name));
    assert_eq!(named("title").count(), 1);
    assert!(named("head").count() == 1 && named("body").count() == 1);
    // Self-contained: nothing to fetch.
    for node in root.descendants() {
        for attribute in ["src", "href"] {
            assert!(
                node.attribute(attribute).is_none(),
                "{}: <{}> loads {:?}",
                page.display(),
                node.tag_name().name(),
                node.attribute(attribute)
            );
        }
        assert!(!node.has_tag_name("script") && !node.has_tag_name("link"));
    }
    let mut headers = Vec::new();
    let tables: Vec<_> = named("table").collect();
    assert!(!tables.is_empty(), "{} has no table", page.display());
    for table in tables {
        let rows: Vec<_> = table
            .descendants()
            .filter(|n| n.has_tag_name("tr"))
            .collect();
        let head: Vec<String> = rows[0]
            .children()
            .filter(|n| n.has_tag_name("th"))
            .map(|n| n.text().unwrap_or("").to_string())
            .collect();
        assert!(!head.is_empty() && rows.len() > 1, "an empty table");
        for row in &rows[1..] {
            let cells = row.children().filter(|n| n.has_tag_name("td")).count();
            assert_eq!(
                cells,
                head.len(),
                "{}: a row of {cells} cells under {head:?}",
                page.display()
            );
        }
        headers.extend(head);
    }
    let svgs: Vec<_> = named("svg").collect();
    assert!(!svgs.is_empty(), "{} has no plot", page.display());
    for svg in svgs {
        assert_eq!(
            svg.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg")
        );
        for attribute in ["width", "height", "viewBox"] {
            assert!(
                svg.attribute(attribute).is_some(),
                "an <svg> without {attribute}"
            );
        }
        let drawn = svg
            .descendants()
            .filter(|n| n.is_element() && !n.has_tag_name("svg"))
            .count();
        assert!(drawn > 50, "an <svg> of {drawn} elements");
    }
    headers
}

#[test]
fn every_report_page_is_valid_self_contained_and_renders_in_a_browser() {
    let dir: PathBuf = std::env::temp_dir().join(format!("kadlab-html-{}", std::process::id()));
    let profile = dir.join("chromium-profile");
    let small = [
        "--nodes",
        "400",
        "--lookups",
        "30",
        "--value-lookups",
        "0",
        "--quiet",
    ];
    let path = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let run = |head: &[&str]| {
        let args: Vec<&str> = head.iter().chain(&small).copied().collect();
        kadlab(&args)
    };
    let table = run(&["compare", "--out", &path("compare")]);
    run(&["sweep", "--alpha-range", "1..3", "--out", &path("sweep")]);
    run(&["compare", "--preset", "eclipse", "--out", &path("eclipse")]);

    // compare: every strategy, every column of the table it printed.
    let page = dir.join("compare/report.html");
    let headers = check_document(&page);
    let columns: Vec<&str> = [
        "strategy", "params", "recall", "p5", "exact", "stale", "rpcs", "rpcs95", "t/outs",
        "rounds", "ms p50", "ms p95", "value", "ended",
    ]
    .to_vec();
    for column in &columns {
        assert!(
            headers.iter().any(|h| h == column),
            "compare page lacks column {column}"
        );
        assert!(table.contains(column), "the table lacks {column}");
    }
    let (text, compare_png) = render(&page, &profile);
    for word in columns
        .iter()
        .chain(&["delta", "query-rest", "k-active", "kademlia", "disjoint"])
    {
        assert!(
            text.contains(word),
            "the browser shows no {word:?} on the compare page"
        );
    }
    assert!(text.contains("What each row means") && text.contains("Settings"));

    // sweep: the strategies it swept, its columns.
    let page = dir.join("sweep/report.html");
    let headers = check_document(&page);
    assert_eq!(
        &headers[headers.len() - 4..],
        ["strategy", "alpha", "rpcs", "recall"]
    );
    let (text, sweep_png) = render(&page, &profile);
    for word in [
        "query-rest",
        "k-active",
        "kademlia",
        "disjoint",
        "alpha",
        "rpcs",
        "recall",
    ] {
        assert!(
            text.contains(word),
            "the browser shows no {word:?} on the sweep page"
        );
    }

    // eclipse: every variant, every fraction, every block.
    let page = dir.join("eclipse/report.html");
    let headers = check_document(&page);
    for f in ["f=0", "f=0.5"] {
        assert!(headers.iter().any(|h| h == f), "eclipse page lacks {f}");
    }
    let (text, eclipse_png) = render(&page, &profile);
    for word in [
        "kademlia",
        "k-active",
        "disjoint",
        "paths=8",
        "RPCs per lookup",
        "model",
    ] {
        assert!(
            text.contains(word),
            "the browser shows no {word:?} on the eclipse page"
        );
    }
    eprintln!("screenshots: compare {compare_png} B, sweep {sweep_png} B, eclipse {eclipse_png} B");
    std::fs::remove_dir_all(&dir).unwrap();
}
