use super::{programs, CommandError, DYNAMIC, MAX_COMMAND_BYTES, MAX_DEPTH, MAX_WORDS};

fn p(line: &str) -> Vec<String> {
    match programs(line) {
        Ok(v) => v,
        Err(e) => panic!("{line:?}: {e}"),
    }
}

fn has(line: &str, program: &str) -> bool {
    p(line).iter().any(|x| x == program)
}

fn dynamic(line: &str) -> bool {
    has(line, DYNAMIC)
}

/// Each line is read exactly as the programs given.
fn reads_as(cases: &[(&str, &[&str])]) {
    for (line, want) in cases {
        assert_eq!(p(line), *want, "{line:?}");
    }
}

/// Each line is dynamic.
fn all_dynamic(lines: &[&str]) {
    for line in lines {
        assert!(dynamic(line), "{line:?} gave {:?}", p(line));
    }
}

/// Every case of the adversarial round (issue 14) that bash ran `rm` for
/// (and the runners' option forms around `rm`): each one now reports `rm`
/// or says dynamic. The same list starts the bash differential test.
#[test]
fn the_reported_bypasses_are_closed() {
    let cases: Vec<String> =
        serde_json::from_str(include_str!("../../tests/fixtures/command_bypasses.json")).unwrap();
    for line in &cases {
        let got = p(line);
        assert!(
            got.iter().any(|x| x == "rm" || x == DYNAMIC),
            "{line:?} gave {got:?}"
        );
    }
}

/// The second red team's round (git global options, `config --` and
/// `--rename-section`, transports, xargs' slot variable, make's makefiles
/// from input, long-option prefixes, `--`, built-in rule variables, bsdtar's
/// reading): the everyday forms around them stay resolved.
#[test]
fn the_forms_around_the_second_rounds_cases_stay_resolved() {
    assert_eq!(p("git --no-pager log --oneline"), ["git"]);
    assert_eq!(p("git -C r --work-tree=w status"), ["git"]);
    assert_eq!(p("git --attr-source=HEAD diff"), ["git"]);
    assert_eq!(p("git config -- user.name a"), ["git"]);
    assert!(dynamic("git --frobnicate status"));
    assert_eq!(p("xargs --process-slot-var=SLOT rm"), ["rm", "xargs"]);
    assert_eq!(p("make -j4 -C src test V=1"), ["make"]);
    assert_eq!(p("make --fil=Makefile --jobs=4 all"), ["make"]);
    assert_eq!(p("make -f build.mk -- test"), ["make"]);
    assert!(dynamic("make --no all"), "an ambiguous prefix");
    assert!(dynamic("make -- 'MSG=a;b'"));
    assert_eq!(p("make f.dvi TEX=tex"), ["make", "tex"]);
    assert_eq!(p("make CFLAGS='-O2 -g' all"), ["make"]);
    assert_eq!(p("tar -czf x.tgz -C src ."), ["tar"]);
    assert_eq!(p("git grep -n 'Foo::bar' -- src"), ["git"]);
    assert_eq!(p("git commit -m 'fix parser::lex'"), ["git"]);
    assert_eq!(p("git log -S 'crate::util'"), ["git"]);
    assert!(dynamic("git fetch 'ext::rm v'"));
    assert_eq!(p("make -p -f /dev/null"), ["make"]);
    assert_eq!(p("make -f src/fd/Makefile"), ["make"]);
    assert!(
        dynamic("make \"$TARGET\""),
        "an unknown operand may be an assignment"
    );
    assert_eq!(p("make -C \"$dir\" all"), ["make"]);
    assert!(dynamic("exec -a git-rebase git -x 'rm v' HEAD~1"));
    assert!(dynamic("env -a git-rebase git -x 'rm v' HEAD~1"));
    assert!(dynamic("env --argv0=rm busybox x"));
    assert_eq!(p("exec -a ls /bin/ls -l"), ["exec", "ls"]);
    assert_eq!(p("env -a sh bash -c 'rm v'"), [DYNAMIC, "env"]);
    assert_eq!(p("tar -cf x.tar -H ustar ."), ["tar"]);
    assert_eq!(p("tar -cf x.tar -H --to-command='rm v' ."), ["rm", "tar"]);
}

/// The fifteenth session's round: a shell's script file or `source`'s file
/// that may be a descriptor reads the line's input (`bash /dev/stdin <<<`,
/// `cd /dev && . stdin <<<`), a shell whose first words come from input may
/// be given `-c`, and BSD make reads some of GNU make's words differently.
#[test]
fn script_files_that_may_be_descriptors_and_other_makes() {
    // The exact spellings of standard input read the here-document.
    assert_eq!(p("bash /dev/stdin <<< 'rm v'"), ["bash", "rm"]);
    assert_eq!(p("sh -x /dev/fd/0 <<< 'ls'"), ["ls", "sh"]);
    assert_eq!(p(". /proc/self/fd/0 <<< 'rm v'"), [".", "rm"]);
    // With a pipe or the caller's input there is nothing to read.
    assert!(dynamic("echo 'rm v' | bash /dev/stdin"));
    assert!(dynamic("bash /dev/stdin"));
    // Other spellings of a descriptor, from anywhere `cd` may have gone.
    all_dynamic(&[
        "cd /dev && bash stdin <<< 'rm v'",
        "cd /dev && . ./stdin <<< 'rm v'",
        "cd /dev/fd && source 0 <<< 'rm v'",
        "cd /proc && . 1/fd/0 <<< 'rm v'",
        "cd /proc/self && . root/dev/stdin <<< 'rm v'",
        "bash /dev/fd/3 3<<< 'rm v'",
        "bash //dev/./stdin <<< 'rm v'",
        "bash /usr/../dev/stdin <<< 'rm v'",
        "bash /proc/thread-self/fd/0 <<< 'rm v'",
        "bash \"$F\" <<< 'rm v'",
        "cd /dev/fd && make -f ../stdin",
    ]);
    // Scripts in files stay out of sight (threat model), as does /dev/null.
    assert_eq!(p("bash ./build.sh"), ["bash"]);
    assert_eq!(p(". ../venv/bin/activate"), ["."]);
    assert_eq!(p("source scripts/env.sh"), ["source"]);
    assert_eq!(p("bash /dev/null"), ["bash"]);
    assert_eq!(p("make -C build -f ../Makefile all"), ["make"]);
    // A shell whose first words are the input's: `-c CMD` may be among them.
    all_dynamic(&[
        "xargs bash <<< \"-c 'rm v'\"",
        "xargs sh -x",
        "find . -exec bash {} \\;",
    ]);
    assert_eq!(p("xargs bash build.sh"), ["bash", "xargs"]);
    // BSD make: `-V`/`-v`/`-D` values are expanded (`${:!CMD!}` runs CMD),
    // `-W` takes no value; GNU make has no such letters or reads them apart.
    all_dynamic(&[
        "make -V '${:!rm v!}'",
        "make -v '${:!rm v!}'",
        "make -D X all",
        "make -W -f /dev/stdin <<< 'all:; rm v'",
        "make '${:!rm v!}'",
    ]);
    assert_eq!(p("make -W main.c -k all"), ["make"]);
    assert_eq!(p("make -sj4 -Otarget check"), ["make"]);
}

/// The fifteenth session's second command round: the everyday forms around
/// its cases stay resolved.
#[test]
fn the_forms_around_the_fourth_rounds_cases_stay_resolved() {
    // bash's long options after one dash; clusters stay clusters.
    assert!(dynamic("bash -verbose -c 'rm v'"));
    assert!(dynamic("bash -norc"));
    assert_eq!(p("bash -euo pipefail -c 'ls'"), ["bash", "ls"]);
    // tar's multi-volume mode (its prompt runs a shell on `!`).
    all_dynamic(&[
        "tar -M -cf a.tar x",
        "tar -cML 10 -f a.tar x",
        "tar --tape-length=10 -cf a.tar x",
        "tar --multi -cf a.tar x",
        "tar cMf a.tar x",
    ]);
    assert_eq!(p("tar -cf Makefile.tar -C src ."), ["tar"]);
    assert_eq!(p("tar -cfM.tar -C src ."), ["tar"]);
    assert_eq!(p("tar -cvfLOG.tar x"), ["tar"]);
    // xargs keeps the last of -I and -L/-n.
    assert!(dynamic("xargs -I{} -L1 env"));
    assert_eq!(p("xargs -L1 -I{} echo {}"), ["echo", "xargs"]);
    // make's targets and makefiles go into built-in rules' recipes.
    all_dynamic(&["make 'a;rm v;'", "make 'a|b'", "make -f 'x;rm v'"]);
    assert_eq!(p("make clean all"), ["make"]);
    // git's script subcommands, merge-index, difftool's tool file.
    all_dynamic(&[
        "git send-email p",
        "git svn clone u",
        "git merge-index rm -a",
        "git difftool -t ../x",
        "git mergetool --tool=../x",
    ]);
    assert_eq!(p("git difftool -y HEAD~1"), ["git"]);
    // The variables on their own (under a subcommand that is not dynamic by
    // itself): their values are read as commands, or they are dynamic.
    assert_eq!(p("CVS_SERVER=rm git status"), ["git", "rm"]);
    assert_eq!(p("ARCH_CLIENT='rm v' git status"), ["git", "rm"]);
    assert_eq!(
        p("GIT_DIFFTOOL_EXTCMD='rm v;:' git status"),
        [":", "git", "rm"]
    );
    all_dynamic(&[
        "GITPERLLIB=. git status",
        "GIT_DIFF_TOOL=../x git status",
        "GIT_MERGE_TOOL=x git status",
    ]);
    // ssh's user is the first it reads.
    assert_eq!(p("ssh -o ProxyCommand='%r v' rm@x -l ls"), ["rm", "ssh"]);
    assert_eq!(p("ssh -l ls -o ProxyCommand='%r v' rm@x"), ["ls", "ssh"]);
}

/// The fifth command round: brace ranges in their written order, `$'\\c…'`
/// as bash decodes it, one `env -S`, `+c`/`+s`, arithmetic special
/// variables, standard input given to compound commands and functions or
/// from other descriptors.
#[test]
fn the_forms_around_the_fifth_rounds_cases_stay_resolved() {
    assert_eq!(p("{r..c}{m..d} v").first().map(String::as_str), Some("rm"));
    assert_eq!(p("echo {e..a..2}"), ["echo"]);
    assert_eq!(p("bash -c $'echo x\\c*rm v'"), ["bash", "echo", "rm"]);
    assert!(dynamic("env -S'rm v --' -S'echo'"));
    assert_eq!(p("env -S'ls -l'"), ["env", "ls"]);
    assert_eq!(p("bash +c 'rm v'"), ["bash", "rm"]);
    assert_eq!(p("sh -x +s x <<< 'rm v'"), ["rm", "sh"]);
    all_dynamic(&[
        "printf -v RANDOM x",
        "OPTIND='a[$(rm v)]'; ls",
        "for SRANDOM in 'a[1]'; do ls; done",
        "HISTCMD=x",
        "read OPTIND",
    ]);
    assert_eq!(p("OPTIND=1; ls"), ["ls"]);
    all_dynamic(&[
        "{ bash; } <<< 'rm v'",
        "f() { bash; }; f <<< 'rm v'",
        "while true; do sh; done",
        "bash 3<<< 'rm v' <&3",
        "bash 0>&3",
        "sh < <(echo rm v)",
    ]);
    assert_eq!(p("{ ls; cat; } < x"), ["cat", "ls"]);
    assert_eq!(p("for f in *.txt; do cat \"$f\"; done"), ["cat"]);
    assert_eq!(p("{ bash -c 'ls'; } <<< x"), ["bash", "ls"]);
}

