#!/usr/bin/env python3
"""Find the biggest transactions in a binlog by reading mariadb-binlog's text.

Usage:  mariadb-binlog FILE | python3 benches/checkBigTran.py [N]

This is the baseline that `binlog-tool bigtxn` is measured against: the way
the usual "find big transactions" scripts work, i.e. let mariadb-binlog /
mysqlbinlog render the whole file as SQL text and scan that text for
position markers. Nothing here decodes binary data.

How the text is read:
  * every event starts with a `# at POS` line, followed by a header line
    `#YYMMDD hh:mm:ss server id S  end_log_pos END ...`;
  * a transaction opens with a line that is exactly `BEGIN` (MySQL, old
    MariaDB) or `START TRANSACTION` (MariaDB GTID event); its start is the
    position of the event that printed it (for MariaDB, the GTID event);
  * it closes with a line starting with `COMMIT` (after an Xid event or a
    COMMIT query) or `ROLLBACK`; its end is the end_log_pos of that event.
Size = end - start, in bytes of the binlog file. Prints the top N (10).

Only lines that start in column 0 count, so statement text indented inside
stored-program bodies does not confuse it; a stray `BEGIN` in column 0 of a
procedure body only resets a start that the next real transaction
overwrites anyway.
"""

import heapq
import sys


def main() -> int:
    top_n = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    heap = []  # (size, start, end, gtid, when): the top_n biggest so far
    count = 0
    total = 0

    last_at = None       # position of the event being printed
    last_end = None      # its end_log_pos
    last_when = b""      # its timestamp, as printed
    last_gtid = b""      # the last GTID seen
    start = None         # start of the open transaction
    start_when = b""
    start_gtid = b""

    for line in sys.stdin.buffer:
        c = line[:1]
        if c == b"#":
            if line.startswith(b"# at "):
                last_at = int(line[5:])
            elif b" end_log_pos " in line:
                # '#240101  0:00:00 server id 1  end_log_pos 9209 CRC32 0x... \tGTID 0-1-12 trans'
                fields = line.split()
                i = fields.index(b"end_log_pos")
                last_end = int(fields[i + 1])
                last_when = b" ".join(fields[:2])[1:]
                if b"\tGTID " in line:
                    last_gtid = line.split(b"\tGTID ", 1)[1].split()[0]
        elif c == b"B" or c == b"S":
            if line.rstrip() == b"BEGIN" or line.startswith(b"START TRANSACTION"):
                start, start_when, start_gtid = last_at, last_when, last_gtid
        elif c == b"C" or c == b"R":
            if (line.startswith(b"COMMIT") or line.startswith(b"ROLLBACK")) and start is not None:
                if line.startswith(b"ROLLBACK /* added by"):
                    break  # mariadb-binlog's own trailer, not a transaction
                size = last_end - start
                count += 1
                total += size
                item = (size, start, last_end, start_gtid, start_when)
                if len(heap) < top_n:
                    heapq.heappush(heap, item)
                elif size > heap[0][0]:
                    heapq.heapreplace(heap, item)
                start = None

    print(f"{count} transactions, {total} bytes in transactions")
    print(f"{'rank':>4} {'bytes':>12} {'MiB':>9} {'start':>12} {'end':>12}  {'gtid':<14} first event")
    for rank, (size, s, e, gtid, when) in enumerate(sorted(heap, reverse=True), 1):
        print(f"{rank:>4} {size:>12} {size / 1048576:>9.2f} {s:>12} {e:>12}  "
              f"{gtid.decode(errors='replace'):<14} {when.decode(errors='replace')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
