#!/usr/bin/python3
"""A test agent for the protocol 1.2 fields (test_wire_fields.sh): at each
CATALOG it writes the titles it received to --dump (JSON: item id ->
title, or null when the CATALOG has none), and it answers every STEP
with uniformly random slates and their exact probability,
1 / (N (N-1) ... (N-k+1)) over the N live items, as ACT.propensity."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../agents/python"))
import numpy as np  # noqa: E402

import recarena.client as rc  # noqa: E402


class WireFieldsAgent(rc.Agent):
    options = {"dump": ""}

    def on_reset(self, catalog):
        if self.dump and catalog.tick == 0:
            titles = None if catalog.titles is None else {
                str(int(i)): t for i, t in zip(catalog.ids, catalog.titles)}
            with open(self.dump, "w", encoding="utf-8") as f:
                json.dump({"repr": repr(catalog), "titles": titles}, f)

    def on_step(self, step):
        n, k, items = step.requests.n, self.welcome.slate_size, self.catalog.ids
        keys = self.rng.random((n, len(items)))
        slates = items[np.argpartition(keys, k - 1, axis=1)[:, :k]]
        # argpartition leaves the k in no random order: shuffle each row
        slates = self.rng.permuted(slates, axis=1)
        p = 1.0
        for i in range(k):
            p /= len(items) - i
        return rc.Action(slates, np.full(n, p))


if __name__ == "__main__":
    raise SystemExit(rc.run(WireFieldsAgent()))
