#!/usr/bin/env bash
# The figure of docs/experiments.md's "Centralized against independent
# critics": scenarios/studies/maddpg_coordination.ini with its two MADDPG
# agents (centralized critics), the same agents with --local-critic 1
# (independent DDPG) and two built-in random policies, each team one
# `recarena sweep` study in OUT/TEAM (the same seeds: paired), then the
# team reward per seed and the paired differences. Two more teams take
# the centralized critic apart: maddpg_own (the partner's slate, but only
# the actor's half of the request: --critic-obs actor) and ddpg_all (the
# whole request, but no partner's slate: --local-critic 1 --critic-obs all).
# usage: bench/coordination_sweep.sh [SEEDS] [OUT] [RECARENA] [TEAMS]   (from the repository root)
#   SEEDS as recarena sweep takes them (default 1-24), OUT default
#   runs/coordination (an existing study is resumed, never mixed), TEAMS
#   default "maddpg ddpg random" (also: maddpg_own ddpg_all)
# prints: seed, then per team the mean team reward per episode and the
# last episode's; then each team - ddpg and each learner - random, paired
# by seed: mean, standard error, t, 95% CI, seeds ahead.
set -u
seeds=${1:-1-24}
out=${2:-runs/coordination}
bin=${3:-build/sim/recarena}
teams=${4:-maddpg ddpg random}
scen=scenarios/studies/maddpg_coordination.ini
cmd_a=$(sed -n '/^\[agent.a\]/,/^\[/s/^command = //p' "$scen")
cmd_b=$(sed -n '/^\[agent.b\]/,/^\[/s/^command = //p' "$scen")
sweep() { # TEAM SET...
    local team=$1
    shift
    "$bin" sweep "$scen" --seeds "$seeds" --jobs 2 --no-progress --out "$out/$team" "$@" \
        >"$out/$team.log" 2>&1 || { echo "sweep $team failed: $out/$team.log" >&2; exit 1; }
}
options() { # TEAM: what the team adds to the scenario's agent commands
    case $1 in
    ddpg) echo "--local-critic 1" ;;
    maddpg_own) echo "--critic-obs actor" ;;
    ddpg_all) echo "--local-critic 1 --critic-obs all" ;;
    esac
}
mkdir -p "$out" || exit 1
for team in $teams; do
    case $team in
    maddpg) sweep maddpg ;;
    random)
        sweep random --set agent.a.policy=random --set agent.b.policy=random \
            --set agent.a.joint=false --set agent.b.joint=false
        ;;
    ddpg | maddpg_own | ddpg_all)
        sweep "$team" --set "agent.a.command=$cmd_a $(options "$team")" \
            --set "agent.b.command=$cmd_b $(options "$team")"
        ;;
    *) echo "unknown team $team" >&2; exit 2 ;;
    esac
done
python3 - "$out" $teams <<'PY'
import glob, json, math, os, statistics as st, sys
out = sys.argv[1]
teams = sys.argv[2:]
# reward_sharing = 1: every agent's reward is the team's; mean over agents
team = lambda e: sum(a["reward"] for a in e["agents"]) / len(e["agents"])
v = {}
for t in teams:
    for f in glob.glob(os.path.join(out, t, "base", "seed*", "summary.json")):
        seed = int(os.path.basename(os.path.dirname(f))[4:])
        eps = json.load(open(f))["episodes"]
        v.setdefault(t, {})[seed] = (st.mean(team(e) for e in eps), team(eps[-1]))
seeds = sorted(set.intersection(*(set(v[t]) for t in teams)))
print("seed " + " ".join(f"{t}_mean {t}_last" for t in teams))
for s in seeds:
    print(s, " ".join(f"{v[t][s][0]:.1f} {v[t][s][1]:.1f}" for t in teams))
# Student's t 0.975 quantiles by degrees of freedom (normal beyond 40)
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306,
        9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 13: 2.160, 14: 2.145, 15: 2.131, 16: 2.120,
        17: 2.110, 18: 2.101, 19: 2.093, 20: 2.086, 21: 2.080, 22: 2.074, 23: 2.069, 24: 2.064,
        25: 2.060, 26: 2.056, 27: 2.052, 28: 2.048, 29: 2.045, 30: 2.042, 31: 2.040,
        32: 2.037, 33: 2.035, 34: 2.032, 35: 2.030, 36: 2.028, 37: 2.026, 38: 2.024,
        39: 2.023, 40: 2.021}
pairs = [(a, "ddpg") for a in teams if a not in ("ddpg", "random") and "ddpg" in teams]
pairs += [(a, "random") for a in teams if a != "random" and "random" in teams]
for a, b in pairs:
    for i, what in enumerate(["mean", "last"]):
        d = [v[a][s][i] - v[b][s][i] for s in seeds]
        m, se = st.mean(d), st.stdev(d) / math.sqrt(len(d))
        q = T975.get(len(d) - 1, 1.96)
        print(f"diff {a}-{b} {what} n {len(d)} mean {m:.1f} se {se:.1f} t {m / se:.2f} "
              f"ci95 {m - q * se:.1f} {m + q * se:.1f} ahead {sum(x > 0 for x in d)}")
PY
