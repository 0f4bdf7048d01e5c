//! Patterns as matchers: a literal pattern becomes a hash-table key (exact,
//! segment prefix for `/dir/**`, label suffix for `*.domain`); the others
//! become regexes in *event form* (a leading `**` is an unanchored search, a
//! trailing `**` is "followed by `/` or the end"), built into DFAs.

use gait_run::tables::matcher;
use regex_automata::dfa::dense;
use regex_automata::dfa::StartKind;
use regex_automata::nfa::thompson;
use regex_automata::MatchKind;

/// Largest DFA built for one attribute.
const DFA_SIZE_LIMIT: usize = 512 * 1024 * 1024;

fn escape_char(c: char, out: &mut String) {
    if "\\.+*?()|[]{}^$#&-~".contains(c) {
        out.push('\\');
    }
    out.push(c);
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        escape_char(c, &mut out);
    }
    out
}

/// A path-glob segment as a regex over one segment's characters.
fn segment_regex(seg: &str) -> String {
    let chars: Vec<char> = seg.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            // Byte-level: the same strings as `[^/]*` on UTF-8 input, far fewer states.
            '*' => out.push_str("(?-u:[^/])*"),
            '?' => out.push_str("[^/]"),
            '[' => {
                // Mirrors the reference matcher: `]` first is literal; `!`/`^` negate.
                let mut j = i + 1;
                let negate = matches!(chars.get(j), Some('!') | Some('^'));
                if negate {
                    j += 1;
                }
                let mut body = String::new();
                let mut first = true;
                let mut closed = None;
                while j < chars.len() {
                    if chars[j] == ']' && !first {
                        closed = Some(j);
                        break;
                    }
                    first = false;
                    if j + 2 < chars.len() && chars[j + 1] == '-' && chars[j + 2] != ']' {
                        escape_char(chars[j], &mut body);
                        body.push('-');
                        escape_char(chars[j + 2], &mut body);
                        j += 3;
                    } else {
                        escape_char(chars[j], &mut body);
                        j += 1;
                    }
                }
                match closed {
                    Some(end) => {
                        out.push_str(if negate { "[^/" } else { "[" });
                        out.push_str(&body);
                        out.push(']');
                        i = end;
                    }
                    None => out.push_str("\\["),
                }
            }
            c => escape_char(c, &mut out),
        }
        i += 1;
    }
    out
}

/// How a pattern is searched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Class {
    /// In the matcher's anchored DFA; a match event anywhere means a match.
    Anchored,
    /// In the matcher's unanchored DFA; a match event anywhere means a match.
    Unanchored,
    /// A full-match regex (events only at the end) in a small DFA of its own group.
    Complex,
    /// `**/s1/…/sk` with a wildcard in some segment: the path's last `k`
    /// segments match `/s1/…/sk`. An anchored DFA per `k`, run from the
    /// `k`-th last `/` of the path: small (no unanchored prefix loop, so no
    /// Aho-Corasick blow-up) and it reads only those segments.
    Segments(u32),
}

/// `Class::Segments` up to this many segments (the format's field holds 8 bits).
const MAX_SEGMENTS: usize = 255;

/// A path glob as an anchored full-match regex over the path key (the root is "").
fn path_regex(glob: &str) -> String {
    if glob == "/" {
        return r"\A\z".to_owned();
    }
    let body = glob.strip_prefix('/').unwrap_or(glob);
    let mut out = String::from(r"\A");
    for seg in body.split('/') {
        if seg == "**" {
            out.push_str("(?:/(?-u:[^/])+)*");
        } else {
            out.push('/');
            out.push_str(&segment_regex(seg));
        }
    }
    out.push_str(r"\z");
    out
}

