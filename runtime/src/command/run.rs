//! What a simple command runs, once its words are known: the program, and
//! the programs it runs in turn (runners, shells, `eval`, builtins that
//! take code).

use super::getopt::{self, getopt, Parsed, Spec};
use super::{
    basename, command_var, dangerous_var, is_identifier, option_value_runs, option_var, Analyzer,
    Field, Step, Stop, Val, SHELLS,
};

/// `/dev/stdin` and its aliases: `source`-ing them reads the here-document.
const STDIN_FILES: &[&str] = &["/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"];

impl Analyzer {
    /// Runs the command `fields` (after expansion). `open_tail`: more words
    /// whose values are unknown follow (as `xargs` appends its input).
    /// `stdin`: the command's standard input when a here-document or
    /// here-string gives it (a shell reads its script there).
    pub(super) fn run(
        &mut self,
        fields: &[Field],
        open_tail: bool,
        stdin: Option<&Val>,
        depth: usize,
    ) -> Step {
        let Some((first, rest)) = fields.split_first() else {
            // No program: an assignment or redirection alone, unless the
            // program comes from input (`xargs env`).
            return if open_tail {
                Err(Stop::Dynamic)
            } else {
                Ok(())
            };
        };
        let name = match &first.val {
            Val::Lit(n) => n.as_str(),
            Val::Unknown => return Err(Stop::Dynamic),
        };
        // `$"…"` is translated through a message catalogue at parse time
        // (`TEXTDOMAIN`, `TEXTDOMAINDIR`, the locale: set on an earlier
        // line, `$"ls"` ran `rm`, confirmed): as a program, unknown.
        if first.raw.contains("$\"") {
            return Err(Stop::Dynamic);
        }
        if named_descriptor(&first.raw) {
            // `{fd}>file cmd`: bash takes `{fd}` before a redirection for a
            // descriptor variable, and runs what follows (the grammar left
            // it as the command word). Both readings are judged: the word
            // as a program, and the rest as the command.
            self.push(name);
            return self.run(rest, open_tail, stdin, depth);
        }
        if first.tilde && !name.contains('/') {
            // `~` or `~user`: the program is a home directory's path.
            return Err(Stop::Dynamic);
        }
        // Matched by its case-folded spelling, reported in both.
        let folded = self.push(name);
        let prog = folded.as_deref().unwrap_or(basename(name));
        if let Some(alt) = &first.alt {
            self.push(alt);
        }
        if first.raw == "time" || first.raw == "!" {
            // Reserved words where a command starts. The grammar sometimes
            // leaves them as words (`! time ! cmd`, `time time cmd`); bash
            // reads them as keywords and runs what follows, assignments
            // included (`time A=1 ls`). Reported as well, in case they were
            // programs (`A=1 time ls` runs GNU time).
            let mut rest = rest;
            while let Some(f) = rest.first() {
                match (f.raw.as_str(), assignment_name(&f.raw)) {
                    ("-p" | "--", _) if first.raw == "time" => {}
                    (_, Some(var))
                        if dangerous_var(var) || super::option_var(var) || command_var(var) =>
                    {
                        return Err(Stop::Dynamic)
                    }
                    (_, Some(_)) => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
            return self.run(rest, open_tail, stdin, depth);
        }
        match prog {
            "eval" => self.eval(end_of_options(rest), open_tail, depth),
            "source" | "." => match end_of_options(rest).first() {
                Some(file) => self.script_file(&file.val, stdin, depth),
                None if open_tail => Err(Stop::Dynamic),
                None => Ok(()),
            },
            "builtin" => self.run(end_of_options(rest), open_tail, stdin, depth),
            "command" => self.through(&getopt::COMMAND, rest, open_tail, stdin, depth),
            "exec" => {
                let p = getopt(&getopt::EXEC, rest)?;
                same_argv0(&p, &p.operands)?;
                self.operands_run(&p, open_tail, stdin, depth)
            }
            "time" => self.through(&getopt::TIME, rest, open_tail, stdin, depth),
            "busybox" | "toybox" => match rest.first().map(|f| &f.val) {
                Some(Val::Lit(applet)) if applet.starts_with('-') => Ok(()),
                Some(_) => self.run(rest, open_tail, stdin, depth),
                None if open_tail => Err(Stop::Dynamic),
                None => Ok(()),
            },
            // Definitions that change what a later word runs.
            "alias" | "enable" if !rest.is_empty() || open_tail => Err(Stop::Dynamic),
            "hash" => {
                let p = getopt(
                    &Spec {
                        flags: "lrtd",
                        args: "p",
                        ..Spec::NONE
                    },
                    rest,
                )?;
                if p.has(&["p"]) || (open_tail && p.operands.is_empty()) {
                    return Err(Stop::Dynamic);
                }
                Ok(())
            }
            "trap" => {
                let p = getopt(
                    &Spec {
                        flags: "lp",
                        ..Spec::NONE
                    },
                    rest,
                )?;
                if p.operands.is_empty() && !open_tail {
                    Ok(())
                } else {
                    Err(Stop::Dynamic)
                }
            }
            "declare" | "typeset" | "local" | "export" | "readonly" => {
                self.declaration(rest, open_tail, depth)
            }
            "read" => {
                let p = getopt(
                    &Spec {
                        flags: "ers",
                        args: "adinNptu",
                        ..Spec::NONE
                    },
                    rest,
                )?;
                if let Some(v) = p.value(&["a"]) {
                    name_is_safe(v.as_ref())?;
                }
                for f in &p.operands {
                    name_is_safe(Some(&f.val))?;
                }
                if open_tail {
                    return Err(Stop::Dynamic);
                }
                Ok(())
            }
            "mapfile" | "readarray" => {
                let p = getopt(
                    &Spec {
                        flags: "t",
                        args: "dnOsuCc",
                        ..Spec::NONE
                    },
                    rest,
                )?;
                // `-C CALLBACK` evaluates code.
                if p.has(&["C"]) || open_tail {
                    return Err(Stop::Dynamic);
                }
                for f in &p.operands {
                    name_is_safe(Some(&f.val))?;
                }
                Ok(())
            }
            "printf" => {
                let mut args = rest;
                if let Some(Val::Lit(o)) = args.first().map(|f| &f.val) {
                    if o == "-v" {
                        name_is_safe(args.get(1).map(|f| &f.val))?;
                        args = args.get(2..).unwrap_or_default();
                    } else if let Some(n) = o.strip_prefix("-v") {
                        name_is_safe(Some(&Val::Lit(n.to_owned())))?;
                        args = &args[1..];
                    }
                }
                // An unknown first word may be `-v` (`printf "$o" 'a[$(…)]' x`).
                if matches!(args.first().map(|f| &f.val), Some(Val::Unknown)) {
                    return Err(Stop::Dynamic);
                }
                Ok(())
            }
            "getopts" => {
                if open_tail {
                    return Err(Stop::Dynamic);
                }
                name_is_safe(rest.get(1).map(|f| &f.val))
            }
            "let" => {
                for f in rest {
                    match &f.val {
                        Val::Lit(e) => self.arithmetic(e)?,
                        Val::Unknown => return Err(Stop::Dynamic),
                    }
                }
                if open_tail {
                    return Err(Stop::Dynamic);
                }
                Ok(())
            }
            // `wait -p NAME` assigns NAME (a subscript is evaluated); an
            // unknown word may be `-pa[$(…)]` (confirmed in bash 5.2).
            "wait" => {
                let mut name_next = false;
                for f in rest {
                    match &f.val {
                        Val::Lit(_) if name_next => {
                            name_next = false;
                            name_is_safe(Some(&f.val))?;
                        }
                        Val::Lit(w) if w == "-p" => name_next = true,
                        Val::Lit(w) if w.starts_with("-p") => {
                            name_is_safe(Some(&Val::Lit(w[2..].to_owned())))?
                        }
                        Val::Lit(w) if w.starts_with('-') && w.contains('p') => {
                            return Err(Stop::Dynamic)
                        }
                        Val::Lit(_) => {}
                        Val::Unknown if super::numeric_parameter(&f.raw) => {}
                        Val::Unknown => return Err(Stop::Dynamic),
                    }
                }
                Ok(())
            }
            "test" | "[" => self.test_operands(rest),
            "unset" => {
                // A name's subscript is evaluated (`unset 'a[$(rm v)]'`).
                for f in rest {
                    match &f.val {
                        Val::Lit(w) if w.starts_with('-') => {}
                        Val::Lit(w) => self.name_with_subscript(w)?,
                        Val::Unknown => return Err(Stop::Dynamic),
                    }
                }
                Ok(())
            }
            // Keyword mode: `NAME=value` anywhere in a later command line
            // is an assignment to that command's environment, out of the
            // assignment checks (`set -k; git commit GIT_EDITOR='rm v'`).
            // History expansion (`set -H` with `set -o history`): bash
            // rewrites a later line before parsing it (`ls "!!:1"` pastes
            // the previous line's words, `;` and all). Either is dynamic.
            "set" => {
                // Options end at `--` (what follows are positional
                // parameters).
                let options = rest
                    .iter()
                    .position(|f| matches!(&f.val, Val::Lit(w) if w == "--"))
                    .map_or(rest, |end| &rest[..end]);
                // `-o NAME` may come in a cluster (`-eo keyword`).
                let safe_name = |f: Option<&Field>| {
                    matches!(f.map(|f| &f.val), Some(Val::Lit(o)) if !REWRITING_OPTIONS.contains(&o.as_str()))
                };
                let keyword = options.iter().enumerate().any(|(i, f)| match &f.val {
                    Val::Lit(w)
                        if (w.starts_with('-') || w.starts_with('+'))
                            && !w.starts_with("--")
                            && w.len() > 2
                            && w.contains('o') =>
                    {
                        w.starts_with('-')
                            && (w.contains(['k', 'H']) || !safe_name(options.get(i + 1)))
                    }
                    Val::Lit(w)
                        if w.starts_with('-') && !w.starts_with("--") && w.contains(['k', 'H']) =>
                    {
                        true
                    }
                    Val::Lit(w) if w == "-o" => {
                        !safe_name(options.get(i + 1)) && options.get(i + 1).is_some()
                    }
                    Val::Lit(_) => false,
                    Val::Unknown => true,
                });
                if keyword {
                    return Err(Stop::Dynamic);
                }
                Ok(())
            }
            "shopt" => {
                let sets_option = rest.iter().any(|f| match &f.val {
                    Val::Lit(w) => w == "extdebug" || REWRITING_OPTIONS.contains(&w.as_str()),
                    Val::Unknown => true,
                });
                if sets_option {
                    return Err(Stop::Dynamic);
                }
                Ok(())
            }
            // `fc` re-runs history entries (`-s`) or runs an editor
            // (`-e`, `FCEDIT`) on them: only listing (`-l`) runs nothing.
            "fc" => match rest.first().map(|f| &f.val) {
                Some(Val::Lit(o))
                    if o.starts_with('-') && o.contains('l') && !o.contains(['e', 's']) =>
                {
                    Ok(())
                }
                _ => Err(Stop::Dynamic),
            },
            // `jobs -x CMD ARGS` runs CMD (job specs in ARGS replaced by
            // process groups).
            "jobs" if rest.iter().any(|f| match &f.val {
                Val::Lit(w) => w.starts_with('-') && w.contains('x'),
                Val::Unknown => true,
            }) => Err(Stop::Dynamic),
            "compgen" | "complete" => {
                let runs_code = rest.iter().any(|f| match &f.val {
                    // `-C`/`-F` run a command or function; `-W` expands
                    // its word list (`compgen -W '$(rm v)'` runs `rm`).
                    Val::Lit(o) => o.starts_with('-') && o.contains(['C', 'F', 'W']),
                    Val::Unknown => true,
                });
                if runs_code || open_tail {
                    return Err(Stop::Dynamic);
                }
                Ok(())
            }
            p if SHELLS.contains(&p) => self.shell(rest, open_tail, stdin, depth),
            "env" => self.env(rest, open_tail, stdin, depth),
            "sudo" => self.sudo(rest, open_tail, stdin, depth),
            "run0" => self.run0(rest, open_tail, stdin, depth),
            "doas" => {
                let p = getopt(&getopt::DOAS, rest)?;
                if p.has(&["C"]) {
                    return Ok(());
                }
                if p.operands.is_empty() && p.has(&["s"]) {
                    // `doas -s`: the user's shell.
                    return self.login_shell(open_tail, stdin, depth);
                }
                self.operands_run(&p, open_tail, stdin, depth)
            }
            // `newgrp [-] [GROUP]` starts the user's shell with the group.
            "newgrp" => self.login_shell(open_tail, stdin, depth),
            "su" | "runuser" => self.su(prog, rest, open_tail, stdin, depth),
            "timeout" => {
                let p = getopt(&getopt::TIMEOUT, rest)?;
                match p.operands.split_first() {
                    Some((_duration, cmd)) => self.run(&owned(cmd), open_tail, stdin, depth),
                    None if open_tail => Err(Stop::Dynamic),
                    None => Ok(()),
                }
            }
            "nice" => {
                // The old form `nice -10 cmd` / `nice --10 cmd`.
                let legacy = rest.first().is_some_and(|f| {
                    matches!(&f.val, Val::Lit(w) if w.len() > 1 && w.starts_with('-')
                        && w.trim_start_matches('-').trim_start_matches('+').chars().all(|c| c.is_ascii_digit())
                        && !w.trim_start_matches('-').trim_start_matches('+').is_empty())
                });
                let rest = if legacy { &rest[1..] } else { rest };
                self.through(&getopt::NICE, rest, open_tail, stdin, depth)
            }
            "nohup" => self.through(&Spec::NONE, rest, open_tail, stdin, depth),
            "stdbuf" => self.through(&getopt::STDBUF, rest, open_tail, stdin, depth),
            "setsid" => self.through(&getopt::SETSID, rest, open_tail, stdin, depth),
            "unshare" => self.through(&getopt::UNSHARE, rest, open_tail, stdin, depth),
            "nsenter" => self.through(&getopt::NSENTER, rest, open_tail, stdin, depth),
            "fakeroot" => self.through(&getopt::FAKEROOT, rest, open_tail, stdin, depth),
            "pkexec" => self.through(&getopt::PKEXEC, rest, open_tail, stdin, depth),
            "ionice" => {
                let p = getopt(&getopt::IONICE, rest)?;
                if p.has(&["p", "P", "u", "pid", "pgid", "uid"]) {
                    // Operands are process ids: nothing is run.
                    return Ok(());
                }
                self.operands_run(&p, open_tail, stdin, depth)
            }
            "taskset" => {
                let p = getopt(&getopt::TASKSET, rest)?;
                if p.has(&["p", "pid"]) {
                    return Ok(());
                }
                self.skip_then_run(&p.operands, 1, open_tail, stdin, depth)
            }
            "chroot" => {
                let p = getopt(&getopt::CHROOT, rest)?;
                // Without a command chroot runs `$SHELL -i`.
                if p.operands.len() <= 1 {
                    return self.login_shell(open_tail, stdin, depth);
                }
                self.skip_then_run(&p.operands, 1, open_tail, stdin, depth)
            }
            "gosu" | "su-exec" => {
                let p = getopt(&Spec::NONE, rest)?;
                self.skip_then_run(&p.operands, 1, open_tail, stdin, depth)
            }
            "sg" => {
                // `sg GROUP [-c] COMMAND`: the command goes to `/bin/sh -c`.
                let p = getopt(&Spec::NONE, rest)?;
                let cmd: Vec<&Field> = p.operands.iter().skip(1).copied().collect();
                let cmd = match cmd.first().map(|f| &f.val) {
                    Some(Val::Lit(c)) if c == "-c" => &cmd[1..],
                    _ => &cmd[..],
                };
                self.joined_script(cmd, open_tail, depth)
            }
            "script" => {
                let p = getopt(&getopt::SCRIPT, rest)?;
                match p.value(&["c", "command"]) {
                    Some(Some(Val::Lit(s))) => self.string(s, depth + 1),
                    Some(_) => Err(Stop::Dynamic),
                    // The shell's terminal is fed from script's input.
                    None => self.login_shell(open_tail, stdin, depth),
                }
            }
            "flock" => {
                let p = getopt(&getopt::FLOCK, rest)?;
                let Some((_file, after)) = p.operands.split_first() else {
                    return if open_tail {
                        Err(Stop::Dynamic)
                    } else {
                        Ok(())
                    };
                };
                match after.first().map(|f| &f.val) {
                    Some(Val::Lit(c)) if c == "-c" || c == "--command" => {
                        match after.get(1).map(|f| &f.val) {
                            Some(Val::Lit(s)) => self.string(s, depth + 1),
                            Some(Val::Unknown) => Err(Stop::Dynamic),
                            None if open_tail => Err(Stop::Dynamic),
                            None => Ok(()),
                        }
                    }
                    // `flock FD`: locks a descriptor, runs nothing.
                    None if !open_tail => Ok(()),
                    _ => self.run(&owned(after), open_tail, stdin, depth),
                }
            }
            "watch" => {
                let p = getopt(&getopt::WATCH, rest)?;
                if p.has(&["x", "exec"]) {
                    self.operands_run(&p, open_tail, stdin, depth)
                } else {
                    // The words are joined and given to `sh -c`.
                    self.joined_script(&p.operands, open_tail, depth)
                }
            }
            "setarch" => {
                // `setarch ARCH [OPTIONS] [PROGRAM …]`: the architecture
                // comes first, then the options (without a program it runs
                // `/bin/sh`).
                match rest.first().map(|f| &f.val) {
                    Some(Val::Lit(arch)) if !arch.starts_with('-') => {
                        let p = getopt(&getopt::SETARCH, &rest[1..])?;
                        self.skip_then_run(&p.operands, 0, open_tail, stdin, depth)
                    }
                    Some(Val::Unknown) => Err(Stop::Dynamic),
                    _ => {
                        let p = getopt(&getopt::SETARCH, rest)?;
                        self.skip_then_run(&p.operands, 1, open_tail, stdin, depth)
                    }
                }
            }
            "linux32" | "linux64" | "i386" | "x86_64" | "uname26" => {
                let p = getopt(&getopt::SETARCH, rest)?;
                self.skip_then_run(&p.operands, 0, open_tail, stdin, depth)
            }
            // The dynamic loader run as a program runs the program it is
            // given (`/lib64/ld-linux-x86-64.so.2 /bin/rm x`), after
            // options of its own.
            p if loader(p) => Err(Stop::Dynamic),
            "git" => {
                for cmd in git(rest, open_tail)? {
                    self.command_value(&Val::Lit(cmd), depth)?;
                }
                Ok(())
            }
            // git's dashed built-ins (`/usr/lib/git-core/git-rebase -x CMD`)
            // are `git rebase …`.
            p if p.len() > 4 && p.starts_with("git-") => {
                let mut words = vec![Field::lit(&p[4..])];
                words.extend_from_slice(rest);
                for cmd in git(&words, open_tail)? {
                    self.command_value(&Val::Lit(cmd), depth)?;
                }
                Ok(())
            }
            // Words from input may be any option (`xargs tar`).
            "make" | "gmake" | "tar" | "gtar" | "bsdtar" if open_tail => Err(Stop::Dynamic),
            "make" | "gmake" => {
                make(rest)?;
                // `make CC='rm v;:'`: the value is what the recipes run.
                let values: Vec<String> =
                    make_command_vars(rest).map(|(_, v)| v.to_owned()).collect();
                for v in values {
                    self.command_value(&Val::Lit(v), depth)?;
                }
                Ok(())
            }
            // Programs with an option whose value is a program they run
            // (each confirmed with a logging stub): dynamic.
            // (`--strip` is an option of its own: `--strip-` is the shortest
            // prefix getopt takes for `--strip-program`.)
            "install" | "ginstall" if has_long_prefix(rest, "strip-program", 6) => Err(Stop::Dynamic),
            "sort" | "gsort" if has_long(rest, "compress-program") => Err(Stop::Dynamic),
            "split" | "gsplit" if has_long(rest, "filter") => Err(Stop::Dynamic),
            "sdiff" | "diff3" if has_long(rest, "diff-program") => Err(Stop::Dynamic),
            // zip's test command: `-TT CMD` alone, in a cluster (`-qTT`),
            // with its value attached (`-TTCMD`, `-TT=CMD`), or any prefix
            // of `--unzip-command`.
            "zip" if has_long(rest, "unzip-command") || short_cluster_has(rest, "TT") => {
                Err(Stop::Dynamic)
            }
            // prove's interpreter: `-e` in a cluster or with its value
            // attached (`-ve`, `-e'CMD'`), any prefix of `--exec`.
            "prove" if has_long_lit(rest, "exec") || short_options_have(rest, &['e'], "IPMje") => {
                Err(Stop::Dynamic)
            }
            // wget runs an askpass program (`--use-askpass=PROG`) and wgetrc
            // commands (`-e`, `--execute`, `--config`: `use_askpass = PROG`).
            "wget" if has_long_lit(rest, "use-askpass")
                || has_long_lit(rest, "execute")
                || has_long_lit(rest, "config")
                || short_options_have(rest, &['e'], "OoaiBtTwQPUDXIARle") =>
            {
                Err(Stop::Dynamic)
            }
            // gpg starts its agent and dirmngr, and a photo viewer, from
            // programs it may be given; a home folder holds gpg.conf.
            "gpg" | "gpg2" | "gpgsm" | "gpgconf" | "gpg-connect-agent"
                if [
                    "agent-program",
                    "dirmngr-program",
                    "keyboxd-program",
                    "pinentry-program",
                    "photo-viewer",
                    "exec-path",
                    "homedir",
                    "options",
                ]
                .iter()
                // gpg takes any unambiguous prefix of a long option.
                .any(|o| has_long(rest, o)) =>
            {
                Err(Stop::Dynamic)
            }
            // OpenSSL loads an engine or provider library (`-engine ./x.so`,
            // `engine dynamic -pre SO_PATH:…`, `-provider-path`).
            "openssl" if openssl_loads(rest) =>
            {
                Err(Stop::Dynamic)
            }
            // ssh-keygen loads a PKCS#11 library (`-D`) or a security-key
            // provider (`-w`).
            "ssh-keygen" if short_options_have(rest, &['D', 'w'], "abCDEfFGIJjKmMNnOPrstVwYzZ") => {
                Err(Stop::Dynamic)
            }
            // groff and its front ends in unsafe mode run `.sy` requests.
            "groff" | "nroff" | "troff" | "grog"
                if short_options_have(rest, &['U'], "dfFIKLmMnoPrTwW") =>
            {
                Err(Stop::Dynamic)
            }
            // less reads a lesskey file, whose `#env` section can set
            // LESSOPEN (`--lesskey-src=F`, `--lesskey-file`, `-k F`).
            "less" if has_long_lit(rest, "lesskey-src")
                || has_long_lit(rest, "lesskey-file")
                || has_long_lit(rest, "lesskey-content")
                || short_options_have(rest, &['k'], "bhjkoOpPtTxyz#") =>
            {
                Err(Stop::Dynamic)
            }
            p if compiler(p) && rest.iter().any(compiler_runs) => Err(Stop::Dynamic),
            "rustc" | "rustdoc" if rustc_runs(rest) => Err(Stop::Dynamic),
            "cargo" if cargo_runs(rest) => Err(Stop::Dynamic),
            // The linker and binutils load a plugin library (`ld -plugin
            // x.so`, `nm --plugin x.so`: its constructor ran).
            p if plugin_loader(p)
                && (has_long_prefix(rest, "plugin", 2)
                    || rest.iter().any(|f| match &f.val {
                        Val::Lit(w) => w.contains("plugin") || w.starts_with('@'),
                        Val::Unknown => may_be_option_or_file(&f.raw),
                    })) =>
            {
                Err(Stop::Dynamic)
            }
            // ripgrep's `--pre COMMAND` runs COMMAND on every file searched;
            // `--hostname-bin` runs a program for hyperlinks.
            "rg" if has_long(rest, "pre") || has_long(rest, "hostname-bin") => Err(Stop::Dynamic),
            // man's pager (`-P`, `--pager`) and HTML browser (`-H`,
            // `--html`) are programs it runs.
            "man" if man_runs(rest) => Err(Stop::Dynamic),
            // rsync runs its remote shell (`-e`, `--rsh`) locally: read as
            // a command line (`rsync -e 'ssh -p 2222'` reports `ssh`).
            "rsync" => {
                for line in rsync_remote_lines(rest)? {
                    self.command_value(&Val::Lit(line), depth)?;
                }
                Ok(())
            }
            // ssh's and scp's `-o ProxyCommand=…`, `LocalCommand`,
            // `KnownHostsCommand` run locally (read as command lines);
            // a configuration file (`-F`), a PKCS#11 or security-key
            // library, scp's `-S` program and `-D` server are unknown code.
            "ssh" | "slogin" | "scp" => {
                for v in ssh_commands(prog, rest)? {
                    self.command_value(&v, depth)?;
                }
                Ok(())
            }
            // sftp runs `!command` lines locally, from a batch file or its
            // input.
            "sftp" => Err(Stop::Dynamic),
            // SQLite's shell runs commands (`.shell`, `.system`).
            "sqlite3" if rest.iter().any(|f| matches!(&f.val, Val::Lit(w) if w.contains(".shell") || w.contains(".system") || w == "-cmd")) => {
                Err(Stop::Dynamic)
            }
            // Programs that run the command their operands name: dynamic
            // with a command (`ssh-agent rm v`, `logsave F rm v`).
            "ssh-agent" | "gpg-agent" | "choom" | "logsave" | "dpkg-architecture" | "uclampset" => {
                let runs = match prog {
                    "dpkg-architecture" => rest.iter().any(|f| matches!(&f.val, Val::Lit(w) if w == "-c" || w.starts_with("--command")) || matches!(f.val, Val::Unknown)),
                    "logsave" => rest.iter().filter(|f| !matches!(&f.val, Val::Lit(w) if w.starts_with('-'))).count() > 1,
                    _ => rest.iter().any(|f| !matches!(&f.val, Val::Lit(w) if w.starts_with('-'))),
                };
                if runs {
                    Err(Stop::Dynamic)
                } else {
                    Ok(())
                }
            }
            "tar" | "gtar" | "bsdtar" => {
                for cmd in tar(rest)? {
                    self.command_value(&Val::Lit(cmd), depth)?;
                }
                Ok(())
            }
            "xargs" => self.xargs(rest, open_tail, depth),
            "find" => self.find(rest, open_tail, depth),
            "parallel" => self.parallel(rest, open_tail, depth),
            _ => Ok(()),
        }
    }

    /// A variable name a builtin reads (`unset`, `test -v`): an identifier,
    /// or one with a subscript of literal numbers.
    fn name_with_subscript(&mut self, w: &str) -> Step {
        let (name, subscript) = match w.split_once('[') {
            Some((name, rest)) => match rest.strip_suffix(']') {
                Some(sub) => (name, Some(sub)),
                None => return Err(Stop::Dynamic),
            },
            None => (w, None),
        };
        if !is_identifier(name) {
            return Err(Stop::Dynamic);
        }
        match subscript {
            Some(sub) => self.arithmetic(sub),
            None => Ok(()),
        }
    }

    /// `test` / `[`: `-v`/`-R` read a name, whose subscript bash evaluates;
    /// an unknown word may be such an operator, and an unquoted one splits
    /// into several. (bash 5.2 does not evaluate `-eq`…`-ge` operands here,
    /// unlike in `[[ … ]]`.)
    fn test_operands(&mut self, rest: &[Field]) -> Step {
        for (i, f) in rest.iter().enumerate() {
            if matches!(f.val, Val::Unknown)
                && !quoted_whole(&f.raw)
                && !super::numeric_parameter(&f.raw)
            {
                // An unquoted expansion splits into words of its own
                // (`x='-v a[$(rm v)]'; [ $x ]`).
                return Err(Stop::Dynamic);
            }
            let Val::Lit(w) = &f.val else {
                // An unknown word may be an operator (`o=-v; [ "$o" x ]`):
                // its neighbours must then be words no operator evaluates
                // into code — neither unknown nor holding a `[`.
                for j in [i.wrapping_sub(1), i + 1] {
                    match rest.get(j).map(|f| &f.val) {
                        Some(Val::Unknown) => return Err(Stop::Dynamic),
                        Some(Val::Lit(n)) if n.contains('[') && n != "[" => {
                            return Err(Stop::Dynamic)
                        }
                        _ => {}
                    }
                }
                continue;
            };
            if w == "-v" || w == "-R" {
                match rest.get(i + 1).map(|f| &f.val) {
                    Some(Val::Lit(name)) => self.name_with_subscript(name)?,
                    Some(Val::Unknown) => return Err(Stop::Dynamic),
                    None => {}
                }
            }
        }
        Ok(())
    }

    fn eval(&mut self, rest: &[Field], open_tail: bool, depth: usize) -> Step {
        // Open input, or a translated `$"…"` (see `run`).
        if open_tail || rest.iter().any(|f| f.raw.contains("$\"")) {
            return Err(Stop::Dynamic);
        }
        let text = joined(rest.iter())?;
        self.string(&text, depth + 1)
    }

    /// A shell reading its script from standard input.
    fn stdin_script(&mut self, stdin: Option<&Val>, depth: usize) -> Step {
        match stdin {
            Some(Val::Lit(script)) => self.string(script, depth + 1),
            Some(Val::Unknown) => Err(Stop::Dynamic),
            // Inside a compound command or a function body the input is the
            // enclosing one's, which a redirection elsewhere on the line may
            // give (`{ bash; } <<< 'rm v'`, `f() { bash; }; f <<< 'rm v'`).
            None if self.nested > 0 => Err(Stop::Dynamic),
            // A pipe or the caller's input: the shell is reported as
            // itself (`std.commands.shells`).
            None => Ok(()),
        }
    }

    /// A runner whose options are `spec` and whose operands are the
    /// command it runs (with none, it runs nothing, or the user's shell:
    /// [`Spec::shell_without_command`]).
    fn through(
        &mut self,
        spec: &Spec,
        rest: &[Field],
        open_tail: bool,
        stdin: Option<&Val>,
        depth: usize,
    ) -> Step {
        let p = getopt(spec, rest)?;
        if p.operands.is_empty() && spec.shell_without_command {
            return self.login_shell(open_tail, stdin, depth);
        }
        self.operands_run(&p, open_tail, stdin, depth)
    }

    /// The user's shell (`$SHELL`) a runner starts when given no command
    /// (`run0`, `sudo -s`/`-i`, `doas -s`, `su`, `newgrp`, `pkexec`,
    /// `unshare`, `nsenter`, `fakeroot`, `chroot`, `script`): it reads standard input as its
    /// script (`run0 <<< 'rm v'` runs `rm`), as a shell given no operand
    /// does.
    fn login_shell(&mut self, open_tail: bool, stdin: Option<&Val>, depth: usize) -> Step {
        if open_tail {
            return Err(Stop::Dynamic);
        }
        self.stdin_script(stdin, depth)
    }

    /// Runs the operands as a command; with none and an open tail the
    /// program comes from input (dynamic).
    fn operands_run(
        &mut self,
        p: &Parsed<'_>,
        open_tail: bool,
        stdin: Option<&Val>,
        depth: usize,
    ) -> Step {
        if p.operands.is_empty() {
            return if open_tail {
                Err(Stop::Dynamic)
            } else {
                Ok(())
            };
        }
        self.run(&owned(&p.operands), open_tail, stdin, depth)
    }

    fn skip_then_run(
        &mut self,
        operands: &[&Field],
        skip: usize,
        open_tail: bool,
        stdin: Option<&Val>,
        depth: usize,
    ) -> Step {
        if operands.len() <= skip {
            return if open_tail {
                Err(Stop::Dynamic)
            } else {
                Ok(())
            };
        }
        self.run(&owned(&operands[skip..]), open_tail, stdin, depth)
    }

    /// Words joined with spaces and run by `sh -c` (`watch`, `sg`,
    /// `parallel`).
    fn joined_script(&mut self, words: &[&Field], open_tail: bool, depth: usize) -> Step {
        if open_tail {
            return Err(Stop::Dynamic);
        }
        let text = joined(words.iter().copied())?;
        if text.is_empty() {
            return Ok(());
        }
        self.string(&text, depth + 1)
    }

    /// `declare`, `typeset`, `local`, `export`, `readonly`: `-i` makes later
    /// assignments arithmetic, `-n` makes a name reference; names that
    /// change what runs, or carry a subscript (evaluated), are dynamic.
    fn declaration(&mut self, rest: &[Field], open_tail: bool, depth: usize) -> Step {
        if open_tail {
            return Err(Stop::Dynamic);
        }
        // `-A` counts before the first name only (after it, bash takes it
        // for a name).
        let associative = rest
            .iter()
            .map_while(|f| match &f.val {
                Val::Lit(w) if w.starts_with('-') || w.starts_with('+') => Some(w),
                _ => None,
            })
            .any(|w| w.starts_with('-') && w.contains('A'));
        for f in rest {
            if let Val::Lit(w) = &f.val {
                if w.starts_with('-') {
                    if w.contains(['i', 'n']) {
                        return Err(Stop::Dynamic);
                    }
                    continue;
                }
                if w.starts_with('+') {
                    continue;
                }
            }
            // The name as written: a literal identifier, then `=`, `+=`
            // or the end.
            let raw = f.raw.as_str();
            let end = raw
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(raw.len());
            let name = &raw[..end];
            let after = &raw[end..];
            let well_formed = is_identifier(name)
                && (after.is_empty() || after.starts_with('=') || after.starts_with("+="));
            if !well_formed
                || dangerous_var(name)
                || (after.starts_with("+=") && (command_var(name) || super::option_var(name)))
            {
                return Err(Stop::Dynamic);
            }
            if let Some(value) = after.strip_prefix('=').or_else(|| after.strip_prefix("+=")) {
                if value.starts_with('(') {
                    // `declare -a b=([x]=1)`: each subscript is evaluated
                    // (arithmetic); an associative array's (`-A`) keys are
                    // words, expanded: plain ones only.
                    let mut rest = value;
                    while let Some(open) = rest.find('[') {
                        let Some(close) = rest[open..].find(']') else {
                            return Err(Stop::Dynamic);
                        };
                        let sub = &rest[open + 1..open + close];
                        let plain = |b: u8| {
                            b.is_ascii_digit()
                                || (associative
                                    && (b.is_ascii_alphanumeric()
                                        || matches!(b, b'_' | b'-' | b'.')))
                        };
                        if !sub.bytes().all(plain) {
                            return Err(Stop::Dynamic);
                        }
                        rest = &rest[open + close + 1..];
                    }
                }
                // The value as bash expands it, when the word is known.
                let value = match &f.val {
                    Val::Lit(w) => w
                        .split_once('=')
                        .map_or(Val::Unknown, |(_, v)| Val::Lit(v.to_owned())),
                    Val::Unknown if value.is_empty() => Val::Lit(String::new()),
                    Val::Unknown => Val::Unknown,
                };
                self.command_var(name, &value, depth)?;
            }
        }
        Ok(())
    }

    /// POSIX-family shells: options, then `-c SCRIPT`, a script file, or
    /// the script on standard input.
    fn shell(
        &mut self,
        rest: &[Field],
        open_tail: bool,
        stdin: Option<&Val>,
        depth: usize,
    ) -> Step {
        let mut i = 0;
        let mut command_mode = false;
        let mut stdin_mode = false;
        while i < rest.len() {
            let Val::Lit(w) = &rest[i].val else {
                return Err(Stop::Dynamic);
            };
            if w == "--" || w == "-" {
                i += 1;
                break;
            }
            if let Some(long) = w.strip_prefix("--") {
                if long == "debugger" {
                    // Loads bashdb's script before the command. (A login
                    // shell, `--login`/`-l`, reads /etc/profile and
                    // ~/.profile: script files, out of sight like `bash
                    // FILE`; docs/security/threat_model.md.)
                    return Err(Stop::Dynamic);
                }
                if getopt::SHELL_LONG_ARGS.contains(&long) {
                    i += 2;
                } else if getopt::SHELL_LONG_FLAGS.contains(&long) {
                    i += 1;
                } else {
                    return Err(Stop::Dynamic);
                }
                continue;
            }
            if w.strip_prefix('-').is_some_and(|long| {
                getopt::SHELL_LONG_ARGS.contains(&long) || getopt::SHELL_LONG_FLAGS.contains(&long)
            }) {
                // bash reads its long options after one dash too (`bash
                // -verbose -c 'rm v'`); dash reads a cluster: two readings.
                return Err(Stop::Dynamic);
            }
            if w.len() > 1 && (w.starts_with('-') || w.starts_with('+')) {
                let mut takes = 0;
                for c in w[1..].chars() {
                    match c {
                        // `+c` and `+s` are `-c` and `-s` to bash and dash.
                        'c' => command_mode = true,
                        // Keyword mode and history expansion (see `set`); an
                        // interactive shell has history expansion on and
                        // reads its startup files.
                        'k' | 'H' | 'i' if w.starts_with('-') => return Err(Stop::Dynamic),
                        // `-O extdebug` at start loads the debugger's script.
                        'O' if matches!(rest.get(i + 1 + takes).map(|f| &f.val), Some(Val::Lit(o)) if o == "extdebug") => {
                            return Err(Stop::Dynamic)
                        }
                        'o' if w.starts_with('-')
                            && matches!(rest.get(i + 1 + takes).map(|f| &f.val), Some(Val::Lit(o)) if REWRITING_OPTIONS.contains(&o.as_str())) =>
                        {
                            return Err(Stop::Dynamic)
                        }
                        's' => stdin_mode = true,
                        'o' | 'O' => takes += 1,
                        c if c.is_ascii_alphabetic() => {}
                        _ => return Err(Stop::Dynamic),
                    }
                }
                i += 1 + takes;
                continue;
            }
            break;
        }
        let operands = rest.get(i..).unwrap_or(&[]);
        if command_mode {
            if operands.first().is_some_and(|f| f.raw.contains("$\"")) {
                // A translated script (see `run`).
                return Err(Stop::Dynamic);
            }
            return match operands.first().map(|f| &f.val) {
                Some(Val::Lit(script)) => self.string(script, depth + 1),
                Some(Val::Unknown) => Err(Stop::Dynamic),
                // The script comes from input (`xargs sh -c`).
                None if open_tail => Err(Stop::Dynamic),
                None => Ok(()),
            };
        }
        match operands.first() {
            // The input's words come first: they may be options (`xargs
            // bash <<< "-c 'rm v'"` runs `rm`, confirmed) or the script.
            None if open_tail => Err(Stop::Dynamic),
            None => self.stdin_script(stdin, depth),
            Some(_) if stdin_mode => self.stdin_script(stdin, depth),
            Some(file) => self.script_file(&file.val, stdin, depth),
        }
    }

    /// A script file a shell or `source` reads: standard input's here-document
    /// when the file is `/dev/stdin` or an alias of it; out of sight when it
    /// may be another descriptor ([`may_be_descriptor`]: `bash /dev/fd/3
    /// 3<<< 'rm v'`, `cd /dev && . stdin`) or a name runtime data chooses.
    /// A file's own contents are out of sight (threat model).
    fn script_file(&mut self, file: &Val, stdin: Option<&Val>, depth: usize) -> Step {
        match file {
            Val::Lit(file) if STDIN_FILES.contains(&file.as_str()) => match stdin {
                // A pipe or the caller's input: code out of sight.
                None => Err(Stop::Dynamic),
                Some(_) => self.stdin_script(stdin, depth),
            },
            Val::Lit(file) if may_be_descriptor(file) => Err(Stop::Dynamic),
            Val::Lit(_) => Ok(()),
            Val::Unknown => Err(Stop::Dynamic),
        }
    }

    fn env(&mut self, rest: &[Field], open_tail: bool, stdin: Option<&Val>, depth: usize) -> Step {
        let p = getopt(&getopt::ENV, rest)?;
        // GNU env acts on the first `-S` and reads the words after it as
        // options again (`env -S'rm v --' -S'echo'` runs `rm`): one only.
        if p.opts
            .iter()
            .filter(|(n, _)| matches!(n.as_str(), "S" | "split-string"))
            .count()
            > 1
        {
            return Err(Stop::Dynamic);
        }
        if let Some(split) = p.value(&["S", "split-string"]) {
            // `-S STRING` splits STRING into arguments processed in place.
            let Some(Val::Lit(s)) = split else {
                return Err(Stop::Dynamic);
            };
            if s.contains(['$', '\\', '#', '\'', '"']) || depth >= super::MAX_DEPTH {
                return Err(Stop::Dynamic);
            }
            let mut words: Vec<Field> = s.split_whitespace().map(Field::lit).collect();
            words.extend(owned(&p.operands));
            return self.env(&words, open_tail, stdin, depth + 1);
        }
        let mut operands: &[&Field] = &p.operands;
        if matches!(operands.first().map(|f| &f.val), Some(Val::Lit(w)) if w == "-") {
            operands = &operands[1..];
        }
        let at = self.assignments(operands, depth)?;
        let cmd = &operands[at..];
        same_argv0(&p, cmd)?;
        if cmd.is_empty() {
            return if open_tail {
                Err(Stop::Dynamic)
            } else {
                Ok(())
            };
        }
        self.run(&owned(cmd), open_tail, stdin, depth)
    }

    /// Leading `NAME=value` operands (`env`, `sudo`): how many.
    fn assignments(&mut self, operands: &[&Field], depth: usize) -> Result<usize, Stop> {
        let mut n = 0;
        for f in operands {
            match &f.val {
                Val::Lit(w) => match w.split_once('=') {
                    Some((name, value)) if is_identifier(name) => {
                        if dangerous_var(name) {
                            return Err(Stop::Dynamic);
                        }
                        self.command_var(name, &Val::Lit(value.to_owned()), depth)?;
                        n += 1;
                    }
                    // GNU env takes any word with `=` for an assignment
                    // (`env a/b=c rm v`, `env =x rm v` run `rm`); another
                    // reader may take it for the program: both cannot be
                    // judged at once.
                    Some(_) => return Err(Stop::Dynamic),
                    None => break,
                },
                // May be an assignment or the program.
                Val::Unknown => return Err(Stop::Dynamic),
            }
        }
        Ok(n)
    }

    fn sudo(&mut self, rest: &[Field], open_tail: bool, stdin: Option<&Val>, depth: usize) -> Step {
        let p = getopt(&getopt::SUDO, rest)?;
        if p.has(&["e", "edit"]) {
            // sudoedit runs the editor the environment names.
            return if p.operands.is_empty() && !open_tail {
                Ok(())
            } else {
                Err(Stop::Dynamic)
            };
        }
        let at = self.assignments(&p.operands, depth)?;
        let cmd = &p.operands[at..];
        if cmd.is_empty() {
            return if p.has(&["s", "i", "shell", "login"]) {
                self.login_shell(open_tail, stdin, depth)
            } else if open_tail {
                Err(Stop::Dynamic)
            } else {
                Ok(())
            };
        }
        if p.has(&["s", "i", "shell", "login"]) {
            // The command is handed to the shell with `-c`: judge it as
            // words and as a script.
            self.joined_script(cmd, open_tail, depth)?;
        }
        self.run(&owned(cmd), open_tail, stdin, depth)
    }

    /// systemd's `run0 [OPTIONS] [COMMAND [ARG…]]`: the command runs in a
    /// transient service, as another user; with none, the user's login
    /// shell. `--property=` sets a unit property (`ExecStartPre=` runs
    /// another command), and `--setenv=` the service's environment: judged
    /// as `env`'s assignments are (`--setenv=NAME` passes the caller's
    /// value, unknown here).
    fn run0(&mut self, rest: &[Field], open_tail: bool, stdin: Option<&Val>, depth: usize) -> Step {
        let p = getopt(&getopt::RUN0, rest)?;
        if p.has(&["h", "help", "V", "version"]) {
            // Prints and exits at the option, before running anything.
            return Ok(());
        }
        if p.has(&["property"]) {
            return Err(Stop::Dynamic);
        }
        for (opt, value) in &p.opts {
            if opt != "setenv" {
                continue;
            }
            let Some(Val::Lit(assignment)) = value else {
                return Err(Stop::Dynamic);
            };
            let (name, value) = match assignment.split_once('=') {
                Some((name, value)) => (name, Val::Lit(value.to_owned())),
                None => (assignment.as_str(), Val::Unknown),
            };
            // `SHELL` is the program run without a command.
            if dangerous_var(name) || (name == "SHELL" && p.operands.is_empty()) {
                return Err(Stop::Dynamic);
            }
            self.command_var(name, &value, depth)?;
        }
        if p.operands.is_empty() {
            return self.login_shell(open_tail, stdin, depth);
        }
        self.operands_run(&p, open_tail, stdin, depth)
    }

    fn su(
        &mut self,
        prog: &str,
        rest: &[Field],
        open_tail: bool,
        stdin: Option<&Val>,
        depth: usize,
    ) -> Step {
        let p = getopt(&getopt::SU, rest)?;
        if prog == "runuser" && p.has(&["u", "user"]) {
            // `runuser -u USER [--] COMMAND`: the command runs directly.
            return self.operands_run(&p, open_tail, stdin, depth);
        }
        let shell = match p.value(&["s", "shell"]) {
            Some(Some(Val::Lit(s))) => self.push(s).unwrap_or_else(|| basename(s).to_owned()),
            Some(_) => return Err(Stop::Dynamic),
            None => "sh".to_owned(),
        };
        let command = p.value(&["c", "command", "session-command"]);
        if let Some(c) = command {
            match c {
                Some(Val::Lit(s)) => self.string(s, depth + 1)?,
                _ => return Err(Stop::Dynamic),
            }
        }
        // `su [-] [USER [ARG…]]`: the arguments go to the shell.
        let mut operands: &[&Field] = &p.operands;
        if matches!(operands.first().map(|f| &f.val), Some(Val::Lit(w)) if w == "-") {
            operands = &operands[1..];
        }
        if operands.len() > 1 {
            let args = owned(&operands[1..]);
            if SHELLS.contains(&shell.as_str()) {
                self.shell(&args, open_tail, stdin, depth)?;
            } else {
                return Err(Stop::Dynamic);
            }
        } else if open_tail {
            return Err(Stop::Dynamic);
        } else if command.is_none() {
            // No command: the shell reads standard input; another program
            // named by `-s` reads it as what it takes for code.
            if SHELLS.contains(&shell.as_str()) {
                return self.login_shell(open_tail, stdin, depth);
            }
            if stdin.is_some() || self.nested > 0 {
                return Err(Stop::Dynamic);
            }
        }
        Ok(())
    }

    fn xargs(&mut self, rest: &[Field], open_tail: bool, depth: usize) -> Step {
        let p = getopt(&getopt::XARGS, rest)?;
        // The variable each command gets its slot number in
        // (`--process-slot-var=GIT_CONFIG_GLOBAL git y` reads `./0`).
        if let Some(name) = p.value(&["process-slot-var"]) {
            name_is_safe(name.as_ref())?;
        }
        // `-I` and `-L`/`-l`/`-n` exclude each other: GNU xargs keeps the
        // last given (`xargs -I{} -L1 env <<< 'rm v'` appends the input to
        // `env`, confirmed).
        let appends = |n: &str| matches!(n, "L" | "l" | "n" | "max-lines" | "max-args");
        let replace = match p
            .opts
            .iter()
            .rev()
            .find(|(n, _)| matches!(n.as_str(), "I" | "i" | "replace") || appends(n))
        {
            Some((n, _)) if appends(n) => None,
            Some((_, Some(Val::Lit(r)))) => Some(r.clone()),
            Some((_, Some(Val::Unknown))) => return Err(Stop::Dynamic),
            Some((_, None)) => Some("{}".to_owned()),
            None => None,
        };
        let mut cmd = owned(&p.operands);
        if cmd.is_empty() {
            cmd.push(Field::lit("echo"));
        }
        if let Some(r) = &replace {
            // Input lines replace R anywhere in the command's words.
            for f in &mut cmd {
                if matches!(&f.val, Val::Lit(w) if !r.is_empty() && w.contains(r.as_str())) {
                    f.val = Val::Unknown;
                }
            }
        }
        // Without -I the input is appended to the command's words.
        self.run(&cmd, open_tail || replace.is_none(), None, depth)
    }

    fn find(&mut self, rest: &[Field], open_tail: bool, depth: usize) -> Step {
        if open_tail {
            return Err(Stop::Dynamic);
        }
        let mut i = 0;
        while i < rest.len() {
            let Val::Lit(w) = &rest[i].val else {
                // Any word may expand to `-exec …`.
                return Err(Stop::Dynamic);
            };
            i += 1;
            if !matches!(w.as_str(), "-exec" | "-execdir" | "-ok" | "-okdir") {
                continue;
            }
            // `{} +` ends `-exec` and `-execdir` only; `-ok` runs to `;`.
            let plus_ends = w.starts_with("-exec");
            let mut cmd = Vec::new();
            let mut closed = false;
            // The last word's value is `{}` (quoted or not: find sees the
            // value, `'{}' +` ends the command as `{} +` does).
            let mut last_braces = false;
            while i < rest.len() {
                let f = &rest[i];
                i += 1;
                match &f.val {
                    Val::Lit(t) if t == ";" => {
                        closed = true;
                        break;
                    }
                    Val::Lit(t) if t == "+" && last_braces && plus_ends => {
                        closed = true;
                        break;
                    }
                    Val::Lit(t) if t.contains("{}") => {
                        last_braces = t == "{}";
                        let mut f = f.clone();
                        f.val = Val::Unknown;
                        cmd.push(f);
                        continue;
                    }
                    _ => cmd.push(f.clone()),
                }
                last_braces = false;
            }
            if !closed {
                // find refuses it and runs nothing; an analysis that
                // guessed would be wrong either way.
                return Err(Stop::Dynamic);
            }
            self.run(&cmd, false, None, depth)?;
        }
        Ok(())
    }

    fn parallel(&mut self, rest: &[Field], open_tail: bool, depth: usize) -> Step {
        let p = getopt(&getopt::PARALLEL, rest)?;
        let template: Vec<&Field> = p
            .operands
            .iter()
            .take_while(|f| !matches!(&f.val, Val::Lit(w) if w.starts_with(":::")))
            .copied()
            .collect();
        let Some(first) = template.first() else {
            // The commands themselves come from input.
            return Err(Stop::Dynamic);
        };
        if matches!(&first.val, Val::Lit(w) if w.contains('{')) {
            return Err(Stop::Dynamic);
        }
        self.joined_script(&template, open_tail, depth)
    }
}

/// Whether a GNU long option `--NAME` (any unambiguous prefix of at least
/// three letters, `=VALUE` or not) is among the words, or an unknown word
/// that may be one.
fn has_long(rest: &[Field], name: &str) -> bool {
    // getopt_long takes any unique prefix, of one letter too (`split --f`
    // is `--filter` when nothing else starts with `f`); an ambiguous one is
    // refused and runs nothing, so every prefix is read as the option (an
    // exact name of another option that is a prefix needs
    // `has_long_prefix` with its length + 1, as `install --strip`).
    has_long_prefix(rest, name, 1)
}

/// Whether short options read as getopt reads them hold one of `bad`: in
/// a cluster, letters up to the first that takes a value (`value_letters`;
/// the rest of the word, or the next word, is its value: `prove -Ilib/e`
/// has no `-e`). A word of unknown value may be an option unless it is the
/// value of the option before it.
fn short_options_have(rest: &[Field], bad: &[char], value_letters: &str) -> bool {
    let mut value_next = false;
    rest.iter().any(|f| {
        if std::mem::take(&mut value_next) {
            return false;
        }
        match &f.val {
            Val::Lit(w) => {
                let Some(cluster) = w.strip_prefix('-').filter(|c| !c.starts_with('-')) else {
                    return false;
                };
                for (k, c) in cluster.char_indices() {
                    if bad.contains(&c) {
                        return true;
                    }
                    if value_letters.contains(c) {
                        value_next = k + c.len_utf8() == cluster.len();
                        return false;
                    }
                }
                false
            }
            Val::Unknown => !cannot_be_option(&f.raw),
        }
    })
}

/// OpenSSL words that load a library: an engine (`-engine`, `engine`,
/// `SO_PATH:`), a configuration (`-config`, `-conf`: its `providers` and
/// `engines` sections), a provider other than the built-in ones, a
/// provider path; a word of unknown value that may be one.
fn openssl_loads(rest: &[Field]) -> bool {
    const BUILT_IN: &[&str] = &["default", "legacy", "fips", "base", "null"];
    let mut provider_next = false;
    rest.iter().any(|f| {
        let w = match &f.val {
            Val::Lit(w) => w.as_str(),
            Val::Unknown => return provider_next || !cannot_be_option(&f.raw),
        };
        if std::mem::take(&mut provider_next) {
            return !BUILT_IN.contains(&w);
        }
        if w == "-provider" {
            provider_next = true;
            return false;
        }
        w.contains("engine")
            || w.contains("SO_PATH")
            || w.starts_with("-provider-path")
            || w.starts_with("-conf")
    })
}

/// `set -o` names under which bash rewrites what a later line says:
/// keyword mode, and history expansion (which needs history on).
const REWRITING_OPTIONS: &[&str] = &["keyword", "histexpand", "history"];

/// Whether a word of short options (`-x`, a cluster `-vx`, a value
/// attached after it `-xVALUE`) holds `letters` at some point: an
/// over-reading (a value letter after an option that takes one counts too),
/// for options that run a program. An unknown word may be one.
fn short_cluster_has(rest: &[Field], letters: &str) -> bool {
    rest.iter().any(|f| match &f.val {
        Val::Lit(w) => w
            .strip_prefix('-')
            .is_some_and(|c| !c.starts_with('-') && c.contains(letters)),
        Val::Unknown => !cannot_be_option(&f.raw),
    })
}

/// [`has_long`] over literal words only: for a program whose words of
/// unknown value [`short_options_have`] judges (it knows which of them are
/// an option's value: `wget -O "$out"`).
fn has_long_lit(rest: &[Field], name: &str) -> bool {
    rest.iter().any(|f| match &f.val {
        Val::Lit(_) => has_long(std::slice::from_ref(f), name),
        Val::Unknown => false,
    })
}

/// [`has_long`] for a reader that takes a prefix of at least `min` letters
/// (argp takes any unique one: `man --ht` is `--html`).
fn has_long_prefix(rest: &[Field], name: &str, min: usize) -> bool {
    rest.iter().any(|f| match &f.val {
        Val::Lit(w) => w.strip_prefix("--").is_some_and(|o| {
            let n = o.split_once('=').map_or(o, |(n, _)| n);
            n.len() >= min.max(1) && name.starts_with(n)
        }),
        Val::Unknown => !cannot_be_option(&f.raw),
    })
}

impl Analyzer {
    /// A word right before a redirection: `{name}` or `{name[i]}` there
    /// assigns a descriptor number to the variable, wherever the word
    /// stands, so the assignment checks apply (`: {PATH}>x; ls` searched
    /// `PATH=11`, `{BASH_ENV}>x`; a subscript is evaluated). Any other word
    /// passes.
    pub(super) fn descriptor_word(&mut self, raw: &str) -> Step {
        if !named_descriptor(raw) {
            return Ok(());
        }
        let inner = &raw[1..raw.len() - 1];
        let var = inner.split_once('[').map_or(inner, |(n, _)| n);
        if dangerous_var(var) || command_var(var) || super::option_var(var) {
            return Err(Stop::Dynamic);
        }
        self.name_with_subscript(inner)
    }
}

/// `{name}` (or `{name[…]}`): a descriptor variable when a redirection
/// follows it.
fn named_descriptor(raw: &str) -> bool {
    raw.strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .is_some_and(|inner| {
            let name = inner.split_once('[').map_or(inner, |(n, _)| n);
            is_identifier(name)
        })
}

/// A word quoted whole with double quotes (`"$x"`): one field, whatever
/// its value.
fn quoted_whole(raw: &str) -> bool {
    raw.len() >= 2
        && raw.starts_with('"')
        && raw.ends_with('"')
        && !raw[1..raw.len() - 1].contains('"')
}

/// A C compiler driver's word that makes it run or load a program of the
/// caller's choosing (each confirmed or from the manual): `-wrapper`, `-B`
/// (where `as`, `cc1`, `collect2`, `ld` are found: `gcc -B/tmp/x/ c.c`
/// ran `/tmp/x/as`), plugins (`-fplugin=`, the linker's `-plugin`),
/// spec files, response files (`@file`, also inside `-Wl,`/`-Xlinker`),
/// the linker's path (`--ld-path`, `-fuse-ld=` with a `/`), clang's
/// `-Xclang` (`-load`) and `--config`; a word of unknown value that may be
/// an option.
pub(super) fn compiler_runs(f: &Field) -> bool {
    let w = match &f.val {
        Val::Lit(w) => w.as_str(),
        Val::Unknown => return may_be_option_or_file(&f.raw),
    };
    w == "-wrapper"
        || w.starts_with('@')
        || (w.starts_with('-')
            && (w.starts_with("-B")
                // gcc's long spelling of `-B`.
                || w.starts_with("--prefix")
                || w.contains("plugin")
                || w.contains("specs")
                // A response file handed on (`-Wl,@f`, `--for-linker=@f`).
                || w.contains('@')
                || w.starts_with("--ld-path")
                || (w.starts_with("-fuse-ld=") && w.contains('/'))
                || w.starts_with("-Xclang")
                || w == "-cc1"
                || w.starts_with("-load")
                || w.starts_with("--load")
                || w.starts_with("--config")
                // Where clang finds its installation and a GCC toolchain,
                // and with them `as` and `ld` (`-ccc-install-dir`,
                // `-ccc-gcc-name`, `--gcc-toolchain`, `--gcc-install-dir`).
                || w.starts_with("-ccc-")
                || w.starts_with("--gcc-t")
                || w.starts_with("-gcc-t")
                || w.starts_with("--gcc-i")))
}

/// rustc's (and rustdoc's) words that run or load a program of the
/// caller's choosing: the linker, its arguments and the dlltool (`-C
/// linker=…`, `-Clink-arg=…`, `--codegen`; `rustc -C linker=/tmp/x x.rs`
/// ran `/tmp/x`), unstable `-Z` options, response files, crates given by
/// path, search path or sysroot (`--extern`, `-L`, `--sysroot`: a
/// procedural macro found there runs inside the compiler; confirmed for
/// `--sysroot`), a target spec file; rustdoc's doctests (`--test`, which
/// compile and run the workspace's code) and their runners; a word of
/// unknown value that may be an option.
pub(super) fn rustc_runs(rest: &[Field]) -> bool {
    // The option whose value the next word is (`C` or `target`).
    let mut value_of: Option<&str> = None;
    let runs_tool = |v: &str| v.contains("link") || v.contains("dlltool");
    let target_file = |v: &str| v.contains('/') || v.ends_with(".json");
    rest.iter().any(|f| {
        let w = match &f.val {
            Val::Lit(w) => w.as_str(),
            Val::Unknown => return value_of.is_some() || may_be_option_or_file(&f.raw),
        };
        match value_of.take() {
            Some("C") => return runs_tool(w),
            Some(_) => return target_file(w),
            None => {}
        }
        if w == "-C" || w == "--codegen" {
            value_of = Some("C");
            return false;
        }
        if w == "--target" {
            value_of = Some("target");
            return false;
        }
        // A cluster of short options (`-gC linker=…`, `-OClinker=…`):
        // `-L`, `-Z` in it, or a `-C` whose value runs a tool.
        if let Some(cluster) = w.strip_prefix('-').filter(|c| !c.starts_with('-')) {
            if cluster.contains(['L', 'Z']) {
                return true;
            }
            if let Some((_, value)) = cluster.split_once('C') {
                if value.is_empty() {
                    value_of = Some("C");
                    return false;
                }
                return runs_tool(value);
            }
        }
        // (Every word with one `-` was read as a cluster above.)
        w.starts_with('@')
            || w.starts_with("--extern")
            || w.starts_with("--sysroot")
            || w.starts_with("--test")
            || w.starts_with("--runtool")
            || w.starts_with("--persist-doctests")
            || w.strip_prefix("--target=").is_some_and(target_file)
            || (w.starts_with("--codegen") && runs_tool(w))
    })
}

/// `man`: a pager (`-P`, `--pager`), browser (`-H`, `--html`) or
/// configuration file (`-C`, `--config-file`: its `DEFINE pager` runs;
/// confirmed) option, in a cluster too, any prefix of the long names (man
/// reads options with argp: `--ht` is `--html`), or a word of unknown
/// value that may be one.
fn man_runs(rest: &[Field]) -> bool {
    ["pager", "html", "config-file"]
        .iter()
        .any(|name| has_long_prefix(rest, name, 1))
        || rest.iter().any(|f| {
            matches!(&f.val, Val::Lit(w) if w.len() > 1
                && w.starts_with('-')
                && !w.starts_with("--")
                && w.contains(['P', 'H', 'C']))
        })
}

/// The command lines rsync runs for its remote shell: each shell it is
/// given (`-e`, `--rsh`) as rsync runs it, with `[-l USER] HOST
/// RSYNC_PATH --server …` after it for every remote operand (`[USER@]HOST:`,
/// `rsync://[USER@]HOST`) — `-e 'bash -c'` makes the user or host a script,
/// `-e env` the host a program. Words are put in single quotes (rsync
/// passes them as arguments, not through a shell).
fn rsync_remote_lines(rest: &[Field]) -> Result<Vec<String>, Stop> {
    let quote = |w: &str| format!("'{}'", w.replace('\'', "'\\''"));
    fn literal(f: &Field) -> Option<&str> {
        match &f.val {
            Val::Lit(w) => Some(w.as_str()),
            Val::Unknown => None,
        }
    }
    // The remote side's program (`--rsync-path`, last one given).
    let mut rsync_path = Some("rsync");
    for (i, f) in rest.iter().enumerate() {
        match literal(f) {
            Some("--rsync-path") => rsync_path = rest.get(i + 1).and_then(literal),
            Some(w) => {
                if let Some(v) = w.strip_prefix("--rsync-path=") {
                    rsync_path = Some(v);
                }
            }
            None => {}
        }
    }
    // `[USER@]HOST` of each remote operand (the last `@` ends the user).
    let remotes: Vec<(Option<&str>, &str)> = rest
        .iter()
        .filter_map(literal)
        .filter(|w| !w.starts_with('-'))
        .filter_map(|w| match w.strip_prefix("rsync://") {
            Some(url) => Some(url.split(['/', ':']).next().unwrap_or(url)),
            None => w.split_once(':').map(|(h, _)| h),
        })
        .map(|h| match h.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, h),
        })
        .collect();
    let mut lines = Vec::new();
    for shell in rsync_shells(rest)? {
        let Val::Lit(shell) = shell else {
            return Err(Stop::Dynamic);
        };
        if remotes.is_empty() {
            lines.push(shell);
            continue;
        }
        // An unknown `--rsync-path` matters only here.
        let rsync_path = rsync_path.ok_or(Stop::Dynamic)?;
        for (user, host) in &remotes {
            let user = user.map_or(String::new(), |u| format!("-l {} ", quote(u)));
            lines.push(format!(
                "{shell} {user}{} {} --server",
                quote(host),
                quote(rsync_path)
            ));
        }
    }
    Ok(lines)
}

