//! The `gaitc` command line.

// A clone whose original is never used again. Meant for the workspace's lint
// table (Cargo.toml), once the runtime passes it too.

use clap::{Parser, Subcommand, ValueEnum};
use gaitc::cli;
use gaitc::plumbing::{self, exit, Format};
use std::io::IsTerminal;
use std::path::PathBuf;

/// The compiler of the .gaitpol policy language.
///
/// A policy decides, for each tool call an agent is about to make, one verdict:
/// allow, block, require_approval or dry_run. `gaitc` checks policies, formats
/// them, and explains its diagnostics.
///
/// Exit codes: 0 ok, 1 internal error (or `fmt --check` found changes),
/// 2 verification failed, 5 tests failed, 6 invalid input.
#[derive(Parser, Debug)]
#[command(name = "gaitc", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse, resolve, type-check and lint policies.
    ///
    /// PATH may be files or directories (searched recursively for *.gaitpol).
    /// Every independent error is reported in one run. Exit 0 when there are no
    /// errors (warnings allowed), 6 otherwise.
    ///
    /// Examples:
    ///   gaitc check examples/
    ///   gaitc check policy.gaitpol --format json
    ///   gaitc check . --format sarif > gaitc.sarif
    Check {
        /// Files or directories to check.
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
        /// Output format: human (snippets, colour on a terminal unless NO_COLOR),
        /// plain (no colour, ASCII only), json, or sarif (2.1.0).
        #[arg(long, value_enum, default_value = "human")]
        format: FormatArg,
        /// Treat warnings as errors (exit 6 when there are any).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Rewrite policies in the canonical layout (comments are kept).
    ///
    /// With --check nothing is written: exit 1 when some file would change.
    /// `gaitc fmt -` formats standard input to standard output.
    Fmt {
        /// Only report files that are not formatted.
        #[arg(long)]
        check: bool,
        /// Files or directories (default: the current directory), or `-`.
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
    },
    /// Create an Ed25519 signing key pair for bundles (and skills).
    ///
    /// Writes PREFIX.key (private, mode 0600) and PREFIX.pub, and prints the
    /// key id (hex SHA-256 of the public key). Never overwrites without --force.
    Keygen {
        /// Output prefix, e.g. `keys/release`.
        #[arg(long)]
        out: PathBuf,
        /// Overwrite existing key files.
        #[arg(long)]
        force: bool,
    },
    /// Compile a policy into a signed, digest-pinned bundle.
    ///
    /// The policy must check without errors. Prints `policy_digest=sha256:...`;
    /// pin that digest in `gait-run --pin` to accept exactly this bundle.
    ///
    /// Example:
    ///   gaitc build examples/payments-agent.gaitpol -o payments.gaitb --key release.key
    Build {
        /// The policy file.
        policy: PathBuf,
        /// Where to write the bundle.
        #[arg(short = 'o', long = "output")]
        output: PathBuf,
        /// Private key file(s) to sign with (repeat for several signatures).
        #[arg(long = "key", required = true)]
        keys: Vec<PathBuf>,
        /// Expiry (RFC 3339); the runtime rejects the bundle afterwards.
        #[arg(long)]
        not_after: Option<String>,
    },
    /// Show a bundle's manifest, digests, signatures, rules and table sizes.
    ///
    /// Checks structure and payload digest (exit 2 when they fail); it does not
    /// check signatures: use `gait-run verify --trust KEY.pub` for that.
    Inspect {
        /// The bundle file.
        bundle: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run policy tests: inline `test` blocks and `*.test.json` fixtures.
    ///
    /// Each intent is decided by the compiled tables (and cross-checked with
    /// the reference evaluator). Prints one line per test and `N passed, M
    /// failed`; failures show expected vs actual and which atoms of the deciding
    /// rules held. Exit 0 all pass, 5 failures or coverage below
    /// --min-coverage, 6 source errors.
    ///
    /// Examples:
    ///   gaitc test examples/ --coverage
    ///   gaitc test policies/ --junit junit.xml --min-coverage 100
    ///   gaitc test add --from-trace trace_ab12.json --to policies/tests/incident.test.json --trust ops.pub --policy policies/main.gaitpol
    #[command(args_conflicts_with_subcommands = true)]
    Test {
        #[command(subcommand)]
        action: Option<TestAction>,
        /// Files or directories (default: the current directory).
        paths: Vec<PathBuf>,
        /// Write JUnit XML here.
        #[arg(long)]
        junit: Option<PathBuf>,
        /// Report which rules and tool mappings no test exercised.
        #[arg(long)]
        coverage: bool,
        /// Fail when rule coverage is below PCT (0-100).
        #[arg(long, value_name = "PCT")]
        min_coverage: Option<f64>,
    },
    /// Sign and verify skills (the skill supply chain).
    Skill {
        #[command(subcommand)]
        command: SkillCommand,
    },
    /// Print the long explanation of a diagnostic code, with an example.
    ///
    /// Without CODE, list every code.
    Explain {
        /// A code such as E0031 or W0005.
        code: Option<String>,
    },
    /// Run the language server (LSP over standard input/output) for editors.
    ///
    /// Diagnostics come from the same checker as `gaitc check`; also hover,
    /// go to definition, document symbols, completion, formatting and quick
    /// fixes. See docs/editors.md for VS Code, Neovim and Helix.
    Lsp,
}

/// `--format`: the command line's spelling of [`Format`].
#[derive(ValueEnum, Clone, Copy, Debug)]
enum FormatArg {
    Human,
    Plain,
    Json,
    Sarif,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Human => Format::Human,
            FormatArg::Plain => Format::Plain,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
        }
    }
}

