"""Unit tests of compare_tables.py's normalisation and matching (no services).

    ~/.cache/sfemu-venv/bin/python -m unittest discover -s tests/support -p 'test_*.py'

(run by `cargo test -p snowflake-data-migration --test independent_reader`).
"""

import datetime
import decimal
import unittest

import compare_tables as ct

D = decimal.Decimal
UTC = datetime.timezone.utc


def same(kind, source_text, target_value):
    return ct.source_value(kind, source_text) == ct.target_value(kind, target_value)


class CopyFormat(unittest.TestCase):
    def test_null_and_escapes(self):
        self.assertIsNone(ct.unescape_copy_field(b"\\N"))
        self.assertEqual(ct.unescape_copy_field(b""), "")
        self.assertEqual(ct.unescape_copy_field(b"a\\tb\\\\c\\nd\\re"), "a\tb\\c\nd\re")
        self.assertEqual(ct.unescape_copy_field(b"\\101\\x42"), "AB")
        self.assertEqual(ct.unescape_copy_field("😀 é".encode()), "😀 é")
        # bytea in hex output: the backslash is escaped in COPY's text format
        self.assertEqual(ct.unescape_copy_field(b"\\\\x00ff"), "\\x00ff")

    def test_line(self):
        self.assertEqual(ct.parse_copy_line(b"1\t\\N\t"), ["1", None, ""])


class Kinds(unittest.TestCase):
    def test_types(self):
        self.assertEqual(ct.kind_of("numeric(38,10)"), "decimal")
        self.assertEqual(ct.kind_of("timestamp(3) with time zone"), "timestamptz")
        self.assertEqual(ct.kind_of("character varying(20)"), "text")
        with self.assertRaises(ct.ReaderError):
            ct.kind_of("point")

    def test_target_names(self):
        self.assertEqual(ct.default_target_name("order"), "ORDER")
        self.assertEqual(ct.default_target_name("MixedCase Text"), "MixedCase Text")
        self.assertEqual(ct.default_target_name("Id"), "Id")


class Numbers(unittest.TestCase):
    def test_decimals_are_exact_values(self):
        self.assertTrue(same("decimal", "1.5000000000", D("1.5")))
        big = "9" * 38
        self.assertTrue(same("decimal", big, int(big)))
        self.assertFalse(same("decimal", big, int("9" * 37 + "8")))
        self.assertTrue(same("decimal", "-9999999999999999999999999999.9999999999",
                             D("-9999999999999999999999999999.9999999999")))
        self.assertFalse(same("decimal", "0.0000000001", D("0")))
        self.assertFalse(same("decimal", "1", 1.0), "a float is not a NUMBER")

    def test_integers(self):
        self.assertTrue(same("int", "-9223372036854775808", -9223372036854775808))
        self.assertTrue(same("int", "12", D("12")))
        self.assertFalse(same("int", "1", True))

    def test_doubles_by_repr(self):
        self.assertTrue(same("float8", "1e+300", 1e300))
        self.assertTrue(same("float8", "-1e+300", -1e300))
        self.assertTrue(same("float8", "5e-324", 5e-324))
        self.assertFalse(same("float8", "0.3", 0.1 + 0.2))
        self.assertFalse(same("float8", "1", D("1")))

    def test_reals_are_float32_values(self):
        widened = ct.as_float32(3.4028235e38)
        self.assertTrue(same("float4", "3.4028235e+38", widened))
        self.assertFalse(same("float4", "3.4028235e+38", 3.4028235e38), "not a float32")
        self.assertTrue(same("float4", "0.1", ct.as_float32(0.1)))


