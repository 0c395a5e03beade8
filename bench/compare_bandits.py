#!/usr/bin/python3
"""Compares the bandit algorithms of recarena-bandit on one scenario's
world, each alone, over several seeds, and prints a table of reward,
regret and exposure Gini per algorithm (mean +- sd over seeds).

Each algorithm runs as the only agent of the scenario (its [run] and
[world] sections; its [agent.*] sections are replaced by one agent), so
it serves every user and is judged on the same users, catalog and random
arrivals as the others for the same seed (common random numbers). In a
market with competitors the figures would also depend on who the
competitors are and on how users' reputations of each platform evolve.

    bench/compare_bandits.py                      # scenarios/default.ini, seeds 1..10
    bench/compare_bandits.py --seeds 3 --set run.ticks=100 --check

The runs are one study of `recarena sweep` (docs/studies.md): the
scenario's world with one agent, `bandit`, and the grid
`agent.bandit.command=CMD1,CMD2,...` (one cell per configuration) over
seeds 1..N; this script only builds that command and reads the study's
run folders into the table. --study DIR keeps the study (and its
runs.csv and study.json) in DIR, where the same command again resumes it.

"wins" counts the seeds on which an algorithm earns more than both
random and popularity on the same seed. --check exits 1 unless every
learning algorithm's mean reward beats both random's and popularity's. Run from anywhere; needs a build (make build).
Only the standard library is used (Debian's /usr/bin/python3).
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINES = ["random", "popularity"]
# name -> recarena-bandit arguments: the defaults, except where the
# published constant explores far too long on this world (docs/agents.md)
CONFIGS = {
    "random": "--algo random",
    "popularity": "--algo popularity",
    "egreedy": "--algo egreedy",
    "egreedy-decay": "--algo egreedy-decay",
    "ucb1": "--algo ucb1 --ucb-c 0.1",
    "thompson": "--algo thompson",
    "linucb": "--algo linucb",
    "exp3": "--algo exp3 --eta 0.005",
    "meta": "--algo meta",
    "meta-linucb": "--algo meta-linucb",
    # another agent of the build: arguments that start with its name
    "mf": "recarena-mf",
}


def scenario_without_agents(path):
    """The scenario's text without its [agent.*] sections."""
    out, skip = [], False
    with open(path) as f:
        for line in f:
            s = line.strip()
            if s.startswith("["):
                skip = s.startswith("[agent.")
            if not skip:
                out.append(line)
    return "".join(out)


def command_of(args, name):
    """The agent command of a configuration."""
    words = args.configs[name].split(" ", 1)
    if words[0].startswith("recarena-"):  # another agent process of the build
        return " ".join([os.path.join(os.path.dirname(args.agent), words[0])] + words[1:])
    return f"{args.agent} {args.configs[name]}"


def sweep(args, algos, seeds, study):
    """Runs (or resumes) the study: one cell per configuration. Returns
    {configuration: its cell's folder}."""
    ini = study.rstrip("/") + ".ini"
    with open(ini, "w") as f:
        f.write(scenario_without_agents(args.scenario))
        f.write(f"\n[agent.bandit]\ncommand = {command_of(args, algos[0])}\n")
    commands = [command_of(args, a) for a in algos]
    for c in commands:
        if "," in c:
            sys.exit(f"compare_bandits: a command with a comma cannot be a grid value: {c}")
    cmd = [args.recarena, "sweep", ini, "--seeds", f"{seeds[0]}-{seeds[-1]}",
           "--grid", "agent.bandit.command=" + ",".join(commands),
           "--jobs", str(max(1, args.jobs)), "--out", study]
    for s in args.set:
        cmd += ["--set", s]
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if done.returncode != 0:
        sys.exit(f"compare_bandits: {' '.join(cmd)} failed:\n{done.stdout}")
    with open(os.path.join(study, "study.json")) as f:
        cells = json.load(f)["cells"]
    by_command = {c["settings"]["agent.bandit.command"]: c["cell"] for c in cells}
    return {a: os.path.join(study, by_command[command_of(args, a)]) for a in algos}


def read_run(run_dir):
    """The figures of one run folder."""
    with open(os.path.join(run_dir, "summary.json")) as f:
        eps = json.load(f)["episodes"]
    n = len(eps)
    agent = [e["agents"][0] for e in eps]
    requests = sum(a["requests"] for a in agent)
    return {
        "reward": sum(a["reward"] for a in agent) / n,
        "ctr": sum(a["clicks"] for a in agent) / max(requests, 1),
        "regret": sum(a["regret"] or 0 for a in agent) / n,
        "regret_per_request": sum(a["regret"] or 0 for a in agent) / max(requests, 1),
        "gini": sum(e["gini"] for e in eps) / n,
        "ild": sum(e["ild"] for e in eps) / n,
        "misses": sum(a.get("fallback_missed", 0) + a.get("fallback_invalid", 0) for a in agent),
    }


