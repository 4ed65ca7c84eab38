//! Dates and times: the old (pre-5.6) and fractional-second (5.6+, "2") row-image forms.
//!
//! All "2" forms are big-endian so they sort bytewise. Fractional seconds take
//! `(fsp + 1) / 2` bytes holding the fraction in units of 10^-(2·bytes) seconds.

use std::fmt;

use crate::bytes::TextOut;
use crate::error::{Error, ErrorKind, Result};

/// A calendar date; zero parts are allowed (`0000-00-00`, `2024-00-00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Date {
    /// Year (0–9999; old DATETIME values can hold more).
    pub year: u32,
    /// Month (0–12).
    pub month: u8,
    /// Day (0–31).
    pub day: u8,
}

/// A date and time of day with microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DateTime {
    /// The date.
    pub date: Date,
    /// Hour (0–23).
    pub hour: u8,
    /// Minute (0–59).
    pub minute: u8,
    /// Second (0–59).
    pub second: u8,
    /// Microseconds.
    pub micros: u32,
}

/// A TIME value: a signed duration up to ±838:59:59.999999 (wider values read from old
/// forms are kept as they are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Time {
    /// Whether the value is negative.
    pub negative: bool,
    /// Hours.
    pub hours: u32,
    /// Minutes.
    pub minutes: u8,
    /// Seconds.
    pub seconds: u8,
    /// Microseconds.
    pub micros: u32,
}

const DATETIMEF_INT_OFS: i64 = 0x80_0000_0000;
const TIMEF_INT_OFS: i64 = 0x80_0000;
const TIMEF_OFS: i64 = 0x8000_0000_0000;

/// Bytes of the fractional part for `fsp` digits.
pub fn frac_bytes(fsp: u8) -> usize {
    usize::from(fsp.min(6)).div_ceil(2)
}

/// The first `n` bytes of `b`, or an error saying what needed them. Offsets in these
/// errors are relative to `b` (the row decoder shifts them to the file's).
fn field<'b>(b: &'b [u8], n: usize, what: &'static str) -> Result<&'b [u8]> {
    b.get(..n).ok_or_else(|| {
        Error::new(
            ErrorKind::UnexpectedEof {
                what,
                needed: n as u64,
                available: b.len() as u64,
            },
            0,
        )
    })
}

fn be(b: &[u8]) -> i64 {
    crate::bytes::be_uint(b) as i64
}

fn put_be(out: &mut Vec<u8>, v: i64, n: usize) {
    crate::bytes::put_uint_be(out, v as u64, n);
}

/// A value that does not fit the field it is encoded in.
fn out_of_field(what: &'static str, v: u64, max: u64) -> Error {
    Error::too_long(what, v, max)
}

/// Checks that `v` is at most `max`.
fn at_most(what: &'static str, v: u64, max: u64) -> Result<()> {
    if v > max {
        Err(out_of_field(what, v, max))
    } else {
        Ok(())
    }
}

/// Checks a fraction: under one second.
fn check_micros(micros: u32) -> Result<()> {
    if micros >= 1_000_000 {
        Err(Error::malformed(
            0,
            format!("fraction of {micros} µs in a temporal value"),
        ))
    } else {
        Ok(())
    }
}

/// Reads the fractional part (in microseconds) of `fsp` digits at the start of `b`.
fn read_frac(b: &[u8], fsp: u8) -> Result<u32> {
    let n = frac_bytes(fsp);
    let f = be(field(b, n, "fractional seconds")?) as u32;
    let micros = match n {
        1 => f * 10_000,
        2 => f * 100,
        _ => f,
    };
    check_micros(micros)?;
    Ok(micros)
}

fn write_frac(out: &mut Vec<u8>, micros: u32, fsp: u8) -> Result<()> {
    check_micros(micros)?;
    match frac_bytes(fsp) {
        1 => out.push((micros / 10_000) as u8),
        2 => put_be(out, i64::from(micros / 100), 2),
        3 => put_be(out, i64::from(micros), 3),
        _ => {}
    }
    Ok(())
}

