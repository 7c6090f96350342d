//! `kadlab sweep --plan FILE` and `--merge DIR`: a sweep spread over a
//! batch runner (GNU parallel here) merges into the very bytes of the same
//! sweep run locally. That also proves that a point run alone, on a network
//! built afresh from the same settings, gives the records it gets as one
//! contender among all the sweep's on one network.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn kadlab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kadlab"))
        .args(args)
        .output()
        .unwrap()
}

/// Run kadlab, which must succeed; its stdout.
fn kadlab_ok(args: &[&str]) -> Vec<u8> {
    let out = kadlab(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Run kadlab, which must fail; its stderr.
fn kadlab_err(args: &[&str]) -> String {
    let out = kadlab(args);
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A fresh directory of this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kadlab-plan-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The sweep of these tests: 2 strategies × α 1..3, six points.
const SWEEP: [&str; 12] = [
    "sweep",
    "--nodes",
    "300",
    "--lookups",
    "50",
    "--value-lookups",
    "10",
    "--strategies",
    "kademlia,query-rest",
    "--alpha-range",
    "1..3",
    "--quiet",
];

fn with<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    SWEEP.iter().copied().chain(extra.iter().copied()).collect()
}

#[test]
fn a_plan_run_with_gnu_parallel_merges_into_the_bytes_of_the_local_sweep() {
    let base = scratch("parallel");
    // Settings from a config file, which the planned commands must not
    // need: it is gone before they run.
    let config = base.join("sweep.toml");
    std::fs::write(
        &config,
        "[lookup]\nrpc_timeout_ms = 1500\n[sim]\nseed = 7\nloss = 0.02\n[routing]\nquestionable_after_s = 600\nbad_after = 2\n",
    )
    .unwrap();
    let (local, merged, points) = (base.join("local"), base.join("merged"), base.join("points"));
    let plan = base.join("plan.txt");
    let local_stdout = kadlab_ok(&with(&["--config", s(&config), "--out", s(&local)]));
    kadlab_ok(&with(&[
        "--config",
        s(&config),
        "--plan",
        s(&plan),
        "--point-dir",
        s(&points),
    ]));
    std::fs::remove_file(&config).unwrap();
    let text = std::fs::read_to_string(&plan).unwrap();
    assert_eq!(text.lines().count(), 6, "{text}");
    assert!(!text.contains("--config"), "{text}");
    assert!(text.contains("--questionable-after-s 600"), "{text}");
    assert!(text.contains("--point 5 --point-dir"), "{text}");

    // From another directory: the commands name the binary and the point
    // directory by absolute paths.
    let elsewhere = base.join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let run = Command::new("parallel")
        .args(["--will-cite", "--halt", "now,fail=1"])
        .current_dir(&elsewhere)
        .stdin(std::fs::File::open(&plan).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| {
            panic!("GNU parallel is needed by this test ({e}); install it, e.g. apt-get install -y parallel")
        });
    assert!(
        run.status.success(),
        "parallel < plan: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let merge_stdout = kadlab_ok(&["sweep", "--merge", s(&points), "--out", s(&merged)]);
    for name in ["sweep.json", "recall_vs_rpcs.svg", "report.html"] {
        let (a, b) = (
            std::fs::read(local.join(name)).unwrap(),
            std::fs::read(merged.join(name)).unwrap(),
        );
        assert!(
            a == b,
            "{name} differs between the local sweep and the merge"
        );
    }
    assert_eq!(local_stdout, merge_stdout);
    let json = std::fs::read_to_string(merged.join("sweep.json")).unwrap();
    assert!(json.contains("\"seed\": 7"), "{json}");

    // A missing point names the plan's line to run again.
    let gappy = base.join("gappy");
    std::fs::create_dir_all(&gappy).unwrap();
    for i in [0, 1, 2, 4, 5] {
        let name = format!("point-{i:04}.json");
        std::fs::copy(points.join(&name), gappy.join(&name)).unwrap();
    }
    let error = kadlab_err(&["sweep", "--merge", s(&gappy), "--out", s(&merged)]);
    assert!(error.contains("1 of 6 points are missing"), "{error}");
    assert!(error.contains("run line 4 of the plan"), "{error}");

    // The same point twice.
    std::fs::copy(points.join("point-0003.json"), gappy.join("point-3.json")).unwrap();
    std::fs::copy(
        points.join("point-0003.json"),
        gappy.join("point-0003.json"),
    )
    .unwrap();
    let error = kadlab_err(&["sweep", "--merge", s(&gappy), "--out", s(&merged)]);
    assert!(error.contains("both hold point 3"), "{error}");
    std::fs::remove_file(gappy.join("point-3.json")).unwrap();

    // A point of another sweep (another seed).
    let stale = std::fs::read_to_string(gappy.join("point-0004.json"))
        .unwrap()
        .replace("\"seed\": 7", "\"seed\": 8");
    std::fs::write(gappy.join("point-0004.json"), stale).unwrap();
    let error = kadlab_err(&["sweep", "--merge", s(&gappy), "--out", s(&merged)]);
    assert!(error.contains("belongs to another sweep"), "{error}");
    assert!(error.contains("seed 7 against 8"), "{error}");

    // Something that is not a point file.
    std::fs::write(gappy.join("point-0004.json"), "{}").unwrap();
    let error = kadlab_err(&["sweep", "--merge", s(&gappy), "--out", s(&merged)]);
    assert!(error.contains("is not a sweep point file"), "{error}");
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn bad_plan_and_merge_inputs_say_what_to_do_before_any_work() {
    let base = scratch("errors");
    let nowhere = base.join("no-such-dir").join("plan.txt");
    let error = kadlab_err(&with(&["--plan", s(&nowhere), "--point-dir", s(&base)]));
    assert!(
        error.contains("--plan") && error.contains("cannot write it"),
        "{error}"
    );
    assert!(error.contains("give --plan a file"), "{error}");

    let error = kadlab_err(&with(&["--point", "6", "--point-dir", s(&base)]));
    assert!(error.contains("this sweep has 6 points, 0 to 5"), "{error}");

    let error = kadlab_err(&with(&["--point-dir", s(&base)]));
    assert!(error.contains("--point-dir goes with --plan"), "{error}");

    let missing = base.join("missing");
    let error = kadlab_err(&["sweep", "--merge", s(&missing)]);
    assert!(error.contains("cannot read --merge directory"), "{error}");
    assert!(error.contains("give the --point-dir"), "{error}");

    let error = kadlab_err(&["sweep", "--merge", s(&base)]);
    assert!(error.contains("holds no point-*.json files"), "{error}");
    assert!(error.contains("run the plan's commands first"), "{error}");

    let error = kadlab_err(&["sweep", "--merge", s(&base), "--nodes", "500"]);
    assert!(error.contains("drop the network flags"), "{error}");

    let error = kadlab_err(&["sweep", "--merge", s(&base), "--alpha-range", "1..3"]);
    assert!(error.contains("cannot be used with"), "{error}");
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn planned_arguments_are_quoted_for_sh() {
    // A point directory with a space and a quote survives the shell.
    let base = scratch("quoting");
    let points = base.join("it's here");
    let plan = base.join("plan.txt");
    kadlab_ok(&[
        "sweep",
        "--nodes",
        "50",
        "--lookups",
        "2",
        "--value-lookups",
        "0",
        "--strategies",
        "kademlia",
        "--alpha-range",
        "2..2",
        "--plan",
        s(&plan),
        "--point-dir",
        s(&points),
    ]);
    let line = std::fs::read_to_string(&plan).unwrap();
    assert_eq!(line.lines().count(), 1, "{line}");
    let run = Command::new("sh")
        .arg("-c")
        .arg(line.trim())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(points.join("point-0000.json").is_file());
    std::fs::remove_dir_all(&base).unwrap();
}
