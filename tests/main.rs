//! Integration tests: one binary, one module per area.

mod cli;
mod common;
mod corpus;
mod server;
mod writer;
