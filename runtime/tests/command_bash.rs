//! Differential test of the command analysis against bash itself (issue 14).
//!
//! A grammar-based generator (proptest strategies, fixed seed) writes command
//! lines that combine quoting (single, double, ANSI-C, locale, backslashes),
//! comments, here-documents and here-strings, expansions and substitutions
//! in every position, compound commands, functions, and runners with their
//! options. Every line the gate resolves (neither dynamic nor invalid) is then
//! run by bash in a scratch directory whose `PATH` holds only stubs that log
//! their name — leaves (`rm`, `curl`, …) only log; runners (`env`, `xargs`,
//! `timeout`, `find`, `flock`, `bash`, …) log and then exec the real program,
//! so what *they* run is observed too — and `command_not_found_handle` logs
//! every other name bash tries to run. Nothing real is touched: the stubs
//! for destructive programs do nothing.
//!
//! The assertion: every program bash (or a runner) executes is in the gate's
//! program set. `GAIT_DIFF_LINES` sets the number of generated lines
//! (default 100,000; `scripts/test.sh` runs the default) and
//! `GAIT_DIFF_SEED` the generator's seed (default 7).

use gait_run::command::{programs, DYNAMIC};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Leaf programs: stubs that only log.
const LEAVES: &[&str] = &[
    "rm", "ls", "cat", "curl", "touch", "mkdir", "dd", "chmod", "python3", "awk", "sed", "grep",
    "id", "wc", "tee", "head", "echo", "printf", "true",
];
/// Runners: stubs that log, then exec the real program.
const RUNNERS: &[(&str, &str)] = &[
    ("env", "/usr/bin/env"),
    ("nice", "/usr/bin/nice"),
    ("nohup", "/usr/bin/nohup"),
    ("timeout", "/usr/bin/timeout"),
    ("stdbuf", "/usr/bin/stdbuf"),
    ("xargs", "/usr/bin/xargs"),
    ("find", "/usr/bin/find"),
    ("setsid", "/usr/bin/setsid"),
    ("flock", "/usr/bin/flock"),
    ("bash", "/usr/bin/bash"),
    ("sh", "/usr/bin/bash"),
];

/// The adversarial round's cases (issue 14) and the runners' option forms
/// (`tests/fixtures/command_bypasses.json`), before the generated lines.
fn fixed() -> serde_json::Result<Vec<String>> {
    serde_json::from_str(include_str!("fixtures/command_bypasses.json"))
}

fn squote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn dquote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn ansi_hex(s: &str) -> String {
    let mut out = String::from("$'");
    for b in s.bytes() {
        out.push_str(&format!("\\x{b:02x}"));
    }
    out.push('\'');
    out
}

fn ansi_octal(s: &str) -> String {
    let mut out = String::from("$'");
    for b in s.bytes() {
        out.push_str(&format!("\\{b:03o}"));
    }
    out.push('\'');
    out
}

/// A program name as bash may be given it.
fn program_word() -> impl Strategy<Value = String> {
    let leaf = proptest::sample::select(LEAVES);
    (leaf, 0u8..12).prop_map(|(n, how)| {
        let n = n.to_owned();
        match how {
            0 => squote(&n),
            1 => dquote(&n),
            2 => ansi_hex(&n),
            3 => ansi_octal(&n),
            4 => format!("$\"{n}\""),
            5 => {
                let (a, b) = n.split_at(1);
                format!("{a}'{b}'")
            }
            6 => {
                let (a, b) = n.split_at(1);
                format!("{a}\\{b}")
            }
            7 => format!("./bin/{n}"),
            8 => {
                let (a, b) = n.split_at(1);
                format!("{{{a},zz}}{b}")
            }
            _ => n,
        }
    })
}

