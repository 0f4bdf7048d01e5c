//! Command analysis (runtime.md §3, issue 14): the complete set of programs a
//! command line can run, or **dynamic** when runtime data can choose what
//! runs.
//!
//! The line is parsed with a maintained bash grammar (`brush-parser`: lists,
//! pipelines, compound commands, functions, `coproc`, redirections,
//! here-documents, nested quoting) and then resolved statically:
//!
//! - every simple command's words are read as bash reads them — quote
//!   removal, ANSI-C (`$'\x72m'`) and locale (`$"rm"`) quoting decoded, brace
//!   expansion (`{rm,-rf,v}`) performed, escapes removed;
//! - command and process substitutions run wherever they stand (arguments,
//!   redirection targets, here-strings, expanding here-documents,
//!   assignments, parameter defaults) and are analysed recursively;
//! - programs that run other programs (`sudo env xargs find -exec timeout …`,
//!   [`getopt`] holds their option tables) are looked through *and*
//!   reported; `eval`, `builtin`, `command`, `exec`, `sh|bash|… -c`,
//!   `env -S`, `su -c`, `flock -c`, `script -c`, `watch` are recursed into;
//! - anything that lets runtime data choose what runs makes the line
//!   dynamic ([`DYNAMIC`]): a program word that is not a literal, an
//!   expansion that can execute code (arithmetic on variables, `${x@P}`,
//!   indirect expansion), `eval`/`source` of a non-literal, definitions that
//!   change what a later word runs (`alias`, `hash -p`, `enable`, `trap`,
//!   functions named like the programs above, assignments to `PATH`,
//!   `BASH_ENV`, `IFS`, …), an unknown option of a runner.
//!
//! Work is bounded: the line's length, its words, its bracket nesting and
//! the depth of nested strings (`bash -c "eval '…'"`) are limited
//! ([`CommandError`]), and the per-decision deadline is checked as words are
//! read. What the parser rejects is an error, which makes the intent invalid.

mod getopt;

use brush_parser::ast;
use brush_parser::word::{
    self, ParameterExpr, ParameterTransformOp, WordPiece, WordPieceWithSource,
};
use brush_parser::{Parser, ParserOptions};
use std::borrow::Cow;

/// The program value of a dynamic command line: no allow-list contains it
/// (it is not a program basename), `std.commands.dangerous` lists it, and
/// the decision blocks on it with reason `command_dynamic`.
pub const DYNAMIC: &str = "?dynamic";

/// Longest command line analysed (bytes).
pub const MAX_COMMAND_BYTES: usize = 16 * 1024;
/// Most words read in one command line (nested strings included).
pub const MAX_WORDS: usize = 4_096;
/// Deepest nesting of strings that are parsed again (`bash -c`, `eval`,
/// command substitutions).
pub const MAX_DEPTH: usize = 16;
/// Deepest bracket nesting (`(`, `{`, `[`) accepted before parsing: it bounds
/// the parser's own recursion.
pub const MAX_NESTING: usize = 64;
/// Most `(` left open at the end of a line given to the parser (see
/// `nesting`, `unclosed_as_quoted`).
pub const MAX_UNCLOSED_PARENS: usize = 8;
/// Most steps (word pieces tried, tokens read) the shell grammar may take
/// over all the parses of one command line (`brush_parser::budget`,
/// vendored with gait's patch): its PEG parser backtracks exponentially on
/// some inputs, which the checks before parsing cannot all foresee, and a
/// line may hold many such pieces, each parsed on its own (words,
/// here-documents, nested texts). The count makes the refusal the same on
/// every machine; the per-decision deadline is polled within those steps
/// too. (A 16 KiB line of ordinary words takes well under a tenth of it.)
pub const MAX_PARSE_STEPS: u64 = 50_000;
/// Most `{` in one word whose brace expansion is read (see `word`).
const MAX_WORD_BRACES: usize = 6;
/// Most words one brace expansion may produce.
const MAX_BRACE_FIELDS: usize = 256;

/// Why a command line cannot be analysed (the intent is then invalid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// The bash grammar rejects it.
    Syntax(String),
    TooLong,
    TooManyWords,
    TooDeep,
    /// The shell grammar's work on it passed [`MAX_PARSE_STEPS`] (all its
    /// parses together).
    TooComplex,
    /// The per-decision deadline passed during analysis.
    Timeout,
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::Syntax(e) => write!(f, "the command is not valid shell syntax: {e}"),
            CommandError::TooLong => write!(
                f,
                "the command is longer than {MAX_COMMAND_BYTES} bytes, the most the gate analyses"
            ),
            CommandError::TooManyWords => write!(
                f,
                "the command has more than {MAX_WORDS} words, the most the gate analyses"
            ),
            CommandError::TooDeep => {
                write!(f, "the command is nested too deeply to analyse")
            }
            CommandError::TooComplex => write!(
                f,
                "the command takes the shell grammar more work to read than the gate allows"
            ),
            CommandError::Timeout => write!(
                f,
                "the decision deadline passed while analysing the command"
            ),
        }
    }
}

/// Every program the command line can run: sorted, unique, with
/// [`DYNAMIC`] among them when runtime data can choose what runs.
pub fn programs(line: &str) -> Result<Vec<String>, CommandError> {
    if line.len() > MAX_COMMAND_BYTES {
        return Err(CommandError::TooLong);
    }
    let (depth, unclosed) = nesting(line);
    // Brackets paired as the text reads too: quotes and escapes can hide a
    // `)` from the count above (`$(()+(` then `(((')))'` eight times). The
    // parse's step bound (`grammar`) is what bounds brush-parser's
    // backtracking; this refuses such lines before any parse. (Without a
    // quote, backquote, backslash or `$`, both counts are one.)
    let quoted = if line
        .bytes()
        .any(|b| matches!(b, b'\'' | b'"' | b'`' | b'\\' | b'$'))
    {
        unclosed_as_quoted(line)
    } else {
        0
    };
    let plain_unclosed = unclosed;
    let unclosed = unclosed.max(quoted);
    // (`[` left open is not limited: colour codes leave many, and the
    // parse's step bound ends the arithmetic reading's backtracking.)
    if depth > MAX_NESTING || unclosed > MAX_UNCLOSED_PARENS {
        return Err(CommandError::TooDeep);
    }
    // (Quotes ignored here: a here-document's body is quoted text whose
    // apostrophes the quote-aware count would read as quotes.)
    if plain_unclosed > 0 && line.contains("<<") {
        // A here-document with an unclosed `(` (an unterminated `$(`): bash
        // refuses it, and brush-parser's tokenizer can loop forever on it
        // (`\<<\T<<$( ;&.<TAB>`, found by the fuzz target).
        return Err(CommandError::Syntax(
            "a here-document with an unterminated `(` or `$(`".to_owned(),
        ));
    }
    if let Some(simple) = plain_line(line) {
        return Ok(simple);
    }
    let mut a = Analyzer {
        programs: Vec::new(),
        words: 0,
        opts: ParserOptions::default(),
        nested: 0,
        steps: MAX_PARSE_STEPS,
    };
    match a.string(line, 0) {
        Ok(()) => {}
        Err(Stop::Dynamic) => a.programs.push(DYNAMIC.to_owned()),
        Err(Stop::Error(e)) => return Err(e),
    }
    a.programs.sort();
    a.programs.dedup();
    Ok(a.programs)
}

/// The programs of a line in the plainest subset of the shell language, or
/// `None` to let the grammar read it. The subset is regular and its reading
/// is not in doubt: words of characters bash gives no meaning to ([`is_plain`]
/// without `=`), blanks, and the control operators `&&`, `||`, `|`, `;`
/// between non-empty commands whose first word is neither a reserved word nor
/// a program the analysis interprets. Nothing else — quotes, `$`, globs,
/// braces, redirections, `&`, newlines, comments — is accepted. It exists for
/// speed (`git status && make test | tee log` skips the parser), and a
/// property test holds it equal to the grammar's reading on every line it
/// accepts.
fn plain_line(line: &str) -> Option<Vec<String>> {
    let mut programs: Vec<String> = Vec::new();
    let mut words = 0usize;
    let mut expect_program = true;
    let mut last_op = "";
    let mut rest = line;
    // A program whose arguments can make it run code of their own
    // ([`run::plain_check`]): its words, checked when its command ends.
    let mut checked: Option<(&str, Vec<Field>)> = None;
    loop {
        rest = rest.trim_start_matches([' ', '\t']);
        if rest.is_empty() {
            break;
        }
        let op_len = rest
            .bytes()
            .take_while(|b| matches!(b, b'&' | b'|' | b';'))
            .count();
        if op_len > 0 {
            let op = &rest[..op_len];
            if expect_program || !matches!(op, "&&" | "||" | "|" | ";") {
                return None;
            }
            if let Some((name, args)) = checked.take() {
                run::plain_check(name, &args).ok()?;
            }
            last_op = op;
            rest = &rest[op_len..];
            expect_program = true;
            continue;
        }
        let (len, value) = plain_word(rest)?;
        let raw = &rest[..len];
        words += 1;
        if words > MAX_WORDS {
            return None;
        }
        if expect_program {
            if raw.contains('=') || RESERVED.contains(&raw) {
                return None;
            }
            let name = basename(&value);
            if SPECIAL.contains(&name)
                || SHELLS.contains(&name)
                || run::judged_options(name)
                || may_fold(name)
            {
                return None;
            }
            if !name.is_empty() {
                programs.push(name.to_owned());
            }
            if let Some(&checked_name) = run::PLAIN_CHECKED.iter().find(|&&c| c == name) {
                checked = Some((checked_name, Vec::new()));
            }
            expect_program = false;
        } else if let Some((_, args)) = &mut checked {
            args.push(Field::lit(&value));
        }
        rest = &rest[len..];
    }
    if let Some((name, args)) = checked.take() {
        run::plain_check(name, &args).ok()?;
    }
    // An empty line, or one ending in an operator other than `;`, is for
    // the grammar to judge.
    if words == 0 || (expect_program && last_op != ";") {
        return None;
    }
    programs.sort();
    programs.dedup();
    Some(programs)
}

