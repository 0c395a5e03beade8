"""recarena.candidates: the fixed-shape view of a changing catalog.

The live catalog grows and shrinks during an episode, but a learner wants
fixed shapes. A candidate table is C rows: up to C live items (all of them
when there are at most C, else C drawn at random without replacement from
a seeded generator, in id order), padded with id -1, a zero embedding and
mask 0. An action is then k row indices per request, and
slates_from_rows turns it into k distinct live item ids: rows that are
padding or repeat an earlier one are replaced, left to right, by the
lowest unused live rows. So every action of the space is valid by
construction, and a learner that picks k distinct live rows gets exactly
them.
"""
import numpy as np


class CandidateTable:
    """C candidate rows: ids int32 (C,) (-1 = padding), embeddings float32
    (C, dim), topics int32 (C,), mask int8 (C,) (1 = a live item)."""

    def __init__(self, capacity, dim):
        self.capacity, self.dim = int(capacity), int(dim)
        self.ids = np.full(self.capacity, -1, dtype=np.int32)
        self.embeddings = np.zeros((self.capacity, self.dim), dtype=np.float32)
        self.topics = np.full(self.capacity, -1, dtype=np.int32)
        self.mask = np.zeros(self.capacity, dtype=np.int8)

    def fill(self, catalog, rng):
        """Refills the table from a recarena.client.Catalog; rng draws the
        subset when the catalog holds more than C items."""
        n = len(catalog.ids)
        if n > self.capacity:
            rows = np.sort(rng.choice(n, self.capacity, replace=False))
        else:
            rows = np.arange(n)
        m = len(rows)
        self.ids[:m] = catalog.ids[rows]
        self.ids[m:] = -1
        self.embeddings[:m] = catalog.embeddings[rows]
        self.embeddings[m:] = 0.0
        self.topics[:m] = catalog.topics[rows]
        self.topics[m:] = -1
        self.mask[:m] = 1
        self.mask[m:] = 0

    def __repr__(self):
        return f"CandidateTable({int(self.mask.sum())} live of {self.capacity}, dim={self.dim})"


def slates_from_rows(rows, table):
    """rows: int (n, k) indices into the table -> int32 (n, k) item ids,
    k distinct live items per row (see the module's documentation).
    Raises ValueError when the table holds fewer than k live items."""
    rows = np.asarray(rows, dtype=np.int64)
    n, k = rows.shape
    if n == 0:
        return np.zeros((0, k), dtype=np.int32)
    if int(table.mask.sum()) < k:
        raise ValueError(f"{int(table.mask.sum())} live candidates, fewer than the slate's {k}")
    cap = table.capacity
    inside = (rows >= 0) & (rows < cap)
    safe = np.where(inside, rows, 0)
    bad = ~inside | (table.mask[safe] == 0)
    for j in range(1, k):          # a repeat of an earlier good row in the same slate
        bad[:, j] |= ((safe[:, :j] == safe[:, j:j + 1]) & ~bad[:, :j]).any(axis=1)
    if bad.any():
        which = np.flatnonzero(bad.any(axis=1))
        sub, sub_bad = safe[which], bad[which]
        used = np.zeros((len(which), cap), dtype=bool)
        r, c = np.nonzero(~sub_bad)
        used[r, sub[r, c]] = True
        free = (table.mask[None, :] == 1) & ~used
        order = np.argsort(~free, axis=1, kind="stable")     # free rows first, ascending
        rank = np.cumsum(sub_bad, axis=1) - 1
        sub[sub_bad] = np.take_along_axis(order, np.maximum(rank, 0), axis=1)[sub_bad]
        safe[which] = sub
    return table.ids[safe]
