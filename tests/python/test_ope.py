#!/usr/bin/python3
"""recarena.ope against the truth the simulator knows. A stationary world
(no satiation, drift, arrivals or churn; every user requests every tick)
is logged by the built-in random policy; each target policy (epsilon-greedy
and softmax rankings of a fixed random score, tests/python/ope_target_agent.py)
is also run on-policy on the same users. Over 6 seeds x 2 targets, IPS, SNIPS
and DR must each put the on-policy value inside their 95% interval (widened
by the on-policy run's own standard error) in at least 10 of 12 cases
(under correct coverage a miss has probability 0.05: P(3+ misses) ~ 0.02),
while the logging policy's mean reward must miss in at least 10 of 12 (the
targets really differ from the logger). The same targets are estimated
again from logs of an agent process that reports its propensities
(recarena-bandit --algo egreedy --epsilon 0.5, ACT.propensity, protocol
1.2): a learning logger, so its propensities change over the run; the
same coverage is required. Plus hand-computed probabilities and exact
identities. Needs numpy only.
usage: test_ope.py PATH/TO/recarena SOURCE_DIR"""
import os
import subprocess
import sys
import tempfile

import numpy as np

src = sys.argv[2]
sys.path.insert(0, os.path.join(src, "agents", "python"))
sys.path.insert(0, os.path.join(src, "tests", "python"))
import recarena.ope as ope  # noqa: E402
from ope_target_agent import make_target  # noqa: E402

BIN = sys.argv[1]
BANDIT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(BIN))), "agents",
                      "recarena-bandit")
N_ITEMS, DIM, USERS, TICKS = 10, 4, 200, 50
WORLD = f"""[run]
ticks = {TICKS}
log = true
[world]
n_items = {N_ITEMS}
n_topics = 3
dim = {DIM}
n_users = {USERS}
slate_size = 1
item_arrival_rate = 0
satiation_gain = 0
interest_drift = 0
session_budget = 1e9
consume_cost = 0
noclick_cost = 0
budget_gain = 0
initial_active = 1
oracle = false
[server]
deadline_ms = 20000
"""
TARGETS = ["egreedy:0.3:7", "softmax:0.5:11"]
failures = []


def check(what, ok):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)


