"""master-server routes and error answers (DESIGN.md section 3): keys, unknown routes and
methods, every kind of invalid push and pull input. Each refused request is checked for its
status, its JSON body, and for leaving every table of the master database exactly as it was."""

import json
import unittest

from support import fixtures
from support.cases import MasterTestCase

UNAUTHORIZED = b'{"error":"Unauthorized","message":"Invalid or missing API key"}'

TXN_ROW = {
    "id": 301, "transaction_number": "TXN-20261124-ROUTE1", "cashier_id": 2,
    "quantity_kg": "3.00", "price_per_kg": "850.50", "total_amount": "2551.50",
    "customer_name": "Route", "customer_phone": None, "notes": None, "status": "completed",
    "created_at": "2026-11-24T14:29:40.000000Z", "updated_at": "2026-11-24T14:29:40.000000Z",
    "payment_type": "cash",
}


def txn(**changes):
    row = dict(TXN_ROW)
    row.update(changes)
    return row


class AuthTest(MasterTestCase):

    def test_missing_key_is_401_with_the_php_body_on_every_route(self):
        for method, target, body in [("GET", "/api/sync/pull?table=transactions", None),
                                     ("POST", "/api/sync/push",
                                      {"table": "transactions", "data": [txn()]}),
                                     ("GET", "/api/sync/status", None)]:
            with self.subTest(target=target):
                r = self.assertChangesNothing(
                    lambda: self.server.request(method, target, body=body, key=None))
                self.assertEqual(r.status, 401)
                self.assertEqual(r.body, UNAUTHORIZED)
                self.assertTrue(r.headers["content-type"].startswith("application/json"))

    def test_wrong_key_is_401_with_the_php_body(self):
        for key in ["wrongkey", "", "peerke", "peerkeyy", "PEERKEY", "peer key", "peerkey peerkey"]:
            for method, target, body in [("GET", "/api/sync/pull?table=users", None),
                                         ("POST", "/api/sync/push",
                                          {"table": "transactions", "data": [txn()]})]:
                with self.subTest(key=key, target=target):
                    r = self.assertChangesNothing(
                        lambda: self.server.request(method, target, body=body, key=key))
                    self.assertEqual(r.status, 401, r)
                    self.assertEqual(r.body, UNAUTHORIZED)

    def test_key_is_checked_before_the_input(self):
        r = self.server.push("users; DROP TABLE users", [{"id": 1}], key="nope")
        self.assertEqual((r.status, r.body), (401, UNAUTHORIZED))
        r = self.server.get("/api/sync/pull?table=customers&since=garbage", key=None)
        self.assertEqual((r.status, r.body), (401, UNAUTHORIZED))

    def test_key_in_query_or_other_header_is_not_accepted(self):
        r = self.server.get("/api/sync/pull?table=users&api_key=peerkey", key=None)
        self.assertEqual(r.status, 401)
        r = self.server.get("/api/sync/pull?table=users", key=None,
                            headers={"Authorization": "Bearer peerkey"})
        self.assertEqual(r.status, 401)

    def test_up_needs_no_key_and_status_needs_one(self):
        r = self.server.get("/up", key=None)
        self.assertEqual(self.assertJsonResponse(r, 200), {"status": "up"})
        r = self.server.get("/up", key="wrong")
        self.assertEqual(r.status, 200)
        r = self.server.get("/api/sync/status", key="wrong")
        self.assertEqual((r.status, r.body), (401, UNAUTHORIZED))


