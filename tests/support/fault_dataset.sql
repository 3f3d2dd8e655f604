-- The dataset of tests/random_faults.rs: five PostgreSQL tables, 600,000 rows, created in the
-- test's own schema (the session's search_path). Each table starts with hand-written rows at
-- the edges of its types, then generated rows; every column also holds NULLs.

-- Numbers at their limits and negative.
CREATE TABLE numbers (
    id bigint PRIMARY KEY,
    n38_0 numeric(38,0),
    n38_10 numeric(38,10),
    n20_5 numeric(20,5),
    big bigint,
    dbl double precision,
    rl real,
    small smallint
);
INSERT INTO numbers VALUES
    (1, 99999999999999999999999999999999999999, 9999999999999999999999999999.9999999999,
        999999999999999.99999, 9223372036854775807, 1e300, 3.4028235e38, 32767),
    (2, -99999999999999999999999999999999999999, -9999999999999999999999999999.9999999999,
        -999999999999999.99999, -9223372036854775808, -1e300, -3.4028235e38, -32768),
    (3, 1, 0.0000000001, 0.00001, 1, 5e-324, 1.17549435e-38, 1),
    (4, -1, -0.0000000001, -0.00001, -1, -5e-324, -1.4e-45, -1),
    (5, 0, 0, 0, 0, 0, 0, 0),
    (6, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO numbers
SELECT i,
       -- up to 29 digits, every digit position used, half of them negative
       CASE WHEN i % 97 = 0 THEN NULL
            ELSE (i::numeric * 100000000000000000003 * (i % 1000 + 1)) * (1 - 2 * (i % 2)) END,
       -- 10 decimals, rounded from a longer quotient
       CASE WHEN i % 89 = 0 THEN NULL
            ELSE (i::numeric * 12345678901234567.0123456789 / 7) * (1 - 2 * (i % 3 % 2)) END,
       CASE WHEN i % 83 = 0 THEN NULL ELSE i::numeric * 1234567.891 / 3 - 99999999 END,
       CASE WHEN i % 79 = 0 THEN NULL
            ELSE ((i::numeric * 57646075230342349) % 9223372036854775807)::bigint
                 * (1 - 2 * (i % 2)) END,
       -- from 1e-300 to 1e303 and back, with 17 significant digits
       CASE WHEN i % 73 = 0 THEN NULL ELSE (i::float8 / 7) * 10 ^ ((i % 601) - 300) END,
       CASE WHEN i % 71 = 0 THEN NULL ELSE (sqrt(i::float8) * 1e10 * (1 - 2 * (i % 2)))::real END,
       CASE WHEN i % 67 = 0 THEN NULL ELSE (i % 65536 - 32768)::smallint END
FROM generate_series(7, 160000) AS i;

-- Timestamps with microseconds, several offsets, dates far in the past and the future.
CREATE TABLE times (
    id bigint PRIMARY KEY,
    ts timestamp,
    tstz timestamptz,
    d date,
    t time
);
INSERT INTO times VALUES
    (1, '0001-01-01 00:00:00', '1900-01-01 00:00:00+00', '0001-01-01', '00:00:00'),
    (2, '9999-12-31 23:59:59.999999', '2999-12-31 23:59:59.999999+14:00', '9999-12-31',
        '23:59:59.999999'),
    (3, '1970-01-01 00:00:00', '1970-01-01 00:00:00-12:00', '1582-10-15', '12:34:56.000001'),
    (4, '2000-02-29 12:00:00.000001', '2024-03-10 02:30:00.5+05:45', '1970-01-01',
        '00:00:00.000001'),
    (5, '1969-12-31 23:59:59.999999', '1969-12-31 23:59:59.999999-03:30', '1969-12-31',
        '23:59:59'),
    (6, NULL, NULL, NULL, NULL);
INSERT INTO times
SELECT i,
       CASE WHEN i % 97 = 0 THEN NULL
            ELSE TIMESTAMP '1950-01-01' + i * INTERVAL '3 hours 7 minutes 11.123457 seconds' END,
       CASE WHEN i % 89 = 0 THEN NULL
            ELSE make_timestamptz(1990 + i % 60, 1 + i % 12, 1 + i % 28, i % 24, i % 60,
                                  (i % 60) + (i % 999983) / 1000000.0,
                                  (ARRAY['+05:30', '-08:00', '+14:00', '-12:00', 'UTC',
                                         'Europe/Paris'])[1 + i % 6]) END,
       CASE WHEN i % 83 = 0 THEN NULL ELSE DATE '0001-01-01' + ((i::bigint * 22877) % 3652059)::integer END,
       CASE WHEN i % 79 = 0 THEN NULL
            ELSE TIME '00:00' + (i::bigint * 1234567 % 86400000000) * INTERVAL '1 microsecond' END
FROM generate_series(7, 160000) AS i;

-- A quoted name with a space and mixed case; text, binary, JSON, uuid, boolean; columns named
-- like reserved words.
CREATE TABLE "MixedCase Text" (
    id integer PRIMARY KEY,
    body text,
    raw bytea,
    doc jsonb,
    uid uuid,
    flag boolean,
    "order" integer,
    "group" text
);
INSERT INTO "MixedCase Text" VALUES
    (1, E'4-byte 😀 𝄞, CJK 中文, é and e\u0301', '\x00ff80fe', 
        '{"a": {"b": [1, 2.5, -3e-7, "é😀"]}, "z": null, "t": true, "f": false}',
        'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', true, 1, 'select'),
    (2, 'quote '' and "double" and \ backslash \\ two', '\xc328', 
        '[1, "two", [3, [4]], {"k": "v"}, 12345678901234567890]',
        '00000000-0000-0000-0000-000000000000', false, -1, 'from'),
    (3, E'line1\nline2\r\nline3\ttab', '', '"just a string"',
        'ffffffff-ffff-ffff-ffff-ffffffffffff', NULL, 0, ''),
    (4, '', '\x00', '{}', NULL, true, NULL, NULL),
    (5, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (6, E'\\N', '\x5c4e', '[]', '6ba7b810-9dad-11d1-80b4-00c04fd430c8', false, 2147483647, '\N'),
    (7, ' leading and trailing spaces ', '\x0d0a09', '{"nested": {"deep": {"deeper": [[], {}]}}}',
        '6ba7b811-9dad-11d1-80b4-00c04fd430c8', true, -2147483648, ' ');
INSERT INTO "MixedCase Text"
SELECT i,
       CASE WHEN i % 50 = 0 THEN NULL
            WHEN i % 49 = 0 THEN ''
            ELSE 'row ' || i || ' ' || chr(128512 + i % 80) || chr(19968 + i % 20000)
                 || CASE WHEN i % 7 = 0 THEN E'\n"quoted", \\ and \t' ELSE '' END END,
       CASE WHEN i % 53 = 0 THEN NULL ELSE decode(md5(i::text), 'hex') || '\x00ff'::bytea END,
       CASE WHEN i % 59 = 0 THEN NULL
            ELSE jsonb_build_object('i', i, 'quarter', (i / 4.0)::numeric(12,2),
                                    'tags', jsonb_build_array('t' || i % 7, i % 3 = 0),
                                    'nested', jsonb_build_object('name', 'n' || chr(233) || i))
       END,
       CASE WHEN i % 61 = 0 THEN NULL ELSE md5('u' || i)::uuid END,
       CASE i % 3 WHEN 0 THEN true WHEN 1 THEN false END,
       i % 1000,
       'g' || i % 17
FROM generate_series(8, 100000) AS i;

-- A heavily skewed text key: 80 % of the rows share one value, a few are NULL, the rest are
-- spread over plain and accented keys.
CREATE TABLE skewed (
    seq bigint PRIMARY KEY,
    k text,
    payload text
);
INSERT INTO skewed
SELECT i,
       CASE WHEN i % 1000 = 0 THEN NULL
            WHEN i % 10 < 8 THEN 'hot'
            WHEN i % 10 = 8 THEN 'k' || lpad((i % 500)::text, 4, '0')
            ELSE chr(192 + i % 60) || (i % 7) END,
       md5(i::text)
FROM generate_series(1, 180000) AS i;

-- An empty table.
CREATE TABLE empty_table (
    id bigint PRIMARY KEY,
    note text
);

ANALYZE numbers;
ANALYZE times;
ANALYZE "MixedCase Text";
ANALYZE skewed;
ANALYZE empty_table;
