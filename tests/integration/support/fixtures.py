"""Test databases and the PHP module's wire captures.

- make_app_db(): a SQLite file with the Laravel app's schema (fixtures/laravel_schema.sql),
  as the real app creates it; master-server adds its bookkeeping tables and triggers on start.
- seed_php_master(): the rows the PHP master held when the captures were taken, inserted with
  sqlite3 the way the Laravel app stores them (timestamps as Africa/Lagos db text).
- capture() / slave_run(): parsed `fixtures/wire/*.txt` files.
- snapshot(): every table's full contents, to prove that a refused request changed nothing.
"""

import json
import os
import re
import sqlite3
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FIXTURES_DIR = os.environ.get("RUXX_FIXTURES_DIR") or os.path.join(_REPO, "..", "shared",
                                                                     "fixtures")
WIRE_DIR = os.path.join(FIXTURES_DIR, "wire")
APP_ZONE = ZoneInfo("Africa/Lagos")

# A bcrypt hash (of "password"), as the app stores users.password.
PASSWORD_HASH = "$2y$10$92IXUNpkjO0rOQ5byMi.Ye4oKoEa3Ro9llC/.og/at2.uheWG/igi"
SMTP_PASSWORD = "eyJpdiI6IlFhN21EUXlhQkovNHYzSUJZQjhURXc9PSJ9"

# Parents first, as the app would have created them.
SYNCED_TABLES = ["users", "inventory", "transactions", "inventory_adjustments",
                 "company_settings"]


def open_db(path):
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 30000")
    return conn


def make_app_db(path):
    """Creates `path` with the app's schema and returns the path."""
    with open(os.path.join(FIXTURES_DIR, "laravel_schema.sql"), encoding="utf-8") as f:
        script = f.read()
    conn = sqlite3.connect(path)
    try:
        conn.executescript(script)
        conn.commit()
    finally:
        conn.close()
    return path


def lagos_db_text(iso):
    """'2026-11-24T14:29:40.000000Z' -> '2026-11-24 15:29:40' (the app's stored form)."""
    if iso is None:
        return None
    instant = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=APP_ZONE)
    return instant.astimezone(APP_ZONE).strftime("%Y-%m-%d %H:%M:%S")


def wire_iso(db_text):
    """'2026-11-24 15:29:40' (Lagos) -> '2026-11-24T14:29:40.000000Z'."""
    local = datetime.strptime(db_text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=APP_ZONE)
    return local.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def column_names(conn, table):
    return [r[1] for r in conn.execute('PRAGMA table_info("%s")' % table)]


def insert_row(conn, table, row):
    """Inserts a wire-shaped row the way the app stores it: timestamps to Lagos db text,
    booleans to 0/1, decimal strings as given (NUMERIC affinity stores them as numbers)."""
    values = {}
    for name, value in row.items():
        if name.endswith("_at") and isinstance(value, str):
            value = lagos_db_text(value)
        elif isinstance(value, bool):
            value = 1 if value else 0
        values[name] = value
    names = list(values)
    conn.execute('INSERT INTO "%s" (%s) VALUES (%s)' % (
        table, ", ".join('"%s"' % n for n in names), ", ".join("?" for _ in names)),
        [values[n] for n in names])


def pull_capture_rows(table):
    """The rows of the PHP master's answer in pull_nosince_<table>.txt."""
    return capture("pull_nosince_%s.txt" % table)["response_json"]["data"]


def seed_php_master(path):
    """Inserts the rows of the pull_nosince_*.txt captures (the PHP master's state at
    14:30:00Z), with the columns the PHP master hid (password, smtp_password)."""
    conn = open_db(path)
    try:
        conn.execute("BEGIN")
        for table in SYNCED_TABLES:
            for row in pull_capture_rows(table):
                row = dict(row)
                if table == "users":
                    row["password"] = PASSWORD_HASH
                if table == "company_settings":
                    row["smtp_password"] = SMTP_PASSWORD
                insert_row(conn, table, row)
        conn.execute("COMMIT")
    finally:
        conn.close()