/// DATE (3 bytes little-endian: day | month << 5 | year << 9).
pub fn decode_date(b: &[u8]) -> Result<Date> {
    let v = crate::bytes::le_uint(field(b, 3, "DATE")?) as u32;
    Ok(Date {
        year: v >> 9,
        month: ((v >> 5) & 15) as u8,
        day: (v & 31) as u8,
    })
}

/// Encodes a DATE; refuses parts wider than their bit fields.
pub fn encode_date(d: Date, out: &mut Vec<u8>) -> Result<()> {
    at_most("DATE year", u64::from(d.year), (1 << 15) - 1)?;
    at_most("DATE month", u64::from(d.month), 15)?;
    at_most("DATE day", u64::from(d.day), 31)?;
    let v = (d.year << 9) | (u32::from(d.month) << 5) | u32::from(d.day);
    crate::bytes::put_uint(out, u64::from(v), 3);
    Ok(())
}

/// DATETIME2: 5 bytes big-endian (offset 2^39) holding year·13+month, day, h, m, s in bit
/// fields, then the fraction: `5 + frac_bytes(fsp)` bytes.
pub fn decode_datetime2(b: &[u8], fsp: u8) -> Result<DateTime> {
    let int = be(field(b, 5, "DATETIME2")?) - DATETIMEF_INT_OFS;
    if int < 0 {
        return Err(Error::malformed(0, "negative DATETIME2 value"));
    }
    let micros = read_frac(&b[5..], fsp)?;
    let ymd = int >> 17;
    let ym = ymd >> 5;
    let hms = int & ((1 << 17) - 1);
    Ok(DateTime {
        date: Date {
            year: (ym / 13) as u32,
            month: (ym % 13) as u8,
            day: (ymd & 31) as u8,
        },
        hour: (hms >> 12) as u8,
        minute: ((hms >> 6) & 63) as u8,
        second: (hms & 63) as u8,
        micros,
    })
}

/// Encodes a DATETIME2; refuses parts wider than their bit fields.
pub fn encode_datetime2(t: DateTime, fsp: u8, out: &mut Vec<u8>) -> Result<()> {
    let ym = u64::from(t.date.year) * 13 + u64::from(t.date.month);
    at_most("DATETIME2 year and month", ym, (1 << 17) - 1)?;
    at_most("DATETIME2 day", u64::from(t.date.day), 31)?;
    at_most("DATETIME2 hour", u64::from(t.hour), 31)?;
    at_most("DATETIME2 minute", u64::from(t.minute), 63)?;
    at_most("DATETIME2 second", u64::from(t.second), 63)?;
    check_micros(t.micros)?;
    let ymd = ((ym as i64) << 5) | i64::from(t.date.day);
    let hms = (i64::from(t.hour) << 12) | (i64::from(t.minute) << 6) | i64::from(t.second);
    put_be(out, ((ymd << 17) | hms) + DATETIMEF_INT_OFS, 5);
    write_frac(out, t.micros, fsp)
}

/// TIMESTAMP2: 4 bytes big-endian seconds, then the fraction.
pub fn decode_timestamp2(b: &[u8], fsp: u8) -> Result<(u32, u32)> {
    let secs = be(field(b, 4, "TIMESTAMP2")?) as u32;
    Ok((secs, read_frac(&b[4..], fsp)?))
}

/// Encodes a TIMESTAMP2.
pub fn encode_timestamp2(secs: u32, micros: u32, fsp: u8, out: &mut Vec<u8>) -> Result<()> {
    check_micros(micros)?;
    put_be(out, i64::from(secs), 4);
    write_frac(out, micros, fsp)
}

