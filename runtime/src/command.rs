//! Shell-aware command analysis (runtime.md §3): every program a command
//! line runs.
//!
//! The line is split into simple commands at `;` `&` `|` `&&` `||`, newlines,
//! `$(`, backticks, `(` and `)` (outside quotes; command substitutions are
//! found inside double quotes too). In each simple command, leading
//! `NAME=value` words, shell keywords and wrappers (`sudo doas env nohup time
//! nice ionice timeout command exec xargs stdbuf busybox`, with their options
//! and `timeout`'s duration) are skipped; the basename of the next word is a
//! program. `sh -c S`, `bash -c S`, `zsh -c S` (and `dash`, `ksh`, `env -S S`,
//! `eval S`) recurse into `S`. Analysis is conservative: when in doubt a word
//! is reported as a program, never silently dropped.

const WRAPPERS: &[&str] = &[
    "sudo", "doas", "env", "nohup", "time", "nice", "ionice", "timeout", "command", "exec",
    "xargs", "stdbuf", "busybox",
];
const SHELLS_WITH_C: &[&str] = &["sh", "bash", "zsh", "dash", "ksh", "ash", "mksh"];
/// Reserved words that may precede a command.
const KEYWORDS: &[&str] = &[
    "!", "{", "}", "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "[[", "]]",
    "coproc",
];
/// Constructs whose first words are not commands (`for NAME in ...`).
const NON_COMMAND: &[&str] = &["for", "select", "case", "esac", "in"];
/// Recursion bound for nested `sh -c` (hostile inputs nest arbitrarily).
const MAX_DEPTH: usize = 16;

/// Options of wrappers that take an argument.
fn option_takes_arg(wrapper: &str, opt: &str) -> bool {
    match wrapper {
        "sudo" => matches!(
            opt,
            "-u" | "-g"
                | "-C"
                | "-D"
                | "-h"
                | "-p"
                | "-r"
                | "-t"
                | "-U"
                | "-T"
                | "--user"
                | "--group"
                | "--chdir"
                | "--prompt"
        ),
        "doas" => matches!(opt, "-u" | "-C"),
        "env" => matches!(
            opt,
            "-u" | "-C" | "-a" | "-P" | "--unset" | "--chdir" | "--argv0"
        ),
        "time" => matches!(opt, "-f" | "-o" | "--format" | "--output"),
        "nice" => matches!(opt, "-n" | "--adjustment"),
        "ionice" => matches!(
            opt,
            "-c" | "-n" | "-p" | "-P" | "-u" | "--class" | "--classdata"
        ),
        "timeout" => matches!(opt, "-s" | "-k" | "--signal" | "--kill-after"),
        "stdbuf" => matches!(opt, "-i" | "-o" | "-e"),
        "exec" => matches!(opt, "-a"),
        "xargs" => matches!(
            opt,
            "-I" | "-L"
                | "-n"
                | "-P"
                | "-s"
                | "-d"
                | "-E"
                | "-a"
                | "--delimiter"
                | "--max-args"
                | "--max-procs"
                | "--arg-file"
        ),
        _ => false,
    }
}

/// Stands for a command nested deeper than [`MAX_DEPTH`]. It contains a NUL,
/// which no analysed command line can (the normalizer refuses them first).
const TOO_DEEP: &str = "\u{0}too-deep";

/// A command line nested deeper than the analysis follows: what it runs is
/// unknown, so the intent cannot be judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooDeep;

