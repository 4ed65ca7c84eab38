//! STUB until the codec lands.
#![allow(missing_docs, unused)]
use crate::error::{Error, Result};
pub fn bin_size(precision: u8, scale: u8) -> usize {
    const DIG2BYTES: [usize; 10] = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4];
    let intg = usize::from(precision.saturating_sub(scale));
    let frac = usize::from(scale);
    (intg / 9) * 4 + DIG2BYTES[intg % 9] + (frac / 9) * 4 + DIG2BYTES[frac % 9]
}
pub fn decode(bytes: &[u8], precision: u8, scale: u8, out: &mut String) -> Result<()> {
    Err(Error::unsupported(0, "stub"))
}
pub fn encode(text: &str, precision: u8, scale: u8, out: &mut Vec<u8>) -> Result<()> {
    Err(Error::unsupported(0, "stub"))
}
