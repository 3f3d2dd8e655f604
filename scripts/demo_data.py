#!/usr/bin/env python3
"""Creates the demo's sample SQLite database: four tables, 1.1 million rows in all, with
decimals, timestamps, unicode text (including 4-byte characters) and NULLs.

Usage: demo_data.py PATH   (an existing file is left alone)
Deterministic: the same rows every time, so checksums can be compared across runs.
"""
import os
import random
import sqlite3
import sys
from datetime import datetime, timedelta

NAMES = ["Ana", "Björn", "Chloé", "Dmitrí", "Eşref", "Fátima", "Grzegorz", "Hiroshi 広志",
         "Ingrid", "José", "Kāne", "Łucja", "Mårten", "Nguyễn", "Olúwa", "Zoë 🦄"]
STATUSES = ["new", "paid", "shipped", "delivered", "returned", None]
BASE = datetime(2020, 1, 1)


def ts(rng, spread_days):
    moment = BASE + timedelta(seconds=rng.randrange(spread_days * 86400),
                              microseconds=rng.randrange(1_000_000))
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def create(path):
    rng = random.Random(20261126)
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE products (
            product_id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            unit_price DECIMAL(10,2) NOT NULL,
            weight_kg DOUBLE,
            discontinued BOOLEAN NOT NULL
        );
        CREATE TABLE customers (
            customer_id INTEGER PRIMARY KEY,
            full_name TEXT NOT NULL,
            email VARCHAR(120),
            country CHAR(2),
            balance DECIMAL(12,2),
            created_at TIMESTAMP NOT NULL,
            is_active BOOLEAN
        );
        CREATE TABLE orders (
            order_id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL,
            ordered_at TIMESTAMP NOT NULL,
            amount DECIMAL(18,4) NOT NULL,
            status VARCHAR(16),
            note TEXT
        );
        CREATE TABLE order_lines (
            order_id INTEGER NOT NULL,
            line_no INTEGER NOT NULL,
            product_id INTEGER NOT NULL,
            quantity INTEGER NOT NULL,
            line_total DECIMAL(14,2) NOT NULL,
            PRIMARY KEY (order_id, line_no)
        );
    """)
    db.executemany("INSERT INTO products VALUES (?,?,?,?,?)", (
        (i, f"Product {i} {rng.choice(NAMES)}", f"{rng.randrange(100, 100000) / 100:.2f}",
         None if i % 17 == 0 else rng.random() * 40, i % 11 == 0)
        for i in range(1, 1001)))
    db.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?)", (
        (i, f"{rng.choice(NAMES)} {i}", None if i % 9 == 0 else f"c{i}@example.com",
         rng.choice(["DE", "FR", "JP", "US", "BR", None]),
         None if i % 13 == 0 else f"{rng.randrange(-500000, 5000000) / 100:.2f}",
         ts(rng, 1500), None if i % 29 == 0 else i % 3 != 0)
        for i in range(1, 100_001)))
    db.executemany("INSERT INTO orders VALUES (?,?,?,?,?,?)", (
        (i, rng.randrange(1, 100_001), ts(rng, 2000), f"{rng.randrange(1, 10_000_000) / 10000:.4f}",
         rng.choice(STATUSES), None if i % 4 else f"note {i}: {rng.choice(NAMES)}")
        for i in range(1, 600_001)))
    db.executemany("INSERT INTO order_lines VALUES (?,?,?,?,?)", (
        (order_id, line, rng.randrange(1, 1001), rng.randrange(1, 20),
         f"{rng.randrange(100, 2_000_000) / 100:.2f}")
        for order_id in range(1, 200_001) for line in (1, 2)))
    db.commit()
    counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
              for t in ("products", "customers", "orders", "order_lines")}
    db.close()
    return counts


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: demo_data.py PATH")
    path = sys.argv[1]
    if os.path.exists(path):
        print(f"sample database {path} already exists; leaving it as it is")
        return
    tmp = path + ".partial"
    if os.path.exists(tmp):
        os.remove(tmp)
    counts = create(tmp)
    os.replace(tmp, path)  # a half-written database never takes the real name
    print(f"created {path}: " + ", ".join(f"{t} {n:,} rows" for t, n in counts.items()))


if __name__ == "__main__":
    main()
