"""slave-agent over HTTPS against the real master-server started with --tls-cert/--tls-key
(DESIGN.md section 5): with the master's certificate trusted through --ca-file a fresh depot
recovers and its sale reaches the master exactly once; without it the handshake is refused
(exit 3, the cause on stderr) and nothing changes on either side, the sale staying pending for
the next run. The certificate is a self-signed one for 127.0.0.1 made with the openssl CLI."""

import os
import subprocess
import unittest

from support import fixtures
from support.slave_support import SlaveTestCase, describe, run_slave, sell, stock


class SlaveOverTlsTest(SlaveTestCase):

    def setUp(self):
        super().setUp()
        self.cert = self.path("cert.pem")
        key = self.path("key.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key,
             "-out", self.cert],
            check=True, capture_output=True, stdin=subprocess.DEVNULL)
        self.mdb = self.master_db()
        self.master = self.start_master(self.mdb, args=["--tls-cert", self.cert, "--tls-key", key])
        self.url = "https://127.0.0.1:%d" % self.master.port

    def test_a_trusted_master_syncs_and_the_sale_arrives_once(self):
        slave = self.path("slave.sqlite")
        self.sync(slave, self.url, "--ca-file", self.cert)
        start = stock(self.mdb)
        number = sell(slave, "7.5", at="2026-11-24 10:00:00")
        self.sync(slave, self.url, "--ca-file", self.cert)
        self.sync(slave, self.url, "--ca-file", self.cert)  # a second run sends nothing again
        found = fixtures.rows_as_dicts(
            self.mdb, "SELECT * FROM transactions WHERE transaction_number = ?", (number,))
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0]["created_at"], "2026-11-24 10:00:00")
        self.assertAlmostEqual(stock(self.mdb), start - 7.5, places=6)

    def test_an_untrusted_certificate_is_refused_and_changes_nothing(self):
        slave = self.path("slave.sqlite")
        self.sync(slave, self.url, "--ca-file", self.cert)
        number = sell(slave, "3", at="2026-11-24 10:05:00")
        before = fixtures.snapshot(self.mdb, ["transactions", "inventory"])
        result = run_slave(slave, self.url)  # the system store does not know this certificate
        self.assertEqual(result.returncode, 3, describe(result))
        self.assertIn("certificate", result.stderr)
        self.assertEqual(fixtures.snapshot(self.mdb, ["transactions", "inventory"]), before)
        # The sale is still pending and goes out once the certificate is trusted.
        self.sync(slave, self.url, "--ca-file", self.cert)
        count = fixtures.rows_as_dicts(
            self.mdb, "SELECT count(*) AS n FROM transactions WHERE transaction_number = ?",
            (number,))[0]["n"]
        self.assertEqual(count, 1)

    def test_plain_http_to_the_tls_port_fails_cleanly(self):
        result = run_slave(self.path("slave.sqlite"), self.url.replace("https", "http", 1))
        self.assertNotEqual(result.returncode, 0, describe(result))
        self.assertIn(result.returncode, (3, 4), describe(result))


if __name__ == "__main__":
    unittest.main()
