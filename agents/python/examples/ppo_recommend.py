#!/usr/bin/env python3
"""PPO on recarena's Gymnasium env, in one file (CleanRL style): copy it,
change it.

    build/venv/bin/python agents/python/examples/ppo_recommend.py --updates 60 --plot curve.png

The env is the vector form of recarena/Recommend-v0 on the package's small
scenario (one learner against the server's popularity recommender in a
market): one step is one tick, one row per request, each row's reward its
own (a click). The policy scores every candidate item from the user's
features and the item's embedding (one small MLP shared by all items, so
it works for items it never saw) and draws the slate as k items without
replacement from the softmax of the scores (a Plackett-Luce policy, whose
log-probability is exact). A request's reward does not depend on the next
requests, so the return is the reward itself (gamma 0) and the critic a
baseline of the user's features. The clipped PPO update is CleanRL's.

At the end it plays --eval-episodes greedy episodes (the k best scores)
and prints the learner's reward per episode beside the popularity
recommender's, from the run's summary.json. Needs torch (Debian's
python3-torch) and gymnasium (the venv of scripts/python-venv.sh).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))      # the package beside, if not installed
import recarena  # noqa: E402
from recarena.gym_env import RecommendVectorEnv  # noqa: E402


def parse():
    ap = argparse.ArgumentParser(description="PPO on recarena/Recommend-v0 (vector form)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--updates", type=int, default=60, help="PPO updates")
    ap.add_argument("--ticks-per-update", type=int, default=25, help="rollout length in ticks")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--clip", type=float, default=0.2)
    ap.add_argument("--ent-coef", type=float, default=0.01)
    ap.add_argument("--max-batch", type=int, default=256, help="rows (requests) per tick")
    ap.add_argument("--eval-episodes", type=int, default=3)
    ap.add_argument("--plot", help="write the learning curve to this PNG")
    ap.add_argument("--scenario", default=recarena.DEFAULT_SCENARIO)
    return ap.parse_args()


class Policy(nn.Module):
    """score(user, item) = MLP([f, e, f * e]); value(user) = MLP(f)."""

    def __init__(self, dim, hidden=64):
        super().__init__()
        self.score = nn.Sequential(nn.Linear(3 * dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))
        self.value = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def scores(self, features, candidates, mask):
        # features (B, dim), candidates (B, C, dim), mask (B, C) -> (B, C)
        f = features[:, None, :].expand_as(candidates)
        s = self.score(torch.cat([f, candidates, f * candidates], dim=-1)).squeeze(-1)
        return s.masked_fill(mask == 0, -1e9)


def plackett_luce_logp(scores, slates):
    """log P(slate) of drawing slates (B, k), in order, without replacement."""
    logp = torch.zeros(scores.shape[0])
    s = scores.clone()
    for j in range(slates.shape[1]):
        logp = logp + torch.log_softmax(s, dim=1).gather(1, slates[:, j:j + 1]).squeeze(1)
        s = s.scatter(1, slates[:, j:j + 1], -1e9)
    return logp


def sample_slates(scores, k, generator):
    """k rows per request without replacement: the top k of scores + Gumbel noise."""
    u = torch.rand(scores.shape, generator=generator).clamp_(1e-9, 1 - 1e-9)
    return torch.topk(scores - torch.log(-torch.log(u)), k, dim=1).indices


def tensors(obs):
    return (torch.as_tensor(obs["features"]), torch.as_tensor(np.asarray(obs["candidates"])),
            torch.as_tensor(np.asarray(obs["candidate_mask"])))


def evaluate(policy, args, k):
    """Greedy episodes in a run of their own; {agent: reward per episode}
    from the run's summary.json (the learner and the popularity recommender)."""
    env = RecommendVectorEnv(args.scenario, max_batch=args.max_batch,
                             episodes=args.eval_episodes)
    obs, info = env.reset(seed=10_000 + args.seed)
    ended = 0
    with torch.no_grad():
        while ended < args.eval_episodes:
            slates = torch.topk(policy.scores(*tensors(obs)), k, dim=1).indices.numpy()
            obs, _, term, _, info = env.step(slates)
            ended += int(term.all())
    run_dir = env._player.penv.last_run_dir      # the finished run (a new one began after it)
    with open(os.path.join(run_dir, "summary.json")) as f:
        summary = json.load(f)
    env.close()
    per = {}
    for episode in summary["episodes"]:
        for a in episode["agents"]:
            per.setdefault(a["name"], []).append(a["reward"])
    return per


