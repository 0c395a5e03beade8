#!/usr/bin/env bash
# Every shipped C agent at protocol.h's limits (agent_limits.c): the
# largest sizes get valid ACTs, a WELCOME one past a limit gets a clean
# refusal (fatal ERROR, exit status 1), never a crash. Runs in the ASan
# build too, where an overflow would abort the agent.
# Usage: test_agent_limits.sh AGENT_LIMITS_BINARY AGENT_BINARY_DIR
set -u
driver=$1
bin=$2
agents=(
    "$bin/recarena-agent-random"
    "$bin/recarena-qlearn --algo tabular"
    "$bin/recarena-qlearn --algo dqn"
    "$bin/recarena-maddpg"
)
for algo in random popularity egreedy egreedy-decay ucb1 thompson linucb exp3 meta; do
    agents+=("$bin/recarena-bandit --algo $algo")
done
failed=0
for agent in "${agents[@]}"; do
    # LinUCB (alone or in meta) is O(dim^2) per item and request, the
    # tabular Q-learner O(topics^2) in memory: those play the largest
    # sizes at dim 32 and 100 topics (agent_limits.c, "max-narrow")
    case $agent in
    *linucb | *meta | *tabular) max=max-narrow ;;
    *) max=max ;;
    esac
    for case in $max batch over-slate_size over-dim over-history_len over-n_topics over-max_batch; do
        # shellcheck disable=SC2086  # the agent command is words on purpose
        if out=$("$driver" "$case" $agent 2>&1); then
            echo "ok   $agent: $(echo "$out" | tail -1)"
        else
            echo "FAIL $agent, case $case:"
            echo "$out" | tail -20 | sed 's/^/    /'
            failed=1
        fi
    done
done
exit $failed