/// TIME2: a signed "packed time" — (hms bit fields << 24) + microseconds — stored
/// big-endian with an offset. The fraction of a negative value with 1–4 digits is stored
/// apart, borrowing from the integer part as the server does.
pub fn decode_time2(b: &[u8], fsp: u8) -> Result<Time> {
    let n = 3 + frac_bytes(fsp);
    let b = field(b, n, "TIME2")?;
    let packed: i64 = match n - 3 {
        0 => (be(&b[..3]) - TIMEF_INT_OFS) << 24,
        1 => {
            let mut int = be(&b[..3]) - TIMEF_INT_OFS;
            let mut frac = i64::from(b[3]);
            if int < 0 && frac != 0 {
                int += 1;
                frac -= 0x100;
            }
            (int << 24) + frac * 10_000
        }
        2 => {
            let mut int = be(&b[..3]) - TIMEF_INT_OFS;
            let mut frac = be(&b[3..5]);
            if int < 0 && frac != 0 {
                int += 1;
                frac -= 0x1_0000;
            }
            (int << 24) + frac * 100
        }
        _ => be(&b[..6]) - TIMEF_OFS,
    };
    let negative = packed < 0;
    let v = packed.unsigned_abs();
    let hms = v >> 24;
    if hms >> 22 != 0 {
        // Past the 10 bits of hours: no server writes it.
        return Err(Error::malformed(0, "TIME2 value beyond 1023 hours"));
    }
    let micros = (v & 0xff_ffff) as u32;
    check_micros(micros)?;
    Ok(Time {
        negative,
        hours: (hms >> 12) as u32,
        minutes: ((hms >> 6) & 63) as u8,
        seconds: (hms & 63) as u8,
        micros,
    })
}

/// Encodes a TIME2; refuses parts wider than their bit fields.
pub fn encode_time2(t: Time, fsp: u8, out: &mut Vec<u8>) -> Result<()> {
    at_most("TIME2 hours", u64::from(t.hours), 0x3ff)?;
    at_most("TIME2 minutes", u64::from(t.minutes), 63)?;
    at_most("TIME2 seconds", u64::from(t.seconds), 63)?;
    check_micros(t.micros)?;
    let hms = (i64::from(t.hours) << 12) | (i64::from(t.minutes) << 6) | i64::from(t.seconds);
    let mut packed = (hms << 24) + i64::from(t.micros);
    if t.negative {
        packed = -packed;
    }
    let int = packed >> 24;
    let frac = packed % (1 << 24);
    match frac_bytes(fsp) {
        0 => put_be(out, TIMEF_INT_OFS + int, 3),
        1 => {
            put_be(out, TIMEF_INT_OFS + int, 3);
            out.push((frac / 10_000) as i8 as u8);
        }
        2 => {
            put_be(out, TIMEF_INT_OFS + int, 3);
            put_be(out, (frac / 100) & 0xffff, 2);
        }
        _ => put_be(out, packed + TIMEF_OFS, 6),
    }
    Ok(())
}

/// Old TIME: 3 bytes little-endian signed, `±HHMMSS` as a decimal number.
pub fn decode_time_old(b: &[u8]) -> Result<Time> {
    let raw = crate::bytes::le_uint(field(b, 3, "TIME")?) as u32;
    let v = ((raw << 8) as i32) >> 8;
    let a = v.unsigned_abs();
    Ok(Time {
        negative: v < 0,
        hours: a / 10_000,
        minutes: ((a / 100) % 100) as u8,
        seconds: (a % 100) as u8,
        micros: 0,
    })
}

/// Encodes an old TIME; refuses a fraction (the old form has none), two-digit parts over
/// 99 and values beyond its 24 bits.
pub fn encode_time_old(t: Time, out: &mut Vec<u8>) -> Result<()> {
    at_most("TIME microseconds", u64::from(t.micros), 0)?;
    at_most("TIME minutes", u64::from(t.minutes), 99)?;
    at_most("TIME seconds", u64::from(t.seconds), 99)?;
    let a = u64::from(t.hours) * 10_000 + u64::from(t.minutes) * 100 + u64::from(t.seconds);
    at_most(
        "TIME value",
        a,
        if t.negative { 0x80_0000 } else { 0x7f_ffff },
    )?;
    let v = if t.negative { -(a as i64) } else { a as i64 };
    crate::bytes::put_uint(out, (v as u64) & 0xff_ffff, 3);
    Ok(())
}