/// One word of the plain subset at the start of `rest`: its length and its
/// value after quote removal. Unquoted characters are those of
/// [`is_plain`]; `'…'` holds anything but `'`; `"…"` anything but the
/// characters that still act inside double quotes (`$`, `` ` ``, `\`, `!`).
fn plain_word(rest: &str) -> Option<(usize, Cow<'_, str>)> {
    // A word without quotes is its own value (borrowed: most words).
    let end = rest
        .bytes()
        .position(|b| matches!(b, b' ' | b'\t' | b'&' | b'|' | b';' | b'\'' | b'"'))
        .unwrap_or(rest.len());
    if end > 0
        && matches!(
            rest.as_bytes().get(end),
            None | Some(b' ' | b'\t' | b'&' | b'|' | b';')
        )
    {
        let word = &rest[..end];
        return word
            .bytes()
            .all(plain_byte)
            .then_some((end, Cow::Borrowed(word)));
    }
    let mut value = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            ' ' | '\t' | '&' | '|' | ';' => return (i > 0).then_some((i, Cow::Owned(value))),
            '\'' => loop {
                match chars.next()? {
                    (_, '\'') => break,
                    (_, c) => value.push(c),
                }
            },
            '"' => loop {
                match chars.next()? {
                    (_, '"') => break,
                    (_, '$' | '`' | '\\' | '!') => return None,
                    (_, c) => value.push(c),
                }
            },
            c if c.is_ascii() && plain_byte(c as u8) => value.push(c),
            _ => return None,
        }
    }
    (!rest.is_empty()).then_some((rest.len(), Cow::Owned(value)))
}

/// A word that is one of bash's numeric special parameters (`$?`, `$#`,
/// `$$`, `$!`, quoted or not, braced or not): it always expands to digits,
/// so arithmetic on it evaluates nothing else.
fn numeric_parameter(raw: &str) -> bool {
    let r = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    matches!(
        r,
        "$?" | "$#" | "$$" | "$!" | "${?}" | "${#}" | "${$}" | "${!}"
    )
}

/// Bash's reserved words (recognised where a command starts).
const RESERVED: &[&str] = &[
    "!", "{", "}", "[[", "]]", "case", "coproc", "do", "done", "elif", "else", "esac", "fi", "for",
    "function", "if", "in", "select", "then", "time", "until", "while",
];

/// Whether `text` holds both a `<<` and a `((`: where brush-parser's
/// tokenizer and bash part ways. The tokenizer takes every `((` (an operator
/// `(` followed by `(`, and `$((`) for the start of arithmetic and, until it
/// meets `))` (or, for `$((`, the end of the construct), does not read `<<`
/// as a here-document. Bash falls back to subshells where the text is not
/// arithmetic — `<((cmd); x)` is a process substitution holding a subshell,
/// `$((cmd); …)` a command substitution holding one — and then runs the
/// command substitutions of a here-document's body the tokenizer never saw
/// (`true <((dd); x)` + `cat <<EOF` + `$(sed)` + `EOF`: bash ran `sed`, the
/// grammar reported `EOF`; found by the bash differential test; and
/// `echo $((true); cat <<EOF` + `#$(rm)` + `EOF` + `)`, where the tokenizer
/// took the body's line for a comment). Arithmetic and subshells cannot be
/// told apart from the text without a second shell grammar: such a line is
/// judged dynamic (`(( i++ ))` or `$(( x << 2 ))` next to a here-document
/// too: failing closed).
fn here_document_after_double_paren(text: &str) -> bool {
    text.contains("<<") && text.contains("((")
}

/// Whether a `$'…'` holds a `\` + newline: the tokenizer removes it as a
/// line continuation, bash keeps both characters (`bash -c $'#\` +
/// newline + `rm v'` is a comment, then `rm v`, to bash: confirmed). Such a
/// line is judged dynamic. (A `$'` inside other quotes is scanned too: at
/// worst a line is dynamic for nothing.)
fn ansi_c_quote_with_continuation(text: &str) -> bool {
    if !text.contains("\\\n") {
        return false;
    }
    let b = text.as_bytes();
    let mut from = 0;
    while let Some(at) = text[from..].find("$'") {
        let mut i = from + at + 2;
        loop {
            match b.get(i) {
                None => return false,
                Some(b'\\') if b.get(i + 1) == Some(&b'\n') => return true,
                Some(b'\\') => i += 2,
                Some(b'\'') => break,
                Some(_) => i += 1,
            }
        }
        from = i + 1;
    }
    false
}

/// Whether a here-document with an unquoted delimiter meets a line
/// continuation (`\` + newline) where brush-parser and bash part ways
/// before the body is read: a delimiter split by one (`<<\` + newline +
/// `EOF`: bash removes the continuation first, and the delimiter is
/// unquoted) or an operator line continued onto the next (where the body
/// starts). Such a line is judged dynamic. Continuations inside the body
/// are read as bash reads them ([`join_continuations`]).
fn here_document_with_continuation(text: &str) -> bool {
    if !text.contains("\\\n") {
        return false;
    }
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("<<") {
        let mut j = i + at + 2;
        if b.get(j) == Some(&b'<') {
            // A here-string: skip all of `<<<`.
            i = j + 1;
            continue;
        }
        if b.get(j) == Some(&b'-') {
            j += 1;
        }
        while matches!(b.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        let word_end = b[j..]
            .iter()
            .position(|c| {
                matches!(
                    c,
                    b' ' | b'\t' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')'
                )
            })
            .map_or(b.len(), |k| j + k);
        let word = &b[j..word_end];
        if word.ends_with(b"\\") && b.get(word_end) == Some(&b'\n') {
            return true;
        }
        let quoted = word.contains(&b'\'') || word.contains(&b'"') || word.contains(&b'\\');
        let line_end = b[word_end..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(b.len(), |k| word_end + k);
        if !quoted && b[..line_end].ends_with(b"\\") {
            return true;
        }
        i = word_end.max(i + at + 2);
    }
    false
}

/// An expanding here-document's body as bash reads it: each `\` +
/// newline removed (an escaped backslash, `\\`, stays and ends no line).
/// Also returns whether the body's last line was continued (bash then
/// joins the delimiter line to it and reads on).
fn join_continuations(body: &str) -> (String, bool) {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    let mut trailing = false;
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\n') => trailing = chars.peek().is_none(),
            Some(next) => {
                out.push('\\');
                out.push(next);
            }
            None => out.push('\\'),
        }
    }
    (out, trailing)
}

/// An upper bound of the nesting of brackets (`(`, `{`, `[`) and compound
/// commands (`if`…`fi`, `case`…`esac`, `for|while|until|select`…`done`),
/// quotes ignored — so it can only over-count. It bounds the parser's
/// recursion, which would otherwise exhaust the stack on `if if if …`.
/// Also returns how many `(` are left open at the end: brush-parser
/// backtracks exponentially over unclosed `(` (twenty take 15 ms, and `((`
/// four times that), which bash refuses anyway.
fn nesting(line: &str) -> (usize, usize) {
    let (mut depth, mut max) = (0usize, 0usize);
    let mut parens = 0usize;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_alphabetic() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            match &line[start..i] {
                "if" | "case" | "for" | "while" | "until" | "select" => {
                    depth += 1;
                    max = max.max(depth);
                }
                "fi" | "esac" | "done" => depth = depth.saturating_sub(1),
                _ => {}
            }
            continue;
        }
        match b {
            b'(' | b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        match b {
            b'(' => parens += 1,
            b')' => parens = parens.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    (max, parens)
}

/// How many `(` are left open at the end of `line` when brackets
/// pair only within what bash reads as one piece: code, double quotes, a
/// backquoted command, a `${…}` (what is left open inside one stays
/// counted); inside double quotes a `(` opens only as `$(`, whose `)`
/// closes it; single and ANSI-C quotes and escapes hide everything. A quote
/// cannot hide a `)` from it as it can from [`nesting`]'s count,
/// which ignores quotes: the larger is taken.
fn unclosed_as_quoted(line: &str) -> usize {
    #[derive(Clone, Copy, PartialEq)]
    enum Kind {
        /// `nested`: a `$(` inside double quotes, closed by a `)` with no
        /// `(` of its own open.
        Code {
            nested: bool,
        },
        Double,
        Back,
        /// `${…}`, with its `{` depth.
        Brace {
            depth: usize,
        },
    }
    #[derive(Clone, Copy)]
    struct Frame {
        kind: Kind,
        parens: usize,
    }
    fn frame(kind: Kind) -> Frame {
        Frame { kind, parens: 0 }
    }
    /// Closes the innermost piece: what it left open is counted in the
    /// one it stood in (over-counting is safe).
    fn close(stack: &mut Vec<Frame>) {
        if stack.len() > 1 {
            if let Some(done) = stack.pop() {
                if let Some(outer) = stack.last_mut() {
                    outer.parens += done.parens;
                }
            }
        }
    }
    let b = line.as_bytes();
    // Where a quote that runs to `quote` ends (a backslash escapes in
    // ANSI-C quotes only), or the end.
    let skip_quoted = |from: usize, quote: u8, escapes: bool| -> usize {
        let mut j = from;
        while j < b.len() {
            if escapes && b[j] == b'\\' {
                j += 2;
                continue;
            }
            if b[j] == quote {
                return j;
            }
            j += 1;
        }
        b.len()
    };
    let mut stack = vec![frame(Kind::Code { nested: false })];
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let Some(top) = stack.last_mut() else { break };
        let kind = top.kind;
        match (kind, c) {
            (_, b'\\') => i += 1,
            (Kind::Code { .. }, b'$') if b.get(i + 1) == Some(&b'\'') => {
                i = skip_quoted(i + 2, b'\'', true);
            }
            (Kind::Code { .. }, b'\'') => i = skip_quoted(i + 1, b'\'', false),
            (Kind::Code { .. } | Kind::Double, b'$') if b.get(i + 1) == Some(&b'{') => {
                stack.push(frame(Kind::Brace { depth: 1 }));
                i += 1;
            }
            (Kind::Double, b'$') if b.get(i + 1) == Some(&b'(') => {
                stack.push(frame(Kind::Code { nested: true }));
                i += 1;
            }
            (Kind::Code { .. }, b'"') => stack.push(frame(Kind::Double)),
            (Kind::Double, b'"') | (Kind::Back, b'`') => close(&mut stack),
            (Kind::Code { .. } | Kind::Double, b'`') => stack.push(frame(Kind::Back)),
            (Kind::Brace { depth }, b'{') => top.kind = Kind::Brace { depth: depth + 1 },
            (Kind::Brace { depth }, b'}') if depth > 1 => {
                top.kind = Kind::Brace { depth: depth - 1 }
            }
            (Kind::Brace { .. }, b'}') => close(&mut stack),
            (Kind::Double, b'(' | b')') => {}
            (_, b'(') => top.parens += 1,
            (_, b')') if top.parens > 0 => top.parens -= 1,
            (Kind::Code { nested: true }, b')') => close(&mut stack),
            _ => {}
        }
        i += 1;
    }
    stack
        .iter()
        .map(|f| f.parens + usize::from(f.kind == Kind::Code { nested: true }))
        .sum()
}

