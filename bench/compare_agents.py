#!/usr/bin/python3
"""Compares single agents on a one-platform scenario over several seeds:
each agent serves every user alone (the scenario's [agent.a] is replaced),
so on a seed all of them face the same users, catalog and arrivals
(common random numbers) and differences are paired by seed. Prints, for
the last episode, reward, requests and click rate (mean +- sd over
seeds), then the paired difference of the first agent against each of
the others (mean, sd, standard error, seeds ahead).

    bench/compare_agents.py --scenario scenarios/longterm.ini --seeds 5 \\
        slateq="recarena-slateq" myopic="recarena-slateq --gamma 0" \\
        dqn="recarena-qlearn --algo dqn --reward own"

An agent is NAME=COMMAND, COMMAND a binary of build/agents with its
arguments, or NAME=policy:POLICY for a built-in policy (random,
popularity). Writes OUT/runs.csv (one row per agent, seed and episode).
Only the standard library is used (Debian's /usr/bin/python3).
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mean_sd(xs):
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, sd


def run_one(args, name, what, seed, tmp):
    out = os.path.join(tmp, f"{name}-{seed}")
    if what.startswith("policy:"):
        agent = ["--set", f"agent.a.policy={what[7:]}"]
    else:
        agent = ["--set", f"agent.a.command={os.path.join(args.build, 'agents', what)}"]
    cmd = [args.recarena, "run", args.scenario, "--seed", str(seed), "--quiet", "--no-progress",
           "--out", out, "--set", "server.deadline_ms=600000"] + agent
    for s in args.set:
        cmd += ["--set", s]
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        sys.exit(f"compare_agents: {name} seed {seed} failed:\n{done.stdout}")
    with open(os.path.join(out, "summary.json")) as f:
        eps = json.load(f)["episodes"]
    return [{"agent": name, "seed": seed, "episode": i, "reward": e["agents"][0]["reward"],
             "requests": e["agents"][0]["requests"], "ctr": e["ctr"]}
            for i, e in enumerate(eps)]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("agents", nargs="+", help="NAME=COMMAND or NAME=policy:POLICY")
    p.add_argument("--scenario", required=True)
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--seeds", type=int, default=5, help="seeds 1..N (default 5)")
    p.add_argument("--set", action="append", default=[], help="scenario override, repeatable")
    p.add_argument("--jobs", type=int, default=2, help="runs at once (default 2)")
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "compare_agents"))
    args = p.parse_args()
    args.build = os.path.abspath(args.build)
    args.scenario = os.path.abspath(args.scenario)
    args.recarena = os.path.join(args.build, "sim", "recarena")
    agents = []
    for a in args.agents:
        if "=" not in a:
            sys.exit(f"compare_agents: '{a}' is not NAME=COMMAND")
        agents.append(tuple(a.split("=", 1)))
    seeds = list(range(1, args.seeds + 1))
    with tempfile.TemporaryDirectory(prefix="recarena-cmp-") as tmp:
        jobs = [(n, w, s) for s in seeds for n, w in agents]
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(lambda j: run_one(args, j[0], j[1], j[2], tmp), jobs))
    rows = [r for rs in results for r in rs]
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "runs.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    last_ep = max(r["episode"] for r in rows)

    def last(name, key="reward"):
        return [next(r[key] for r in rows if r["agent"] == name and r["seed"] == s and
                     r["episode"] == last_ep) for s in seeds]

    extra = "".join(f" --set {s}" for s in args.set)
    print(f"{os.path.relpath(args.scenario, ROOT)}{extra}: seeds 1..{args.seeds}, "
          f"last episode ({last_ep}), mean +- sd over seeds")
    print(f"{'agent':<14} {'reward':>17} {'requests':>17} {'CTR':>6}")
    for name, _ in agents:
        m, sd = mean_sd(last(name))
        rm, rsd = mean_sd(last(name, "requests"))
        print(f"{name:<14} {m:9.1f} +- {sd:5.1f} {rm:9.1f} +- {rsd:5.1f} "
              f"{mean_sd(last(name, 'ctr'))[0]:6.3f}")
    first = agents[0][0]
    print(f"\npaired by seed, {first} minus each:")
    for name, _ in agents[1:]:
        diff = [x - y for x, y in zip(last(first), last(name))]
        m, sd = mean_sd(diff)
        se = sd / math.sqrt(len(diff))
        print(f"  - {name:<12} {m:+9.1f} +- {sd:6.1f} (sd), standard error {se:6.1f}, "
              f"ahead on {sum(d > 0 for d in diff)}/{len(diff)} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