/// Old DATETIME: 8 bytes little-endian, `YYYYMMDDhhmmss` as a decimal number.
pub fn decode_datetime_old(b: &[u8]) -> Result<DateTime> {
    let v = crate::bytes::le_uint(field(b, 8, "DATETIME")?);
    let (d, t) = (v / 1_000_000, v % 1_000_000);
    Ok(DateTime {
        date: Date {
            year: (d / 10_000) as u32,
            month: ((d / 100) % 100) as u8,
            day: (d % 100) as u8,
        },
        hour: (t / 10_000) as u8,
        minute: ((t / 100) % 100) as u8,
        second: (t % 100) as u8,
        micros: 0,
    })
}

/// Encodes an old DATETIME; refuses a fraction, two-digit parts over 99 and values beyond
/// its 64 bits.
pub fn encode_datetime_old(t: DateTime, out: &mut Vec<u8>) -> Result<()> {
    at_most("DATETIME microseconds", u64::from(t.micros), 0)?;
    for (what, v) in [
        ("DATETIME month", t.date.month),
        ("DATETIME day", t.date.day),
        ("DATETIME hour", t.hour),
        ("DATETIME minute", t.minute),
        ("DATETIME second", t.second),
    ] {
        at_most(what, u64::from(v), 99)?;
    }
    let d = u64::from(t.date.year) * 10_000 + u64::from(t.date.month) * 100 + u64::from(t.date.day);
    let tm = u64::from(t.hour) * 10_000 + u64::from(t.minute) * 100 + u64::from(t.second);
    let v = d
        .checked_mul(1_000_000)
        .and_then(|v| v.checked_add(tm))
        .ok_or_else(|| {
            out_of_field(
                "DATETIME year",
                u64::from(t.date.year),
                u64::MAX / 10_000_000_000,
            )
        })?;
    out.extend_from_slice(&v.to_le_bytes());
    Ok(())
}

/// Appends `v` in decimal with at least `width` digits (zero-padded): the temporal
/// renderings below are on hot paths and avoid the formatter's padding machinery.
fn push_padded(out: &mut [u8; 48], len: &mut usize, v: u64, width: usize) {
    if width == 2 && v < 100 && *len + 2 <= out.len() {
        // Months, days, hours, minutes, seconds: the common case, without itoa.
        out[*len] = b'0' + (v / 10) as u8;
        out[*len + 1] = b'0' + (v % 10) as u8;
        *len += 2;
        return;
    }
    let mut digits = itoa::Buffer::new();
    let d = digits.format(v).as_bytes();
    let pad = width.saturating_sub(d.len());
    let end = *len + pad + d.len();
    if end > out.len() {
        return;
    }
    out[*len..*len + pad].fill(b'0');
    out[*len + pad..end].copy_from_slice(d);
    *len = end;
}

fn push_byte(out: &mut [u8; 48], len: &mut usize, b: u8) {
    if *len < out.len() {
        out[*len] = b;
        *len += 1;
    }
}

fn push_frac(out: &mut [u8; 48], len: &mut usize, micros: u32, fsp: u8) {
    if fsp > 0 {
        let fsp = fsp.min(6);
        push_byte(out, len, b'.');
        push_padded(
            out,
            len,
            u64::from(micros / 10u32.pow(6 - u32::from(fsp))),
            usize::from(fsp),
        );
    }
}

fn push_date(out: &mut [u8; 48], len: &mut usize, d: &Date) {
    push_padded(out, len, u64::from(d.year), 4);
    push_byte(out, len, b'-');
    push_padded(out, len, u64::from(d.month), 2);
    push_byte(out, len, b'-');
    push_padded(out, len, u64::from(d.day), 2);
}

