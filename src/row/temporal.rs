//! Dates and times: the old (pre-5.6) and fractional-second (5.6+, "2") row-image forms.
//!
//! All "2" forms are big-endian so they sort bytewise. Fractional seconds take
//! `(fsp + 1) / 2` bytes holding the fraction in units of 10^-(2·bytes) seconds.

use std::fmt;

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

fn be(b: &[u8]) -> i64 {
    crate::bytes::be_uint(b) as i64
}

fn put_be(out: &mut Vec<u8>, v: i64, n: usize) {
    crate::bytes::put_uint_be(out, v as u64, n);
}

/// Reads the fractional part (already in microseconds) that follows an integer part.
fn read_frac(b: &[u8], fsp: u8) -> u32 {
    match frac_bytes(fsp) {
        1 => u32::from(b[0]) * 10_000,
        2 => (be(&b[..2]) as u32) * 100,
        3 => be(&b[..3]) as u32,
        _ => 0,
    }
}

fn write_frac(out: &mut Vec<u8>, micros: u32, fsp: u8) {
    match frac_bytes(fsp) {
        1 => out.push((micros / 10_000) as u8),
        2 => put_be(out, i64::from(micros / 100), 2),
        3 => put_be(out, i64::from(micros), 3),
        _ => {}
    }
}

/// DATE (3 bytes little-endian: day | month << 5 | year << 9).
pub fn decode_date(b: &[u8]) -> Date {
    let v = crate::bytes::le_uint(&b[..3]) as u32;
    Date {
        year: v >> 9,
        month: ((v >> 5) & 15) as u8,
        day: (v & 31) as u8,
    }
}

/// Encodes a DATE.
pub fn encode_date(d: Date, out: &mut Vec<u8>) {
    let v = (d.year << 9) | (u32::from(d.month & 15) << 5) | u32::from(d.day & 31);
    crate::bytes::put_uint(out, u64::from(v), 3);
}

/// DATETIME2: 5 bytes big-endian (offset 2^39) holding year·13+month, day, h, m, s in bit
/// fields, then the fraction. `b` must hold `5 + frac_bytes(fsp)` bytes.
pub fn decode_datetime2(b: &[u8], fsp: u8) -> DateTime {
    let int = be(&b[..5]) - DATETIMEF_INT_OFS;
    let micros = read_frac(&b[5..], fsp);
    let ymd = int >> 17;
    let ym = ymd >> 5;
    let hms = int & ((1 << 17) - 1);
    DateTime {
        date: Date {
            year: (ym / 13) as u32,
            month: (ym % 13) as u8,
            day: (ymd & 31) as u8,
        },
        hour: (hms >> 12) as u8,
        minute: ((hms >> 6) & 63) as u8,
        second: (hms & 63) as u8,
        micros,
    }
}

/// Encodes a DATETIME2.
pub fn encode_datetime2(t: DateTime, fsp: u8, out: &mut Vec<u8>) {
    let ym = i64::from(t.date.year) * 13 + i64::from(t.date.month);
    let ymd = (ym << 5) | i64::from(t.date.day);
    let hms = (i64::from(t.hour) << 12) | (i64::from(t.minute) << 6) | i64::from(t.second);
    put_be(out, ((ymd << 17) | hms) + DATETIMEF_INT_OFS, 5);
    write_frac(out, t.micros, fsp);
}

/// TIMESTAMP2: 4 bytes big-endian seconds, then the fraction.
pub fn decode_timestamp2(b: &[u8], fsp: u8) -> (u32, u32) {
    (be(&b[..4]) as u32, read_frac(&b[4..], fsp))
}

/// Encodes a TIMESTAMP2.
pub fn encode_timestamp2(secs: u32, micros: u32, fsp: u8, out: &mut Vec<u8>) {
    put_be(out, i64::from(secs), 4);
    write_frac(out, micros, fsp);
}

