"""recarena.ope: off-policy estimates of a target policy's value from a run
log (log.npz, `run.log = true`, docs/logging.md).

    import recarena.ope as ope
    log = ope.Log.load("runs/x/log.npz", agent=0)         # the logging agent's rows
    target = ope.EpsilonGreedy(greedy, epsilon=0.2, n_items=log.n_items, k=log.k)
    est = ope.evaluate(log, target)                       # {"ips": Estimate, "snips": ..., "dr": ...}
    est["ips"].value, est["ips"].low, est["ips"].high     # value per request and its 95% CI

Two levels, both on numpy alone:

- slate level (`evaluate(..., level="slate")`, the default): one row per
  request; the weight is the target's probability of the logged slate over
  the logged propensity (the `propensity` column); the value is expected
  credited clicks per request. Unbiased for any click model, as long as the
  logging policy gives every slate the target can show a propensity > 0.
- position level (`level="position"`): one row per (request, position), as
  the Open Bandit Pipeline's slate format has it; the weight is the
  target's probability of the logged item at that position over the
  logging policy's; the value is the mean click per position-row (OBP's
  definition: times k for clicks per request). It assumes a click at one
  position does not depend on the items at the others, which the world's
  multinomial logit breaks for k > 1 (docs/experiments.md measures it).

Doubly robust takes a reward model (`fit_reward_model`): a ridge
regression per (item, position) of the click on [1, features]; at slate
level it is additive over positions.

Confidence intervals are normal ones, 95%: the estimate plus or minus
1.96 standard errors of the per-row terms (SNIPS by the delta method).
Rows are treated as independent given the users, which holds for a
stationary world (no satiation, drift, arrivals or churn: the truth test's
scenario, tests/python/test_ope.py).

A target policy is any object with `slate_prob(features, slates)` ->
(n,) probabilities of the given slates, and for DR and the position level
`action_dist(features)` -> (n, n_items, k): the probability of each item at
each position (OBP's action_dist). `sample(features, rng)` -> (n, k) lets
the same object run on-policy as an agent. Shipped: UniformRandom (the
built-in and bandit `random`), EpsilonGreedy (the bandit's epsilon-greedy
given its ranking: per position, explore with probability epsilon among the
items not yet shown, else the next best), Softmax (a Plackett-Luce ranking
of scores), Deterministic (popularity, ideal, any fixed ranking). Items are
ids 0..n_items-1: a static catalog (`item_arrival_rate = 0`).
"""
from collections import namedtuple

import numpy as np

#: the normal quantile of a two-sided 95% interval
Z95 = 1.959963984540054

Estimate = namedtuple("Estimate", "value low high se n")
Estimate.__doc__ = "An estimate: value, its 95% CI [low, high], standard error, rows used."