fn emit(f: &mut fmt::Formatter<'_>, out: &[u8; 48], len: usize) -> fmt::Result {
    // Only ASCII digits and punctuation were written.
    f.write_str(std::str::from_utf8(&out[..len]).unwrap_or(""))
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mut b, mut n) = ([0u8; 48], 0);
        push_date(&mut b, &mut n, self);
        emit(f, &b, n)
    }
}

/// A value with a number of fractional digits to show.
pub struct WithFsp<T>(pub T, pub u8);

/// Appends the text of `b[..n]` (ASCII digits and punctuation) to `out`.
fn append<O: TextOut + ?Sized>(out: &mut O, b: &[u8; 48], n: usize) {
    out.push_ascii(b.get(..n).unwrap_or_default());
}

impl WithFsp<DateTime> {
    /// Appends `YYYY-MM-DD hh:mm:ss[.ffffff]` to `out`: what `Display` writes, without
    /// the formatter (a hot path of `decode`).
    pub fn push_to<O: TextOut + ?Sized>(&self, out: &mut O) {
        let (b, n) = self.text();
        append(out, &b, n);
    }

    /// The text: by [`Self::fixed_text`] when every field fits its width, else by
    /// [`Self::general_text`].
    fn text(&self) -> ([u8; 48], usize) {
        self.fixed_text().unwrap_or_else(|| self.general_text())
    }

    /// The text when every field fits its width (a year below 10000, months to seconds
    /// below 100, microseconds below a million: any value a server writes), two digits
    /// at a time from a table: the common case, a few times cheaper than
    /// [`Self::general_text`].
    fn fixed_text(&self) -> Option<([u8; 48], usize)> {
        const PAIRS: [[u8; 2]; 100] = {
            let mut p = [[0u8; 2]; 100];
            let mut i = 0;
            while i < 100 {
                p[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
                i += 1;
            }
            p
        };
        let t = &self.0;
        let d = &t.date;
        let fields = [d.month, d.day, t.hour, t.minute, t.second];
        if d.year > 9999 || t.micros > 999_999 || fields.iter().any(|&f| f > 99) {
            return None;
        }
        let pair = |v: u32| PAIRS[(v % 100) as usize];
        let mut b = [0u8; 48];
        b[..26].copy_from_slice(b"0000-00-00 00:00:00.000000");
        b[0..2].copy_from_slice(&pair(d.year / 100));
        b[2..4].copy_from_slice(&pair(d.year));
        for (at, f) in [5, 8, 11, 14, 17].into_iter().zip(fields) {
            b[at..at + 2].copy_from_slice(&pair(u32::from(f)));
        }
        let fsp = usize::from(self.1.min(6));
        if fsp == 0 {
            return Some((b, 19));
        }
        b[20..22].copy_from_slice(&pair(t.micros / 10_000));
        b[22..24].copy_from_slice(&pair(t.micros / 100));
        b[24..26].copy_from_slice(&pair(t.micros));
        Some((b, 20 + fsp))
    }

    /// The text of any fields, each as wide as it needs.
    fn general_text(&self) -> ([u8; 48], usize) {
        let t = &self.0;
        let (mut b, mut n) = ([0u8; 48], 0);
        push_date(&mut b, &mut n, &t.date);
        push_byte(&mut b, &mut n, b' ');
        push_padded(&mut b, &mut n, u64::from(t.hour), 2);
        push_byte(&mut b, &mut n, b':');
        push_padded(&mut b, &mut n, u64::from(t.minute), 2);
        push_byte(&mut b, &mut n, b':');
        push_padded(&mut b, &mut n, u64::from(t.second), 2);
        push_frac(&mut b, &mut n, t.micros, self.1);
        (b, n)
    }
}

impl fmt::Display for WithFsp<DateTime> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (b, n) = self.text();
        emit(f, &b, n)
    }
}

