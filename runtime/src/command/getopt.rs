//! Option tables of the programs that run other programs, read the way GNU
//! `getopt_long` reads them: clusters of short options (`-iu root`,
//! `-uroot`), long options with `=VALUE` or the next word, unambiguous
//! prefixes of long options (`--out 0` is `--output 0`), `--` ending the
//! options. An option a table does not know makes the line dynamic: the
//! analysis cannot tell whether it takes the next word.

use super::{Field, Stop, Val};

/// One program's options (from its manual).
pub(super) struct Spec {
    /// Short options without an argument.
    pub flags: &'static str,
    /// Short options with a required argument (attached or the next word).
    pub args: &'static str,
    /// Short options with an optional argument, attached only (`-d[=x]`).
    pub opt_args: &'static str,
    pub long_flags: &'static [&'static str],
    pub long_args: &'static [&'static str],
    /// Long options whose argument is optional and given only as `=VALUE`.
    pub long_opt_args: &'static [&'static str],
    /// GNU permutation: options may follow operands (until `--`). Most
    /// runners stop at their first operand (`+` in their option string).
    pub permute: bool,
    /// Given no command, the runner starts the user's shell, which reads
    /// standard input as its script (`unshare`, `nsenter`, `fakeroot`,
    /// `pkexec`).
    pub shell_without_command: bool,
}

impl Spec {
    pub const NONE: Spec = Spec {
        flags: "",
        args: "",
        opt_args: "",
        long_flags: &["help", "version"],
        long_args: &[],
        long_opt_args: &[],
        permute: false,
        shell_without_command: false,
    };
}

/// What the option reading found: options (short as one character, long
/// by full name) with their values, and the operands in order.
pub(super) struct Parsed<'f> {
    pub opts: Vec<(String, Option<Val>)>,
    pub operands: Vec<&'f Field>,
}

impl Parsed<'_> {
    pub fn has(&self, names: &[&str]) -> bool {
        self.opts.iter().any(|(n, _)| names.contains(&n.as_str()))
    }

    /// The value of the last of `names` given.
    pub fn value(&self, names: &[&str]) -> Option<&Option<Val>> {
        self.opts
            .iter()
            .rev()
            .find(|(n, _)| names.contains(&n.as_str()))
            .map(|(_, v)| v)
    }
}

pub(super) enum Kind {
    Flag,
    Arg,
    OptArg,
}

