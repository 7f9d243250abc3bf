"""Compatibility of master-server's version-1 API with the PHP sync module, against the real
captures in fixtures/wire/: pull answers field for field, the PHP master's push sequence
replayed in capture order (same answers where PHP answered correctly, the ruxx-sync column of
wire/README.md where PHP had a bug), the PHP slave's `sync:run` traffic byte for byte, and
`since` in every shape the captures show."""

import json
import unittest
from urllib.parse import quote

from support import fixtures
from support.cases import MasterTestCase
from support.master import raw_exchange

TABLES_WITH_CAPTURES = ["inventory", "transactions", "inventory_adjustments", "users",
                        "company_settings"]
HIDDEN_V1 = {"password", "remember_token", "smtp_password"}


def json_type(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return type(value).__name__


def replay_request(server, cap, key_override=None):
    """Sends the captured request as curl did (same method, target, headers, body)."""
    lines = ["%s %s HTTP/1.1" % (cap["method"], cap["target"]),
             "Host: %s:%d" % (server.host, server.port)]
    for name, value in cap["request_headers"]:
        if name.lower() in ("host", "content-length", "expect"):
            continue
        lines.append("%s: %s" % (name, value))
    body = cap["request_body"] or b""
    if cap["request_body"] is not None:
        lines.append("Content-Length: %d" % len(body))
    lines.append("Connection: close")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    return raw_exchange(server.host, server.port, raw)


class CompatAssertions:

    def assertSameShape(self, ours, php, context=""):
        """Same top-level keys and value types; data rows with the same keys and types."""
        self.assertEqual(set(ours), set(php), "%s: keys differ: ours %s, PHP %s" % (context, sorted(ours), sorted(php)))
        for key, value in php.items():
            self.assertEqual(json_type(ours[key]), json_type(value),
                             "%s: type of %r: ours %r, PHP %r" % (context, key, ours[key], value))
        if isinstance(php.get("data"), list) and php["data"] and ours["data"]:
            php_types = {}
            for row in php["data"]:
                for k, v in row.items():
                    if v is not None:
                        php_types[k] = json_type(v)
            for row in ours["data"]:
                self.assertEqual(set(row), set(php["data"][0]),
                                 "%s: row keys differ: %s" % (context, row))
                for k, v in row.items():
                    if v is not None and k in php_types:
                        self.assertEqual(json_type(v), php_types[k],
                                         "%s: type of %s in %s" % (context, k, row))

    def assertSameRows(self, ours, php, context=""):
        """Same rows, same keys, same values (order by id)."""
        by_id = lambda rows: sorted(rows, key=lambda r: r["id"])  # noqa: E731
        self.assertEqual(len(ours), len(php), context)
        for mine, theirs in zip(by_id(ours), by_id(php)):
            self.assertEqual(set(mine), set(theirs), context)
            for k in theirs:
                self.assertEqual(json_type(mine[k]), json_type(theirs[k]),
                                 "%s: %s.%s" % (context, theirs["id"], k))
                self.assertEqual(mine[k], theirs[k], "%s: %s.%s" % (context, theirs["id"], k))


class PullCompatTest(MasterTestCase, CompatAssertions):
    """The seeded master holds exactly the PHP master's rows at 14:30:00Z."""

    def test_pull_without_since_matches_php_field_for_field(self):
        for table in TABLES_WITH_CAPTURES:
            with self.subTest(table=table):
                php = fixtures.capture("pull_nosince_%s.txt" % table)
                r = replay_request(self.server, php)
                self.assertEqual(r.status, 200)
                self.assertTrue(r.headers["content-type"].startswith("application/json"))
                ours = r.json()
                self.assertEqual(set(ours), set(php["response_json"]))
                for key in ("success", "count", "table", "since"):
                    self.assertEqual(ours[key], php["response_json"][key], key)
                self.assertSameShape(ours, php["response_json"], table)
                self.assertSameRows(ours["data"], php["response_json"]["data"], table)
                for row in ours["data"]:
                    self.assertFalse(HIDDEN_V1 & set(row), row)

    def test_pull_since_in_the_captured_shapes(self):
        # dbformat, prevday and empty: PHP answered correctly, ours must be the same answer.
        for name in ["pull_since_dbformat_transactions.txt",
                     "pull_since_iso_prevday_transactions.txt",
                     "pull_since_empty_transactions.txt"]:
            with self.subTest(capture=name):
                php = fixtures.capture(name)
                r = replay_request(self.server, php)
                self.assertEqual(r.status, 200)
                ours = r.json()
                self.assertEqual(ours, php["response_json"])
        # ISO same day: the PHP master compared text and returned nothing (its bug); the row
        # updated at 14:28:49Z is after 13:00Z, so it is returned.
        php = fixtures.capture("pull_since_iso_sameday_transactions.txt")
        r = replay_request(self.server, php)
        ours = r.json()
        self.assertEqual(ours["since"], "2026-11-24T13:00:00.000000Z")
        self.assertEqual(ours["count"], 1)
        self.assertEqual(ours["data"], fixtures.pull_capture_rows("transactions"))
        self.assertSameShape(ours, php["response_json"], "sameday")

    def test_since_is_an_instant_in_any_iso_shape(self):
        # The seeded transaction: updated_at 2026-11-24 15:28:49 Lagos = 14:28:49Z.
        included = ["2026-11-24T14:28:49.000000Z", "2026-11-24T14:28:49Z",
                    "2026-11-24T15:28:49+01:00", "2026-11-24T09:28:49-05:00",
                    "2026-11-24T15:28:49", "2026-11-24 15:28:49", "2026-11-24T14:28:48.999Z",
                    "2026-11-24T13:00:00.000000Z", "2026-11-23T23:59:59Z", "2026-11-24"]
        excluded = ["2026-11-24T14:28:50Z", "2026-11-24T15:28:50+01:00",
                    "2026-11-24T15:28:50", "2026-11-24 15:28:50", "2026-11-25T00:00:00Z"]
        for since, expected in [(s, 1) for s in included] + [(s, 0) for s in excluded]:
            with self.subTest(since=since):
                r = self.server.get("/api/sync/pull?table=transactions&since=" + quote(since))
                body = self.assertJsonResponse(r, 200)
                self.assertEqual(body["count"], expected, body)
                self.assertEqual(len(body["data"]), expected)
                self.assertEqual(body["since"], since)

    def test_empty_since_is_no_filter_and_null(self):
        for target in ["/api/sync/pull?table=users&since=", "/api/sync/pull?table=users"]:
            body = self.assertJsonResponse(self.server.get(target), 200)
            self.assertIsNone(body["since"])
            self.assertEqual(body["count"], 2)

    def test_pull_errors_like_php(self):
        for name in ["err_missing_key.txt", "err_wrong_key.txt", "err_missing_table_pull.txt",
                     "err_unknown_table_pull.txt", "err_since_garbage.txt"]:
            with self.subTest(capture=name):
                php = fixtures.capture(name)
                r = self.assertChangesNothing(lambda: replay_request(self.server, php))
                self.assertEqual(r.status, php["status"])
                self.assertEqual(r.json(), php["response_json"])
                self.assertTrue(r.headers["content-type"].startswith("application/json"))

    def test_unknown_route_is_json_not_html(self):
        php = fixtures.capture("err_unknown_route_404.txt")
        r = replay_request(self.server, php)
        self.assertEqual(r.status, 404)
        self.assertTrue(r.headers["content-type"].startswith("application/json"))
        self.assertIsInstance(r.json(), dict)


class PushReplayTest(MasterTestCase, CompatAssertions):
    """The PHP captures' pushes, replayed in capture order against one master database."""

    def replay(self, name):
        cap = fixtures.capture(name)
        return cap, replay_request(self.server, cap)

    def assertLikePhp200(self, ours, php):
        body = self.assertJsonResponse(ours, 200)
        self.assertEqual(set(body), set(php["response_json"]), body)
        for key, value in php["response_json"].items():
            self.assertEqual(json_type(body[key]), json_type(value), key)
        self.assertEqual(body["success"], True)
        self.assertEqual(body["message"], php["response_json"]["message"])
        self.assertEqual(body["synced_count"], php["response_json"]["synced_count"])
        return body

    def row(self, table, where, params):
        rows = fixtures.rows_as_dicts(self.db, 'SELECT * FROM "%s" WHERE %s' % (table, where),
                                      params)
        self.assertEqual(len(rows), 1, (table, where, params, rows))
        return rows[0]

    def app_state(self):
        return fixtures.snapshot(self.db, fixtures.SYNCED_TABLES + ["ruxx_sync_conflicts"])

    def test_replay_in_capture_order(self):
        seeded = fixtures.snapshot(self.db, fixtures.SYNCED_TABLES)

        # 14:30:04 push_inventory: 200 as PHP; ids 101/102 free, kept; timestamps kept.
        php, r = self.replay("push_inventory.txt")
        self.assertLikePhp200(r, php)
        for id_, stock, minimum, price, notes in [(101, 500, 50.5, 900, "slave tank 1"),
                                                  (102, 0.1, 100, 899.99, None)]:
            got = self.row("inventory", "id = ?", (id_,))
            self.assertEqual((got["current_stock"], got["minimum_stock"], got["price_per_kg"],
                              got["notes"]), (stock, minimum, price, notes))
            self.assertEqual((got["created_at"], got["updated_at"]),
                             ("2026-11-24 15:29:40", "2026-11-24 15:29:40"))
        self.assertEqual(self.row("inventory", "id = 1", ()),
                         dict(zip(["id", "current_stock", "minimum_stock", "price_per_kg",
                                   "notes", "created_at", "updated_at"], seeded["inventory"][0])))

        # 14:30:04 push_transactions: 200 as PHP; identity, timestamps and values as sent
        # (PHP restamped the times and dropped payment_type).
        php, r = self.replay("push_transactions.txt")
        self.assertLikePhp200(r, php)
        sent = json.loads(php["request_body"])["data"]
        for row in sent:
            got = self.row("transactions", "transaction_number = ?",
                           (row["transaction_number"],))
            self.assertEqual(got["created_at"], "2026-11-24 15:29:40")
            self.assertEqual(got["updated_at"], "2026-11-24 15:29:40")
            for column in ("cashier_id", "customer_name", "customer_phone", "notes", "status",
                           "payment_type"):
                self.assertEqual(got[column], row[column], column)
            for column in ("quantity_kg", "price_per_kg", "total_amount"):
                self.assertIsInstance(got[column], (int, float), column)
                self.assertEqual(got[column], float(row[column]), column)
        self.assertEqual(self.row("transactions", "transaction_number = ?",
                                  ("TXN-20261124-SLAVE1",))["customer_name"], "Chik\u00e9")

        # 14:30:05 push_inventory_adjustments: 200 as PHP; ids kept.
        php, r = self.replay("push_inventory_adjustments.txt")
        self.assertLikePhp200(r, php)
        for row in json.loads(php["request_body"])["data"]:
            got = self.row("inventory_adjustments", "id = ?", (row["id"],))
            self.assertEqual((got["type"], got["reason"], got["notes"], got["user_id"]),
                             (row["type"], row["reason"], row["notes"], row["user_id"]))
            self.assertEqual(got["quantity_kg"], float(row["quantity_kg"]))
            self.assertEqual(got["updated_at"], "2026-11-24 15:29:40")

        # 14:30:05 push_users: PHP 500 (no password); new users need one: 422 naming it.
        before = fixtures.snapshot(self.db)
        php, r = self.replay("push_users.txt")
        self.assertEqual(php["status"], 500)
        body = self.assertValidationFailed(r, "data.0.password")
        self.assertNotIn("Undefined", json.dumps(body))
        self.assertEqual(fixtures.snapshot(self.db), before)

        # 14:30:05 push_company_settings: 200 as PHP, but the master's settings win (PHP
        # inserted both rows); the slaves' versions are kept in the conflict log.
        php, r = self.replay("push_company_settings.txt")
        self.assertLikePhp200(r, php)
        self.assertEqual(fixtures.snapshot(self.db, ["company_settings"])["company_settings"],
                         seeded["company_settings"])
        logged = fixtures.rows_as_dicts(
            self.db, "SELECT * FROM ruxx_sync_conflicts WHERE table_name = 'company_settings'")
        self.assertEqual(len(logged), 2, logged)
        names = sorted(json.loads(c["losing_row"])["company_name"] for c in logged)
        self.assertEqual(names, ["Ruxxen Slave Depot", "Ruxxen Slave Depot 2"])
        for c in logged:
            self.assertTrue(c["origin_node"])
            self.assertTrue(c["reason"])

        # 14:30:17 push_inventory_repeat: PHP duplicated the rows; here nothing changes.
        state = self.app_state()
        php, r = self.replay("push_inventory_repeat.txt")
        self.assertLikePhp200(r, php)
        self.assertEqual(self.app_state(), state)

        # 14:30:17 push_transactions_repeat: PHP 500 (unique number); here harmless.
        php, r = self.replay("push_transactions_repeat.txt")
        self.assertEqual(php["status"], 500)
        self.assertLikePhp200(r, fixtures.capture("push_transactions.txt"))
        self.assertEqual(self.app_state(), state)

        # 14:30:17 push_transactions_idcollision: slave B's id 1 must not overwrite row 1.
        master_row_1 = self.row("transactions", "id = 1", ())
        php, r = self.replay("push_transactions_idcollision.txt")
        self.assertLikePhp200(r, php)
        self.assertEqual(self.row("transactions", "id = 1", ()), master_row_1)
        slave_b = self.row("transactions", "transaction_number = ?", ("TXN-20261124-SLAVEB",))
        self.assertNotEqual(slave_b["id"], 1)
        self.assertEqual((slave_b["customer_name"], slave_b["payment_type"],
                          slave_b["created_at"], slave_b["updated_at"]),
                         ("Slave B customer", "transfer", "2026-11-24 15:29:40",
                          "2026-11-24 15:29:40"))

        # 14:30:17 push_transactions_fk_violation: PHP 500 with SQL; here a clean 422.
        before = fixtures.snapshot(self.db)
        php, r = self.replay("push_transactions_fk_violation.txt")
        body = self.assertValidationFailed(r, "data.0.cashier_id")
        text = r.body.decode()
        for internal in ("SQLSTATE", "insert into", "INSERT INTO", "SQL:"):
            self.assertNotIn(internal, text)
        self.assertEqual(fixtures.snapshot(self.db), before)

        # 14:30:17 push_missing_field: PHP 500. DESIGN.md section 3: an insert takes the
        # column defaults; every inventory column has one, so the row is created.
        php, r = self.replay("push_missing_field.txt")
        self.assertEqual(self.assertJsonResponse(r, 200)["synced_count"], 1)
        got = self.row("inventory", "id = 5", ())
        self.assertEqual((got["current_stock"], got["minimum_stock"], got["price_per_kg"]),
                         (1, 100, 0))

        # 14:30:17 push_empty_data and 14:30:18 errors: the PHP answers exactly.
        for name in ["push_empty_data.txt", "err_unknown_table_push.txt",
                     "err_wrong_key_push.txt"]:
            with self.subTest(capture=name):
                before = fixtures.snapshot(self.db)
                php, r = self.replay(name)
                self.assertEqual(r.status, php["status"])
                self.assertEqual(r.json(), php["response_json"])
                self.assertEqual(fixtures.snapshot(self.db), before)
        for name in ["err_malformed_json.txt", "err_malformed_json_accept_json.txt"]:
            with self.subTest(capture=name):
                before = fixtures.snapshot(self.db)
                php, r = self.replay(name)
                body = self.assertValidationFailed(r, *php["response_json"]["errors"])
                for field, messages in php["response_json"]["errors"].items():
                    self.assertEqual(body["errors"][field], messages)
                self.assertEqual(fixtures.snapshot(self.db), before)

        # What a PHP slave pulls afterwards has the PHP shape and the pushed identities.
        php = fixtures.capture("pull_nosince_transactions.txt")
        ours = replay_request(self.server, php).json()
        self.assertSameShape(ours, php["response_json"], "pull after pushes")
        numbers = {row["transaction_number"]: row for row in ours["data"]}
        self.assertEqual(set(numbers), {"TXN-20261124-FSFKFL", "TXN-20261124-SLAVE1",
                                        "TXN-20261124-SLAVE2", "TXN-20261124-SLAVEB"})
        self.assertEqual(len(ours["data"]), 4)
        self.assertEqual(numbers["TXN-20261124-SLAVE1"]["updated_at"],
                         "2026-11-24T14:29:40.000000Z")
        self.assertEqual(numbers["TXN-20261124-SLAVE1"]["quantity_kg"], "3.00")
        self.assertEqual(numbers["TXN-20261124-SLAVE2"]["quantity_kg"], "12.35")


class SlaveSyncRunReplayTest(MasterTestCase, CompatAssertions):
    """The PHP slave's `sync:run` requests, byte for byte (GET with Content-Type, `since` as
    ISO UTC, one connection per request), against one seeded master."""

    RUNS = ["slave_sync_run1_fresh_slave.txt", "slave_sync_run2_provisioned_slave.txt",
            "slave_sync_run3_sameday_sale_not_pushed.txt",
            "slave_sync_run4_lastsync_yesterday_push.txt"]

    def test_sync_run_sequences(self):
        for run in self.RUNS:
            exchanges = fixtures.slave_run(run)
            self.assertGreaterEqual(len(exchanges), 5, run)
            for number, exchange in enumerate(exchanges, 1):
                method, target, headers, body = fixtures.request_parts(exchange["request"])
                with self.subTest(run=run, connection=number, target=target):
                    self.assertIn(("Content-Type", "application/json"), headers)
                    r = raw_exchange(self.server.host, self.server.port, exchange["request"])
                    php = exchange["response_json"]
                    if exchange["status"] == 200:
                        self.assertEqual(r.status, 200, r)
                        ours = r.json()
                        self.assertSameShape(ours, php, "%s #%d" % (run, number))
                        for key in ("success", "table", "since", "message", "synced_count"):
                            if key in php:
                                self.assertEqual(ours[key], php[key], key)
                        if "count" in php:
                            self.assertEqual(ours["count"], len(ours["data"]))
                    else:
                        # PHP: 500 "Undefined array key password" for new users. Here: the
                        # required column is named in a 422 and nothing is stored.
                        self.assertEqual(method, "POST")
                        self.assertEqual(json.loads(body)["table"], "users")
                        self.assertValidationFailed(r, "data.0.password")
        # Run 4's push: every transaction number is at the master once, with its own times.
        rows = fixtures.rows_as_dicts(
            self.db, "SELECT transaction_number, created_at FROM transactions")
        numbers = [r["transaction_number"] for r in rows]
        self.assertEqual(len(numbers), len(set(numbers)))
        self.assertIn("TXN-20261124-9QQ6NF", numbers)
        sale = [r for r in rows if r["transaction_number"] == "TXN-20261124-9QQ6NF"][0]
        self.assertEqual(sale["created_at"], "2026-11-24 15:31:20")
        self.assertEqual(self.server.pull("users").json()["count"], 2)


if __name__ == "__main__":
    unittest.main()
