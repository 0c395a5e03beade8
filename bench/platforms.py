#!/usr/bin/python3
"""Per-platform figures of a recarena run folder, side by side: market
share, requests, reward, CTR and regret (from summary.json) and each
platform's own exposure Gini and catalog coverage (from the episode lines
that recarena-bandit prints to agent-NAME.log). The run's own summary has
exposure figures only for the whole system.

    ./build/sim/recarena run scenarios/market.ini
    bench/platforms.py runs/market-seed5

Agents that print no episode lines (built-in policies, other programs)
show '-' for exposure. Only the standard library is used.
"""
import json
import os
import re
import sys

EPISODE_LINE = re.compile(r"^episode (\d+): requests \d+ clicks \d+ ctr [\d.]+ "
                          r"gini ([\d.]+) coverage ([\d.]+) items \d+")


def exposure(run, name):
    """{episode: (gini, coverage)} from agent-NAME.log, empty if none."""
    path = os.path.join(run, f"agent-{name}.log")
    found = {}
    if os.path.exists(path):
        with open(path, errors="replace") as f:
            for line in f:
                m = EPISODE_LINE.match(line)
                if m:
                    found[int(m.group(1))] = (float(m.group(2)), float(m.group(3)))
    return found


def main():
    if len(sys.argv) != 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) == 2 else 2
    run = sys.argv[1]
    try:
        with open(os.path.join(run, "summary.json")) as f:
            summary = json.load(f)
    except (OSError, ValueError) as e:
        print(f"platforms: {run}: {e}", file=sys.stderr)
        return 1
    names = [a["name"] for a in summary["episodes"][0]["agents"]]
    exp = {n: exposure(run, n) for n in names}
    print(f"{summary['scenario']}, seed {summary['seed']}")
    print(f"{'episode':>7}  {'platform':<14} {'share':>6} {'requests':>9} {'reward':>10} "
          f"{'CTR':>7} {'regret':>10} {'Gini':>7} {'coverage':>8}")
    for e in summary["episodes"]:
        for a in e["agents"]:
            g = exp[a["name"]].get(e["episode"])
            gini, cov = (f"{g[0]:7.4f}", f"{g[1]:8.4f}") if g else (f"{'-':>7}", f"{'-':>8}")
            print(f"{e['episode']:>7}  {a['name']:<14} {a['share']:6.3f} {a['requests']:9d} "
                  f"{a['reward']:10.1f} {a['ctr']:7.4f} {'n/a' if a['regret'] is None else format(a['regret'], '.1f'):>10} {gini} {cov}")
        print(f"{'':>7}  {'(system)':<14} {'':>6} {e['requests']:9d} {'':>10} {e['ctr']:7.4f} "
              f"{'':>10} {e['gini']:7.4f} {e['coverage']:8.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