/// Why the walk stopped early.
#[derive(Debug)]
enum Stop {
    /// Runtime data can choose what runs: the answer is known.
    Dynamic,
    Error(CommandError),
}

impl From<CommandError> for Stop {
    fn from(e: CommandError) -> Self {
        Stop::Error(e)
    }
}

type Step = Result<(), Stop>;

/// The value of one word after expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Val {
    /// Known exactly (quotes removed, escapes decoded).
    Lit(String),
    /// Depends on runtime data (parameters, substitutions, globbing).
    Unknown,
}

/// One word of a command after brace expansion.
#[derive(Debug, Clone)]
struct Field {
    /// The word as written (for names such as `export NAME=…`).
    raw: String,
    val: Val,
    /// The other reading of `$'…'`/`$"…"` (dash and POSIX `sh` take `$` as
    /// a literal there); both readings are judged.
    alt: Option<String>,
    /// Starts with `~` (its basename is only known past a `/`).
    tilde: bool,
}

impl Field {
    fn unknown(raw: &str) -> Field {
        Field {
            raw: raw.to_owned(),
            val: Val::Unknown,
            alt: None,
            tilde: false,
        }
    }

    fn lit(s: &str) -> Field {
        Field {
            raw: s.to_owned(),
            val: Val::Lit(s.to_owned()),
            alt: None,
            tilde: false,
        }
    }
}

/// Variables whose assignment changes what a later word runs.
/// bash's special variables that evaluate what is assigned to them as
/// arithmetic (a subscript's `$(…)` runs: `OPTIND='a[$(rm v)]'`, `printf -v
/// RANDOM …`, `for SRANDOM in …`, each confirmed): only a plain number is
/// read as one.
pub(super) fn arithmetic_var(name: &str) -> bool {
    matches!(name, "RANDOM" | "SRANDOM" | "OPTIND" | "HISTCMD")
}

fn dangerous_var(name: &str) -> bool {
    matches!(
        name,
        "PATH"
            | "BASH_ENV"
            | "ENV"
            | "PROMPT_COMMAND"
            | "IFS"
            | "SHELLOPTS"
            | "BASHOPTS"
            | "PS0"
            | "PS1"
            | "PS2"
            | "PS4"
            | "BASH_LOADABLES_PATH"
            | "EXECIGNORE"
            | "LD_PRELOAD"
            | "LD_AUDIT"
            | "LD_LIBRARY_PATH"
            // Bash's own tables of commands and aliases: `BASH_CMDS[ls]`
            // names the file `ls` runs.
            | "BASH_CMDS"
            | "BASH_ALIASES"
            // Debian's bash (SSH_SOURCE_BASHRC) reads ~/.bashrc under `-c`
            // too when these say it runs for sshd and SHLVL is low
            // (`SHLVL=0 SSH_CLIENT=x bash -c true` ran ~/.bashrc's `rm v`).
            | "SSH_CLIENT"
            | "SSH2_CLIENT"
            | "SHLVL"
            // git's `-c` from its environment.
            | "GIT_CONFIG_PARAMETERS"
            | "GIT_CONFIG_COUNT"
            // A configuration file of git's own choosing.
            | "GIT_CONFIG"
            | "GIT_CONFIG_GLOBAL"
            | "GIT_CONFIG_SYSTEM"
            | "LESSOPEN"
            | "LESSCLOSE"
            // Where gcc finds `as`, `cc1`, `collect2`, `ld` (`COMPILER_PATH=/tmp/x
            // gcc c.c` ran `/tmp/x/as`), clang's extra options, and option
            // files or variables of ripgrep and man (`--pre`, `-P`).
            | "COMPILER_PATH"
            | "GCC_EXEC_PREFIX"
            | "CCC_OVERRIDE_OPTIONS"
            | "RIPGREP_CONFIG_PATH"
            | "MANOPT"
            // The repository git reads its configuration and hooks from.
            | "GIT_DIR"
            | "GIT_COMMON_DIR"
            // A library ssh loads for a security key (`-o SecurityKeyProvider`).
            | "SSH_SK_PROVIDER"
            // Where rustc finds `--target NAME`'s spec, which names a linker.
            | "RUST_TARGET_PATH"
            // The prefix of make's (the kernel's) compiler and binutils.
            | "CROSS_COMPILE"
            // Where cargo reads a configuration (`build.rustc-wrapper`), and
            // where rustup finds its toolchains.
            | "CARGO_HOME"
            | "RUSTUP_HOME"
            // A script CMake runs.
            | "CMAKE_TOOLCHAIN_FILE"
            // zip's options from the environment (`-TT CMD` runs CMD).
            | "ZIPOPT"
            | "ZIP"
            // groff's options from man (`-U` runs `.sy` requests) and where
            // groff finds troff and its drivers.
            | "MANROFFOPT"
            | "GROFF_BIN_PATH"
            | "GROFF_COMMAND_PREFIX"
            // less's key files, whose `#env` section sets LESSOPEN.
            | "LESSKEY"
            | "LESSKEYIN"
            | "LESSKEY_CONTENT"
            | "LESSKEY_SYSTEM"
            | "LESSKEYIN_SYSTEM"
            // A configuration that runs programs (wgetrc's `use_askpass`,
            // gpg.conf's agent programs).
            | "WGETRC"
            | "SYSTEM_WGETRC"
            | "GNUPGHOME"
            // zsh's startup files' folder; the JVM's options (`-agentpath:`
            // loads a library, `-javaagent:` a jar).
            | "ZDOTDIR"
            | "JAVA_TOOL_OPTIONS"
            | "_JAVA_OPTIONS"
            | "JDK_JAVA_OPTIONS"
            // A library or module a program loads: OpenSSL's configuration
            // (an engine's `dynamic_path`), engines and providers; glibc's
            // character set converters (`iconv`, `git log --encoding`); gcc's
            // `-fcompare-debug` options; the module paths of Perl, Python,
            // Ruby and Node (`PYTHONPATH=DIR yq` runs DIR/sitecustomize.py,
            // `PERL5LIB=DIR shasum` a module from DIR).
            | "OPENSSL_CONF"
            | "OPENSSL_ENGINES"
            | "OPENSSL_MODULES"
            | "GCONV_PATH"
            | "GCC_COMPARE_DEBUG"
            | "PERL5LIB"
            | "PERLLIB"
            // git's Perl subcommands' module folder (`GITPERLLIB=. git
            // send-email x` loads ./Git/LoadCPAN/Error.pm, confirmed), and the
            // difftool its helper sources (`GIT_DIFF_TOOL=../../x`).
            | "GITPERLLIB"
            | "GIT_DIFF_TOOL"
            | "GIT_MERGE_TOOL"
            | "PYTHONPATH"
            | "PYTHONHOME"
            | "PYTHONSTARTUP"
            | "PYTHONUSERBASE"
            | "RUBYLIB"
            | "NODE_PATH"
            // Where git (`~/.gitconfig`, `$XDG_CONFIG_HOME/git/config`:
            // `core.fsmonitor`, aliases), less (`~/.lesskey`) and others read
            // a configuration of their user's.
            | "HOME"
            | "XDG_CONFIG_HOME"
    ) || name.starts_with("BASH_FUNC_")
        // npm's settings, read whatever the case (`npm_config_script_shell`
        // runs the package's scripts, `…_node_options`, `…_editor`).
        || name
            .get(..11)
            .is_some_and(|p| p.eq_ignore_ascii_case("npm_config_"))
        || name.starts_with("LD_")
        || name.starts_with("GIT_CONFIG_KEY_")
        // Where git finds its subcommands and hooks, and its test hooks
        // (`GIT_TEST_MAINT_SCHEDULER='crontab:rm v'` runs `rm`).
        || name == "GIT_EXEC_PATH"
        || name == "GIT_TEMPLATE_DIR"
        // Transports git may use: `GIT_ALLOW_PROTOCOL=ext git ls-remote
        // 'ext::CMD'` runs CMD (confirmed).
        || name == "GIT_ALLOW_PROTOCOL"
        || name == "GIT_PROTOCOL_FROM_USER"
        // Makefiles make reads before the command line's (`MAKEFILES=/dev/stdin
        // make <<< '$(shell rm v)'` runs `rm`, confirmed).
        || name == "MAKEFILES"
        || name.starts_with("GIT_TEST_")
        || name.starts_with("GIT_CONFIG_VALUE_")
}