fn plain_arg() -> impl Strategy<Value = String> {
    proptest::sample::select(
        &[
            "v", "x", "-rf", "-n", "--", "'a b'", "\"q r\"", "$x", "${x:-d}", "$((1+2))", "a\\ b",
            "-", "'#'", "{a,b}", "'*'", "$'\\t'", "\"$x\"", "~/v",
        ][..],
    )
    .prop_map(str::to_owned)
}

fn simple_leaf() -> impl Strategy<Value = String> {
    (program_word(), proptest::collection::vec(plain_arg(), 0..3)).prop_map(|(p, args)| {
        let mut s = p;
        for a in args {
            s.push(' ');
            s.push_str(&a);
        }
        s
    })
}

/// A simple command whose arguments may hold substitutions of `inner`.
fn simple(inner: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    let arg = prop_oneof![
        4 => plain_arg(),
        1 => inner.clone().prop_map(|l| format!("$({l})")),
        1 => simple_leaf().prop_map(|l| format!("`{l}`")),
        1 => inner.clone().prop_map(|l| format!("\"$({l})\"")),
        1 => inner.clone().prop_map(|l| format!("<({l})")),
        1 => inner.clone().prop_map(|l| format!("${{x:-$({l})}}")),
    ];
    let redirect = prop_oneof![
        3 => Just(String::new()),
        1 => Just(" >out".to_owned()),
        1 => Just(" 2>&1".to_owned()),
        1 => Just(" > \"o u\"".to_owned()),
        1 => Just(" </dev/null".to_owned()),
        1 => simple_leaf().prop_map(|l| format!(" >`{l}`")),
        1 => inner.clone().prop_map(|l| format!(" >$({l})")),
        1 => simple_leaf().prop_map(|l| format!(" <<< `{l}`")),
        1 => inner.clone().prop_map(|l| format!(" <<< \"$({l})\"")),
    ];
    let assign = prop_oneof![
        4 => Just(String::new()),
        1 => Just("A=1 ".to_owned()),
        1 => inner.prop_map(|l| format!("A=$({l}) ")),
    ];
    (
        assign,
        program_word(),
        proptest::collection::vec(arg, 0..3),
        redirect,
    )
        .prop_map(|(a, p, args, r)| {
            let mut s = a;
            s.push_str(&p);
            for x in args {
                s.push(' ');
                s.push_str(&x);
            }
            s.push_str(&r);
            s
        })
}

/// A runner with options, around a simple command.
fn runner(inner: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    let leaf = simple_leaf().boxed();
    prop_oneof![
        leaf.clone().prop_map(|s| format!("nice -n 5 {s}")),
        leaf.clone().prop_map(|s| format!("nice -5 {s}")),
        leaf.clone().prop_map(|s| format!("timeout 5 {s}")),
        leaf.clone()
            .prop_map(|s| format!("timeout -s KILL -k 1 5 {s}")),
        leaf.clone()
            .prop_map(|s| format!("timeout --sig=TERM 5 {s}")),
        leaf.clone().prop_map(|s| format!("env A=1 {s}")),
        leaf.clone().prop_map(|s| format!("env -- {s}")),
        leaf.clone().prop_map(|s| format!("env -C . {s}")),
        leaf.clone().prop_map(|s| format!("env -S{} ", squote(&s))),
        leaf.clone().prop_map(|s| format!("nohup {s}")),
        leaf.clone().prop_map(|s| format!("stdbuf -o0 {s}")),
        leaf.clone()
            .prop_map(|s| format!("stdbuf --output 0 --err=L {s}")),
        leaf.clone().prop_map(|s| format!("setsid -w {s}")),
        leaf.clone().prop_map(|s| format!("flock -n lk {s}")),
        inner
            .clone()
            .prop_map(|l| format!("flock -n -E 0 lk -c {}", squote(&l))),
        leaf.clone().prop_map(|s| format!("xargs {s}")),
        leaf.clone().prop_map(|s| format!("xargs -r -n 1 {s}")),
        leaf.clone()
            .prop_map(|s| format!("xargs --max-args 1 --process-slot-var V {s}")),
        leaf.clone()
            .prop_map(|s| format!("find . -maxdepth 0 -exec {s} \\;")),
        leaf.clone()
            .prop_map(|s| format!("find . -maxdepth 0 -execdir {s} {{}} +")),
        inner.clone().prop_map(|l| format!("eval {}", squote(&l))),
        inner
            .clone()
            .prop_map(|l| format!("builtin eval {}", squote(&l))),
        leaf.clone().prop_map(|s| format!("command {s}")),
        leaf.clone().prop_map(|s| format!("(exec {s})")),
        inner
            .clone()
            .prop_map(|l| format!("bash -c {}", squote(&l))),
        inner.clone().prop_map(|l| format!("sh -c {}", dquote(&l))),
        inner
            .clone()
            .prop_map(|l| format!("bash -o pipefail --norc -c {}", squote(&l))),
        inner
            .clone()
            .prop_map(|l| format!("bash -ec {} arg0", squote(&l))),
        inner
            .clone()
            .prop_map(|l| format!("bash <<< {}", squote(&l))),
        inner
            .clone()
            .prop_map(|l| format!("bash <<'EOF'\n{l}\nEOF\n")),
        inner.prop_map(|l| format!("cat <<EOF\n$({l})\nEOF\n")),
        leaf.prop_map(|s| format!("env nice -n 1 timeout 5 {s}")),
    ]
}