class RouteTest(MasterTestCase):

    def test_unknown_routes_are_404_json(self):
        for target in ["/api/sync/nonexistent", "/", "/api/sync", "/api/sync/pull/extra",
                       "/API/SYNC/PULL?table=users", "/api/sync/../sync/pull?table=users",
                       "/index.php"]:
            with self.subTest(target=target):
                body = self.assertJsonResponse(self.server.get(target), 404)
                self.assertIn("error", body)
                self.assertIsInstance(body["error"], str)

    def test_wrong_method_is_405_json(self):
        for method, target in [("GET", "/api/sync/push"), ("PUT", "/api/sync/push"),
                               ("DELETE", "/api/sync/push"), ("POST", "/api/sync/pull"),
                               ("PATCH", "/api/sync/pull?table=users"),
                               ("POST", "/api/sync/status"), ("POST", "/up")]:
            with self.subTest(method=method, target=target):
                r = self.assertChangesNothing(lambda: self.server.request(
                    method, target, body={"table": "users", "data": []}))
                body = self.assertJsonResponse(r, 405)
                self.assertIn("error", body)
                self.assertIn("allow", r.headers)

    def test_up_answers_when_the_database_answers(self):
        self.assertEqual(self.assertJsonResponse(self.server.get("/up", key=None), 200),
                         {"status": "up"})

    def test_status_shape(self):
        r = self.server.push("inventory", [{"id": 1, "current_stock": "1250.25",
                                            "minimum_stock": "100.00",
                                            "price_per_kg": "850.50", "notes": None,
                                            "created_at": "2026-11-24T14:28:49.000000Z",
                                            "updated_at": "2026-11-24T14:28:49.000000Z"}],
                             node_id="status-node", batch_id="status-batch-1",
                             meta=[{"op": "update", "base_updated_at": None,
                                    "deltas": {"current_stock": "-1.00"}}])
        self.assertJsonResponse(r, 200)
        self.assertJsonResponse(self.server.pull_v2("users", node_id="status-node"), 200)
        body = self.assertJsonResponse(self.server.get("/api/sync/status"), 200)
        self.assertIs(body["success"], True)
        self.assertIsInstance(body["nodes"], list)
        nodes = {n["node_id"]: n for n in body["nodes"]}
        self.assertIn("status-node", nodes)
        node = nodes["status-node"]
        for field in ("last_push_at", "last_pull_at"):
            self.assertIsInstance(node[field], str)
        for field in ("rows_pushed", "rows_pulled", "conflicts"):
            self.assertIsInstance(node[field], int)
        self.assertEqual(node["rows_pushed"], 1)
        self.assertEqual(node["rows_pulled"], 2)  # the two seeded users
        self.assertEqual(set(body["tables"]), set(fixtures.SYNCED_TABLES))
        for table in fixtures.SYNCED_TABLES:
            count = fixtures.query(self.db, 'SELECT count(*) FROM "%s"' % table)[0][0]
            self.assertEqual(body["tables"][table]["rows"], count)
        self.assertIsInstance(body["conflicts"], int)

    def test_status_without_counts_leaves_the_tables_out(self):
        full = self.assertJsonResponse(self.server.get("/api/sync/status"), 200)
        self.assertEqual(full, self.assertJsonResponse(
            self.server.get("/api/sync/status?counts=1"), 200))
        lean = self.assertJsonResponse(self.server.get("/api/sync/status?counts=0"), 200)
        self.assertNotIn("tables", lean)
        del full["tables"]
        self.assertEqual(lean, full)
        for bad in ("2", "yes", ""):
            with self.subTest(counts=bad):
                self.assertValidationFailed(
                    self.server.get("/api/sync/status?counts=" + bad), "counts")