pub(super) fn long_kind(spec: &Spec, given: &str) -> Result<(&'static str, Kind), Stop> {
    let all = spec
        .long_flags
        .iter()
        .map(|n| (*n, Kind::Flag as u8))
        .chain(spec.long_args.iter().map(|n| (*n, Kind::Arg as u8)))
        .chain(spec.long_opt_args.iter().map(|n| (*n, Kind::OptArg as u8)));
    let kind = |k: u8| match k {
        0 => Kind::Flag,
        1 => Kind::Arg,
        _ => Kind::OptArg,
    };
    let mut found: Option<(&'static str, u8)> = None;
    let mut ambiguous = false;
    for (name, k) in all {
        if name == given {
            return Ok((name, kind(k)));
        }
        if name.starts_with(given) {
            match found {
                // getopt_long accepts an abbreviation shared by options
                // that are the same option under two names only when they
                // behave alike; we refuse every ambiguity.
                Some(_) => ambiguous = true,
                None => found = Some((name, k)),
            }
        }
    }
    match found {
        Some((name, k)) if !ambiguous => Ok((name, kind(k))),
        _ => Err(Stop::Dynamic),
    }
}

/// Reads `fields` as the arguments of a program with options `spec`.
/// An unknown option, a word whose value is not known where an option may
/// stand, or a missing required argument is [`Stop::Dynamic`].
pub(super) fn getopt<'f>(spec: &Spec, fields: &'f [Field]) -> Result<Parsed<'f>, Stop> {
    let mut opts = Vec::new();
    let mut operands = Vec::new();
    let mut i = 0;
    while i < fields.len() {
        let Val::Lit(w) = &fields[i].val else {
            // Its value may be an option, or split into several words.
            return Err(Stop::Dynamic);
        };
        if w == "--" {
            operands.extend(&fields[i + 1..]);
            break;
        }
        if let Some(long) = w.strip_prefix("--") {
            let (given, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let (name, kind) = long_kind(spec, given)?;
            let value = match kind {
                Kind::Flag if attached.is_some() => return Err(Stop::Dynamic),
                Kind::Flag => None,
                Kind::OptArg => attached.map(|v| Val::Lit(v.to_owned())),
                Kind::Arg => match attached {
                    Some(v) => Some(Val::Lit(v.to_owned())),
                    None => {
                        i += 1;
                        Some(fields.get(i).ok_or(Stop::Dynamic)?.val.clone())
                    }
                },
            };
            opts.push((name.to_owned(), value));
            i += 1;
            continue;
        }
        if w.len() > 1 && w.starts_with('-') {
            let cluster = &w[1..];
            for (k, c) in cluster.char_indices() {
                let rest = &cluster[k + c.len_utf8()..];
                if spec.flags.contains(c) {
                    opts.push((c.to_string(), None));
                } else if spec.args.contains(c) {
                    let value = if rest.is_empty() {
                        i += 1;
                        fields.get(i).ok_or(Stop::Dynamic)?.val.clone()
                    } else {
                        Val::Lit(rest.to_owned())
                    };
                    opts.push((c.to_string(), Some(value)));
                    break;
                } else if spec.opt_args.contains(c) {
                    let value = (!rest.is_empty()).then(|| Val::Lit(rest.to_owned()));
                    opts.push((c.to_string(), value));
                    break;
                } else {
                    return Err(Stop::Dynamic);
                }
            }
            i += 1;
            continue;
        }
        if spec.permute {
            operands.push(&fields[i]);
            i += 1;
        } else {
            operands.extend(&fields[i..]);
            break;
        }
    }
    Ok(Parsed { opts, operands })
}

// ---- the tables (from each program's manual) ----

pub(super) const ENV: Spec = Spec {
    flags: "i0v",
    args: "uCSa",
    opt_args: "",
    long_flags: &[
        "ignore-environment",
        "null",
        "debug",
        "list-signal-handling",
        "help",
        "version",
    ],
    long_args: &["unset", "chdir", "split-string", "argv0"],
    long_opt_args: &["block-signal", "default-signal", "ignore-signal"],
    permute: false,
    shell_without_command: false,
};

/// OpenSSH's `ssh` (9.x): BSD getopt, no permutation — but `ssh` reads
/// options again after the destination (`ssh host -oProxyCommand=… cmd`).
pub(super) const SSH: Spec = Spec {
    flags: "46AaCfGgKkMNnqsTtVvXxYy",
    args: "BbcDEeFIiJLlmOoPpQRSWw",
    opt_args: "",
    long_flags: &[],
    long_args: &[],
    long_opt_args: &[],
    permute: false,
    shell_without_command: false,
};

/// OpenSSH's `scp`.
pub(super) const SCP: Spec = Spec {
    flags: "346ABCOpqRrsTv",
    args: "cDFiJloPSX",
    opt_args: "",
    long_flags: &[],
    long_args: &[],
    long_opt_args: &[],
    permute: false,
    shell_without_command: false,
};

pub(super) const SUDO: Spec = Spec {
    flags: "ABbEeHiKklNnPSsVv",
    args: "aCcDgpRrTtUu",
    opt_args: "h",
    long_flags: &[
        "askpass",
        "background",
        "bell",
        "edit",
        "set-home",
        "help",
        "login",
        "remove-timestamp",
        "reset-timestamp",
        "list",
        "non-interactive",
        "preserve-groups",
        "stdin",
        "shell",
        "version",
        "validate",
    ],
    long_args: &[
        "auth-type",
        "close-from",
        "login-class",
        "chdir",
        "group",
        "host",
        "prompt",
        "chroot",
        "role",
        "type",
        "command-timeout",
        "other-user",
        "user",
    ],
    long_opt_args: &["preserve-env"],
    permute: false,
    shell_without_command: false,
};