/// Programs' options from the environment ([`option_value_runs`] says
/// which values run code: `TAR_OPTIONS=--to-command=…`,
/// `NODE_OPTIONS=--require=…`).
pub(super) fn option_var(name: &str) -> bool {
    matches!(
        name,
        "TAR_OPTIONS"
            | "MAKEFLAGS"
            | "MFLAGS"
            | "GNUMAKEFLAGS"
            | "PERL5OPT"
            | "NODE_OPTIONS"
            | "RUBYOPT"
            // A toolchain folder or a target spec file when a path.
            | "RUSTUP_TOOLCHAIN"
            | "CARGO_BUILD_TARGET"
            // less's options: a lesskey file among them.
            | "LESS"
    ) || rustc_flags_var(name)
        || compiler_flags_var(name)
}

/// rustc's options from cargo's environment: `RUSTFLAGS='-C linker=/tmp/x'
/// cargo build` runs `/tmp/x` (`CARGO_ENCODED_RUSTFLAGS` parts are split
/// by 0x1f, the others by whitespace).
fn rustc_flags_var(name: &str) -> bool {
    matches!(
        name,
        "RUSTFLAGS"
            | "RUSTDOCFLAGS"
            | "CARGO_ENCODED_RUSTFLAGS"
            | "CARGO_ENCODED_RUSTDOCFLAGS"
            | "CARGO_BUILD_RUSTFLAGS"
            | "CARGO_BUILD_RUSTDOCFLAGS"
    ) || (name.starts_with("CARGO_TARGET_") && name.ends_with("_RUSTFLAGS"))
}

/// A C compiler's (or archiver's) options from make's and the cc crate's
/// environment: `CFLAGS=-B/tmp/x make` has gcc run `/tmp/x/as`.
fn compiler_flags_var(name: &str) -> bool {
    matches!(
        name,
        "CFLAGS"
            | "CXXFLAGS"
            | "CPPFLAGS"
            | "LDFLAGS"
            | "OBJCFLAGS"
            | "FFLAGS"
            | "ASFLAGS"
            | "ASMFLAGS"
            | "ARFLAGS"
            // The cc crate's per-target and host/target flags.
            | "TARGET_CFLAGS"
            | "HOST_CFLAGS"
            | "TARGET_CXXFLAGS"
            | "HOST_CXXFLAGS"
            // The other variables make's built-in rules put into recipes
            // (`make f LDLIBS=';rm v'` runs `rm`).
            | "LDLIBS"
            | "LOADLIBES"
            | "TARGET_ARCH"
            | "TARGET_MACH"
            | "OUTPUT_OPTION"
            | "LFLAGS"
            | "YFLAGS"
            | "PFLAGS"
            | "RFLAGS"
            | "COFLAGS"
            | "GFLAGS"
            | "LINTFLAGS"
            | "LDFLAGS_MODULE"
            | "DEFFLAGS"
            | "M2FLAGS"
            | "MODFLAGS"
            | "MAKEINFO_FLAGS"
            | "TEXI2DVI_FLAGS"
            | "SCCS_OUTPUT_OPTION"
            | "F77FLAGS"
    ) || name.starts_with("CFLAGS_")
        || name.starts_with("CXXFLAGS_")
}

/// Whether an option variable's value loads or runs code: `tar`'s and
/// `make`'s own checks over its words, `node --require`/`--import`/
/// `--loader`, `perl -M`/`-m`/`-d`, `ruby -r`; anything with `$` or a
/// backtick (make expands it).
pub(super) fn option_value_runs(name: &str, value: &str) -> bool {
    // make expands `$`; tar reads TAR_OPTIONS with quote removal
    // (`'"--to-command=rm v"'` is one option).
    if value.contains(['$', '`', '\'', '"', '\\']) {
        return true;
    }
    let words: Vec<Field> = value.split_whitespace().map(Field::lit).collect();
    match name {
        "TAR_OPTIONS" => run::tar(&words).map_or(true, |cmds| !cmds.is_empty()),
        "NODE_OPTIONS" => value.split_whitespace().any(|w| {
            [
                "-r",
                "--require",
                "--import",
                "--loader",
                "--experimental-loader",
                "--env-file",
            ]
            .iter()
            .any(|o| {
                // `--require`, `--require=x`; `-r` takes its value attached too.
                w.strip_prefix(*o)
                    .is_some_and(|r| r.is_empty() || r.starts_with('=') || *o == "-r")
            })
        }),
        "PERL5OPT" => value
            .split_whitespace()
            .any(|w| w.starts_with("-M") || w.starts_with("-m") || w.starts_with("-d")),
        "RUBYOPT" => value.split_whitespace().any(|w| w.starts_with("-r")),
        // rustup reads a name with a path separator as a toolchain folder.
        "RUSTUP_TOOLCHAIN" => value.contains('/') || value.starts_with('.'),
        "CARGO_BUILD_TARGET" => value.contains('/') || value.ends_with(".json"),
        // less reads its options from LESS with or without a `-`
        // (`LESS=FRX`): `k` in a short word is the lesskey file option.
        "LESS" => {
            value.contains("lesskey")
                || value
                    .split_whitespace()
                    .any(|w| !w.starts_with("--") && w.contains('k'))
        }
        // cargo splits the encoded variables at 0x1f only, the others at
        // whitespace.
        n if n.starts_with("CARGO_ENCODED_") => {
            let parts: Vec<Field> = value.split('\x1f').map(Field::lit).collect();
            run::rustc_runs(&parts)
        }
        n if rustc_flags_var(n) => run::rustc_runs(&words),
        // make puts them into recipes that `sh -c` runs: an operator ends
        // the compiler's command (`CFLAGS=';rm v' make f` runs `rm`).
        n if compiler_flags_var(n) => {
            value.contains(SHELL_OPERATORS)
                || value
                    .split_whitespace()
                    .any(|w| run::compiler_runs(&Field::lit(w)))
        }
        // MAKEFLAGS and friends: make's own checks, and no assignment.
        _ => run::make(&words).is_err() || value.contains('='),
    }
}

/// Characters that end or redirect a command in `sh -c`'s reading of a
/// recipe line.
pub(super) const SHELL_OPERATORS: &[char] = &[';', '&', '|', '<', '>', '(', ')', '\n', '`', '$'];

/// Variables whose value a program runs as a command line (git, man, less,
/// ssh, sudo, editors): `GIT_PAGER='rm v' git log` runs `rm`. Their value is
/// read as a command line of its own.
fn command_var(name: &str) -> bool {
    name.ends_with("PAGER")
        || name.ends_with("EDITOR")
        || name.ends_with("_COMMAND")
        || name.ends_with("ASKPASS")
        || matches!(
            name,
            // Build tools' program variables (make, autotools, cargo's cc).
            "CC" | "CXX"
                | "CPP"
                | "LD"
                | "AR"
                | "AS"
                | "FC"
                | "RM"
                | "MAKE"
                | "INSTALL"
                | "LEX"
                | "YACC"
                | "STRIP"
                | "RANLIB"
                | "VISUAL"
                | "BROWSER"
                | "SHELL"
                | "GIT_SSH"
                | "GIT_EXTERNAL_DIFF"
                | "RSYNC_RSH"
                | "RSYNC_CONNECT_PROG"
                | "CVS_RSH"
                // `git cvsimport` starts CVS_SERVER, `git archimport` runs
                // ARCH_CLIENT in a shell string, `git difftool`'s helper
                // evals GIT_DIFFTOOL_EXTCMD (each confirmed).
                | "CVS_SERVER"
                | "ARCH_CLIENT"
                | "GIT_DIFFTOOL_EXTCMD"
                | "FCEDIT"
                | "HOSTCC"
                | "HOSTCXX"
                | "NM"
                | "OBJCOPY"
                | "OBJDUMP"
                // The programs of make's built-in rules (`echo > f.tex &&
                // make f.dvi TEX=rm` runs `rm f.tex`, confirmed).
                | "TEX"
                | "OBJC"
                | "PC"
                | "CO"
                | "GET"
                | "MAKEINFO"
                | "TEXI2DVI"
                | "CTANGLE"
                | "CWEAVE"
                | "TANGLE"
                | "WEAVE"
                | "M2C"
                | "LINT"
                | "F77"
                | "CHECKOUT,v"
        )
        // Their commands as a whole (`make f LINK.c=rm`).
        || ["COMPILE.", "LINK.", "PREPROCESS.", "LEX.", "YACC.", "LINT."]
            .iter()
            .any(|p| name.starts_with(p))
        // cargo's programs (its compiler, wrappers, rustdoc, linkers, cargo
        // itself for its subcommands) and the pkg-config crate's, taken as
        // one path each; cargo's per-target runner
        // (`CARGO_TARGET_X86_64_…_RUNNER`), its credential providers and
        // documentation browser; CMake's compiler and linker launchers and
        // emulator; the cc crate's per-target and host/target compilers and
        // archivers (`CC_x86_64…`, `TARGET_CC`).
        || program_path_var(name)
        || (name.starts_with("CARGO_TARGET_") && name.ends_with("_RUNNER"))
        || (name.starts_with("CARGO_REGISTR") && name.ends_with("CREDENTIAL_PROVIDER"))
        || name == "CARGO_DOC_BROWSER"
        || (name.starts_with("CMAKE_")
            && (name.ends_with("_COMPILER_LAUNCHER")
                || name.ends_with("_LINKER_LAUNCHER")
                || name.ends_with("_EMULATOR")))
        || name.starts_with("CC_")
        || name.starts_with("CXX_")
        || name.starts_with("AR_")
        || matches!(
            name,
            "TARGET_CC" | "HOST_CC" | "TARGET_CXX" | "HOST_CXX" | "TARGET_AR" | "HOST_AR"
        )
}