#[test]
fn the_exact_readings_of_the_reported_cases() {
    assert_eq!(p("ls >`rm -rf v`"), ["ls", "rm"]);
    assert_eq!(p("cat <<< `rm -rf v`"), ["cat", "rm"]);
    assert_eq!(p("ls > \"a b\"; rm -rf v"), ["ls", "rm"]);
    assert_eq!(p("rm>/dev/null -rf v"), ["rm"]);
    assert_eq!(p("$'\\x72m' -rf v"), ["$\\x72m", "rm"], "both readings");
    // `$"…"` is translated by a message catalogue: as a program, unknown.
    assert!(dynamic("$\"rm\""));
    assert_eq!(p("echo $\"hello\""), ["echo"]);
    assert_eq!(p("{rm,-rf,v}"), ["rm"]);
    assert_eq!(p("coproc NAME { rm x; }"), ["rm"]);
    assert_eq!(p("builtin eval 'rm x'"), ["builtin", "eval", "rm"]);
    assert_eq!(p("bash --rcfile F -c 'rm x'"), ["bash", "rm"]);
    assert_eq!(p("xargs --process-slot-var V rm"), ["rm", "xargs"]);
    assert_eq!(p("xargs --max-chars 100 rm"), ["rm", "xargs"]);
    assert_eq!(p("stdbuf --output 0 rm"), ["rm", "stdbuf"]);
    assert_eq!(p("sudo -R / rm"), ["rm", "sudo"]);
    assert_eq!(p("sudo --close-from 3 rm"), ["rm", "sudo"]);
    assert!(dynamic("ls; rm${IFS}-rf${IFS}v/"));
    assert_eq!(p("$(echo rm -rf) ./ls"), [DYNAMIC, "echo"]);
}

#[test]
fn run0_is_looked_through() {
    // systemd's run0 runs its first operand; options stop at it.
    assert_eq!(p("run0 rm -rf /"), ["rm", "run0"]);
    assert_eq!(p("RUN0 rm -rf /"), ["RUN0", "rm", "run0"]);
    assert_eq!(p("/usr/bin/run0 -u root -D /tmp rm x"), ["rm", "run0"]);
    assert_eq!(p("run0 --user=root --pty --nice 5 -- rm x"), ["rm", "run0"]);
    assert_eq!(p("run0 --machine c1 --unit u rm x"), ["rm", "run0"]);
    assert_eq!(p("run0 ls -u root"), ["ls", "run0"]);
    assert_eq!(p("run0 sh -c 'rm x'"), ["rm", "run0", "sh"]);
    // No command: the user's login shell; help and version run nothing.
    assert_eq!(p("run0"), ["run0"]);
    assert_eq!(p("run0 -u root"), ["run0"]);
    assert_eq!(p("run0 --help rm x"), ["run0"]);
    assert_eq!(p("run0 -V rm"), ["run0"]);
    // A unit property may add a command (`ExecStartPre=`), an unknown
    // option cannot be read, and the environment may change what runs.
    assert_eq!(
        p("run0 --property='ExecStartPre=/bin/rm -rf /' ls"),
        [DYNAMIC, "run0"]
    );
    assert_eq!(p("run0 --prop ExecStartPre=/bin/rm ls"), [DYNAMIC, "run0"]);
    assert_eq!(p("run0 --bogus ls"), [DYNAMIC, "run0"]);
    assert_eq!(
        p("run0 --setenv=LD_PRELOAD=/tmp/x.so ls"),
        [DYNAMIC, "run0"]
    );
    assert_eq!(p("run0 --setenv PATH=/tmp ls"), [DYNAMIC, "run0"]);
    assert_eq!(p("run0 --setenv=PAGER man ls"), [DYNAMIC, "run0"]);
    assert_eq!(p("run0 --setenv=SHELL=/tmp/x"), [DYNAMIC, "run0"]);
    assert_eq!(
        p("run0 --setenv=PAGER='rm x' man ls"),
        ["man", "rm", "run0"]
    );
    // (A shell named in the environment is reported: programs run it.)
    assert_eq!(
        p("run0 --setenv=LANG=C --setenv=SHELL=/bin/zsh ls"),
        ["ls", "run0", "zsh"]
    );
    // A shell it runs reads the pipeline's input, as under sudo.
    assert_eq!(p("echo rm x | run0 -u root sh"), ["echo", "run0", "sh"]);
}

#[test]
fn a_runner_without_a_command_runs_a_shell_reading_its_input() {
    // run0, sudo -s/-i, su, runuser, pkexec, unshare, nsenter, fakeroot,
    // chroot and script start the user's shell, which reads standard input
    // as its script.
    for (line, runner) in [
        ("run0 <<< 'rm -rf /'", "run0"),
        ("run0 -u root <<< 'rm -rf /'", "run0"),
        ("sudo -s <<< 'rm -rf /'", "sudo"),
        ("sudo -i <<EOF\nrm -rf /\nEOF", "sudo"),
        ("sudo su <<< 'rm -rf /'", "su"),
        ("doas -s <<< 'rm -rf /'", "doas"),
        ("newgrp docker <<< 'rm -rf /'", "newgrp"),
        ("su <<< 'rm -rf /'", "su"),
        ("su - root <<< 'rm -rf /'", "su"),
        ("runuser root <<< 'rm -rf /'", "runuser"),
        ("pkexec <<< 'rm -rf /'", "pkexec"),
        ("unshare -r <<< 'rm -rf /'", "unshare"),
        ("nsenter -t 1 -m <<< 'rm -rf /'", "nsenter"),
        ("fakeroot <<< 'rm -rf /'", "fakeroot"),
        ("chroot /srv <<< 'rm -rf /'", "chroot"),
        ("script -q <<< 'rm -rf /'", "script"),
    ] {
        let got = p(line);
        assert!(
            got.contains(&"rm".to_owned()) && got.contains(&runner.to_owned()),
            "{line}: {got:?}"
        );
    }
    // Input from a pipe or the caller: the shell is the runner's own.
    assert_eq!(p("sudo -s"), ["sudo"]);
    assert_eq!(p("newgrp docker"), ["newgrp"]);
    assert_eq!(p("doas -s ls <<< 'rm -rf /'"), ["doas", "ls"]);
    assert_eq!(p("su"), ["su"]);
    // Inside a compound command the input may come from elsewhere on the
    // line: out of sight.
    assert!(dynamic("{ run0; } <<< 'rm -rf /'"));
    assert!(dynamic("f() { pkexec; }; f <<< 'rm -rf /'"));
    // su with another program for its shell: that program reads the input.
    assert!(dynamic("su -s /usr/bin/python3 <<< 'import os'"));
    // With a command, the input is the command's, as before.
    assert_eq!(p("sudo -s ls <<< 'rm -rf /'"), ["ls", "sudo"]);
    assert_eq!(p("su -c ls <<< 'rm -rf /'"), ["ls", "su"]);
}

#[test]
fn wrappers_are_reported_with_what_they_run() {
    assert_eq!(p("sudo cat /etc/shadow"), ["cat", "sudo"]);
    assert_eq!(p("sudo -u root -- rm x"), ["rm", "sudo"]);
    assert_eq!(p("sudo -iuroot rm x"), ["rm", "sudo"]);
    assert_eq!(p("sudo -i"), ["sudo"]);
    assert_eq!(p("doas -u root rm x"), ["doas", "rm"]);
    assert_eq!(p("env -i A=1 B=2 rm x"), ["env", "rm"]);
    assert_eq!(p("env -S'rm -rf /'"), ["env", "rm"]);
    assert_eq!(p("env -iS 'rm x'"), ["env", "rm"]);
    assert_eq!(p("env --split-string='rm x'"), ["env", "rm"]);
    // A multi-call program chooses by its argv[0]: another name is dynamic.
    assert_eq!(p("env --argv0 x rm"), [DYNAMIC, "env"]);
    assert_eq!(p("env --argv0 rm /bin/rm"), ["env", "rm"]);
    assert_eq!(p("nice -n 10 rm x"), ["nice", "rm"]);
    assert_eq!(p("nice -10 rm x"), ["nice", "rm"]);
    assert_eq!(p("ionice -c 3 rm x"), ["ionice", "rm"]);
    assert_eq!(p("ionice -p 42"), ["ionice"]);
    assert_eq!(p("nohup rm x"), ["nohup", "rm"]);
    assert_eq!(p("timeout -s KILL 30 curl http://x"), ["curl", "timeout"]);
    assert_eq!(p("timeout --kill-after=5 10 rm x"), ["rm", "timeout"]);
    assert_eq!(p("setsid -f rm x"), ["rm", "setsid"]);
    assert_eq!(p("flock /tmp/l rm x"), ["flock", "rm"]);
    assert_eq!(p("flock -w 3 /tmp/l -c 'rm x'"), ["flock", "rm"]);
    assert_eq!(p("flock 9"), ["flock"]);
    assert_eq!(p("watch -n 1 'rm x; ls'"), ["ls", "rm", "watch"]);
    assert_eq!(p("watch -x rm x"), ["rm", "watch"]);
    assert_eq!(p("chroot /srv rm x"), ["chroot", "rm"]);
    assert_eq!(p("chroot --userspec=1:1 /srv rm x"), ["chroot", "rm"]);
    assert_eq!(p("unshare -r -n rm x"), ["rm", "unshare"]);
    assert_eq!(p("unshare --mount=/x rm x"), ["rm", "unshare"]);
    assert_eq!(p("nsenter -t 1 -m rm x"), ["nsenter", "rm"]);
    assert_eq!(p("script -q -c 'rm x' /dev/null"), ["rm", "script"]);
    assert_eq!(p("su -c 'rm x' root"), ["rm", "su"]);
    assert_eq!(p("su root -c 'rm x'"), ["rm", "su"]);
    assert_eq!(p("su - root -- -c 'rm x'"), ["rm", "su"]);
    assert_eq!(p("runuser -u nobody -- rm x"), ["rm", "runuser"]);
    assert_eq!(p("busybox rm -rf /"), ["busybox", "rm"]);
    assert_eq!(p("busybox sh -c 'rm x'"), ["busybox", "rm", "sh"]);
    // toybox the same, lower-case (the plain fast path must not keep it
    // as one program) and capitalized.
    assert_eq!(p("toybox rm -rf /"), ["rm", "toybox"]);
    assert_eq!(p("toybox sh -c 'rm x'"), ["rm", "sh", "toybox"]);
    assert!(p("/usr/bin/ToyBox rm x").contains(&"rm".to_owned()));
    assert!(p("BusyBox rm x").contains(&"rm".to_owned()));
    assert_eq!(p("command -p rm x"), ["command", "rm"]);
    // Another argv[0] is dynamic (multi-call programs choose by it).
    assert_eq!(p("exec -a worker rm -rf /"), [DYNAMIC, "exec"]);
    assert_eq!(p("exec -a rm rm -rf /"), ["exec", "rm"]);
    // bash reads `time` as its keyword: `time -f …` runs `-f`.
    assert_eq!(p("time -f %e rm x"), ["-f"]);
    assert_eq!(p("/usr/bin/time -f %e rm x"), ["rm", "time"]);
    assert_eq!(
        p("stdbuf -o L command exec ionice -c 3 dd if=/dev/zero"),
        ["command", "dd", "exec", "ionice", "stdbuf"]
    );
    assert_eq!(p("taskset 0x3 rm x"), ["rm", "taskset"]);
    assert_eq!(p("gosu nobody rm x"), ["gosu", "rm"]);
    assert_eq!(p("sg wheel 'rm x'"), ["rm", "sg"]);
}

#[test]
fn gnu_long_option_abbreviations_are_read_as_getopt_reads_them() {
    assert_eq!(p("stdbuf --out 0 rm"), ["rm", "stdbuf"]);
    assert_eq!(p("xargs --max-c 100 rm"), ["rm", "xargs"]);
    assert_eq!(p("timeout --sig=KILL 5 rm"), ["rm", "timeout"]);
    // Ambiguous (`--max-args`, `--max-chars`, `--max-procs`, `--max-lines`).
    assert!(dynamic("xargs --max 3 rm"));
}