impl WithFsp<Time> {
    /// Appends `[-]hh:mm:ss[.ffffff]` to `out`: what `Display` writes, without the
    /// formatter.
    pub fn push_to<O: TextOut + ?Sized>(&self, out: &mut O) {
        let (b, n) = self.text();
        append(out, &b, n);
    }

    fn text(&self) -> ([u8; 48], usize) {
        let t = &self.0;
        let (mut b, mut n) = ([0u8; 48], 0);
        if t.negative {
            push_byte(&mut b, &mut n, b'-');
        }
        push_padded(&mut b, &mut n, u64::from(t.hours), 2);
        push_byte(&mut b, &mut n, b':');
        push_padded(&mut b, &mut n, u64::from(t.minutes), 2);
        push_byte(&mut b, &mut n, b':');
        push_padded(&mut b, &mut n, u64::from(t.seconds), 2);
        push_frac(&mut b, &mut n, t.micros, self.1);
        (b, n)
    }
}

impl fmt::Display for WithFsp<Time> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (b, n) = self.text();
        emit(f, &b, n)
    }
}

/// The UTC date and time of `secs` seconds and `micros` microseconds after the epoch
/// (a TIMESTAMP's value).
pub fn utc_datetime(secs: u32, micros: u32) -> DateTime {
    let days = i64::from(secs / 86_400);
    let rem = secs % 86_400;
    // Days to a civil date (proleptic Gregorian), counting eras of 400 years from
    // 0000-03-01 so that leap days fall at the end of a year.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u32;
    DateTime {
        date: Date { year, month, day },
        hour: (rem / 3600) as u8,
        minute: (rem / 60 % 60) as u8,
        second: (rem % 60) as u8,
        micros,
    }
}