/// Command variables whose value the program takes as one path, not split
/// into words (cargo's compiler, wrappers, rustdoc and linker, the
/// pkg-config crate's program).
fn program_path_var(name: &str) -> bool {
    matches!(
        name,
        "CARGO"
            | "RUSTC"
            | "RUSTC_WRAPPER"
            | "RUSTC_WORKSPACE_WRAPPER"
            | "RUSTDOC"
            | "CARGO_BUILD_RUSTC"
            | "CARGO_BUILD_RUSTC_WRAPPER"
            | "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER"
            | "CARGO_BUILD_RUSTDOC"
            | "PKG_CONFIG"
    ) || (name.starts_with("CARGO_TARGET_") && name.ends_with("_LINKER"))
}

const SHELLS: &[&str] = &[
    "sh", "bash", "rbash", "dash", "ash", "ksh", "ksh93", "mksh", "lksh", "oksh", "loksh", "pdksh",
    "posh", "yash", "zsh",
];

/// Names the analysis gives a meaning to: a function of that name would
/// change what the analysis assumed.
const SPECIAL: &[&str] = &[
    "eval",
    "source",
    ".",
    "builtin",
    "command",
    "exec",
    "time",
    "busybox",
    "toybox",
    "alias",
    "enable",
    "hash",
    "trap",
    "declare",
    "typeset",
    "local",
    "export",
    "readonly",
    "read",
    "mapfile",
    "readarray",
    "printf",
    "let",
    "getopts",
    "compgen",
    "complete",
    "env",
    "sudo",
    "run0",
    "doas",
    "newgrp",
    "su",
    "runuser",
    "timeout",
    "nice",
    "nohup",
    "stdbuf",
    "ionice",
    "setsid",
    "chroot",
    "unshare",
    "nsenter",
    "script",
    "flock",
    "watch",
    "xargs",
    "find",
    "parallel",
    "taskset",
    "pkexec",
    "sg",
    "gosu",
    "su-exec",
    "fakeroot",
    "command_not_found_handle",
    "fc",
    "jobs",
    "set",
    "shopt",
    // Builtins that evaluate operands as names ([`run`]).
    "test",
    "[",
    "unset",
    "wait",
    "setarch",
    "linux32",
    "linux64",
    "i386",
    "x86_64",
    "uname26",
];

fn basename(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// A program name as a case-insensitive file system finds it (macOS's
/// APFS, a Windows drive under WSL: `SUDO` and `/BIN/RM` run `sudo` and
/// `/bin/rm`, `ſudo` may too): its case-folded spelling (upper then lower
/// case, which folds `ſ` to `s` and `K` (Kelvin) to `k`), when it differs.
/// The analysis matches the programs it interprets by that spelling and
/// reports it beside the name as written.
fn fold_case(name: &str) -> Option<String> {
    if !may_fold(name) {
        return None;
    }
    let folded = name.to_uppercase().to_lowercase();
    (folded != name).then_some(folded)
}

/// Whether [`fold_case`] may change `name` (an upper-case ASCII letter or
/// any non-ASCII character): a test of the bytes, nothing built.
fn may_fold(name: &str) -> bool {
    name.bytes()
        .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether a command word starts a subscript it does not close (`a[/ls`,
/// `x[1`): where an assignment may stand, bash reads `NAME[` up to the
/// matching `]` as one word, blanks, `#`, `;` and `<<` included, while the
/// grammar ends the word at the first of them (`a[/ls #];rm v` is the
/// program `a[/ls #]`, then `rm v`, to bash; `ls` and a comment to the
/// grammar).
fn open_subscript(raw: &str) -> bool {
    let name_end = raw
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'_'))
        .unwrap_or(raw.len());
    let starts_name = raw
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    starts_name && raw[name_end..].starts_with('[') && !raw[name_end + 1..].contains(']')
}

/// A word made only of characters bash gives no meaning to: its value is
/// itself (the common case, read without the word parser).
fn is_plain(w: &str) -> bool {
    !w.is_empty() && !w.starts_with('~') && w.bytes().all(plain_byte)
}

/// A byte of [`is_plain`]'s words.
fn plain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'_' | b'.' | b'/' | b'=' | b':' | b',' | b'+' | b'@' | b'%' | b'^'
        )
}

struct Analyzer {
    programs: Vec<String>,
    words: usize,
    opts: ParserOptions,
    /// How many compound commands and function bodies enclose the command
    /// being read: their standard input is the enclosing one's, which a
    /// redirection of the compound or of the function's call may give
    /// (`{ bash; } <<< 'rm v'`, `f <<< 'rm v'`).
    nested: usize,
    /// The shell grammar's steps left for the rest of the line (see
    /// [`MAX_PARSE_STEPS`]).
    steps: u64,
}

impl Analyzer {
    /// Reports the program `name` runs: its basename as written and, when
    /// a case-insensitive file system finds it by another spelling
    /// ([`fold_case`]), that one too, which it returns (the spelling the
    /// analysis matches the programs it interprets by).
    fn push(&mut self, name: &str) -> Option<String> {
        let base = basename(name);
        if base.is_empty() {
            return None;
        }
        self.programs.push(base.to_owned());
        let folded = fold_case(base)?;
        self.programs.push(folded.clone());
        Some(folded)
    }

    fn count_word(&mut self) -> Step {
        self.words += 1;
        if self.words > MAX_WORDS {
            return Err(CommandError::TooManyWords.into());
        }
        if self.words % 64 == 0 && crate::deadline::expired() {
            return Err(CommandError::Timeout.into());
        }
        Ok(())
    }

    /// Parses `text` as a shell program and walks it.
    fn string(&mut self, text: &str, depth: usize) -> Step {
        if depth > MAX_DEPTH {
            return Err(CommandError::TooDeep.into());
        }
        if crate::deadline::expired() {
            return Err(CommandError::Timeout.into());
        }
        if here_document_after_double_paren(text)
            || here_document_with_continuation(text)
            || ansi_c_quote_with_continuation(text)
        {
            return Err(Stop::Dynamic);
        }
        let opts = &self.opts;
        let program = grammar(&mut self.steps, text, || {
            Parser::new(std::io::Cursor::new(text.as_bytes()), opts).parse_program()
        })?
        .map_err(|e| CommandError::Syntax(e.to_string()))?;
        for list in &program.complete_commands {
            self.list(list, depth)?;
        }
        Ok(())
    }

    fn list(&mut self, list: &ast::CompoundList, depth: usize) -> Step {
        for item in &list.0 {
            let and_or = &item.0;
            self.pipeline(&and_or.first, depth)?;
            for next in &and_or.additional {
                match next {
                    ast::AndOr::And(p) | ast::AndOr::Or(p) => self.pipeline(p, depth)?,
                }
            }
        }
        Ok(())
    }

    fn pipeline(&mut self, p: &ast::Pipeline, depth: usize) -> Step {
        for c in &p.seq {
            self.command(c, depth)?;
        }
        Ok(())
    }

    fn command(&mut self, c: &ast::Command, depth: usize) -> Step {
        match c {
            ast::Command::Simple(s) => self.simple(s, depth),
            ast::Command::Compound(c, redirects) => {
                self.nested += 1;
                let r = self.compound(c, depth);
                self.nested -= 1;
                r?;
                self.redirects(redirects.as_ref(), depth)
            }
            ast::Command::Function(f) => self.function(f, depth),
            ast::Command::ExtendedTest(t, redirects) => {
                self.extended_test(&t.expr, depth)?;
                self.redirects(redirects.as_ref(), depth)
            }
        }
    }

    fn redirects(&mut self, r: Option<&ast::RedirectList>, depth: usize) -> Step {
        let mut stdin = None;
        for r in r.iter().flat_map(|r| r.0.iter()) {
            self.redirect(r, depth, &mut stdin)?;
        }
        Ok(())
    }