/// The remote shells rsync is given (`-e X`, `-eX`, in a cluster as
/// `-avze X`; `--rsh=X`, `--rsh X`), to be read as command lines. A word
/// of unknown value that may be an option: dynamic.
fn rsync_shells(rest: &[Field]) -> Result<Vec<Val>, Stop> {
    // Short options whose value follows (the `e` after one is its value).
    const VALUE_LETTERS: &[char] = &['B', 'f', 'T', 'M', '@'];
    let mut shells = Vec::new();
    let mut i = 0;
    while let Some(f) = rest.get(i) {
        i += 1;
        let w = match &f.val {
            Val::Lit(w) => w.as_str(),
            Val::Unknown if cannot_be_option(&f.raw) => continue,
            Val::Unknown => return Err(Stop::Dynamic),
        };
        // popt takes a value-taking option's next word whatever it is,
        // `--` too (`--exclude -- -e CMD`): `--` ends nothing here, and the
        // words after it are read as options as well (a file named `-e…`
        // is over-read, never under-read).
        if w == "--" {
            continue;
        }
        if let Some(long) = w.strip_prefix("--") {
            if let Some(value) = long
                .strip_prefix("rsh")
                .filter(|v| v.is_empty() || v.starts_with('='))
            {
                match value.strip_prefix('=') {
                    Some(v) => shells.push(Val::Lit(v.to_owned())),
                    None => {
                        shells.push(rest.get(i).ok_or(Stop::Dynamic)?.val.clone());
                        i += 1;
                    }
                }
            }
            continue;
        }
        let Some(cluster) = w.strip_prefix('-') else {
            continue;
        };
        for (k, c) in cluster.char_indices() {
            if VALUE_LETTERS.contains(&c) {
                break;
            }
            if c == 'e' {
                // popt skips one `=` after the letter (`-e=rm` is `rm`).
                let attached = &cluster[k + 1..];
                let attached = attached.strip_prefix('=').unwrap_or(attached);
                if attached.is_empty() {
                    shells.push(rest.get(i).ok_or(Stop::Dynamic)?.val.clone());
                    i += 1;
                } else {
                    shells.push(Val::Lit(attached.to_owned()));
                }
                break;
            }
        }
    }
    Ok(shells)
}

