//! Helpers shared by the integration tests: each test file that needs them
//! declares `mod support;` (cargo does not build `tests/support/` as a test
//! of its own).
//!
//! - [`http`]: a small HTTP/1.1 client on `std::net::TcpStream` for talking
//!   to `gait-run serve` (keep-alive, raw bytes), and the schema checks its
//!   answers go through;
//! - [`approvals`]: the fail-closed matrix bundle with approvers, and their
//!   keys.
#![allow(dead_code, reason = "each test binary uses a part of the helpers")]

pub mod approvals;
pub mod http;
