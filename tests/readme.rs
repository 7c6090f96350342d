//! The README's sample output is what `cargo run --release -- compare`
//! prints: the default network, every strategy, the table and the legend
//! under it. If a change moves a figure, this fails until the README is
//! updated with the new output.

use indicatif::ProgressBar;
use kadlab::cli::compare::{compare, NetworkArgs};

/// The README's first fenced block after the `## What \`compare\` prints`
/// heading.
fn readme_sample() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md is readable");
    let section = readme
        .split("## What `compare` prints")
        .nth(1)
        .expect("the README has a `What compare prints` section");
    let block = section
        .split("```\n")
        .nth(1)
        .expect("the section has a fenced block");
    block.to_string()
}

#[test]
fn the_readme_sample_is_what_the_default_compare_prints() {
    let resolved = NetworkArgs::default()
        .resolve(None)
        .expect("the default network resolves");
    let (report, _) = compare(&resolved, &ProgressBar::hidden());
    let table = report.to_table();
    // The settings line is long and says nothing a reader of the README
    // needs; the sample starts at the header row.
    let printed = table
        .split_once("\n\n")
        .map(|(_, rest)| rest.to_string())
        .expect("the table has its settings line first")
        + &report.legend();
    let sample = readme_sample();
    assert_eq!(
        sample.trim_end(),
        printed.trim_end(),
        "README.md's sample differs from `kadlab compare`; paste the new output:\n{printed}"
    );
}
