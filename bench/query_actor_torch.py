#!/usr/bin/python3
"""A unit query or a tanh one for recarena-maddpg's actor
(docs/agents.md): DDPG on a one-step version of the recommendation task,
in PyTorch, with either output, printing the click probability of the
greedy actor as it trains.

The task mimics the default world (docs/world.md): 16-dim embeddings, 10
topics, 300 items, 2,000 users with noisy public features, slates of 6,
the position-weighted logit with temperature 0.2 and no-click score 0.5.
A user arrives, the actor (two 64-unit ReLU layers) turns the features
into a query, the slate is the top 6 items by embedding . query, and the
reward is a click drawn from the logit. The critic (two 64-unit ReLU
layers) sees features and query; Adam, batch 1024, gradient clipping 0.5,
one training step per --every users, Gaussian exploration noise 0.1.

    bench/query_actor_torch.py --output tanh
    bench/query_actor_torch.py --output unit

Needs Debian's python3-torch. Takes a few minutes per run.
"""
import argparse
import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"
import numpy as np  # noqa: E402
import torch  # noqa: E402

D, TOPICS, ITEMS, K, USERS = 16, 10, 300, 6, 2000


def normalise(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--output", choices=["tanh", "unit"], required=True)
    p.add_argument("--lr", type=float, default=1e-2)
    p.add_argument("--every", type=int, default=10, help="users per training step (default 10)")
    p.add_argument("--users", type=int, default=60000, help="users served in all (default 60000)")
    args = p.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    centres = normalise(rng.normal(size=(TOPICS, D)))
    emb = normalise(centres[rng.integers(TOPICS, size=ITEMS)] + 0.25 * rng.normal(size=(ITEMS, D)))
    emb = emb.astype(np.float32)
    quality = 0.3 * rng.normal(size=ITEMS)
    interest = normalise(centres[rng.integers(TOPICS, size=USERS)] + 0.25 * rng.normal(size=(USERS, D)))
    features = (interest + 0.3 * rng.normal(size=(USERS, D))).astype(np.float32)
    examination = (1.0 + np.arange(K)) ** -1.0

    def click_probability(users, queries):
        top = np.argsort(-(queries @ emb.T), axis=1)[:, :K]
        score = np.einsum("nd,nkd->nk", interest[users], emb[top]) + 0.5 * quality[top]
        v = examination * np.exp(score / 0.2)
        return v.sum(1) / (np.exp(0.5 / 0.2) + v.sum(1))

    def mlp(n_in, n_out):
        return torch.nn.Sequential(torch.nn.Linear(n_in, 64), torch.nn.ReLU(),
                                   torch.nn.Linear(64, 64), torch.nn.ReLU(),
                                   torch.nn.Linear(64, n_out))

    actor, critic = mlp(D, D), mlp(2 * D, 1)
    actor_opt = torch.optim.Adam(actor.parameters(), args.lr)
    critic_opt = torch.optim.Adam(critic.parameters(), args.lr)

    def act(f):
        z = actor(f)
        if args.output == "tanh":
            return torch.tanh(z), z
        return z / z.norm(dim=1, keepdim=True).clamp_min(1e-6), z

    everyone = np.arange(USERS)
    print(f"random queries: {click_probability(everyone, rng.normal(size=(USERS, D))).mean():.3f}, "
          f"features as queries: {click_probability(everyone, features).mean():.3f}")
    buf_f, buf_q, buf_r = [], [], []
    steps = 0
    for t in range(1, args.users + 1):
        u = rng.integers(USERS, size=1)
        with torch.no_grad():
            q = act(torch.from_numpy(features[u]))[0].numpy()
        q = q + 0.1 * rng.normal(size=q.shape)
        q = (normalise(q) if args.output == "unit" else np.clip(q, -1, 1)).astype(np.float32)
        buf_f.append(features[u[0]])
        buf_q.append(q[0])
        buf_r.append(np.float32(rng.random() < click_probability(u, q)[0]))
        if t % args.every == 0 and len(buf_f) >= 1024:
            i = rng.integers(len(buf_f), size=1024)
            f = torch.from_numpy(np.array(buf_f)[i])
            qs = torch.from_numpy(np.array(buf_q)[i])
            r = torch.from_numpy(np.array(buf_r)[i])[:, None]
            loss = ((critic(torch.cat([f, qs], 1)) - r) ** 2).mean()
            critic_opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(critic.parameters(), 0.5)
            critic_opt.step()
            q_pi, z = act(f)
            actor_loss = -critic(torch.cat([f, q_pi], 1)).mean() + 1e-3 * (z ** 2).mean()
            actor_opt.zero_grad()
            actor_loss.backward()
            torch.nn.utils.clip_grad_norm_(actor.parameters(), 0.5)
            actor_opt.step()
            steps += 1
        if t % 5000 == 0:
            with torch.no_grad():
                greedy = act(torch.from_numpy(features))[0].numpy()
            print(f"users {t:6d}  training steps {steps:5d}  greedy click probability "
                  f"{click_probability(everyone, greedy).mean():.3f}", flush=True)


if __name__ == "__main__":
    main()