/// A TIMESTAMP as `seconds[.fraction]`, the way mysqlbinlog prints it.
pub struct UnixTime {
    /// Seconds since the epoch.
    pub secs: u32,
    /// Microseconds.
    pub micros: u32,
    /// Digits to show.
    pub fsp: u8,
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (mut b, mut n) = ([0u8; 48], 0);
        push_padded(&mut b, &mut n, u64::from(self.secs), 1);
        push_frac(&mut b, &mut n, self.micros, self.fsp);
        emit(f, &b, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time2_round_trips_every_fsp() {
        for fsp in 0..=6u8 {
            for (neg, h, m, s, us) in [
                (false, 0, 0, 0, 0),
                (true, 838, 59, 59, 0),
                (false, 838, 59, 59, 0),
                (true, 0, 0, 1, 0),
                (true, 0, 0, 0, 500_000),
                (true, 1, 2, 3, 990_000),
                (false, 12, 34, 56, 120_000),
            ] {
                let keep = 10u32.pow(6 - u32::from(fsp));
                let t = Time {
                    negative: neg,
                    hours: h,
                    minutes: m,
                    seconds: s,
                    micros: us / keep * keep,
                };
                if t.hours == 0 && t.minutes == 0 && t.seconds == 0 && t.micros == 0 && neg {
                    continue;
                }
                let mut b = Vec::new();
                encode_time2(t, fsp, &mut b).unwrap();
                assert_eq!(b.len(), 3 + frac_bytes(fsp));
                assert_eq!(
                    decode_time2(&b, fsp).unwrap(),
                    t,
                    "fsp {fsp} {t:?} {b:02x?}"
                );
            }
        }
    }

    #[test]
    fn time2_bytes_round_trip() {
        // Every stored fraction byte of a TIME(1|2) that holds hundredths (0..99, or
        // their borrowed complement for a negative value) comes back identical; the
        // others are refused.
        for int in [0x7f_ffffi64, 0x80_0000, 0x7f_fffe] {
            for frac in 0..=255u8 {
                let mut b = Vec::new();
                put_be(&mut b, int, 3);
                b.push(frac);
                let negative = int < TIMEF_INT_OFS;
                let valid = if negative {
                    frac == 0 || frac > 156
                } else {
                    frac < 100
                };
                match decode_time2(&b, 2) {
                    Ok(t) => {
                        assert!(valid, "{b:02x?} read as {t:?}");
                        let mut back = Vec::new();
                        encode_time2(t, 2, &mut back).unwrap();
                        assert_eq!(back, b, "{b:02x?}");
                    }
                    Err(e) => assert!(!valid, "{b:02x?}: {e}"),
                }
            }
        }
    }

    #[test]
    fn utc_datetime_agrees_with_chrono() {
        for secs in (0..u32::MAX - 86_400 * 400)
            .step_by(86_400 * 7 + 3_599)
            .chain([0, 1, 951_782_400, 2_147_483_647, 4_102_444_800, u32::MAX])
        {
            let want = chrono::DateTime::from_timestamp(i64::from(secs), 0).unwrap();
            let got = WithFsp(utc_datetime(secs, 0), 0).to_string();
            assert_eq!(got, want.format("%Y-%m-%d %H:%M:%S").to_string(), "{secs}");
        }
    }

    #[test]
    fn datetime2_and_display() {
        let t = DateTime {
            date: Date {
                year: 2024,
                month: 2,
                day: 29,
            },
            hour: 23,
            minute: 59,
            second: 59,
            micros: 123_456,
        };
        for fsp in [0u8, 3, 6] {
            let mut b = Vec::new();
            let keep = 10u32.pow(6 - u32::from(fsp));
            let t2 = DateTime {
                micros: t.micros / keep * keep,
                ..t
            };
            encode_datetime2(t2, fsp, &mut b).unwrap();
            assert_eq!(decode_datetime2(&b, fsp).unwrap(), t2);
        }
        assert_eq!(WithFsp(t, 6).to_string(), "2024-02-29 23:59:59.123456");
        assert_eq!(WithFsp(t, 2).to_string(), "2024-02-29 23:59:59.12");
        let tm = Time {
            negative: true,
            hours: 838,
            minutes: 59,
            seconds: 59,
            micros: 990_000,
        };
        assert_eq!(WithFsp(tm, 2).to_string(), "-838:59:59.99");
        // push_to writes what Display writes.
        for fsp in 0..=6 {
            let mut out = String::from("x");
            WithFsp(t, fsp).push_to(&mut out);
            assert_eq!(out[1..], WithFsp(t, fsp).to_string());
            let mut out = String::new();
            WithFsp(tm, fsp).push_to(&mut out);
            assert_eq!(out, WithFsp(tm, fsp).to_string());
            // Into bytes, the same.
            let mut bytes = Vec::new();
            WithFsp(t, fsp).push_to(&mut bytes);
            WithFsp(tm, fsp).push_to(&mut bytes);
            let both = WithFsp(t, fsp).to_string() + &WithFsp(tm, fsp).to_string();
            assert_eq!(bytes, both.as_bytes());
        }
        let early = DateTime {
            date: Date {
                year: 7,
                month: 1,
                day: 2,
            },
            hour: 0,
            minute: 5,
            second: 9,
            micros: 7,
        };
        let mut out = String::new();
        WithFsp(early, 6).push_to(&mut out);
        assert_eq!(out, "0007-01-02 00:05:09.000007");
        // The fixed-width fast path against the general one, on random fields (some
        // past their widths, which only the general path writes) at every fsp.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |m: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % m
        };
        for _ in 0..20_000 {
            let t = DateTime {
                date: Date {
                    year: next(10_100) as u32,
                    month: next(110) as u8,
                    day: next(110) as u8,
                },
                hour: next(110) as u8,
                minute: next(110) as u8,
                second: next(110) as u8,
                micros: next(1_000_100) as u32,
            };
            let fsp = next(7) as u8;
            let w = WithFsp(t, fsp);
            let fits = t.date.year <= 9999
                && t.micros <= 999_999
                && [t.date.month, t.date.day, t.hour, t.minute, t.second]
                    .iter()
                    .all(|&f| f <= 99);
            let (g, gn) = w.general_text();
            match w.fixed_text() {
                Some((f, n)) => assert_eq!(f[..n], g[..gn], "{t:?} fsp {fsp}"),
                None => assert!(!fits, "{t:?} fsp {fsp}"),
            }
            let mut out = String::from("x");
            w.push_to(&mut out);
            assert_eq!(out[1..], w.to_string(), "{t:?} fsp {fsp}");
        }
        let mut b = Vec::new();
        let whole = Time { micros: 0, ..tm };
        encode_time_old(whole, &mut b).unwrap();
        assert_eq!(decode_time_old(&b).unwrap(), whole);
        assert!(encode_time_old(tm, &mut Vec::new()).is_err());
    }

