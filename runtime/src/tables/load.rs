//! Loading decoded table data: every index is validated once, so evaluation
//! never reads out of bounds.

use super::*;

impl Tables {
    /// Validates decoded data and loads the automata (no rebuilding: DFAs are
    /// deserialized and copied as they are).
    pub fn load(data: TableData) -> Result<Tables, TableError> {
        let default_verdict = *Verdict::ALL
            .get(data.default_verdict as usize)
            .ok_or_else(|| bad("bad default verdict"))?;
        let fail_closed_risk = Risk::ALL
            .iter()
            .copied()
            .filter(|r| data.fail_closed_risk & (1 << r.index()) != 0)
            .collect();
        let fail_closed_require = crate::vocab::FAIL_CLOSED_FIELDS
            .iter()
            .enumerate()
            .filter(|(i, _)| data.fail_closed_require & (1 << i) != 0)
            .map(|(_, f)| *f)
            .collect();
        if data.matchers.len() != matcher::COUNT {
            return Err(bad("wrong number of matchers"));
        }
        let mut data = data;
        let matchers = std::mem::take(&mut data.matchers)
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                Matcher::load(
                    m,
                    &data.strings,
                    matches!(i, matcher::PATH | matcher::WORKSPACE),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut t = Tables {
            data,
            matchers,
            default_verdict,
            fail_closed_risk,
            fail_closed_require,
            approver_public_keys: Vec::new(),
        };
        t.validate()?;
        t.approver_public_keys = t.decode_approver_keys()?;
        Ok(t)
    }

    fn validate(&self) -> Result<(), TableError> {
        let d = &self.data;
        let n_lists = d.lists.len();
        let n_strings = d.strings.len() as u32;
        let n_rules = (d.rules.len() / RULE_STRIDE) as u32;
        let range_ok = |start: u32, len: u32| {
            (start as usize)
                .checked_add(len as usize)
                .is_some_and(|e| e <= n_lists)
        };
        let list = |start: u32, len: u32| -> Result<&[u32], TableError> {
            if !range_ok(start, len) {
                return Err(bad("list range out of bounds"));
            }
            Ok(&d.lists[start as usize..(start + len) as usize])
        };
        let str_ok = |s: u32| s < n_strings;
        for (name, v, stride) in [
            ("rules", &d.rules, RULE_STRIDE),
            ("nodes", &d.nodes, node::STRIDE),
            ("atoms", &d.atoms, atom::STRIDE),
            ("valuesets", &d.valuesets, 2),
            ("mappings", &d.mappings, 2),
            ("mapping entries", &d.mapping_entries, 4),
            ("trust", &d.trust, 3),
            ("pins", &d.pins, 3),
            ("approvers", &d.approvers, 3),
            ("approval rules", &d.approval_rules, 4),
        ] {
            if v.len() % stride != 0 {
                return Err(bad(format!("{name} table has a partial record")));
            }
        }
        if d.enum_postings.len() != 2 * enums::total() || d.flag_postings.len() != 2 * flags::COUNT
        {
            return Err(bad("posting tables have the wrong size"));
        }
        let n_nodes = (d.nodes.len() / node::STRIDE) as u32;
        let n_atoms = (d.atoms.len() / atom::STRIDE) as u32;
        let n_vs = (d.valuesets.len() / 2) as u32;
        // Value sets: sorted pattern ids (which matcher is checked via atoms).
        for vs in d.valuesets.chunks_exact(2) {
            let items = list(vs[0], vs[1])?;
            if items.windows(2).any(|w| w[0] >= w[1]) {
                return Err(bad("value set is not sorted"));
            }
        }
        for a in d.atoms.chunks_exact(atom::STRIDE) {
            let (kind, attr, quant, neg, arg) = (a[0], a[1] as usize, a[2], a[3], a[4]);
            if quant > 1 || neg > 1 {
                return Err(bad("bad atom flags"));
            }
            let vs_patterns_ok = |m: usize| -> Result<(), TableError> {
                if arg >= n_vs {
                    return Err(bad("atom value set out of range"));
                }
                let vs = &d.valuesets[arg as usize * 2..arg as usize * 2 + 2];
                let patterns = self.matchers.get(m).map(|m| m.patterns).unwrap_or(0);
                if list(vs[0], vs[1])?.iter().any(|&p| p >= patterns) {
                    return Err(bad("value set names a pattern its matcher lacks"));
                }
                Ok(())
            };
            match kind {
                atom::SCALAR_SET if attr <= matcher::SKILL_SOURCE => vs_patterns_ok(attr)?,
                atom::MULTI_SET if (matcher::PATH..=matcher::COMMAND).contains(&attr) => {
                    vs_patterns_ok(attr)?
                }
                // Flags and markers have no quantifier, and their evaluation
                // has no negated form (`not` is a node): a set bit would be
                // silently ignored, so it is refused.
                atom::ARGS_CONTAIN if quant == 0 && neg == 0 => vs_patterns_ok(matcher::MARKERS)?,
                atom::SCALAR_ENUM if attr == enums::RISK => {}
                atom::MULTI_ENUM if (enums::ENDPOINT..enums::COUNT).contains(&attr) => {}
                atom::FLAG if (arg as usize) < flags::COUNT && quant == 0 && neg == 0 => {}
                _ => return Err(bad("bad atom")),
            }
            if matches!(kind, atom::SCALAR_ENUM | atom::MULTI_ENUM)
                && arg >> enums::SIZES[attr] != 0
            {
                return Err(bad("enum mask out of range"));
            }
        }
        // Nodes refer only to earlier nodes, which bounds recursion by depth.
        let mut depth = vec![0u32; n_nodes as usize];
        for (i, n) in d.nodes.chunks_exact(node::STRIDE).enumerate() {
            let children: &[u32] = match n[0] {
                node::AND | node::OR => list(n[1], n[2])?,
                node::NOT => std::slice::from_ref(&n[1]),
                node::ATOM => {
                    if n[1] >= n_atoms {
                        return Err(bad("node atom out of range"));
                    }
                    &[]
                }
                _ => return Err(bad("bad node kind")),
            };
            let mut dmax = 0;
            for &c in children {
                if c as usize >= i {
                    return Err(bad("node refers forward"));
                }
                dmax = dmax.max(depth[c as usize]);
            }
            depth[i] = dmax + 1;
            if depth[i] > 512 {
                return Err(bad("condition nested too deeply"));
            }
        }
        let mut prev_priority = 0;
        for r in d.rules.chunks_exact(RULE_STRIDE) {
            if r[0] < prev_priority {
                return Err(bad("rules are not in priority order"));
            }
            prev_priority = r[0];
            if r[1] as usize >= Verdict::ALL.len()
                || !str_ok(r[3])
                || (r[8] != NONE && !str_ok(r[8]))
                || (r[9] != NONE && r[9] >= n_nodes)
            {
                return Err(bad("bad rule record"));
            }
            for s in list(r[4], r[5])?.iter().chain(list(r[6], r[7])?) {
                if !str_ok(*s) {
                    return Err(bad("rule code out of range"));
                }
            }
        }
        let postings_ok = |p: &[u32], bound: u32| -> Result<(), TableError> {
            for pr in p.chunks_exact(2) {
                if list(pr[0], pr[1])?.iter().any(|&r| r >= bound) {
                    return Err(bad("posting out of range"));
                }
            }
            Ok(())
        };
        for (i, m) in self.matchers.iter().enumerate() {
            let bound = if i == matcher::MAPPING_TOOLS {
                (d.mappings.len() / 2) as u32
            } else {
                n_rules
            };
            postings_ok(&m.postings, bound)?;
        }
        postings_ok(&d.enum_postings, n_rules)?;
        postings_ok(&d.flag_postings, n_rules)?;
        if d.unanchored.iter().any(|&r| r >= n_rules) {
            return Err(bad("unanchored rule out of range"));
        }
        for m in d.mappings.chunks_exact(2) {
            if (m[0] as usize + m[1] as usize) * 4 > d.mapping_entries.len() {
                return Err(bad("mapping entries out of range"));
            }
        }
        for e in d.mapping_entries.chunks_exact(4) {
            if e[0] as usize >= TargetKind::ALL.len() || e[1] as usize >= EndpointClass::ALL.len() {
                return Err(bad("bad mapping entry"));
            }
            if list(e[2], e[3])?.iter().any(|&s| s != NONE && !str_ok(s)) {
                return Err(bad("mapping step out of range"));
            }
        }
        if d.trust.iter().chain(&d.pins).any(|&s| !str_ok(s)) {
            return Err(bad("trust or pin string out of range"));
        }
        self.validate_approvals()
    }

    /// Decodes every approver key (after [`Tables::validate`]); a key that
    /// is not a valid Ed25519 public key, or whose id is not its own,
    /// rejects the bundle.
    ///
    /// One key under two approver names also rejects it: approvers are
    /// counted by name, so its holder would count twice (gaitc refuses such
    /// a policy, E0081; this is the loader's own check).
    fn decode_approver_keys(&self) -> Result<Vec<crate::keys::PublicKey>, TableError> {
        let mut holders: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
        for (name, id, _) in self.approver_keys() {
            if let Some(other) = holders.insert(id, name).filter(|o| *o != name) {
                return Err(bad(format!(
                    "approvers {other} and {name} share the key {id}"
                )));
            }
        }
        self.approver_keys()
            .map(|(name, id, b64)| {
                let key = crate::keys::PublicKey::parse(b64)
                    .map_err(|e| bad(format!("approver {name}: {e}")))?;
                if key.id() != id {
                    return Err(bad(format!(
                        "approver {name}: key id {id} is not the key's"
                    )));
                }
                Ok(key)
            })
            .collect()
    }

    /// The approval tables: strings in range, approvers and rules sorted by
    /// text (lookups are binary searches), sets of declared approvers only,
    /// a TTL within the hard cap.
    fn validate_approvals(&self) -> Result<(), TableError> {
        let d = &self.data;
        let n_strings = d.strings.len() as u32;
        if d.approval_ttl_secs == 0 || d.approval_ttl_secs > MAX_APPROVAL_TTL_SECS {
            return Err(bad("approval TTL out of range"));
        }
        if d.approvers.iter().any(|&s| s >= n_strings) {
            return Err(bad("approver string out of range"));
        }
        let keyed: Vec<(&str, &str)> = d
            .approvers
            .chunks_exact(3)
            .map(|a| (self.s(a[0]), self.s(a[1])))
            .collect();
        if keyed.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("approver table is not sorted"));
        }
        let mut last: Option<&str> = None;
        for r in d.approval_rules.chunks_exact(4) {
            if r[0] >= n_strings || r[3] & !approval_flag::INTERACTIVE != 0 {
                return Err(bad("bad approval rule"));
            }
            let name = self.s(r[0]);
            if last.is_some_and(|l| l >= name) {
                return Err(bad("approval rules are not sorted"));
            }
            last = Some(name);
            if r[1] == NONE {
                continue;
            }
            let in_range = (r[1] as usize)
                .checked_add(r[2] as usize)
                .is_some_and(|e| e <= d.lists.len());
            if !in_range {
                return Err(bad("list range out of bounds"));
            }
            let set = self.list(r[1], r[2]);
            let mut prev: Option<&str> = None;
            for &s in set {
                if s >= n_strings {
                    return Err(bad("approver set string out of range"));
                }
                let member = self.s(s);
                if prev.is_some_and(|p| p >= member) {
                    return Err(bad("approver set is not sorted"));
                }
                if !keyed.iter().any(|(a, _)| *a == member) {
                    return Err(bad("approver set names an undeclared approver"));
                }
                prev = Some(member);
            }
        }
        Ok(())
    }
}
