-- Rows for `pt.kinds`: extremes, NULLs, unicode, big values. Expects @base (the id offset)
-- and @f (a FLOAT value) set by the caller, and a fixed @@timestamp.
USE pt;
INSERT INTO kinds VALUES
 (@base+1, -128, 255, -32768, 16777215, -2147483648, -9223372036854775808, 18446744073709551615,
  @f, -1.7976931348623157e308, -12345678901234.123456, 99999999999999999999999999999999999.999999999999999999999999999999,
  b'1', b'10101010101010101', 2155, '9999-12-31', '-838:59:59', '838:59:59.999', '1000-01-01 00:00:00', '9999-12-31 23:59:59.999999',
  '2038-01-19 03:14:07', '1970-01-01 00:00:01.01',
  'latin1 é', 'ünïcødé 😀 text', REPEAT('v', 300), x'00ff00ff', x'0102', REPEAT('t', 2000), REPEAT('m', 70000),
  REPEAT(x'AB', 60000), REPEAT(x'00CD', 40000), '{"a": [1, 2, {"b": null}], "c": "d", "u": "ü"}', 'green', 'a,c,j',
  ST_GeomFromText('LINESTRING(0 0, 1 1, 2 3)'), ST_GeomFromText('POINT(1.5 -2.25)'), 'ecf5ee49-9f2b-11ef-a3f7-0242ac110002', '2001:db8::ff00:42:8329'),
 (@base+2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (@base+3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b'0', b'0', 0, '0000-00-00', '00:00:00', '-00:00:00.001', '0000-00-00 00:00:00', '2001-02-03 04:05:06.000007',
  NULL, '2021-06-15 10:20:30.12', '', '', '', '', '', '', '', '', '', '[]', 'red', '', NULL, NULL, '00000000-0000-0000-0000-000000000000', '::');
INSERT INTO kinds (id, i, vc, js, tm3) VALUES (@base+4, 7, 'it''s "quoted" \\ back\\slash', '"just a string"', '-12:34:56.789');
