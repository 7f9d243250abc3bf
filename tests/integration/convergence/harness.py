"""One seeded schedule: a master and three slaves, app operations, syncs with faults, a quiet
round, then the checker.

Everything the schedule does derives from its seed: `random.Random(seed)` draws the skeleton
(which operation on which node, when a sync happens, which fault, whether the app writes during
it), and every choice inside a step comes from its own generator seeded by "<seed>/<step>/<what>"
so that a target that differs because of timing (a user not yet pulled) does not shift the rest
of the schedule. Process timing still varies between replays; the schedule does not.
"""

import atexit
import os
import random
import shutil
import signal
import tempfile
import threading
import time
import traceback
from datetime import datetime, timedelta

import checker
import cluster
from fault_proxy import FaultProxy
from operations import App, Clock, Conflict, Model, Node, connect, seed_master

SLAVES = 3

# Faults of one sync, with their weights. The "_mid" faults are fired by the proxy at an exact
# exchange of the run (fault_proxy "trigger"), so they land mid-request / mid-sync for sure; the
# others by timing from the agent's start (they may land before the first request or after the
# last, which is worth covering too).
FAULTS = [
    ("none", 26),
    ("kill9", 6),           # SIGKILL of the agent a few ms into its run
    ("kill9_mid", 8),       # SIGKILL of the agent while the master works on request k, or
                            # 0..30 ms after answer k reached it (while it applies a pull page)
    ("master_term", 3),     # master SIGTERM (graceful) a few ms into the run, restarted
    ("master_kill", 3),     # master SIGKILL a few ms into the run, restarted on the same port
    ("master_term_mid", 4), # master SIGTERM while it works on request k (the proxy forwarded
                            # it and waits for the answer), restarted on the same port
    ("master_kill_mid", 5), # master SIGKILL there: mid-transaction, mid-answer
    ("cut", 10),            # answer k cut mid-body by the proxy
    ("cut_request", 6),     # request k (a POST) cut mid-body by the proxy: the master stops
                            # reading a push halfway
    ("lose", 14),           # push answer lost after the master committed
]

# App operations: (name, weight, allowed on the master, allowed on a slave).
OPERATIONS = [
    ("sale", 32, True, True),
    ("cancel", 8, True, True),
    ("edit_sale", 8, True, True),
    ("adjust", 12, True, True),
    ("delete_adjustment", 6, True, True),
    ("edit_user", 10, True, True),
    ("create_user", 10, True, True),
    ("delete_user", 6, True, True),
    ("conflict", 7, True, True),
    ("company_settings", 4, True, True),
    ("price", 3, True, True),
]

ALLOWED_EXIT = {
    "none": {0},
    "kill9": {0, 3, -signal.SIGKILL},
    "kill9_mid": {0, 3, -signal.SIGKILL},
    "master_term": {0, 3},
    "master_kill": {0, 3},
    "master_term_mid": {0, 3},
    "master_kill_mid": {0, 3},
    "cut": {0, 3},
    "cut_request": {0, 3},
    "lose": {0, 3},
}


_TEMPLATE = {}


def empty_app_db():
    """An empty database with the app's schema (fixtures/laravel_schema.sql), made once per
    process and copied for each schedule (creating it costs a few fsyncs per table)."""
    if "path" not in _TEMPLATE:
        from support import fixtures
        folder = tempfile.mkdtemp(prefix="ruxx-conv-template-")
        atexit.register(shutil.rmtree, folder, True)
        _TEMPLATE["path"] = fixtures.make_app_db(os.path.join(folder, "app.sqlite"))
    return _TEMPLATE["path"]


def weighted(rng, items):
    total = sum(w for _, w in items)
    pick = rng.uniform(0, total)
    for item, w in items:
        pick -= w
        if pick <= 0:
            return item
    return items[-1][0]