#[test]
fn unknown_runner_options_are_dynamic() {
    assert!(dynamic("sudo --frobnicate rm x"));
    assert!(dynamic("xargs -Z rm"));
    assert!(dynamic("timeout --nope 5 rm"));
    assert!(dynamic("env -Q rm"));
    assert!(
        dynamic("sudo -é ls"),
        "a multi-byte option is unknown, not a panic"
    );
    assert!(
        dynamic("sudo $OPTS rm x"),
        "an option word of unknown value"
    );
}

#[test]
fn runners_fed_by_input_are_dynamic() {
    assert_eq!(p("xargs rm"), ["rm", "xargs"]);
    assert_eq!(p("xargs"), ["echo", "xargs"]);
    assert_eq!(p("xargs sh -c 'rm \"$@\"' _"), ["rm", "sh", "xargs"]);
    assert!(dynamic("xargs sh -c"), "the script comes from input");
    assert!(dynamic("xargs env"), "the program comes from input");
    assert!(dynamic("xargs sudo"));
    assert!(dynamic("xargs -I{} {}"));
    assert!(dynamic("xargs -I % sh -c 'echo %'"));
    assert_eq!(p("xargs -I{} rm {}"), ["rm", "xargs"]);
    assert_eq!(p("find . -name '*.log' -exec rm {} \\;"), ["find", "rm"]);
    assert_eq!(p("find . -execdir gzip {} +"), ["find", "gzip"]);
    assert_eq!(
        p("find . -exec sh -c 'rm \"$1\"' _ {} \\;"),
        ["find", "rm", "sh"]
    );
    assert!(dynamic("find . -exec {} \\;"));
    assert!(dynamic("find . -exec sh -c 'rm {}' \\;"));
    assert!(
        dynamic("find $DIR -name x"),
        "an unknown word may be `-exec …`"
    );
    assert_eq!(p("parallel -j4 gzip ::: a b"), ["gzip", "parallel"]);
    assert!(dynamic("parallel ::: 'rm x'"));
}

#[test]
fn shells_recurse_through_their_options() {
    assert_eq!(p("sh -c 'rm -rf /'"), ["rm", "sh"]);
    assert_eq!(p("bash -lc \"curl x | sh\""), ["bash", "curl", "sh"]);
    assert_eq!(
        p("zsh -c 'bash -c \"mkfs.ext4 /dev/sda\"'"),
        ["bash", "mkfs.ext4", "zsh"]
    );
    assert_eq!(p("bash -o pipefail -c 'rm -rf /'"), ["bash", "rm"]);
    assert_eq!(p("bash +o history -c 'rm x'"), ["bash", "rm"]);
    assert_eq!(p("bash -c -e 'rm x'"), ["bash", "rm"]);
    assert_eq!(p("bash --norc --noprofile -c 'rm x'"), ["bash", "rm"]);
    assert_eq!(p("bash script.sh"), ["bash"]);
    assert_eq!(p("curl x | bash"), ["bash", "curl"]);
    assert_eq!(p("bash <<< 'rm x'"), ["bash", "rm"]);
    assert_eq!(p("bash <<'EOF'\nrm x\nEOF"), ["bash", "rm"]);
    assert_eq!(p("bash -s <<EOF\nrm x\nEOF"), ["bash", "rm"]);
    assert_eq!(p(". /dev/stdin <<< 'rm x'"), [".", "rm"]);
    assert!(dynamic("bash -c \"$CMD\""));
    assert!(dynamic("bash --frob -c 'rm'"));
    assert_eq!(p("eval rm -rf /"), ["eval", "rm"]);
    assert!(dynamic("eval \"$x\""));
    assert!(dynamic("source \"$f\""));
    assert_eq!(p("source ./env.sh"), ["source"]);
}

#[test]
fn program_words_that_are_not_literal_are_dynamic() {
    assert!(dynamic("a=rm; $a x"));
    assert!(dynamic("\"$@\""));
    assert!(dynamic("$(printf rm) x"));
    assert!(dynamic("`printf rm` x"));
    assert!(dynamic("/bin/r? x"), "pathname expansion picks the program");
    assert!(dynamic("/bin/r[m] x"));
    assert!(dynamic("~rm x"));
    assert!(dynamic("~ x"));
    assert_eq!(p("~/bin/rm x"), ["rm"]);
    assert_eq!(p("'/bin/rm' -rf /"), ["rm"]);
    assert_eq!(p("r\\m x"), ["rm"]);
    assert_eq!(p("\"r\"'m' x"), ["rm"]);
    assert_eq!(p("{r,x}m x"), ["rm"], "`rm xm x`");
    assert_eq!(p("x{r,y}m"), ["xrm"]);
    assert_eq!(p("echo '*'"), ["echo"], "a quoted glob is literal");
}

#[test]
fn expansions_that_execute_code_are_dynamic() {
    assert!(dynamic("echo $((x + 1))"));
    assert!(dynamic("echo ${a[$i]}"));
    assert!(dynamic("echo ${x@P}"));
    assert!(dynamic("echo ${!ref}"));
    assert!(dynamic("(( n++ ))"));
    assert!(dynamic("for ((i=0;i<3;i++)); do echo; done"));
    assert!(dynamic("[[ $x -eq 1 ]]"));
    assert!(dynamic("let x=y+1"));
    assert!(dynamic("a[$i]=1"));
    assert!(dynamic("echo ${x:$off}"));
    assert_eq!(
        p("echo $((1 + 2)) ${#x} ${x:-default} ${a[0]} ${x:1:2}"),
        ["echo"]
    );
    assert_eq!(p("[[ $x == y* ]] && echo"), ["echo"]);
    assert_eq!(p("[[ 3 -eq 3 ]]"), Vec::<String>::new());
}

#[test]
fn definitions_that_change_what_runs_are_dynamic() {
    assert!(dynamic("alias ls='rm -rf v'; ls"));
    assert!(dynamic("hash -p /bin/rm ls; ls"));
    assert!(dynamic("enable -f ./x.so x"));
    assert!(dynamic("trap 'rm x' EXIT"));
    assert!(dynamic("PATH=/tmp/evil ls"));
    assert!(dynamic("export PATH=/tmp:$PATH; ls"));
    assert!(dynamic("BASH_ENV=./x bash s.sh"));
    assert!(dynamic("IFS=/ ls"));
    assert!(dynamic("PROMPT_COMMAND='rm x'"));
    assert!(dynamic("declare -i n=1"));
    assert!(dynamic("env PATH=/x ls"));
    assert!(dynamic("sudo LD_PRELOAD=/x.so ls"));
    assert!(dynamic("mapfile -C 'rm x' a < f"));
    assert!(dynamic("printf -v 'a[$(rm x)]' 1"));
    assert!(dynamic("read 'a[$(rm x)]'"));
    assert!(dynamic("eval() { :; }; eval 'rm x'"));
    assert!(dynamic("sudo() { :; }; sudo rm x"));
    assert_eq!(p("export A=1 B=$(pwd)"), ["export", "pwd"]);
    assert_eq!(p("trap - EXIT"), [DYNAMIC, "trap"]);
    assert_eq!(p("trap"), ["trap"]);
}

#[test]
fn functions_bodies_and_control_flow_are_walked() {
    assert_eq!(p("f() { rm x; }; f"), ["f", "rm"]);
    assert_eq!(p("function f { rm x; }; f"), ["f", "rm"]);
    assert_eq!(p("if true; then rm -rf /; fi"), ["rm", "true"]);
    assert_eq!(p("for f in *; do rm \"$f\"; done"), ["rm"]);
    assert_eq!(
        p("while read l; do curl \"$l\"; done < urls"),
        ["curl", "read"]
    );
    assert_eq!(p("case $x in a) rm;; *) ls;; esac"), ["ls", "rm"]);
    assert_eq!(p("until false; do wget x; done"), ["false", "wget"]);
    assert_eq!(p("{ rm x; } > log"), ["rm"]);
    assert_eq!(p("(cd /tmp; rm x)"), ["cd", "rm"]);
    assert_eq!(p("! curl x"), ["curl"]);
    assert_eq!(p("time rm x"), ["rm"]);
    assert_eq!(
        p("ls | tee >(curl -d @- x) | wc"),
        ["curl", "ls", "tee", "wc"]
    );
    assert_eq!(p("diff <(curl a) b"), ["curl", "diff"]);
    assert_eq!(p("echo a\nrm b # rm c"), ["echo", "rm"]);
    assert_eq!(
        p("echo 'rm -rf /; curl x'"),
        ["echo"],
        "single quotes are literal"
    );
    assert_eq!(p("x=$(rm a) y"), ["rm", "y"]);
    assert_eq!(p("echo `echo \\`rm\\``"), ["echo", "rm"]);
    assert_eq!(
        p("cat <<'EOF'\n$(rm x)\nEOF"),
        ["cat"],
        "a quoted delimiter keeps the body literal"
    );
}

#[test]
fn invalid_syntax_and_limits_are_errors() {
    assert!(matches!(
        programs("echo 'open"),
        Err(CommandError::Syntax(_))
    ));
    assert!(matches!(programs("if"), Err(CommandError::Syntax(_))));
    assert_eq!(
        programs(&"a".repeat(MAX_COMMAND_BYTES + 1)),
        Err(CommandError::TooLong)
    );
    assert_eq!(programs(&"(".repeat(100)), Err(CommandError::TooDeep));
    let nested = format!("{}rm x", "eval ".repeat(MAX_DEPTH + 2));
    assert_eq!(programs(&nested), Err(CommandError::TooDeep));
    assert_eq!(
        programs(&format!("{}rm x", "eval ".repeat(MAX_DEPTH - 1)))
            .map(|v| v.contains(&"rm".to_owned())),
        Ok(true)
    );
    let many = format!("eval '{}'", "x ".repeat(MAX_WORDS + 1));
    assert_eq!(programs(&many), Err(CommandError::TooManyWords));
}

#[test]
fn quadratic_inputs_of_the_old_splitter_stay_linear() {
    // `env -iii…i rm x` and runs of digits and `>` took seconds; the
    // analysis now refuses or answers within the limits (speed itself is
    // measured by the adversarial benchmark, not asserted here).
    let long_cluster = format!("env -{} rm x", "i".repeat(MAX_COMMAND_BYTES - 12));
    assert_eq!(p(&long_cluster), ["env", "rm"]);
    let digits = "1>".repeat(10_000);
    assert!(programs(&digits).is_err() || programs(&digits).is_ok());
}

#[test]
fn the_deadline_stops_the_analysis() {
    let line = "ls \"$a\"; ".repeat(1_000);
    let r = crate::deadline::run_with(Some(std::time::Duration::ZERO), || programs(&line));
    assert_eq!(r, Err(CommandError::Timeout));
}

proptest::proptest! {
    /// Any text gives programs or an error, never a panic.
    #[test]
    fn any_command_line_is_analysed(line in "((sudo|env|timeout|nice|xargs|find|-exec|sh -c|bash -c|-[a-zé😀]{1,3}|--[a-z]+|[a-z]+|'|\"|;|&&|\\$\\(|\\)|`|\\{|\\}|,|\\$'|é| |\\\\|<<|>|\\n){0,16})") {
        let _ = programs(&line);
    }
}

#[test]
fn the_plain_subset_is_read_without_the_parser_and_the_same() {
    assert_eq!(super::plain_line("ls -la"), Some(vec!["ls".to_owned()]));
    assert_eq!(
        super::plain_line("cd /workspace && make test | tee log.txt"),
        Some(vec!["cd".to_owned(), "make".to_owned(), "tee".to_owned()])
    );
    assert_eq!(
        super::plain_line("git commit -m 'fix: a; b' && 'r'\"m\" \"x y\""),
        Some(vec!["git".to_owned(), "rm".to_owned()])
    );
    // Everything else goes to the grammar.
    for line in [
        "sudo rm x",
        "a=1 ls",
        "ls &",
        "ls $x",
        "echo \"$x\"",
        "echo 'open",
        "'sudo' rm",
        "echo \"a\\b\"",
        "if x",
        "ls >f",
        "ls\nrm",
        "ls #c",
        "ls &&",
        "; ls",
        "ls ;; rm",
        "bash -c x",
        "time ls",
        "ls |& rm",
        "{ls,rm}",
    ] {
        assert_eq!(super::plain_line(line), None, "{line:?}");
    }
}