    fn compound(&mut self, c: &ast::CompoundCommand, depth: usize) -> Step {
        use ast::CompoundCommand as C;
        match c {
            C::Arithmetic(a) => self.arithmetic(&a.expr.value),
            C::ArithmeticForClause(f) => {
                for e in [&f.initializer, &f.condition, &f.updater]
                    .into_iter()
                    .flatten()
                {
                    self.arithmetic(&e.value)?;
                }
                self.list(&f.body.list, depth)
            }
            C::BraceGroup(b) => self.list(&b.list, depth),
            C::Subshell(s) => self.list(&s.list, depth),
            C::ForClause(f) => {
                // The loop assigns each word to its variable: the same
                // checks as `NAME=word` (`for GIT_EDITOR in 'rm v'; do …`).
                let name = f.variable_name.as_str();
                if dangerous_var(name)
                    || (f.values.is_none()
                        && (option_var(name) || command_var(name) || arithmetic_var(name)))
                {
                    return Err(Stop::Dynamic);
                }
                for w in f.values.iter().flatten() {
                    for field in self.word(&w.value, depth)? {
                        self.command_var(name, &field.val, depth)?;
                    }
                }
                self.list(&f.body.list, depth)
            }
            C::CaseClause(c) => {
                self.word(&c.value.value, depth)?;
                for item in &c.cases {
                    for p in &item.patterns {
                        self.word(&p.value, depth)?;
                    }
                    if let Some(cmd) = &item.cmd {
                        self.list(cmd, depth)?;
                    }
                }
                Ok(())
            }
            C::IfClause(i) => {
                self.list(&i.condition, depth)?;
                self.list(&i.then, depth)?;
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.list(c, depth)?;
                    }
                    self.list(&e.body, depth)?;
                }
                Ok(())
            }
            C::WhileClause(w) | C::UntilClause(w) => {
                self.list(&w.0, depth)?;
                self.list(&w.1.list, depth)
            }
            C::Coprocess(c) => self.command(&c.body, depth),
        }
    }

    fn function(&mut self, f: &ast::FunctionDefinition, depth: usize) -> Step {
        let name = self.single(&f.fname.value, depth)?;
        match &name.val {
            // A function named like a program the analysis interprets (or
            // a shell) changes what that word runs.
            Val::Lit(n) if SPECIAL.contains(&n.as_str()) || SHELLS.contains(&n.as_str()) => {
                return Err(Stop::Dynamic)
            }
            Val::Lit(_) => {}
            Val::Unknown => return Err(Stop::Dynamic),
        }
        self.nested += 1;
        let r = self.compound(&f.body.0, depth);
        self.nested -= 1;
        r?;
        self.redirects(f.body.1.as_ref(), depth)
    }

    fn extended_test(&mut self, e: &ast::ExtendedTestExpr, depth: usize) -> Step {
        use ast::BinaryPredicate as B;
        use ast::ExtendedTestExpr as E;
        match e {
            E::And(a, b) | E::Or(a, b) => {
                self.extended_test(a, depth)?;
                self.extended_test(b, depth)
            }
            E::Not(a) | E::Parenthesized(a) => self.extended_test(a, depth),
            E::UnaryTest(pred, w) => {
                let f = self.single(&w.value, depth)?;
                // `-v a[…]` evaluates the subscript.
                if matches!(pred, ast::UnaryPredicate::ShellVariableIsSetAndAssigned)
                    && !matches!(&f.val, Val::Lit(v) if is_identifier(v))
                {
                    return Err(Stop::Dynamic);
                }
                Ok(())
            }
            E::BinaryTest(pred, a, b) => {
                let fa = self.single(&a.value, depth)?;
                let fb = self.single(&b.value, depth)?;
                let arithmetic = matches!(
                    pred,
                    B::ArithmeticEqualTo
                        | B::ArithmeticNotEqualTo
                        | B::ArithmeticLessThan
                        | B::ArithmeticLessThanOrEqualTo
                        | B::ArithmeticGreaterThan
                        | B::ArithmeticGreaterThanOrEqualTo
                );
                if arithmetic {
                    // Operands are evaluated as arithmetic: a variable's
                    // value can hold `a[$(cmd)]` (`$?` and the other numeric
                    // parameters are digits).
                    for f in [fa, fb] {
                        match f.val {
                            Val::Lit(v) => self.arithmetic(&v)?,
                            Val::Unknown if numeric_parameter(&f.raw) => {}
                            Val::Unknown => return Err(Stop::Dynamic),
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Arithmetic text (`$((…))`, `((…))`, subscripts, `let`): literal
    /// numbers and operators only. A variable or an expansion can evaluate
    /// code (`x='a[$(cmd)]'; echo $((x))`).
    pub(super) fn arithmetic(&mut self, text: &str) -> Step {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'$' || b == b'`' {
                return Err(Stop::Dynamic);
            }
            if b.is_ascii_digit() {
                // A number, with its base (`16#ff`, `0x1F`).
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'#' | b'_' | b'@'))
                {
                    i += 1;
                }
                continue;
            }
            if b.is_ascii_alphabetic() || b == b'_' || !b.is_ascii() {
                return Err(Stop::Dynamic);
            }
            i += 1;
        }
        Ok(())
    }

    fn simple(&mut self, cmd: &ast::SimpleCommand, depth: usize) -> Step {
        use ast::CommandPrefixOrSuffixItem as Item;
        let mut fields = Vec::new();
        let mut stdin: Option<Val> = None;
        // A word right before a redirection may name a descriptor variable
        // (`{name}>x`). The grammar keeps no spacing: a word followed by any
        // redirection is judged (`echo {PATH} >x` too).
        let mut seq = cmd
            .word_or_name
            .iter()
            .map(|w| (Some(w.value.as_str()), false))
            .chain(cmd.suffix.iter().flat_map(|s| s.0.iter()).map(|i| match i {
                Item::Word(w) => (Some(w.value.as_str()), false),
                Item::IoRedirect(_) => (None, true),
                Item::AssignmentWord(..) | Item::ProcessSubstitution(..) => (None, false),
            }))
            .peekable();
        while let Some((word, _)) = seq.next() {
            if let (Some(raw), Some((_, true))) = (word, seq.peek()) {
                self.descriptor_word(raw)?;
            }
        }
        for item in cmd.prefix.iter().flat_map(|p| p.0.iter()) {
            match item {
                // `NAME=value cmd`: the assignment is in cmd's environment.
                Item::AssignmentWord(a, _) => self.assignment(a, depth)?,
                other => self.item(other, depth, &mut fields, &mut stdin)?,
            }
        }
        if let Some(w) = &cmd.word_or_name {
            if open_subscript(&w.value) {
                return Err(Stop::Dynamic);
            }
            fields.extend(self.word(&w.value, depth)?);
        }
        for item in cmd.suffix.iter().flat_map(|s| s.0.iter()) {
            self.item(item, depth, &mut fields, &mut stdin)?;
        }
        self.run(&fields, false, stdin.as_ref(), depth)
    }

    /// A word, redirection or process substitution of a simple command.
    /// An assignment-looking argument (`export A=…`) is a word: the
    /// program reads the name (see `run`).
    fn item(
        &mut self,
        item: &ast::CommandPrefixOrSuffixItem,
        depth: usize,
        fields: &mut Vec<Field>,
        stdin: &mut Option<Val>,
    ) -> Step {
        use ast::CommandPrefixOrSuffixItem as Item;
        match item {
            Item::IoRedirect(r) => self.redirect(r, depth, stdin),
            Item::Word(w) | Item::AssignmentWord(_, w) => {
                fields.extend(self.word(&w.value, depth)?);
                Ok(())
            }
            Item::ProcessSubstitution(_, sub) => {
                self.list(&sub.list, depth)?;
                // The word is a path the shell makes up (`/dev/fd/63`)
                // whose content is the substitution's output: unknown to
                // the command reading it (`. <(echo rm v)` runs `rm`).
                fields.push(Field::unknown("<(…)"));
                Ok(())
            }
        }
    }

    fn assignment(&mut self, a: &ast::Assignment, depth: usize) -> Step {
        let name = match &a.name {
            ast::AssignmentName::VariableName(n) => {
                // `X+=…` builds a value out of sight of this statement
                // (`GIT_EDITOR=r; GIT_EDITOR+=m git commit` runs `rm`).
                if dangerous_var(n) || (a.append && (command_var(n) || option_var(n))) {
                    return Err(Stop::Dynamic);
                }
                n
            }
            ast::AssignmentName::ArrayElementName(n, index) => {
                if dangerous_var(n) || option_var(n) {
                    return Err(Stop::Dynamic);
                }
                self.arithmetic(index)?;
                n
            }
        };
        match &a.value {
            ast::AssignmentValue::Scalar(w) => {
                let value = self.single(&w.value, depth)?;
                self.command_var(name, &value.val, depth)?;
            }
            ast::AssignmentValue::Array(items) => {
                for (key, value) in items {
                    if let Some(k) = key {
                        self.arithmetic(&k.value)?;
                    }
                    self.word(&value.value, depth)?;
                }
            }
        }
        Ok(())
    }

    /// An assignment of `value` to `name`: when a program runs the
    /// variable's value as a command line ([`command_var`]), its programs
    /// are reported (an unknown value is dynamic).
    fn command_var(&mut self, name: &str, value: &Val, depth: usize) -> Step {
        if arithmetic_var(name) {
            return match value {
                Val::Lit(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
                _ => Err(Stop::Dynamic),
            };
        }
        if option_var(name) {
            return match value {
                Val::Lit(v) if !option_value_runs(name, v) => Ok(()),
                _ => Err(Stop::Dynamic),
            };
        }
        if !command_var(name) {
            return Ok(());
        }
        if program_path_var(name) {
            // One path, not a command line: `RUSTC_WRAPPER='ls x/y'` runs
            // the file `ls x/y`. A value that is not a plain word is
            // dynamic; a plain one is read (as its basename).
            match value {
                Val::Lit(v) if v.is_empty() || v.bytes().all(plain_byte) => {}
                _ => return Err(Stop::Dynamic),
            }
        }
        self.command_value(value, depth)
    }

    /// A value a program runs as a command line (a command variable's,
    /// git's `core.pager`, make's `CC=`): its programs are reported; an
    /// unknown value is dynamic.
    pub(super) fn command_value(&mut self, value: &Val, depth: usize) -> Step {
        match value {
            Val::Lit(v) if v.trim().is_empty() => Ok(()),
            Val::Lit(v) => self.string(v, depth + 1),
            Val::Unknown => Err(Stop::Dynamic),
        }
    }

    fn redirect(&mut self, r: &ast::IoRedirect, depth: usize, stdin: &mut Option<Val>) -> Step {
        use ast::IoFileRedirectTarget as T;
        use ast::IoRedirect as R;
        let is_stdin = |fd: &Option<ast::IoFd>| fd.is_none_or(|fd| fd == 0);
        match r {
            R::File(fd, kind, target) => {
                match target {
                    T::Filename(w) | T::Duplicate(w) => {
                        self.single(&w.value, depth)?;
                    }
                    T::Fd(_) => {}
                    T::ProcessSubstitution(_, sub) => self.list(&sub.list, depth)?,
                }
                // Standard input from a file, another descriptor (`<&3`,
                // `0>&3`) or a process substitution (`< <(echo rm v)`): what
                // it holds is out of sight.
                use ast::IoFileRedirectKind as K;
                let replaces_stdin = match kind {
                    K::Read | K::ReadAndWrite | K::DuplicateInput => is_stdin(fd),
                    _ => *fd == Some(0),
                };
                if replaces_stdin {
                    *stdin = Some(Val::Unknown);
                }
            }
            R::HereDocument(fd, doc) => {
                let val = if doc.requires_expansion && doc.doc.value.contains("\\\n") {
                    // Bash joins continued lines of the body, then looks
                    // for the delimiter: a joined line equal to it ends the
                    // body earlier than the grammar read (`tr\` + `ue`), a
                    // continued last line reads on past it. Either way the
                    // lines after are read differently: dynamic.
                    let (joined, trailing) = join_continuations(&doc.doc.value);
                    let delimiter = doc.here_end.value.as_str();
                    if trailing || doc.remove_tabs || joined.lines().any(|l| l == delimiter) {
                        return Err(Stop::Dynamic);
                    }
                    self.heredoc(&joined, depth)?
                } else if doc.requires_expansion {
                    self.heredoc(&doc.doc.value, depth)?
                } else {
                    Val::Lit(doc.doc.value.clone())
                };
                if is_stdin(fd) {
                    *stdin = Some(val);
                }
            }
            R::HereString(fd, w) => {
                let f = self.single(&w.value, depth)?;
                if is_stdin(fd) {
                    *stdin = Some(f.val);
                }
            }
            R::OutputAndError(w, _) => {
                self.single(&w.value, depth)?;
            }
        }
        Ok(())
    }

    /// The body of an expanding here-document (quotes are literal there).
    fn heredoc(&mut self, body: &str, depth: usize) -> Result<Val, Stop> {
        if !body.contains(['$', '`', '\\']) {
            return Ok(Val::Lit(body.to_owned()));
        }
        let pieces = grammar(&mut self.steps, body, || {
            word::parse_heredoc(body, &self.opts)
        })?
        .map_err(|e| CommandError::Syntax(e.to_string()))?;
        let mut lit = Some(String::new());
        let mut alt = None;
        self.pieces(body, &pieces, &mut lit, &mut alt, true, depth)?;
        Ok(lit.map_or(Val::Unknown, Val::Lit))
    }

    /// One word as written: its fields after brace expansion.
    fn word(&mut self, raw: &str, depth: usize) -> Result<Vec<Field>, Stop> {
        if raw.contains('{') && (raw.contains(',') || raw.contains("..")) {
            // brush-parser's brace reader backtracks exponentially in the
            // number of `{` of a word (twelve take milliseconds, twenty
            // seconds): past a few, the expansion is not read and the word's
            // value is unknown (dynamic where it matters).
            if raw.matches('{').count() > MAX_WORD_BRACES {
                return self.unexpanded(raw);
            }
            if let Ok(Some(parts)) = grammar(&mut self.steps, raw, || {
                word::parse_brace_expansions(raw, &self.opts)
            })? {
                if parts
                    .iter()
                    .any(|p| matches!(p, word::BraceExpressionOrText::Expr(_)))
                {
                    let Ok(expanded) = brace_expand(&parts) else {
                        // More words than the bound.
                        return self.unexpanded(raw);
                    };
                    let mut fields = Vec::with_capacity(expanded.len());
                    for w in expanded {
                        // Bash drops a word that brace expansion leaves
                        // empty (`{,rm} v` runs `rm v`); a quoted empty
                        // word (`{,""}`) stays.
                        if w.is_empty() {
                            continue;
                        }
                        fields.push(self.single(&w, depth)?);
                    }
                    return Ok(fields);
                }
            }
        }
        Ok(vec![self.single(raw, depth)?])
    }

    /// A word whose brace expansion is not read: its value is unknown, and
    /// if it holds a substitution, what runs is too (the expansion may
    /// multiply the substitution's text into other commands).
    fn unexpanded(&mut self, raw: &str) -> Result<Vec<Field>, Stop> {
        if runs_code(raw) {
            return Err(Stop::Dynamic);
        }
        self.count_word()?;
        Ok(vec![Field::unknown(raw)])
    }

    /// One word, without brace expansion (assignments, redirection
    /// targets, patterns).
    fn single(&mut self, raw: &str, depth: usize) -> Result<Field, Stop> {
        self.count_word()?;
        if is_plain(raw) {
            return Ok(Field::lit(raw));
        }
        let pieces = grammar(&mut self.steps, raw, || word::parse(raw, &self.opts))?
            .map_err(|e| CommandError::Syntax(e.to_string()))?;
        let mut lit = Some(String::new());
        let mut alt = None;
        self.pieces(raw, &pieces, &mut lit, &mut alt, false, depth)?;
        let tilde = matches!(
            pieces.first().map(|p| &p.piece),
            Some(WordPiece::TildeExpansion(_))
        );
        Ok(Field {
            raw: raw.to_owned(),
            val: lit.map_or(Val::Unknown, Val::Lit),
            alt,
            tilde,
        })
    }

    /// Walks a word's pieces: substitutions are analysed, the literal value
    /// is built while it is known. `alt` gets the POSIX `sh` reading when
    /// the word uses `$'…'` or `$"…"`.
    fn pieces(
        &mut self,
        src: &str,
        pieces: &[WordPieceWithSource],
        lit: &mut Option<String>,
        alt: &mut Option<String>,
        in_quotes: bool,
        depth: usize,
    ) -> Step {
        fn add(s: &mut Option<String>, text: &str) {
            if let Some(s) = s {
                s.push_str(text);
            }
        }
        for p in pieces {
            match &p.piece {
                WordPiece::Text(t) => {
                    if t.contains("$(") || t.contains('`') || (!in_quotes && runs_code(t)) {
                        // A substitution the word grammar did not recognise
                        // as one (it happens with nested braces): bash runs it.
                        return Err(Stop::Dynamic);
                    }
                    if !in_quotes && has_glob(t, src) {
                        // Pathname expansion picks the value at run time.
                        *lit = None;
                    }
                    add(lit, t);
                    add(alt, t);
                }
                WordPiece::SingleQuotedText(t) => {
                    add(lit, t);
                    add(alt, t);
                }
                WordPiece::AnsiCQuotedText(t) => {
                    if alt.is_none() {
                        *alt = lit.clone();
                    }
                    add(alt, &format!("${t}"));
                    // (A backslash-newline inside: the line is dynamic,
                    // see `ansi_c_quote_with_continuation`.)
                    match decode_ansi_c(t) {
                        Some(d) => add(lit, &d),
                        None => *lit = None,
                    }
                }
                WordPiece::DoubleQuotedSequence(inner) => {
                    self.pieces(src, inner, lit, alt, true, depth)?;
                }
                WordPiece::GettextDoubleQuotedSequence(inner) => {
                    if alt.is_none() {
                        *alt = lit.clone();
                    }
                    add(alt, "$");
                    self.pieces(src, inner, lit, alt, true, depth)?;
                    // bash translates `$"…"` with the message catalogue
                    // `TEXTDOMAIN`/`TEXTDOMAINDIR` and the locale name
                    // (a line can write one): its value is not known.
                    *lit = None;
                }
                WordPiece::TildeExpansion(t) => match t {
                    word::TildeExpr::Home => {
                        add(lit, "~");
                        add(alt, "~");
                    }
                    _ => {
                        *lit = None;
                        *alt = None;
                    }
                },
                WordPiece::ParameterExpansion(pe) => {
                    // The word grammar reads `${x:-…}` holding a
                    // substitution with braces of its own (`$(f() { …; })`)
                    // wrongly: any substitution inside a parameter
                    // expansion makes the line dynamic.
                    let text = src.get(p.start_index..p.end_index).unwrap_or(src);
                    if runs_code(text) {
                        return Err(Stop::Dynamic);
                    }
                    self.parameter_expansion(pe, depth)?;
                    *lit = None;
                    *alt = None;
                }
                WordPiece::CommandSubstitution(s) => {
                    self.string(s, depth + 1)?;
                    *lit = None;
                    *alt = None;
                }
                WordPiece::BackquotedCommandSubstitution(s) => {
                    // Inside double quotes, `\"` in backquotes is `"`.
                    if in_quotes && s.contains("\\\"") {
                        self.string(&s.replace("\\\"", "\""), depth + 1)?;
                    } else {
                        self.string(s, depth + 1)?;
                    }
                    *lit = None;
                    *alt = None;
                }
                WordPiece::EscapeSequence(s) => {
                    let mut chars = s.chars();
                    chars.next();
                    let escaped: String = chars.collect();
                    // In double quotes only `\$ \` \" \\ \newline` escape.
                    let text = if in_quotes
                        && !matches!(escaped.as_str(), "$" | "`" | "\"" | "\\" | "\n")
                    {
                        s.as_str()
                    } else if escaped == "\n" {
                        ""
                    } else {
                        escaped.as_str()
                    };
                    add(lit, text);
                    add(alt, text);
                }
                WordPiece::ArithmeticExpression(e) => {
                    self.arithmetic(&e.value)?;
                    *lit = None;
                    *alt = None;
                }
            }
        }
        Ok(())
    }

    /// A parameter expansion: the forms that execute code are dynamic;
    /// the words nested in the others are analysed.
    fn parameter_expansion(&mut self, pe: &ParameterExpr, depth: usize) -> Step {
        use ParameterExpr as P;
        let (parameter, indirect, nested): (Option<&word::Parameter>, bool, [Option<&String>; 2]) =
            match pe {
                P::Parameter {
                    parameter,
                    indirect,
                }
                | P::ParameterLength {
                    parameter,
                    indirect,
                } => (Some(parameter), *indirect, [None, None]),
                P::UseDefaultValues {
                    parameter,
                    indirect,
                    default_value: v,
                    ..
                }
                | P::UseAlternativeValue {
                    parameter,
                    indirect,
                    alternative_value: v,
                    ..
                }
                | P::IndicateErrorIfNullOrUnset {
                    parameter,
                    indirect,
                    error_message: v,
                    ..
                }
                | P::RemoveSmallestSuffixPattern {
                    parameter,
                    indirect,
                    pattern: v,
                }
                | P::RemoveLargestSuffixPattern {
                    parameter,
                    indirect,
                    pattern: v,
                }
                | P::RemoveSmallestPrefixPattern {
                    parameter,
                    indirect,
                    pattern: v,
                }
                | P::RemoveLargestPrefixPattern {
                    parameter,
                    indirect,
                    pattern: v,
                }
                | P::UppercaseFirstChar {
                    parameter,
                    indirect,
                    pattern: v,
                }
                | P::UppercasePattern {
                    parameter,
                    indirect,
                    pattern: v,
                }
                | P::LowercaseFirstChar {
                    parameter,
                    indirect,
                    pattern: v,
                }
                | P::LowercasePattern {
                    parameter,
                    indirect,
                    pattern: v,
                } => (Some(parameter), *indirect, [v.as_ref(), None]),
                P::AssignDefaultValues {
                    parameter,
                    indirect,
                    default_value,
                    ..
                } => {
                    if let word::Parameter::Named(n) = parameter {
                        if dangerous_var(n) || option_var(n) || command_var(n) || arithmetic_var(n)
                        {
                            return Err(Stop::Dynamic);
                        }
                    }
                    (Some(parameter), *indirect, [default_value.as_ref(), None])
                }
                P::Substring {
                    parameter,
                    indirect,
                    offset,
                    length,
                } => {
                    self.arithmetic(&offset.value)?;
                    if let Some(l) = length {
                        self.arithmetic(&l.value)?;
                    }
                    (Some(parameter), *indirect, [None, None])
                }
                P::Transform {
                    parameter,
                    indirect,
                    op,
                } => {
                    if matches!(op, ParameterTransformOp::PromptExpand) {
                        // `${x@P}` expands `$(…)` inside the variable's value.
                        return Err(Stop::Dynamic);
                    }
                    (Some(parameter), *indirect, [None, None])
                }
                P::ReplaceSubstring {
                    parameter,
                    indirect,
                    pattern,
                    replacement,
                    ..
                } => (
                    Some(parameter),
                    *indirect,
                    [Some(pattern), replacement.as_ref()],
                ),
                P::VariableNames { .. } | P::MemberKeys { .. } => (None, false, [None, None]),
            };
        if indirect {
            // `${!x}`: the variable named by x's value, whose subscript
            // (`a[$(cmd)]`) is evaluated.
            return Err(Stop::Dynamic);
        }
        if let Some(word::Parameter::NamedWithIndex { index, .. }) = parameter {
            self.arithmetic(index)?;
        }
        for text in nested.into_iter().flatten() {
            match grammar(&mut self.steps, text, || word::parse(text, &self.opts))? {
                Ok(pieces) => {
                    let (mut lit, mut alt) = (None, None);
                    self.pieces(text, &pieces, &mut lit, &mut alt, false, depth)?;
                }
                // A nested word the word grammar cannot read.
                Err(_) => return Err(Stop::Dynamic),
            }
        }
        Ok(())
    }
}

/// Runs one of brush-parser's readers on `text` with the `steps` the line
/// has left (less those it takes, after). The parser unwraps a few
/// numbers it reads (a file descriptor before `<`/`>` as `i32`, brace
/// sequence bounds as `i64`, `~N` as `usize`) and panics when they
/// overflow: such text is refused before it reaches the parser, and any
/// other panic inside the parser is caught; both are syntax errors (an
/// invalid intent), never a crashed decision.
fn grammar<T>(steps: &mut u64, text: &str, parse: impl FnOnce() -> T) -> Result<T, CommandError> {
    let refused = || CommandError::Syntax("a number too large for the shell grammar".to_owned());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let len = i - start;
        let before = start.checked_sub(1).map(|b| bytes[b]);
        let after = bytes.get(i).copied();
        if len >= 10 && matches!(after, Some(b'<' | b'>')) {
            return Err(refused());
        }
        if len >= 19 && matches!(before, Some(b'{' | b'.' | b'~' | b'+' | b'-')) {
            return Err(refused());
        }
    }
    let read = brush_parser::budget::bounded(*steps, crate::deadline::expired, || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse))
    });
    *steps = read.left;
    if read.cut {
        // The parse was stopped: whatever it returned is not a reading.
        return Err(if crate::deadline::expired() {
            CommandError::Timeout
        } else {
            CommandError::TooComplex
        });
    }
    read.out
        .map_err(|_| CommandError::Syntax("the shell grammar could not read it".to_owned()))
}