def mean_sd(xs):
    m = sum(xs) / len(xs)
    sd = math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) if len(xs) > 1 else 0.0
    return m, sd


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default=os.path.join(ROOT, "scenarios", "default.ini"))
    p.add_argument("--build", default=os.path.join(ROOT, "build"), help="build folder (default build)")
    p.add_argument("--seeds", type=int, default=10, help="seeds 1..N (default 10)")
    p.add_argument("--algos", default=",".join(CONFIGS),
                   help="comma-separated names of configurations (default: all of them)")
    p.add_argument("--config", action="append", default=[], metavar="NAME=ARGS",
                   help='another configuration, e.g. "ucb1-c1=--algo ucb1" (repeatable)')
    p.add_argument("--set", action="append", default=[], help="scenario override, repeatable")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="recarena sweep --jobs: slots, a run taking 2 (itself and its agent)")
    p.add_argument("--study", help="keep the study in this folder (resumable); default: a "
                   "temporary one")
    p.add_argument("--per-seed", action="store_true",
                   help="also print each configuration's reward per episode on every seed")
    p.add_argument("--check", action="store_true",
                   help="exit 1 unless every learner's mean reward beats random and popularity")
    args = p.parse_args()
    build = os.path.abspath(args.build)
    args.recarena = os.path.join(build, "sim", "recarena")
    args.agent = os.path.join(build, "agents", "recarena-bandit")
    for b in (args.recarena, args.agent):
        if not os.access(b, os.X_OK):
            sys.exit(f"compare_bandits: {b} not found: build first (make build)")
    args.configs = dict(CONFIGS)
    algos = args.algos.split(",")
    for c in args.config:
        name, _, agent_args = c.partition("=")
        if not name or not agent_args:
            sys.exit(f"compare_bandits: --config {c}: expected NAME=ARGS")
        args.configs[name] = agent_args
        if name not in algos:
            algos.append(name)
    for a in algos:
        if a not in args.configs:
            sys.exit(f"compare_bandits: unknown configuration '{a}' (known: {', '.join(args.configs)})")
    seeds = list(range(1, args.seeds + 1))

    with tempfile.TemporaryDirectory(prefix="recarena-compare-") as tmp:
        study = os.path.abspath(args.study) if args.study else os.path.join(tmp, "study")
        cells = sweep(args, algos, seeds, study)
        by_algo = {a: [read_run(os.path.join(cells[a], f"seed{s}")) for s in seeds]
                   for a in algos}

    name = os.path.relpath(args.scenario, ROOT)
    extra = "".join(f" --set {s}" for s in args.set)
    print(f"{name}{extra}, each algorithm alone, seeds 1..{args.seeds}: mean +- sd over seeds")
    for a in algos:
        shown = args.configs[a] if args.configs[a].startswith("recarena-") else \
            f"recarena-bandit {args.configs[a]}"
        print(f"  {a:<14} {shown}")
    print(f"{'algorithm':<14} {'reward/ep':>17} {'CTR':>7} {'regret/ep':>17} {'regret/req':>10} "
          f"{'exposure Gini':>15} {'wins':>5}")
    means = {}
    for a in algos:
        rs = by_algo[a]
        reward, reward_sd = mean_sd([r["reward"] for r in rs])
        regret, regret_sd = mean_sd([r["regret"] for r in rs])
        gini, gini_sd = mean_sd([r["gini"] for r in rs])
        ctr = mean_sd([r["ctr"] for r in rs])[0]
        rpr = mean_sd([r["regret_per_request"] for r in rs])[0]
        means[a] = reward
        # seeds on which it earns more than every baseline run with the same seed
        wins = sum(all(r["reward"] > by_algo[b][i]["reward"] for b in BASELINES if b in by_algo)
                   for i, r in enumerate(rs))
        print(f"{a:<14} {reward:9.0f} +- {reward_sd:5.0f} {ctr:7.4f} {regret:9.0f} +- {regret_sd:5.0f} "
              f"{rpr:10.4f} {gini:7.4f} +- {gini_sd:.4f} {wins:2d}/{len(rs)}")
        if any(r["misses"] for r in rs):
            print(f"  warning: {a} missed deadlines or sent invalid slates (fallbacks used)")

    if args.per_seed:
        print("reward/episode per seed " + " ".join(f"{s:>8}" for s in seeds))
        for a in algos:
            print(f"  {a:<21} " + " ".join(f"{r['reward']:8.0f}" for r in by_algo[a]))

    if not args.check:
        return 0
    failed = []
    for a in algos:
        if a in BASELINES:
            continue
        for base in BASELINES:
            if base in means and not means[a] > means[base]:
                failed.append(f"{a} ({means[a]:.0f}) does not beat {base} ({means[base]:.0f})")
    for f in failed:
        print("FAIL:", f, file=sys.stderr)
    print("check:", "failed" if failed else "every learner beats random and popularity")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
