#!/usr/bin/env python3
"""Chaney et al. (RecSys 2018) in T-RECS beside recarena, on matched sizes.

Runs a Chaney-style homogenization experiment with the T-RECS simulator
(PyPI `trecs`, its public API only) and the same question in recarena
(`recarena sweep` over scenarios/studies/chaney_homogenization.ini), then
prints both side by side: for each recommender, the Jaccard index of the
items that users consumed and the utility of what they consumed, each
minus the ideal recommender's, paired by seed (mean, paired t).

T-RECS side (our own setting of T-RECS's objects, after the paper):
users' true preferences and items' attributes are Dirichlet draws (a
global popularity vector per run, Dirichlet(1) * 10 for users and
Dirichlet(100) * 0.1 for items, as in the paper); a user's true utility
for an item is the inner product (no noise); each step every user is
shown num_items_per_iter items and consumes the one with the highest
utility after the position discount rank^attention_exp, never an item
twice. The first `--startup` steps show random items (T-RECS's
startup_and_train); the recommender then trains on every step's
interactions. Recommenders: ideal (ContentFiltering that is given the
true preferences and never retrains), content (ContentFiltering that
knows the item attributes and fits user profiles by NNLS), social
(SocialFiltering over a graph that links each user to the users with the
most similar true preferences), popularity, random. Homogenization: the
mean Jaccard index of the consumed sets of paired users, each user with
the user of most similar true preferences (T-RECS InteractionSimilarity,
the paper's measure), and over all pairs of users (recarena's measure).

usage (from the repository root, after `make trecs-venv`):
    build/trecs-venv/bin/python scripts/trecs_chaney.py [--seeds 1-8] [--users 300]
        [--items 200] [--attrs 10] [--k 5] [--ticks 100] [--startup 10]
        [--recarena build/sim/recarena] [--no-recarena] [--check]
--check exits 1 unless, in T-RECS, social filtering and popularity are
more homogeneous than ideal on the paired Jaccard (paired t above the
two-sided 95% critical value), random is less (t below minus it), and
no recommender's utility reaches the ideal's (t below minus it), for
the optional CTest (content filtering is not asserted: it is less
homogeneous than ideal here, see docs/experiments.md).
"""

import argparse
import atexit
import csv
import importlib.metadata
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import warnings

import numpy as np

warnings.filterwarnings("ignore")
# T-RECS writes a trecs.log into the working directory from its import on:
# work in a scratch directory, removed at exit; paths from the command line
# are taken relative to where the script was started.
START_DIR = os.getcwd()
SCRATCH = tempfile.mkdtemp(prefix="trecs_chaney.")
atexit.register(shutil.rmtree, SCRATCH, True)
os.chdir(SCRATCH)
try:
    from trecs.components import Users
    from trecs.metrics import InteractionSimilarity, Measurement
    from trecs.models import (
        ContentFiltering,
        PopularityRecommender,
        RandomRecommender,
        SocialFiltering,
    )
except ImportError as exc:  # the venv is optional
    print(f"trecs_chaney: T-RECS is not importable ({exc}); run `make trecs-venv`", file=sys.stderr)
    sys.exit(77)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECOMMENDERS = ("ideal", "content", "social", "popularity", "random")
# two-sided 95% critical values of Student's t, by degrees of freedom
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
       9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131}


def parse_seeds(text):
    seeds = []
    for part in text.split(","):
        if "-" in part:
            a, b = part.split("-")
            seeds.extend(range(int(a), int(b) + 1))
        else:
            seeds.append(int(part))
    return seeds


class ConsumedUtility(Measurement):
    """Mean true utility of the items consumed this step (users: the inner product)."""

    def __init__(self, utility):
        self.utility = utility  # (users, items)
        Measurement.__init__(self, "consumed_utility")

    def measure(self, recommender):
        inter = recommender.interactions
        if inter.size == 0:
            self.observe(None)
            return
        self.observe(float(self.utility[np.arange(len(inter)), inter].mean()))


def world(args, rng):
    """True preferences (users, attrs), item attributes (attrs, items), utility."""
    user_params = rng.dirichlet(np.ones(args.attrs)) * 10
    item_params = rng.dirichlet(np.ones(args.attrs) * 100) * 0.1
    prefs = rng.dirichlet(user_params, size=args.users)
    items = rng.dirichlet(item_params, size=args.items).T
    return prefs, items, prefs @ items


