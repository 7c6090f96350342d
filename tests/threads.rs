//! `--threads` changes how long `compare` and `sweep` take, never what they
//! print or write: every strategy, attack fraction and sweep point is a
//! seeded single-threaded simulation of its own, collected in a fixed
//! order.

use std::path::PathBuf;
use std::process::Command;

/// Run kadlab, which must succeed; its stdout.
fn kadlab(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_kadlab"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A fresh directory of this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kadlab-threads-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `kadlab compare ARGS --format json --quiet --threads N` for one thread
/// and for two: both stdouts.
fn compare_on_one_and_two_threads(args: &[&str]) -> (Vec<u8>, Vec<u8>) {
    let run = |threads: &str| {
        let mut all = vec!["compare"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["--format", "json", "--quiet", "--threads", threads]);
        kadlab(&all)
    };
    (run("1"), run("2"))
}

#[test]
fn compare_prints_the_same_bytes_on_one_and_two_threads() {
    let (one, two) = compare_on_one_and_two_threads(&[
        "--nodes",
        "500",
        "--lookups",
        "100",
        "--value-lookups",
        "20",
        "--strategies",
        "kademlia,delta,disjoint",
    ]);
    assert!(String::from_utf8_lossy(&one).contains("\"disjoint\""));
    assert_eq!(one, two);
}

#[test]
fn a_static_network_of_several_fill_chunks_prints_the_same_bytes_on_one_and_two_threads() {
    // The oracle fill draws 4,096 nodes at a time in order and tells their
    // tables in parallel, while the next chunk is drawn.
    let (one, two) = compare_on_one_and_two_threads(&[
        "--preset",
        "static",
        "--nodes",
        "9000",
        "--lookups",
        "60",
        "--value-lookups",
        "10",
        "--strategies",
        "kademlia,query-rest",
    ]);
    assert!(String::from_utf8_lossy(&one).contains("\"query-rest\""));
    assert_eq!(one, two);
}

#[test]
fn an_attack_preset_prints_the_same_bytes_on_one_and_two_threads() {
    // Its fractions are networks of their own, run in parallel.
    let (one, two) = compare_on_one_and_two_threads(&[
        "--preset",
        "eclipse",
        "--nodes",
        "300",
        "--lookups",
        "30",
        "--strategies",
        "kademlia,delta",
    ]);
    assert!(String::from_utf8_lossy(&one).contains("\"curves\""));
    assert_eq!(one, two);
}

#[test]
fn sweep_writes_the_same_bytes_on_one_and_two_threads() {
    let run = |threads: &str| {
        let out = scratch(&format!("sweep-{threads}"));
        let stdout = kadlab(&[
            "sweep",
            "--nodes",
            "500",
            "--lookups",
            "100",
            "--value-lookups",
            "0",
            "--strategies",
            "kademlia,disjoint",
            "--alpha-range",
            "1..3",
            "--quiet",
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
        ]);
        let read = |name: &str| std::fs::read(out.join(name)).unwrap();
        let files = (
            stdout,
            read("sweep.json"),
            read("recall_vs_rpcs.svg"),
            read("report.html"),
        );
        std::fs::remove_dir_all(&out).unwrap();
        files
    };
    let one = run("1");
    assert!(String::from_utf8_lossy(&one.1).contains("\"points\""));
    assert_eq!(one, run("2"));
}

#[test]
fn a_thread_count_out_of_range_is_refused_with_what_to_use() {
    for command in ["compare", "sweep"] {
        let out = Command::new(env!("CARGO_BIN_EXE_kadlab"))
            .args([command, "--threads", "5000"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("--threads"), "{stderr}");
        assert!(
            stderr.contains("use 0 (every core) or a whole number from 1 to 1024"),
            "{stderr}"
        );
    }
}
