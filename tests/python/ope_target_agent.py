#!/usr/bin/python3
"""A stationary stochastic recommender for the off-policy truth test
(test_ope.py): it runs, on-policy, a target policy of recarena.ope built
by make_target from $OPE_TARGET = "KIND:PARAM:WSEED" (KIND egreedy, PARAM
epsilon; KIND softmax, PARAM temperature), scoring item a for features x
as x . W[:, a] with W ~ N(0, 1) from WSEED. Items must be ids 0..n-1 (a
static catalog)."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "agents", "python"))
import recarena.client as rc  # noqa: E402
import recarena.ope as ope  # noqa: E402


def make_target(spec, n_items, k, dim):
    kind, param, wseed = spec.split(":")
    w = np.random.default_rng(int(wseed)).normal(size=(dim, n_items))

    def scores(x):
        return np.asarray(x, dtype=np.float64) @ w

    if kind == "egreedy":
        return ope.EpsilonGreedy(lambda x: np.argsort(-scores(x), axis=1, kind="stable"),
                                 float(param), n_items, k)
    if kind == "softmax":
        return ope.Softmax(scores, float(param), k)
    raise ValueError(f"OPE_TARGET kind {kind!r}: egreedy or softmax")


class TargetAgent(rc.Agent):
    target = None

    def on_step(self, step):
        ids = self.catalog.ids
        if not np.array_equal(ids, np.arange(len(ids))):
            raise SystemExit("ope_target_agent: the catalog must be ids 0..n-1")
        x = step.requests.features
        if self.target is None:
            self.target = make_target(os.environ["OPE_TARGET"], len(ids),
                                      self.welcome.slate_size, x.shape[1])
        return self.target.sample(x, self.rng)


if __name__ == "__main__":
    raise SystemExit(rc.run(TargetAgent()))