/// A path glob in event form: a leading `**` becomes an unanchored search for
/// the rest (which starts with `/`, so only at a segment start); a trailing
/// `**` becomes "followed by `/` or the end". Globs with `**` between other
/// segments keep their full-match regex.
fn path_event(glob: &str) -> (Class, String) {
    if glob == "/" {
        return (Class::Anchored, r"\A\z".to_owned());
    }
    let body = glob.strip_prefix('/').unwrap_or(glob);
    let mut segs: Vec<&str> = Vec::new();
    for seg in body.split('/') {
        if !(seg == "**" && segs.last() == Some(&"**")) {
            segs.push(seg);
        }
    }
    if segs == ["**"] {
        return (Class::Anchored, r"\A(?:/|\z)".to_owned());
    }
    let leading = segs.first() == Some(&"**");
    let trailing = segs.last() == Some(&"**");
    let core = &segs[usize::from(leading)..segs.len() - usize::from(trailing)];
    if core.contains(&"**") {
        return (Class::Complex, path_regex(glob));
    }
    let mut re = String::new();
    for seg in core {
        re.push('/');
        re.push_str(&segment_regex(seg));
    }
    re.push_str(if trailing { r"(?:/|\z)" } else { r"\z" });
    if leading && !trailing && core.len() <= MAX_SEGMENTS {
        (Class::Segments(core.len() as u32), format!(r"\A{re}"))
    } else if leading {
        (Class::Unanchored, re)
    } else {
        (Class::Anchored, format!(r"\A{re}"))
    }
}

/// A `*` glob (tools, commands) in event form.
fn star_event(glob: &str) -> (Class, String) {
    let parts: Vec<&str> = glob.split('*').collect();
    let lit = |s: &str| escape(s);
    match parts.as_slice() {
        [only] => (Class::Anchored, format!(r"\A{}\z", lit(only))),
        [a, ""] => (Class::Anchored, format!(r"\A{}", lit(a))),
        ["", b] => (Class::Unanchored, format!(r"{}\z", lit(b))),
        ["", m, ""] => (Class::Unanchored, lit(m)),
        _ => {
            let mut re = String::from(r"\A");
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    re.push_str("(?s-u:.)*");
                }
                re.push_str(&lit(p));
            }
            re.push_str(r"\z");
            (Class::Complex, re)
        }
    }
}

/// The event-form regex of pattern `p` of matcher `m`, and how it is searched.
pub(super) fn event_for(m: usize, p: &str) -> (Class, String) {
    match m {
        matcher::TOOL | matcher::COMMAND | matcher::MAPPING_TOOLS => star_event(p),
        matcher::PATH | matcher::WORKSPACE => path_event(p),
        matcher::DOMAIN => match p.strip_prefix("*.") {
            Some(suffix) => (
                Class::Unanchored,
                format!(r"(?s-u:.)\.{}\z", escape(suffix)),
            ),
            None => (Class::Anchored, format!(r"\A{}\z", escape(p))),
        },
        matcher::MARKERS => (Class::Unanchored, escape(p)),
        _ => (Class::Anchored, format!(r"\A{}\z", escape(p))),
    }
}

/// Full-match patterns per DFA: small groups bound the subset explosion.
pub(super) const COMPLEX_GROUP: usize = 4;

/// Dense DFAs larger than this are stored sparse: a few times smaller (the
/// bundle stays a few KB), one short transition scan per byte instead of a
/// table lookup (the lookup stays one pass over the value). A sparse step
/// costs several times a dense one (`std.secrets`' last-segment automaton,
/// 26 KB dense, 4 KB sparse: about 9 ns a byte sparse, under 2 dense), so
/// automata up to 32 KiB stay dense: the example bundles stay under 64 KB.
const SPARSE_ABOVE: usize = 32 * 1024;

/// One DFA over `regexes` (all-matches semantics): its serialization and
/// whether it is sparse; the error says why it could not be built.
pub(super) fn build_dfa(anchored: bool, regexes: &[String]) -> Result<(Vec<u8>, bool), String> {
    let dfa = dense_dfa(anchored, regexes, false)?;
    let (bytes, pad) = dfa.to_bytes_little_endian();
    if bytes.len() - pad <= SPARSE_ABOVE {
        return Ok((bytes[pad..].to_vec(), false));
    }
    // Large: minimized (fewer states), then stored sparse.
    let sparse = dense_dfa(anchored, regexes, true)?
        .to_sparse()
        .map_err(|e| {
            format!(
                "cannot build a sparse automaton for {} patterns: {e}",
                regexes.len()
            )
        })?;
    Ok((sparse.to_bytes_little_endian(), true))
}

fn dense_dfa(
    anchored: bool,
    regexes: &[String],
    minimize: bool,
) -> Result<dense::DFA<Vec<u32>>, String> {
    let start = if anchored {
        StartKind::Anchored
    } else {
        StartKind::Unanchored
    };
    dense::Builder::new()
        .configure(
            dense::Config::new()
                .match_kind(MatchKind::All)
                .start_kind(start)
                .minimize(minimize)
                .dfa_size_limit(Some(DFA_SIZE_LIMIT))
                .determinize_size_limit(Some(DFA_SIZE_LIMIT)),
        )
        // Byte-level classes (`(?-u:[^/])`) are allowed: values are always UTF-8.
        .syntax(regex_automata::util::syntax::Config::new().utf8(false))
        .thompson(thompson::Config::new().shrink(false).utf8(false))
        .build_many(regexes)
        .map_err(|e| {
            format!(
                "cannot build an automaton for {} patterns: {e}",
                regexes.len()
            )
        })
}