proptest::proptest! {
    /// Wherever the plain subset answers, the grammar gives the same answer.
    #[test]
    fn the_plain_subset_agrees_with_the_grammar(line in "((ls|rm|/bin/rm|x/|-la|a=b|a-b=c|sudo|env|if|time|then|fi|true|\\.|\\.\\.|&&|\\|\\||\\||;|&| |\\t|x:y|%|\\^|@|,|\\+|'|\"|'a b'|\"c d\"|'i''f'|\"\\$x\"|\"a\\\\b\"|'\\$x'|\"é;|&*\"|'\\n'|'if'|\"sudo\"|\\*|#|é){0,12})") {
        if let Some(fast) = super::plain_line(&line) {
            let mut a = super::Analyzer { programs: Vec::new(), words: 0, opts: brush_parser::ParserOptions::default(), nested: 0, steps: super::MAX_PARSE_STEPS };
            let full = a.string(&line, 0).map(|()| { a.programs.sort(); a.programs.dedup(); a.programs });
            proptest::prop_assert!(matches!(&full, Ok(v) if *v == fast), "{line:?}: fast {fast:?}, grammar {full:?}");
        }
    }
}

#[test]
fn brace_expansion_is_bounded() {
    assert_eq!(p("echo {1..3}; {r,x}m"), ["echo", "rm"]);
    assert_eq!(p("{x..z}"), ["x"]);
    assert_eq!(p(&format!("echo{}", "{a,b}".repeat(6))), ["echoaaaaaa"]);
    assert!(
        dynamic(&format!("{}x", "{a,b}".repeat(7))),
        "128 words, 7 braces"
    );
    assert!(dynamic("{1..100000}"), "too many words");
    assert!(dynamic("{x..z}{1..100}"), "300 words");
    // As arguments of a known program, the words' values do not matter.
    assert_eq!(p("echo {1..100000}"), ["echo"]);
    // Thousands of parts in one word: no recursion per part.
    let long = format!("echo {}", "a{b}".repeat(3_000));
    assert_eq!(p(&long), ["echo"]);
}

#[test]
fn the_deepest_accepted_nesting_fits_a_small_thread_stack() {
    // The parser recurses per nesting level; the bound keeps it within a
    // 2 MiB stack (tokio's blocking threads) even in a debug build, and a
    // deeper line is refused before parsing instead of overflowing.
    let n = super::MAX_NESTING;
    let lines = [
        format!("{}ls 'x'{}", "if true; then ".repeat(n), "; fi".repeat(n)),
        format!(
            "{}ls 'x'{}",
            "while true; do ".repeat(n),
            "; done".repeat(n)
        ),
        format!("{}ls 'x'{}", "{ ".repeat(n), "; }".repeat(n)),
        format!("{}ls 'x'{}", "(".repeat(n), ")".repeat(n)),
        format!("{}ls 'x'{}", "f() { ".repeat(n), "; }".repeat(n)),
        format!("{}ls{}", "$(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH)),
        format!("{}ls", "! ".repeat(2_000)),
    ];
    let h = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            lines
                .iter()
                .map(|l| programs(l).is_ok())
                .collect::<Vec<_>>()
        })
        .unwrap();
    assert!(h.join().unwrap().iter().all(|ok| *ok));
    assert_eq!(
        programs(&format!(
            "{}ls{}",
            "if true; then ".repeat(n + 1),
            "; fi".repeat(n + 1)
        )),
        Err(CommandError::TooDeep)
    );
}

#[test]
fn numbers_the_parser_cannot_hold_are_syntax_errors_not_panics() {
    // brush-parser unwraps these (found by the `command` fuzz target).
    for line in [
        "777777777777777>><>",
        "ls 99999999999>x",
        "echo {1..99999999999999999999}",
        "echo {-99999999999999999999..1}",
        "cd ~99999999999999999999",
        "cd ~+99999999999999999999",
        "eval $'99999999999\\x3ex'",
    ] {
        assert!(
            matches!(programs(line), Err(CommandError::Syntax(_))),
            "{line:?}: {:?}",
            programs(line)
        );
    }
    // Ordinary numbers are untouched.
    assert_eq!(
        p("echo 123456789012345678901234567890 2>/dev/null"),
        ["echo"]
    );
}

#[test]
fn words_with_many_braces_are_not_given_to_the_brace_reader() {
    // brush-parser's brace reader is exponential in a word's `{` (the
    // `command` fuzz target found 29 bytes taking over a second).
    let slow = ",,,{{,{?{,{,{,{,,{{?{{,{?,{{?";
    let r = crate::deadline::run_with(Some(std::time::Duration::from_millis(200)), || {
        programs(slow)
    });
    assert!(matches!(r, Ok(ref v) if v == &[DYNAMIC]), "{r:?}");
    assert!(dynamic(&"{{?".repeat(12)));
    assert_eq!(p(&format!("echo {}", "{{?".repeat(12))), ["echo"]);
    // A few braces are still expanded.
    assert_eq!(p("{r,x}m{a,b} x"), ["rma"]);
}

#[test]
fn unclosed_parentheses_are_refused_before_the_parser_backtracks() {
    // Found by the `command` fuzz target: 24 `(` took over a second.
    for line in [
        "(".repeat(24),
        "((".repeat(12),
        format!("{}ls", "(".repeat(9)),
    ] {
        assert_eq!(programs(&line), Err(CommandError::TooDeep), "{line:?}");
    }
    // Closed ones, however many, and a few open ones (a syntax error) are read.
    assert_eq!(
        p(&format!("{}ls{}", "(ls; ".repeat(40), ")".repeat(40))),
        ["ls"]
    );
    // `((ls))` is arithmetic; brush-parser also reads `( (ls) )` so (bash
    // reads two subshells): dynamic either way, never a missed program.
    assert!(dynamic(&format!("{}ls{}", "(".repeat(40), ")".repeat(40))));
    assert!(dynamic("( (rm x) )"));
    assert!(matches!(programs("((((ls"), Err(CommandError::Syntax(_))));
    assert_eq!(
        p("case x in a) ls;; esac"),
        ["ls"],
        "a `)` alone is not unclosed"
    );
}

#[test]
fn a_here_document_with_an_unterminated_substitution_is_refused() {
    // brush-parser's tokenizer loops forever on this one (fuzz target).
    let hang = "\\<<\\T<<$( ;&.\t";
    assert!(matches!(programs(hang), Err(CommandError::Syntax(_))));
    assert_eq!(p("cat <<EOF\n$(ls)\nEOF"), ["cat", "ls"]);
}

#[test]
fn a_here_document_with_an_empty_delimiter_ends() {
    // brush-parser's tokenizer looped forever, allocating until the process
    // died, when the text ends inside a here-document whose delimiter reads
    // as empty (the fuzz target: `""<<\x0c<#`, 15 bytes, took 2 GB in a
    // second; then the same inside an unterminated `${`, in `eval`, with
    // mixed quotes). The vendored copy's patch ends it: an unterminated
    // here-document, a syntax error.
    for line in [
        "cat <<\"'\" #",
        "eval \"cat <<\\\"\\\" #\"",
        "echo \"`cat <<\\\"\\\" #`\"",
        "cat <<'' #",
        "cat <<-\"\" # note",
        "\"\"<<\x0c<#",
        "cat <<\r<#",
        "x<<''&#",
        "cat <<  <#",
        "88\n${\x1c\n88<<''<\\\n",
        "bash -c \"cat <<'' #\"",
        "cat <<\\",
        "<<\r\t.''/\r\t",
    ] {
        assert!(
            matches!(programs(line), Err(CommandError::Syntax(_))),
            "{line:?}"
        );
    }
    // Delimiters that are not empty, a shift, here-strings, and `<<` in a
    // quoted word with something after it.
    assert_eq!(p("cat <<EOF\nhi\nEOF"), ["cat"]);
    assert_eq!(p("cat <<'EOF'\nhi\nEOF"), ["cat"]);
    assert_eq!(p("cat <<\"\"EOF\nhi\nEOF"), ["cat"]);
    assert_eq!(p("cat <<\\EOF\nhi\nEOF"), ["cat"]);
    assert!(dynamic("echo $((1<<2))"), "a shift, not a here-document");
    assert_eq!(p("cat <<<''"), ["cat"]);
    assert_eq!(p("echo '<<x'"), ["echo"]);
}

#[test]
fn brackets_left_open_behind_quotes_are_counted() {
    // brush-parser backtracks exponentially over `(` left open; quotes hid
    // them from the count (the fuzz target: eight of these took over five
    // minutes in one decision).
    for quoted in [
        "(((')))'",
        "(((\")))\"",
        "(((\\)\\)\\)",
        "((`))`",
        "(${)})(",
        "(($')\\')'",
    ] {
        let line = format!("$(()+({})", quoted.repeat(8));
        assert_eq!(programs(&line), Err(CommandError::TooDeep), "{line:?}");
    }
    assert_eq!(super::unclosed_as_quoted("echo ')' \\) \"(\" ("), 1);
    assert_eq!(
        super::unclosed_as_quoted("echo \"$(ls \"$(pwd)\")\" $(("),
        2
    );
    assert_eq!(super::unclosed_as_quoted("echo \"$(ls"), 1);
    // `[` left open: exponential in arithmetic (a here-document's body),
    // ended by the parse's step bound; colour codes are not refused.
    let line = format!("cat <<E\n{}\nE", "$[x[".repeat(16));
    assert_eq!(programs(&line), Err(CommandError::TooComplex), "{line:?}");
    assert_eq!(
        p(&format!("printf '{}'", "\\033[1;32mok ".repeat(12))),
        ["printf"]
    );
    assert_eq!(
        p(&format!("echo -e \"{}\"", "\\e[32mok ".repeat(12))),
        ["echo"]
    );
    assert_eq!(
        p("jq \".a[0] .b[1] .c[2] .d[3] .e[4] .f[5] .g[6] .h[7] .i[8]\" f"),
        ["jq"]
    );
    // Substitutions inside double quotes close as bash closes them.
    let many = "echo \"$(ls)\" ".repeat(12);
    assert_eq!(p(&many), ["echo", "ls"]);
}

#[test]
fn the_grammar_s_work_is_bounded_whatever_the_checks_before_it_miss() {
    // Lines brush-parser took minutes on (or looped forever on), given to
    // the analysis directly — past the checks `programs` makes first: the
    // parse's step bound (`MAX_PARSE_STEPS`, the vendored crate's patch)
    // stops the backtracking ones, the tokenizer's patch ends the
    // here-documents with an empty delimiter as unterminated.
    let analyse = |line: &str| {
        let mut a = super::Analyzer {
            programs: Vec::new(),
            words: 0,
            opts: brush_parser::ParserOptions::default(),
            nested: 0,
            steps: super::MAX_PARSE_STEPS,
        };
        a.string(line, 0)
    };
    let backtracking = [
        format!("$(()+({}))", "(((')))'".repeat(10)),
        format!("echo `({}`", "(((')))'".repeat(10)),
        format!("({}))", "((`))`".repeat(16)),
        format!("cat <<E\n{}\nE", "$[x[".repeat(16)),
        format!("cat <<E\n{}\nE\n#{}", "$[x[".repeat(16), "]".repeat(32)),
    ];
    for line in &backtracking {
        let read = analyse(line);
        assert!(
            matches!(read, Err(super::Stop::Error(CommandError::TooComplex))),
            "{line:?}: {read:?}"
        );
    }
    for line in ["cat <<'' #", "cat <<\"'\" #", "eval \"cat <<\\\"\\\" #\""] {
        let read = analyse(line);
        assert!(
            matches!(&read, Err(super::Stop::Error(CommandError::Syntax(m))) if m.contains("unterminated here document")),
            "{line:?}: {read:?}"
        );
    }
}