/// Every program the command line runs: sorted, unique. A line nested deeper
/// than the analysis follows (`eval eval … rm`) is an error, never a partial
/// list a block list could miss.
pub fn programs(line: &str) -> Result<Vec<String>, TooDeep> {
    let mut out = Vec::new();
    collect(line, 0, &mut out);
    if out.iter().any(|p| p == TOO_DEEP) {
        return Err(TooDeep);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn collect(line: &str, depth: usize, out: &mut Vec<String>) {
    if depth > MAX_DEPTH {
        out.push(TOO_DEEP.to_owned());
        return;
    }
    for words in simple_commands(line, depth) {
        analyze(&words, depth, out);
    }
}

/// Splits a command line into simple commands, each a list of words with
/// quotes removed.
fn simple_commands(line: &str, depth: usize) -> Vec<Vec<String>> {
    let mut commands: Vec<Vec<String>> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    let finish_word = |word: &mut String, in_word: &mut bool, words: &mut Vec<String>| {
        if *in_word {
            words.push(std::mem::take(word));
            *in_word = false;
        }
    };
    let finish_command = |words: &mut Vec<String>, commands: &mut Vec<Vec<String>>| {
        if !words.is_empty() {
            commands.push(std::mem::take(words));
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                // An escaped character is literal; an escaped newline joins lines.
                if let Some(&n) = chars.get(i + 1) {
                    if n != '\n' {
                        word.push(n);
                        in_word = true;
                    }
                    i += 2;
                } else {
                    i += 1;
                }
                continue;
            }
            '\'' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '\'' {
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
                continue;
            }
            '"' => {
                in_word = true;
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    match chars[i] {
                        '\\' if i + 1 < chars.len() => {
                            word.push(chars[i + 1]);
                            i += 2;
                        }
                        // Command substitutions run even inside double quotes.
                        '$' if chars.get(i + 1) == Some(&'(') => {
                            let (inner, next) = balanced(&chars, i + 2);
                            collect_into(&inner, depth, &mut commands);
                            i = next;
                        }
                        '`' => {
                            let end = chars[i + 1..]
                                .iter()
                                .position(|&c| c == '`')
                                .map(|p| i + 1 + p)
                                .unwrap_or(chars.len());
                            let inner: String = chars[i + 1..end].iter().collect();
                            collect_into(&inner, depth, &mut commands);
                            i = end + 1;
                        }
                        ch => {
                            word.push(ch);
                            i += 1;
                        }
                    }
                }
                i += 1;
                continue;
            }
            '$' if chars.get(i + 1) == Some(&'\'') => {
                // ANSI-C quoting: `$'rm'` is the word `rm`.
                in_word = true;
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
                continue;
            }
            ' ' | '\t' | '\r' => finish_word(&mut word, &mut in_word, &mut words),
            ';' | '&' | '|' | '\n' | '(' | ')' | '`' => {
                finish_word(&mut word, &mut in_word, &mut words);
                finish_command(&mut words, &mut commands);
            }
            '$' if chars.get(i + 1) == Some(&'(') => {
                finish_word(&mut word, &mut in_word, &mut words);
                finish_command(&mut words, &mut commands);
                i += 2;
                continue;
            }
            '<' | '>' if !in_word || word.chars().all(|c| c.is_ascii_digit()) => {
                // A redirection: skip the operator and its target word.
                finish_word(&mut word, &mut in_word, &mut Vec::new());
                word.clear();
                while i < chars.len() && matches!(chars[i], '<' | '>' | '&') {
                    i += 1;
                }
                if chars.get(i) == Some(&'(') {
                    // Process substitution `<(cmd)`: its commands run; the
                    // outer command goes on after it.
                    let (inner, next) = balanced(&chars, i + 1);
                    collect_into(&inner, depth, &mut commands);
                    i = next;
                    continue;
                }
                while i < chars.len() && matches!(chars[i], ' ' | '\t') {
                    i += 1;
                }
                while i < chars.len()
                    && !matches!(chars[i], ' ' | '\t' | '\n' | ';' | '&' | '|' | '(' | ')')
                {
                    i += 1;
                }
                continue;
            }
            ch => {
                word.push(ch);
                in_word = true;
            }
        }
        i += 1;
    }
    finish_word(&mut word, &mut in_word, &mut words);
    finish_command(&mut words, &mut commands);
    commands
}

/// Commands found inside a substitution become simple commands of their own.
fn collect_into(inner: &str, depth: usize, commands: &mut Vec<Vec<String>>) {
    if depth >= MAX_DEPTH {
        commands.push(vec![TOO_DEEP.to_owned()]);
        return;
    }
    commands.extend(simple_commands(inner, depth + 1));
}

