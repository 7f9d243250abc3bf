"""App-like operations on one node's database, and the model of what they must leave behind.

Every operation writes straight to the node's SQLite file with sqlite3, as the Laravel app does:
its own connection, `PRAGMA foreign_keys=ON`, a busy timeout, one short `BEGIN IMMEDIATE`
transaction, timestamps as 'YYYY-MM-DD HH:MM:SS' in Africa/Lagos taken from the node's clock.

Clocks are simulated: one clock for the schedule that every operation advances by 1..90 s, plus a
per-node offset (minutes, when the schedule skews clocks). Timestamps therefore follow from the
seed alone, and two versions of a row never share an `updated_at` by accident (see `Model.stamp`).

`Model` is the oracle: every sale with its original values and final status, the users and
inventory adjustments created and deleted (by a unique email / reason token, since ids change),
the expected stock (start + the stock change of every operation performed), the conflicts made
on purpose, and the master's last company settings and price. The checker compares it with the
databases after the quiet round.
"""

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

APP_ZONE = ZoneInfo("Africa/Lagos")
DB_FORMAT = "%Y-%m-%d %H:%M:%S"
CENT = Decimal("0.01")
START_STOCK = Decimal("10000.00")
START_PRICE = Decimal("850.00")
SEED_STAMP = "2026-01-05 08:00:00"
PASSWORD_HASH = "$2y$10$92IXUNpkjO0rOQ5byMi.Ye4oKoEa3Ro9llC/.og/at2.uheWG/igi"
SEED_USERS = [  # (id, name, email, role)
    (1, "Admin User", "admin@ruxxengas.test", "admin"),
    (2, "Cashier One", "cashier@ruxxengas.test", "cashier"),
]
BUSY_TIMEOUT_MS = 30000


def connect(path):
    """A connection as the app opens one: autocommit mode, foreign keys, busy timeout."""
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = %d" % BUSY_TIMEOUT_MS)
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


