#!/usr/bin/python3
"""Times one MADDPG update step in PyTorch on the CPU, the same update
that recarena's C agents take (agents/rl/maddpg.c), and, in the same run,
recarena-rl-bench's figure for it; prints both and the ratio.

Sizes are the reference ones of recarena-rl-bench: 3 agents, observation
26 (dim 16 + 10 topics), action 16 (a unit query: the actor's linear
output divided by its norm), critic input 26 + 3 x 16 = 74, two 64-unit
ReLU layers in both networks, batch 1024 sampled uniformly from a replay
of 100,000 transitions, Adam (lr 0.01), gradient clipping to norm 0.5,
soft target updates with tau 0.01. One step is: target actor and target
critic on the next observations, a critic step on the MSE, an actor step
on -mean Q + 1e-3 mean(z^2) through the critic (whose parameters are
frozen for it, so autograd computes no critic weight gradients, as the C
code does not), and both soft updates. One thread each
(torch.set_num_threads(1) and OPENBLAS_NUM_THREADS=1, since Debian's torch
calls the system OpenBLAS; the C side uses one OpenBLAS thread).

    bench/maddpg_torch.py [--seconds 5] [--build build] [--cpu-time]

--cpu-time times both sides by the process's CPU time (time.process_time
here, recarena-rl-bench --cpu-time there) instead of the wall clock: on
a loaded machine the wall clock mostly measures the wait for a core.

Needs Debian's python3-torch (apt-get install python3-torch) and a build
(make build). Not a test: docs/benchmarks.md records the figures.
"""
import argparse
import os
import subprocess
import sys
import time

# Debian's torch calls the system BLAS (OpenBLAS here) for its matrix
# products: one thread there too, as on the C side
os.environ["OPENBLAS_NUM_THREADS"] = "1"
import torch  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OBS, ACT, AGENTS, HIDDEN, BATCH, BUFFER = 26, 16, 3, 64, 1024, 100000
CRITIC_IN = OBS + AGENTS * ACT
WIDTH = 2 * OBS + ACT + 2 * (AGENTS - 1) * ACT + 2  # tracker.h's row layout


def mlp(n_in, n_out):
    return torch.nn.Sequential(torch.nn.Linear(n_in, HIDDEN), torch.nn.ReLU(),
                               torch.nn.Linear(HIDDEN, HIDDEN), torch.nn.ReLU(),
                               torch.nn.Linear(HIDDEN, n_out))


def unit(z):
    return z / z.norm(dim=1, keepdim=True).clamp_min(1e-6)


class Learner:
    def __init__(self):
        self.actor, self.critic = mlp(OBS, ACT), mlp(CRITIC_IN, 1)
        self.actor_target, self.critic_target = mlp(OBS, ACT), mlp(CRITIC_IN, 1)
        self.actor_target.load_state_dict(self.actor.state_dict())
        self.critic_target.load_state_dict(self.critic.state_dict())
        for p in list(self.actor_target.parameters()) + list(self.critic_target.parameters()):
            p.requires_grad_(False)
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=1e-2)
        self.critic_opt = torch.optim.Adam(self.critic.parameters(), lr=1e-2)
        self.replay = torch.rand(BUFFER, WIDTH) * 2 - 1
        self.replay[:, -1] = (torch.rand(BUFFER) < 0.1).float()

    def step(self):
        rows = self.replay[torch.randint(BUFFER, (BATCH,))]
        o, a_all = rows[:, :OBS], rows[:, OBS:OBS + AGENTS * ACT]
        others = rows[:, OBS + ACT:OBS + AGENTS * ACT]
        r = rows[:, OBS + AGENTS * ACT:OBS + AGENTS * ACT + 1]
        nxt = OBS + AGENTS * ACT + 1
        o2, others2, done = rows[:, nxt:nxt + OBS], rows[:, nxt + OBS:-1], rows[:, -1:]
        with torch.no_grad():
            a2 = unit(self.actor_target(o2))
            y = r + 0.95 * (1 - done) * self.critic_target(torch.cat([o2, a2, others2], 1))
        q = self.critic(torch.cat([o, a_all], 1))
        loss = ((q - y) ** 2).mean()
        self.critic_opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.critic.parameters(), 0.5)
        self.critic_opt.step()

        for p in self.critic.parameters():
            p.requires_grad_(False)
        z = self.actor(o)
        actor_loss = -self.critic(torch.cat([o, unit(z), others], 1)).mean() + 1e-3 * (z ** 2).mean()
        self.actor_opt.zero_grad()
        actor_loss.backward()
        torch.nn.utils.clip_grad_norm_(self.actor.parameters(), 0.5)
        self.actor_opt.step()
        for p in self.critic.parameters():
            p.requires_grad_(True)

        with torch.no_grad():
            for t, s in ((self.actor_target, self.actor), (self.critic_target, self.critic)):
                for pt, ps in zip(t.parameters(), s.parameters()):
                    pt.mul_(0.99).add_(ps, alpha=0.01)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=5.0, help="time per measurement (default 5)")
    p.add_argument("--build", default=os.path.join(ROOT, "build"), help="build folder (default build)")
    p.add_argument("--cpu-time", action="store_true",
                   help="time by the process's CPU time instead of the wall clock")
    args = p.parse_args()
    clock = time.process_time if args.cpu_time else time.perf_counter
    bench = os.path.join(os.path.abspath(args.build), "agents", "recarena-rl-bench")
    if not os.access(bench, os.X_OK):
        sys.exit(f"maddpg_torch: {bench} not found: build first (make build)")

    torch.set_num_threads(1)
    torch.manual_seed(0)
    learner = Learner()
    for _ in range(5):  # warm up
        learner.step()
    steps, start = 0, clock()
    while clock() - start < args.seconds:
        learner.step()
        steps += 1
    torch_rate = steps / (clock() - start)

    cmd = [bench, "--only", "maddpg", "--seconds", str(args.seconds)]
    if args.cpu_time:
        cmd.append("--cpu-time")
    out = subprocess.run(cmd,
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    ours = float(out.split()[-1])
    print(f"MADDPG update, {AGENTS} agents, critic input {CRITIC_IN}, 2 x {HIDDEN} ReLU, "
          f"batch {BATCH}, one thread, {'process CPU time' if args.cpu_time else 'wall clock'}:")
    print(f"  PyTorch {torch.__version__} (CPU): {torch_rate:8.1f} steps/s ({1e3 / torch_rate:.2f} ms)")
    print(f"  recarena (C, OpenBLAS):   {ours:8.1f} steps/s ({1e3 / ours:.2f} ms)")
    print(f"  ratio: recarena is {ours / torch_rate:.2f}x PyTorch's speed (issue 18: 2.5x, or the sgemm roofline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
