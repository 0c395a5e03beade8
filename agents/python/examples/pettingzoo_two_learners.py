#!/usr/bin/env python3
"""Two learning recommenders in one PettingZoo Parallel env, each with its
own policy: independent learners competing for users (the package's duel
scenario: two learners and the server's popularity recommender in a
market).

    build/venv/bin/python agents/python/examples/pettingzoo_two_learners.py --episodes 20

The env's fixed-shape form (padded=True): each agent sees up to max_batch
requests and a candidate table, and answers with candidate rows. Each
agent's policy is the Plackett-Luce scorer of ppo_recommend.py, trained
by policy gradient with a learned baseline on each request's own reward,
which the next step's info["feedback"] gives (matched to the users that
were shown the slates). "first" learns at the given learning rate,
"second" ten times slower, so the two drift apart: the market rewards the
faster learner with more users.
"""
import argparse
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import recarena  # noqa: E402
from ppo_recommend import Policy, plackett_luce_logp, sample_slates  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--episodes", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    env = recarena.parallel_env(recarena.SCENARIOS["duel"], padded=True, max_batch=128,
                                n_candidates=32)
    agents = env.possible_agents
    k = env.welcome(agents[0]).slate_size
    dim = env.welcome(agents[0]).dim
    policies = {a: Policy(dim) for a in agents}
    lrs = {agents[0]: args.lr, agents[1]: args.lr / 10}
    opts = {a: torch.optim.Adam(policies[a].parameters(), lr=lrs[a]) for a in agents}
    obs, infos = env.reset(seed=args.seed)
    for episode in range(args.episodes):
        if episode:
            obs, infos = env.reset()
        pending = {}                   # agent -> (user ids, features, candidates, mask, slates)
        totals = dict.fromkeys(agents, 0.0)
        while env.agents:
            actions = {}
            for a in env.agents:
                o = obs[a]
                n = int(o["valid"].sum())
                f = torch.as_tensor(o["features"][:n])
                c = torch.as_tensor(o["candidates"])[None].expand(n, -1, -1)
                m = torch.as_tensor(o["candidate_mask"])[None].expand(n, -1)
                with torch.no_grad():
                    slates = sample_slates(policies[a].scores(f, c, m), k, gen)
                rows = np.zeros((env.action_space(a).slates, k), dtype=np.int64)
                rows[:n] = slates.numpy()
                actions[a] = rows.reshape(-1)
                pending[a] = (o["user_ids"][:n].copy(), f, c, m, slates)
            obs, rewards, _, _, infos = env.step(actions)
            for a, reward in rewards.items():
                totals[a] += reward
                users, f, c, m, slates = pending[a]
                fb = infos[a]["feedback"]                 # this tick's, by user id
                if not len(users):
                    continue
                r = dict(zip(fb["user_ids"].tolist(), fb["reward"].tolist()))
                r = torch.tensor([r.get(u, 0.0) for u in users.tolist()])
                pol = policies[a]
                logp = plackett_luce_logp(pol.scores(f, c, m), slates)
                value = pol.value(f).squeeze(-1)
                loss = -((r - value.detach()) * logp).mean() + 0.5 * ((value - r) ** 2).mean()
                opts[a].zero_grad()
                loss.backward()
                opts[a].step()
        print(f"episode {episode:3d}  " + "  ".join(f"{a} {totals[a]:6.0f}" for a in agents),
              flush=True)
    env.close()


if __name__ == "__main__":
    main()