/// The command lines `ssh`/`scp` run locally from `-o` options
/// (`ProxyCommand`, `LocalCommand`, `KnownHostsCommand`, keys in any case,
/// `=` or spaces before the value). Dynamic: a configuration file (`-F`),
/// a PKCS#11 library (`-I`, `PKCS11Provider`), a security-key provider,
/// scp's program (`-S`) and local SFTP server (`-D`), and an option of
/// unknown value. `ssh` reads its options again after the destination.
fn ssh_commands(prog: &str, rest: &[Field]) -> Result<Vec<Val>, Stop> {
    let is_ssh = prog != "scp";
    let spec = if is_ssh { &getopt::SSH } else { &getopt::SCP };
    let p = getopt(spec, rest)?;
    let mut opts = p.opts.clone();
    if is_ssh && p.operands.len() > 1 {
        let after = owned(&p.operands[1..]);
        opts.extend(getopt(spec, &after)?.opts);
    }
    // What ssh puts in a command's `%` tokens: the destination's host and
    // user, the port (scp's come from each operand: not read here).
    let last = |n: &str| match opts.iter().rev().find(|(o, _)| o == n) {
        Some((_, Some(Val::Lit(v)))) => Some(v.as_str()),
        _ => None,
    };
    let destination = match p.operands.first().map(|f| &f.val) {
        Some(Val::Lit(d)) if is_ssh => Some(d.as_str()),
        _ => None,
    };
    let (dest_user, host) = match destination.map(|d| d.rsplit_once('@')) {
        Some(Some((u, h))) => (Some(u), Some(h)),
        Some(None) => (None, destination),
        None => (None, None),
    };
    // ssh keeps the first user it reads, in the order of its words: a `-l`
    // before the destination, else the destination's `user@`, else a `-l`
    // after it (`ssh rm@x -l ls` is user `rm`).
    let first_l = |opts: &[(String, Option<Val>)]| match opts.iter().find(|(o, _)| o == "l") {
        Some((_, Some(Val::Lit(v)))) => Some(v.clone()),
        _ => None,
    };
    let user = first_l(&p.opts)
        .or(dest_user.map(str::to_owned))
        .or_else(|| first_l(&opts));
    let user = user.as_deref();
    let port = last("p").unwrap_or("22");
    // `-o HostName=`, `User=`, `Port=` change what `%h`, `%r`, `%p` are:
    // then the tokens are not known.
    let renamed = opts.iter().any(|(o, v)| {
        o == "o"
            && matches!(v, Some(Val::Lit(v)) if ssh_option(v).is_some_and(|(k, _)| matches!(k.as_str(), "hostname" | "user" | "port")))
    });
    // ssh writes the host lower-cased; a host or user with characters a
    // shell reads (ssh's checks let `&`, `$`, `{` through) is not judged.
    let plain = |v: &str| {
        v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    };
    let host_l = host.map(str::to_ascii_lowercase);
    let (host, user) = if renamed {
        (None, None)
    } else {
        (
            host_l.as_deref().filter(|h| plain(h)),
            user.filter(|u| plain(u)),
        )
    };
    // A jump host is put into a command ssh runs (`ssh -W … JUMP`),
    // unquoted: only a plain host list is judged.
    let jump_plain = |v: &str| {
        v.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | ':' | ',' | '[' | ']')
        })
    };
    let mut commands = Vec::new();
    for (name, value) in &opts {
        match (name.as_str(), value) {
            ("F" | "I", _) => return Err(Stop::Dynamic),
            ("J", Some(Val::Lit(j))) if jump_plain(j) => {}
            ("J", _) => return Err(Stop::Dynamic),
            ("S" | "D", _) if !is_ssh => return Err(Stop::Dynamic),
            ("o", Some(Val::Lit(o))) => match ssh_option(o) {
                None => return Err(Stop::Dynamic),
                Some((key, value)) => match key.as_str() {
                    "proxycommand" | "localcommand" | "knownhostscommand" => {
                        commands.push(Val::Lit(ssh_tokens(value, host, user, port)?));
                    }
                    "proxyjump" if !jump_plain(value) => return Err(Stop::Dynamic),
                    "pkcs11provider"
                    | "smartcarddevice"
                    | "securitykeyprovider"
                    | "xauthlocation" => return Err(Stop::Dynamic),
                    _ => {}
                },
            },
            ("o", _) => return Err(Stop::Dynamic),
            _ => {}
        }
    }
    Ok(commands)
}

