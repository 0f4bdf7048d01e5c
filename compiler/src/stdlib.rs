//! The standard library: `.gaitpol` modules embedded in `gaitc`.
//! Sources live in the repository's `stdlib/` directory.

/// `(import name, file name, source)` of every stdlib module.
pub const MODULES: &[(&str, &str, &str)] = &[
    (
        "std.secrets",
        "secrets.gaitpol",
        include_str!("../../stdlib/secrets.gaitpol"),
    ),
    (
        "std.commands",
        "commands.gaitpol",
        include_str!("../../stdlib/commands.gaitpol"),
    ),
    (
        "std.network",
        "network.gaitpol",
        include_str!("../../stdlib/network.gaitpol"),
    ),
    (
        "std.mcp.filesystem",
        "mcp/filesystem.gaitpol",
        include_str!("../../stdlib/mcp/filesystem.gaitpol"),
    ),
    (
        "std.openclaw",
        "openclaw.gaitpol",
        include_str!("../../stdlib/openclaw.gaitpol"),
    ),
];

/// The source of a stdlib module by import name (`std.secrets`).
pub fn module(name: &str) -> Option<(&'static str, &'static str)> {
    MODULES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, file, src)| (*file, *src))
}

/// Every module's import name.
pub fn names() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|(n, _, _)| *n)
}