def main():
    args = parse()
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    env = RecommendVectorEnv(args.scenario, max_batch=args.max_batch)
    k = env.single_action_space.k
    dim = env.single_observation_space["features"].shape[0]
    policy = Policy(dim)
    opt = torch.optim.Adam(policy.parameters(), lr=args.lr)
    obs, info = env.reset(seed=args.seed)
    curve, episode_reward, episode_requests = [], 0.0, 0
    start = time.time()
    for update in range(args.updates):
        batch = []                     # (features, candidates, mask, slates, logp, reward) of valid rows
        for _ in range(args.ticks_per_update):
            valid = info["valid"]
            f, c, m = tensors(obs)
            with torch.no_grad():
                s = policy.scores(f, c, m)
                slates = sample_slates(s, k, gen)
                logp = plackett_luce_logp(s, slates)
            obs2, rewards, term, _, info2 = env.step(slates.numpy())
            v = torch.as_tensor(valid)
            batch.append((f[v], c[v], m[v], slates[v], logp[v], torch.as_tensor(rewards)[v]))
            episode_reward += float(rewards[valid].sum())
            episode_requests += int(valid.sum())
            if term.all():
                curve.append((update, episode_reward, episode_reward / max(episode_requests, 1)))
                print(f"update {update:3d}  episode reward {episode_reward:7.0f}  "
                      f"requests {episode_requests:5d}  CTR {curve[-1][2]:.3f}", flush=True)
                episode_reward, episode_requests = 0.0, 0
            obs, info = obs2, info2
        f, c, m, slates, old_logp, r = (torch.cat(x) for x in zip(*batch))
        for _ in range(args.epochs):
            s = policy.scores(f, c, m)
            logp = plackett_luce_logp(s, slates)
            value = policy.value(f).squeeze(-1)
            adv = r - value.detach()
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            ratio = torch.exp(logp - old_logp)
            pg = -torch.min(ratio * adv, ratio.clamp(1 - args.clip, 1 + args.clip) * adv).mean()
            p = torch.softmax(s, dim=1)
            entropy = -(p * torch.log(p + 1e-12)).sum(1).mean()
            loss = pg + 0.5 * ((value - r) ** 2).mean() - args.ent_coef * entropy
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(policy.parameters(), 0.5)
            opt.step()
    env.close()
    print(f"trained {args.updates} updates in {time.time() - start:.1f} s")
    per = evaluate(policy, args, k)
    for name, rewards in per.items():
        print(f"eval {name:10s} reward per episode {np.mean(rewards):8.1f}  ({rewards})")
    if args.plot:
        plot(curve, per, args.plot)
    return per


def plot(curve, per, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    u = [c[0] for c in curve]
    fig, ax = plt.subplots(figsize=(6.4, 3.4), dpi=100)
    ax.plot(u, [c[1] for c in curve], marker=".", label="PPO learner: reward of each episode")
    for name, rewards in per.items():
        style = "-" if name == "learner" else "--"
        ax.axhline(np.mean(rewards), linestyle=style, color="C1" if name != "learner" else "C2",
                   label=f"{name}: mean reward per episode, greedy evaluation")
    ax.set_xlabel("PPO update (25 ticks each)")
    ax.set_ylabel("reward (clicks) per episode")
    ax.set_title("PPO on recarena/Recommend-v0, vector form (small.ini)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


if __name__ == "__main__":
    main()