def most_similar_pairs(prefs):
    """Each user with the other user whose true preferences have the highest cosine."""
    unit = prefs / np.linalg.norm(prefs, axis=1, keepdims=True)
    cos = unit @ unit.T
    np.fill_diagonal(cos, -np.inf)
    return [(u, int(np.argmax(cos[u]))) for u in range(len(prefs))], cos


def social_graph(cos, degree):
    """Adjacency (users, users): each user linked to its `degree` most similar users, symmetric."""
    n = cos.shape[0]
    adj = np.zeros((n, n), dtype=int)
    for u in range(n):
        adj[u, np.argsort(-cos[u])[:degree]] = 1
    return np.maximum(adj, adj.T)


def all_pairs_jaccard(consumed):
    """Mean Jaccard over all pairs of users' consumed sets; consumed: (users, items) 0/1."""
    b = consumed.astype(np.float64)
    inter = b @ b.T
    size = b.sum(axis=1)
    union = size[:, None] + size[None, :] - inter
    iu = np.triu_indices(len(b), 1)
    ok = union[iu] > 0
    return float((inter[iu][ok] / union[iu][ok]).mean())


def run_trecs(name, seed, args):
    rng = np.random.default_rng(seed)
    prefs, items, utility = world(args, rng)
    pairs, cos = most_similar_pairs(prefs)
    users = Users(actual_user_profiles=prefs, repeat_interactions=False,
                  attention_exp=args.attention_exp, seed=seed)
    common = dict(actual_user_representation=users, actual_item_representation=items,
                  num_items_per_iter=args.k)
    if name == "ideal":
        model = ContentFiltering(user_representation=prefs, item_representation=items,
                                 seed=seed, **common)
    elif name == "content":
        model = ContentFiltering(item_representation=items, seed=seed, **common)
    elif name == "social":
        model = SocialFiltering(user_representation=social_graph(cos, args.social_degree),
                                seed=seed, **common)
    elif name == "popularity":
        model = PopularityRecommender(**common)
    else:
        model = RandomRecommender(seed=seed, **common)
    similarity = InteractionSimilarity(pairs)
    consumed_utility = ConsumedUtility(utility)
    model.add_metrics(similarity, consumed_utility)
    learner = name != "ideal"  # the ideal recommender keeps the true preferences
    if args.startup > 0:  # T-RECS's startup_and_train, without repeats and quiet
        model.run(timesteps=args.startup, startup=True, train_between_steps=False,
                  repeated_items=False, disable_tqdm=True)
        if learner:
            model.train()
    model.run(timesteps=args.ticks - args.startup, train_between_steps=learner,
              repeated_items=False, disable_tqdm=True)
    hist = similarity.interaction_hist  # (users, ticks): item consumed per step
    consumed = np.zeros((args.users, args.items), dtype=bool)
    consumed[np.repeat(np.arange(args.users), hist.shape[1]), hist.ravel()] = True
    measured = model.get_measurements()
    paired = measured["interaction_similarity"][-1]
    per_step = [v for v in measured["consumed_utility"] if v is not None]
    return {"paired_jaccard": paired, "jaccard": all_pairs_jaccard(consumed),
            "utility": float(sum(per_step))}


def run_recarena(args, seeds, tmp):
    """recarena's figures per recommender and seed, from `recarena sweep` runs.csv files."""
    sc = os.path.join(REPO, "scenarios/studies/chaney_homogenization.ini")
    common = ["--seeds", ",".join(map(str, seeds)), "--no-progress", "--jobs", "2",
              "--set", f"world.n_users={args.users}", "--set", f"world.n_items={args.items}",
              "--set", f"world.n_topics={args.attrs}", "--set", f"world.slate_size={args.k}",
              "--set", f"run.ticks={args.ticks}"]
    thompson = os.path.join(tmp, "chaney_thompson.ini")
    with open(sc) as src, open(thompson, "w") as dst:
        dst.write(src.read().replace(
            "policy = ideal",
            f"command = {os.path.dirname(os.path.dirname(args.recarena))}"
            "/agents/recarena-bandit --algo thompson"))
    studies = [(sc, ["--grid", "agent.rec.policy=ideal,popularity,random"], "policy"),
               (thompson, [], "thompson")]
    out = {}
    for i, (scenario, grid, label) in enumerate(studies):
        folder = os.path.join(tmp, f"study{i}")
        cmd = [args.recarena, "sweep", scenario, *grid, *common, "--out", folder]
        res = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if res.returncode != 0:
            sys.exit(f"trecs_chaney: {' '.join(cmd)} failed:\n{res.stderr}")
        with open(os.path.join(folder, "runs.csv")) as f:
            for row in csv.DictReader(f):
                rec = row.get("agent.rec.policy") or label
                out[(rec, int(row["seed"]))] = {"jaccard": float(row["jaccard"]),
                                                "utility": float(row["welfare_initial"])}
    return out