#[derive(Subcommand, Debug)]
enum TestAction {
    /// Turn a recorded decision (a signed trace) into a regression fixture.
    Add {
        /// The trace (trace_<id>.json from `gait-run eval --trace-dir`).
        #[arg(long = "from-trace")]
        from_trace: PathBuf,
        /// The fixture to write (`*.test.json`).
        #[arg(long)]
        to: PathBuf,
        /// Public key(s) that signed the trace.
        #[arg(long = "trust", value_name = "PUBFILE", required = true)]
        trust: Vec<PathBuf>,
        /// The policy the fixture tests.
        #[arg(long)]
        policy: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
enum SkillCommand {
    /// Write DIR/skill.manifest.json (every file with size and SHA-256) and its
    /// Ed25519 signature; print the skill digest. Deterministic.
    ///
    /// Example:
    ///   gaitc skill sign skills/web-search --key acme.key --publisher acme --source registry --version 1.2.0
    #[command(disable_version_flag = true)]
    Sign {
        /// The skill directory.
        dir: PathBuf,
        /// The publisher's private key file.
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        publisher: String,
        #[arg(long)]
        source: String,
        /// Skill name (default: the directory's name).
        #[arg(long)]
        name: Option<String>,
        /// Skill version (default: 0.0.0).
        #[arg(long)]
        version: Option<String>,
    },
    /// Check a skill against a policy's (or bundle's) trust and pin items.
    ///
    /// Checks, reporting every failure: manifest (skill_manifest_invalid), files
    /// (skill_file_digest_mismatch, skill_file_unlisted), signature
    /// (skill_unsigned, skill_publisher_untrusted, skill_key_untrusted,
    /// skill_signature_invalid), pin (skill_not_pinned, skill_digest_mismatch).
    /// Exit 0 pass, 2 fail.
    Verify {
        /// The skill directory.
        dir: PathBuf,
        /// A policy whose `trust` and `pin` items to use.
        #[arg(long, conflicts_with = "bundle")]
        policy: Option<PathBuf>,
        /// A compiled bundle whose trust and pin tables to use (with --trust).
        #[arg(long)]
        bundle: Option<PathBuf>,
        /// Public key(s) that verify the bundle.
        #[arg(long = "trust", value_name = "PUBFILE")]
        trust: Vec<PathBuf>,
        /// Write the gait.skill.verification_report JSON here.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit::OK
                }
                _ => exit::INVALID,
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let stdout = std::io::stdout();
    let mut out = Recorded {
        inner: stdout.lock(),
        failed: None,
    };
    let mut err = std::io::stderr();
    let color = plumbing::use_color(std::io::stdout().is_terminal());
    let code = match cli.command {
        Command::Check {
            paths,
            format,
            deny_warnings,
        } => cli::check(
            &paths,
            format.into(),
            deny_warnings,
            color,
            &mut out,
            &mut err,
        ),
        Command::Fmt { check, paths } => cli::fmt(&paths, check, color, &mut out, &mut err),
        Command::Explain { code } => cli::explain(code.as_deref(), &mut out, &mut err),
        Command::Lsp => {
            // The server writes standard output itself (its protocol).
            drop(out);
            std::process::exit(cli::lsp(&mut err));
        }
        Command::Test {
            action:
                Some(TestAction::Add {
                    from_trace,
                    to,
                    trust,
                    policy,
                }),
            ..
        } => cli::test_add(&from_trace, &to, &trust, &policy, &mut out, &mut err),
        Command::Test {
            action: None,
            paths,
            junit,
            coverage,
            min_coverage,
        } => {
            if min_coverage.is_some_and(|m| !(0.0..=100.0).contains(&m)) {
                let _ = std::io::Write::write_all(
                    &mut err,
                    b"error: --min-coverage is a percentage between 0 and 100\n",
                );
                std::process::exit(exit::INVALID);
            }
            let args = cli::TestArgs {
                paths,
                junit,
                coverage,
                min_coverage,
            };
            cli::test(&args, color, &mut out, &mut err)
        }
        Command::Keygen { out: prefix, force } => cli::keygen(&prefix, force, &mut out, &mut err),
        Command::Build {
            policy,
            output,
            keys,
            not_after,
        } => {
            let color = plumbing::use_color(std::io::stderr().is_terminal());
            cli::build(
                &policy,
                &output,
                &keys,
                not_after.as_deref(),
                color,
                &mut out,
                &mut err,
            )
        }
        Command::Inspect { bundle, json } => cli::inspect(&bundle, json, &mut out, &mut err),
        Command::Skill {
            command:
                SkillCommand::Sign {
                    dir,
                    key,
                    publisher,
                    source,
                    name,
                    version,
                },
        } => {
            let args = cli::SkillSignArgs {
                dir: &dir,
                key: &key,
                publisher: &publisher,
                source: &source,
                name: name.as_deref(),
                version: version.as_deref(),
            };
            cli::skill_sign(&args, &mut out, &mut err)
        }
        Command::Skill {
            command:
                SkillCommand::Verify {
                    dir,
                    policy,
                    bundle,
                    trust,
                    report,
                    json,
                },
        } => {
            let args = cli::SkillVerifyArgs {
                dir: &dir,
                policy: policy.as_deref(),
                bundle: bundle.as_deref(),
                trust: &trust,
                report: report.as_deref(),
                json,
            };
            cli::skill_verify(&args, &mut out, &mut err)
        }
    };
    std::process::exit(out.finish(code, &mut err));
}

/// Standard output, remembering its first failed write (the commands write
/// their reports and ignore each line's result): output that was not
/// written turns a success into exit 1, with the cause on standard error —
/// `gaitc check --format json` piped into a reader that went away, or onto
/// a full disk, must not pass CI on a report nobody got.
struct Recorded<W: std::io::Write> {
    inner: W,
    failed: Option<std::io::Error>,
}

impl<W: std::io::Write> Recorded<W> {
    /// The exit code: `code`, or 1 in place of 0 when output was lost.
    fn finish(mut self, code: i32, err: &mut dyn std::io::Write) -> i32 {
        if let Err(e) = self.inner.flush() {
            self.failed.get_or_insert(e);
        }
        match self.failed {
            None => code,
            Some(e) => {
                let _ = writeln!(
                    err,
                    "error: the output cannot be written to standard output: {e}"
                );
                if code == exit::OK {
                    exit::INTERNAL
                } else {
                    code
                }
            }
        }
    }
}

impl<W: std::io::Write> std::io::Write for Recorded<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| {
            if self.failed.is_none() {
                self.failed = Some(std::io::Error::new(e.kind(), e.to_string()));
            }
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| {
            if self.failed.is_none() {
                self.failed = Some(std::io::Error::new(e.kind(), e.to_string()));
            }
        })
    }
}