#[test]
fn the_grammar_s_work_is_bounded_over_the_whole_line() {
    // One here-document whose body takes the grammar most of the bound
    // (backtracking over `$[x[`) is read; several in one line, each parsed
    // on its own and each within the bound, are refused together: the
    // bound is the line's, not each parse's, so the refusal does not wait
    // for the deadline (and is the same on every machine).
    let doc = format!("cat <<E\n{}\nE\n", "$[x[".repeat(8));
    assert_eq!(p(&doc), ["cat"]);
    let docs = doc.repeat(3);
    assert_eq!(programs(&docs), Err(CommandError::TooComplex), "{docs:?}");
    // Ordinary lines stay far from it: a long one of quoted words and
    // substitutions is read whole.
    let long = "git commit -m \"$(date)\" -- 'a b' \"$HOME/x\"; ".repeat(100);
    assert_eq!(p(&long), ["date", "git"]);
}

#[test]
fn what_the_grammar_misreads_is_read_as_bash_does_or_dynamic() {
    // Found by the bash differential test at 100,000 lines.
    assert!(has("! time ! 'id' -", "id"));
    assert!(dynamic("! time ! $\"id\" -"), "a translated program word");
    assert!(has("! time A=1 ls </dev/null", "ls"));
    assert!(has("time time ! grep x", "grep"));
    assert!(dynamic("! time PATH=/x ls"));
    assert!(dynamic("touch ${x:-$(f() { cat; }; f)}"));
    assert!(dynamic("echo ${x:-`id`}"));
    assert_eq!(p("A=1 time ls"), ["ls", "time"]);
    // A word whose braces are not expanded hides no substitution.
    assert!(dynamic(
        "touch ${x:-$({c,zz}at; {t,zz}rue $(coproc { a '*'; } |& f() { m; }; f) \"$({i,zz}d)\")}"
    ));
    assert!(dynamic(&format!("echo $(ls {})", "{a,b}".repeat(7))));
}

#[test]
fn a_here_document_after_a_double_paren_is_dynamic() {
    // brush-parser's tokenizer reads no here-document after an unclosed
    // `((`; bash runs the body's substitutions (`rm`, the grammar reported
    // `EOF` as a program): judged dynamic, however the `((` is closed (a
    // here-string's `<<<` counts: failing closed).
    for line in [
        "true <((dd); x)\ncat <<EOF\n$(rm -rf v)\nEOF\n",
        "true >(( dd )\nx)\ncat <<EOF\n$(rm -rf v)\nEOF\n",
        "((dd); x)\ncat <<EOF\n$(rm -rf v)\nEOF\n",
        "(( i++ )); cat <<EOF\nhi\nEOF",
        "cat <<EOF; true <(( dd ); x)\n$(rm)\nEOF\n",
    ] {
        assert_eq!(p(line), [DYNAMIC], "{line:?}");
    }
    // `$((` too: bash reads `$((true); …)` as a command substitution
    // holding a subshell, and the tokenizer took the body's line for a
    // comment (the gate answered allow; found in review).
    for line in [
        "echo $((true); cat <<EOF\n#$(rm -rf v)\nEOF\n)",
        "x=$((true)\ncat <<EOF\n#$(rm -rf v)\nEOF\n)",
        "cat <<EOF\n$((1+2)) $(rm v)\nEOF\n",
        "echo $(( 2 << 1 ))",
    ] {
        assert_eq!(p(line), [DYNAMIC], "{line:?}");
    }
    // The `((` spelled so that only a re-parsed string holds it (ANSI-C
    // `\x28` under `bash -c` and `eval`): the guard reads each string the
    // grammar is given, not only the line.
    for line in [
        "bash -c $'true <\\x28(dd); x)\\ncat <<EOF\\n$(rm v)\\nEOF'",
        "eval $'true <\\x28(dd); x)\\ncat <<EOF\\n$(rm v)\\nEOF'",
    ] {
        assert!(!line.contains("(("), "{line:?}");
        assert!(dynamic(line), "{line:?}");
    }
    // Without a here-document the reading stands.
    assert_eq!(p("true <((dd); x)"), ["dd", "true", "x"]);
    assert_eq!(p("echo $(( 2 + 1 )) <<< x"), [DYNAMIC]);
    assert_eq!(p("echo $(( 2 + 1 ))"), ["echo"]);
}

