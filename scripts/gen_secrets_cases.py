#!/usr/bin/env python3
"""Writes tests/conformance/stdlib_secrets/cases.json: for every path
pattern of `credentials` in stdlib/secrets.gaitpol, sample paths it must
match (blocked), and near misses it must not (allowed). Run after changing
the module; the conformance test then decides every case through a signed
bundle. With `--check` it writes nothing and fails when the file is stale
(scripts/test.sh).

Samples: a leading `**/` becomes `/home/dev/` (and `/` for a second
sample), `*` becomes `x` (and `prod`), `?` `x`, a class `[…]` each of its
literal characters, a trailing `/**` the folder itself and a file two
levels below it."""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULE = ROOT / "stdlib" / "secrets.gaitpol"
OUT = ROOT / "tests" / "conformance" / "stdlib_secrets" / "cases.json"
SETS = ("ssh", "cloud", "dev_tools", "env_files", "keys_and_certs", "system")

# Paths that must stay blocked whatever the module's list becomes (samples
# from the list itself test the glob engine; these pin the list).
MUST_BLOCK = [
    "/home/dev/.ssh/id_rsa",
    "/home/dev/.ssh/github",
    "/root/.ssh/authorized_keys",
    "/srv/backup/id_ed25519",
    "/home/dev/.aws/credentials",
    "/home/dev/.kube/config",
    "/home/dev/.docker/config.json",
    "/home/dev/.git-credentials",
    "/home/dev/.netrc",
    "/home/dev/.npmrc",
    "/home/dev/.pypirc",
    "/home/dev/.config/gcloud/application_default_credentials.json",
    "/srv/app/.env",
    "/srv/app/.env.production",
    "/srv/app/.env_local",
    "/srv/app/.env-staging",
    "/srv/app/prod.env",
    "/srv/app/.envrc",
    "/srv/app/server.pem",
    "/srv/app/server.key",
    "/home/dev/.gnupg/private-keys-v1.d/x.key",
    "/etc/shadow",
    "/etc/sudoers",
    "/proc/1/environ",
]

# Paths no pattern of the module matches: the allowed near misses.
NEAR_MISSES = [
    "/home/dev/.environment",
    "/home/dev/env",
    "/home/dev/project/.envs/readme.md",
    "/home/dev/id_rsa_backup.txt",
    "/home/dev/.sshd/notes",
    "/home/dev/ssh/config",
    "/home/dev/.aws/notes.txt",
    "/home/dev/.kube/cache/x",
    "/home/dev/.docker/daemon.json",
    "/home/dev/.npmrc.bak",
    "/home/dev/key.txt",
    "/home/dev/cert.pem.txt",
    "/etc/passwd",
    "/etc/ssh/sshd_config",
    "/etc/shadowsocks.json",
    "/proc/self/status",
    "/dev/null",
    "/workspace/src/main.rs",
]


def patterns() -> "dict[str, list[str]]":
    text = MODULE.read_text()
    out = {}
    for name in SETS:
        m = re.search(r"^let " + name + r": paths = \[(.*?)\]\s*$", text, re.S | re.M)
        if m is None:
            sys.exit(f"gen_secrets_cases: no `let {name}: paths` in {MODULE}")
        body = "\n".join(line.split("#", 1)[0] for line in m.group(1).splitlines())
        out[name] = re.findall(r'"([^"]*)"', body)
    return out


def expand(pattern: str) -> "list[str]":
    """Sample paths of one glob."""
    heads = ["/home/dev/", "/"] if pattern.startswith("**/") else [""]
    rest = pattern[3:] if pattern.startswith("**/") else pattern
    tails = [""]
    if rest.endswith("/**"):
        rest = rest[:-3]
        tails = ["", "/a/b"]
    samples = [""]
    i = 0
    while i < len(rest):
        c = rest[i]
        if c == "[":
            j = rest.index("]", i)
            chars = [ch for ch in rest[i + 1 : j] if ch not in "!^"]
            samples = [s + ch for s in samples for ch in chars]
            i = j + 1
            continue
        if c == "*":
            samples = [s + w for s in samples for w in ("x", "prod")]
        elif c == "?":
            samples = [s + "x" for s in samples]
        else:
            samples = [s + c for s in samples]
        i += 1
    return [h + s + t for h in heads for s in samples for t in tails]


def case(name: str, path: str, blocked: bool) -> "dict[str, object]":
    return {
        "name": name,
        "intent": {
            "tool_name": "read_file",
            "args": {"path": path},
            "context": {"identity": "conformance-bot", "workspace": "/workspace", "risk_class": "low"},
        },
        "verdict": "block" if blocked else "allow",
        "reasons": ["secret_path_access"] if blocked else ["default_allow"],
        "exit": 3 if blocked else 0,
        "violations": ["secret_access"] if blocked else [],
        "decision": "rule" if blocked else "default",
    }


def main() -> None:
    cases = []
    seen = set()
    for set_name, globs in patterns().items():
        for glob in globs:
            for path in expand(glob):
                if path in seen:
                    continue
                seen.add(path)
                cases.append(case(f"{set_name}: {glob} matches {path}", path, True))
    for path in MUST_BLOCK:
        cases.append(case(f"must block: {path}", path, True))
    for path in NEAR_MISSES:
        cases.append(case(f"near miss: {path}", path, False))
    text = json.dumps(cases, indent=1) + "\n"
    if "--check" in sys.argv[1:]:
        if not OUT.exists() or OUT.read_text() != text:
            sys.exit(f"gen_secrets_cases: {OUT.relative_to(ROOT)} is not what {MODULE.relative_to(ROOT)} lists: run python3 scripts/gen_secrets_cases.py")
        print(f"gen_secrets_cases: {OUT.relative_to(ROOT)} is up to date ({len(cases)} cases)")
        return
    OUT.write_text(text)
    print(f"gen_secrets_cases: {len(cases)} cases in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
