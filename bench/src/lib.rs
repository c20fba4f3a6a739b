//! The parts of the benchmarks that tests reuse: the realistic event history (the read-side
//! tests apply it set-wise and event by event and compare the tables) and the command mix.

pub mod history;
pub mod mix;
