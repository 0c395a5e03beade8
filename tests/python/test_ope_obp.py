"""recarena.ope's IPS, SNIPS and DR equal the Open Bandit Pipeline's
(obp.ope) on the same log: a random policy's log of 2-item slates, read
as OBP's bandit_feedback (recarena.ope.to_obp), for an epsilon-greedy and a
softmax target. Exit 77 (skipped) without obp.
usage: test_ope_obp.py (RECARENA_BIN names the binary; run_in_venv.sh)"""
import os
import subprocess
import sys
import tempfile

try:
    from obp.ope import (DoublyRobust, InverseProbabilityWeighting,
                         SelfNormalizedInverseProbabilityWeighting)
except ImportError as e:
    print(f"skipped: obp does not import ({e})")
    sys.exit(77)
import numpy as np

src = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(src, "agents", "python"))
sys.path.insert(0, os.path.join(src, "tests", "python"))
import recarena.ope as ope  # noqa: E402
from ope_target_agent import make_target  # noqa: E402

INI = """[run]
ticks = 20
log = true
[world]
n_items = 8
dim = 3
n_users = 150
slate_size = 2
item_arrival_rate = 0
[agent.a]
policy = random
"""
failures = []
with tempfile.TemporaryDirectory() as tmp:
    with open(os.path.join(tmp, "s.ini"), "w") as f:
        f.write(INI)
    subprocess.run([os.environ["RECARENA_BIN"], "run", os.path.join(tmp, "s.ini"), "--out",
                    os.path.join(tmp, "run"), "--seed", "4"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = ope.Log.load(os.path.join(tmp, "run", "log.npz"), n_items=8)
for spec in ("egreedy:0.3:7", "softmax:0.5:11"):
    target = make_target(spec, 8, 2, 3)
    model = ope.fit_reward_model(log)
    ours = ope.evaluate(log, target, reward_model=model, level="position")
    fb = ope.to_obp(log, target, reward_model=model)
    common = dict(reward=fb["reward"], action=fb["action"], position=fb["position"],
                  pscore=fb["pscore"], action_dist=fb["action_dist"])
    theirs = {
        "ips": InverseProbabilityWeighting().estimate_policy_value(**common),
        "snips": SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(**common),
        "dr": DoublyRobust().estimate_policy_value(
            estimated_rewards_by_reg_model=fb["estimated_rewards_by_reg_model"], **common),
    }
    for name, value in theirs.items():
        ok = abs(ours[name].value - value) <= 1e-9 * max(1.0, abs(value))
        print(f"{'ok' if ok else 'FAIL'}: {spec} {name}: ours {ours[name].value:.12f} "
              f"obp {value:.12f}")
        if not ok:
            failures.append(name)
sys.exit(1 if failures else 0)
