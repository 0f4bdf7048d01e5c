//! Generates the parser from `grammar/gaitpol.lalrpop` (outside this crate's
//! `src/`, so the grammar is a first-class artifact of the repository).

fn main() {
    println!("cargo:rerun-if-changed=../grammar/gaitpol.lalrpop");
    let out_dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".to_owned());
    let result = lalrpop::Configuration::new()
        .set_in_dir("../grammar")
        .set_out_dir(&out_dir)
        .emit_rerun_directives(false)
        .process();
    if let Err(err) = result {
        eprintln!("lalrpop failed on grammar/gaitpol.lalrpop: {err}");
        std::process::exit(1);
    }
}