/// TIME2: a signed "packed time" — (hms bit fields << 24) + microseconds — stored
/// big-endian with an offset. The fraction of a negative value with 1–4 digits is stored
/// apart, borrowing from the integer part as the server does.
pub fn decode_time2(b: &[u8], fsp: u8) -> Time {
    let packed: i64 = match frac_bytes(fsp) {
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
    Time {
        negative,
        hours: ((hms >> 12) & 0x3ff) as u32,
        minutes: ((hms >> 6) & 63) as u8,
        seconds: (hms & 63) as u8,
        micros: (v & 0xff_ffff) as u32,
    }
}

/// Encodes a TIME2.
pub fn encode_time2(t: Time, fsp: u8, out: &mut Vec<u8>) {
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
}

/// Old TIME: 3 bytes little-endian signed, `±HHMMSS` as a decimal number.
pub fn decode_time_old(b: &[u8]) -> Time {
    let raw = crate::bytes::le_uint(&b[..3]) as u32;
    let v = ((raw << 8) as i32) >> 8;
    let a = v.unsigned_abs();
    Time {
        negative: v < 0,
        hours: a / 10_000,
        minutes: ((a / 100) % 100) as u8,
        seconds: (a % 100) as u8,
        micros: 0,
    }
}

/// Encodes an old TIME.
pub fn encode_time_old(t: Time, out: &mut Vec<u8>) {
    let a = t.hours as i64 * 10_000 + i64::from(t.minutes) * 100 + i64::from(t.seconds);
    let v = if t.negative { -a } else { a };
    crate::bytes::put_uint(out, (v as u64) & 0xff_ffff, 3);
}

/// Old DATETIME: 8 bytes little-endian, `YYYYMMDDhhmmss` as a decimal number.
pub fn decode_datetime_old(b: &[u8]) -> DateTime {
    let v = crate::bytes::le_uint(&b[..8]);
    let (d, t) = (v / 1_000_000, v % 1_000_000);
    DateTime {
        date: Date {
            year: (d / 10_000) as u32,
            month: ((d / 100) % 100) as u8,
            day: (d % 100) as u8,
        },
        hour: (t / 10_000) as u8,
        minute: ((t / 100) % 100) as u8,
        second: (t % 100) as u8,
        micros: 0,
    }
}

/// Encodes an old DATETIME.
pub fn encode_datetime_old(t: DateTime, out: &mut Vec<u8>) {
    let d = u64::from(t.date.year) * 10_000 + u64::from(t.date.month) * 100 + u64::from(t.date.day);
    let tm = u64::from(t.hour) * 10_000 + u64::from(t.minute) * 100 + u64::from(t.second);
    out.extend_from_slice(&(d * 1_000_000 + tm).to_le_bytes());
}

/// Appends `v` in decimal with at least `width` digits (zero-padded): the temporal
/// renderings below are on hot paths and avoid the formatter's padding machinery.
fn push_padded(out: &mut [u8; 48], len: &mut usize, v: u64, width: usize) {
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

impl fmt::Display for WithFsp<DateTime> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
        emit(f, &b, n)
    }
}

impl fmt::Display for WithFsp<Time> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
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
                encode_time2(t, fsp, &mut b);
                assert_eq!(b.len(), 3 + frac_bytes(fsp));
                assert_eq!(decode_time2(&b, fsp), t, "fsp {fsp} {t:?} {b:02x?}");
            }
        }
    }

    #[test]
    fn time2_bytes_round_trip() {
        // Every stored fraction byte of a negative TIME(1|2) comes back identical.
        for int in [0x7f_ffffi64, 0x80_0000, 0x7f_fffe] {
            for frac in 0..=255u8 {
                let mut b = Vec::new();
                put_be(&mut b, int, 3);
                b.push(frac);
                let t = decode_time2(&b, 2);
                let mut back = Vec::new();
                encode_time2(t, 2, &mut back);
                assert_eq!(back, b, "{b:02x?}");
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
            encode_datetime2(t2, fsp, &mut b);
            assert_eq!(decode_datetime2(&b, fsp), t2);
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
        let mut b = Vec::new();
        encode_time_old(tm, &mut b);
        assert_eq!(decode_time_old(&b), Time { micros: 0, ..tm });
    }
}
