//! "Did you mean" suggestions.

/// The closest candidate to `word`, if it is close enough to be a likely typo.
pub fn best_match<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(&'a str, f64)> = None;
    for cand in candidates {
        if cand == word {
            continue;
        }
        let score =
            strsim::normalized_damerau_levenshtein(&word.to_lowercase(), &cand.to_lowercase());
        let better = match best {
            None => true,
            // Ties go to the lexicographically smaller candidate, for determinism.
            Some((b, s)) => score > s || (score == s && cand < b),
        };
        if better {
            best = Some((cand, score));
        }
    }
    best.filter(|&(_, s)| s >= 0.6).map(|(c, _)| c)
}

#[cfg(test)]
mod tests {
    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            super::best_match("workspce", ["workspace", "api_hosts"]),
            Some("workspace")
        );
        assert_eq!(super::best_match("zzz", ["workspace", "api_hosts"]), None);
    }
}
