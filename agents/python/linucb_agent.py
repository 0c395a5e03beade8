#!/usr/bin/python3
"""LinUCB for recarena, in Python with numpy, on recarena.client.

One linear model shared by all items (Li et al. 2010's LinUCB with a
shared parameter vector), over a context built from the user's public
features f (dim) and the item's public embedding e (dim):

    z(u, i) = [f_u * e_i, e_i]                    (2 dim; * elementwise)
    score(u, i) = theta . z + alpha * sqrt(z' A^-1 z)
    A = lam I + sum z z',   b = sum r z,   theta = A^-1 b

The first half learns how much each direction of agreement between the
user and the item matters (the world's click score is x_u . e_i, and f is
a noisy view of x_u); the second a global taste for regions of the
embedding space. The slate is the k items of highest score, best first.

Because the model is shared, new items (STEP.born) are scored from their
embeddings at once (no cold start per item) and retired ones simply leave
the catalog the client keeps. Updates use the clicked position as a
cascade: the clicked item counts as reward 1, the items above it as 0;
a page without a click counts 0 for all k items.

    [agent.linucb]
    command = /usr/bin/python3 agents/python/linucb_agent.py --alpha 0.5

Options: --alpha (exploration, default 0.5), --lam (ridge, default 1.0),
--candidates (items scored with the exploration bonus per request, the
best by mean first; 0 = all; default 0).
"""

import numpy as np

import recarena.client as rc  # the package beside this file, or installed


class LinUCB(rc.Agent):
    options = {"alpha": 0.5, "lam": 1.0, "candidates": 0}

    def on_welcome(self, welcome):
        if getattr(self, "A", None) is None:          # keep what was learnt over reconnections
            d = 2 * welcome.dim
            self.A = self.lam * np.eye(d)
            self.b = np.zeros(d)
            self.A_inv = np.linalg.inv(self.A)
            self.theta = np.zeros(d)
        self.pending = None

    def on_reset(self, catalog):
        # a new episode or a resync: the next feedback is not about our slates
        self.pending = None

    def learn(self, feedback):
        """Updates the model from the feedback of our previous slates."""
        p, self.pending = self.pending, None
        if p is None or feedback.n == 0 or not np.array_equal(feedback.user_ids, p["users"]):
            return
        k = p["emb"].shape[1]
        clicked = feedback.clicked.astype(np.int64)
        pos = np.arange(k)
        # cascade: rows up to and including the click; all k without a click
        seen = np.where(clicked[:, None] >= 0, pos[None, :] <= clicked[:, None], True)
        reward = (pos[None, :] == clicked[:, None]) * feedback.reward[:, None].astype(np.float64)
        f = np.repeat(p["features"][:, None, :], k, axis=1)[seen]      # (N, dim)
        e = p["emb"][seen]                                              # (N, dim)
        z = np.concatenate([f * e, e], axis=1).astype(np.float64)       # (N, 2 dim)
        self.A += z.T @ z
        self.b += z.T @ reward[seen]
        self.A_inv = np.linalg.inv(self.A)
        self.theta = self.A_inv @ self.b

    def on_step(self, step):
        self.learn(step.feedback)
        req, items, k = step.requests, self.catalog, self.welcome.slate_size
        n, dim = req.n, self.welcome.dim
        if n == 0:
            return np.zeros((0, k), dtype=np.int32)
        F = req.features.astype(np.float64)                             # (n, dim)
        E = items.embeddings.astype(np.float64)                         # (m, dim)
        t1, t2 = self.theta[:dim], self.theta[dim:]
        mean = (F * t1) @ E.T + E @ t2                                  # (n, m)
        # z' M z with z = [f * e, e] = P_u e, P_u = [diag(f); I]:
        #   e' (D M11 D + D M12 + M21 D + M22) e,  D = diag(f_u)
        M = self.A_inv
        M11, M12, M21, M22 = M[:dim, :dim], M[:dim, dim:], M[dim:, :dim], M[dim:, dim:]
        cand = None
        if 0 < self.candidates < len(items):
            cand = np.argpartition(-mean, self.candidates - 1, axis=1)[:, :self.candidates]
        Q = (F[:, :, None] * M11 * F[:, None, :] + F[:, :, None] * M12 + M21 * F[:, None, :]
             + M22)                                                     # (n, dim, dim)
        if cand is None:
            var = np.einsum("md,ndc,mc->nm", E, Q, E, optimize=True)
            score = mean + self.alpha * np.sqrt(np.maximum(var, 0.0))
            top = np.argpartition(-score, k - 1, axis=1)[:, :k]
        else:
            Ec = E[cand]                                                # (n, c, dim)
            var = np.einsum("ncd,ndb,ncb->nc", Ec, Q, Ec, optimize=True)
            score_c = np.take_along_axis(mean, cand, 1) + self.alpha * np.sqrt(np.maximum(var, 0.0))
            best = np.argpartition(-score_c, k - 1, axis=1)[:, :k]
            top = np.take_along_axis(cand, best, 1)
            score = np.full(mean.shape, -np.inf)
            np.put_along_axis(score, cand, score_c, 1)
        order = np.argsort(-np.take_along_axis(score, top, 1), axis=1)  # best first
        top = np.take_along_axis(top, order, 1)
        self.pending = {"users": req.user_ids.copy(), "features": F,
                        "emb": E[top]}                                  # (n, k, dim)
        return items.ids[top]

    def on_episode_end(self, end):
        self.learn(end.feedback)


if __name__ == "__main__":
    raise SystemExit(rc.run(LinUCB()))
