"""Deterministic reproductions of bugs the convergence harness found that are NOT fixed yet.

Not registered in ctest: every test here fails today, on purpose (the honest expectation). When
a fix lands, its test moves to test_regressions.py (or beside the code it fixes) and leaves
this file. Run: python3 -m unittest -v repro_open_bugs (in this folder, with RUXX_MASTER_SERVER
and RUXX_SLAVE_AGENT set, or a build in the checkout). docs/TESTING.md, "Convergence harness",
lists the seeds that hit each bug.
"""

import os
import random
import sys
import unittest
from datetime import timedelta
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

from operations import START_STOCK, Node  # noqa: E402
from test_regressions import RegressionCase  # noqa: E402


class LostCancellationKeepsItsGasTest(RegressionCase):
    """Open bug (b) (harness seeds: docs/TESTING.md, "Open bugs it finds"): a depot cancels a sale (status
    'cancelled', the gas given back to the tank) while another depot, whose clock is ahead,
    edits the same sale (a receipt correction) and syncs first. At the master the cancellation
    has the older updated_at and loses last-writer-wins (push_apply: it is logged as the losing
    version, the master keeps 'completed'), but the stock it gave back travelled as a counter
    delta of inventory and was added all the same: the master's tank holds the gas of a sale
    it still counts as sold (stock off by the sale's quantity), and the pull then puts
    'completed' back at the depot that cancelled it."""

    def test_a_cancellation_that_loses_a_conflict_keeps_neither_status_nor_gas(self):
        behind = Node("slave-1", os.path.join(self.tmp, "slave-1.sqlite"), timedelta(minutes=-5),
                      False, "s1")
        ahead = Node("slave-2", os.path.join(self.tmp, "slave-2.sqlite"), timedelta(minutes=5),
                     False, "s2")
        for node in (behind, ahead):
            self.sync(node)  # provisioned from the master
        rng = random.Random(7)
        number = self.app(behind).sell(rng)
        qty = self.model.sales[number].qty
        self.sync(behind)  # the sale reaches the master
        self.sync(ahead)  # and the other depot
        self.clock.advance(rng)
        self.app(ahead).edit_sale(rng, "fix", [self.master_node, behind, ahead])
        self.sync(ahead)  # the edit wins at the master (newest updated_at)
        self.clock.advance(rng)
        self.assertEqual(self.app(behind).cancel(rng, [self.master_node, behind, ahead]), number)
        self.sync(behind)  # the cancellation is older (clock 5 min behind): it loses
        for node in (behind, ahead):
            self.sync(node)

        status = self.table(self.master_node, "SELECT status FROM transactions "
                                              "WHERE transaction_number = '%s'" % number)
        stock = Decimal(repr(float(self.table(self.master_node, "SELECT current_stock FROM "
                                                                "inventory")[0][0])))
        completed = qty if status == [("completed",)] else Decimal(0)
        self.assertEqual(stock.quantize(Decimal("0.01")), START_STOCK - completed,
                         "the master's stock must match the sales it holds as completed "
                         "(status there: %s, sale of %s kg)" % (status, qty))
        self.assertEqual(status, [("cancelled",)],
                         "a cancellation must not be reverted by conflict resolution")


    def test_a_cancellation_at_the_master_overwritten_by_a_newer_depot_edit(self):
        """The same rule met at the master (seed 75): the master's app cancels a sale (gas
        back in the master's tank, a local write) that a depot whose clock is ahead edited
        meanwhile; the depot's push has the newer updated_at and wins, putting 'completed'
        back, while the gas stays in the tank."""
        ahead = Node("slave-1", os.path.join(self.tmp, "slave-1.sqlite"), timedelta(minutes=5),
                     False, "s1")
        self.sync(ahead)
        rng = random.Random(75)
        number = self.app(ahead).sell(rng)
        qty = self.model.sales[number].qty
        self.sync(ahead)
        self.clock.advance(rng)
        self.app(ahead).edit_sale(rng, "fix", [self.master_node, ahead])
        self.clock.advance(rng)
        self.assertEqual(self.app(self.master_node).cancel(rng, [self.master_node, ahead]),
                         number)
        self.sync(ahead)  # the depot's edit is stamped 5 min ahead: newer than the cancellation
        self.sync(ahead)

        status = self.table(self.master_node, "SELECT status FROM transactions "
                                              "WHERE transaction_number = '%s'" % number)
        stock = Decimal(repr(float(self.table(self.master_node, "SELECT current_stock FROM "
                                                                "inventory")[0][0])))
        completed = qty if status == [("completed",)] else Decimal(0)
        self.assertEqual(stock.quantize(Decimal("0.01")), START_STOCK - completed,
                         "the master's stock must match the sales it holds as completed "
                         "(status there: %s, sale of %s kg)" % (status, qty))
        self.assertEqual(status, [("cancelled",)],
                         "a cancellation must not be reverted by conflict resolution")


if __name__ == "__main__":
    unittest.main()
