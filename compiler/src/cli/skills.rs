//! `gaitc skill sign` and `gaitc skill verify`.

use crate::plumbing::{exit, fail, pretty_json, write_atomic};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What `gaitc skill sign` is asked to do.
#[derive(Debug)]
pub struct SkillSignArgs<'a> {
    pub dir: &'a Path,
    pub key: &'a Path,
    pub publisher: &'a str,
    pub source: &'a str,
    pub name: Option<&'a str>,
    pub version: Option<&'a str>,
}

/// `gaitc skill sign DIR --key K --publisher P --source S [--name N --version V]`.
pub fn skill_sign(a: &SkillSignArgs<'_>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let (dir, publisher) = (a.dir, a.publisher);
    let kp = match gait_run::keys::KeyPair::read(a.key) {
        Ok(k) => k,
        Err(e) => return fail(err, e, exit::INVALID),
    };
    match crate::skill::sign(dir, &kp, publisher, a.source, a.name, a.version) {
        Ok(signed) => {
            let _ = writeln!(out, "skill_digest={}", signed.digest);
            let files = signed.manifest["files"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0);
            let _ = writeln!(
                err,
                "signed {} ({files} files) as {publisher} with key {}",
                dir.display(),
                kp.public().id()
            );
            let _ = writeln!(
                err,
                "pin it with: pin skill {:?} version {:?} digest {:?}",
                signed.manifest["name"].as_str().unwrap_or(""),
                signed.manifest["version"].as_str().unwrap_or(""),
                signed.digest
            );
            exit::OK
        }
        Err(e) => {
            // The directory cannot be signed as it is (symlinks, special files).
            fail(err, e, exit::VERIFY)
        }
    }
}

/// What `gaitc skill verify` is asked to do.
#[derive(Debug)]
pub struct SkillVerifyArgs<'a> {
    pub dir: &'a Path,
    pub policy: Option<&'a Path>,
    pub bundle: Option<&'a Path>,
    pub trust: &'a [PathBuf],
    pub report: Option<&'a Path>,
    pub json: bool,
}

/// `gaitc skill verify DIR (--policy P | --bundle B --trust PUB...) [--report FILE] [--json]`.
pub fn skill_verify(a: &SkillVerifyArgs<'_>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let SkillVerifyArgs {
        dir,
        policy,
        bundle,
        trust,
        report: report_path,
        json: json_out,
    } = *a;
    let store = match crate::skill::trust_store(policy, bundle, trust) {
        Ok(s) => s,
        Err(crate::skill::StoreError::Invalid(e)) => return fail(err, e, exit::INVALID),
        Err(crate::skill::StoreError::BundleRejected(e)) => {
            return fail(
                err,
                format_args!("the bundle was rejected: {e}"),
                exit::VERIFY,
            )
        }
    };
    let report = crate::skill::verify(dir, &store);
    let text = pretty_json(&report.to_json());
    if let Some(p) = report_path {
        if let Err(e) = write_atomic(p, format!("{text}\n").as_bytes()) {
            return fail(
                err,
                format_args!("cannot write {}: {e}", p.display()),
                exit::INTERNAL,
            );
        }
    }
    if json_out {
        let _ = writeln!(out, "{text}");
    } else if report.passed() {
        let _ = writeln!(
            out,
            "pass: {} {} by {} ({})",
            report.name.as_deref().unwrap_or("?"),
            report.version.as_deref().unwrap_or("?"),
            report.publisher.as_deref().unwrap_or("?"),
            report.digest.as_deref().unwrap_or("?")
        );
    } else {
        let _ = writeln!(out, "fail: {}", report.failure_codes.join(", "));
    }
    if report.passed() {
        exit::OK
    } else {
        exit::VERIFY
    }
}