fn line() -> impl Strategy<Value = String> {
    let leaf = simple_leaf();
    leaf.prop_recursive(4, 24, 3, |inner| {
        let inner = inner.boxed();
        let cmd = prop_oneof![
            4 => simple(inner.clone()),
            3 => runner(inner.clone()),
            1 => inner.clone().prop_map(|l| format!("( {l} )")),
            1 => inner.clone().prop_map(|l| format!("{{ {l}; }}")),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("if {a}; then {b}; fi")),
            1 => inner.clone().prop_map(|l| format!("for i in a b; do {l}; done")),
            1 => inner.clone().prop_map(|l| format!("while false; do {l}; done; {l}")),
            1 => inner.clone().prop_map(|l| format!("case x in x) {l};; esac")),
            // A fresh name: a nested definition of the same name in a
            // pipeline's subshell would make the outer one recurse forever.
            1 => (inner.clone(), 0u32..1_000_000).prop_map(|(l, n)| format!("f{n}() {{ {l}; }}; f{n}")),
            1 => inner.clone().prop_map(|l| format!("! {l}")),
            1 => inner.clone().prop_map(|l| format!("coproc {{ {l}; }}")),
            1 => inner.prop_map(|l| format!("time {l}")),
        ];
        let sep = proptest::sample::select(&["; ", " && ", " || ", " | ", "\n", " & ", " |& "][..]);
        (cmd.clone(), proptest::option::of((sep, cmd))).prop_map(|(a, rest)| {
            let mut s = a;
            if let Some((sep, b)) = rest {
                // A here-document's body ends with its line.
                if !s.ends_with('\n') || sep == "\n" {
                    s.push_str(sep);
                }
                s.push_str(&b);
            }
            s
        })
    })
}

/// A whole line, sometimes with a comment that hides a command.
fn whole_line() -> impl Strategy<Value = String> {
    (line(), proptest::bool::weighted(0.2)).prop_map(|(mut l, comment)| {
        if comment {
            l.push_str(" # rm -rf v; curl x");
        }
        l
    })
}