/// A command of ssh's with its `%` tokens replaced as ssh replaces them
/// (`%h`, `%n`: the host; `%r`: the user; `%p`: the port; `%%`: `%`): the
/// host is the program in `ProxyCommand=%h x` (`ssh -o … touch` ran
/// `touch`). Any other token, or one whose value is not known: dynamic.
fn ssh_tokens(
    value: &str,
    host: Option<&str>,
    user: Option<&str>,
    port: &str,
) -> Result<String, Stop> {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let with = match chars.next() {
            Some('%') => "%",
            Some('h' | 'n') => host.ok_or(Stop::Dynamic)?,
            Some('r') => user.ok_or(Stop::Dynamic)?,
            Some('p') => port,
            _ => return Err(Stop::Dynamic),
        };
        out.push_str(with);
    }
    Ok(out)
}

/// An ssh `-o` option as OpenSSH reads a configuration line: leading
/// blanks and `=` skipped, the keyword (quoted or not) up to a blank or
/// `=`, then every blank and `=` before the value. `None` when the keyword
/// is not a plain word (the reading is not sure).
fn ssh_option(o: &str) -> Option<(String, &str)> {
    let blank_or_eq = |c: char| c == '=' || c.is_ascii_whitespace();
    let o = o.trim_start_matches(blank_or_eq);
    let (key, rest) = match o.strip_prefix('"') {
        Some(q) => q.split_once('"')?,
        None => o.split_at(o.find(blank_or_eq).unwrap_or(o.len())),
    };
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some((
        key.to_ascii_lowercase(),
        rest.trim_start_matches(blank_or_eq),
    ))
}