pub(super) const DOAS: Spec = Spec {
    flags: "Lns",
    args: "aCu",
    opt_args: "",
    long_flags: &[],
    long_args: &[],
    long_opt_args: &[],
    permute: false,
    shell_without_command: false,
};

/// systemd's `run0` (its sudo mode: `+hVu:g:D:a:` and long options only
/// in the long form): stops at the first operand, the command.
pub(super) const RUN0: Spec = Spec {
    flags: "hV",
    args: "ugDa",
    opt_args: "",
    long_flags: &[
        "help",
        "version",
        "no-ask-password",
        "slice-inherit",
        "pty",
        "pipe",
    ],
    long_args: &[
        "machine",
        "unit",
        "property",
        "description",
        "slice",
        "user",
        "group",
        "nice",
        "chdir",
        "setenv",
        "background",
        "shell-prompt-prefix",
        "lightweight",
        "area",
    ],
    long_opt_args: &[],
    permute: false,
    shell_without_command: false,
};

/// `su` and `runuser` (util-linux): options may follow the user name.
pub(super) const SU: Spec = Spec {
    flags: "flmpPhV",
    args: "cgGswu",
    opt_args: "",
    long_flags: &[
        "fast",
        "login",
        "preserve-environment",
        "pty",
        "help",
        "version",
    ],
    long_args: &[
        "command",
        "session-command",
        "group",
        "supp-group",
        "shell",
        "whitelist-environment",
        "user",
    ],
    long_opt_args: &[],
    permute: true,
    shell_without_command: false,
};

pub(super) const TIMEOUT: Spec = Spec {
    flags: "fpv",
    args: "ks",
    opt_args: "",
    long_flags: &[
        "foreground",
        "preserve-status",
        "verbose",
        "help",
        "version",
    ],
    long_args: &["kill-after", "signal"],
    long_opt_args: &[],
    permute: false,
    shell_without_command: false,
};

pub(super) const NICE: Spec = Spec {
    flags: "",
    args: "n",
    opt_args: "",
    long_flags: &["help", "version"],
    long_args: &["adjustment"],
    long_opt_args: &[],
    permute: false,
    shell_without_command: false,
};

pub(super) const STDBUF: Spec = Spec {
    flags: "",
    args: "ioe",
    opt_args: "",
    long_flags: &["help", "version"],
    long_args: &["input", "output", "error"],
    long_opt_args: &[],
    permute: false,
    shell_without_command: false,
};

pub(super) const IONICE: Spec = Spec {
    flags: "thV",
    args: "cnpPu",
    opt_args: "",
    long_flags: &["ignore", "help", "version"],
    long_args: &["class", "classdata", "pid", "pgid", "uid"],
    long_opt_args: &[],
    permute: false,
    shell_without_command: false,
};

pub(super) const SETSID: Spec = Spec {
    flags: "cfwhV",
    args: "",
    opt_args: "",
    long_flags: &["ctty", "fork", "wait", "help", "version"],
    long_args: &[],
    long_opt_args: &[],
    permute: false,
    shell_without_command: false,
};

pub(super) const CHROOT: Spec = Spec {
    flags: "",
    args: "",
    opt_args: "",
    long_flags: &["skip-chdir", "help", "version"],
    long_args: &["userspec", "groups"],
    long_opt_args: &[],
    permute: false,
    shell_without_command: false,
};

pub(super) const UNSHARE: Spec = Spec {
    flags: "fhVrc",
    args: "RwSGl",
    opt_args: "muinpCUT",
    long_flags: &[
        "fork",
        "map-root-user",
        "map-current-user",
        "map-auto",
        "keep-caps",
        "help",
        "version",
    ],
    long_args: &[
        "propagation",
        "setgroups",
        "map-user",
        "map-group",
        "map-users",
        "map-groups",
        "root",
        "wd",
        "setuid",
        "setgid",
        "load-interp",
        "monotonic",
        "boottime",
    ],
    long_opt_args: &[
        "mount",
        "uts",
        "ipc",
        "net",
        "pid",
        "cgroup",
        "user",
        "time",
        "kill-child",
        "mount-proc",
        "mount-binfmt",
    ],
    permute: false,
    shell_without_command: true,
};