def paired(figs, rec, key, seeds):
    d = [figs[(rec, s)][key] - figs[("ideal", s)][key] for s in seeds]
    m = statistics.mean(d)
    if len(d) < 2:
        return m, float("nan")
    se = statistics.stdev(d) / math.sqrt(len(d))
    return m, (m / se if se > 0 else math.copysign(math.inf, m))


def table(title, figs, recs, keys, seeds):
    print(title)
    head = f"{'recommender':<12}"
    for key in keys:
        head += f" {key + ' (ideal: level; else - ideal, t)':>44}"
    print(head)
    for rec in recs:
        line = f"{rec:<12}"
        for key in keys:
            if rec == "ideal":
                cell = f"{statistics.mean(figs[('ideal', s)][key] for s in seeds):.4g}"
            else:
                m, t = paired(figs, rec, key, seeds)
                level = statistics.mean(figs[("ideal", s)][key] for s in seeds)
                cell = f"{m:+.4g} ({m / level:+.0%}, t {t:.1f})"
            line += f" {cell:>44}"
        print(line)
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="1-8")
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--attrs", type=int, default=10, help="T-RECS attributes = recarena topics")
    ap.add_argument("--k", type=int, default=5, help="items shown per step = slate_size")
    ap.add_argument("--ticks", type=int, default=100)
    ap.add_argument("--startup", type=int, default=10, help="T-RECS random startup steps")
    ap.add_argument("--attention-exp", type=float, default=-0.8)
    ap.add_argument("--social-degree", type=int, default=10)
    ap.add_argument("--recarena", default="build/sim/recarena")
    ap.add_argument("--no-recarena", action="store_true")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    seeds = parse_seeds(args.seeds)
    args.recarena = os.path.join(START_DIR, args.recarena)
    if args.ticks > args.items:
        sys.exit("trecs_chaney: --ticks must not exceed --items (users never consume twice)")
    print(f"T-RECS {importlib.metadata.version('trecs')} and recarena: "
          f"{args.users} users, {args.items} items, {args.attrs} attributes/topics, "
          f"k = {args.k}, {args.ticks} steps, seeds {args.seeds}\n")
    theirs = {(rec, s): run_trecs(rec, s, args) for rec in RECOMMENDERS for s in seeds}
    table("T-RECS (paired: Jaccard of each user with the most similar user; "
          "jaccard: all pairs; utility: sum over steps of mean consumed utility)",
          theirs, RECOMMENDERS, ("paired_jaccard", "jaccard", "utility"), seeds)
    if not args.no_recarena:
        with tempfile.TemporaryDirectory() as tmp:
            ours = run_recarena(args, seeds, tmp)
        table("recarena (jaccard: all pairs of users' clicked sets; utility: welfare_initial)",
              ours, ("ideal", "popularity", "thompson", "random"), ("jaccard", "utility"), seeds)
    if args.check:
        crit = T95.get(len(seeds) - 1, 2.0)
        t = {rec: paired(theirs, rec, "paired_jaccard", seeds)[1] for rec in RECOMMENDERS[1:]}
        tu = {rec: paired(theirs, rec, "utility", seeds)[1] for rec in RECOMMENDERS[1:]}
        ok = t["social"] > crit and t["popularity"] > crit and t["random"] < -crit
        ok = ok and all(v < -crit for v in tu.values())
        print(f"trecs_chaney: paired Jaccard t: social {t['social']:.1f}, popularity "
              f"{t['popularity']:.1f} (> {crit}), random {t['random']:.1f} (< -{crit}); "
              "utility t: " + ", ".join(f"{r} {v:.1f}" for r, v in tu.items())
              + f" (< -{crit}): " + ("ok" if ok else "FAIL"))
        sys.exit(0 if ok else 1)

if __name__ == "__main__":
    main()