/// The text of a `$(...)` starting after `$(`, honouring nesting; returns it and
/// the index after the closing `)`.
fn balanced(chars: &[char], start: usize) -> (String, usize) {
    let mut depth = 1;
    let mut i = start;
    while i < chars.len() {
        match chars[i] {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return (chars[start..i].iter().collect(), i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    (chars[start..].iter().collect(), chars.len())
}

fn is_assignment(w: &str) -> bool {
    match w.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
        }
        None => false,
    }
}

fn basename(w: &str) -> &str {
    w.rsplit('/').next().unwrap_or(w)
}

fn analyze(words: &[String], depth: usize, out: &mut Vec<String>) {
    let mut i = 0;
    if words
        .first()
        .is_some_and(|w| NON_COMMAND.contains(&w.as_str()))
    {
        return;
    }
    loop {
        while i < words.len() && (is_assignment(&words[i]) || KEYWORDS.contains(&words[i].as_str()))
        {
            i += 1;
        }
        if words.get(i).is_some_and(|w| w == "function") {
            // `function NAME { body }`: the name is not a program; the body is.
            i += 2;
            continue;
        }
        let Some(word) = words.get(i) else { return };
        let name = basename(word);
        if name.is_empty() {
            return;
        }
        if WRAPPERS.contains(&name) {
            // `busybox`, `sudo` ... wrap the next program.
            i += 1;
            let mut duration_pending = name == "timeout";
            while let Some(w) = words.get(i) {
                if name == "env" && w.starts_with("--split-string") {
                    let s = if w.contains('=') {
                        w.split_once('=')
                            .map(|x| x.1.to_owned())
                            .unwrap_or_default()
                    } else {
                        words.get(i + 1).cloned().unwrap_or_default()
                    };
                    collect(&s, depth + 1, out);
                    return;
                }
                if w == "--" {
                    i += 1;
                    break;
                }
                if w.starts_with("--") {
                    // `--opt=value` carries its value; `--opt value` takes the next word.
                    i += if option_takes_arg(name, w) { 2 } else { 1 };
                    continue;
                }
                if w.starts_with('-') && w.len() > 1 {
                    // A cluster of short options, read as getopt reads it: the
                    // first option that takes an argument takes the rest of the
                    // cluster (`-uroot`, `env -S'rm x'`) or else the next word
                    // (`-iu root`, `env -iS 'rm x'`).
                    let opts: Vec<char> = w.chars().skip(1).collect();
                    let mut consumed = 1;
                    for (k, c) in opts.iter().enumerate() {
                        let rest: String = opts[k + 1..].iter().collect();
                        if name == "env" && *c == 'S' {
                            let script = if rest.is_empty() {
                                words.get(i + 1).cloned().unwrap_or_default()
                            } else {
                                rest
                            };
                            collect(&script, depth + 1, out);
                            return;
                        }
                        if option_takes_arg(name, &format!("-{c}")) {
                            if rest.is_empty() {
                                consumed = 2;
                            }
                            break;
                        }
                    }
                    i += consumed;
                    continue;
                }
                if name == "env" && is_assignment(w) {
                    i += 1;
                    continue;
                }
                if duration_pending {
                    duration_pending = false;
                    i += 1;
                    continue;
                }
                break;
            }
            if i >= words.len() && name != "busybox" {
                // A bare wrapper (`sudo -i`) is itself the program.
                out.push(name.to_owned());
                return;
            }
            continue;
        }
        out.push(name.to_owned());
        if name == "eval" {
            let rest = words[i + 1..].join(" ");
            collect(&rest, depth + 1, out);
            return;
        }
        if SHELLS_WITH_C.contains(&name) {
            // `bash -c S`, `sh -ec S`, `bash --norc -c S`: the first non-option
            // word after an option containing `c` is the command string.
            let mut j = i + 1;
            let mut has_c = false;
            while let Some(w) = words.get(j) {
                if w.starts_with("--") {
                    j += 1;
                } else if (w.starts_with('-') || w.starts_with('+')) && w.len() > 1 {
                    if w.starts_with('-') && w[1..].contains('c') {
                        has_c = true;
                    }
                    // `-o OPTION` / `-O SHOPT` take an argument.
                    j += if w.ends_with('o') || w.ends_with('O') {
                        2
                    } else {
                        1
                    };
                } else {
                    break;
                }
            }
            if has_c {
                if let Some(s) = words.get(j) {
                    collect(s, depth + 1, out);
                }
            }
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use super::{programs, TooDeep, MAX_DEPTH};

    fn p(line: &str) -> Vec<String> {
        programs(line).unwrap()
    }

    #[test]
    fn chains_and_wrappers() {
        assert_eq!(p("ls; sudo /bin/rm -rf /"), ["ls", "rm"]);
        assert_eq!(p("cd x && sudo -u root /usr/bin/rm -rf y"), ["cd", "rm"]);
        assert_eq!(p("a || b | c & d"), ["a", "b", "c", "d"]);
        assert_eq!(
            p("A=1 B=2 env C=3 nohup nice -n 10 timeout 5s rm x"),
            ["rm"]
        );
        assert_eq!(p("timeout -s KILL 30 curl http://x"), ["curl"]);
        assert_eq!(p("xargs -I{} rm {}"), ["rm"]);
        assert_eq!(p("busybox rm -rf /"), ["rm"]);
        assert_eq!(
            p("stdbuf -o L command exec ionice -c 3 dd if=/dev/zero"),
            ["dd"]
        );
        assert_eq!(p("sudo -i"), ["sudo"]);
        assert_eq!(p("sudo -iu root rm -rf /"), ["rm"]);
        assert_eq!(p("exec -a worker rm -rf /"), ["rm"]);
        assert_eq!(p("echo a\nrm b"), ["echo", "rm"]);
    }

    #[test]
    fn option_clusters_ending_in_a_wide_character_do_not_panic() {
        // The cluster's last option was cut at a byte offset (a panic on
        // `-é`); wrappers still look through it.
        assert_eq!(p("sudo -é ls"), ["ls"]);
        assert_eq!(p("sudo -ié rm -rf /"), ["rm"]);
        assert_eq!(p("timeout -é😀 5 curl x"), ["curl"]);
        // `-S` takes the rest of the cluster: env runs `é` (with `rm x` as its arguments).
        assert_eq!(p("env -Sé rm x"), ["é"]);
    }

    #[test]
    fn wrapper_options_are_read_as_getopt_reads_them() {
        // `env -S` with the script attached or at the end of a cluster.
        assert_eq!(p("env -S'rm -rf /'"), ["rm"]);
        assert_eq!(p("env -Srm x"), ["rm"]);
        assert_eq!(p("env -iS 'rm x'"), ["rm"]);
        assert_eq!(p("env --split-string='rm x'"), ["rm"]);
        // Options whose argument is not the program.
        assert_eq!(p("env -a x rm"), ["rm"]);
        assert_eq!(p("env --argv0 x rm"), ["rm"]);
        assert_eq!(p("env -P /bin rm"), ["rm"]);
        assert_eq!(p("time -f %e rm x"), ["rm"]);
        assert_eq!(p("time -o out rm x"), ["rm"]);
        assert_eq!(p("time --output=out rm x"), ["rm"]);
        // The first option taking an argument takes the rest of the cluster.
        assert_eq!(p("sudo -uroot rm x"), ["rm"]);
        assert_eq!(p("sudo -iuroot rm x"), ["rm"]);
        assert_eq!(p("sudo -ui rm x"), ["rm"]);
    }

    proptest::proptest! {
        /// Any text (wrappers, option clusters, quotes, non-ASCII) gives a
        /// list of programs, never a panic.
        #[test]
        fn any_command_line_is_analysed(line in "((sudo|env|timeout|nice|xargs|sh -c|bash -c|-[a-zé😀]{1,3}|--[a-z]+|[a-z]+|'|\"|;|&&|\\$\\(|`|é| ){0,12})") {
            // Either a list of programs or "too deep"; never a panic.
            let _ = programs(&line);
        }
    }

    #[test]
    fn shells_recurse() {
        assert_eq!(p("sh -c 'rm -rf /'"), ["rm", "sh"]);
        assert_eq!(p("bash -lc \"curl x | sh\""), ["bash", "curl", "sh"]);
        assert_eq!(
            p("zsh -c 'bash -c \"mkfs.ext4 /dev/sda\"'"),
            ["bash", "mkfs.ext4", "zsh"]
        );
        assert_eq!(p("env -S 'rm -rf /'"), ["rm"]);
        assert_eq!(p("eval rm -rf /"), ["eval", "rm"]);
        assert_eq!(p("bash -o pipefail -c 'rm -rf /'"), ["bash", "rm"]);
        assert_eq!(p("bash +o history -c 'rm x'"), ["bash", "rm"]);
    }

    #[test]
    fn substitutions_and_quotes() {
        assert_eq!(p("echo $(rm -rf /)"), ["echo", "rm"]);
        assert_eq!(p("echo \"$(curl evil)\""), ["curl", "echo"]);
        assert_eq!(p("echo `whoami`"), ["echo", "whoami"]);
        assert_eq!(
            p("echo 'rm -rf /; curl x'"),
            ["echo"],
            "single quotes are literal"
        );
        assert_eq!(p("(cd /tmp; rm x)"), ["cd", "rm"]);
        assert_eq!(p("diff <(curl a) b"), ["curl", "diff"]);
        assert_eq!(p("'/bin/rm' -rf /"), ["rm"]);
        assert_eq!(p("r\\m x"), ["rm"]);
        assert_eq!(p("$'rm' -rf /"), ["rm"]);
    }

    #[test]
    fn keywords_and_redirections() {
        assert_eq!(p("if true; then rm -rf /; fi"), ["rm", "true"]);
        assert_eq!(p("for f in *; do rm $f; done"), ["rm"]);
        assert_eq!(p("ls > out.txt 2>&1; cat < in"), ["cat", "ls"]);
        assert_eq!(p("! curl x"), ["curl"]);
        assert_eq!(p("function f { rm x; }; f"), ["f", "rm"]);
        assert_eq!(p("coproc rm x"), ["rm"]);
    }

    #[test]
    fn hostile_nesting_is_bounded() {
        // Deeper than the recursion bound: unanalysable (the intent is then
        // invalid), never a partial list that misses the `rm`; nothing hangs.
        let line = format!("{}rm x", "eval ".repeat(40));
        assert_eq!(programs(&line), Err(TooDeep));
        assert_eq!(
            programs(&format!("{}rm x", "eval ".repeat(MAX_DEPTH))),
            Ok(vec!["eval".to_owned(), "rm".to_owned()])
        );
        assert!(p(&"$(".repeat(10_000)).is_empty());
        assert_eq!(programs(&"\"$(".repeat(2_000)), Err(TooDeep));
    }
}
