#!/usr/bin/python3
"""Bias and spread of recarena.ope's IPS, SNIPS and DR as the target moves
away from the logging policy (docs/experiments.md). The world of
tests/python/test_ope.py (stationary, 10 items, k = 1, 200 users x 50
ticks = 10000 logged requests), logged by the built-in random policy;
targets: the epsilon-greedy ranking of tests/python/ope_target_agent.py for
epsilon from 1 (the logging policy itself) to 0 (deterministic). For each
seed the target also runs on-policy on the same users (its truth); the
table gives, over the seeds, the mean error (bias), the standard deviation
of the estimate across seeds and the RMSE, in clicks per request.
usage: bench/ope_bias.py [PATH/TO/recarena] [SEEDS]  (from the repository root)"""
import os
import subprocess
import sys
import tempfile

import numpy as np

src = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(src, "agents", "python"))
sys.path.insert(0, os.path.join(src, "tests", "python"))
import recarena.ope as ope  # noqa: E402
from ope_target_agent import make_target  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(src, "build", "sim", "recarena")
SEEDS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
WORLD = open(os.path.join(src, "tests", "python", "test_ope.py")).read()
WORLD = WORLD.split('WORLD = f"""')[1].split('"""')[0]
WORLD = WORLD.replace("{TICKS}", "50").replace("{N_ITEMS}", "10").replace("{DIM}", "4")
WORLD = WORLD.replace("{USERS}", "200")
EPSILONS = [1.0, 0.7, 0.4, 0.1, 0.0]


def run(tmp, agent, seed):
    ini = os.path.join(tmp, "s.ini")
    with open(ini, "w") as f:
        f.write(WORLD + "[agent.a]\n" + agent + "\n")
    subprocess.run([BIN, "run", ini, "--out", os.path.join(tmp, "r"), "--seed", str(seed)],
                   cwd=src, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return ope.Log.load(os.path.join(tmp, "r", "log.npz"), n_items=10)


err = {(e, m): [] for e in EPSILONS for m in ("ips", "snips", "dr")}
est_all = {(e, m): [] for e in EPSILONS for m in ("ips", "snips", "dr")}
width = {(e, m): [] for e in EPSILONS for m in ("ips", "snips", "dr")}
with tempfile.TemporaryDirectory() as tmp:
    for seed in range(1, SEEDS + 1):
        log = run(tmp, "policy = random", seed)
        for eps in EPSILONS:
            spec = f"egreedy:{eps}:7"
            on = run(tmp, f"command = OPE_TARGET={spec} /usr/bin/python3 "
                     "tests/python/ope_target_agent.py", seed)
            est = ope.evaluate(log, make_target(spec, 10, 1, 4))
            for m, e in est.items():
                err[eps, m].append(e.value - on.reward.mean())
                est_all[eps, m].append(e.value)
                width[eps, m].append(e.high - e.low)
print(f"{SEEDS} seeds; error = estimate - on-policy value (clicks per request)\n")
print("| epsilon | max weight | estimator | bias | sd of error | RMSE | mean CI width |")
print("|---|---|---|---|---|---|---|")
for eps in EPSILONS:
    for m in ("ips", "snips", "dr"):
        e = np.array(err[eps, m])
        print(f"| {eps:g} | {(1 - eps) * 10 + eps:g} | {m.upper()} | {e.mean():+.4f} | "
              f"{e.std(ddof=1):.4f} | {np.sqrt((e ** 2).mean()):.4f} | "
              f"{np.mean(width[eps, m]):.4f} |")
