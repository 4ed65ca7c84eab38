//! Unit tests of binary JSON: real values against mysql_common, hand-written documents,
//! MySQL's text and layout choices, limits and malformed input.

use super::fixture::{oracle, to_oracle_serde};
use super::text::{base64, write_double};
use super::*;
use serde_json::json;

pub(crate) fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn text(v: &Json) -> String {
    let mut s = String::new();
    to_text(v, &mut s);
    s
}

fn enc(v: &Json) -> Vec<u8> {
    let mut out = Vec::new();
    encode(v, &mut out).unwrap();
    out
}

fn parse(s: &str) -> Json<'static> {
    from_serde(&serde_json::from_str(s).unwrap())
}

/// Every distinct JSON value of json.binlog.000001 and json-opaque.binlog (MySQL 8.0.22
/// and 9.0.1), with the text MySQL prints for it.
const REAL_VALUES: &[(&str, &str)] = &[
    (
        "0003003300190003001c000400200004000518000c24000c2f00616765646174616e616d650a78787878787878787878034a6f65",
        r#"{"age": 24, "data": "xxxxxxxxxx", "name": "Joe"}"#,
    ),
    (
        "0003003300190003001c000400200004000520000c24000c2f00616765646174616e616d650a7979797979797979797903537565",
        r#"{"age": 32, "data": "yyyyyyyyyy", "name": "Sue"}"#,
    ),
    (
        "0003003400190003001c000400200004000528000c24000c2f00616765646174616e616d650a7a7a7a7a7a7a7a7a7a7a0450657465",
        r#"{"age": 40, "data": "zzzzzzzzzz", "name": "Pete"}"#,
    ),
    (
        "0003003300190003001c000400200004000519000c24000c2f00616765646174616e616d650a78787878787878787878034a6f65",
        r#"{"age": 25, "data": "xxxxxxxxxx", "name": "Joe"}"#,
    ),
    (
        "0003003300190003001c000400200004000521000c24000c2f00616765646174616e616d650a7979797979797979797903537565",
        r#"{"age": 33, "data": "yyyyyyyyyy", "name": "Sue"}"#,
    ),
    (
        "0003003400190003001c000400200004000529000c24000c2f00616765646174616e616d650a7a7a7a7a7a7a7a7a7a7a0450657465",
        r#"{"age": 41, "data": "zzzzzzzzzz", "name": "Pete"}"#,
    ),
    ("0001000f000b0001000f0c00610f0155", r#"{"a": "base64:type15:VQ=="}"#),
    ("00010016000b0001000f0c00620a080000000000e48b19", r#"{"b": "2012-03-18"}"#),
    (
        "00010016000b0001000f0c00630c08000000adb7e48b19",
        r#"{"c": "2012-03-18 11:30:45.000000"}"#,
    ),
    (
        "00010016000b0001000f0c00630b08f1fb09ee77050000",
        r#"{"c": "87:31:46.654321"}"#,
    ),
    ("00010014000b0001000f0c0064f6060603807b01c8", r#"{"d": 123.456}"#),
    ("00010015000b0001000f0c0065f6070b028000000900", r#"{"e": 9.00}"#),
    (
        "0001001c000b000100020c006504001000050000050100040100040200",
        r#"{"e": [0, 1, true, false]}"#,
    ),
    ("0001000c000b00010004000065", r#"{"e": null}"#),
];

#[test]
fn real_values_decode_print_and_reencode() {
    for (h, expected) in REAL_VALUES {
        let b = hex(h);
        let v = decode(&b).unwrap();
        assert_eq!(text(&v), *expected);
        assert_eq!(enc(&v), b, "{expected}");
    }
}

/// The same documents typed as text go through from_serde + encode to MySQL's bytes.
#[test]
fn from_serde_matches_mysql_bytes() {
    for (h, expected) in REAL_VALUES.iter().take(6) {
        // Keys in a different order and with extra spaces: MySQL sorts them.
        let v: serde_json::Value = serde_json::from_str(expected).unwrap();
        let mut reversed = serde_json::Map::new();
        for (k, x) in v.as_object().unwrap().iter().rev() {
            reversed.insert(k.clone(), x.clone());
        }
        assert_eq!(
            enc(&from_serde(&serde_json::Value::Object(reversed))),
            hex(h)
        );
    }
    let b = hex("0001001c000b000100020c006504001000050000050100040100040200");
    assert_eq!(enc(&parse(r#"{"e": [0, 1, true, false]}"#)), b);
    assert_eq!(
        enc(&parse(r#"{"e": null}"#)),
        hex("0001000c000b00010004000065")
    );
}

#[test]
fn empty_value_is_null() {
    assert_eq!(decode(&[]).unwrap(), Json::Null);
    assert_eq!(enc(&Json::Null), [LITERAL, NULL_LITERAL]);
}

#[test]
fn scalars_at_top_level() {
    for (v, bytes) in [
        (Json::Null, "0400"),
        (Json::Bool(true), "0401"),
        (Json::Bool(false), "0402"),
        (Json::Int16(-2), "05feff"),
        (Json::UInt16(65535), "06ffff"),
        (Json::Int32(-100000), "076079feff"),
        (Json::UInt32(4000000000), "0800286bee"),
        (Json::Int64(i64::MIN), "090000000000000080"),
        (Json::UInt64(u64::MAX), "0affffffffffffffff"),
        (Json::Double(1.5), "0b000000000000f83f"),
        (Json::String(Cow::Borrowed(b"ab")), "0c026162"),
        (
            Json::Opaque {
                field_type: 252,
                data: Cow::Borrowed(b"\x00\xff"),
            },
            "0ffc0200ff",
        ),
    ] {
        let b = hex(bytes);
        assert_eq!(enc(&v), b);
        assert_eq!(decode(&b).unwrap(), v);
    }
    // Trailing bytes after a top-level value are ignored, as by the server.
    assert_eq!(decode(&hex("0400ff")).unwrap(), Json::Null);
}

#[test]
fn var_length_boundaries() {
    for n in [0usize, 1, 127, 128, 16383, 16384, 2_097_151, 2_097_152] {
        let s = vec![b'a'; n];
        let b = enc(&Json::String(Cow::Borrowed(&s)));
        let len_bytes = b.len() - 1 - n;
        let expect = match n {
            0..=127 => 1,
            128..=16383 => 2,
            16384..=2_097_151 => 3,
            _ => 4,
        };
        assert_eq!(len_bytes, expect, "{n}");
        assert_eq!(decode(&b).unwrap(), Json::String(Cow::Borrowed(&s)));
    }
    // Five bytes for 2^32 - 1 are allowed, more are not, nor values above 32 bits.
    assert!(decode(&hex("0cffffffff0f")).is_err()); // length fine, bytes missing
    let e = decode(&hex("0cffffffff1f")).unwrap_err();
    assert_eq!(e.offset(), 1);
    let e = decode(&hex("0c8080808080")).unwrap_err();
    assert_eq!(e.offset(), 1);
}

#[test]
fn integers_from_text_take_mysql_widths() {
    let cases: &[(&str, Json)] = &[
        ("0", Json::Int16(0)),
        ("32767", Json::Int16(32767)),
        ("32768", Json::Int32(32768)),
        ("-32768", Json::Int16(-32768)),
        ("-32769", Json::Int32(-32769)),
        ("2147483647", Json::Int32(2147483647)),
        ("2147483648", Json::Int64(2147483648)),
        ("-2147483648", Json::Int32(-2147483648)),
        ("-2147483649", Json::Int64(-2147483649)),
        ("4294967295", Json::Int64(4294967295)),
        ("4294967296", Json::UInt64(4294967296)),
        ("9223372036854775807", Json::UInt64(9223372036854775807)),
        ("9223372036854775808", Json::UInt64(9223372036854775808)),
        ("18446744073709551615", Json::UInt64(u64::MAX)),
        ("-9223372036854775808", Json::Int64(i64::MIN)),
        ("18446744073709551616", Json::Double(18446744073709551616.0)),
        ("1.0", Json::Double(1.0)),
        ("1e2", Json::Double(100.0)),
    ];
    for (t, v) in cases {
        assert_eq!(&parse(t), v, "{t}");
    }
}

#[test]
fn inlining_small_and_large() {
    // Small array: int16 and literals inlined, int32 stored out of line.
    let v = parse("[-1, 70000, null]");
    assert_eq!(enc(&v), hex("02 0300 1100 05ffff 070d00 040000 70110100"));
    // A large array (forced by a long string) inlines int32 too, sign-extending int16.
    let big = "x".repeat(70000);
    let v = Json::Array(vec![
        Json::Int16(-1),
        Json::Int32(70000),
        Json::UInt16(7),
        Json::Bool(false),
        Json::String(Cow::Owned(big.clone().into_bytes())),
    ]);
    let b = enc(&v);
    assert_eq!(b[0], LARGE_ARRAY);
    let header = hex("05000000");
    assert_eq!(&b[1..5], &header[..]);
    assert_eq!(
        &b[9..9 + 25],
        &hex("05ffffffff 0770110100 0607000000 0402000000 0c21000000")[..]
    );
    assert_eq!(decode(&b).unwrap(), v);
}

#[test]
fn small_and_large_format_choice() {
    // An array whose small form is exactly 65535 bytes stays small; one byte more
    // switches to large.
    for (extra, large) in [(0usize, false), (1, true)] {
        // 4 (header) + 3 (entry) + 3 (string length) + n = 65535
        let n = 65535 - 10 + extra;
        let v = Json::Array(vec![Json::String(Cow::Owned(vec![b'a'; n]))]);
        let b = enc(&v);
        assert_eq!(b[0], if large { LARGE_ARRAY } else { SMALL_ARRAY }, "{n}");
        assert_eq!(decode(&b).unwrap(), v);
    }
    // A large parent whose children each choose: a small object stays small inside.
    let doc = json!({
        "big": "y".repeat(70000),
        "small": {"k": [1, 2, 3]},
    });
    let v = from_serde(&doc);
    let b = enc(&v);
    assert_eq!(b[0], LARGE_OBJECT);
    let Json::Object(m) = decode(&b).unwrap() else {
        panic!()
    };
    assert_eq!(m[1].0.as_ref(), b"small");
    // The small child is stored as a small object (type byte in its value entry).
    let entry = 1 + 8 + 2 * 6 + 5;
    assert_eq!(b[entry], SMALL_OBJECT);
    // A small object nested in a big one whose own size exceeds 64 KiB is large too.
    let doc = json!({"outer": {"inner": "z".repeat(70000)}, "n": 1});
    let b = enc(&from_serde(&doc));
    assert_eq!(b[0], LARGE_OBJECT);
    let entry_of_outer = 1 + 8 + 2 * 6 + 5;
    assert_eq!(b[entry_of_outer], LARGE_OBJECT);
}

#[test]
fn round_trips_of_hand_written_documents() {
    let big_array: Vec<serde_json::Value> = (0..20000).map(|i| json!(i * 1000)).collect();
    let docs = [
        json!({}),
        json!([]),
        json!({"a": {"b": {"c": [1, [2, [3, {"d": null}]]]}}}),
        json!({"ünïcödé": "日本語 😀", "": "empty key", "esc": "q\"b\\s/\u{1}\t\n\r\u{8}\u{c}\u{1f}\u{7f}"}),
        json!([
            0,
            -1,
            32767,
            32768,
            -32768,
            -32769,
            2147483647,
            2147483648u64,
            -2147483648i64,
            -2147483649i64,
            4294967295u64,
            4294967296u64,
            9223372036854775807u64,
            9223372036854775808u64,
            18446744073709551615u64,
            -9223372036854775808i64,
            0.5,
            -0.25,
            1e300,
            5e-324,
            1.7976931348623157e308
        ]),
        json!({"big": big_array, "tail": "end"}),
        json!(["x".repeat(100_000), {"k": "v"}, [true, false, null]]),
        json!({"dup": 1, "a": 2, "bb": 3, "b": 4, "aa": 5}),
    ];
    for doc in &docs {
        let v = from_serde(doc);
        let b = enc(&v);
        let back = decode(&b).unwrap();
        assert_eq!(back, v);
        assert_eq!(enc(&back), b);
        // The printed text is valid JSON with the same content.
        let printed: serde_json::Value = serde_json::from_str(&text(&back)).unwrap();
        assert_eq!(&printed, doc);
        // And mysql_common reads the bytes the same way.
        assert_eq!(oracle(&b), to_oracle_serde(&back));
    }
}

#[test]
fn keys_sorted_like_mysql() {
    let v = parse(r#"{"bb": 1, "a": 2, "ab": 3, "b": 4, "": 5, "ä": 6}"#);
    let Json::Object(m) = &v else { panic!() };
    let keys: Vec<&[u8]> = m.iter().map(|(k, _)| k.as_ref()).collect();
    assert_eq!(keys, [&b""[..], b"a", b"b", b"ab", b"bb", "ä".as_bytes()]);
    assert_eq!(
        text(&v),
        r#"{"": 5, "a": 2, "b": 4, "ab": 3, "bb": 1, "ä": 6}"#
    );
    // Duplicate keys: the last one wins.
    assert_eq!(text(&parse(r#"{"a": 1, "a": [2]}"#)), r#"{"a": [2]}"#);
}

#[test]
fn string_escaping() {
    let v = Json::String(Cow::Borrowed(
        b"a\"b\\c/\x08\x09\x0a\x0c\x0d\x00\x1f\x7f\xc3\xa9",
    ));
    assert_eq!(
        text(&v),
        "\"a\\\"b\\\\c/\\b\\t\\n\\f\\r\\u0000\\u001f\u{7f}é\""
    );
    let mut s = String::new();
    to_text_unquoted(&v, &mut s);
    assert_eq!(s, "a\"b\\c/\x08\t\n\x0c\r\0\x1f\u{7f}é");
    // Invalid UTF-8 is replaced, never panics.
    assert_eq!(
        text(&Json::String(Cow::Borrowed(b"\xff\""))),
        "\"\u{fffd}\\\"\""
    );
    // Keys are escaped the same way.
    assert_eq!(text(&parse(r#"{"k\"\n": "v"}"#)), r#"{"k\"\n": "v"}"#);
}

#[test]
fn doubles_print_like_my_gcvt() {
    for (d, s) in [
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (-1.0, "-1.0"),
        (1.5, "1.5"),
        (0.1, "0.1"),
        (-0.25, "-0.25"),
        (3.25, "3.25"),
        (std::f64::consts::E, "2.718281828459045"),
        (100.0, "100.0"),
        (1e14, "100000000000000.0"),
        (123456789012345.0, "123456789012345.0"),
        (1e15, "1e15"),
        (1.5e15, "1.5e15"),
        (1234567890123456.7, "1234567890123456.8"),
        (12345678901234567.0, "1.2345678901234568e16"),
        (1e16, "1e16"),
        (1e100, "1e100"),
        (1.7976931348623157e308, "1.7976931348623157e308"),
        (1e-5, "0.00001"),
        (1.5e-7, "0.00000015"),
        (1e-15, "0.000000000000001"),
        (1.25e-15, "0.00000000000000125"),
        (1e-16, "1e-16"),
        (-1e-16, "-1e-16"),
        (2.5e-100, "2.5e-100"),
        (5e-324, "5e-324"),
        (0.30000000000000004, "0.30000000000000004"),
        (f64::NAN, "0.0"),
        (f64::INFINITY, "0.0"),
    ] {
        let mut out = String::new();
        write_double(d, &mut out);
        assert_eq!(out, s, "{d:e}");
        if d.is_finite() {
            assert_eq!(out.parse::<f64>().unwrap(), d);
        }
    }
}

#[test]
fn opaque_values_print_like_mysql() {
    let op = |ft: u8, data: &'static [u8]| Json::Opaque {
        field_type: ft,
        data: Cow::Borrowed(data),
    };
    // Negative TIME: -838:59:59.
    let packed: i64 = -((((838i64) << 12) | (59 << 6) | 59) << 24);
    let t = Json::Opaque {
        field_type: field_type::TIME,
        data: Cow::Owned(packed.to_le_bytes().to_vec()),
    };
    assert_eq!(text(&t), "\"-838:59:59.000000\"");
    let mut s = String::new();
    to_text_unquoted(&t, &mut s);
    assert_eq!(s, "-838:59:59.000000");
    // TIMESTAMP prints like DATETIME; the zero datetime.
    assert_eq!(
        text(&op(field_type::TIMESTAMP, hex_static("000000adb7e48b19"))),
        "\"2012-03-18 11:30:45.000000\""
    );
    assert_eq!(
        text(&op(field_type::DATETIME, &[0; 8])),
        "\"0000-00-00 00:00:00.000000\""
    );
    // DECIMAL: a number; a malformed one falls back to base64.
    assert_eq!(
        text(&op(field_type::NEWDECIMAL, &[4, 2, 0x7e, 0xf3])),
        "-1.12"
    );
    assert_eq!(
        text(&op(field_type::NEWDECIMAL, &[4, 2, 0x80])),
        "\"base64:type246:BAKA\""
    );
    // A short temporal value falls back too.
    assert_eq!(
        text(&op(field_type::DATE, b"abc")),
        "\"base64:type10:YWJj\""
    );
    // VAR_STRING prints as a string.
    assert_eq!(text(&op(field_type::VAR_STRING, b"hi\n")), "\"hi\\n\"");
    // Long base64 is split into lines of 76, escaped as \n inside the JSON string.
    let data: Vec<u8> = (0..=255).collect();
    let t = text(&Json::Opaque {
        field_type: 252,
        data: Cow::Owned(data.clone()),
    });
    let b64 = base64(&data);
    assert!(b64.split('\n').all(|line| line.len() <= 76));
    assert_eq!(b64.split('\n').next().unwrap().len(), 76);
    assert_eq!(
        t,
        format!("\"base64:type252:{}\"", b64.replace('\n', "\\n"))
    );
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(&[0u8; 57]).len(), 76);
    assert_eq!(base64(&[0u8; 58]).len(), 76 + 1 + 4);
}

fn hex_static(s: &str) -> &'static [u8] {
    Box::leak(hex(s).into_boxed_slice())
}

#[test]
fn depth_limit() {
    let nest = |n: usize| {
        let mut v = Json::Null;
        for _ in 0..n {
            v = Json::Array(vec![v]);
        }
        v
    };
    let ok = enc(&nest(MAX_DEPTH));
    assert!(decode(&ok).is_ok());
    let mut out = vec![1, 2, 3];
    assert!(encode(&nest(MAX_DEPTH + 1), &mut out).is_err());
    assert_eq!(out, [1, 2, 3]);
    // Hand-made bytes nested 9000 deep (each level: count 1, size, one entry
    // pointing right after itself): an error, not a stack overflow.
    let mut inner = vec![0u8, 0, 4, 0];
    for _ in 0..9000 {
        let size = (7 + inner.len()) as u16;
        let mut level = vec![1, 0];
        level.extend_from_slice(&size.to_le_bytes());
        level.extend_from_slice(&[SMALL_ARRAY, 7, 0]);
        level.extend_from_slice(&inner);
        inner = level;
    }
    let mut b = vec![SMALL_ARRAY];
    b.extend_from_slice(&inner);
    assert!(decode(&b).is_err());
}

#[test]
fn shared_offsets_cannot_blow_up() {
    // 60 levels of arrays whose two entries both point at the same child: 2^60
    // values if expanded. Built from the inside out.
    let mut inner = vec![0u8, 0, 4, 0];
    for _ in 0..60 {
        let size = (4 + 6 + inner.len()) as u16;
        let mut level = vec![2, 0];
        level.extend_from_slice(&size.to_le_bytes());
        level.extend_from_slice(&[SMALL_ARRAY, 10, 0, SMALL_ARRAY, 10, 0]);
        level.extend_from_slice(&inner);
        inner = level;
    }
    let mut b = vec![SMALL_ARRAY];
    b.extend_from_slice(&inner);
    let e = decode(&b).unwrap_err();
    assert!(e.to_string().contains("more values than bytes"), "{e}");
    // One wide container of inlined values shared by many entries of its parent.
    let n = 8000usize;
    let child_size = 4 + 3 * n;
    let parent_header = 4 + 3 * n;
    let total = parent_header + child_size;
    assert!(total <= 0xffff);
    let mut b = vec![SMALL_ARRAY];
    b.extend_from_slice(&(n as u16).to_le_bytes());
    b.extend_from_slice(&(total as u16).to_le_bytes());
    for _ in 0..n {
        b.push(SMALL_ARRAY);
        b.extend_from_slice(&(parent_header as u16).to_le_bytes());
    }
    b.extend_from_slice(&(n as u16).to_le_bytes());
    b.extend_from_slice(&(child_size as u16).to_le_bytes());
    for _ in 0..n {
        b.extend_from_slice(&[LITERAL, 0, 0]);
    }
    let e = decode(&b).unwrap_err();
    assert!(e.to_string().contains("more values than bytes"), "{e}");
    // A few levels of sharing still decode (the budget is the input length).
    let shared = hex("02 0200 1100 020a00 020a00 0100 0700 040000");
    let v = decode(&shared).unwrap();
    assert_eq!(text(&v), "[[null], [null]]");
}

#[test]
fn malformed_inputs_are_errors() {
    for (h, offset) in [
        ("0d", 0),                            // unknown type
        ("0403", 1),                          // unknown literal
        ("05ff", 1),                          // short int16
        ("02", 1),                            // missing count
        ("020100", 3),                        // missing size
        ("0201000900", 3),                    // size beyond data
        ("020100040004", 1),                  // header (7) larger than size (4)
        ("0201000800 0d0700 00", 5),          // unknown type in an entry
        ("0201000700 0c0900", 6),             // value offset past the end
        ("0201000700 0c0200", 6),             // value offset inside the header
        ("0001000c00 ff000100 040000 61", 5), // key offset past the end
    ] {
        let e = decode(&hex(h)).unwrap_err();
        assert_eq!(e.offset(), offset, "{h}: {e}");
    }
}

/// Random bytes and mutations of real values: never a panic, and anything that
/// decodes also prints and re-encodes.
#[test]
fn fuzz_does_not_panic() {
    let mut seed = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut samples: Vec<Vec<u8>> = REAL_VALUES.iter().map(|(h, _)| hex(h)).collect();
    samples.push(enc(&parse(
        r#"{"a": [1, 2.5, "x", {"b": null}], "c": 70000}"#,
    )));
    samples.push(enc(&Json::Array(vec![
        Json::Int32(5),
        Json::String(Cow::Owned(vec![b'q'; 70000])),
    ])));
    for _ in 0..200_000 {
        let mut b = samples[(next() % samples.len() as u64) as usize].clone();
        match next() % 4 {
            0 => {
                let i = (next() % b.len() as u64) as usize;
                b[i] = next() as u8;
            }
            1 => {
                let n = (next() % b.len() as u64) as usize;
                b.truncate(n);
            }
            2 => {
                let i = (next() % b.len() as u64) as usize;
                b[i] ^= 1 << (next() % 8);
            }
            _ => {
                b = (0..next() % 40).map(|_| next() as u8).collect();
            }
        }
        if let Ok(v) = decode(&b) {
            let _ = text(&v);
            let mut out = Vec::new();
            let _ = encode(&v, &mut out);
        }
    }
}

/// Every JSON document in the real binlogs: decodes like mysql_common reads it,
/// re-encodes byte for byte, and prints as valid JSON.
#[test]
fn real_binlogs() {
    let mut seen = 0;
    for file in fixture::FILES {
        let Some(bytes) = fixture::read(file) else {
            continue;
        };
        for cell in fixture::json_cells(&bytes) {
            if cell.partial {
                continue;
            }
            seen += 1;
            let v = decode(&cell.bytes).unwrap();
            assert_eq!(to_oracle_serde(&v), oracle(&cell.bytes), "{file}");
            assert_eq!(enc(&v), cell.bytes, "{file}");
            let printed = text(&v);
            serde_json::from_str::<serde_json::Value>(&printed).unwrap();
            // Whatever the server printed can be typed back in and gives its bytes
            // (for documents without opaque values, which JSON text cannot express).
            if !printed.contains("base64") && !has_opaque(&v) {
                assert_eq!(enc(&parse(&printed)), cell.bytes, "{printed}");
            }
        }
    }
    eprintln!("checked {seen} JSON documents from real binlogs");
    let have_corpus = fixture::FILES.iter().any(|f| fixture::read(f).is_some());
    assert!(
        !have_corpus || seen >= 20,
        "only {seen} JSON documents found"
    );
}

fn has_opaque(v: &Json) -> bool {
    match v {
        Json::Opaque { .. } => true,
        Json::Array(a) => a.iter().any(has_opaque),
        Json::Object(m) => m.iter().any(|(_, x)| has_opaque(x)),
        _ => false,
    }
}