/// The second red-team round's readings (2026-12-05, each confirmed in
/// bash): the forms that ran `rm` are dynamic or report it, and the
/// ordinary forms next to them keep their plain reading.
#[test]
fn the_second_rounds_forms_are_judged_and_their_neighbours_are_not() {
    // Reported through `--`, a command variable or a known wrapper.
    assert_eq!(p("eval -- 'rm e1'"), ["eval", "rm"]);
    assert_eq!(p("builtin -- eval 'rm v'"), ["builtin", "eval", "rm"]);
    assert_eq!(p("GIT_PAGER='rm -rf v' git log"), ["git", "rm"]);
    assert_eq!(p("GIT_SSH_COMMAND='ssh -i k' git fetch"), ["git", "ssh"]);
    assert_eq!(p("export EDITOR='rm v'"), ["export", "rm"]);
    assert_eq!(p("env PAGER=less man ls"), ["env", "less", "man"]);
    assert_eq!(p("setarch x86_64 -R rm v"), ["rm", "setarch"]);
    assert_eq!(p("script -q /dev/null -c 'rm s1'"), ["rm", "script"]);
    assert_eq!(p("git -c core.pager='rm v' log"), ["git", "rm"]);
    assert_eq!(p("git -c core.sshCommand='ssh -i k' push"), ["git", "ssh"]);
    assert_eq!(p("git -c pager.log=false log"), ["git"]);
    assert_eq!(p("tar -I zstd -cf a.tar.zst d"), ["tar", "zstd"]);
    assert_eq!(
        p("tar --use-compress-prog=pigz -cf a.tgz d"),
        ["pigz", "tar"]
    );
    assert_eq!(p("tar -xf a.tar --to-command='rm v'"), ["rm", "tar"]);
    assert_eq!(
        p("tar -cf a.tar d --checkpoint=10 --checkpoint-action=dot"),
        ["tar"]
    );
    assert_eq!(
        p("tar -cf a.tar d --checkpoint-action=exec='rm v'"),
        ["rm", "tar"]
    );
    assert_eq!(p("make SHELL=/bin/bash test"), ["bash", "make"]);
    assert_eq!(
        p("env NODE_OPTIONS=--max-old-space-size=4096 npm run build"),
        ["env", "npm"]
    );
    assert_eq!(p("TAR_OPTIONS=--no-same-owner tar xf a.tar"), ["tar"]);
    assert_eq!(p("MAKEFLAGS=-j8 make"), ["make"]);
    // An expanding here-document's continued lines, joined as bash joins
    // them: `$\` + newline + `(rm h1)` is a command substitution.
    assert_eq!(p("cat <<EOF\n$\\\n(rm h1)\nEOF\n"), ["cat", "rm"]);
    assert_eq!(
        p("cat > run.sh <<EOF\necho $HOME \\\n  && make\nEOF\nbash run.sh"),
        ["bash", "cat"]
    );
    assert_eq!(
        p("cat <<EOF\na\\\\\nEOF\n"),
        ["cat"],
        "an escaped backslash ends no line"
    );
    for line in [
        // The delimiter line joined to a continued last line: bash reads on.
        "cat <<EOF\nx\\\nEOF\n'$(rm v)'\nEOF\n",
        // An operator line continued onto the next.
        "cat <<EOF \\\n&& ls\nx\nEOF\n",
        "cat <<-EOF\n\tx\\\n\tEOF\n",
    ] {
        assert!(dynamic(line), "{line:?} gave {:?}", p(line));
    }
    // Dynamic: code the line does not show.
    for line in [
        "cat <<true\ntr\\\nue\nrm v\ntrue\n",
        "env a/b=c rm v",
        "env =x rm v",
        "test -v 'a[$(rm u4)]'",
        "unset 'a[`rm u1`]'",
        "compgen -W '$(rm w1)' x",
        "declare -A BASH_CMDS=([ls]=/bin/rm); ls",
        "BASH_ALIASES=([ls]='rm v'); ls",
        ". <(echo rm p1)",
        "echo 'rm p3' | . /dev/stdin",
        ". /proc/thread-self/fd/0 <<< 'rm p4'",
        "git -c alias.x='!rm v' x",
        "git --config-env=core.pager=P log",
        "make --eval=x x",
        "make -E x x",
        "tar cIf rm x.tar d",
        "/lib64/ld-linux-x86-64.so.2 /bin/rm v",
        "TAR_OPTIONS=--to-command=rm tar -xf x.tar",
        "NODE_OPTIONS='--require ./x.js' node app.js",
        "env NODE_OPTIONS=-r./x node app.js",
        "NODE_OPTIONS=--import=./x.mjs node app.js",
        "NODE_OPTIONS='--max-old-space-size=4096 --loader ./l.mjs' node app.js",
        "PERL5OPT=-Mx perl a.pl",
        "MAKEFLAGS=--eval=x make",
        "export MAKEFLAGS='CC=rm'",
        // The review of the fixes (each confirmed in bash).
        "git rebase -x 'rm v' HEAD~1",
        "git config alias.x '!rm v'; git x",
        "git config set core.pager 'rm v'",
        "GIT_CONFIG_GLOBAL=c git x",
        "git --super-prefix x/ -c core.fsmonitor='rm v;:' submodule--helper status",
        "git ls-remote --upload-pack='rm v;:' .",
        "git difftool -y -x 'rm v' HEAD~1",
        "git bisect run rm v",
        "git grep -O'rm v' b",
        "git clone -c core.fsmonitor='rm v' url d",
        "git clone --template=t url d",
        "echo x | xargs git",
        "make -f - x <<'E'\nx:\n\trm v\nE\n",
        "make \"$(cat <<<'--eval=x:;rm v')\" x",
        "make --ev* x",
        "make 'CFLAGS=$(shell rm v)'",
        "tar -xf a.tar \"$(cat <<<'--to-command=rm v')\"",
        "tar -xf a.tar --to-c*",
        "echo x | xargs tar",
        ". //dev/stdin <<< 'rm v'",
        ". /./dev/stdin <<< 'rm v'",
        "source ../../../dev/stdin <<< 'rm v'",
        "cd / && . dev/stdin <<< 'rm v'",
        "exec 3<<<'rm v'; . //dev/fd/3",
        "x='a[$(rm v)]'; test -v 'b[x]'",
        "x='a[$(rm v)]'; [ -v 'b[x]' ]",
        "x='a[$(rm v)]'; b=(1); unset 'b[x]'",
        "x='a[$(rm v)]'; declare -a b=([x]=1)",
        "printf -v GIT_EXTERNAL_DIFF 'rm v;:'",
        "read -r GIT_EXTERNAL_DIFF <<< 'rm v;:'",
        // The second review (each confirmed in bash).
        "o=-v; [ \"$o\" 'a[$(rm v)]' ]",
        "test $(echo -v) 'a[$(rm v)]'",
        "[ \"$o\" \"$p\" ]",
        "i='x[$(rm v)]'; declare -a b=([i]=1) -A",
        "cat <<\\\nEOF\n$\\\n(rm v)\nEOF\n",
        "cat <<E\\\nOF\n$\\\n(rm v)\nEOF\n",
        "git rebase --ex 'rm v' HEAD~1",
        "git clone -q --up='rm v;:' --no-local . ../x",
        "git push --e='rm v;:' . HEAD:refs/heads/x",
        "git ls-remote --exec='rm v;:' .",
        "git fetch-pack --upload-pack='rm v' . HEAD",
        "git send-pack --receive-pack='rm v;:' . HEAD",
        "git clone -q --conf=protocol.ext.allow=always 'ext::sh -c rm% v' x",
        "git clone --conf protocol.ext.allow=always 'ext::sh -c rm% v' x",
        "git config --file color./../.git/config alias.q '!rm v'; git q",
        "TAR_OPTIONS='\"--to-command=rm v\"' tar xf a.tar",
        "for TAR_OPTIONS in --to-command=rm; do export TAR_OPTIONS; tar xf a.tar; done",
        "for PATH in /tmp; do ls; done",
        "set -o history; history -s x; fc -s x='rm v'",
        "fc -e rm",
        // The third review (each confirmed in bash).
        "set -k; git commit -q --allow-empty GIT_EDITOR='rm v'",
        "set -ek; tar -xf a.tar TAR_OPTIONS=--to-command=rm",
        "set -o keyword; ls",
        "shopt -so keyword",
        "x='-v a[$(rm${IFS}v)]'; [ $x ]",
        "test $x",
        "[ $(cat f) ]",
        // The sixth review (each confirmed with a logging stub).
        "y=$(printf Irm); tar -xf a.tar -x\"$y\"",
        "y=$(printf -- -Irm); tar --list \"$y\" -f a.tar",
        "y=$(printf -- -Irm); tar -tf a.tar -Vf \"$y\"",
        "y=$(printf ' --to-command=rm'); tar -xf a.tar f$y",
        "x=$(printf -- '--eval=x:;rm v'); make -j \"$x\" x",
        "make -o -C \"$x\" x",
        "make -k\"$y\" x",
        "make x$x",
        "git fetch .$x",
        "git fetch ../a @(--u*)",
        "git config \"a$x\" '!rm v'",
        "set -eo keyword; git commit GIT_EDITOR='rm v'",
        "set -ko pipefail",
        "bash -k -c 'git commit GIT_EDITOR=x'",
        "bash -o keyword -c 'ls'",
        "git -c advice.repo=. for-each-repo --config=advice.repo -- -c 'alias.q=!rm v' q",
        "echo x | git remote-ext x 'rm v'",
        "git instaweb --httpd='rm m'",
        // The seventh review (each confirmed with a logging stub).
        "export GIT_EDITOR=r; GIT_EDITOR+=m git commit --allow-empty -q",
        "export GIT_EDITOR=r GIT_EDITOR+=m; git commit",
        "GIT_TEST_MAINT_SCHEDULER='crontab:rm v' git maintenance start --scheduler=crontab",
        "GIT_EXEC_PATH=/tmp/x git status",
        "install -s --strip-program=rm a b",
        "seq 200000 | sort -S 1k -T . --compress-program=rm",
        "seq 10 | split --filter='rm v'",
        "sdiff --diff-program=rm a a",
        "diff3 --diff-program=rm a a a",
        "choom -n 0 rm v",
        "ssh-agent rm v",
        "/usr/sbin/logsave /dev/null rm v",
        "dpkg-architecture -c rm v",
        "gcc -wrapper rm,v -E -x c /dev/null -o /dev/null",
        "sqlite3 :memory: '.shell rm v'",
        "zip -T -TT 'rm v' z.zip f",
        "prove -e 'rm v' x.t",
        // The eighth review (each confirmed with a logging stub).
        "jobs -x rm v",
        "command jobs -x rm v",
        "x=\"b[\\$(rm v)]\"; : {a[x]}>y",
        "echo {a[x]}>y",
        "set -a; exec {BASH_ENV}>x; ldd /bin/true",
        ": {PATH}>x; ls v",
        "$\"ls\" v",
        "eval $\"ls\"",
        "bash -c $\"ls\"",
    ] {
        assert!(dynamic(line), "{line:?} gave {:?}", p(line));
    }
    // Their ordinary neighbours.
    assert_eq!(p("[ -f Cargo.toml ] && ls"), ["[", "ls"]);
    assert_eq!(
        p("git -c user.name=bot -c color.ui=never commit -m x"),
        ["git"]
    );
    assert_eq!(p("git -C repo status && make test"), ["git", "make"]);
    assert_eq!(p("tar -xzf a.tgz && tar --totals -cf b.tar d"), ["tar"]);
    assert_eq!(p("make -j4 CC=clang all"), ["clang", "make"]);
    assert_eq!(p("make -f Makefile.ci -o \"$OLD\" all"), ["make"]);
    assert_eq!(p("git fetch origin \"refs/heads/$B\""), ["git"]);
    assert_eq!(
        p("sort -u a.txt && split -l 100 big.txt && install -m 755 a /usr/local/bin/a"),
        ["install", "sort", "split"]
    );
    assert_eq!(
        p("gcc -O2 -o app main.c && sqlite3 db.sqlite 'select 1'"),
        ["gcc", "sqlite3"]
    );
    assert_eq!(p("PATHS=a; PATHS+=b; ls"), ["ls"]);
    assert_eq!(p("make CFLAGS=-O2 all"), ["make"]);
    assert_eq!(p("env FOO=1 ls"), ["env", "ls"]);
    assert_eq!(p(". ./env.sh"), ["."]);
    assert_eq!(p("diff <(ls a) <(ls b)"), ["diff", "ls"]);
    assert_eq!(p("grep -r 'a[0-9]' src"), ["grep"]);
    // Operands of external programs are theirs: no subscript is evaluated.
    assert_eq!(p("awk '{sum[$(NF-1)] += $NF}' data.txt"), ["awk"]);
    assert_eq!(p("sed -i 's/\\[$(VERSION)\\]/[1.2]/' README.md"), ["sed"]);
    assert_eq!(p("git commit -m 'fix a[$(i)] indexing'"), ["git"]);
    // A quoted here-document keeps its `\` lines.
    assert_eq!(
        p("cat > run.sh <<'EOF'\necho start \\\n  && make\nEOF\n"),
        ["cat"]
    );
    assert_eq!(
        p("python3 - <<\"EOF\"\nx = 1 + \\\n  2\nEOF\n"),
        ["python3"]
    );
    // Names builtins read, as literals; numbers are not evaluated by
    // `test -eq`, `kill`, `exit`, `shift`, `printf %d`, `ulimit` (bash 5.2:
    // a literal `a[$(touch f)]` there runs nothing, checked).
    assert_eq!(p("exit 0"), ["exit"]);
    assert_eq!(p("test 3 -gt 2 && kill -9 1234 %1"), ["kill", "test"]);
    assert_eq!(p("unset a 'b[1]' && test -v c"), ["test", "unset"]);
    assert_eq!(p("printf '%s: %d\\n' \"$name\" \"$n\""), ["printf"]);
    assert_eq!(p("kill \"$PID\"; rc=$?; exit \"$rc\""), ["exit", "kill"]);
    assert_eq!(
        p("test \"$status\" -ne 0 && [ \"$n\" -gt 5 ]"),
        ["[", "test"]
    );
    assert_eq!(
        p("make test; [ $? -eq 0 ] && [[ \"$#\" -gt 1 ]] && exit \"$?\""),
        ["[", "exit", "make"]
    );
    assert_eq!(p("sleep 10 & wait $! && wait \"$!\""), ["sleep", "wait"]);
    assert!(dynamic("wait \"$pid\""), "it may be -pa[$(…)]");
    assert!(dynamic("wait -p 'a[$(rm v)]'"));
    assert!(dynamic("[[ $n -gt 5 ]]"), "[[ evaluates arithmetic");
    // Unknown words where they cannot become a command-running option.
    assert_eq!(
        p("git commit -m \"$MSG\" && git checkout -b \"feature/$T\""),
        ["git"]
    );
    assert_eq!(
        p("git tag \"v$VERSION\" && git show \"$SHA\" && git log -n \"$N\""),
        ["git"]
    );
    assert_eq!(
        p("git branch --merged | xargs -r git branch -d"),
        ["git", "xargs"]
    );
    assert!(
        dynamic("git clone \"$REPO_URL\" repo"),
        "it may be --upload-pack=…"
    );
    assert!(dynamic("git push origin \"$(git rev-parse HEAD)\""));
    assert_eq!(
        p("tar -czf \"$OUT\" src/ && tar -xf \"$ARCHIVE\" -C \"$DIR\""),
        ["tar"]
    );
    assert_eq!(
        p("tar -czf \"backup-$(date +%F).tar.gz\" data/"),
        ["date", "tar"]
    );
    assert!(dynamic("tar -xf a.tar \"$OPT\""));
    assert_eq!(
        p("make -j\"$(nproc)\" && make -C \"$DIR\" test"),
        ["make", "nproc"]
    );
    assert!(dynamic("make \"$TARGET\""), "it may be --eval=…");
    assert_eq!(p("kill -s TERM 1234 && kill -TERM %1"), ["kill"]);
    assert_eq!(
        p("[ \"$a\" = \"$b\" ] && [ -n \"$x\" ] && [ -f \"$f\" -a -d \"$d\" ]"),
        ["["]
    );
    assert_eq!(
        p("for GIT_EDITOR in 'rm v'; do export GIT_EDITOR; done"),
        ["export", "rm"]
    );
    assert_eq!(p("for f in *.txt; do wc -l \"$f\"; done"), ["wc"]);
    assert_eq!(p("fc -l"), ["fc"]);
    // `{fd}` before a redirection is a descriptor: the command follows.
    assert_eq!(p("{fd}>x rm v"), ["rm", "{fd}"]);
    assert_eq!(p("exec {fd}>x rm v"), ["exec", "rm", "{fd}"]);
    // `{name}` with no redirection after it is a plain word (bash prints
    // it): no descriptor variable is assigned.
    assert_eq!(p("echo {PATH} {BASH_ENV} {a[$x]}; ls"), ["echo", "ls"]);
    assert!(
        dynamic("printf '%s\\n' {GIT_PAGER} >out"),
        "a redirection after it, spaced or not"
    );
    assert_eq!(
        p("echo {PATH}2>x; ls"),
        ["echo", "ls"],
        "not a name, so not a descriptor"
    );
    // An empty word from brace expansion is dropped.
    assert_eq!(p("{,rm} v"), ["rm"]);
    assert_eq!(p("env {,,rm} v"), ["env", "rm"]);
    assert_eq!(p("set -euo pipefail; make"), ["make", "set"]);
    assert_eq!(p("set -o; set -- \"$@\" -k"), ["set"]);
    assert_eq!(p("[ -z \"$1\" ] && [ $# -gt 0 ]"), ["["]);
    assert_eq!(
        p("git config --file ../other/.git/config user.name bot"),
        ["git"]
    );
    // git settings and subcommands that run nothing.
    assert_eq!(p("git -c credential.helper= push"), ["git"]);
    assert_eq!(p("git -c merge.conflictStyle=diff3 merge main"), ["git"]);
    assert_eq!(
        p("git config user.email a@b.c && git config --get core.pager"),
        ["git"]
    );
    assert_eq!(p("git rebase -i --autosquash main"), ["git"]);
    assert_eq!(p("git ls-files -z | xargs -0 git add"), ["git", "xargs"]);
    assert_eq!(p(". ../venv/bin/activate"), ["."]);
    assert_eq!(
        p("declare -A m=([a]=1 [b-2]=2) && declare -a n=([0]=x)"),
        ["declare"]
    );
    assert!(dynamic("declare -A m=([$(rm v)]=1)"));
    assert_eq!(p("git -c core.hooksPath=/dev/null commit -m x"), ["git"]);
    assert!(dynamic("git -c core.hooksPath=.hooks commit -m x"));
}

