//! The network commands as a user runs them: a `kadlab swarm` process, and
//! `put`, `get` and `lookup` processes joining it over 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

const KADLAB: &str = env!("CARGO_BIN_EXE_kadlab");

/// A `kadlab swarm` child process, interrupted (Ctrl-C) when dropped.
struct SwarmProcess {
    child: Child,
    /// Kept open: the swarm prints a last line when it stops.
    _stdout: BufReader<std::process::ChildStdout>,
    bootstrap: String,
}

impl SwarmProcess {
    /// Start a swarm of `nodes` and wait for its "ready" line. Ports are
    /// derived from the test's process id so parallel runs rarely collide;
    /// a taken range is retried a few ports higher.
    fn start(nodes: u16) -> SwarmProcess {
        let first = 20_000 + (std::process::id() % 2_000) as u16 * 10;
        for attempt in 0..5u16 {
            let base = first + attempt * 1_000;
            let mut child = Command::new(KADLAB)
                .args(["swarm", "--nodes", &nodes.to_string(), "--seed", "3"])
                .args(["--base-port", &base.to_string()])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .expect("kadlab runs");
            let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
            let mut line = String::new();
            let _ = stdout.read_line(&mut line);
            if line.starts_with("ready:") {
                return SwarmProcess {
                    child,
                    _stdout: stdout,
                    bootstrap: format!("127.0.0.1:{base}"),
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("could not start a swarm on any port range");
    }

    fn interrupt(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -INT works");
        self.child.wait().expect("swarm exits")
    }
}

impl Drop for SwarmProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kadlab(args: &[&str]) -> Output {
    Command::new(KADLAB)
        .args(args)
        .output()
        .expect("kadlab runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn put_get_and_lookup_against_a_swarm_process_then_ctrl_c_stops_it() {
    let swarm = SwarmProcess::start(12);
    let b = swarm.bootstrap.clone();

    let put = kadlab(&["put", "Hello World!", "--bootstrap", &b]);
    assert!(put.status.success(), "{}", stderr(&put));
    assert_eq!(
        stdout(&put).trim(),
        "e5f96f6f38320f0f33959cb4d3d656452117aadb"
    );

    let get = kadlab(&[
        "get",
        "e5f96f6f38320f0f33959cb4d3d656452117aadb",
        "--bootstrap",
        &b,
    ]);
    assert!(get.status.success(), "{}", stderr(&get));
    assert_eq!(stdout(&get).trim(), "Hello World!");

    // announce, then peers finds the announcing host on the given port.
    let torrent = "00000000000000000000000000000000000000ab";
    let announce = kadlab(&["announce", torrent, "--port", "5555", "--bootstrap", &b]);
    assert!(announce.status.success(), "{}", stderr(&announce));
    assert!(
        stderr(&announce).contains("announced to 12 nodes"),
        "{}",
        stderr(&announce)
    );
    let peers = kadlab(&["peers", torrent, "--bootstrap", &b]);
    assert!(peers.status.success(), "{}", stderr(&peers));
    assert_eq!(stdout(&peers).trim(), "127.0.0.1:5555");

    let missing = kadlab(&[
        "get",
        "0000000000000000000000000000000000000001",
        "--bootstrap",
        &b,
    ]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("was not found"),
        "{}",
        stderr(&missing)
    );

    for strategy in ["delta", "query-rest", "k-active", "kademlia"] {
        let target = "8000000000000000000000000000000000000000";
        let args = [
            "lookup",
            "--strategy",
            strategy,
            "--target",
            target,
            "--bootstrap",
            &b,
        ];
        let lookup = kadlab(&args);
        assert!(lookup.status.success(), "{strategy}: {}", stderr(&lookup));
        let out = stdout(&lookup);
        assert!(
            out.starts_with(&format!("lookup of {target} with {strategy}")),
            "{out}"
        );
        // A 12-node swarm: the short-lived node finds all 12, with distances.
        let rows = out.lines().filter(|l| l.contains("127.0.0.1:")).count();
        assert_eq!(rows, 12, "{out}");
        assert!(out.contains("ended "), "{out}");
    }

    let status = swarm.interrupt();
    assert!(
        status.success(),
        "Ctrl-C stops the swarm cleanly: {status:?}"
    );
}

#[test]
fn network_commands_say_what_to_do_instead() {
    let no_bootstrap = kadlab(&["lookup", "--random"]);
    assert!(!no_bootstrap.status.success());
    assert!(stderr(&no_bootstrap).contains("pass --bootstrap HOST:PORT"));

    let bad_address = kadlab(&["get", "00", "--bootstrap", "nowhere"]);
    assert_eq!(bad_address.status.code(), Some(2));

    let bad_target = kadlab(&["lookup", "--target", "xyz", "--bootstrap", "127.0.0.1:1"]);
    assert_eq!(bad_target.status.code(), Some(2));
    assert!(
        stderr(&bad_target).contains("--target"),
        "{}",
        stderr(&bad_target)
    );

    let too_big = "x".repeat(1001);
    let refused = kadlab(&["put", &too_big, "--bootstrap", "127.0.0.1:9"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("at most 1000"),
        "{}",
        stderr(&refused)
    );

    let silent = kadlab(&[
        "put",
        "x",
        "--bootstrap",
        "127.0.0.1:9",
        "--timeout-ms",
        "200",
    ]);
    assert!(!silent.status.success());
    assert!(
        stderr(&silent).contains("joined nobody"),
        "{}",
        stderr(&silent)
    );
    assert!(
        stderr(&silent).contains("127.0.0.1:9: request timed out"),
        "{}",
        stderr(&silent)
    );
}