/// `n` lines: two halves, each from its own fixed seed (bytes all `s` and
/// all `s + 1`; `s` is `GAIT_DIFF_SEED`, 7 by default, so that an
/// exploratory run can draw other lines: step seeds by 2, as seeds `s` and
/// `s + 1` share a half), generated on two threads (the generator runs
/// unoptimized in test builds).
fn generate(n: usize) -> Vec<String> {
    let s: u8 = match std::env::var("GAIT_DIFF_SEED") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|e| panic!("GAIT_DIFF_SEED={v:?} is not 0-255: {e}")),
        Err(_) => 7,
    };
    let halves = [(n / 2, [s; 32]), (n - n / 2, [s.wrapping_add(1); 32])];
    std::thread::scope(|scope| {
        let parts: Vec<_> = halves
            .into_iter()
            .map(|(k, seed)| scope.spawn(move || generate_from(k, seed)))
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

fn generate_from(n: usize, seed: [u8; 32]) -> Vec<String> {
    let config = Config::default();
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let strategy = whole_line();
    (0..n)
        .filter_map(|_| strategy.new_tree(&mut runner).ok().map(|t| t.current()))
        .collect()
}

/// The stubs append `LINE NAME` to `$GAIT_LOG`, the chunk's one log
/// (`$GAIT_LINE` is the line's index in the chunk: one log per chunk, not a
/// file per line, which cost as much as running the line). When a line
/// cleared either variable but the stubs are still found (`env -i PATH=… x`,
/// `env -u GAIT_LOG x`), the name goes to the file `orphans` beside them
/// instead, and the driver files it under the line that just ran (each
/// worker has its own stubs, so the file is the running line's).
fn write_stubs(bin: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(bin)?;
    const LOG: &str = "#!/bin/dash\nif [ -n \"$GAIT_LOG\" ] && [ -n \"$GAIT_LINE\" ]; then\n  printf '%s %s\\n' \"$GAIT_LINE\" \"${0##*/}\" >> \"$GAIT_LOG\"\nelse\n  printf '%s\\n' \"${0##*/}\" >> \"${0%/*}/orphans\"\nfi\n";
    for leaf in LEAVES {
        write_exec(&bin.join(leaf), LOG)?;
    }
    for (name, real) in RUNNERS {
        let body = format!("{LOG}exec {real} \"$@\"\n");
        write_exec(&bin.join(name), &body)?;
    }
    Ok(())
}

fn write_exec(path: &Path, body: &str) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, body)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
}