def _estimate(terms, value=None):
    terms = np.asarray(terms, dtype=np.float64)
    n = len(terms)
    if value is None:
        value = float(terms.mean())
    se = float(terms.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
    return Estimate(float(value), value - Z95 * se, value + Z95 * se, se, n)


class Log:
    """One agent's rows of a log.npz: features (n, dim), slate (n, k),
    propensity (n,), clicked (n,) (position credited, -1 none), reward (n,)
    (credited clicks), user, tick, episode (n,). n_items: the catalog size
    (default: the largest logged id + 1)."""

    def __init__(self, features, slate, propensity, clicked, reward, n_items=None, user=None,
                 tick=None, episode=None):
        self.features = np.asarray(features, dtype=np.float64)
        n = len(self.features)
        self.slate = np.asarray(slate, dtype=np.int64).reshape(n, -1)
        self.propensity = np.asarray(propensity, dtype=np.float64)
        self.clicked = np.asarray(clicked, dtype=np.int64)
        self.reward = np.asarray(reward, dtype=np.float64)
        self.n_items = int(n_items) if n_items is not None else int(self.slate.max()) + 1
        self.user, self.tick, self.episode = user, tick, episode

    @classmethod
    def load(cls, path, agent=0, n_items=None):
        """The rows of agent index `agent` (the scenario's order) in a log.npz."""
        d = np.load(path)
        m = d["agent"] == agent
        if not m.any():
            raise ValueError(f"{path}: no rows of agent {agent}")
        return cls(d["features"][m], d["slate"][m], d["propensity"][m], d["clicked"][m],
                   d["reward"][m], n_items, d["user"][m], d["tick"][m], d["episode"][m])

    @property
    def n(self):
        return len(self.reward)

    @property
    def k(self):
        return self.slate.shape[1]

    def position_clicks(self):
        """(n, k): 1 where the logged slate's position got the click."""
        return (self.clicked[:, None] == np.arange(self.k)[None, :]).astype(np.float64)


def _falling(n, k):
    out = 1.0
    for i in range(k):
        out *= n - i
    return out


class UniformRandom:
    """k distinct items of n_items uniformly, in random order: the built-in
    and the bandit `random` policy."""

    def __init__(self, n_items, k):
        self.n_items, self.k = n_items, k

    def slate_prob(self, features, slates):
        return np.full(len(slates), 1.0 / _falling(self.n_items, self.k))

    def action_dist(self, features):
        return np.full((len(features), self.n_items, self.k), 1.0 / self.n_items)

    def sample(self, features, rng):
        keys = rng.random((len(features), self.n_items))
        return np.argsort(keys, axis=1)[:, :self.k]


class EpsilonGreedy:
    """The bandit's epsilon-greedy (agents/bandit/bandit.c s_egreedy_slate)
    on a ranking: position by position, with probability epsilon a uniform
    item not yet in the slate, else the next item of the ranking not yet in
    it. ranking(features) -> (n, >= k) item ids, best first. epsilon = 0 is
    the deterministic ranking."""

    def __init__(self, ranking, epsilon, n_items, k):
        self.ranking, self.epsilon, self.n_items, self.k = ranking, float(epsilon), n_items, k

    def _ranks(self, features):
        return np.asarray(self.ranking(features), dtype=np.int64)

    def slate_prob(self, features, slates):
        """Exact: a sum over the explore/greedy patterns, kept as the
        distribution of the ranking pointer (the next rank to try)."""
        ranks, slates = self._ranks(features), np.asarray(slates, dtype=np.int64)
        eps, n_items = self.epsilon, self.n_items
        out = np.empty(len(slates))
        for r in range(len(slates)):
            rank, s = ranks[r], slates[r]
            states = {0: 1.0}  # ranking pointer -> probability
            for i in range(len(s)):
                shown = set(s[:i].tolist())
                nxt = {}
                for ptr, p in states.items():
                    if eps > 0:  # explore: uniform over the n_items - i unshown
                        nxt[ptr] = nxt.get(ptr, 0.0) + p * eps / (n_items - i)
                    q = ptr  # greedy: the next ranked item not shown
                    while q < len(rank) and rank[q] in shown:
                        q += 1
                    if eps < 1 and q < len(rank) and rank[q] == s[i]:
                        nxt[q + 1] = nxt.get(q + 1, 0.0) + p * (1 - eps)
                states = nxt
            out[r] = sum(states.values())
        return out

    def action_dist(self, features):
        ranks = self._ranks(features)
        n = len(ranks)
        if self.k == 1:
            dist = np.full((n, self.n_items, 1), self.epsilon / self.n_items)
            dist[np.arange(n), ranks[:, 0], 0] += 1 - self.epsilon
            return dist
        return _monte_carlo_dist(self, features, 256, self.n_items, self.k)

    def sample(self, features, rng):
        ranks = self._ranks(features)
        n = len(ranks)
        out = np.empty((n, self.k), dtype=np.int64)
        for r in range(n):
            shown, ptr = [], 0
            for _ in range(self.k):
                if rng.random() < self.epsilon:
                    rest = np.setdiff1d(np.arange(self.n_items), shown)
                    pick = int(rest[rng.integers(len(rest))])
                else:
                    while ranks[r, ptr] in shown:
                        ptr += 1
                    pick = int(ranks[r, ptr])
                    ptr += 1
                shown.append(pick)
            out[r] = shown
        return out


def Deterministic(ranking, n_items, k):
    """A fixed ranking (popularity's, the ideal one, any): probability 1 of
    its top k, 0 of every other slate."""
    return EpsilonGreedy(ranking, 0.0, n_items, k)


class Softmax:
    """A Plackett-Luce ranking: items drawn without replacement with
    probability proportional to exp(score / temperature). scores(features)
    -> (n, n_items). temperature -> infinity is uniform random."""

    def __init__(self, scores, temperature, k, draws=256, seed=0):
        self.scores, self.temperature, self.k = scores, float(temperature), k
        self.draws, self.seed = draws, seed

    def _logits(self, features):
        z = np.asarray(self.scores(features), dtype=np.float64) / self.temperature
        return z - z.max(axis=1, keepdims=True)

    def slate_prob(self, features, slates):
        z = np.exp(self._logits(features))
        slates = np.asarray(slates, dtype=np.int64)
        rows = np.arange(len(z))
        p = np.ones(len(z))
        for j in range(slates.shape[1]):
            p *= z[rows, slates[:, j]] / z.sum(axis=1)
            z[rows, slates[:, j]] = 0.0
        return p

    def action_dist(self, features):
        z = np.exp(self._logits(features))
        if self.k == 1:
            return (z / z.sum(axis=1, keepdims=True))[:, :, None]
        return _monte_carlo_dist(self, features, self.draws, z.shape[1], self.k)

    def sample(self, features, rng):
        z = self._logits(features)
        gumbel = -np.log(-np.log(rng.random(z.shape)))
        return np.argsort(-(z + gumbel), axis=1)[:, :self.k]


def _monte_carlo_dist(policy, features, draws, n_items, k, seed=0):
    """(n, n_items, k) position marginals from `draws` samples of the policy
    (a fixed seed, so an estimate replays)."""
    rng = np.random.default_rng(seed)
    n = len(features)
    dist = np.zeros((n, n_items, k))
    rows = np.arange(n)
    for _ in range(draws):
        s = policy.sample(features, rng)
        for j in range(k):
            dist[rows, s[:, j], j] += 1.0
    return dist / draws


class Logged:
    """The logging policy itself, from the propensity column (slate level
    only): the target whose value is the log's mean reward."""

    def __init__(self, log):
        self._p = log.propensity

    def slate_prob(self, features, slates):
        return self._p


class RewardModel:
    """Ridge regressions of the click at each (item, position) on
    [1, features]: predict(features) -> (n, n_items, k)."""

    def __init__(self, coef):
        self.coef = coef  # (n_items, k, 1 + dim)

    def predict(self, features):
        x = np.hstack([np.ones((len(features), 1)), np.asarray(features, dtype=np.float64)])
        return np.einsum("nd,akd->nak", x, self.coef)


def fit_reward_model(log, ridge=1.0):
    """A RewardModel fitted on the log's own rows (the features, each
    position's item and its click)."""
    x = np.hstack([np.ones((log.n, 1)), log.features])
    d = x.shape[1]
    clicks = log.position_clicks()
    coef = np.zeros((log.n_items, log.k, d))
    reg = ridge * np.eye(d)
    reg[0, 0] = 0.0 if ridge > 0 else reg[0, 0]
    for j in range(log.k):
        for a in range(log.n_items):
            m = log.slate[:, j] == a
            if m.sum() == 0:
                continue
            xa = x[m]
            coef[a, j] = np.linalg.solve(xa.T @ xa + reg + 1e-9 * np.eye(d), xa.T @ clicks[m, j])
    return RewardModel(coef)


def ips(reward, weight):
    """Inverse propensity scoring: mean(w r)."""
    return _estimate(np.asarray(weight) * np.asarray(reward))


def snips(reward, weight):
    """Self-normalised IPS: sum(w r) / sum(w); CI by the delta method."""
    w, r = np.asarray(weight, dtype=np.float64), np.asarray(reward, dtype=np.float64)
    value = float((w * r).sum() / w.sum())
    return _estimate(w * (r - value) / w.mean() + value, value)


def dr(reward, weight, q_logged, q_target):
    """Doubly robust: mean(q_target + w (r - q_logged)), where q_logged is
    the model's reward of the logged action and q_target its expectation
    under the target."""
    return _estimate(np.asarray(q_target) + np.asarray(weight) *
                     (np.asarray(reward) - np.asarray(q_logged)))


def position_rows(log, target, logging=None, reward_model=None):
    """The position-level rows (n * k, request-major): reward, weight,
    q_logged, q_target (None without a reward model) and the pieces of
    OBP's bandit_feedback. logging: the logging policy's action_dist
    provider (default UniformRandom, the built-in random)."""
    logging = logging or UniformRandom(log.n_items, log.k)
    n, k = log.n, log.k
    rows = np.repeat(np.arange(n), k)
    pos = np.tile(np.arange(k), n)
    action = log.slate.reshape(-1)
    pi = target.action_dist(log.features)
    pscore = logging.action_dist(log.features)[rows, action, pos]
    out = {"reward": log.position_clicks().reshape(-1), "weight": pi[rows, action, pos] / pscore,
           "pscore": pscore, "action": action, "position": pos, "rows": rows,
           "action_dist": pi[rows], "q_logged": None, "q_target": None, "q_hat": None}
    if reward_model is not None:
        q = reward_model.predict(log.features)[rows]  # (n*k, n_items, k)
        out["q_hat"] = q
        out["q_logged"] = q[np.arange(n * k), action, pos]
        out["q_target"] = (pi[rows] * q).sum(axis=1)[np.arange(n * k), pos]
    return out


def evaluate(log, target, reward_model=None, level="slate", logging=None):
    """IPS, SNIPS and (with target.action_dist) DR estimates of the target's
    value: {"ips": Estimate, "snips": ..., "dr": ...}. reward_model: for DR,
    default fit_reward_model(log); pass False for no DR."""
    if reward_model is None and hasattr(target, "action_dist"):
        reward_model = fit_reward_model(log)
    out = {}
    if level == "slate":
        w = target.slate_prob(log.features, log.slate) / log.propensity
        if not np.all(np.isfinite(w)):
            raise ValueError("the log has rows without a propensity (NaN): the logging agent "
                             "did not report them")
        out["ips"], out["snips"] = ips(log.reward, w), snips(log.reward, w)
        if reward_model:
            q = reward_model.predict(log.features)  # (n, n_items, k)
            rows = np.arange(log.n)[:, None]
            q_logged = q[rows, log.slate, np.arange(log.k)[None, :]].sum(axis=1)
            q_target = (target.action_dist(log.features) * q).sum(axis=(1, 2))
            out["dr"] = dr(log.reward, w, q_logged, q_target)
        return out
    if level != "position":
        raise ValueError(f"level {level!r}: 'slate' or 'position'")
    p = position_rows(log, target, logging, reward_model or None)
    out["ips"], out["snips"] = ips(p["reward"], p["weight"]), snips(p["reward"], p["weight"])
    if reward_model:
        out["dr"] = dr(p["reward"], p["weight"], p["q_logged"], p["q_target"])
    return out


def to_obp(log, target=None, logging=None, reward_model=None):
    """The log as the Open Bandit Pipeline's bandit_feedback dict (one round
    per (request, position)): n_rounds, n_actions, action, position,
    reward, pscore, context, action_context; with a target also
    "action_dist" (n_rounds, n_actions, k) and with a reward model
    "estimated_rewards_by_reg_model" (same shape), the arguments OBP's
    estimators take."""
    target = target or UniformRandom(log.n_items, log.k)
    p = position_rows(log, target, logging, reward_model)
    fb = {"n_rounds": len(p["reward"]), "n_actions": log.n_items, "action": p["action"],
          "position": p["position"], "reward": p["reward"], "pscore": p["pscore"],
          "context": log.features[p["rows"]], "action_context": np.eye(log.n_items),
          "action_dist": p["action_dist"]}
    if p["q_hat"] is not None:
        fb["estimated_rewards_by_reg_model"] = p["q_hat"]
    return fb
