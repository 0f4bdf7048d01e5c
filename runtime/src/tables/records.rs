//! Typed views of a payload's records ([`TableData`]), for readers that
//! show a bundle without loading it (`gaitc inspect`) and for [`Tables`]'
//! own accessors ([`super::Tables`]): rules, approvers and approval terms, with their string
//! ids resolved. A string id or a list span out of range reads as `""` or
//! as an empty list (a loaded bundle has none: loading validates them).

use super::{approval_flag, TableData, NONE, RULE_STRIDE};
use crate::vocab::Verdict;

/// One rule record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleRecord<'a> {
    pub name: &'a str,
    pub priority: u32,
    /// `None` for an index that is no verdict.
    pub verdict: Option<Verdict>,
    /// The rule's `approvals N` (0 in the record: no `approvals` clause).
    pub approvals: u32,
}

impl RuleRecord<'_> {
    /// Distinct approvers required: at least one.
    pub fn approvals_required(&self) -> u32 {
        self.approvals.max(1)
    }
}

/// One `trust approver` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApproverRecord<'a> {
    pub name: &'a str,
    pub key_id: &'a str,
    /// The public key, base64.
    pub public_key: &'a str,
}

/// The approval terms of one `require_approval` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalTerms<'a> {
    pub rule: &'a str,
    /// The allowed approvers, sorted; `None`: any declared approver.
    pub approvers: Option<Vec<&'a str>>,
    /// Interactive approval (MCP elicitation) is allowed.
    pub interactive: bool,
}

impl TableData {
    /// The text of string `id` (`""` out of range).
    pub fn text(&self, id: u32) -> &str {
        self.strings.get(id as usize).unwrap_or("")
    }

    /// `lists[start..start + len]` (empty out of range).
    pub fn list(&self, start: u32, len: u32) -> &[u32] {
        let start = start as usize;
        self.lists
            .get(start..start.saturating_add(len as usize))
            .unwrap_or_default()
    }

    /// The rules, in evaluation order.
    pub fn rule_records(&self) -> impl Iterator<Item = RuleRecord<'_>> {
        self.rules.chunks_exact(RULE_STRIDE).map(|r| RuleRecord {
            name: self.text(r[3]),
            priority: r[0],
            verdict: Verdict::ALL.get(r[1] as usize).copied(),
            approvals: r[2],
        })
    }

    /// The approver table, sorted by approver, then key id.
    pub fn approver_records(&self) -> impl Iterator<Item = ApproverRecord<'_>> {
        self.approvers.chunks_exact(3).map(|a| ApproverRecord {
            name: self.text(a[0]),
            key_id: self.text(a[1]),
            public_key: self.text(a[2]),
        })
    }

    /// The approval terms of every `require_approval` rule, sorted by
    /// rule name.
    pub fn approval_terms(&self) -> impl Iterator<Item = ApprovalTerms<'_>> {
        self.approval_rules.chunks_exact(4).map(|a| ApprovalTerms {
            rule: self.text(a[0]),
            approvers: (a[1] != NONE).then(|| {
                self.list(a[1], a[2])
                    .iter()
                    .map(|&i| self.text(i))
                    .collect()
            }),
            interactive: a[3] & approval_flag::INTERACTIVE != 0,
        })
    }
}