/// Programs with an option that runs a program of the caller's choosing,
/// found by this session's review (each confirmed in a real run where the
/// program is installed: `rustc -C linker=`, `gcc -B`, `COMPILER_PATH`,
/// `ssh -o ProxyCommand` before and after the destination, `scp -S`).
#[test]
fn options_that_run_a_chosen_program_are_judged() {
    all_dynamic(&[
        "rustc -C linker=/tmp/x x.rs",
        "rustc -Clinker=rm x.rs",
        "rustc --codegen link-arg=-wrapper x.rs",
        "rustc -C link-args=-fuse-ld=/tmp/x x.rs",
        "rustc -Z unpretty=expanded x.rs",
        "rustc @args x.rs",
        "rustc --extern m=libm.so x.rs",
        "rustc -L . x.rs",
        "rustc -C \"$FLAG\" x.rs",
        "gcc -B/tmp/x/ c.c",
        "gcc -B /tmp/x/ c.c",
        "cc -fplugin=./p.so c.c",
        "gcc -Wl,-plugin,/tmp/p.so c.c",
        "gcc -Xlinker -plugin -Xlinker /tmp/p.so c.c",
        "gcc -specs=/tmp/s c.c",
        "gcc @opts c.c",
        "gcc -Wl,@/tmp/o c.c",
        "clang --ld-path=/tmp/ld c.c",
        "clang -fuse-ld=/tmp/ld c.c",
        "clang -Xclang -load -Xclang ./p.so c.c",
        "clang --config=/tmp/c.cfg c.c",
        "gcc $CFLAGS c.c",
        "COMPILER_PATH=/tmp/x gcc c.c",
        "GCC_EXEC_PREFIX=/tmp/x/ gcc c.c",
        "CCC_OVERRIDE_OPTIONS='+-fplugin=x.so' clang c.c",
        "rg --pre ./x pattern",
        "rg --pre=rm pattern",
        "rg -i --pre rm pattern",
        "RIPGREP_CONFIG_PATH=/tmp/c rg x",
        "man -P 'rm v' ls",
        "man --pager=rm ls",
        "man -aP rm ls",
        "man -Hfirefox ls",
        "man --html=rm ls",
        "MANOPT='-P rm' man ls",
        "rsync -e \"$SHELL_CMD\" a h:b",
        "ssh -o ProxyCommand=\"$P\" h",
        "ssh -F /tmp/cfg h",
        "ssh -I /tmp/p11.so h",
        "ssh -o PKCS11Provider=/tmp/p.so h",
        "ssh -oSecurityKeyProvider=/tmp/p.so h",
        "scp -S /tmp/x a h:b",
        "scp -D /tmp/sftp-server a h:b",
        "scp -F /tmp/cfg a h:b",
        "sftp h",
        "sftp -b cmds h",
        // Found by the eleventh session's pass over the leftovers.
        "SSH_SK_PROVIDER=/tmp/p.so ssh h",
        "RUST_TARGET_PATH=/tmp/t rustc --target evil x.rs",
        "CROSS_COMPILE=/tmp/x/ make",
        "CARGO_HOME=/tmp/c cargo build",
        "RUSTUP_TOOLCHAIN=/tmp/tc cargo build",
        "RUSTFLAGS='-C linker=/tmp/x' cargo build",
        "RUSTFLAGS=-Clinker=/tmp/x cargo build",
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS='-L /tmp' cargo build",
        "CARGO_ENCODED_RUSTFLAGS=$'-C\x1flinker=/tmp/x' cargo build",
        "RUSTDOCFLAGS='--runtool /tmp/x' cargo test --doc",
        "CFLAGS=-B/tmp/x/ make",
        "LDFLAGS='-fuse-ld=/tmp/ld' make",
        "CPPFLAGS=-fplugin=/tmp/p.so make",
        "clang -ccc-install-dir /tmp/x c.c",
        "clang --gcc-toolchain=/tmp/gcc c.c",
        "clang --gcc-install-dir=/tmp/gcc/lib/gcc/x86_64-linux-gnu/12 c.c",
        "git --git-dir=/tmp/evil status",
        "git --git-dir /tmp/evil log",
        // The review of the above: make's own command line exports its
        // variables to the recipes; cargo's own options; the cc crate's
        // and CMake's variables; a toolchain or target named by path.
        "make CROSS_COMPILE=/tmp/x/",
        "make CFLAGS=-B/tmp/x/",
        "make RUSTFLAGS=-Clinker=/tmp/x",
        "make LD_PRELOAD=/tmp/x.so",
        "make PATH=/tmp/evil:/usr/bin:/bin test",
        "cargo build --config build.rustc-wrapper=/tmp/x",
        "cargo --config /tmp/c.toml build",
        "cargo --config=/tmp/c.toml build",
        "cargo rustc -- -C linker=/tmp/x",
        "cargo --color always rustc -- -Clinker=/tmp/x",
        "cargo rustdoc -- --runtool /tmp/x",
        "cargo build --target /tmp/x.json",
        "cargo build --target=spec.json",
        "cargo -Zunstable-options build",
        "cargo -vZ build-std build",
        "cargo +/tmp/tc build",
        "CARGO_BUILD_TARGET=/tmp/x.json cargo build",
        "RUSTUP_TOOLCHAIN=/tmp/tc cargo build",
        "RUSTUP_TOOLCHAIN=./tc cargo build",
        "RUSTC_WRAPPER='ls x/y' cargo build",
        "RUSTC_WRAPPER='rm v' cargo build",
        "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER='/tmp/a b' cargo build",
        "TARGET_CFLAGS=-B/tmp/x cargo build",
        "CFLAGS_x86_64_unknown_linux_gnu=-fplugin=/tmp/p.so cargo build",
        "ARFLAGS='--plugin /tmp/p.so' make",
        "CMAKE_TOOLCHAIN_FILE=/tmp/t.cmake cmake -B b",
    ]);
    reads_as(&[
        ("TARGET_CC=rm cargo build", &["cargo", "rm"]),
        (
            "CC_x86_64_unknown_linux_gnu='rm v' cargo build",
            &["cargo", "rm"],
        ),
        ("HOST_CXX=rm cargo build", &["cargo", "rm"]),
        (
            "CARGO_REGISTRY_CREDENTIAL_PROVIDER='rm v' cargo publish",
            &["cargo", "rm"],
        ),
        (
            "CMAKE_CROSSCOMPILING_EMULATOR=rm cmake -B b",
            &["cmake", "rm"],
        ),
        (
            "RUSTC_WRAPPER=/usr/bin/sccache cargo build",
            &["cargo", "sccache"],
        ),
    ]);
    // Programs named by cargo's and CMake's variables are read as programs.
    reads_as(&[
        ("RUSTC=rm cargo build", &["cargo", "rm"]),
        (
            "CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER='rm v' cargo run",
            &["cargo", "rm"],
        ),
        (
            "CARGO_TARGET_AARCH64_LINKER=rm cargo build",
            &["cargo", "rm"],
        ),
        (
            "CMAKE_C_COMPILER_LAUNCHER=rm cmake --build b",
            &["cmake", "rm"],
        ),
        ("PKG_CONFIG=rm cargo build", &["cargo", "rm"]),
    ]);
    // Ordinary flags keep their reading.
    reads_as(&[
        ("RUSTFLAGS='-D warnings' cargo build", &["cargo"]),
        ("RUSTFLAGS='-C target-cpu=native' cargo build", &["cargo"]),
        ("CFLAGS='-O2 -Wall' LDFLAGS=-lm make", &["make"]),
        ("RUSTC_WRAPPER=sccache cargo build", &["cargo", "sccache"]),
        ("git -C repo status", &["git"]),
        ("git --work-tree=w status", &["git"]),
        ("RUSTUP_TOOLCHAIN=nightly cargo build", &["cargo"]),
        ("RUSTUP_TOOLCHAIN=1.95.0 cargo test", &["cargo"]),
        (
            "RUSTFLAGS='-D warnings -A clippy::Large_enum_variant' cargo build",
            &["cargo"],
        ),
        ("make CFLAGS=-O2 LDFLAGS=-lm", &["make"]),
        (
            "cargo build --release --target x86_64-unknown-linux-musl",
            &["cargo"],
        ),
        ("cargo +nightly test -p gait-run -- --nocapture", &["cargo"]),
        ("cargo rustc --release -- -C opt-level=3", &["cargo"]),
        (
            "cargo clippy --workspace --all-targets -- -D warnings",
            &["cargo"],
        ),
    ]);
    // Command lines they run locally are read.
    reads_as(&[
        ("rsync -e 'rm -rf v' a h:b", &["rm", "rsync"]),
        ("rsync -avze 'rm v' a h:b", &["rm", "rsync"]),
        ("rsync -avz -e'rm v' a h:b", &["rm", "rsync"]),
        ("rsync --rsh='rm v' a h:b", &["rm", "rsync"]),
        ("rsync --rsh 'rm v' a h:b", &["rm", "rsync"]),
        ("ssh -o ProxyCommand='rm v' h", &["rm", "ssh"]),
        ("ssh -o 'proxycommand rm v' h", &["rm", "ssh"]),
        ("ssh -vo ProxyCommand=rm h", &["rm", "ssh"]),
        (
            "ssh -oLocalCommand='rm v' -o PermitLocalCommand=yes h",
            &["rm", "ssh"],
        ),
        ("ssh h -o KnownHostsCommand='rm v' uptime", &["rm", "ssh"]),
        ("scp -o ProxyCommand='rm v' a h:b", &["rm", "scp"]),
    ]);
    // Their ordinary neighbours keep their reading.
    reads_as(&[
        (
            "rustc -O -C opt-level=3 --edition 2021 linked_list.rs",
            &["rustc"],
        ),
        ("rustc --codegen opt-level=2 x.rs", &["rustc"]),
        ("gcc -O2 -Wall -g -o app main.c -lm", &["gcc"]),
        ("clang -fuse-ld=lld -std=c11 c.c", &["clang"]),
        ("rg -n --pretty --pre-glob '*.gz' TODO src", &["rg"]),
        ("man 3 printf", &["man"]),
        ("man -k socket", &["man"]),
        ("rsync -avz --delete src/ h:dst/", &["rsync"]),
        ("rsync -avz -e 'ssh -p 2222' src/ h:dst/", &["rsync", "ssh"]),
        ("ssh -p 2222 -i key h uptime", &["ssh"]),
        ("ssh h df -h", &["ssh"]),
        ("ssh -o ProxyCommand='ssh -W %h:%p bastion' h", &["ssh"]),
        (
            "ssh -J bastion -o StrictHostKeyChecking=no h ls -la",
            &["ssh"],
        ),
        ("scp -P 2222 -r dir h:", &["scp"]),
    ]);
}

/// The review of the runners above (each read as the program reads it:
/// OpenSSH's configuration-line reading and `%` tokens, popt's `-e=`,
/// gcc's long spellings; confirmed with OpenSSH 9.2, gcc 12, rustc 1.95).
#[test]
fn the_runners_are_read_as_the_programs_read_them() {
    reads_as(&[
        ("ssh -o \"=ProxyCommand=rm v\" h", &["rm", "ssh"]),
        ("ssh -o '\"ProxyCommand\" rm v' h", &["rm", "ssh"]),
        ("ssh -o ' = ProxyCommand rm v' h", &["rm", "ssh"]),
        ("ssh -o \"ProxyCommand==rm v\" h", &["rm", "ssh"]),
        ("ssh -o 'ProxyCommand=%h v' rm", &["rm", "ssh"]),
        ("ssh -o 'ProxyCommand=%h v' u@rm", &["rm", "ssh"]),
        ("ssh -l rm -o 'ProxyCommand=%r v' h", &["rm", "ssh"]),
        ("ssh -o 'ProxyCommand=nc %h %p' -p 2222 h", &["nc", "ssh"]),
        ("ssh -o 'ProxyCommand=printf %%h' h", &["printf", "ssh"]),
        ("rsync -e=rm a h:b", &["rm", "rsync"]),
        ("rsync -ave=rm a h:b", &["rm", "rsync"]),
        ("rsync --exclude -- -e 'rm v' a h:b", &["rm", "rsync"]),
        (
            "rustc --target x86_64-unknown-linux-gnu -O x.rs",
            &["rustc"],
        ),
        ("man -a printf", &["man"]),
    ]);
    all_dynamic(&[
        "ssh -o 'ProxyCommand=%d x' h",
        "ssh -o 'ProxyCommand=%r x' h",
        "ssh -o '\"Proxy Command\" x' h",
        "ssh -o SmartcardDevice=/tmp/p.so h",
        "ssh -o XAuthLocation=/tmp/x -X h",
        "gcc --prefix=/tmp/x/ c.c",
        "gcc --prefix /tmp/x/ c.c",
        "gcc --for-linker=@/tmp/o c.c",
        "gcc --for-assembler=@/tmp/o c.c",
        "clang -Xclang=-load -Xclang=./p.so c.c",
        "clang -cc1 -load ./p.so c.c",
        "x86_64-linux-gnu-gcc-12 -B/tmp/x/ c.c",
        "c99 -B/tmp/x/ c.c",
        "cpp -B/tmp/x/ c.c",
        "rustc --sysroot /tmp/sr x.rs",
        "rustc --sysroot=/tmp/sr x.rs",
        "rustc -C dlltool=/tmp/x x.rs",
        "rustc --target /tmp/t.json x.rs",
        "rustc --target=./t.json x.rs",
        "rustdoc --test lib.rs",
        "rg --hostname-bin=./x --hyperlink-format=default TODO src",
        "man --ht=rm ls",
        "man --pa=rm ls",
        "man -C /tmp/cfg ls",
        "man --config-file=/tmp/c ls",
        "GIT_DIR=/tmp/evil git status",
    ]);
}