/// A word of unknown value that may be an option or a response file
/// (`"@$f"`: compilers read options from it).
fn may_be_option_or_file(raw: &str) -> bool {
    !cannot_be_option(raw) || raw.trim_start_matches(['"', '\'']).starts_with('@')
}

/// C compiler drivers (`-wrapper` runs a program around each pass).
fn compiler(prog: &str) -> bool {
    prog.starts_with("gcc")
        || prog.starts_with("g++")
        || prog.starts_with("cpp")
        || matches!(prog, "cc" | "c++" | "c89" | "c99" | "cc1" | "cc1plus" | "cc1obj")
        || prog.contains("clang")
        // Cross and versioned drivers: `x86_64-linux-gnu-gcc-12`.
        || prog.contains("-gcc")
        || prog.contains("-g++")
        || prog.contains("-cpp")
}

/// The linker and the binutils that load a plugin library (`-plugin`,
/// `--plugin`).
fn plugin_loader(p: &str) -> bool {
    p == "ld"
        || p.starts_with("ld.")
        || p.ends_with("-ld")
        || matches!(
            p,
            "nm" | "ar" | "ranlib" | "gcc-nm" | "gcc-ar" | "gcc-ranlib"
        )
}

/// cargo's words that choose a program it runs: `--config` (a key such as
/// `build.rustc-wrapper`, or a file of them), unstable `-Z` flags, a target
/// spec file (`--target x.json`: it names the linker), a toolchain folder
/// (`+/tmp/tc`), and `cargo rustc`/`cargo rustdoc`'s words after `--`,
/// which go to rustc as they are ([`rustc_runs`]); a word of unknown value
/// that may be one of these options.
pub(super) fn cargo_runs(rest: &[Field]) -> bool {
    let mut target_next = false;
    for (i, f) in rest.iter().enumerate() {
        let w = match &f.val {
            Val::Lit(w) => w.as_str(),
            Val::Unknown => {
                if target_next || may_be_option_or_file(&f.raw) {
                    return true;
                }
                continue;
            }
        };
        if std::mem::take(&mut target_next) {
            if w.contains('/') || w.ends_with(".json") {
                return true;
            }
            continue;
        }
        if w == "--" {
            // Whatever the words before (a global option's value may look
            // like a subcommand), `rustc`/`rustdoc` among them hand the
            // rest to the compiler.
            let compiler = rest[..i]
                .iter()
                .any(|f| matches!(&f.val, Val::Lit(w) if w == "rustc" || w == "rustdoc"));
            return compiler && rustc_runs(&rest[i + 1..]);
        }
        if w.starts_with("--config")
            // `-Z` alone or in a cluster of short options (`-vZflag`).
            || (w.starts_with('-') && !w.starts_with("--") && w.contains('Z'))
            || (w.starts_with('+') && w.contains('/'))
            || w
                .strip_prefix("--target=")
                .is_some_and(|t| t.contains('/') || t.ends_with(".json"))
        {
            return true;
        }
        target_next = w == "--target";
    }
    false
}