class PushValidationTest(MasterTestCase):
    """Every refused push: 422 naming the field, no internals, database unchanged."""

    def push_raw(self, body, **kw):
        return self.assertChangesNothing(lambda: self.server.post("/api/sync/push", body, **kw))

    def assertNoInternals(self, response):
        """No SQL or SQLite text in the messages (field names may echo the input)."""
        body = response.json()
        text = json.dumps([body.get("message"), list(body.get("errors", {}).values())])
        for marker in ("SQLSTATE", "insert into", "INSERT INTO", "sqlite", "SQLITE", "UPDATE ",
                       "constraint failed", "select ", "SELECT "):
            self.assertNotIn(marker, text)

    def test_unknown_table(self):
        for table in ["customers", "Users", "users ", "sqlite_schema", "ruxx_sync_changes",
                      "sync_logs", "migrations", "", 5, None, ["users"]]:
            with self.subTest(table=table):
                r = self.push_raw({"table": table, "data": [{"id": 1}]})
                body = self.assertValidationFailed(r, "table")
                self.assertNoInternals(r)
                if table == "customers":
                    self.assertEqual(body, {"error": "Validation failed", "errors": {
                        "table": ["The selected table is invalid."]}})

    def test_missing_table(self):
        self.assertValidationFailed(self.push_raw({"data": [txn()]}), "table")

    def test_table_name_that_looks_like_sql(self):
        for table in ["users; DROP TABLE users", "users\"; DROP TABLE users; --",
                      "transactions WHERE 1=1", "transactions--"]:
            with self.subTest(table=table):
                r = self.push_raw({"table": table, "data": [{"id": 1}]})
                self.assertValidationFailed(r, "table")
                self.assertNoInternals(r)
        self.assertEqual(fixtures.query(
            self.db, "SELECT count(*) FROM sqlite_schema WHERE name = 'users'")[0][0], 1)

    def test_column_name_that_looks_like_sql(self):
        for column in ['id" = 1; --', "notes\"=(SELECT 1)--", "notes; DROP TABLE users",
                       'transaction_number"', "NOTES"]:
            with self.subTest(column=column):
                row = txn()
                row[column] = "x"
                r = self.push_raw({"table": "transactions", "data": [row]})
                body = self.assertValidationFailed(r)
                self.assertNoInternals(r)
                self.assertTrue(any(column in key for key in body["errors"]), body)

    def test_unknown_column_is_named(self):
        r = self.push_raw({"table": "transactions", "data": [txn(), txn(
            transaction_number="TXN-20261124-ROUTE2", loyalty_points=5)]})
        self.assertValidationFailed(r, "data.1.loyalty_points")

    def test_remember_token_is_dropped_not_an_unknown_column(self):
        # The never-sent column is refused silently (DESIGN.md: remember_token never travels).
        row = {"id": 310, "name": "Tok", "email": "tok@slave.test", "password": "$2y$10$x",
               "role": "cashier", "is_active": True, "remember_token": "secret-token",
               "created_at": "2026-11-24T14:29:40.000000Z",
               "updated_at": "2026-11-24T14:29:40.000000Z"}
        r = self.server.push("users", [row])
        self.assertJsonResponse(r, 200)
        stored = fixtures.query(self.db, "SELECT remember_token FROM users WHERE email = ?",
                                ("tok@slave.test",))
        self.assertEqual(stored, [(None,)])

    def test_malformed_and_truncated_json(self):
        good = json.dumps({"table": "transactions", "data": [txn()]})
        php = fixtures.capture("err_malformed_json.txt")
        bodies = [php["request_body"], good[:-1], good[: len(good) // 2], "{", "[", "",
                  "null", "nonsense", '{"table":"transactions","data":[{"id":1}]}}',
                  '{"table":"transactions","data":[{"id":1},]}', good + "garbage",
                  "{'table':'transactions'}", '{"table":"transactions","data":[NaN]}']
        for body in bodies:
            with self.subTest(body=body[:60]):
                r = self.push_raw(body)
                # As the PHP master (table and data "required"), plus why (docs/PROTOCOL.md).
                got = self.assertValidationFailed(r, "table", "data", "body")
                self.assertNoInternals(r)
                if body is php["request_body"]:
                    # The PHP master's answer, field for field (extra fields allowed).
                    for field, messages in php["response_json"]["errors"].items():
                        self.assertEqual(got["errors"].get(field), messages)

    def test_body_that_is_not_an_object(self):
        for body in ['[{"table":"transactions"}]', '"transactions"', "42", "true"]:
            with self.subTest(body=body):
                self.assertValidationFailed(self.push_raw(body))

    def test_missing_data(self):
        body = self.assertValidationFailed(self.push_raw({"table": "transactions"}), "data")
        self.assertEqual(body["errors"]["data"], ["The data field is required."])
        self.assertValidationFailed(self.push_raw({"table": "transactions", "data": None}),
                                    "data")

    def test_empty_data_is_422_like_php(self):
        php = fixtures.capture("push_empty_data.txt")
        r = self.push_raw(php["request_body"])
        self.assertEqual(self.assertValidationFailed(r, "data"), php["response_json"])

    def test_data_not_an_array(self):
        for data in [{"id": 1}, "rows", 5, True, {"0": txn()}]:
            with self.subTest(data=data):
                self.assertValidationFailed(
                    self.push_raw({"table": "transactions", "data": data}), "data")

    def test_row_not_an_object(self):
        for row in [1, "row", None, [txn()], True]:
            with self.subTest(row=row):
                self.assertValidationFailed(
                    self.push_raw({"table": "transactions", "data": [txn(), row]}), "data.1")

    def test_wrong_value_types(self):
        cases = [
            ("quantity_kg", "abc"), ("quantity_kg", {"value": 3}), ("quantity_kg", [3]),
            ("quantity_kg", True), ("cashier_id", "two"), ("cashier_id", 2.5),
            ("cashier_id", {"id": 2}), ("notes", {"a": 1}), ("notes", ["a"]),
            ("customer_name", {"first": "Ada"}), ("created_at", 12345),
            ("updated_at", {"date": "2026-11-24"}),
        ]
        for column, value in cases:
            with self.subTest(column=column, value=value):
                r = self.push_raw({"table": "transactions", "data": [txn(**{column: value})]})
                self.assertValidationFailed(r, "data.0.%s" % column)
                self.assertNoInternals(r)

    def test_numbers_beyond_the_double_range_are_refused(self):
        # JSON allows 1e400; it does not fit a double (it would be stored as Infinity).
        for column, numeral in [("quantity_kg", "1e400"), ("total_amount", "-1e400"),
                                ("price_per_kg", "1" + "0" * 400)]:
            with self.subTest(column=column, numeral=numeral[:10]):
                row = json.dumps(txn(transaction_number="TXN-20261124-HUGE01"))
                row = row.replace('"%s": "%s"' % (column, TXN_ROW[column]),
                                  '"%s": %s' % (column, numeral))
                self.assertIn(numeral, row)
                r = self.push_raw('{"table":"transactions","data":[%s]}' % row)
                self.assertValidationFailed(r, "data.0.%s" % column)
        wire = {"id": 1, "current_stock": "1250.25", "minimum_stock": "100.00",
                "price_per_kg": "850.50", "notes": None,
                "created_at": "2026-11-24T14:28:49.000000Z",
                "updated_at": "2026-11-24T14:28:49.000000Z"}
        body = json.dumps({"table": "inventory", "data": [wire], "node_id": "n-huge",
                           "batch_id": "b-huge", "meta": [{"op": "update",
                                                           "deltas": {"current_stock": "X"}}]})
        r = self.push_raw(body.replace('"X"', "-1e400"))
        self.assertValidationFailed(r, "meta.0.deltas.current_stock")

    def test_wrong_types_in_other_tables(self):
        user = {"id": 320, "name": "T", "email": "t@slave.test", "password": "$2y$10$x",
                "role": "cashier", "is_active": "maybe",
                "created_at": "2026-11-24T14:29:40.000000Z",
                "updated_at": "2026-11-24T14:29:40.000000Z"}
        self.assertValidationFailed(self.push_raw({"table": "users", "data": [user]}),
                                    "data.0.is_active")
        inv = {"id": 1, "current_stock": {"n": 1}}
        self.assertValidationFailed(self.push_raw({"table": "inventory", "data": [inv]}),
                                    "data.0.current_stock")

    def test_rows_without_identity(self):
        row = txn()
        del row["transaction_number"]
        self.assertValidationFailed(self.push_raw({"table": "transactions", "data": [row]}),
                                    "data.0.transaction_number")
        self.assertValidationFailed(self.push_raw(
            {"table": "transactions", "data": [txn(transaction_number=None)]}),
            "data.0.transaction_number")
        for table, row in [
                ("users", {"name": "No Id", "email": "noid@slave.test", "password": "x",
                           "created_at": "2026-11-24T14:29:40.000000Z",
                           "updated_at": "2026-11-24T14:29:40.000000Z"}),
                ("inventory", {"current_stock": "5.00", "minimum_stock": "1.00",
                               "price_per_kg": "1.00"}),
                ("inventory_adjustments", {"user_id": 1, "type": "loss", "quantity_kg": "1",
                                           "previous_stock": "2", "new_stock": "1",
                                           "reason": "x"})]:
            with self.subTest(table=table):
                self.assertValidationFailed(
                    self.push_raw({"table": table, "data": [row]}), "data.0.id")
                self.assertValidationFailed(
                    self.push_raw({"table": table, "data": [dict(row, id=None)]}), "data.0.id")

    def test_unparseable_timestamps_in_a_row(self):
        for value in ["yesterday", "2026-13-40T00:00:00Z", "2026-11-24T25:00:00Z",
                      "24/11/2026 14:29", "2026-11-24T14:29:40+25:00", "", "0"]:
            with self.subTest(value=value):
                r = self.push_raw({"table": "transactions", "data": [txn(updated_at=value)]})
                self.assertValidationFailed(r, "data.0.updated_at")

    def test_one_bad_row_refuses_the_whole_push(self):
        rows = [txn(transaction_number="TXN-20261124-GOOD01"),
                txn(transaction_number="TXN-20261124-BAD001", quantity_kg="lots")]
        r = self.push_raw({"table": "transactions", "data": rows})
        self.assertValidationFailed(r, "data.1.quantity_kg")

    def test_foreign_key_that_points_nowhere(self):
        php = fixtures.capture("push_transactions_fk_violation.txt")
        r = self.push_raw(php["request_body"])
        body = self.assertValidationFailed(r, "data.0.cashier_id")
        self.assertNoInternals(r)
        self.assertEqual(list(body["errors"]), ["data.0.cashier_id"])
        adj = {"id": 330, "user_id": 4242, "type": "loss", "quantity_kg": "1.00",
               "previous_stock": "2.00", "new_stock": "1.00", "reason": "x",
               "created_at": "2026-11-24T14:29:40.000000Z",
               "updated_at": "2026-11-24T14:29:40.000000Z"}
        r = self.push_raw({"table": "inventory_adjustments", "data": [adj]})
        self.assertValidationFailed(r, "data.0.user_id")
        self.assertNoInternals(r)

    def test_check_constraint_violation_is_a_clean_422(self):
        r = self.push_raw({"table": "transactions", "data": [txn(status="stolen")]})
        body = self.assertValidationFailed(r, "data.0.status")
        self.assertEqual(list(body["errors"]), ["data.0.status"])
        self.assertNoInternals(r)
        r = self.push_raw({"table": "transactions", "data": [txn(payment_type="bitcoin")]})
        body = self.assertValidationFailed(r, "data.0.payment_type")
        self.assertEqual(list(body["errors"]), ["data.0.payment_type"])
        user = {"id": 340, "name": "Root", "email": "root@slave.test", "password": "$2y$10$x",
                "role": "root", "is_active": True, "created_at": "2026-11-24T14:29:40.000000Z",
                "updated_at": "2026-11-24T14:29:40.000000Z"}
        r = self.push_raw({"table": "users", "data": [user]})
        body = self.assertValidationFailed(r, "data.0.role")
        self.assertEqual(list(body["errors"]), ["data.0.role"])

    def test_null_in_a_not_null_column_of_an_existing_row_is_named(self):
        # An update (newer updated_at) of the seeded transaction that nulls a required column.
        row = fixtures.pull_capture_rows("transactions")[0]
        row = dict(row, quantity_kg=None, updated_at="2026-11-24T16:00:00.000000Z")
        r = self.push_raw({"table": "transactions", "data": [row]})
        body = self.assertValidationFailed(r, "data.0.quantity_kg")
        self.assertEqual(list(body["errors"]), ["data.0.quantity_kg"])
        self.assertNoInternals(r)

    def test_not_null_column_without_default_is_named(self):
        row = txn(transaction_number="TXN-20261124-NOQTY1")
        del row["quantity_kg"]
        r = self.push_raw({"table": "transactions", "data": [row]})
        self.assertValidationFailed(r, "data.0.quantity_kg")
        r = self.push_raw({"table": "transactions", "data": [
            txn(transaction_number="TXN-20261124-NOQTY2", quantity_kg=None)]})
        self.assertValidationFailed(r, "data.0.quantity_kg")
        self.assertNoInternals(r)

    def test_invalid_utf8_body(self):
        good = json.dumps({"table": "transactions", "data": [txn(customer_name="ZZZZ")]})
        for bad in [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xe2\x82", b"\xf8\x88\x80\x80\x80"]:
            with self.subTest(bytes=bad):
                body = good.encode().replace(b"ZZZZ", b"A" + bad + b"B")
                r = self.push_raw(body)
                self.assertValidationFailed(r, "table", "data", "body")
                r.body.decode("utf-8")  # the answer itself is valid UTF-8

    def test_invalid_v2_fields(self):
        base = {"table": "transactions", "data": [txn()]}
        cases = [
            ({"meta": "x", "node_id": "n1"}, "meta"),
            ({"deleted": "x", "node_id": "n1"}, "deleted"),
            ({"node_id": "bad node id!"}, "node_id"),
            ({"node_id": "n1", "batch_id": "bad batch;"}, "batch_id"),
            ({"node_id": "n1", "meta": [{"op": "upsert"}]}, "meta.0.op"),
            ({"node_id": "n1", "meta": []}, "meta"),
            ({"node_id": "n1", "meta": [{"op": "update", "base_updated_at": "nope"}]},
             "meta.0.base_updated_at"),
            ({"node_id": "n1", "meta": [{"op": "update", "deltas": {"quantity_kg": "1"}}]},
             "meta.0.deltas.quantity_kg"),
            ({"node_id": "n1", "deleted": [{"key": ""}]}, "deleted.0.key"),
        ]
        for extra, field in cases:
            with self.subTest(field=field, extra=extra):
                body = dict(base)
                body.update(extra)
                self.assertValidationFailed(self.push_raw(body), field)

    def test_valid_push_after_all_refusals_is_applied(self):
        r = self.server.push("transactions", [txn(transaction_number="TXN-20261124-VALID1")])
        body = self.assertJsonResponse(r, 200)
        self.assertEqual(body, {"success": True,
                                "message": "Successfully synced transactions data",
                                "synced_count": 1})
        self.assertEqual(fixtures.query(
            self.db, "SELECT count(*) FROM transactions WHERE transaction_number = ?",
            ("TXN-20261124-VALID1",))[0][0], 1)


class PullValidationTest(MasterTestCase):

    def pull_raw(self, target, **kw):
        return self.assertChangesNothing(lambda: self.server.get(target, **kw))

    def test_missing_table_like_php(self):
        php = fixtures.capture("err_missing_table_pull.txt")
        r = self.pull_raw(php["target"])
        self.assertEqual(self.assertValidationFailed(r, "table"), php["response_json"])
        self.assertValidationFailed(self.pull_raw("/api/sync/pull?table="), "table")

    def test_unknown_table_like_php(self):
        php = fixtures.capture("err_unknown_table_pull.txt")
        r = self.pull_raw(php["target"])
        self.assertEqual(self.assertValidationFailed(r, "table"), php["response_json"])

    def test_table_names_that_look_like_sql(self):
        from urllib.parse import quote
        for table in ["users; DROP TABLE users", "users WHERE 1=1", "users--", "users\"",
                      "sqlite_schema", "ruxx_sync_conflicts", "USERS", "%ff", "users\x00"]:
            with self.subTest(table=table):
                r = self.pull_raw("/api/sync/pull?table=" + quote(table, safe="%"))
                self.assertValidationFailed(r, "table")
        self.assertEqual(fixtures.query(self.db, "SELECT count(*) FROM users")[0][0], 2)

    def test_unparseable_since_like_php(self):
        php = fixtures.capture("err_since_garbage.txt")
        r = self.pull_raw(php["target"])
        self.assertEqual(self.assertValidationFailed(r, "since"), php["response_json"])
        from urllib.parse import quote
        for since in ["2026-13-01", "2026-11-24T25:61:00Z", "tomorrow", "1732458529",
                      "2026-11-24 15:00:00; DROP TABLE users", "2026-11-24T14:00:00+99:00"]:
            with self.subTest(since=since):
                r = self.pull_raw("/api/sync/pull?table=transactions&since=" + quote(since))
                self.assertValidationFailed(r, "since")

    def test_invalid_cursor_and_limit(self):
        for query in ["cursor=garbage", "cursor=c-1", "cursor=s1", "cursor=x12",
                      "cursor=&limit=0", "cursor=&limit=-5", "cursor=&limit=abc",
                      "cursor=&limit=100000000000000000000"]:
            with self.subTest(query=query):
                r = self.pull_raw("/api/sync/pull?table=users&" + query,
                                  headers={"X-Sync-Node-Id": "n1"})
                self.assertValidationFailed(r)


if __name__ == "__main__":
    unittest.main()
