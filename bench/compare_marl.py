#!/usr/bin/python3
"""Compares teams of learning agents on the cooperative feed
(scenarios/coop_feed.ini) over several seeds: random and popularity
teams as baselines, and teams of three tabular Q, DQN, independent DDPG
(MADDPG's --local-critic) and MADDPG agents. Prints, for the
last episode (mean +- sd over seeds), the team reward, its ratio to
random's, the part of it that is diversity bonus, the click rate,
requests, mean active users and intra-list diversity; then the learning
curves (team reward per episode), the paired difference between MADDPG
and independent DDPG (the value of a centralized critic); and writes
every figure as CSV.

Every agent of a team runs with its defaults; the same seeds give every
algorithm the same users, catalog and arrivals (common random numbers),
so differences on a seed are paired. The server deadline is raised so
that a loaded machine cannot change results: with one BLAS thread per
agent the same seed replays bit for bit.

    bench/compare_marl.py                         # seeds 1..5, the scenario as it is
    bench/compare_marl.py --seeds 3 --set run.episodes=3 --out /tmp/cmp

Each team is one study of `recarena sweep` (docs/studies.md), in
OUT/TEAM: the scenario with --set agent.X.policy or agent.X.command for
the team's three agents, seeds 1..N; this script builds those commands
and reads the studies' run folders into the table. The same command
again resumes them (a finished study runs nothing); a changed --set or
seed count needs a new --out (recarena sweep refuses to mix studies).

Writes OUT/runs.csv (one row per algorithm, seed and episode) and
OUT/curves.csv (mean and sd over seeds per algorithm and episode); OUT
defaults to runs/compare_marl. Run from anywhere; needs a build (make
build). Only the standard library is used (Debian's /usr/bin/python3).
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AGENTS = ["a", "b", "c"]
# name -> ("policy", built-in) or ("command", agent binary and arguments)
TEAMS = {
    "random": ("policy", "random"),
    "popularity": ("policy", "popularity"),
    "tabular": ("command", "recarena-qlearn --algo tabular"),
    "dqn": ("command", "recarena-qlearn --algo dqn"),
    "ddpg": ("command", "recarena-maddpg --local-critic 1"),
    "maddpg": ("command", "recarena-maddpg"),
}


def sweep(args, name, seeds):
    """Runs (or resumes) team name's study in OUT/name; the wall seconds
    it took per run."""
    kind, what = TEAMS[name]
    if kind == "command":
        what = os.path.join(args.build, "agents", what)
    study = os.path.join(args.out, name)
    cmd = [args.recarena, "sweep", args.scenario, "--seeds", f"{seeds[0]}-{seeds[-1]}",
           "--jobs", str(max(1, args.jobs)), "--out", study,
           "--set", "server.deadline_ms=600000"]
    for agent in AGENTS:
        cmd += ["--set", f"agent.{agent}.{kind}={what}"]
        if kind == "policy":  # coop_feed.ini grants its MADDPG agents JOINT
            cmd += ["--set", f"agent.{agent}.joint=false"]
    for s in args.set:
        cmd += ["--set", s]
    start = time.monotonic()
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        sys.exit(f"compare_marl: {' '.join(cmd)} failed:\n{done.stdout}")
    return (time.monotonic() - start) / len(seeds)


def run_one(args, name, seed):
    out = os.path.join(args.out, name, "base", f"seed{seed}")
    with open(os.path.join(out, "summary.json")) as f:
        eps = json.load(f)["episodes"]
    rows = []
    for i, e in enumerate(eps):
        agents = e["agents"]
        requests = agents[0]["requests"]  # feed mode: every agent serves every request
        rows.append({
            "algo": name, "seed": seed, "episode": i,
            # reward_sharing = 1: every agent's reward is the team's
            "team_reward": sum(a["reward"] for a in agents) / len(agents),
            # what the team reward holds beyond the clicks (1 / N each): the
            # diversity bonus (docs/world.md)
            "bonus": sum(a["reward"] for a in agents) / len(agents) - e["clicks"] / len(agents),
            "requests": requests,
            "clicks": e["clicks"],
            "ctr": e["ctr"],
            "mean_active_users": e["mean_active_users"],
            "coverage": e["coverage"],
            "ild": e["ild"],
            "fallbacks": sum(a.get("fallback_missed", 0) + a.get("fallback_invalid", 0)
                             for a in agents),
        })
    return rows


def mean_sd(xs):
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, sd


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default=os.path.join(ROOT, "scenarios", "coop_feed.ini"))
    p.add_argument("--build", default=os.path.join(ROOT, "build"), help="build folder (default build)")
    p.add_argument("--seeds", type=int, default=5, help="seeds 1..N (default 5)")
    p.add_argument("--algos", default=",".join(TEAMS), help="comma-separated teams (default: all)")
    p.add_argument("--set", action="append", default=[], help="scenario override, repeatable")
    p.add_argument("--jobs", type=int, default=1,
                   help="recarena sweep --jobs (default 1): slots, a run taking 4 (itself and "
                   "3 agent processes; teams of built-in policies 1)")
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "compare_marl"),
                   help="folder for the CSV files (default runs/compare_marl)")
    args = p.parse_args()
    args.build = os.path.abspath(args.build)
    args.scenario = os.path.abspath(args.scenario)
    args.recarena = os.path.join(args.build, "sim", "recarena")
    algos = args.algos.split(",")
    for a in algos:
        if a not in TEAMS:
            sys.exit(f"compare_marl: unknown team '{a}' (known: {', '.join(TEAMS)})")
    for b in [args.recarena] + [os.path.join(args.build, "agents", TEAMS[a][1].split()[0])
                                for a in algos if TEAMS[a][0] == "command"]:
        if not os.access(b, os.X_OK):
            sys.exit(f"compare_marl: {b} not found: build first (make build)")
    seeds = list(range(1, args.seeds + 1))

    args.out = os.path.abspath(args.out)
    os.makedirs(args.out, exist_ok=True)
    seconds = {a: sweep(args, a, seeds) for a in algos}
    rows = [r for a in algos for s in seeds for r in run_one(args, a, s)]
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "runs.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    n_eps = 1 + max(r["episode"] for r in rows)
    curve = {}
    with open(os.path.join(args.out, "curves.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["algo", "episode", "team_reward_mean", "team_reward_sd", "ctr_mean"])
        for a in algos:
            for e in range(n_eps):
                xs = [r for r in rows if r["algo"] == a and r["episode"] == e]
                m, sd = mean_sd([r["team_reward"] for r in xs])
                curve[a, e] = m
                w.writerow([a, e, f"{m:.3f}", f"{sd:.3f}", f"{mean_sd([r['ctr'] for r in xs])[0]:.4f}"])

    def last(a, key="team_reward"):
        return [next(r[key] for r in rows if r["algo"] == a and r["seed"] == s and
                     r["episode"] == n_eps - 1) for s in seeds]

    name = os.path.relpath(args.scenario, ROOT)
    extra = "".join(f" --set {s}" for s in args.set)
    print(f"{name}{extra}: teams of 3, seeds 1..{args.seeds}, last episode ({n_eps - 1}), "
          "mean +- sd over seeds")
    print(f"{'team':<11} {'team reward':>17} {'x random':>8} {'bonus':>6} {'CTR':>6} "
          f"{'requests':>9} {'active':>6} {'ILD':>6} {'beats random':>12} {'s/run':>6}")  # s/run: the study's wall time / seeds
    base = last("random") if "random" in algos else None
    for a in algos:
        rew = last(a)
        m, sd = mean_sd(rew)
        ratio = f"{m / mean_sd(base)[0]:8.2f}" if base else f"{'':8}"
        wins = f"{sum(x > b for x, b in zip(rew, base))}/{len(seeds)}" if base else ""
        print(f"{a:<11} {m:9.1f} +- {sd:5.1f} {ratio} {mean_sd(last(a, 'bonus'))[0]:6.1f} "
              f"{mean_sd(last(a, 'ctr'))[0]:6.3f} {mean_sd(last(a, 'requests'))[0]:9.0f} "
              f"{mean_sd(last(a, 'mean_active_users'))[0]:6.1f} {mean_sd(last(a, 'ild'))[0]:6.3f} "
              f"{wins:>12} {seconds[a]:6.1f}")
        if any(r["fallbacks"] for r in rows if r["algo"] == a):
            print(f"  warning: {a} missed deadlines or sent invalid slates (fallbacks used)")

    print("\nlearning curves: team reward per episode, mean over seeds")
    print(f"{'episode':>7} " + " ".join(f"{a:>10}" for a in algos))
    for e in range(n_eps):
        print(f"{e:>7} " + " ".join(f"{curve[a, e]:10.1f}" for a in algos))

    if "maddpg" in algos and "ddpg" in algos:
        diff = [x - y for x, y in zip(last("maddpg"), last("ddpg"))]
        m, sd = mean_sd(diff)
        se = sd / math.sqrt(len(diff)) if len(diff) > 1 else float("nan")
        print(f"\nMADDPG - independent DDPG, paired by seed: {m:+.1f} +- {sd:.1f} (sd), "
              f"standard error {se:.1f}, MADDPG ahead on {sum(d > 0 for d in diff)}/{len(diff)} seeds")
    print(f"\nCSV: {os.path.join(args.out, 'runs.csv')}, {os.path.join(args.out, 'curves.csv')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