pub(super) const NSENTER: Spec = Spec {
    flags: "ahVeFZ",
    args: "tSG",
    opt_args: "muinpCUTrwW",
    long_flags: &[
        "all",
        "preserve-credentials",
        "no-fork",
        "follow-context",
        "env",
        "user-parent",
        "keep-caps",
        "join-cgroup",
        "help",
        "version",
    ],
    long_args: &["target", "setuid", "setgid", "wdns"],
    long_opt_args: &[
        "mount", "uts", "ipc", "net", "pid", "cgroup", "user", "time", "root", "wd",
    ],
    permute: false,
    shell_without_command: true,
};

pub(super) const SCRIPT: Spec = Spec {
    flags: "aefqhV",
    args: "cEBIOTmo",
    opt_args: "t",
    long_flags: &[
        "append", "return", "flush", "force", "quiet", "help", "version",
    ],
    long_args: &[
        "command",
        "echo",
        "log-in",
        "log-out",
        "log-io",
        "log-timing",
        "logging-format",
        "output-limit",
    ],
    long_opt_args: &["timing"],
    permute: true,
    shell_without_command: false,
};

pub(super) const FLOCK: Spec = Spec {
    flags: "sexnoFuhV",
    args: "wE",
    opt_args: "",
    long_flags: &[
        "shared",
        "exclusive",
        "unlock",
        "nonblock",
        "nb",
        "close",
        "no-fork",
        "verbose",
        "help",
        "version",
    ],
    long_args: &["timeout", "wait", "conflict-exit-code"],
    long_opt_args: &[],
    permute: false,
    shell_without_command: false,
};

pub(super) const WATCH: Spec = Spec {
    flags: "bceghprtvwxC",
    args: "nq",
    opt_args: "d",
    long_flags: &[
        "beep", "color", "no-color", "errexit", "chgexit", "precise", "no-rerun", "no-title",
        "exec", "no-wrap", "help", "version",
    ],
    long_args: &["interval", "equexit", "shotsdir"],
    long_opt_args: &["differences"],
    permute: false,
    shell_without_command: false,
};

pub(super) const XARGS: Spec = Spec {
    flags: "0prtx",
    args: "aEdILnPs",
    opt_args: "eil",
    long_flags: &[
        "null",
        "interactive",
        "no-run-if-empty",
        "verbose",
        "exit",
        "open-tty",
        "show-limits",
        "help",
        "version",
    ],
    long_args: &[
        "arg-file",
        "delimiter",
        "max-args",
        "max-procs",
        "max-chars",
        "process-slot-var",
    ],
    long_opt_args: &["eof", "replace", "max-lines"],
    permute: false,
    shell_without_command: false,
};

/// GNU make (4.3/4.4). Its words are read by `run::make` (it keeps going
/// past unknown words that are option values); this table names its long
/// options for [`long_kind`]. `temp-stdin` (4.4) reads a makefile from
/// standard input.
pub(super) const MAKE: Spec = Spec {
    flags: "",
    args: "",
    opt_args: "",
    long_flags: &[
        "always-make",
        "environment-overrides",
        "help",
        "ignore-errors",
        "keep-going",
        "check-symlink-times",
        "just-print",
        "dry-run",
        "recon",
        "print-data-base",
        "question",
        "no-builtin-rules",
        "no-builtin-variables",
        "silent",
        "quiet",
        "no-silent",
        "no-keep-going",
        "stop",
        "touch",
        "trace",
        "version",
        "print-directory",
        "no-print-directory",
        "warn-undefined-variables",
    ],
    long_args: &[
        "directory",
        "eval",
        "file",
        "makefile",
        "temp-stdin",
        "include-dir",
        "jobserver-auth",
        "jobserver-fds",
        "jobserver-style",
        "old-file",
        "assume-old",
        "what-if",
        "new-file",
        "assume-new",
    ],
    long_opt_args: &[
        "debug",
        "jobs",
        "load-average",
        "max-load",
        "output-sync",
        "shuffle",
    ],
    permute: true,
    shell_without_command: false,
};

