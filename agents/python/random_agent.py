#!/usr/bin/python3
"""A random recommender for recarena, on recarena.client: k distinct live
items per request, uniformly at random, drawn from the agent's seeded
generator (so a run replays exactly). The baseline every learning agent
must beat.

    [agent.rnd]
    command = /usr/bin/python3 agents/python/random_agent.py
"""

import numpy as np

import recarena.client as rc  # the package beside this file, or installed


class RandomAgent(rc.Agent):
    def on_step(self, step):
        n, k, items = step.requests.n, self.welcome.slate_size, self.catalog.ids
        # k distinct columns per row: the k smallest of n x len(items) uniforms
        keys = self.rng.random((n, len(items)))
        return items[np.argpartition(keys, k - 1, axis=1)[:, :k]]


if __name__ == "__main__":
    raise SystemExit(rc.run(RandomAgent()))
