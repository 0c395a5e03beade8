#!/usr/bin/python3
"""Click rate against diversity for recarena-bandit's --rerank: runs one
bandit (LinUCB by default) alone on a scenario's world with MMR and DPP
re-ranking at several values of the trade-off parameter, over several
seeds, and prints CTR, reward, intra-list diversity (ILD) and exposure
Gini per setting (mean +- sd over seeds; ILD and Gini are the run
folder's system figures, docs/metrics.md).

    bench/rerank_sweep.py                                  # linucb, seeds 1..3
    bench/rerank_sweep.py --base "--algo thompson" --values 1,0.5,0.2

Each run is an ordinary bench/compare_bandits.py run (the same
single-agent world, common random numbers across settings); a value of
1 is the plain ranking. Only the standard library is used.
"""
import argparse
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_bandits as cb  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", default=os.path.join(cb.ROOT, "scenarios", "default.ini"))
    p.add_argument("--build", default=os.path.join(cb.ROOT, "build"))
    p.add_argument("--base", default="--algo linucb", help="recarena-bandit arguments of the bandit")
    p.add_argument("--methods", default="mmr,dpp")
    p.add_argument("--values", default="1,0.9,0.7,0.5,0.3,0.1",
                   help="trade-off values, comma-separated (MMR's lambda, DPP's theta)")
    p.add_argument("--pool", type=int, default=50, help="--rerank-pool (default 50)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--set", action="append", default=[], help="scenario override, repeatable")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = p.parse_args()
    build = os.path.abspath(args.build)
    args.recarena = os.path.join(build, "sim", "recarena")
    args.agent = os.path.join(build, "agents", "recarena-bandit")
    settings = [("none", 1.0)]
    for m in args.methods.split(","):
        settings += [(m, float(v)) for v in args.values.split(",") if float(v) != 1.0]
    args.configs = {}
    for m, v in settings:
        extra = "" if m == "none" else f" --rerank {m} --rerank-lambda {v:g} --rerank-pool {args.pool}"
        args.configs[f"{m}-{v:g}"] = args.base + extra
    seeds = list(range(1, args.seeds + 1))
    with tempfile.TemporaryDirectory(prefix="recarena-rerank-") as tmp:
        ini = os.path.join(tmp, "world.ini")
        with open(ini, "w") as f:
            f.write(cb.scenario_without_agents(args.scenario))
        jobs = [(name, s) for s in seeds for name in args.configs]
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(lambda j: cb.run_one(args, ini, j[0], j[1], tmp), jobs))
    extra = "".join(f" --set {s}" for s in args.set)
    print(f"{os.path.relpath(args.scenario, cb.ROOT)}{extra}: recarena-bandit {args.base}, "
          f"pool {args.pool}, seeds 1..{args.seeds}, mean +- sd over seeds")
    print(f"{'rerank':<7} {'value':>5} {'CTR':>15} {'reward/ep':>17} {'ILD':>15} {'Gini':>15}")
    for (m, v), name in zip(settings, args.configs):
        rs = [r for (jn, _), r in zip(jobs, results) if jn == name]
        cols = [cb.mean_sd([r[key] for r in rs]) for key in ("ctr", "reward", "ild", "gini")]
        if any(r["misses"] for r in rs):
            print(f"  warning: {name} missed deadlines or sent invalid slates (fallbacks used)")
        print(f"{m:<7} {v:5g} {cols[0][0]:7.4f} +- {cols[0][1]:.4f} {cols[1][0]:9.0f} +- {cols[1][1]:5.0f} "
              f"{cols[2][0]:7.4f} +- {cols[2][1]:.4f} {cols[3][0]:7.4f} +- {cols[3][1]:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