/// Programs the plain-line reader leaves to the grammar's path, where
/// their options are judged ([`Analyzer::run`]).
pub(super) fn judged_options(prog: &str) -> bool {
    prog.starts_with("git-")
        || plugin_loader(prog)
        || compiler(prog)
        || loader(prog)
        || matches!(
            prog,
            "rustc"
                | "rustdoc"
                | "cargo"
                | "wget"
                | "gpg"
                | "gpg2"
                | "gpgsm"
                | "gpgconf"
                | "gpg-connect-agent"
                | "openssl"
                | "ssh-keygen"
                | "groff"
                | "nroff"
                | "troff"
                | "grog"
                | "less"
                | "rg"
                | "man"
                | "rsync"
                | "ssh"
                | "slogin"
                | "scp"
                | "sftp"
                | "install"
                | "ginstall"
                | "sort"
                | "gsort"
                | "split"
                | "gsplit"
                | "sdiff"
                | "diff3"
                | "zip"
                | "prove"
                | "sqlite3"
                | "ssh-agent"
                | "gpg-agent"
                | "choom"
                | "logsave"
                | "dpkg-architecture"
                | "uclampset"
        )
}

/// The dynamic loader's names (`ld-linux-x86-64.so.2`, `ld.so`, …).
pub(super) fn loader(prog: &str) -> bool {
    prog.starts_with("ld-linux") || prog.starts_with("ld.so") || prog.starts_with("ld64.so")
}

/// Programs the plain-line reader hands to [`plain_check`] with their
/// words (they are common in plain lines, so not left to the grammar).
pub(super) const PLAIN_CHECKED: &[&str] = &["git", "make", "gmake", "tar", "gtar", "bsdtar"];

/// The checks `run` makes of a [`PLAIN_CHECKED`] program's words.
pub(super) fn plain_check(prog: &str, rest: &[Field]) -> Step {
    match prog {
        // Commands to read: the grammar's path reads them.
        "git" => match git(rest, false)?.is_empty() {
            true => Ok(()),
            false => Err(Stop::Dynamic),
        },
        // Command variables are reported by the grammar's path.
        "make" | "gmake" if make_command_vars(rest).next().is_some() => Err(Stop::Dynamic),
        "make" | "gmake" => make(rest),
        // Commands to read: the grammar's path reads them.
        _ => match tar(rest)?.is_empty() {
            true => Ok(()),
            false => Err(Stop::Dynamic),
        },
    }
}

/// `make`: `--eval=TEXT` / `-E TEXT` is makefile text whose recipes run,
/// and `SHELL=` / `.SHELLFLAGS=` / `MAKEFLAGS=` on the command line choose
/// what runs the recipes: dynamic (`make --eval=$'x:\n\trm v' x` runs `rm`).
pub(super) fn make(rest: &[Field]) -> Step {
    // Short options with a required value (`-j`, `-l`, `-O` take theirs
    // attached only: a separate word stays a word of its own).
    const VALUE_LETTERS: &[char] = &['C', 'f', 'I', 'o', 'W', 'E'];
    // Every short option of GNU make 4.4.
    const GNU_LETTERS: &str = "bBCdeEfhiIjklLmnoOpqrRsStvwW";
    // The option whose value the next word is (`f` for a makefile).
    let mut value_of: Option<char> = None;
    // After `--` every word is a target or an assignment (GNU make still
    // reads `NAME=value` there: `make -- 'X:=$(shell rm v)'` runs `rm`).
    let mut operands_only = false;
    for f in rest {
        let owner = value_of.take();
        let w = match &f.val {
            // BSD make expands `$` in option values GNU make has no such
            // option for (`-V '${:!rm v!}'` runs `rm`), and takes no value
            // for `-W`, reading the next word as its own option.
            Val::Lit(w) if w.contains('$') || (owner == Some('W') && w.starts_with('-')) => {
                return Err(Stop::Dynamic)
            }
            Val::Lit(w) => w,
            Val::Unknown => {
                // An unknown word may be `--eval=…` or `-`, unless it is a
                // value of an option that only reads it, cannot start with
                // `-`, or is attached to such an option (`-j"$(nproc)"`).
                // Where an operand may stand it may be an assignment
                // (`"CC=rm$u"`, `"$T"` holding `CC=rm`), before `--` or
                // after: make reads `NAME=value` words as assignments.
                let ok = matches!(owner, Some(c) if c != 'f' && c != 'E')
                    || (!operands_only
                        && attached_value(
                            &f.raw,
                            &['E', 'f'],
                            &['C', 'I', 'o', 'W', 'j', 'l', 'O'],
                        ));
                if !ok {
                    return Err(Stop::Dynamic);
                }
                continue;
            }
        };
        if let Some(c) = owner {
            if c == 'f' && makefile_from_input(w) {
                return Err(Stop::Dynamic);
            }
            continue;
        }
        if !operands_only && w == "--" {
            operands_only = true;
            continue;
        }
        if operands_only {
            make_operand(w)?;
            continue;
        }
        if let Some(long) = w.strip_prefix("--") {
            let (given, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            // getopt_long takes any unambiguous prefix (`--fil -`, `--ev=`).
            let (name, kind) = getopt::long_kind(&getopt::MAKE, given)?;
            match (name, kind, value) {
                ("eval", ..) => return Err(Stop::Dynamic),
                ("file" | "makefile" | "temp-stdin", _, Some(v)) if makefile_from_input(v) => {
                    return Err(Stop::Dynamic)
                }
                ("file" | "makefile" | "temp-stdin", _, None) => value_of = Some('f'),
                (_, getopt::Kind::Arg, None) => value_of = Some('C'),
                (_, getopt::Kind::Flag, Some(_)) => return Err(Stop::Dynamic),
                _ => {}
            }
            continue;
        }
        if let Some(short) = w.strip_prefix('-') {
            if short.is_empty() {
                // `-` alone: a makefile name only after `-f`.
                continue;
            }
            for (k, c) in short.char_indices() {
                // GNU make's letters only: another make may read any
                // other one (BSD make's `-V`, `-D`, `-T`) differently.
                if c == 'E' || !GNU_LETTERS.contains(c) {
                    return Err(Stop::Dynamic);
                }
                if matches!(c, 'j' | 'l' | 'O') {
                    break;
                }
                if VALUE_LETTERS.contains(&c) {
                    let attached = &short[k + c.len_utf8()..];
                    if attached.is_empty() {
                        value_of = Some(c);
                    } else if c == 'f' && makefile_from_input(attached) {
                        return Err(Stop::Dynamic);
                    }
                    break;
                }
            }
            continue;
        }
        make_operand(w)?;
    }
    Ok(())
}

/// A target or a `NAME=value` assignment on make's command line.
fn make_operand(w: &str) -> Step {
    // `NAME != CMD` runs CMD in the shell as it is read, and a name is
    // expanded (`'$(shell rm v)X=1'`, `'CC$()=rm'` is `CC=rm`).
    if w.split_once('=')
        .is_some_and(|(name, _)| name.trim_end().ends_with('!') || name.contains(['$', '`']))
    {
        return Err(Stop::Dynamic);
    }
    let Some((name, value)) = make_assignment(w) else {
        // A target: built-in rules put it in their recipes (`echo >
        // 'a;rm v;.sh'; make 'a;rm v;'` runs `cat a;rm v;.sh >a;rm v;`,
        // confirmed).
        if w.contains(super::SHELL_OPERATORS) {
            return Err(Stop::Dynamic);
        }
        return Ok(());
    };
    // A make function (`$(shell rm v)`) in a value runs when the
    // variable is used; an operator ends the command of a recipe that
    // uses it (`make f MSG=';rm v'`).
    // make exports its command line's variables to the recipes:
    // `make PATH=/tmp/x:/usr/bin test`, `make CROSS_COMPILE=/tmp/x/`
    // and `make CFLAGS=-B/tmp/x/` choose what they run, as the same
    // assignments before `make` do.
    if matches!(
        name,
        ".SHELLFLAGS" | "MAKEFLAGS" | "MFLAGS" | "GNUMAKEFLAGS"
    ) || value.contains(super::SHELL_OPERATORS)
        || dangerous_var(name)
        || (option_var(name) && option_value_runs(name, value))
    {
        return Err(Stop::Dynamic);
    }
    Ok(())
}

/// Whether a makefile name may be standard input or another descriptor:
/// `-` (make reads its standard input), or a path [`may_be_descriptor`]
/// finds. A here-document or a pipe on the same line is then makefile
/// text (`make -f /dev/stdin <<< '$(shell rm v)'` runs `rm`, confirmed).
/// A makefile name with a shell operator is dynamic too: make tries to
/// remake its makefiles, and a built-in rule's recipe holds the name
/// (`%: %.sh` runs `cat NAME.sh >NAME`).
fn makefile_from_input(v: &str) -> bool {
    v == "-" || may_be_descriptor(v) || v.contains(super::SHELL_OPERATORS)
}

/// Whether a file name a program opens may be one of its descriptors (its
/// standard input: a here-document or a pipe on the line, or the caller's
/// input) rather than a file: a path into `/dev` (other than `/dev/null`)
/// or `/proc`, or an absolute path that climbs (`/x/../dev/stdin`; the
/// kernel resolves `..` after symlinks). A relative path depends on where
/// the line's `cd` went: one that starts in a descriptor's folder (`fd/0`
/// from `/dev`, `self/fd/0` from `/proc`, a number from `/dev/fd` or
/// `/proc`) or ends in a descriptor's name (`stdin`, `root/dev/stdin` from
/// `/proc/self`, `../stdin`, a number). `bash /dev/stdin <<< 'rm v'`, `cd
/// /dev && . stdin <<< 'rm v'` and `make -f fd/0` read the line's input as
/// code (confirmed).
fn may_be_descriptor(path: &str) -> bool {
    const FOLDERS: &[&str] = &["dev", "proc", "fd", "self", "thread-self", "pts"];
    const FILES: &[&str] = &["stdin", "stdout", "stderr", "tty", "console", "environ"];
    let number = |c: &str| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit());
    let mut parts = path.split('/').filter(|c| !c.is_empty() && *c != ".");
    let first = parts.clone().next().unwrap_or("");
    if path.starts_with('/') {
        if parts.clone().any(|c| c == "..") {
            return true;
        }
        return match first {
            "dev" => !matches!((parts.nth(1), parts.next()), (Some("null"), None)),
            "proc" => true,
            _ => false,
        };
    }
    let last = parts.next_back().unwrap_or("");
    FOLDERS.contains(&first) || number(first) || FILES.contains(&last) || number(last)
}

