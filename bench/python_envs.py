#!/usr/bin/env python3
"""Throughput of the Python environments (docs/benchmarks.md, "Python
environments"), with a random policy, on this machine. Not a test: it
prints figures.

    build/venv/bin/python bench/python_envs.py [--seconds S]

  vector      RecommendVectorEnv: one step = one tick, all its requests
              in one batch; requests/s over a crowded market (one learner
              alone, 20,000 users, 200 items, k 5, dim 16, no oracle), random rows
              (the action space's sample(), repaired into valid slates)
  single      RecommendEnv: one step = one request, same world, steps/s
  parallel    ParallelEnv (PettingZoo) on scenarios/processes.ini (the
              env plays sdk1 and sdk2, random valid slates): requests/s
              and ticks/s

Needs gymnasium (the venv of scripts/python-venv.sh) and the recarena
binary (recarena.find_binary()).
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agents", "python"))
import recarena  # noqa: E402
from recarena.gym_env import RecommendEnv, RecommendVectorEnv  # noqa: E402
from recarena.parallel import ParallelEnv  # noqa: E402

CROWD = """
[run]
seed = 1
episodes = 1000
ticks = 200
[world]
mode = market
n_users = 20000
n_items = 200
dim = 16
slate_size = 5
initial_active = 0.2
oracle = false
[agent.learner]
command = /bin/false   ; played by the environment
"""


def timed(seconds, body):
    """Runs body() until `seconds` have passed; returns (units, elapsed)."""
    units, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        units += body()
    return units, time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="recarena-bench-")
    crowd = os.path.join(tmp.name, "crowd.ini")
    with open(crowd, "w") as f:
        f.write(CROWD)

    vec = RecommendVectorEnv(crowd, max_batch=8192)
    _, info = vec.reset(seed=1)
    vec.action_space.seed(1)
    state = {"info": info}

    def vec_step():
        n = int(state["info"]["valid"].sum())
        _, _, _, _, state["info"] = vec.step(vec.action_space.sample())
        return n
    vec_step()
    n, dt = timed(args.seconds, vec_step)
    ticks = 0
    print(f"vector    {n / dt:12,.0f} requests/s   (crowd: {n} requests in {dt:.1f} s, "
          f"num_envs {vec.num_envs})")
    vec.close()

    env = RecommendEnv(crowd)
    _, info = env.reset(seed=1)
    env.action_space.seed(1)
    state = {"info": info}

    def single_step():
        _, _, term, _, state["info"] = env.step(env.action_space.sample(state["info"]["action_mask"]))
        if term:
            _, state["info"] = env.reset()
        return 1
    n, dt = timed(args.seconds, single_step)
    print(f"single    {n / dt:12,.0f} steps/s      (crowd: {n} steps in {dt:.1f} s)")
    env.close()

    root = os.path.join(HERE, "..")
    penv = ParallelEnv(os.path.join(root, "scenarios", "processes.ini"))
    obs, infos = penv.reset(seed=1)
    state = {"obs": obs, "infos": infos, "ticks": 0}

    def parallel_step():
        if not penv.agents:
            state["obs"], state["infos"] = penv.reset()
        served = sum(len(state["obs"][a]["user_ids"]) for a in penv.agents)
        actions = {a: penv.action_space(a).sample(state["infos"][a]["action_mask"])
                   for a in penv.agents}
        state["obs"], _, _, _, state["infos"] = penv.step(actions)
        state["ticks"] += 1
        return served
    n, dt = timed(args.seconds, parallel_step)
    ticks = state["ticks"]
    print(f"parallel  {n / dt:12,.0f} requests/s, {ticks / dt:,.0f} ticks/s   "
          f"(processes.ini: {n} requests, {ticks} ticks in {dt:.1f} s)")
    penv.close()


if __name__ == "__main__":
    main()