def run(tmp, name, agent, seed):
    ini = os.path.join(tmp, name + ".ini")
    with open(ini, "w") as f:
        f.write(WORLD + "[agent.a]\n" + agent + "\n")
    out = os.path.join(tmp, name)
    r = subprocess.run([BIN, "run", ini, "--out", out, "--seed", str(seed)], cwd=src,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit(f"FAIL: recarena run {name} (seed {seed}): {r.stderr}")
    return ope.Log.load(os.path.join(out, "log.npz"), agent=0, n_items=N_ITEMS)


# hand-computed: n = 4, ranking 2 0 1 3, epsilon 0.5, slate (2, 0):
# greedy-greedy .25 + greedy-explore .5*.5/3 + explore(.5/4)-greedy(.5)
# + explore-explore .125 * .5/3 = 0.41666...
eg = ope.EpsilonGreedy(lambda x: np.array([[2, 0, 1, 3]]), 0.5, 4, 2)
check("epsilon-greedy slate probability (hand-computed 5/12)",
      abs(eg.slate_prob(np.zeros((1, 1)), [[2, 0]])[0] - 5 / 12) < 1e-12)
check("epsilon-greedy: a slate off the ranking, explore-explore only",
      abs(eg.slate_prob(np.zeros((1, 1)), [[3, 1]])[0] - (0.5 / 4) * (0.5 / 3)) < 1e-12)
probs = [eg.slate_prob(np.zeros((1, 1)), [[a, b]])[0] for a in range(4) for b in range(4) if a != b]
check("epsilon-greedy slate probabilities sum to 1", abs(sum(probs) - 1) < 1e-12)
sm = ope.Softmax(lambda x: np.array([[0.0, np.log(2), np.log(3)]]), 1.0, 2)
check("softmax (Plackett-Luce) slate probability: 3/6 * 2/3",
      abs(sm.slate_prob(np.zeros((1, 1)), [[2, 1]])[0] - 1 / 3) < 1e-12)

rng = np.random.default_rng(0)
misses = {"ips": 0, "snips": 0, "dr": 0, "naive": 0}
bandit_misses = {"ips": 0, "snips": 0, "dr": 0}
cases = 0
with tempfile.TemporaryDirectory() as tmp:
    for seed in range(1, 7):
        log = run(tmp, f"log{seed}", "policy = random", seed)
        blog = run(tmp, f"blog{seed}", f"command = {BANDIT} --algo egreedy --epsilon 0.5", seed)
        if seed == 1:
            # 10 items, k = 1: the slate's probability is 0.05, or 0.05 + 0.5 / (ties) for a
            # best-mean item; always finite
            check("the bandit's logged propensities are finite, each 0.05 + 0.5 / ties or 0.05",
                  np.all(np.isfinite(blog.propensity)) and np.all(
                      [np.isclose(p, 0.05) or np.isclose(1 / (p - 0.05) / 2,
                                                         round(1 / (p - 0.05) / 2))
                       for p in blog.propensity]))
            est = ope.evaluate(blog, ope.Logged(blog), reward_model=False)
            check("SNIPS of the bandit's logged propensities is its mean reward",
                  abs(est["snips"].value - blog.reward.mean()) < 1e-12)
        if seed == 1:
            check("random's logged propensity is 1/n", np.allclose(log.propensity, 1 / N_ITEMS))
            est = ope.evaluate(log, ope.UniformRandom(N_ITEMS, 1))
            check("IPS of the logging policy is the log's mean reward",
                  abs(est["ips"].value - log.reward.mean()) < 1e-12)
            est = ope.evaluate(log, ope.Logged(log), reward_model=False)
            check("SNIPS of the logged propensities is the mean reward",
                  abs(est["snips"].value - log.reward.mean()) < 1e-12)
        for spec in TARGETS:
            target = make_target(spec, N_ITEMS, 1, DIM)
            on = run(tmp, f"on{seed}", f"command = OPE_TARGET={spec} /usr/bin/python3 "
                     "tests/python/ope_target_agent.py", seed)
            truth, truth_se = on.reward.mean(), on.reward.std(ddof=1) / np.sqrt(on.n)
            est = ope.evaluate(log, target)
            cases += 1
            line = f"seed {seed} {spec:15s} truth {truth:.4f} +- {truth_se:.4f}"
            for name, e in est.items():
                half = ope.Z95 * np.hypot(e.se, truth_se)
                misses[name] += abs(e.value - truth) > half
                line += f" | {name} {e.value:.4f} [{e.low:.4f}, {e.high:.4f}]"
            half = ope.Z95 * np.hypot(log.reward.std(ddof=1) / np.sqrt(log.n), truth_se)
            misses["naive"] += abs(log.reward.mean() - truth) > half
            for name, e in ope.evaluate(blog, target).items():
                bandit_misses[name] += abs(e.value - truth) > ope.Z95 * np.hypot(e.se, truth_se)
                line += f" | bandit-logged {name} {e.value:.4f}"
            pos = ope.evaluate(log, target, level="position")
            if abs(pos["ips"].value - est["ips"].value) > 1e-9:
                failures.append("k = 1: position level equals slate level")
            print(line)
for name in ("ips", "snips", "dr"):
    check(f"{name}: the on-policy value inside the CI in {cases - misses[name]} of {cases} "
          "(need 10)", cases - misses[name] >= 10)
for name in ("ips", "snips", "dr"):
    check(f"{name} from the bandit's logs: inside the CI in {cases - bandit_misses[name]} of "
          f"{cases} (need 10)", cases - bandit_misses[name] >= 10)
check(f"the logging policy's own mean misses in {misses['naive']} of {cases} (need 10)",
      misses["naive"] >= 10)
sys.exit(1 if failures else 0)