/// Text that would run code if it stood unquoted: a command or process
/// substitution.
fn runs_code(t: &str) -> bool {
    t.contains("$(") || t.contains('`') || t.contains("<(") || t.contains(">(")
}

/// Whether text `t` of the word `raw` holds a pattern character. A `[`
/// opens a bracket expression only when a `]` follows in the word: `[` alone
/// (the `test` program) is itself.
fn has_glob(t: &str, raw: &str) -> bool {
    t.contains(['*', '?'])
        || (t.contains('[') && raw.contains(']'))
        || t.contains("@(")
        || t.contains("!(")
        || t.contains("+(")
}

/// Brace expansion (`a{b,c}d`, `{1..3}`, `{a..c}`), bounded: more than
/// [`MAX_BRACE_FIELDS`] words is dynamic. Iterative over a word's parts
/// (recursive only into nested braces, which the nesting bound limits).
fn brace_expand(parts: &[word::BraceExpressionOrText]) -> Result<Vec<String>, Stop> {
    use word::{BraceExpressionMember as M, BraceExpressionOrText as P};
    let mut words = vec![String::new()];
    for part in parts {
        match part {
            P::Text(t) => {
                for w in &mut words {
                    w.push_str(t);
                }
            }
            P::Expr(members) => {
                let mut alternatives = Vec::new();
                for m in members {
                    match m {
                        M::Child(children) => alternatives.extend(brace_expand(children)?),
                        M::NumberSequence {
                            start,
                            end,
                            increment,
                        } => {
                            let step = increment.unsigned_abs().max(1);
                            let count = start.abs_diff(*end) / step + 1;
                            if count > MAX_BRACE_FIELDS as u64 {
                                return Err(Stop::Dynamic);
                            }
                            let mut v = *start;
                            for _ in 0..count {
                                alternatives.push(v.to_string());
                                v = if start <= end {
                                    v.saturating_add_unsigned(step)
                                } else {
                                    v.saturating_sub_unsigned(step)
                                };
                            }
                        }
                        M::CharSequence {
                            start,
                            end,
                            increment,
                        } => {
                            // bash takes letters only, in the written order,
                            // every `increment`-th (`{r..c}{m..d}` starts with
                            // `rm`, `{a..z..2}` skips).
                            if !(start.is_ascii_alphabetic() && end.is_ascii_alphabetic()) {
                                return Err(Stop::Dynamic);
                            }
                            let (a, b) = (u32::from(*start), u32::from(*end));
                            let step = usize::try_from(increment.unsigned_abs().max(1))
                                .map_err(|_| Stop::Dynamic)?;
                            let codes: Vec<u32> = if a <= b {
                                (a..=b).step_by(step).collect()
                            } else {
                                (b..=a).rev().step_by(step).collect()
                            };
                            alternatives.extend(
                                codes
                                    .into_iter()
                                    .filter_map(char::from_u32)
                                    .map(String::from),
                            );
                        }
                    }
                    if alternatives.len() > MAX_BRACE_FIELDS {
                        return Err(Stop::Dynamic);
                    }
                }
                if words.len().saturating_mul(alternatives.len()) > MAX_BRACE_FIELDS {
                    return Err(Stop::Dynamic);
                }
                words = words
                    .iter()
                    .flat_map(|w| alternatives.iter().map(move |a| format!("{w}{a}")))
                    .collect();
            }
        }
    }
    Ok(words)
}