    /// Short input is an error, never a panic, for every decoder and every length.
    #[test]
    fn short_input_is_an_error() {
        let b = [0x80u8, 0, 0, 0, 0, 0, 0, 0, 0];
        for fsp in 0..=7u8 {
            for n in 0..=8usize {
                let b = &b[..n];
                assert_eq!(decode_date(b).is_ok(), n >= 3);
                assert_eq!(decode_time_old(b).is_ok(), n >= 3);
                assert_eq!(decode_datetime_old(b).is_ok(), n >= 8);
                let f = frac_bytes(fsp);
                assert_eq!(decode_time2(b, fsp).is_ok(), n >= 3 + f, "{fsp} {n}");
                assert_eq!(decode_timestamp2(b, fsp).is_ok(), n >= 4 + f, "{fsp} {n}");
                assert_eq!(decode_datetime2(b, fsp).is_ok(), n >= 5 + f, "{fsp} {n}");
            }
        }
        assert!(decode_date(&[]).is_err());
        assert!(decode_time2(&[1], 3).is_err());
    }

    /// Parts wider than their fields are refused, not cut to their bits.
    #[test]
    fn encoders_refuse_what_does_not_fit() {
        let d = |year, month, day| Date { year, month, day };
        let dt = |date, hour, minute, second, micros| DateTime {
            date,
            hour,
            minute,
            second,
            micros,
        };
        let out = &mut Vec::new();
        assert!(encode_date(d(32_767, 15, 31), out).is_ok());
        for bad in [d(32_768, 1, 1), d(2024, 16, 1), d(2024, 1, 32)] {
            assert!(encode_date(bad, out).is_err(), "{bad:?}");
        }
        let ok = dt(d(2024, 2, 29), 23, 59, 59, 999_999);
        assert!(encode_datetime2(ok, 6, out).is_ok());
        for bad in [
            dt(d(10_083, 0, 1), 0, 0, 0, 0),
            dt(d(2024, 1, 1), 32, 0, 0, 0),
            dt(d(2024, 1, 1), 0, 64, 0, 0),
            dt(d(2024, 1, 1), 0, 0, 0, 1_000_000),
        ] {
            assert!(encode_datetime2(bad, 6, out).is_err(), "{bad:?}");
        }
        assert!(encode_datetime_old(dt(d(u32::MAX, 1, 1), 0, 0, 0, 0), out).is_err());
        assert!(encode_datetime_old(dt(d(2024, 100, 1), 0, 0, 0, 0), out).is_err());
        assert!(encode_timestamp2(1, 1_000_000, 6, out).is_err());
        let t = |hours, minutes, seconds| Time {
            negative: false,
            hours,
            minutes,
            seconds,
            micros: 0,
        };
        assert!(encode_time2(t(1024, 0, 0), 0, out).is_err());
        assert!(encode_time_old(t(839, 0, 0), out).is_err());
        assert!(encode_time_old(t(838, 59, 59), out).is_ok());
    }
}