/// The second review of the runners (each confirmed with the real program
/// making a file: rustc clusters and response files, gcc response files,
/// ssh's jump hosts, its lower-cased host, `HostName`/`User` options and
/// first `-l`; ld and nm plugins).
#[test]
fn the_runners_second_review() {
    all_dynamic(&[
        "rustc -gClinker=/tmp/x x.rs",
        "rustc -OC linker=/tmp/x x.rs",
        "rustc -gL/tmp x.rs",
        "rustc \"@$(echo /tmp/args)\" x.rs",
        "gcc \"@$(echo /tmp/resp)\" c.c",
        "ssh -J 'b&touch${IFS}x' h",
        "ssh -o 'ProxyJump=b&touch${IFS}x' h",
        "scp -J 'b&touch${IFS}x' f h:",
        "ssh -o Hostname=touch -o 'ProxyCommand=%h x' h",
        "ssh -o User=touch -o 'ProxyCommand=%r x' ls@h",
        "ssh -o 'ProxyCommand=%h x' 'a&b'",
        "ld -plugin /tmp/e.so -o o x.o",
        "/usr/lib/gcc/x86_64-linux-gnu/12/cc1 -quiet -fplugin=/tmp/e.so c.c",
        "nm --plugin /tmp/e.so x.o",
        "ar --plugin /tmp/e.so rcs a.a x.o",
    ]);
    reads_as(&[
        ("ssh -o 'ProxyCommand=%h x' TOUCH", &["ssh", "touch"]),
        (
            "ssh -l touch -l ls -o 'ProxyCommand=%r x' h",
            &["ssh", "touch"],
        ),
        (
            "rsync -e 'bash -c' f 'touch x;:':d",
            &["bash", "rsync", "touch"],
        ),
        // rsync's `[-l USER] HOST RSYNC_PATH --server` after the shell:
        // the user is the script, the host a program, a URL's host too.
        (
            "rsync -e 'bash -c' f 'touch x;:@h':d",
            &["bash", "rsync", "touch"],
        ),
        ("rsync -e env a touch:x", &["env", "rsync", "touch"]),
        (
            "rsync -e 'bash -c' a 'rsync://touch x;:/m' d",
            &["bash", "rsync", "touch"],
        ),
        ("rsync -e env --rsync-path=rm a h:x", &["env", "h", "rsync"]),
        (
            "rsync -avz -e 'ssh -p 2222' src/ u@h:dst/",
            &["rsync", "ssh"],
        ),
        ("ssh -J bastion h uptime", &["ssh"]),
        ("rustc -g -O x.rs", &["rustc"]),
        ("nm -C x.o", &["nm"]),
    ]);
}

/// The eleventh session's red team (each confirmed with bash and the real
/// program on this machine: a stub or a library whose load-time code wrote
/// a file).
#[test]
fn the_eleventh_red_team_round_is_judged() {
    all_dynamic(&[
        // History expansion rewrites a later line before it is parsed.
        "set -o history -H\ntrue '\" ; rm -rf v ; \"'\nls \"!!:1\"",
        "set -H; ls",
        "set -o histexpand; ls",
        "shopt -os history histexpand; ls",
        "bash -H -o history -c 'ls'",
        // One-letter prefixes of long options.
        "split --f='rm -rf v' f",
        "sort --co=PROG -S 100K f",
        "sdiff --d=PROG a b",
        "diff3 --d=PROG a b c",
        // zip's test command.
        "zip -T -qTT 'touch P' a.zip f",
        "zip --unzip-c CMD a.zip f",
        "zip -TT=PROG a.zip f",
        "zip -TTPROG a.zip f",
        "ZIPOPT='-T -TT \"touch P\"' zip a.zip f",
        // git.
        "git daemon --detach --access-hook='touch x; true' /tmp/r",
        "git submodule--helper foreach 'touch x'",
        "/usr/lib/git-core/git-rebase -x 'touch x' HEAD~1",
        "git maintenance start --scheduler=crontab",
        "HOME=/tmp/h git status",
        "XDG_CONFIG_HOME=/tmp/c git st",
        // groff through man.
        "echo '.sy touch x' | MANROFFOPT=-U man -l -",
        "GROFF_BIN_PATH=/tmp/d man -l x.1",
        "groff -U -Tutf8 x.ms",
        // less's key files.
        "less --lesskey-src=k f.txt",
        "less --lesskey-s=k f.txt",
        "LESSKEYIN=k less f.txt",
        "LESS=--lesskey-src=k less f.txt",
        "LESS=FRXk less f.txt",
        // prove's interpreter.
        "prove --exe='touch x' t/a.t",
        "prove -ve 'touch x' t/a.t",
        "prove -e'touch x' t/a.t",
        // Programs named by options.
        "wget --use-askpass=PROG https://example.com/",
        "wget -e use_askpass=PROG https://example.com/",
        "WGETRC=/tmp/w wget https://example.com/",
        "gpg --agent-program PROG --card-status",
        "gpg --dirmngr-program PROG --recv-keys 0x1",
        // Libraries loaded.
        "OPENSSL_CONF=o.cnf curl -s file:///dev/null",
        "openssl req -engine ./evil.so -new",
        "openssl engine dynamic -pre SO_PATH:./evil.so -pre LOAD",
        "ssh-keygen -D ./evil.so",
        "GCONV_PATH=/tmp/d iconv -f EVIL -t UTF-8 /dev/null",
        "GCC_COMPARE_DEBUG='-fplugin=./evil.so' gcc -c c.c",
        "nm --pl ./evil.so o.o",
        "ar --plu ./evil.so rc l.a o.o",
        "PERL5LIB=/tmp/d shasum f",
        "PYTHONPATH=/tmp/d yq . f.yaml",
        // The review of the above.
        "bash -i <<'EOF'\ntrue '\" ; touch P ; \"'\nls \"!!:1\"\nEOF",
        "bash -i -s <<< 'ls'",
        "gpg --agent-prog STUB --card-status",
        "gpg --opt F --card-status",
        "gpg --photo-v x --list-keys",
        "gpg --home /tmp/g --list-keys",
        "openssl req -config o.cnf -new",
        "openssl ts -query -conf o.cnf",
        "openssl req -provider ./p -new",
        "SYSTEM_WGETRC=/tmp/w wget --user=x https://example.com/",
        "ZDOTDIR=/tmp/z zsh -c ls",
        "JAVA_TOOL_OPTIONS=-agentpath:/tmp/a.so java -version",
        "npm_config_script_shell=/tmp/sh npm test",
        "NPM_CONFIG_SCRIPT_SHELL=/tmp/sh npm test",
        "prove -ve x t",
        "wget -qe use_askpass=x https://example.com/",
        "less -k keys f",
        "groff -U x",
    ]);
    // find ends `-exec … {} +` at a quoted `{}` too: the next `-exec` is
    // read.
    reads_as(&[
        (
            "find . -maxdepth 0 -exec true '{}' + -exec rm -rf v \\;",
            &["find", "rm", "true"],
        ),
        (
            "find . -exec true \"{}\" + -exec rm v \\;",
            &["find", "rm", "true"],
        ),
    ]);
    // Their ordinary neighbours keep their reading.
    reads_as(&[
        ("set -euo pipefail; ls", &["ls", "set"]),
        ("set -o pipefail -e; ls", &["ls", "set"]),
        ("find . -name '*.rs' -exec wc -l {} +", &["find", "wc"]),
        ("find . -exec echo '{}' \\;", &["echo", "find"]),
        ("sort -S 100K --parallel=2 f", &["sort"]),
        ("split -l 100 f part-", &["split"]),
        ("zip -r a.zip dir", &["zip"]),
        ("prove -lr t/", &["prove"]),
        ("wget -q -O out https://example.com/", &["wget"]),
        ("gpg --verify a.sig a", &["gpg"]),
        ("openssl x509 -in c.pem -noout -text", &["openssl"]),
        ("ssh-keygen -t ed25519 -f k -N x", &["ssh-keygen"]),
        ("less -R f.txt", &["less"]),
        ("LESS=FRX git log", &["git"]),
        ("git log --oneline -5", &["git"]),
        ("groff -Tutf8 -ms x.ms", &["groff"]),
        ("groff -mandoc -Tutf8 x.1", &["groff"]),
        ("prove -Ilocal/lib/perl5 -r t", &["prove"]),
        ("prove -PPrettyTime t", &["prove"]),
        ("wget -Ofile.tar https://example.com/f", &["wget"]),
        ("wget -O \"$out\" https://example.com/f", &["wget"]),
        ("less -P prompt-k f", &["less"]),
        ("ssh-keygen -f \"$K\" -N x", &["ssh-keygen"]),
        ("openssl list -providers", &["openssl"]),
        ("openssl enc -provider legacy -d -in f", &["openssl"]),
        ("install --strip a /usr/local/bin/a", &["install"]),
        ("find . -ok rm {} + \\;", &["find", "rm"]),
    ]);
}

/// The sixth red team's round (a command word opening a subscript bash
/// reads to its `]`, `$'…'` continued over a line, `$"…"` translated,
/// the debugger's shells, the ssh variables that make bash read
/// ~/.bashrc): the everyday forms around them stay resolved.
#[test]
fn the_forms_around_the_sixth_rounds_cases_stay_resolved() {
    reads_as(&[
        ("a[1]=x; ls", &["ls"]),
        ("x=1 ls", &["ls"]),
        ("ls a[b", &["ls"]),
        ("bash -c $'ls\\nwc -l f'", &["bash", "ls", "wc"]),
        ("bash -c 'ls \\\nx'", &["bash", "ls"]),
        ("echo $'a\\tb' \\\n c", &["echo"]),
        ("bash -e -c ls", &["bash", "ls"]),
        ("bash -x -o pipefail -c ls", &["bash", "ls"]),
        ("bash --norc --noprofile -c ls", &["bash", "ls"]),
        ("bash -O globstar -c ls", &["bash", "ls"]),
        ("SSH_AUTH_SOCK=x ssh h ls", &["ssh"]),
        ("exec ls", &["exec", "ls"]),
        ("echo $\"hi\"", &["echo"]),
        // A login shell reads profiles: script files, out of sight like
        // `bash FILE` (docs/security/threat_model.md).
        ("bash -lc ls", &["bash", "ls"]),
    ]);
    all_dynamic(&[
        "a[/ls #];rm v",
        "ls; b[x y]=1",
        "ssh -o $\"ProxyCommand=ls\" h",
        "git -c $\"core.pager=ls\" log",
        "bash -c $\"ls\"",
        "bash --debugger -c ls",
        "bash -O extdebug -c ls",
        "SHLVL=1 bash -c ls",
        "export SSH_CLIENT=x; bash -c ls",
    ]);
}