/// Decodes the text of `$'…'` as bash does; `None` for an escape whose
/// value the analysis does not reproduce.
fn decode_ansi_c(t: &str) -> Option<String> {
    let mut out = String::with_capacity(t.len());
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else {
            out.push('\\');
            break;
        };
        let digits =
            |chars: &mut std::iter::Peekable<std::str::Chars<'_>>, radix: u32, max: usize| {
                let mut v: u32 = 0;
                let mut n = 0;
                while n < max {
                    match chars.peek().and_then(|c| c.to_digit(radix)) {
                        Some(d) => {
                            v = v * radix + d;
                            chars.next();
                            n += 1;
                        }
                        None => break,
                    }
                }
                (v, n)
            };
        match e {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'e' | 'E' => out.push('\u{1b}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' | '\'' | '"' | '?' => out.push(e),
            '0'..='7' => {
                let (rest, n) = digits(&mut chars, 8, 2);
                let v = e.to_digit(8)? * 8u32.pow(n as u32) + rest;
                // Bytes above 0x7f are not characters on their own.
                out.push(char::from_u32(v).filter(|c| c.is_ascii())?);
            }
            'x' => {
                let (v, n) = digits(&mut chars, 16, 2);
                if n == 0 {
                    return None;
                }
                out.push(char::from_u32(v).filter(|c| c.is_ascii())?);
            }
            'u' | 'U' => {
                let (v, n) = digits(&mut chars, 16, if e == 'u' { 4 } else { 8 });
                if n == 0 {
                    return None;
                }
                out.push(char::from_u32(v)?);
            }
            'c' => {
                // bash's TOCTRL: `?` is DEL, any other character its upper
                // case's low five bits (`\c*` is a newline); `\c\\`
                // consumes both backslashes.
                let c = chars.next().filter(char::is_ascii)?;
                if c == '\\' && chars.peek() == Some(&'\\') {
                    chars.next();
                }
                let v = if c == '?' {
                    0x7f
                } else {
                    u32::from(c.to_ascii_uppercase()) & 0x1f
                };
                out.push(char::from_u32(v)?);
            }
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    // A NUL ends the string in bash.
    Some(match out.find('\0') {
        Some(i) => out[..i].to_owned(),
        None => out,
    })
}

mod run;

#[cfg(test)]
mod tests;