def all_tables(conn):
    return [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]


def snapshot(path, tables=None):
    """{table: sorted list of row tuples} for every table (or `tables`) of `path`."""
    conn = open_db(path)
    try:
        out = {}
        for table in tables or all_tables(conn):
            rows = conn.execute('SELECT * FROM "%s"' % table).fetchall()
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        conn.close()


def query(path, sql, params=()):
    conn = open_db(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def execute(path, sql, params=()):
    conn = open_db(path)
    try:
        conn.execute(sql, params)
    finally:
        conn.close()


def rows_as_dicts(path, sql, params=()):
    conn = open_db(path)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


# --- wire captures ------------------------------------------------------------------------

_SIZED = re.compile(rb"^### (request|response) body \((\d+) bytes, verbatim\)\n", re.M)


def capture(name):
    """Parses fixtures/wire/<name>: {"method", "target", "request_headers" (list of pairs),
    "request_body" (bytes or None), "status", "response_body" (bytes or None),
    "response_json" (parsed or None), "master_rows" (the text after '### master sqlite')}."""
    with open(os.path.join(WIRE_DIR, name), "rb") as f:
        data = f.read()
    out = {"name": name, "request_body": None, "response_body": None, "response_json": None,
           "request_headers": [], "status": None, "method": None, "target": None,
           "master_rows": None}
    for m in _SIZED.finditer(data):
        body = data[m.end(): m.end() + int(m.group(2))]
        out[m.group(1).decode() + "_body"] = body
    in_request = False
    for line in data.decode("utf-8").splitlines():
        if line.startswith("> ") and out["method"] is None:
            parts = line[2:].split()
            if len(parts) == 3 and parts[2].startswith("HTTP/"):
                out["method"], out["target"] = parts[0], parts[1]
                in_request = True
                continue
        if in_request:
            if line.startswith("> ") and ":" in line:
                name_, _, value = line[2:].partition(":")
                out["request_headers"].append((name_.strip(), value.strip()))
            else:
                in_request = False
        if line.startswith("< HTTP/") and out["status"] is None:
            out["status"] = int(line.split()[2])
    if out["response_body"] is not None:
        try:
            out["response_json"] = json.loads(out["response_body"])
        except ValueError:
            out["response_json"] = None
    marker = data.find(b"### master sqlite after the request")
    if marker >= 0:
        out["master_rows"] = data[marker:].decode("utf-8")
    return out


_CONN = re.compile(rb"^===== connection (\d+) (SLAVE->MASTER|MASTER->SLAVE) \((\d+) bytes,[^\n]*"
                   rb"=====\n", re.M)


def slave_run(name):
    """Parses a slave_sync_run*.txt proxy log into a list of exchanges:
    {"request": raw request bytes, "status": PHP status, "response_body": bytes,
     "response_json": parsed}."""
    with open(os.path.join(WIRE_DIR, name), "rb") as f:
        data = f.read()
    exchanges = {}
    for m in _CONN.finditer(data):
        number, direction, size = int(m.group(1)), m.group(2), int(m.group(3))
        raw = data[m.end(): m.end() + size]
        entry = exchanges.setdefault(number, {})
        if direction == b"SLAVE->MASTER":
            entry["request"] = raw
        else:
            head, _, body = raw.partition(b"\r\n\r\n")
            if not _:
                head, _, body = raw.partition(b"\n\n")
            entry["status"] = int(head.split(b"\n", 1)[0].split()[1])
            entry["response_body"] = body
            entry["response_json"] = json.loads(body)
    return [exchanges[k] for k in sorted(exchanges)]


def request_parts(raw):
    """Splits raw request bytes into (method, target, [(name, value)], body)."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = [tuple(x.strip() for x in line.split(":", 1)) for line in lines[1:] if line]
    return method, target, headers, body
