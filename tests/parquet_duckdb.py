"""Reads `decode --format parquet` output with DuckDB and compares every row and value
with `decode --format jsonl` of the same input and selection.

usage: parquet_duckdb.py DIR JSONL NULLED [DIR JSONL NULLED ...]

NULLED: how many values were written as NULL by --invalid-values null (each must be a
value jsonl shows that Arrow cannot hold: a zero or invalid date). Prints one summary
line; exits 1 with the first difference.
"""

import datetime
import decimal
import glob
import json
import math
import os
import re
import struct
import sys

import duckdb

UTC = datetime.timezone.utc


def parts(table_dir):
    """The table's parts in the order written (part-0, part-1, ... numerically)."""
    files = glob.glob(os.path.join(table_dir, "part-*.parquet"))
    return sorted(files, key=lambda p: int(re.search(r"part-(\d+)\.parquet$", p).group(1)))


def time_micros(text):
    m = re.fullmatch(r"(-?)(\d+):(\d\d):(\d\d)(?:\.(\d+))?", text)
    if not m:
        raise ValueError(f"TIME text {text!r}")
    sign, h, mi, s, frac = m.groups()
    us = ((int(h) * 60 + int(mi)) * 60 + int(s)) * 1_000_000 + int((frac or "").ljust(6, "0"))
    return -us if sign else us


def parse_dt(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def invalid_in_arrow(j):
    """A value jsonl shows that Arrow cannot hold: a zero or invalid date."""
    if not isinstance(j, str):
        return False
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)", j)
    if not m:
        return False
    y, mo, d = map(int, m.groups())
    try:
        datetime.date(y, mo, d)
        return j.startswith("0000-00-00")
    except ValueError:
        return True


def same(j, p, typ):
    """Whether jsonl's value `j` and DuckDB's `p` (of DuckDB type `typ`) are the same."""
    if j is None or p is None:
        return j is None and (p is None or (isinstance(p, float) and not math.isfinite(p)))
    if isinstance(j, dict):
        return isinstance(p, (bytes, bytearray)) and bytes(p) == bytes.fromhex(j["hex"])
    if typ == "FLOAT":
        return p == struct.unpack("<f", struct.pack("<f", float(j)))[0]
    if typ == "DOUBLE" and isinstance(j, str):
        # DECIMAL of more than 38 digits: DuckDB reads Decimal256 as DOUBLE.
        return math.isclose(p, float(j), rel_tol=1e-15, abs_tol=1e-300)
    if typ == "DOUBLE":
        return p == float(j)
    if typ.startswith("DECIMAL"):
        return isinstance(p, decimal.Decimal) and format(p, 'f') == j
    if typ == "DATE":
        return p.isoformat() == j
    if typ == "TIMESTAMP":
        return p == parse_dt(j)
    if typ == "TIMESTAMP WITH TIME ZONE":
        return p == parse_dt(j)
    if isinstance(j, str) and re.fullmatch(r"-?\d+:\d\d:\d\d(\.\d+)?", j) and typ == "BIGINT":
        return p == time_micros(j)
    if typ == "VARCHAR" and j == 0:
        # ENUM's index 0, the empty string of an invalid member (jsonl: 0).
        return p == ""
    if isinstance(j, bool):
        return False
    return p == j


def main():
    args = sys.argv[1:]
    if not args or len(args) % 3:
        sys.exit("usage: parquet_duckdb.py DIR JSONL NULLED [DIR JSONL NULLED ...]")
    for i in range(0, len(args), 3):
        compare(args[i], args[i + 1], int(args[i + 2]))


def compare(out_dir, jsonl, expect_nulled):
    want = {}
    with open(jsonl, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            want.setdefault(f"{r['db']}.{r['table']}", []).append(r)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    have_dirs = sorted(d for d in os.listdir(out_dir)) if os.path.isdir(out_dir) else []
    if sorted(want) != have_dirs:
        sys.exit(f"{out_dir}: tables differ: jsonl {sorted(want)}, parquet {have_dirs}")
    rows = values = nulled = 0
    for key, jrows in want.items():
        prows = []
        types = None
        for part in parts(os.path.join(out_dir, key)):
            rel = con.sql(f"select * from read_parquet('{part}')")
            names = rel.columns
            types = [str(t) for t in rel.types]
            prows.extend(dict(zip(names, zip(r, types))) for r in rel.fetchall())
        if len(prows) != len(jrows):
            sys.exit(f"{key}: {len(prows)} rows in Parquet, {len(jrows)} in jsonl")
        for n, (j, p) in enumerate(zip(jrows, prows)):
            where = f"{key} row {n} ({j['file']}:{j['pos']})"
            fixed = {
                "file": j["file"],
                "pos": j["pos"],
                "gtid": j["gtid"],
                "op": j["op"],
                "db": j["db"],
                "table": j["table"],
                "payload_index": j.get("payload_index"),
            }
            for k, v in fixed.items():
                if p[k][0] != v:
                    sys.exit(f"{where}: {k} is {p[k][0]!r} in Parquet, {v!r} in jsonl")
            if p["timestamp"][0] != datetime.datetime.fromtimestamp(j["timestamp"], UTC):
                sys.exit(f"{where}: timestamp {p['timestamp'][0]} vs {j['timestamp']}")
            for image in ("before", "after"):
                jimg = j.get(image)
                for col, (pv, typ) in p.items():
                    if not col.startswith(image + "_"):
                        continue
                    name = col[len(image) + 1:]
                    if jimg is None or name not in jimg:
                        # No such image, or a column left out of a minimal image.
                        if pv is not None:
                            sys.exit(f"{where}: {col} is {pv!r}, absent from jsonl")
                        continue
                    jv = jimg[name]
                    values += 1
                    if pv is None and jv is not None and invalid_in_arrow(jv):
                        nulled += 1
                        continue
                    if not same(jv, pv, typ):
                        sys.exit(f"{where}: {col} ({typ}) is {pv!r} in Parquet, {jv!r} in jsonl")
                if jimg is not None:
                    extra = set(jimg) - {c[len(image) + 1:] for c in p if c.startswith(image + "_")}
                    if extra:
                        sys.exit(f"{where}: jsonl's {image} has {sorted(extra)}, Parquet not")
            rows += 1
    if nulled != expect_nulled:
        sys.exit(f"{out_dir}: {nulled} values NULL in Parquet where jsonl has invalid dates, expected {expect_nulled}")
    print(f"parquet_duckdb: {out_dir}: {len(want)} tables, {rows} rows, {values} values equal, {nulled} nulled")


if __name__ == "__main__":
    main()