#[test]
fn bash_never_runs_a_program_the_gate_did_not_report() {
    let wanted: usize = std::env::var("GAIT_DIFF_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut lines = fixed().unwrap();
    let fixed_count = lines.len();
    lines.extend(generate(wanted));
    assert_eq!(
        lines.len(),
        fixed_count + wanted,
        "the generator produced every line"
    );

    // The gate's reading first; only resolved lines are run.
    // (On two threads, each reading half of the lines; in line order.)
    let readings: Vec<_> = std::thread::scope(|s| {
        let parts: Vec<_> = lines
            .chunks(lines.len().div_ceil(2).max(1))
            .map(|part| s.spawn(move || part.iter().map(|l| programs(l)).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let mut judged = Vec::new();
    let (mut dynamic, mut invalid) = (0usize, 0usize);
    for (line, reading) in lines.iter().zip(readings) {
        match reading {
            Ok(p) if p.iter().any(|x| x == DYNAMIC) => dynamic += 1,
            Ok(p) => judged.push((line.clone(), p)),
            Err(e) => {
                if invalid < 5 {
                    eprintln!("invalid: {line:?}: {e}");
                }
                invalid += 1
            }
        }
    }
    // The generator is meant to produce mostly resolvable lines: a
    // generator whose lines all came back dynamic would test nothing.
    assert!(
        judged.len() * 2 > lines.len(),
        "only {} of {} generated lines were resolved ({dynamic} dynamic, {invalid} invalid)",
        judged.len(),
        lines.len()
    );

    let (ran, disagreements) = run_in_bash(&judged).unwrap();
    println!(
        "{} lines: {} resolved and run in bash ({} ran a program), {dynamic} dynamic, {invalid} invalid; {} disagreements",
        lines.len(),
        judged.len(),
        ran,
        disagreements.len()
    );
    assert!(
        ran * 2 > judged.len(),
        "bash ran programs for only {ran} of {} lines",
        judged.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements, first ones:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Runs each line in bash (see the module's doc) and compares what ran with
/// the gate's program set given beside it: how many lines ran a program,
/// and every disagreement.
fn run_in_bash(judged: &[(String, Vec<String>)]) -> std::io::Result<(usize, Vec<String>)> {
    let dir = tempfile::tempdir()?;
    let scratch = dir.path().join("scratch");
    // Bash drivers at a time: one per core (`GAIT_DIFF_WORKERS` overrides;
    // measured: a third and a fourth driver on 2 cores gain nothing, each
    // line's forks and execs are what the time goes to).
    let workers: usize = std::env::var("GAIT_DIFF_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    // One set of stubs per worker (see `write_stubs`).
    let bins: Vec<_> = (0..workers)
        .map(|w| scratch.join(format!("bin{w}")))
        .collect();
    for bin in &bins {
        write_stubs(bin)?;
    }
    let prelude = dir.path().join("prelude.sh");
    std::fs::write(
        &prelude,
        "command_not_found_handle() { printf '%s %s\\n' \"$GAIT_LINE\" \"${1##*/}\" >> \"$GAIT_LOG\"; return 127; }\n",
    )?;

    // Cases in chunks, one bash driver per chunk, `workers` at a time.
    let chunk = 1_000;
    let chunks: Vec<&[(String, Vec<String>)]> = judged.chunks(chunk).collect();
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs)?;
    let run_chunk = |k: usize, cases: &[(String, Vec<String>)]| {
        let file = dir.path().join(format!("cases{k}"));
        let mut bytes = Vec::new();
        for (line, _) in cases {
            bytes.extend_from_slice(line.as_bytes());
            bytes.push(0);
        }
        std::fs::write(&file, bytes)?;
        // Each chunk in its own directory (lock files, redirections).
        let cwd = dir.path().join(format!("cwd{k}"));
        std::fs::create_dir_all(&cwd)?;
        // Chunk k runs on worker k % workers (see below), with its stubs.
        let bin = &bins[k % workers];
        std::os::unix::fs::symlink(bin, cwd.join("bin"))?;
        let log = logs.join(k.to_string());
        // The line's index in GAIT_LINE, the chunk's log in GAIT_LOG; after
        // each line, what the stubs could not log (see `write_stubs`) is
        // filed under it. (`[`, `read`, `printf`: bash's builtins.)
        let driver = format!(
            "source {prelude}\ncd {scratch}\nexport GAIT_LOG={log}\n: > \"$GAIT_LOG\"\n: > {bin}/orphans\ni=0\nwhile IFS= read -r -d '' line; do\n  export GAIT_LINE=$i\n  ( ulimit -t 5; eval \"$line\" ) </dev/null >/dev/null 2>&1\n  if [ -s {bin}/orphans ]; then\n    while IFS= read -r name; do printf '%s %s\\n' \"$i\" \"$name\"; done < {bin}/orphans >> \"$GAIT_LOG\"\n    : > {bin}/orphans\n  fi\n  i=$((i+1))\ndone < {file}\nwait\n",
            bin = bin.display(),
            prelude = prelude.display(),
            scratch = cwd.display(),
            log = log.display(),
            file = file.display(),
        );
        // (By its path: given the stubs' PATH, `timeout` would be the stub.
        // A chunk takes seconds alone; the limit is wall time, and CI runs
        // this test at the lowest priority beside other work, stopped while
        // timing checks run: it only guards against a hang.)
        let status = Command::new("/usr/bin/timeout")
            .arg("1800")
            .arg("/usr/bin/bash")
            .arg("-c")
            .arg(driver)
            .env_clear()
            .env("PATH", bin)
            .env("BASH_ENV", &prelude)
            .env("HOME", &scratch)
            .env("LC_ALL", "C")
            .status()?;
        if status.code() == Some(124) {
            return Err(std::io::Error::other(format!("chunk {k} timed out")));
        }
        Ok(())
    };
    std::thread::scope(|s| {
        let run_chunk = &run_chunk;
        let chunks = &chunks;
        let threads: Vec<_> = (0..workers)
            .map(|t| {
                s.spawn(move || {
                    (t..chunks.len())
                        .step_by(workers)
                        .try_for_each(|k| run_chunk(k, chunks[k]))
                })
            })
            .collect();
        threads
            .into_iter()
            .try_for_each(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    })?;

    let mut disagreements = Vec::new();
    let mut ran = 0usize;
    for (k, cases) in chunks.iter().enumerate() {
        let log = logs.join(k.to_string());
        // Each log line is `INDEX NAME`: the programs each line ran.
        let mut executed: Vec<BTreeSet<String>> = vec![BTreeSet::new(); cases.len()];
        for entry in std::fs::read_to_string(&log)?.lines() {
            match entry
                .split_once(' ')
                .and_then(|(i, name)| Some((i.parse::<usize>().ok()?, name)))
                .filter(|(i, name)| *i < cases.len() && !name.is_empty())
            {
                Some((i, name)) => {
                    executed[i].insert(name.to_owned());
                }
                // (A line that cleared GAIT_LINE but not GAIT_LOG: its
                // program is nobody's, so nothing may hide it.)
                None => disagreements.push(format!(
                    "chunk {k}: a program ran that no line can be charged with: {entry:?}"
                )),
            }
        }
        for ((line, gate), executed) in cases.iter().zip(&executed) {
            if !executed.is_empty() {
                ran += 1;
            }
            let missing: Vec<&String> = executed
                .iter()
                .filter(|e| !gate.iter().any(|g| g == *e))
                .collect();
            if !missing.is_empty() {
                disagreements.push(format!(
                    "{line:?}: bash ran {missing:?}, the gate said {gate:?}"
                ));
            }
        }
    }
    Ok((ran, disagreements))
}

#[test]
fn the_harness_sees_every_way_a_program_runs() {
    // A gate that reported nothing: each of these lines must come back as a
    // disagreement, whichever way its program's name reached the log (the
    // environment, the stubs' `orphans` file, bash's
    // command_not_found_handle), and in a later chunk too.
    // (line, what the gate said, the program only bash saw)
    let lines: [(&str, &[&str], &str); 6] = [
        ("ls", &[], "ls"),
        ("env -i PATH=./bin ls", &["env"], "ls"),
        ("env -u GAIT_LOG ./bin/cat", &["env"], "cat"),
        ("env -u GAIT_LINE ./bin/rm", &["env"], "rm"),
        ("no_such_program_x", &[], "no_such_program_x"),
        ("true | ./bin/grep a", &[], "grep"),
    ];
    let mut judged: Vec<(String, Vec<String>)> = Vec::new();
    // Padding, so that the lines run in a second chunk as well.
    for i in 0..1_000 + lines.len() {
        judged.push((format!(": {i}"), Vec::new()));
    }
    for (l, gate, _) in lines {
        let case = (l.to_owned(), gate.iter().map(|g| g.to_string()).collect());
        judged.insert(0, case.clone());
        judged.push(case);
    }
    let (ran, disagreements) = run_in_bash(&judged).unwrap();
    assert_eq!(ran, 2 * lines.len(), "{disagreements:#?}");
    for (l, _, unseen) in lines {
        let seen = disagreements
            .iter()
            .filter(|d| d.starts_with(&format!("{l:?}: bash ran [{unseen:?}]")))
            .count();
        assert_eq!(seen, 2, "{l:?} ran {unseen} unseen: {disagreements:#?}");
    }
    assert_eq!(disagreements.len(), 2 * lines.len(), "{disagreements:#?}");
}
