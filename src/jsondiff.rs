//! STUB until the codec lands.
#![allow(missing_docs, unused)]
use crate::error::{Error, Result};
pub enum DiffOp {
    Replace,
    Insert,
    Remove,
}
pub struct JsonDiff<'a> {
    pub op: DiffOp,
    pub path: &'a [u8],
    pub value: Option<&'a [u8]>,
}
pub fn parse_diffs(bytes: &[u8]) -> Result<Vec<JsonDiff<'_>>> {
    Err(Error::unsupported(0, "stub"))
}
pub fn encode_diffs(diffs: &[JsonDiff], out: &mut Vec<u8>) {}
pub fn diff_to_text(d: &JsonDiff, out: &mut String) {}