class Times(unittest.TestCase):
    def test_timestamptz_is_an_instant(self):
        plus_0530 = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
        self.assertTrue(same("timestamptz", "2020-01-01 04:30:00.123456+00",
                             datetime.datetime(2020, 1, 1, 10, 0, 0, 123456, plus_0530)))
        self.assertFalse(same("timestamptz", "2020-01-01 04:30:00.123456+00",
                              datetime.datetime(2020, 1, 1, 4, 30, 0, 123457, UTC)))
        self.assertFalse(same("timestamptz", "2020-01-01 04:30:00+00",
                              datetime.datetime(2020, 1, 1, 4, 30)), "naive is not an instant")

    def test_timestamp_is_naive(self):
        self.assertTrue(same("timestamp", "0001-01-01 00:00:00", datetime.datetime(1, 1, 1)))
        self.assertTrue(same("timestamp", "2021-06-01 00:00:01.5",
                             datetime.datetime(2021, 6, 1, 0, 0, 1, 500000)))
        self.assertFalse(same("timestamp", "2021-06-01 00:00:00",
                              datetime.datetime(2021, 6, 1, tzinfo=UTC)))

    def test_dates_and_times(self):
        self.assertTrue(same("date", "9999-12-31", datetime.date(9999, 12, 31)))
        self.assertFalse(same("date", "2000-01-01", datetime.datetime(2000, 1, 1)))
        self.assertTrue(same("time", "23:59:59.999999", datetime.time(23, 59, 59, 999999)))
        self.assertFalse(same("time", "23:59:59.999999", datetime.time(23, 59, 59)))


class Others(unittest.TestCase):
    def test_text_keeps_empty_apart_from_null(self):
        self.assertTrue(same("text", "", ""))
        self.assertFalse(same("text", "", None))
        self.assertFalse(same("text", "a\\b", "a\\\\b"))

    def test_bytes_as_hex(self):
        self.assertTrue(same("bytes", "\\x00ff80", bytearray(b"\x00\xff\x80")))
        self.assertFalse(same("bytes", "\\x00ff80", "00FF80"), "text is not binary")

    def test_json_as_values(self):
        self.assertTrue(same("json", '{"b": [1, 2.50], "a": "é😀"}',
                             '{"a":"é😀","b":[1.0,2.5]}'))
        self.assertTrue(same("json", "12345678901234567890", "12345678901234567890"))
        self.assertFalse(same("json", '{"a": 1}', '"{\\"a\\": 1}"'), "a string is not an object")
        self.assertFalse(same("json", '[1, 2]', '[2, 1]'))
        self.assertFalse(same("json", '{"a": 1}', "{a: 1"))

    def test_uuid_and_bool(self):
        self.assertTrue(same("uuid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                             "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"))
        self.assertTrue(same("bool", "t", True))
        self.assertFalse(same("bool", "t", 1))


class Matching(unittest.TestCase):
    names = ["id", "label"]
    kinds = ["int", "text"]

    def rows(self, *pairs):
        return [(ct.source_value("int", str(i)), ct.source_value("text", t)) for i, t in pairs]

    def compare(self, source, target):
        return ct.compare_rows(self.names, self.kinds, ["id"], source, target, 10)

    def test_identical_in_any_order(self):
        counts, examples = self.compare(self.rows((2, "b"), (10, "x")),
                                        self.rows((10, "x"), (2, "b")))
        self.assertEqual(sum(counts.values()), 0, examples)

    def test_lost_duplicated_and_changed_rows(self):
        source = self.rows((1, "a"), (2, "b"), (3, "c"), (4, None))
        target = self.rows((2, "b"), (2, "b"), (3, "C"), (4, ""), (5, "e"))
        counts, examples = self.compare(source, target)
        self.assertEqual(counts, {"missing": 1, "extra": 1, "repeated": 1, "changed": 2},
                         examples)
        self.assertIn("missing in target: id='1'", examples[0])
        self.assertIn("id='2': 1 row(s) in source, 2 in target", examples[1])
        self.assertIn("label: source 'c' target 'C'", examples[2])
        self.assertIn("label: source NULL target ''", examples[3])
        self.assertIn("not in source: id='5'", examples[4])

    def test_keys_sort_numerically(self):
        counts, examples = self.compare(self.rows((9, "a"), (10, "b")), self.rows((10, "b")))
        self.assertEqual(examples, ["missing in target: id='9' (1 row(s))"])


if __name__ == "__main__":
    unittest.main()
