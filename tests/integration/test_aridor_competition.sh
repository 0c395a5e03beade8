#!/usr/bin/env bash
# Aridor, Mansour, Slivkins, Wu (competing bandits), over 12 seeds of
# scenarios/studies/aridor_competition.ini (recarena sweep), paired by seed:
#  1. under strong competition (public reputation, hard max) the greedy
#     bandit is not beaten: Thompson's market share has a 95% CI below 1/2;
#  2. relaxing competition by a share of random users (half the users pick at
#     random: HardMax&Random) rewards exploration: Thompson's share rises,
#     paired t > 2.201 (the 95% two-sided critical value at 11 degrees of
#     freedom), and its mean is above 1/2;
#  3. relaxing it by a softmax choice (market_temperature = 0.1) rewards
#     exploration too: Thompson's share rises over hard max, paired t > 2.201;
#  4. a first mover (a head start of 30 ticks, with a tenth of the users
#     random so that the late entrant is ever picked) keeps more of the market
#     when it explores: Thompson as the first mover holds a larger share than
#     greedy as the first mover, paired t > 2.201.
# usage: test_aridor_competition.sh SOURCE_DIR BUILD_DIR
set -u
cd "$1" || exit 1
bin=$2/sim/recarena
bandit=$2/agents/recarena-bandit
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
sweep() {
    "$bin" sweep scenarios/studies/aridor_competition.ini --seeds 1-12 --no-progress \
        --set "agent.greedy.command=$bandit --algo egreedy --epsilon 0" \
        --set "agent.thompson.command=$bandit --algo thompson" "$@" > "$tmp/log" 2>&1 ||
        { cat "$tmp/log" >&2; echo "FAIL: sweep $*" >&2; exit 1; }
}
sweep --grid world.market_random_share=0,0.5 --out "$tmp/share"
sweep --grid world.market_temperature=0.1 --out "$tmp/softmax"
sweep --set world.market_random_share=0.1 --grid agent.greedy.enter_tick=30 --out "$tmp/thompson_first"
sweep --set world.market_random_share=0.1 --grid agent.thompson.enter_tick=30 --out "$tmp/greedy_first"
python3 - "$tmp" <<'PY'
import csv, math, statistics as st, sys
tmp = sys.argv[1]
def shares(study, key, agent="thompson"):
    """{cell value: {seed: agent's share}} from a study's runs.csv"""
    by = {}
    for r in csv.DictReader(open(f"{tmp}/{study}/runs.csv")):
        by.setdefault(r[key], {})[int(r["seed"])] = float(r[agent + ".share"])
    return by
def ci(xs):
    m, se = st.mean(xs), st.stdev(xs) / math.sqrt(len(xs))
    return m, m - 2.201 * se, m + 2.201 * se, m / se
share = shares("share", "world.market_random_share")
hard, relaxed = share["0"], share["0.5"]
seeds = sorted(hard)
m, lo, hi, _ = ci([hard[s] for s in seeds])
print(f"hard max: thompson share {m:.3f} (95% CI {lo:.3f} to {hi:.3f})")
ok = hi < 0.5
dm, dlo, dhi, t = ci([relaxed[s] - hard[s] for s in seeds])
mr = st.mean(relaxed[s] for s in seeds)
print(f"random share 0.5: thompson share {mr:.3f}; paired gain {dm:.3f} (95% CI {dlo:.3f} to {dhi:.3f}, t {t:.1f})")
ok = ok and t > 2.201 and mr > 0.5
soft = shares("softmax", "world.market_temperature")["0.1"]
dm, dlo, dhi, t = ci([soft[s] - hard[s] for s in seeds])
print(f"softmax 0.1: thompson share {st.mean(soft[s] for s in seeds):.3f}; paired gain {dm:.3f} (95% CI {dlo:.3f} to {dhi:.3f}, t {t:.1f})")
ok = ok and t > 2.201
first_t = shares("thompson_first", "agent.greedy.enter_tick")["30"]
first_g = shares("greedy_first", "agent.thompson.enter_tick", "greedy")["30"]
dm, dlo, dhi, t = ci([first_t[s] - first_g[s] for s in seeds])
print(f"head start 30 (random share 0.1): first mover's share, thompson {st.mean(first_t.values()):.3f}, "
      f"greedy {st.mean(first_g.values()):.3f}; paired difference {dm:.3f} (95% CI {dlo:.3f} to {dhi:.3f}, t {t:.1f})")
ok = ok and t > 2.201
print("aridor_competition: " + ("ok" if ok else "FAIL"))
sys.exit(0 if ok else 1)
PY