/// A `NAME=value` word of make's command line (also `NAME:=`, `+=`,
/// `?=`, `!=`): the name and the value.
fn make_assignment(w: &str) -> Option<(&str, &str)> {
    if w.starts_with('-') {
        return None;
    }
    let (name, value) = w.split_once('=')?;
    Some((name.trim_end_matches([':', '+', '?', '!']).trim(), value))
}

/// Make's command-line assignments of variables that name programs
/// ([`command_var`]: `CC`, `RM`, `*_COMMAND`, …), whose values the
/// recipes run.
fn make_command_vars(rest: &[Field]) -> impl Iterator<Item = (&str, &str)> {
    rest.iter().filter_map(|f| match &f.val {
        Val::Lit(w) => make_assignment(w).filter(|(name, _)| command_var(name)),
        Val::Unknown => None,
    })
}

/// Configuration keys `git -c` (or `git config`, `git clone -c`) may set
/// without running anything (lower case; a trailing `.` is a section
/// prefix). Every other key may name a command (`alias.x=!rm v`,
/// `core.pager`, `core.sshCommand`, `core.fsmonitor`, `diff.external`,
/// hooks, filters, credential helpers, `include.path`, …) and is dynamic.
const GIT_SAFE_CONFIG: &[&str] = &[
    "user.name",
    "user.email",
    "user.signingkey",
    "author.",
    "committer.",
    "color.",
    "advice.",
    "init.defaultbranch",
    "core.quotepath",
    "core.autocrlf",
    "core.safecrlf",
    "core.filemode",
    "core.longpaths",
    "core.ignorecase",
    "core.symlinks",
    "core.abbrev",
    "commit.gpgsign",
    "tag.gpgsign",
    "pull.rebase",
    "pull.ff",
    "merge.ff",
    "merge.conflictstyle",
    "rebase.autosquash",
    "rebase.autostash",
    "rebase.updaterefs",
    "fetch.prune",
    "fetch.parallel",
    "fetch.recursesubmodules",
    "push.default",
    "push.autosetupremote",
    "safe.directory",
    "log.showsignature",
    "diff.noprefix",
    "diff.renames",
    "status.short",
    "protocol.version",
    "protocol.file.allow",
    "http.sslverify",
    "http.postbuffer",
    "http.extraheader",
    "http.version",
    "submodule.recurse",
    "checkout.defaultremote",
];

/// Configuration keys whose value is a command line git runs through the
/// shell: read as one (`git -c core.pager=cat log` runs `cat`).
const GIT_COMMAND_CONFIG: &[&str] = &[
    "core.pager",
    "core.editor",
    "core.sshcommand",
    "core.askpass",
    "sequence.editor",
    "diff.external",
    "gpg.program",
];

/// A `-c` setting's command, when its key is a [`GIT_COMMAND_CONFIG`] one
/// (`pager.<cmd>` too, unless its value is a boolean).
fn git_command_setting(setting: &str) -> Option<&str> {
    let (key, value) = setting.split_once('=')?;
    let key = key.to_ascii_lowercase();
    let boolean = matches!(
        value.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "1" | "0" | ""
    );
    (GIT_COMMAND_CONFIG.contains(&key.as_str()) || (key.starts_with("pager.") && !boolean))
        .then_some(value)
}

fn value_is(setting: &str, value: &str) -> bool {
    setting.split_once('=').is_some_and(|(_, v)| v == value)
}

fn git_key_is_safe(setting: &str) -> bool {
    let key = setting
        .split_once('=')
        .map_or(setting, |(k, _)| k)
        .to_ascii_lowercase();
    // `credential.helper=` (empty) clears the helpers: nothing runs.
    if key == "credential.helper" && setting.ends_with('=') {
        return true;
    }
    // No hooks at all.
    if key == "core.hookspath" && value_is(setting, "/dev/null") {
        return true;
    }
    // `pager.<cmd>=false` turns a pager off.
    let value = setting
        .split_once('=')
        .map_or("", |(_, v)| v)
        .to_ascii_lowercase();
    if key.starts_with("pager.") && matches!(value.as_str(), "false" | "no" | "off" | "0") {
        return true;
    }
    GIT_SAFE_CONFIG.iter().any(|s| {
        if s.ends_with('.') {
            key.starts_with(s)
        } else {
            key == *s
        }
    })
}

/// Options of git subcommands whose value is a command git runs (or a
/// directory of hooks): `rebase -x`, `difftool -x`, `grep -O`,
/// `--upload-pack`, `--receive-pack`, `push`/`archive --exec`,
/// `clone`/`init --template`, `send-email --*-cmd`.
fn git_option_runs(sub: &str, w: &str) -> bool {
    let long = |names: &[&str]| {
        w.strip_prefix("--").is_some_and(|o| {
            let name = o.split_once('=').map_or(o, |(n, _)| n);
            // git takes any unambiguous prefix (`--ex`, `--up=`, `--e=`).
            !name.is_empty() && names.iter().any(|n| n.starts_with(name))
        })
    };
    let short = |c: char| w.starts_with('-') && !w.starts_with("--") && w[1..].contains(c);
    match sub {
        "rebase" => long(&["exec"]) || short('x'),
        // `--tool`/`-t` names the file its helper sources (`../../x`).
        "difftool" => long(&["extcmd", "tool"]) || short('x') || short('t'),
        "mergetool" => long(&["tool"]) || short('t'),
        "grep" => long(&["open-files-in-pager"]) || short('O'),
        "clone" => long(&["upload-pack", "template"]) || short('u'),
        "init" => long(&["template"]),
        "fetch" | "pull" | "ls-remote" | "fetch-pack" => long(&["upload-pack", "exec"]),
        "push" | "send-pack" => long(&["receive-pack", "exec"]),
        "archive" => long(&["exec"]),
        "send-email" => {
            w.starts_with("--") && w.split_once('=').map_or(w, |(n, _)| n).ends_with("cmd")
        }
        _ => false,
    }
}

/// git subcommands with options that run a command ([`git_option_runs`])
/// or that run one themselves: an unknown word there may be such an option.
const GIT_RISKY: &[&str] = &[
    "rebase",
    "difftool",
    "mergetool",
    "grep",
    "clone",
    "init",
    "fetch",
    "pull",
    "ls-remote",
    "fetch-pack",
    "push",
    "send-pack",
    "archive",
    "send-email",
    "config",
    "bisect",
    "submodule",
    "filter-branch",
    "filter-repo",
];

/// Whether a word's value cannot start with `-` whatever its expansions
/// give: it is quoted whole (one field: no word splitting, no pattern)
/// and starts with a literal character other than `-` (`"feature/$T"`,
/// `"v$VERSION"`, `"backup-$(date +%F).tar"`). An unquoted word may split
/// into more words (`f$y`, `y=' --to-command=rm'`) or match files named
/// like options (`@(--u*)`).
fn cannot_be_option(raw: &str) -> bool {
    quoted_whole(raw)
        && raw[1..].chars().next().is_some_and(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '/' | '.' | '_' | ':' | '@' | '+' | ',' | '%' | '=')
        })
}

/// `exec -a NAME` / `env -a NAME` (`--argv0`) run the program with NAME as
/// its `argv[0]`, on which multi-call programs choose what they do (`exec -a
/// git-rebase git -x CMD HEAD~1` is `git rebase -x CMD`, confirmed; busybox
/// runs the applet NAME): dynamic unless NAME is the program's own name.
fn same_argv0(p: &Parsed<'_>, cmd: &[&Field]) -> Step {
    let Some(name) = p.value(&["a", "argv0"]) else {
        return Ok(());
    };
    match (name, cmd.first().map(|f| &f.val)) {
        (Some(Val::Lit(n)), Some(Val::Lit(prog))) if basename(n) == basename(prog) => Ok(()),
        _ => Err(Stop::Dynamic),
    }
}

/// Whether an unknown word is a cluster of short options whose expansion
/// is the value of one of them (`-f"$OUT"`, `-j"$(nproc)"`): its literal
/// letters hold none of `forbidden` and end with (or pass through) a
/// letter of `takes_value`, whose value is the rest of the word. A cluster
/// whose expansion comes after letters that take no value would continue
/// the cluster (`-x"$y"` with `y=Irm`).
fn attached_value(raw: &str, forbidden: &[char], takes_value: &[char]) -> bool {
    let Some(r) = raw.strip_prefix('-') else {
        return false;
    };
    if r.starts_with('-') {
        return false;
    }
    for c in r.chars() {
        if forbidden.contains(&c) {
            return false;
        }
        if takes_value.contains(&c) {
            return true;
        }
        if !c.is_ascii_alphanumeric() {
            return false;
        }
    }
    false
}

/// The value-taking letters of GNU tar's short options (`-I`, `-F` run
/// commands and are judged apart).
const TAR_VALUE_LETTERS: &[char] = &[
    'f', 'C', 'T', 'X', 'g', 'N', 'V', 'K', 'L', 'b', 'H', 'I', 'F',
];

/// The value-taking letters of bsdtar's (libarchive's) short options. Its
/// `-H`, `-L` take no value (`tar -cf x -H --use-compress-program=rm .`
/// runs `rm` in bsdtar, confirmed), its `-s` takes one: a word is taken as
/// an option's value only when both readings take it so.
const BSDTAR_VALUE_LETTERS: &[char] = &['b', 'C', 'f', 'I', 's', 'T', 'X'];

/// Whether a short cluster leaves the next word as its option's value in
/// GNU tar's reading and in bsdtar's.
fn tar_cluster_takes_next(short: &str) -> bool {
    cluster_takes_next(short, TAR_VALUE_LETTERS) && cluster_takes_next(short, BSDTAR_VALUE_LETTERS)
}

/// Whether a short cluster (without its `-`) leaves the next word as the
/// value of its option: its first value-taking letter is its last.
fn cluster_takes_next(short: &str, takes_value: &[char]) -> bool {
    match short.find(|c| takes_value.contains(&c)) {
        Some(k) => k + 1 == short.len(),
        None => false,
    }
}

