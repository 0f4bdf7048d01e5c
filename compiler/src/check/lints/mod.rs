//! Every warning of the checker, one file per kind. Each lint is a function
//! from what checking found to diagnostics; checking decides when to run it.
//!
//! - [`policy`]: over the checked model — rules that never match (W0003),
//!   rules shadowed by an earlier tier (W0004), mapped tools no rule admits
//!   (W0009);
//! - [`quantifier`]: `any`/`all` unsafe for the rule's verdict (W0005, W0006);
//! - [`unicode`]: mixed-script and confusable literals (W0007, W0008);
//! - [`unused`]: sets and imports nothing uses (W0001, W0002);
//! - [`duplicates`]: a value written twice in one list (W0010);
//! - [`approvals`]: approval required where no approver is declared (W0011).

pub mod approvals;
pub mod duplicates;
pub mod policy;
pub mod quantifier;
pub mod unicode;
pub mod unused;