/// Which hash table a literal pattern goes to (its key), if any.
pub(super) enum Table {
    Exact(String),
    Prefix(String),
    Suffix(String),
}

pub(super) fn table_for(m: usize, p: &str) -> Option<Table> {
    let wild = |s: &str| s.contains(['*', '?', '[', ']']);
    match m {
        matcher::IDENTITY
        | matcher::SKILL_NAME
        | matcher::SKILL_PUBLISHER
        | matcher::SKILL_SOURCE => Some(Table::Exact(p.to_owned())),
        matcher::TOOL | matcher::COMMAND | matcher::MAPPING_TOOLS if !p.contains('*') => {
            Some(Table::Exact(p.to_owned()))
        }
        matcher::DOMAIN => Some(match p.strip_prefix("*.") {
            Some(suffix) => Table::Suffix(suffix.to_owned()),
            None => Table::Exact(p.to_owned()),
        }),
        matcher::PATH | matcher::WORKSPACE => {
            if p == "/" {
                // The root's path key is "".
                return Some(Table::Exact(String::new()));
            }
            if p == "**" || p == "/**" {
                return Some(Table::Prefix(String::new()));
            }
            // `**/a/b` (and `/**/a/b`): the path's last segments are `a/b` —
            // looked up at every segment boundary of the path, key `/a/b`.
            if let Some(rest) = p.strip_prefix('/').unwrap_or(p).strip_prefix("**/") {
                if !rest.is_empty() && !wild(rest) && !rest.split('/').any(str::is_empty) {
                    return Some(Table::Suffix(format!("/{rest}")));
                }
                return None;
            }
            let stem = p.strip_suffix("/**").unwrap_or(p);
            if !stem.starts_with('/') || wild(stem) || stem.split('/').any(|seg| seg == "**") {
                return None;
            }
            Some(if stem.len() == p.len() {
                Table::Exact(p.to_owned())
            } else {
                Table::Prefix(stem.to_owned())
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_forms() {
        type Event = fn(&str) -> (Class, String);
        let cases: &[(Event, &str, Class, &str)] = &[
            (
                path_event,
                "/workspace/**",
                Class::Anchored,
                r"\A/workspace(?:/|\z)",
            ),
            (
                path_event,
                "**/.ssh/id_*",
                Class::Segments(2),
                r"\A/\.ssh/id_(?-u:[^/])*\z",
            ),
            (
                path_event,
                "**/*.pem",
                Class::Segments(1),
                r"\A/(?-u:[^/])*\.pem\z",
            ),
            (
                path_event,
                "**/.config/gcloud/**",
                Class::Unanchored,
                r"/\.config/gcloud(?:/|\z)",
            ),
            (path_event, "/**", Class::Anchored, r"\A(?:/|\z)"),
            (star_event, "mcp__*", Class::Anchored, r"\Amcp__"),
            (star_event, "*_file", Class::Unanchored, r"_file\z"),
            (star_event, "*", Class::Anchored, r"\A"),
        ];
        for (event, glob, class, regex) in cases {
            assert_eq!(event(glob), (*class, (*regex).to_owned()), "{glob}");
        }
        assert_eq!(path_event("/a/**/b").0, Class::Complex);
        assert_eq!(star_event("a*b").0, Class::Complex);
    }

    #[test]
    fn path_regexes() {
        assert_eq!(
            path_regex("/workspace/**"),
            r"\A/workspace(?:/(?-u:[^/])+)*\z"
        );
        assert_eq!(
            path_regex("**/.ssh/id_*"),
            r"\A(?:/(?-u:[^/])+)*/\.ssh/id_(?-u:[^/])*\z"
        );
        assert_eq!(path_regex("/a/[!x-z]?"), r"\A/a/[^/x-z][^/]\z");
        assert_eq!(path_regex("/a/[]x]"), r"\A/a/[\]x]\z");
        assert_eq!(path_regex("/"), r"\A\z");
    }
}
