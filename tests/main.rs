//! Integration tests: one binary, one module per area.

mod bigtxn;
mod check;
mod cli;
mod common;
mod corpus;
mod decode;
mod fetch;
mod flashback;
mod fuzz_smoke;
mod hardening;
mod parquet;
mod pitr;
mod render;
mod report;
mod rows;
mod schema;
mod select;
mod server;
mod snapshot;
mod split;
mod values;
mod writer;
