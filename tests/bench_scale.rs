//! `kadlab bench-scale` as a user runs it: one row per size, positive
//! figures, the fit line, and a clear error for a bad `--sizes`.

use std::process::{Command, Output};

fn kadlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kadlab"))
        .args(args)
        .output()
        .expect("kadlab runs")
}

const SMALL: [&str; 5] = ["bench-scale", "--sizes", "300,600", "--lookups", "20"];

#[test]
fn the_table_has_a_row_per_size_and_the_fit() {
    let out = kadlab(&SMALL);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for n in ["300", "600"] {
        let row = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(n))
            .unwrap_or_else(|| panic!("no row for {n}:\n{stdout}"));
        // Every number of the row is positive (units such as "s" and "MiB"
        // are skipped).
        let figures: Vec<f64> = row
            .split_whitespace()
            .filter_map(|w| w.replace(',', "").parse().ok())
            .collect();
        assert!(figures.len() >= 9, "{row}");
        assert!(figures.iter().all(|&f| f > 0.0), "{row}");
    }
    assert!(stdout.contains("µs per lookup ≈"), "{stdout}");
    assert!(stdout.contains("·log2 N"), "{stdout}");
}

#[test]
fn json_rows_hold_positive_figures() {
    let mut args = SMALL.to_vec();
    args.extend(["--format", "json"]);
    let out = kadlab(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let rows = doc["rows"].as_array().expect("rows");
    let nodes: Vec<u64> = rows.iter().map(|r| r["nodes"].as_u64().unwrap()).collect();
    assert_eq!(nodes, [300, 600]);
    for row in rows {
        for key in [
            "wall_s",
            "setup_s",
            "lookup_s",
            "peak_rss_bytes",
            "bytes_per_node",
            "us_per_lookup",
            "us_per_rpc",
            "lookup_rpcs",
        ] {
            assert!(row[key].as_f64().is_some_and(|v| v > 0.0), "{key}: {row}");
        }
        // 20 FIND_NODE lookups and the static preset's 200 FIND_VALUE ones.
        assert_eq!(row["lookups"], 220, "{row}");
    }
    let fit = &doc["fit_us_per_lookup_vs_log2_n"];
    assert!(fit["slope"].is_f64() && fit["intercept"].is_f64(), "{doc}");
}

#[test]
fn a_bad_size_is_refused_naming_the_flag_and_the_allowed_form() {
    for bad in ["1000,lots", "1", "20000000"] {
        let out = kadlab(&["bench-scale", "--sizes", bad]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        for needle in ["--sizes", "2 to 10000000", "comma-separated"] {
            assert!(stderr.contains(needle), "{bad}: {stderr}");
        }
    }
}

#[test]
fn an_attack_preset_is_refused_before_any_run() {
    let out = kadlab(&["bench-scale", "--sizes", "300", "--preset", "eclipse"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("static, default, churn-heavy or lossy"),
        "{stderr}"
    );
}