class Tx:
    """`with Tx(conn):` runs a BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error)."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind, value, tb):
        if kind is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        return False


def seed_master(path):
    """The master's data before the schedule: 2 users, the tank with 10000.00 kg, company
    settings (with an SMTP password that must never leave the master)."""
    conn = connect(path)
    try:
        with Tx(conn):
            for uid, name, email, role in SEED_USERS:
                conn.execute(
                    "INSERT INTO users (id, name, email, email_verified_at, password, role, "
                    "is_active, remember_token, created_at, updated_at) VALUES (?, ?, ?, NULL, ?, "
                    "?, 1, 'master-only-token', ?, ?)",
                    (uid, name, email, PASSWORD_HASH, role, SEED_STAMP, SEED_STAMP))
            conn.execute(
                "INSERT INTO inventory (id, current_stock, minimum_stock, price_per_kg, notes, "
                "created_at, updated_at) VALUES (1, ?, '500.00', ?, 'Main tank', ?, ?)",
                (str(START_STOCK), str(START_PRICE), SEED_STAMP, SEED_STAMP))
            conn.execute(
                "INSERT INTO company_settings (id, company_name, company_address, company_phone, "
                "company_email, logo_path, smtp_host, smtp_port, smtp_username, smtp_password, "
                "smtp_encryption, created_at, updated_at) VALUES (1, 'Ruxxen LPG Gas Plant', "
                "'12 Plant Road, Lagos', '+2348000000000', 'info@ruxxengas.test', NULL, "
                "'smtp.ruxxengas.test', 587, 'mailer', 'eyJpdiI6IlNFQ1JFVCJ9', 'tls', ?, ?)",
                (SEED_STAMP, SEED_STAMP))
    finally:
        conn.close()


def parse_db(text):
    return datetime.strptime(text, DB_FORMAT)


@dataclass
class Node:
    name: str            # "master", "slave-1", ...
    db: str
    offset: timedelta    # this node's clock skew
    is_master: bool = False
    tag: str = ""        # short code used in generated names


@dataclass
class SaleVersion:
    """One edit of a sale on one node (a cancellation or a change of its customer fields): the
    row as that node wrote it, and the updated_at of the version it started from (`base`)."""
    node: str
    base: str
    stamp: str
    customer: str
    phone: str
    notes: str
    status: str


@dataclass
class SettingsVersion:
    """A depot's edit of the company settings (it must lose to the master's)."""
    node: str
    base: str
    stamp: str
    name: str
    phone: str


def superseded(versions, i):
    """Whether versions[i] was overwritten by a later edit that started from it (on the same
    node, or on a node that had pulled it): then it is no lost version, a user replaced it
    knowingly. Versions are told apart by updated_at (unique per row, see App._fresh_stamp)."""
    return any(w.base == versions[i].stamp for w in versions[i + 1:])


@dataclass
class Sale:
    node: str
    cashier_email: str
    qty: Decimal
    price: Decimal
    total: Decimal
    customer: str
    created_at: str
    updated_at: str
    status: str = "completed"     # "cancelled" once any node cancelled it
    versions: list = field(default_factory=list)  # every SaleVersion, in the order made

    def made(self):
        """The sale as made, as a version (the base of the first edits)."""
        return SaleVersion(self.node, None, self.updated_at, self.customer, None, None,
                           "completed")

    def contenders(self):
        """The edits that must survive as the final row or in a conflict log: an edit is
        dropped only when a later edit started from it (overwritten knowingly); one replaced
        by a pulled version before it left its node is a loser like any other."""
        return [v for i, v in enumerate(self.versions) if not superseded(self.versions, i)]

    def winner(self):
        """The version last-writer-wins should keep: among the versions no later edit started
        from (the sale as made when never edited), the newest updated_at (every node writes the
        app zone's format, so the text orders as the instant), a tie kept by the master's.
        Arbitration compares updated_at only when two versions meet, so with skewed clocks the
        winner can still lose (an edit stamped before the version it started from loses to
        that version at the master); then it must be in a conflict log
        (checker.check_sale_versions)."""
        leaves = self.contenders() or [self.made()]
        return max(leaves, key=lambda v: (v.stamp, v.node == "master"))


@dataclass
class User:
    origin: str
    disposable: bool     # never used by a sale or an adjustment, so it may be deleted
    deleted: bool = False
    frozen: bool = False  # part of a deliberate conflict: no further edits or deletes
    names: list = field(default_factory=list)  # every name any node gave it, in order


@dataclass
class Adjustment:
    node: str
    delta: Decimal
    deleted: bool = False


@dataclass
class Conflict:
    table: str
    key: str             # users: the email
    versions: list       # [(node name, name written)]


@dataclass
class Model:
    sales: dict = field(default_factory=dict)        # transaction_number -> Sale
    users: dict = field(default_factory=dict)        # email -> User
    adjustments: dict = field(default_factory=dict)  # reason token -> Adjustment
    expected_stock: Decimal = START_STOCK
    additions: Decimal = Decimal(0)                   # stock added by adjustments (net)
    conflicts: list = field(default_factory=list)
    slave_prices: list = field(default_factory=list)  # (node, price) edits that must lose
    settings_edits: list = field(default_factory=list)  # slaves' company settings versions
    company_name: str = "Ruxxen LPG Gas Plant"
    company_phone: str = "+2348000000000"
    price: Decimal = START_PRICE
    app_errors: list = field(default_factory=list)

    def __post_init__(self):
        for _, name, email, _ in SEED_USERS:
            self.users[email] = User("master", False, names=[name])


class Clock:
    """The schedule's simulated clock (Lagos wall time)."""

    def __init__(self, start):
        self.now = start

    def advance(self, rng):
        self.now += timedelta(seconds=rng.randint(1, 90))

    def stamp(self, node, extra=0):
        return (self.now + node.offset + timedelta(seconds=extra)).strftime(DB_FORMAT)


def _txn_number(rng, clock, node, model):
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    day = (clock.now + node.offset).strftime("%Y%m%d")
    while True:
        number = "TXN-%s-%s" % (day, "".join(rng.choice(alphabet) for _ in range(6)))
        if number not in model.sales:
            return number


def _qty(rng, low=50, high=5000):
    return (Decimal(rng.randint(low, high)) / 100).quantize(CENT)


def _dec(value):
    return Decimal(repr(float(value))).quantize(CENT)


class App:
    """The app on one node: reads the node's database to pick targets (so a user another node
    created is usable only once pulled) and writes as Laravel would."""

    def __init__(self, node, model, clock):
        self.node = node
        self.model = model
        self.clock = clock

    # --- reads ------------------------------------------------------------------------------

    def _rows(self, sql, params=()):
        conn = connect(self.node.db)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def local_users(self):
        """[(id, email, updated_at)] of the users this node holds, ordered by email."""
        return self._rows("SELECT id, email, updated_at FROM users ORDER BY email")

    def cashiers(self):
        return [(uid, email) for uid, email, _ in self.local_users()
                if email in self.model.users and not self.model.users[email].disposable]

    def local_adjustments(self):
        return self._rows("SELECT id, reason FROM inventory_adjustments ORDER BY reason")

    def price(self):
        rows = self._rows("SELECT price_per_kg FROM inventory WHERE id = 1")
        return _dec(rows[0][0])

    def logged_in_id(self, conn, email):
        """The user id the depot app writes for `email`, as Laravel's database session driver
        knows it: from the cashier's session row, which holds the id from the last login. When
        the session is gone (the agent ends the sessions of a user it renumbers), the cashier
        logs in again, by email, and gets a new session. Without that, a session would keep the
        old id across the renumbering: a FOREIGN KEY error, or a sale recorded for whoever holds
        that id now, which the checker would see as the wrong cashier."""
        sid = "%s|%s" % (self.node.name, email)
        row = conn.execute("SELECT user_id FROM sessions WHERE id = ?", (sid,)).fetchone()
        if row:
            return row[0]
        uid = conn.execute("SELECT id FROM users WHERE email = ?", (email,)).fetchone()[0]
        conn.execute("INSERT INTO sessions (id, user_id, payload, last_activity) "
                     "VALUES (?, ?, '', 0)", (sid, uid))
        return uid

    # --- writes -----------------------------------------------------------------------------

    def sell(self, rng, stamp=None, conn=None):
        """A completed sale of 0.50..50.00 kg at the local price; returns its number."""
        cashiers = self.cashiers()
        _, email = cashiers[rng.randrange(len(cashiers))]
        qty = _qty(rng)
        price = self.price()
        total = (qty * price).quantize(CENT)
        number = _txn_number(rng, self.clock, self.node, self.model)
        customer = rng.choice(["Walk-in", "Mama Put", "Chinedu O.", "Bisi Foods", None])
        payment = rng.choice(["cash", "card", "transfer"])
        stamp = stamp or self.clock.stamp(self.node)
        self.model.sales[number] = Sale(self.node.name, email, qty, price, total, customer,
                                        stamp, stamp)
        own = conn is None
        conn = conn or connect(self.node.db)
        try:
            with Tx(conn):
                cashier_id = self.logged_in_id(conn, email)
                conn.execute(
                    "INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, "
                    "price_per_kg, total_amount, customer_name, customer_phone, notes, status, "
                    "created_at, updated_at, payment_type) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, "
                    "'completed', ?, ?, ?)",
                    (number, cashier_id, str(qty), str(price), str(total), customer, stamp,
                     stamp, payment))
                conn.execute("UPDATE inventory SET current_stock = current_stock - ?, "
                             "updated_at = ? WHERE id = 1", (str(qty), stamp))
        except BaseException:
            del self.model.sales[number]
            raise
        finally:
            if own:
                conn.close()
        self.model.expected_stock -= qty
        return number

    def local_sales(self, conn=None):
        """{transaction_number: status} of the sales this node holds that the model knows."""
        rows = (conn.execute("SELECT transaction_number, status FROM transactions").fetchall()
                if conn is not None else
                self._rows("SELECT transaction_number, status FROM transactions"))
        return {n: st for n, st in rows if n in self.model.sales}

    def _fresh_stamp(self, table, key_column, key, all_nodes):
        """The node's clock, moved on a second while a copy of the row anywhere has it as its
        updated_at (versions are told apart by updated_at, see docs/TESTING.md)."""
        taken = set()
        for n in all_nodes:
            conn = connect(n.db)
            try:
                taken.update(u for (u,) in conn.execute(
                    'SELECT updated_at FROM "%s" WHERE "%s" = ?' % (table, key_column), (key,)))
            finally:
                conn.close()
        extra = 0
        stamp = self.clock.stamp(self.node)
        while stamp in taken:
            extra += 1
            stamp = self.clock.stamp(self.node, extra)
        return stamp

    def _edit_sale(self, conn, number, stamp, sets, params):
        """Applies `sets` to sale `number` inside the caller's transaction; returns the
        SaleVersion written."""
        base = conn.execute("SELECT updated_at FROM transactions WHERE transaction_number = ?",
                            (number,)).fetchone()[0]
        conn.execute("UPDATE transactions SET %s, updated_at = ? WHERE transaction_number = ?"
                     % sets, tuple(params) + (stamp, number))
        customer, phone, notes, status = conn.execute(
            "SELECT customer_name, customer_phone, notes, status FROM transactions "
            "WHERE transaction_number = ?", (number,)).fetchone()
        return SaleVersion(self.node.name, base, stamp, customer, phone, notes, status)

    def cancel(self, rng, all_nodes=(), conn=None):
        """Cancels a completed sale this node holds (its own, or one made elsewhere and
        pulled) and gives its stock back. A sale is cancelled once in the whole schedule (two
        depots cancelling the same sale would give the gas back twice; the app cannot know)."""
        own = conn is None
        conn = conn or connect(self.node.db)
        try:
            local = self.local_sales(conn)
            mine = sorted(n for n, st in local.items()
                          if st == "completed" and self.model.sales[n].status == "completed")
            if not mine:
                return None
            number = mine[rng.randrange(len(mine))]
            sale = self.model.sales[number]
            sale.status = "cancelled"  # claimed before the write: a concurrent writer skips it
            stamp = self._fresh_stamp("transactions", "transaction_number", number,
                                      all_nodes or [self.node])
            try:
                with Tx(conn):
                    version = self._edit_sale(conn, number, stamp, "status = 'cancelled'", ())
                    conn.execute("UPDATE inventory SET current_stock = current_stock + ?, "
                                 "updated_at = ? WHERE id = 1", (str(sale.qty), stamp))
            except BaseException:
                sale.status = "completed"
                raise
        finally:
            if own:
                conn.close()
        sale.versions.append(version)
        self.model.expected_stock += sale.qty
        return number

    def edit_sale(self, rng, step, all_nodes, conn=None):
        """Changes the customer fields of a sale this node holds (made here or elsewhere), as a
        cashier correcting a receipt; the same sale may be edited on several nodes before they
        sync (last writer wins, the losers in the conflict log)."""
        own = conn is None
        conn = conn or connect(self.node.db)
        try:
            local = sorted(self.local_sales(conn))
            if not local:
                return None
            number = local[rng.randrange(len(local))]
            sale = self.model.sales[number]
            stamp = self._fresh_stamp("transactions", "transaction_number", number, all_nodes)
            customer = rng.choice(["Walk-in", "Mama Put", "Chinedu O.", "Bisi Foods", "Ade K."])
            phone = "+23470%08d" % rng.randrange(10 ** 8)
            notes = "edit %s by %s" % (step, self.node.name)
            with Tx(conn):
                version = self._edit_sale(
                    conn, number, stamp, "customer_name = ?, customer_phone = ?, notes = ?",
                    (customer, phone, notes))
        finally:
            if own:
                conn.close()
        sale.versions.append(version)
        return number

    def adjust(self, rng, token):
        """An inventory adjustment (the row and the new stock in one transaction)."""
        cashiers = self.cashiers()
        _, email = cashiers[rng.randrange(len(cashiers))]
        kind = rng.choice(["addition", "addition", "subtraction", "loss", "correction"])
        qty = _qty(rng, 100, 50000)
        sign = {"addition": 1, "subtraction": -1, "loss": -1}.get(kind) or rng.choice([1, -1])
        delta = qty * sign
        stamp = self.clock.stamp(self.node)
        conn = connect(self.node.db)
        try:
            with Tx(conn):
                user_id = self.logged_in_id(conn, email)
                previous = conn.execute(
                    "SELECT current_stock FROM inventory WHERE id = 1").fetchone()[0]
                new = float(previous) + float(delta)
                conn.execute(
                    "INSERT INTO inventory_adjustments (user_id, type, quantity_kg, "
                    "previous_stock, new_stock, reason, notes, created_at, updated_at) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (user_id, kind, str(qty), "%.2f" % float(previous), "%.2f" % new,
                     "adj " + token, rng.choice([None, "truck delivery", "count"]), stamp, stamp))
                conn.execute("UPDATE inventory SET current_stock = ?, updated_at = ? WHERE id = 1",
                             (new, stamp))
        finally:
            conn.close()
        self.model.adjustments[token] = Adjustment(self.node.name, delta)
        self.model.expected_stock += delta
        self.model.additions += delta
        return token

    def delete_adjustment(self, rng):
        rows = [(i, r) for i, r in self.local_adjustments()
                if not self.model.adjustments[r[4:]].deleted]
        if not rows:
            return None
        _, reason = rows[rng.randrange(len(rows))]
        conn = connect(self.node.db)
        try:
            with Tx(conn):
                conn.execute("DELETE FROM inventory_adjustments WHERE reason = ?", (reason,))
        finally:
            conn.close()
        self.model.adjustments[reason[4:]].deleted = True
        return reason[4:]

    def _versions_at(self, email, nodes):
        """updated_at of the user's row on every node that holds it."""
        out = set()
        for n in nodes:
            conn = connect(n.db)
            try:
                for (u,) in conn.execute("SELECT updated_at FROM users WHERE email = ?", (email,)):
                    out.add(u)
            finally:
                conn.close()
        return out

    def edit_user(self, rng, email, name, all_nodes):
        """Renames the user; the new updated_at differs from every copy's (a later second when
        needed), so versions are never told apart only by content."""
        taken = self._versions_at(email, all_nodes)
        extra = 0
        stamp = self.clock.stamp(self.node)
        while stamp in taken:
            extra += 1
            stamp = self.clock.stamp(self.node, extra)
        conn = connect(self.node.db)
        try:
            with Tx(conn):
                conn.execute("UPDATE users SET name = ?, is_active = ?, updated_at = ? "
                             "WHERE email = ?", (name, rng.choice([1, 1, 1, 0]), stamp, email))
        finally:
            conn.close()
        self.model.users[email].names.append(name)
        return stamp

    def create_user(self, rng, email, disposable, name=None):
        """Inserts a user; an email the model already knows (made on another node) is the same
        user again and only adds a version of its name. Returns False, writing nothing, when
        the node holds the email already (the app's unique-email validation: a registration
        made while the agent runs may find the user just pulled)."""
        stamp = self.clock.stamp(self.node)
        name = name or "New %s" % email.split("@")[0]
        conn = connect(self.node.db)
        try:
            with Tx(conn):
                if conn.execute("SELECT 1 FROM users WHERE email = ?", (email,)).fetchone():
                    return False
                conn.execute(
                    "INSERT INTO users (name, email, email_verified_at, password, role, "
                    "is_active, remember_token, created_at, updated_at) VALUES (?, ?, NULL, ?, "
                    "?, 1, ?, ?, ?)",
                    (name, email, PASSWORD_HASH,
                     rng.choice(["cashier", "cashier", "admin"]),
                     rng.choice([None, "tok-" + email.split("@")[0]]), stamp, stamp))
        finally:
            conn.close()
        if email in self.model.users:
            self.model.users[email].names.append(name)
        else:
            self.model.users[email] = User(self.node.name, disposable, names=[name])
        return True

    def delete_user(self, email):
        conn = connect(self.node.db)
        try:
            with Tx(conn):
                conn.execute("DELETE FROM users WHERE email = ?", (email,))
        finally:
            conn.close()
        self.model.users[email].deleted = True

    def edit_company_settings(self, rng, step):
        """An edit of the company settings. The master's is the settings everyone must end
        with; a depot's loses (master wins) and must be in a conflict log, unless the same
        depot's next edit started from it."""
        name = "Ruxxen LPG Gas Plant #%s%s" % (step, "" if self.node.is_master
                                               else " by " + self.node.name)
        phone = "+23480%08d" % rng.randrange(10 ** 8)
        stamp = self.clock.stamp(self.node)
        conn = connect(self.node.db)
        try:
            with Tx(conn):
                base = conn.execute("SELECT updated_at FROM company_settings WHERE id = 1"
                                    ).fetchone()[0]
                conn.execute("UPDATE company_settings SET company_name = ?, company_phone = ?, "
                             "updated_at = ? WHERE id = 1", (name, phone, stamp))
        finally:
            conn.close()
        if self.node.is_master:
            self.model.company_name, self.model.company_phone = name, phone
        else:
            self.model.settings_edits.append(SettingsVersion(self.node.name, base, stamp, name,
                                                             phone))
        return name

    def set_price(self, rng):
        """A price change (on the master it is the price; on a slave it must lose)."""
        price = (Decimal(rng.randint(80000, 99999)) / 100).quantize(CENT)
        while price == self.model.price:
            price += CENT
        stamp = self.clock.stamp(self.node)
        conn = connect(self.node.db)
        try:
            with Tx(conn):
                conn.execute("UPDATE inventory SET price_per_kg = ?, updated_at = ? WHERE id = 1",
                             (str(price), stamp))
        finally:
            conn.close()
        if self.node.is_master:
            self.model.price = price
        else:
            self.model.slave_prices.append((self.node.name, price))
        return price
