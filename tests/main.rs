//! Integration tests: one binary, one module per area.

mod bigtxn;
mod cli;
mod common;
mod corpus;
mod fuzz_smoke;
mod server;
mod split;
mod writer;