/// GNU `time` (the program, not bash's keyword).
pub(super) const TIME: Spec = Spec {
    flags: "apqvV",
    args: "fo",
    opt_args: "",
    long_flags: &[
        "append",
        "portability",
        "quiet",
        "verbose",
        "help",
        "version",
    ],
    long_args: &["format", "output"],
    long_opt_args: &[],
    permute: false,
    shell_without_command: false,
};

/// bash's `command` builtin.
pub(super) const COMMAND: Spec = Spec {
    flags: "pvV",
    ..Spec::NONE
};

/// bash's `exec` builtin.
pub(super) const EXEC: Spec = Spec {
    flags: "cl",
    args: "a",
    ..Spec::NONE
};

pub(super) const TASKSET: Spec = Spec {
    flags: "acphV",
    args: "",
    opt_args: "",
    long_flags: &["all-tasks", "cpu-list", "pid", "help", "version"],
    long_args: &[],
    long_opt_args: &[],
    permute: false,
    shell_without_command: false,
};

pub(super) const PKEXEC: Spec = Spec {
    flags: "",
    args: "",
    opt_args: "",
    long_flags: &["disable-internal-agent", "keep-cwd", "help", "version"],
    long_args: &["user"],
    long_opt_args: &[],
    permute: false,
    shell_without_command: true,
};

pub(super) const FAKEROOT: Spec = Spec {
    flags: "uhv",
    args: "lsib",
    opt_args: "",
    long_flags: &["unknown-is-real", "help", "version"],
    long_args: &["lib", "faked"],
    long_opt_args: &[],
    permute: false,
    shell_without_command: true,
};

/// GNU parallel's common options (an unknown one makes the line dynamic).
pub(super) const PARALLEL: Spec = Spec {
    flags: "0kquvXmgeZ",
    args: "jndaIPCNLl",
    opt_args: "",
    long_flags: &[
        "keep-order",
        "quote",
        "ungroup",
        "line-buffer",
        "group",
        "bar",
        "eta",
        "progress",
        "tag",
        "null",
        "will-cite",
        "no-notice",
        "dry-run",
        "verbose",
        "silent",
        "shuf",
        "xargs",
        "pipe",
        "help",
        "version",
    ],
    long_args: &[
        "jobs",
        "max-args",
        "delimiter",
        "arg-file",
        "halt",
        "timeout",
        "joblog",
        "results",
        "colsep",
        "delay",
        "retries",
        "block",
        "max-procs",
        "max-replace-args",
        "max-lines",
        "tagstring",
        "workdir",
    ],
    long_opt_args: &[],
    permute: false,
    shell_without_command: false,
};

/// Options of POSIX-family shells that take the next word (`-o OPTION`,
/// `-O SHOPT`, `--rcfile FILE`).
pub(super) const SHELL_LONG_ARGS: &[&str] = &["rcfile", "init-file"];
pub(super) const SHELL_LONG_FLAGS: &[&str] = &[
    "debug",
    "debugger",
    "dump-po-strings",
    "dump-strings",
    "help",
    "login",
    "noediting",
    "noprofile",
    "norc",
    "posix",
    "pretty-print",
    "restricted",
    "verbose",
    "version",
    "wordexp",
];

/// util-linux `setarch ARCH` and its aliases (`linux32`, `linux64`, …):
/// `+hVv3BFILRSTXZ`, personality flags only.
pub(super) const SETARCH: Spec = Spec {
    flags: "hVv3BFILRSTXZ",
    args: "",
    opt_args: "",
    long_flags: &[
        "help",
        "version",
        "verbose",
        "uname-2.6",
        "4gb",
        "32bit",
        "fdpic-funcptrs",
        "short-inode",
        "addr-compat-layout",
        "addr-no-randomize",
        "whole-seconds",
        "sticky-timeouts",
        "read-implies-exec",
        "mmap-page-zero",
        "list",
        "show",
    ],
    long_args: &[],
    long_opt_args: &[],
    permute: false,
    shell_without_command: false,
};
