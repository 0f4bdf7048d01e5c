//! Lexing, parsing and the syntax tree.

pub mod ast;
pub mod lexer;
pub mod literal;
pub mod parser;