/// `git`: global options (before the subcommand) and the subcommand's.
/// Dynamic: a `-c KEY=VALUE` whose key may name a command, `--config-env`
/// (a value from the environment), `--exec-path` (where subcommands are
/// found), `--git-dir` (as `GIT_DIR`); subcommands that run a command they are given (`bisect run`,
/// `submodule foreach`, `filter-branch`), their options that do
/// ([`git_option_runs`]), `config` writing a key outside the safe list (a
/// later `git x` runs its alias), `clone -c` likewise; unknown words, and
/// words from input (`xargs git`) except for subcommands that take only
/// paths and revisions. (`git -c alias.x='!rm v' x` and `git rebase -x
/// 'rm v'` run `rm`; confirmed in bash.)
pub(super) fn git(rest: &[Field], open_tail: bool) -> Result<Vec<String>, Stop> {
    let mut commands = Vec::new();
    let mut i = 0;
    let mut sub = None;
    while let Some(f) = rest.get(i) {
        let Val::Lit(w) = &f.val else {
            return Err(Stop::Dynamic);
        };
        let config = if w == "-c" {
            i += 1;
            match rest.get(i).map(|f| &f.val) {
                Some(Val::Lit(c)) => Some(c.as_str()),
                Some(Val::Unknown) => return Err(Stop::Dynamic),
                None => break,
            }
        } else {
            w.strip_prefix("-c")
        };
        if let Some(c) = config {
            if let Some(cmd) = git_command_setting(c) {
                commands.push(cmd.to_owned());
            } else if !git_key_is_safe(c) {
                return Err(Stop::Dynamic);
            }
        } else if w.starts_with("--config-env")
            || w.starts_with("--exec-path")
            // A repository named outright (as `GIT_DIR` does): its
            // configuration and hooks are whatever was written there.
            || w == "--git-dir"
            || w.starts_with("--git-dir=")
        {
            return Err(Stop::Dynamic);
        } else if w == "-C" || GIT_GLOBAL_VALUE.contains(&w.as_str()) {
            i += 1;
        } else if !w.starts_with('-') {
            sub = Some(w.as_str());
            i += 1;
            break;
        } else if !git_global_flag(w) {
            // An option git does not take is an error; one this list lacks
            // may take the next word, which then is not the subcommand
            // (`git --attr-source status -c alias.y='!rm v' y`).
            return Err(Stop::Dynamic);
        }
        i += 1;
    }
    let Some(sub) = sub else {
        return if open_tail {
            Err(Stop::Dynamic)
        } else {
            Ok(commands)
        };
    };
    if matches!(
        sub,
        "bisect" | "submodule" | "filter-branch" | "filter-repo"
    ) && rest[i..].iter().any(|f| {
        matches!(&f.val, Val::Lit(w) if matches!(w.as_str(), "run" | "foreach"))
            || sub.starts_with("filter")
    }) {
        return Err(Stop::Dynamic);
    }
    // Words from input, or unknown ones, may be any option: they matter
    // for the subcommands that have options that run commands.
    // Subcommands that run a command they are given or read from
    // configuration: `for-each-repo` runs git with arguments of its own,
    // `remote-ext` runs its command, `instaweb --httpd`, `web--browse`.
    // `daemon` runs its `--access-hook`; `submodule--helper foreach` its
    // command; `maintenance start` installs scheduled jobs (crontab,
    // systemd timers) that run git with the repository's configuration.
    // git's script subcommands in Perl and Python read options with
    // Getopt::Long's abbreviations and put values into shell strings or
    // exec them (`send-email --sendmail-c='rm v;:'`, `--smtp-server=/bin/sh
    // --smtp-server-option=-c …`, `archimport 'a;rm v;#'`, `svn
    // --authors-prog`), and `merge-index PROGRAM` runs its operand (each
    // confirmed but svn and p4, whose modules are missing here).
    if matches!(
        sub,
        "for-each-repo"
            | "remote-ext"
            | "instaweb"
            | "web--browse"
            | "daemon"
            | "submodule--helper"
            | "maintenance"
            | "send-email"
            | "svn"
            | "p4"
            | "archimport"
            | "cvsimport"
            | "cvsexportcommit"
            | "cvsserver"
            | "quiltimport"
            | "merge-index"
            | "merge-one-file"
    ) {
        return Err(Stop::Dynamic);
    }
    let risky = GIT_RISKY.contains(&sub);
    if open_tail && risky {
        return Err(Stop::Dynamic);
    }
    let args = &rest[i..];
    // A `<transport>::<address>` URL runs `git-remote-<transport>`
    // (`ext::CMD` runs CMD when the protocol is allowed), before or
    // after `--`; the subcommands that never take a remote read `::` as
    // text (`git grep 'std::vec'`, `git commit -m 'fix a::b'`).
    if !GIT_NO_REMOTE.contains(&sub)
        && args
            .iter()
            .any(|f| matches!(&f.val, Val::Lit(w) if w.contains("::")))
    {
        return Err(Stop::Dynamic);
    }
    let mut operands = Vec::new();
    let mut j = 0;
    while let Some(f) = args.get(j) {
        let Val::Lit(w) = &f.val else {
            // An unknown word may be any option (`"$x"` = `--upload-pack=…`).
            // In `config` it may be the key (`"a$x"` = `alias.q`).
            if (risky && !cannot_be_option(&f.raw)) || sub == "config" {
                return Err(Stop::Dynamic);
            }
            j += 1;
            continue;
        };
        if w == "--" {
            // `git config -- KEY VALUE` still writes the key.
            if sub == "config" {
                for f in &args[j + 1..] {
                    match &f.val {
                        Val::Lit(w) => operands.push(w.as_str()),
                        Val::Unknown => return Err(Stop::Dynamic),
                    }
                }
            }
            break;
        }
        if git_option_runs(sub, w) {
            return Err(Stop::Dynamic);
        }
        // `--config`, or any prefix of it (`--conf`), with its value next.
        let config_option = w
            .strip_prefix("--")
            .is_some_and(|o| !o.is_empty() && !o.contains('=') && "config".starts_with(o));
        if sub == "clone" && (w == "-c" || config_option) {
            j += 1;
            match args.get(j).map(|f| &f.val) {
                Some(Val::Lit(c)) if git_key_is_safe(c) => {}
                Some(_) => return Err(Stop::Dynamic),
                None => {}
            }
        } else if sub == "clone"
            && (w.strip_prefix("--").is_some_and(|o| {
                o.split_once('=')
                    .is_some_and(|(n, _)| !n.is_empty() && "config".starts_with(n))
            }) || (w.starts_with("-c") && w.len() > 2))
        {
            let c = match w.strip_prefix("--") {
                Some(o) => o.split_once('=').map_or("", |(_, v)| v),
                None => w.strip_prefix("-c").unwrap_or_default(),
            };
            if !git_key_is_safe(c) {
                return Err(Stop::Dynamic);
            }
        } else if sub == "config"
            && matches!(
                w.as_str(),
                "-f" | "--file" | "--blob" | "--type" | "--default" | "--comment" | "--value"
            )
        {
            // An option's value is not the key (`--file color./x alias.q …`).
            j += 1;
        } else if !w.starts_with('-') {
            operands.push(w.as_str());
        }
        j += 1;
    }
    if sub == "config" {
        // `git config [set] KEY VALUE`, `--add`/`--replace-all KEY VALUE`,
        // `-e` (runs the editor): writing a key outside the safe list is
        // dynamic (`git config alias.x '!rm v'; git x` runs `rm`).
        // Renaming a section moves its keys under any name (`color.x.y`
        // renamed to `alias`: `alias.y`).
        // git takes any unambiguous prefix of a long option (`--rename-sec`,
        // `--ed`); an ambiguous one is an error.
        let edits = args.iter().any(|f| {
            matches!(&f.val, Val::Lit(w) if matches!(w.as_str(), "-e" | "edit" | "rename-section")
            || w.strip_prefix("--").is_some_and(|o| {
                let o = o.split_once('=').map_or(o, |(n, _)| n);
                !o.is_empty() && ("edit".starts_with(o) || "rename-section".starts_with(o))
            }))
        });
        let ops = match operands.first() {
            Some(&"set") => &operands[1..],
            _ => &operands[..],
        };
        let reading = matches!(operands.first(), Some(&("get" | "list" | "unset")));
        if edits || (!reading && ops.len() >= 2 && !git_key_is_safe(ops[0])) {
            return Err(Stop::Dynamic);
        }
    }
    Ok(commands)
}

/// git subcommands that never take a remote or URL among their words.
const GIT_NO_REMOTE: &[&str] = &[
    "grep",
    "log",
    "show",
    "diff",
    "blame",
    "annotate",
    "shortlog",
    "rev-list",
    "rev-parse",
    "whatchanged",
    "ls-files",
    "ls-tree",
    "diff-tree",
    "diff-files",
    "diff-index",
    "status",
    "commit",
    "tag",
    "notes",
    "stash",
    "add",
    "rm",
    "mv",
    "restore",
    "switch",
    "branch",
];

/// git's global options that take no value (git reads them by their
/// whole names), and the value-taking ones given as `--name=value`.
fn git_global_flag(w: &str) -> bool {
    matches!(
        w,
        "-p" | "--paginate"
            | "-P"
            | "--no-pager"
            | "--no-replace-objects"
            | "--no-lazy-fetch"
            | "--no-optional-locks"
            | "--no-advice"
            | "--bare"
            | "--literal-pathspecs"
            | "--glob-pathspecs"
            | "--noglob-pathspecs"
            | "--icase-pathspecs"
            | "--html-path"
            | "--man-path"
            | "--info-path"
            | "-v"
            | "--version"
            | "-h"
            | "--help"
    ) || w
        .split_once('=')
        .is_some_and(|(name, _)| GIT_GLOBAL_VALUE.contains(&name))
}

/// git's global long options that take a value (the next word, or
/// `=value`); `-C` takes the next word.
const GIT_GLOBAL_VALUE: &[&str] = &[
    "--work-tree",
    "--namespace",
    "--super-prefix",
    "--list-cmds",
    "--attr-source",
];

/// `tar`'s options whose value is a command it runs: `--to-command`,
/// `--checkpoint-action=exec=…`, `--use-compress-program` / `-I`,
/// `--info-script` / `--new-volume-script` / `-F`, `--rsh-command`,
/// `--rmt-command` (any unambiguous prefix; short options clustered or
/// not). Returns those commands, to be read as command lines; an unknown
/// word (`"$(…)"`, a glob) or an old-style cluster naming one (`tar cIf …`)
/// is dynamic.
pub(super) fn tar(rest: &[Field]) -> Result<Vec<String>, Stop> {
    const RUNS: &[&str] = &[
        "to-command",
        "checkpoint-action",
        "use-compress-program",
        "info-script",
        "new-volume-script",
        "rsh-command",
        "rmt-command",
    ];
    let mut commands = Vec::new();
    let mut i = 0;
    let next = |i: usize| match rest.get(i + 1).map(|f| &f.val) {
        Some(Val::Lit(v)) => Ok(v.clone()),
        _ => Err(Stop::Dynamic),
    };
    // The previous word takes the next as its value (`-f "$OUT"`).
    let mut value_next = false;
    while let Some(f) = rest.get(i) {
        let Val::Lit(w) = &f.val else {
            // The first word may be an old-style cluster without `-`
            // (`"cIf$u" CMD x.tar`).
            if i == 0 {
                return Err(Stop::Dynamic);
            }
            // An unknown word may be any option, unless it is a value or
            // cannot start with `-`.
            let value = std::mem::take(&mut value_next);
            if !(value
                || cannot_be_option(&f.raw)
                || (attached_value(&f.raw, &['I', 'F', 'W'], TAR_VALUE_LETTERS)
                    && attached_value(&f.raw, &['I', 'F', 'W'], BSDTAR_VALUE_LETTERS)))
            {
                return Err(Stop::Dynamic);
            }
            i += 1;
            continue;
        };
        if std::mem::take(&mut value_next) {
            i += 1;
            continue;
        }
        if w == "--" {
            break;
        }
        // GNU tar's multi-volume mode (`-M`, and `-L N`, which implies it)
        // asks for the next volume on standard input, where `!` starts an
        // interactive `$SHELL` (`printf '!\n…rm v\n' | tar -M -L 10 -cf
        // a.tar big` runs `rm`, confirmed); bsdtar's `-L` follows symlinks:
        // two readings.
        // The first letter that is `M` or takes a value (`L` does): a value
        // letter's value may hold an `M` (`-fM.tar`).
        let multi_volume = |letters: &str| {
            letters
                .chars()
                .find(|c| *c == 'M' || TAR_VALUE_LETTERS.contains(c))
                .is_some_and(|c| matches!(c, 'M' | 'L'))
        };
        let long_multi_volume = |name: &str| {
            name.len() >= 2
                && ["multi-volume", "tape-length"]
                    .iter()
                    .any(|o| o.starts_with(name))
        };
        match w.strip_prefix("--") {
            Some(long) if long_multi_volume(long.split_once('=').map_or(long, |(n, _)| n)) => {
                return Err(Stop::Dynamic)
            }
            None if (i == 0 && !w.starts_with('-') && w.contains(['M', 'L']))
                || w.strip_prefix('-').is_some_and(multi_volume) =>
            {
                return Err(Stop::Dynamic)
            }
            _ => {}
        }
        if let Some(short) = w.strip_prefix('-').filter(|s| !s.starts_with('-')) {
            // bsdtar's `-W name=value` is `--name=value`
            // (`-W use-compress-program=rm`).
            if short.contains('W') {
                return Err(Stop::Dynamic);
            }
            // A cluster ending in an option that takes a value.
            value_next = tar_cluster_takes_next(short) && !short.contains(['I', 'F']);
        } else if let Some(long) = w
            .strip_prefix("--")
            .filter(|l| !l.contains('=') && l.len() >= 2)
        {
            const TAKE: &[&str] = &[
                "file",
                "directory",
                "files-from",
                "exclude",
                "exclude-from",
                "listed-incremental",
                "newer",
                "after-date",
                "transform",
                "xform",
                "owner",
                "group",
                "mode",
                "mtime",
                "label",
                "blocking-factor",
                "format",
                "strip-components",
                "suffix",
            ];
            // Exact names only: an abbreviation may be another option
            // (`--list` is not `--listed-incremental`).
            value_next = TAKE.contains(&long);
        }
        if let Some(long) = w.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_owned())),
                None => (long, None),
            };
            // `--checkpoint[=N]` is an option of its own.
            let option = (name.len() >= 2 && name != "checkpoint")
                .then(|| RUNS.iter().find(|r| r.starts_with(name)))
                .flatten();
            if let Some(option) = option {
                let value = match attached {
                    Some(v) => v,
                    None => {
                        i += 1;
                        next(i - 1)?
                    }
                };
                if *option == "checkpoint-action" {
                    if let Some(cmd) = value.strip_prefix("exec=") {
                        commands.push(cmd.to_owned());
                    }
                } else {
                    commands.push(value);
                }
            }
        } else if let Some(short) = w.strip_prefix('-') {
            if let Some(k) = short.find(['I', 'F']) {
                // The option's value: the rest of the cluster, or the next
                // word.
                let attached = &short[k + 1..];
                if attached.is_empty() {
                    commands.push(next(i)?);
                    i += 1;
                } else {
                    commands.push(attached.to_owned());
                }
            }
        } else if i == 0 && w.contains(['I', 'F', 'W']) {
            // An old-style cluster (`tar cIf zstd x.tar`): its values come
            // in order after it.
            return Err(Stop::Dynamic);
        }
        i += 1;
    }
    Ok(commands)
}

/// The words after a leading `--` (`eval`, `source`, `builtin` take no
/// options but accept the end-of-options mark: `eval -- 'rm v'` runs `rm`).
fn end_of_options(rest: &[Field]) -> &[Field] {
    match rest.first().map(|f| &f.val) {
        Some(Val::Lit(w)) if w == "--" => &rest[1..],
        _ => rest,
    }
}

/// Words joined with spaces, as `eval` and `sh -c "$*"` join them; a word
/// of unknown value makes the text unknown (dynamic).
fn joined<'f>(words: impl Iterator<Item = &'f Field>) -> Result<String, Stop> {
    let mut text = String::new();
    for f in words {
        match &f.val {
            Val::Lit(w) => {
                if !text.is_empty() {
                    text.push(' ');
                }
                text.push_str(w);
            }
            Val::Unknown => return Err(Stop::Dynamic),
        }
    }
    Ok(text)
}

/// The variable a word assigns when it stands where a command starts
/// (`NAME=…`, `NAME+=…`, `NAME[…]=…`).
fn assignment_name(raw: &str) -> Option<&str> {
    let end = raw
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(raw.len());
    let (name, after) = raw.split_at(end);
    let assigns = after.starts_with('=') || after.starts_with("+=") || after.starts_with('[');
    (is_identifier(name) && assigns).then_some(name)
}

fn owned(fields: &[&Field]) -> Vec<Field> {
    fields.iter().map(|f| (*f).clone()).collect()
}

/// A variable name a builtin assigns: a subscript is evaluated, and some
/// names change what runs.
fn name_is_safe(v: Option<&Val>) -> Step {
    match v {
        Some(Val::Lit(n))
            if is_identifier(n)
                && !dangerous_var(n)
                && !command_var(n)
                && !super::option_var(n)
                && !super::arithmetic_var(n) =>
        {
            Ok(())
        }
        None => Ok(()),
        _ => Err(Stop::Dynamic),
    }
}