class Schedule:
    """Runs schedule `seed` with `ops` app operations in a fresh temporary directory."""

    def __init__(self, seed, ops, keep=False, verbose=False):
        self.seed = seed
        self.ops = ops
        self.keep = keep
        self.verbose = verbose
        self.rng = random.Random(seed)
        self.trace = []
        self.failures = []
        self.skipped = []
        self.stats = {"syncs": 0, "faults": {}, "fired": 0, "agent_exit": {}, "conflicts": 0}
        self.workdir = None
        self.master = None
        self.runs = 0
        self.t0 = None
        self.synced_ok = {}  # node -> a run of it exited 0 since its last price edit

    # --- helpers ----------------------------------------------------------------------------

    def sub(self, step, what):
        return random.Random("%d/%s/%s" % (self.seed, step, what))

    def log(self, text):
        if self.t0 is not None:
            text = "%6.2fs %s" % (time.monotonic() - self.t0, text)
        self.trace.append(text)
        if self.verbose:
            print("[seed %d] %s" % (self.seed, text), flush=True)

    def fail(self, text):
        self.failures.append(text)
        self.log("FAIL " + text.splitlines()[0])

    # --- setup ------------------------------------------------------------------------------

    def setup(self):
        self.workdir = tempfile.mkdtemp(prefix="ruxx-conv-%d-" % self.seed)
        master_db = os.path.join(self.workdir, "master.sqlite")
        shutil.copyfile(empty_app_db(), master_db)
        seed_master(master_db)
        # Seven schedules in eight skew every node's clock by up to 9 min 59 s either way
        # (minutes between nodes); the others run with agreeing clocks.
        skew = self.rng.random() < 0.875
        offsets = []
        for _ in range(SLAVES + 1):
            minutes = self.rng.randint(-9, 9) if skew else 0
            seconds = self.rng.randint(-59, 59) if skew else 0
            offsets.append(timedelta(minutes=minutes, seconds=seconds))
        # The schedule's clock starts at a seeded instant (any time of day, so some schedules
        # cross midnight and the day of the transaction numbers), not at the wall clock: a
        # replay writes the very same timestamps.
        start = datetime(2026, 2, 1) + timedelta(days=self.rng.randrange(280),
                                                 seconds=self.rng.randrange(86400))
        self.nodes = [Node("master", master_db, offsets[0], True, "m")]
        for i in range(1, SLAVES + 1):
            self.nodes.append(Node("slave-%d" % i, os.path.join(self.workdir, "slave-%d.sqlite" % i),
                                   offsets[i], False, "s%d" % i))
        self.slaves = self.nodes[1:]
        self.log("clocks: " + ", ".join("%s %+ds" % (n.name, n.offset.total_seconds())
                                        for n in self.nodes))
        self.clock = Clock(start)
        self.model = Model()
        self.master = cluster.MasterProcess(master_db, cluster.free_port(), self.workdir)
        self.master.start()
        self.node_ids = {n.name: "conv-%d-%s" % (self.seed, n.name) for n in self.slaves}
        for node in self.slaves:  # each slave is provisioned from the master (recovery)
            self.agent(node, "provision", "none", expect={0})

    # --- syncs ------------------------------------------------------------------------------

    def agent(self, node, label, fault, expect=None, step=None, extra=(), concurrent=False):
        """One `slave-agent --once` run of `node` with `fault`; returns the exit code."""
        self.runs += 1
        r = self.sub(step, "sync-%d" % self.runs)
        proxy = None
        url = self.master.url
        holder = {}  # what the proxy's trigger acts on: the agent run, the restart thread
        # Half the app writes during a plain run start at an exact point: when exchange k of
        # the run reached the master, the proxy holds its answer until they are done (at most
        # 1 s), so they land between two steps of the agent (after a push, before a pull).
        at_exchange = concurrent and fault == "none" and r.random() < 0.5
        if at_exchange:
            def app_writes(at, line):
                writer = holder["writer"]
                writer.start()
                writer.join(1.0)
                return "the app writes here%s" % (" (still writing after 1 s)"
                                                  if writer.is_alive() else "")

            proxy = FaultProxy(self.master.port, "trigger", target=r.randint(1, 12),
                               stage="request", on_trigger=app_writes)
            url = proxy.url
        elif fault in ("cut", "cut_request", "lose"):
            count = r.choice([1, 1, 2])  # 2: the retry is harmed too and the run fails
            if fault == "cut":
                proxy = FaultProxy(self.master.port, "cut", target=r.randint(1, 8),
                                   fraction=r.random(), count=count)
            elif fault == "cut_request":
                proxy = FaultProxy(self.master.port, "cut_request", target=r.randint(1, 3),
                                   method="POST", fraction=r.uniform(0.05, 0.95), count=count)
            else:
                proxy = FaultProxy(self.master.port, "lose", target=r.randint(1, 2),
                                   method="POST", count=count)
            url = proxy.url
        elif fault == "kill9_mid":
            stage = r.choice(["request", "answer"])
            delay = r.uniform(0.0, 0.03) if stage == "answer" else 0.0

            def kill_agent(at, line):
                time.sleep(delay)
                holder["run"].kill9(wait=False)
                return "agent SIGKILL %s %s%s" % ("while the master works on" if at == "request"
                                                  else "after the answer to", line.split()[1],
                                                  " + %.0f ms" % (delay * 1000) if delay else "")

            proxy = FaultProxy(self.master.port, "trigger", target=r.randint(1, 8),
                               stage=stage, on_trigger=kill_agent)
            url = proxy.url
        elif fault in ("master_term_mid", "master_kill_mid"):
            sig = signal.SIGTERM if fault == "master_term_mid" else signal.SIGKILL

            def restart_master(at, line):
                self.master.signal(sig)  # now, while the request is in the master's hands
                holder["code"] = None

                def restart():
                    holder["code"] = self.master.restart(sig, sent=True)

                holder["restart"] = threading.Thread(target=restart, daemon=True)
                holder["restart"].start()
                return "master %s while it works on %s" % (sig.name, line.split()[1])

            proxy = FaultProxy(self.master.port, "trigger", target=r.randint(1, 8),
                               method=r.choice([None, "POST"]), on_trigger=restart_master)
            url = proxy.url
        run = cluster.AgentRun(node.db, url, self.node_ids[node.name], self.workdir,
                               "run-%03d-%s" % (self.runs, node.name), extra)
        holder["run"] = run
        writer = self.concurrent_writes(node, r, step) if concurrent else None
        holder["writer"] = writer
        self.concurrent_log = []
        master_code = None
        code = None
        try:
            if proxy:
                proxy.__enter__()
            run.start()
            if writer and not at_exchange:
                writer.start()
            if fault == "kill9":
                time.sleep(r.uniform(0.0, 0.06))
                run.kill9()
            elif fault in ("master_term", "master_kill"):
                time.sleep(r.uniform(0.0, 0.10))
                sig = signal.SIGTERM if fault == "master_term" else signal.SIGKILL
                master_code = self.master.restart(sig)
            code = run.wait()
        finally:
            if run.proc is not None and run.code is None:
                run.wait()  # never leave an agent behind, whatever failed above
            if "restart" in holder:
                holder["restart"].join(60)
                master_code = holder["code"]
                if not self.master.running():
                    self.fail("master-server did not come back after %s" % fault)
                    self.master.start()
            if writer and writer.ident is None:
                writer.start()  # the run ended before exchange k: the app writes after it
            if writer and writer.is_alive():
                writer.join(60)
            if proxy:
                proxy.close()
        fired = ""
        if proxy:
            fired = "; proxy: " + ("; ".join(proxy.events) or "no fault fired")
            if proxy.fired and not at_exchange:
                self.stats["fired"] += 1
            if "restart" in holder:
                fired += "; master exit %r" % master_code
            if fault == "kill9_mid" and run.killed:
                fired += "; killed"
            elif fault == "kill9_mid" and proxy.fired:
                fired += "; the agent had already exited"
        elif fault == "kill9" and run.killed:
            self.stats["fired"] += 1
            fired = "; killed"
        elif fault in ("master_term", "master_kill"):
            self.stats["fired"] += 1
            fired = "; master exit %r" % master_code
        self.stats["agent_exit"][code] = self.stats["agent_exit"].get(code, 0) + 1
        # Only a run that pushes inventory takes a price edit to the master: the
        # company-settings job alone does not (seeds 31200 and 31421 of the 2,500-schedule run
        # edited the price twice around one and expected the first edit in the conflict log).
        settings_only = "--job" in extra and extra[extra.index("--job") + 1] == "company-settings"
        if code == 0 and not settings_only:
            self.synced_ok[node.name] = True
        self.log("%s %s %s%s%s -> exit %r%s" % (
            label, node.name, fault,
            " +app(%s)" % ", ".join(self.concurrent_log) if concurrent else "",
            " " + " ".join(extra) if extra else "", code, fired))
        allowed = expect if expect is not None else ALLOWED_EXIT[fault]
        if code not in allowed:
            self.fail("slave-agent run %d of %s (%s, fault %s) exited %r, expected one of %s\n"
                      "command: %s\n%s" % (self.runs, node.name, label, fault, code,
                                           sorted(allowed, key=str), " ".join(run.command),
                                           run.output()))
        if (fault == "master_term" or fault == "master_term_mid" and "restart" in holder) \
                and master_code != 0:
            self.fail("master-server exited %r on SIGTERM (expected 0)\n%s"
                      % (master_code, self.master.logs[-1][2] if self.master.logs else ""))
        return code

    # What the app does while the agent runs: (kind, weight).
    CONCURRENT = [("sale", 6), ("cancel", 1), ("edit_sale", 2), ("adjust", 1), ("edit_user", 1),
                  ("create_user", 1), ("delete_adjustment", 1)]

    def concurrent_writes(self, node, r, step):
        """A thread making 1..4 app writes on `node` (mostly sales; cancellations, sale edits,
        adjustments and their deletes, user edits and registrations too) with 0..30 ms pauses
        while the agent pushes and applies. Kinds, values and timestamps are drawn now, so the schedule stays seeded; the
        targets are picked from the node's database when the write happens."""
        count = r.randint(1, 4)
        run = self.runs
        plans = []
        for i in range(count):
            self.clock.advance(r)
            plans.append((weighted(r, self.CONCURRENT), random.Random(r.random()),
                          Clock(self.clock.now), r.uniform(0, 0.03), "%s.%d" % (step, i)))

        def work():
            conn = connect(node.db)
            try:
                for kind, op_rng, clock, pause, label in plans:
                    time.sleep(pause)
                    app = App(node, self.model, clock)
                    try:
                        if kind == "cancel":
                            what = app.cancel(op_rng, self.nodes, conn=conn)
                        elif kind == "edit_sale":
                            what = app.edit_sale(op_rng, label, self.nodes, conn=conn)
                        elif kind == "adjust":
                            # Two syncs of one step, of one node or two, can both run app
                            # writes: the agent run's number keeps their adjustments' tokens
                            # apart (seeds 62081, 62213, 64086).
                            what = app.adjust(op_rng, "%d-%s-r%d" % (self.seed, label, run))
                        elif kind == "create_user":
                            what = self.create_user(app, op_rng, label)
                        elif kind == "delete_adjustment":
                            what = app.delete_adjustment(op_rng)
                        elif kind == "edit_user":
                            users = [e for _, e, _ in app.local_users()
                                     if e in self.model.users and not self.model.users[e].frozen]
                            email = users[op_rng.randrange(len(users))] if users else None
                            what = email and app.edit_user(
                                op_rng, email, "%s e%s" % (email.split("@")[0], label),
                                self.nodes) and email
                        else:
                            what = app.sell(op_rng, stamp=clock.stamp(node), conn=conn)
                        self.concurrent_log.append("%s %s %s" % (label, kind, what))
                    except Exception as e:  # the app must never fail because of the agent
                        self.model.app_errors.append("%s: %s during a sync failed: %r"
                                                     % (node.name, kind, e))
            finally:
                conn.close()

        return threading.Thread(target=work, daemon=True)

    def sync_step(self, step):
        node = self.slaves[self.rng.randrange(SLAVES)]
        fault = weighted(self.rng, FAULTS)
        concurrent = self.rng.random() < 0.25
        job = self.rng.random()
        extra = ()
        if job < 0.08:
            extra = ("--job", "company-settings", "--force")
        elif job < 0.12:
            extra = ("--job", "all", "--force")
        self.stats["syncs"] += 1
        self.stats["faults"][fault] = self.stats["faults"].get(fault, 0) + 1
        self.agent(node, "step %d sync" % step, fault, step=step, extra=extra,
                   concurrent=concurrent)

    # --- app operations ---------------------------------------------------------------------

    def app_step(self, step):
        node = self.nodes[weighted(self.rng, [(0, 2), (1, 3), (2, 3), (3, 3)])]
        choices = [(name, w) for name, w, on_master, on_slave in OPERATIONS
                   if (on_master if node.is_master else on_slave)]
        kind = weighted(self.rng, choices)
        r = self.sub(step, "op")
        self.clock.advance(r)
        app = App(node, self.model, self.clock)
        try:
            kind, text = self.perform(step, node, app, kind, r)
        except Exception as e:
            self.fail("app operation %s on %s failed: %r\n%s" % (kind, node.name, e,
                                                                  traceback.format_exc()))
            return
        self.log("step %d %s on %s: %s" % (step, kind, node.name, text))

    def perform(self, step, node, app, kind, r):
        model = self.model
        if kind == "cancel":
            number = app.cancel(r, self.nodes)
            if number:
                return kind, "cancelled " + number
            kind = "sale"
        if kind == "delete_adjustment":
            token = app.delete_adjustment(r)
            if token:
                return kind, "deleted adjustment " + token
            kind = "adjust"
        if kind == "delete_user":
            users = [e for _, e, _ in app.local_users()
                     if e in model.users and model.users[e].disposable
                     and not model.users[e].frozen and not model.users[e].deleted]
            if users:
                email = users[r.randrange(len(users))]
                app.delete_user(email)
                return kind, "deleted user " + email
            kind = "create_user"
        if kind == "edit_user":
            users = [e for _, e, _ in app.local_users()
                     if e in model.users and not model.users[e].frozen]
            if users:
                email = users[r.randrange(len(users))]
                stamp = app.edit_user(r, email, "%s e%d" % (email.split("@")[0], step),
                                      self.nodes)
                return kind, "renamed %s at %s" % (email, stamp)
            kind = "sale"
        if kind == "conflict":
            text = self.deliberate_conflict(step, r)
            if text:
                return kind, text
            kind = "sale"
        if kind == "edit_sale":
            number = app.edit_sale(r, step, self.nodes)
            if number:
                v = model.sales[number].versions[-1]
                return kind, "edited %s: %s / %s at %s" % (number, v.customer, v.notes, v.stamp)
            kind = "sale"
        if kind == "company_settings":
            name = app.edit_company_settings(r, step)
            return kind, "company settings: %s%s" % (name, "" if node.is_master
                                                     else " (must lose)")
        if kind == "price":
            if not node.is_master and not self.synced_ok.get(node.name, True):
                # The node's previous price edit may never have left it (no run of the node
                # succeeded since): only a version that reached the master must be logged.
                mine = [i for i, p in enumerate(model.slave_prices) if p[0] == node.name]
                del model.slave_prices[mine[-1]]
            price = app.set_price(r)
            if not node.is_master:
                self.synced_ok[node.name] = False
            return kind, "price_per_kg %s%s" % (price, "" if node.is_master else " (must lose)")
        if kind == "create_user":
            return kind, self.create_user(app, r, step)
        if kind == "adjust":
            token = "%d-%d" % (self.seed, step)
            app.adjust(r, token)
            return kind, "adjustment %s %+s" % (token, model.adjustments[token].delta)
        number = app.sell(r)
        sale = model.sales[number]
        return kind, "sale %s %s kg by %s" % (number, sale.qty, sale.cashier_email)

    def create_user(self, app, r, label):
        """A user registered at `app`'s node; a quarter of the time the same person registered
        at a second node before it pulled the first registration (one user at the master:
        users.email is its natural key)."""
        model = self.model
        local = set(e for _, e, _ in app.local_users())
        elsewhere = sorted(e for e, u in model.users.items()
                           if e not in local and not u.deleted and not u.disposable
                           and not u.frozen)
        if elsewhere and r.random() < 0.25:
            email = elsewhere[r.randrange(len(elsewhere))]
            if not app.create_user(r, email, False, name="%s again by %s"
                                   % (email.split("@")[0], app.node.name)):
                return "%s already pulled: not registered again" % email
            return "created %s again (already made elsewhere)" % email
        email = "u%s-%s@conv.test" % (label, app.node.tag)
        disposable = r.random() < 0.4
        app.create_user(r, email, disposable)
        return "created %s%s" % (email, " (disposable)" if disposable else "")

    def deliberate_conflict(self, step, r):
        """Two nodes rename the same user to different names before either syncs."""
        a, b = r.sample(self.nodes, 2)
        apps = [App(n, self.model, self.clock) for n in (a, b)]
        common = sorted(set(e for _, e, _ in apps[0].local_users()) &
                        set(e for _, e, _ in apps[1].local_users()))
        common = [e for e in common if e in self.model.users and not self.model.users[e].frozen
                  and not self.model.users[e].deleted]
        if not common:
            return None
        email = common[r.randrange(len(common))]
        self.model.users[email].frozen = True
        versions = []
        for node, app in zip((a, b), apps):
            name = "%s conflict %d by %s" % (email.split("@")[0], step, node.name)
            stamp = app.edit_user(r, email, name, self.nodes)
            versions.append((node.name, name, stamp))
        self.model.conflicts.append(Conflict("users", email, versions))
        return "conflict on %s: %s" % (email, versions)

    # --- the schedule -----------------------------------------------------------------------

    def quiet_round(self):
        for rnd in range(2):
            for node in self.slaves:
                self.agent(node, "quiet %d" % (rnd + 1), "none", expect={0})
        for node in self.slaves:
            self.agent(node, "quiet 3", "none", expect={0}, extra=("--job", "all", "--force"))

    def run(self):
        started = self.t0 = time.monotonic()
        try:
            self.setup()
            if not self.failures:
                for step in range(self.ops):
                    self.app_step(step)
                    for _ in range(weighted(self.rng, [(0, 4), (1, 5), (2, 1)])):
                        self.sync_step(step)
                if not self.master.running():
                    self.fail("master-server is not running before the quiet round")
                    self.master.start()
                self.quiet_round()
                self.check()
        except Exception as e:
            self.fail("harness error: %r\n%s" % (e, traceback.format_exc()))
        finally:
            self.teardown()
        self.elapsed = time.monotonic() - started
        return not self.failures

    def check(self):
        for error in self.model.app_errors:
            self.fail(error)
        result = checker.check(self.nodes, self.model)
        for text in result.failures:
            self.fail(text)
        self.skipped.extend(result.skipped)
        self.stats["conflicts"] = result.conflicts_logged

    def teardown(self):
        if self.master is not None and self.master.running():
            try:
                code = self.master.stop(signal.SIGTERM)
                if code != 0:
                    self.fail("master-server exited %r on the final SIGTERM\n%s"
                              % (code, self.master.logs[-1][2]))
            except Exception as e:
                self.fail("master-server did not stop: %r" % e)
                self.master.kill()
        if self.workdir and not self.keep and not self.failures:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def report(self):
        lines = ["seed %d: %d failure(s)" % (self.seed, len(self.failures))]
        lines += ["  " + f.replace("\n", "\n    ") for f in self.failures]
        lines.append("  trace:")
        lines += ["    " + t for t in self.trace]
        if self.workdir and os.path.isdir(self.workdir):
            lines.append("  files kept in " + self.workdir)
        return "\n".join(lines)
