//! Integration tests: one binary, one module per area.

mod cli;
mod common;
mod corpus;
mod flashback;
mod fuzz_smoke;
mod pitr;
mod rows;
mod server;
mod values;
mod writer;
