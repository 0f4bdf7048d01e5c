//! What a simple command runs, once its words are known: the program, and
//! the programs it runs in turn (runners, shells, `eval`, builtins that
//! take code).

use super::getopt::{self, getopt, Parsed, Spec};
use super::{
    basename, dangerous_var, is_identifier, subscript_runs_code, Analyzer, Field, Step, Stop, Val,
    SHELLS,
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
        let prog = basename(name);
        if rest
            .iter()
            .any(|f| matches!(&f.val, Val::Lit(w) if subscript_runs_code(w)))
        {
            return Err(Stop::Dynamic);
        }
        if first.tilde && !name.contains('/') {
            // `~` or `~user`: the program is a home directory's path.
            return Err(Stop::Dynamic);
        }
        self.push(name);
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
                    (_, Some(var)) if dangerous_var(var) => return Err(Stop::Dynamic),
                    (_, Some(_)) => {}
                    _ => break,
                }
                rest = &rest[1..];
            }
            return self.run(rest, open_tail, stdin, depth);
        }
        match prog {
            "eval" => self.eval(end_of_options(rest), open_tail, depth),
            "source" | "." => match end_of_options(rest).first().map(|f| &f.val) {
                Some(Val::Lit(file)) if STDIN_FILES.contains(&file.as_str()) => {
                    match stdin {
                        // A pipe or the caller's input: code out of sight.
                        None => Err(Stop::Dynamic),
                        Some(_) => self.stdin_script(stdin, depth),
                    }
                }
                // Other spellings of a descriptor or a device
                // (`/dev/./stdin`, `/proc/thread-self/fd/0`): what they
                // hold is the input's, out of sight.
                Some(Val::Lit(file)) if file.starts_with("/dev/") || file.starts_with("/proc/") => {
                    Err(Stop::Dynamic)
                }
                Some(Val::Lit(_)) => Ok(()),
                Some(Val::Unknown) => Err(Stop::Dynamic),
                None if open_tail => Err(Stop::Dynamic),
                None => Ok(()),
            },
            "builtin" => self.run(end_of_options(rest), open_tail, stdin, depth),
            "command" => self.through(&getopt::COMMAND, rest, open_tail, stdin, depth),
            "exec" => self.through(&getopt::EXEC, rest, open_tail, stdin, depth),
            "time" => self.through(&getopt::TIME, rest, open_tail, stdin, depth),
            "busybox" => match rest.first().map(|f| &f.val) {
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
                if let Some(Val::Lit(o)) = rest.first().map(|f| &f.val) {
                    if o == "-v" {
                        name_is_safe(rest.get(1).map(|f| &f.val))?;
                    } else if let Some(n) = o.strip_prefix("-v") {
                        name_is_safe(Some(&Val::Lit(n.to_owned())))?;
                    }
                }
                if matches!(rest.first().map(|f| &f.val), Some(Val::Unknown)) {
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
            "doas" => {
                let p = getopt(&getopt::DOAS, rest)?;
                if p.has(&["C"]) {
                    return Ok(());
                }
                self.operands_run(&p, open_tail, stdin, depth)
            }
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
                    None => Ok(()),
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
            "git" => git(rest),
            "make" | "gmake" => make(rest),
            "tar" | "gtar" | "bsdtar" => tar(rest),
            "xargs" => self.xargs(rest, open_tail, depth),
            "find" => self.find(rest, open_tail, depth),
            "parallel" => self.parallel(rest, open_tail, depth),
            _ => Ok(()),
        }
    }

    fn eval(&mut self, rest: &[Field], open_tail: bool, depth: usize) -> Step {
        if open_tail {
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
            // A pipe or the caller's input: the shell is reported as
            // itself (`std.commands.shells`).
            None => Ok(()),
        }
    }

    /// A runner whose options are `spec` and whose operands are the
    /// command it runs (with none, it runs nothing the line names, or the
    /// user's shell: `unshare`, `nsenter`, `pkexec`).
    fn through(
        &mut self,
        spec: &Spec,
        rest: &[Field],
        open_tail: bool,
        stdin: Option<&Val>,
        depth: usize,
    ) -> Step {
        let p = getopt(spec, rest)?;
        self.operands_run(&p, open_tail, stdin, depth)
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
            if !well_formed || dangerous_var(name) {
                return Err(Stop::Dynamic);
            }
            if let Some(value) = after.strip_prefix('=').or_else(|| after.strip_prefix("+=")) {
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
                if getopt::SHELL_LONG_ARGS.contains(&long) {
                    i += 2;
                } else if getopt::SHELL_LONG_FLAGS.contains(&long) {
                    i += 1;
                } else {
                    return Err(Stop::Dynamic);
                }
                continue;
            }
            if w.len() > 1 && (w.starts_with('-') || w.starts_with('+')) {
                let mut takes = 0;
                for c in w[1..].chars() {
                    match c {
                        'c' if w.starts_with('-') => command_mode = true,
                        's' if w.starts_with('-') => stdin_mode = true,
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
            return match operands.first().map(|f| &f.val) {
                Some(Val::Lit(script)) => self.string(script, depth + 1),
                Some(Val::Unknown) => Err(Stop::Dynamic),
                // The script comes from input (`xargs sh -c`).
                None if open_tail => Err(Stop::Dynamic),
                None => Ok(()),
            };
        }
        if operands.is_empty() || stdin_mode {
            return self.stdin_script(stdin, depth);
        }
        // A script file: what it runs is out of sight (threat model).
        Ok(())
    }

    fn env(&mut self, rest: &[Field], open_tail: bool, stdin: Option<&Val>, depth: usize) -> Step {
        let p = getopt(&getopt::ENV, rest)?;
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
            return if open_tail {
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
            Some(Some(Val::Lit(s))) => {
                self.push(s);
                basename(s).to_owned()
            }
            Some(_) => return Err(Stop::Dynamic),
            None => "sh".to_owned(),
        };
        if let Some(c) = p.value(&["c", "command", "session-command"]) {
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
                self.shell(&args, open_tail, None, depth)?;
            } else {
                return Err(Stop::Dynamic);
            }
        } else if open_tail {
            return Err(Stop::Dynamic);
        }
        Ok(())
    }

    fn xargs(&mut self, rest: &[Field], open_tail: bool, depth: usize) -> Step {
        let p = getopt(&getopt::XARGS, rest)?;
        let replace = match p.value(&["I", "i", "replace"]) {
            Some(Some(Val::Lit(r))) => Some(r.clone()),
            Some(Some(Val::Unknown)) => return Err(Stop::Dynamic),
            Some(None) => Some("{}".to_owned()),
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
            let mut cmd = Vec::new();
            let mut closed = false;
            while i < rest.len() {
                let f = &rest[i];
                i += 1;
                match &f.val {
                    Val::Lit(t) if t == ";" => {
                        closed = true;
                        break;
                    }
                    Val::Lit(t)
                        if t == "+" && cmd.last().is_some_and(|c: &Field| c.raw == "{}") =>
                    {
                        closed = true;
                        break;
                    }
                    Val::Lit(t) if t.contains("{}") => {
                        let mut f = f.clone();
                        f.val = Val::Unknown;
                        cmd.push(f);
                    }
                    _ => cmd.push(f.clone()),
                }
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

/// Words joined with spaces, as `eval` and `sh -c "$*"` join them; a word
/// of unknown value makes the text unknown (dynamic).
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
        "git" => git(rest),
        "make" | "gmake" => make(rest),
        _ => tar(rest),
    }
}

/// `make`: `--eval=TEXT` / `-E TEXT` is makefile text whose recipes run,
/// and `SHELL=` / `.SHELLFLAGS=` / `MAKEFLAGS=` on the command line choose
/// what runs the recipes: dynamic (`make --eval=$'x:\n\trm v' x` runs `rm`).
pub(super) fn make(rest: &[Field]) -> Step {
    let evals = rest.iter().any(|f| match &f.val {
        Val::Lit(w) => {
            w.starts_with("--ev")
                || (w.starts_with('-') && !w.starts_with("--") && w.contains('E'))
                || ["SHELL", ".SHELLFLAGS", "MAKEFLAGS"].iter().any(|v| {
                    w.split_once('=')
                        .is_some_and(|(n, _)| n.trim_end_matches([':', '+', '?', '!']).trim() == *v)
                })
        }
        Val::Unknown => false,
    });
    if evals {
        return Err(Stop::Dynamic);
    }
    Ok(())
}

/// Configuration keys `git -c` may set on a command line without running
/// anything (lower case; a trailing `.` is a section prefix). Every other
/// key may name a command (`alias.x=!rm v`, `core.pager`, `core.sshCommand`,
/// `diff.external`, hooks, filters, credential helpers, …).
const GIT_SAFE_CONFIG: &[&str] = &[
    "user.name",
    "user.email",
    "color.",
    "advice.",
    "init.defaultbranch",
    "core.quotepath",
    "core.autocrlf",
    "core.safecrlf",
    "core.filemode",
    "commit.gpgsign",
    "tag.gpgsign",
    "pull.rebase",
    "pull.ff",
    "merge.ff",
    "safe.directory",
    "log.showsignature",
    "diff.noprefix",
    "status.short",
    "protocol.version",
    "http.sslverify",
    "fetch.prune",
    "push.default",
    "push.autosetupremote",
];

/// `git`'s global options (before the subcommand): a `-c KEY=VALUE` whose
/// key may name a command, `--config-env` (a value from the environment)
/// or `--exec-path` (where subcommands are found) is dynamic
/// (`git -c alias.x='!rm v' x` runs `rm`; confirmed in bash).
pub(super) fn git(rest: &[Field]) -> Step {
    let mut i = 0;
    while let Some(f) = rest.get(i) {
        let Val::Lit(w) = &f.val else {
            return Err(Stop::Dynamic);
        };
        let config = if w == "-c" {
            i += 1;
            match rest.get(i).map(|f| &f.val) {
                Some(Val::Lit(c)) => Some(c.as_str()),
                Some(Val::Unknown) => return Err(Stop::Dynamic),
                None => return Ok(()),
            }
        } else {
            w.strip_prefix("-c")
        };
        if let Some(c) = config {
            let key = c.split_once('=').map_or(c, |(k, _)| k).to_ascii_lowercase();
            let safe = GIT_SAFE_CONFIG.iter().any(|s| {
                if s.ends_with('.') {
                    key.starts_with(s)
                } else {
                    key == *s
                }
            });
            if !safe {
                return Err(Stop::Dynamic);
            }
        } else if w.starts_with("--config-env") || w.starts_with("--exec-path") {
            return Err(Stop::Dynamic);
        } else if matches!(
            w.as_str(),
            "-C" | "--git-dir" | "--work-tree" | "--namespace"
        ) {
            i += 1;
        } else if !w.starts_with('-') {
            break;
        }
        i += 1;
    }
    Ok(())
}

/// `tar` options that run a program: `--to-command`, `--checkpoint-action`
/// (`exec=`), `--use-compress-program` / `-I`, `--info-script` /
/// `--new-volume-script` / `-F`, `--rsh-command`, `--rmt-command` (any
/// unambiguous prefix, and in short-option clusters, old-style ones
/// included): dynamic.
pub(super) fn tar(rest: &[Field]) -> Step {
    const RUNS: &[&str] = &[
        "--to-command",
        "--checkpoint-action",
        "--use-compress-program",
        "--info-script",
        "--new-volume-script",
        "--rsh-command",
        "--rmt-command",
    ];
    for (i, f) in rest.iter().enumerate() {
        let Val::Lit(w) = &f.val else {
            continue;
        };
        let runs = if let Some(long) = w.strip_prefix("--") {
            let name = long.split_once('=').map_or(long, |(n, _)| n);
            name.len() >= 2 && RUNS.iter().any(|r| r[2..].starts_with(name))
        } else if let Some(short) = w.strip_prefix('-') {
            short.contains(['I', 'F'])
        } else {
            // The first word may be an old-style cluster (`tar cIf …`).
            i == 0 && w.contains(['I', 'F'])
        };
        if runs {
            return Err(Stop::Dynamic);
        }
    }
    Ok(())
}

/// The words after a leading `--` (`eval`, `source`, `builtin` take no
/// options but accept the end-of-options mark: `eval -- 'rm v'` runs `rm`).
fn end_of_options(rest: &[Field]) -> &[Field] {
    match rest.first().map(|f| &f.val) {
        Some(Val::Lit(w)) if w == "--" => &rest[1..],
        _ => rest,
    }
}

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
        Some(Val::Lit(n)) if is_identifier(n) && !dangerous_var(n) => Ok(()),
        None => Ok(()),
        _ => Err(Stop::Dynamic),
    }
}
