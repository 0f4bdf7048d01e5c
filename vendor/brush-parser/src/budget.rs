//! gait's patch: a bound on the parser's work.
//!
//! The PEG word parser backtracks exponentially on some inputs (brackets
//! left open behind quotes, `$[x[` repeated in a here-document: minutes for
//! a hundred bytes) and the tokenizer looped forever on a here-document
//! whose delimiter reads as empty. [`bounded`] runs a parse with a number
//! of steps (a word piece tried, a token read) and a stop check polled
//! every 256 steps (the caller's deadline): once either runs out, every
//! further step fails, so the parse ends (with an error) in time linear in
//! what it had done.

use std::cell::Cell;

thread_local! {
    static LEFT: Cell<u64> = const { Cell::new(u64::MAX) };
    static STOP: Cell<Option<fn() -> bool>> = const { Cell::new(None) };
    static CUT: Cell<bool> = const { Cell::new(false) };
}

/// Restores the enclosing bound (a parse inside a parse keeps the outer
/// one's count), even if the parse panics.
struct Saved(u64, Option<fn() -> bool>, bool);

impl Drop for Saved {
    fn drop(&mut self) {
        LEFT.with(|c| c.set(self.0));
        STOP.with(|c| c.set(self.1));
        CUT.with(|c| c.set(self.2));
    }
}

/// What [`bounded`] gives back.
#[derive(Debug)]
pub struct Bounded<T> {
    /// The parse's result (an error, or a partial reading, when `cut`).
    pub out: T,
    /// Whether the parse was cut short (its result is not to be used).
    pub cut: bool,
    /// The steps it left unused (0 when cut by the count): what a caller
    /// with a budget over several parses has left for the next.
    pub left: u64,
}

/// Runs `parse` with at most `steps` steps and `stop` polled every 256
/// (true: stop now).
pub fn bounded<T>(steps: u64, stop: fn() -> bool, parse: impl FnOnce() -> T) -> Bounded<T> {
    let saved = Saved(LEFT.with(Cell::get), STOP.with(Cell::get), CUT.with(Cell::get));
    LEFT.with(|c| c.set(steps));
    STOP.with(|c| c.set(Some(stop)));
    CUT.with(|c| c.set(false));
    let out = parse();
    let cut = CUT.with(Cell::get);
    let left = LEFT.with(Cell::get);
    drop(saved);
    Bounded { out, cut, left }
}

/// One step of the parser's work: false once the bound is reached (and
/// from then on).
pub(crate) fn step() -> bool {
    if CUT.with(Cell::get) {
        return false;
    }
    let left = LEFT.with(Cell::get);
    if left == 0 {
        CUT.with(|c| c.set(true));
        return false;
    }
    LEFT.with(|c| c.set(left - 1));
    if left % 256 == 0 && STOP.with(Cell::get).is_some_and(|stop| stop()) {
        CUT.with(|c| c.set(true));
        return false;
    }
    true
}
