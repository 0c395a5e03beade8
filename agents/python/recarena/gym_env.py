"""recarena.gym_env: one recarena agent as a Gymnasium environment.

    import gymnasium, recarena
    env = gymnasium.make("recarena/Recommend-v0")              # data/small.ini
    env = gymnasium.make("recarena/Recommend-v0", scenario="scenarios/market.ini")
    obs, info = env.reset(seed=1)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample(info["action_mask"]))

RecommendEnv: one step is one request. The environment plays one agent of
the scenario (agent=NAME, default the first with a command); the others
play inside the server (a `policy`) or as their own processes (a
`command`, started as `recarena run` would). Each step serves the next
request of the agent's current tick; when the tick's last request has its
slate, the tick's ACT goes to the server, and the next tick's requests
follow (ticks without requests for this agent are passed over).

  observation  {"features": float32 (dim,) the user's public features,
                "history": int32 (history_len,) the items the user
                consumed last (-1 = none), "candidates": float32 (C, dim)
                the candidate items' embeddings, "candidate_mask": int8
                (C,) 1 = a live item}; C = n_candidates (default 32):
                the live catalog, padded, or C of its items drawn at
                random (self.np_random) when it is larger, once per tick
  action       SlateRows(C, k): k candidate rows, best first; any action
                is valid (padding and repeated rows are replaced by the
                lowest unused live rows: recarena.candidates), and
                action_space.sample(info["action_mask"]) draws k distinct
                live rows
  reward       the reward of the tick's requests, given at the step that
                completes the tick, 0 on the tick's other steps (a delayed
                reward: the server resolves a tick only when every agent
                has a slate for every request of it, and with
                reward_sharing or diversity_bonus a request's reward
                depends on the whole tick, so it is known only then);
                info["request_rewards"] has each request's reward, in
                request order; request_transitions() re-attaches them to
                their requests
  terminated   after the episode's last tick (one scenario episode)
  info         "action_mask" (C,) int8, "candidate_ids" (C,) int32,
                "user_id", "episode_index", "tick", "request" (index in the
                tick), and at a tick's end "request_rewards",
                "request_clicked" (position, -1 none)

RecommendVectorEnv (gymnasium.vector.VectorEnv): one step is one whole
tick: num_envs = max_batch rows, row i the tick's i-th request (rows past
the tick's batch are padding, info["valid"] False, their actions
ignored); rewards (num_envs,) are each request's own reward. At the
episode's end every row terminates and the next episode's first tick is
returned at once (autoreset in the same step).

Both keep every determinism promise of the server: reset(seed=N) starts a
fresh run with run seed N, and the same seed and actions give the same
observations and rewards, bit for bit.
"""
import numpy as np

import gymnasium
from gymnasium import spaces

from . import DEFAULT_SCENARIO
from .candidates import CandidateTable, slates_from_rows
from .parallel import ParallelEnv
from .scenario import external_agents, resolve
from .spaces import SlateRows

ENV_ID = "recarena/Recommend-v0"
VECTOR_ENV_ID = "recarena/RecommendVector-v0"


def register_envs():
    """Registers recarena/Recommend-v0 (and the vector form's entry point)."""
    if ENV_ID not in gymnasium.registry:
        gymnasium.register(id=ENV_ID, entry_point="recarena.gym_env:RecommendEnv",
                           vector_entry_point="recarena.gym_env:RecommendVectorEnv")


def _observation_space(dim, history_len, n_candidates, feature_space, id_high):
    return spaces.Dict({
        "features": spaces.Box(low=feature_space.low, high=feature_space.high,
                               dtype=np.float32),
        "history": spaces.Box(low=-1, high=id_high, shape=(history_len,), dtype=np.int32),
        "candidates": spaces.Box(low=-np.inf, high=np.inf, shape=(n_candidates, dim),
                                 dtype=np.float32),
        "candidate_mask": spaces.Box(low=0, high=1, shape=(n_candidates,), dtype=np.int8)})


class _Player:
    """What both envs share: a ParallelEnv playing one agent, the current
    tick's step and its candidate table."""

    def __init__(self, scenario, agent, n_candidates, kwargs):
        scenario = DEFAULT_SCENARIO if scenario is None else scenario
        if agent is None:
            names = external_agents(resolve(scenario, kwargs.get("overrides", ()),
                                            recarena_bin=kwargs.get("recarena_bin")))
            if not names:
                raise ValueError(f"{scenario}: no agent has a command for the environment to play")
            agent = names[0]
        self.name = agent
        self.penv = ParallelEnv(scenario, agents=[agent], **kwargs)
        w = self.penv.welcome(agent)
        self.k, self.dim, self.history_len = w.slate_size, w.dim, w.history_len
        self.table = CandidateTable(n_candidates, self.dim)
        wire = self.penv.observation_space(agent)
        self.feature_row = wire["features"].row_space
        self.id_high = int(wire["history"].high.max()) if wire["history"].high.size else 2 ** 31 - 1
        self.obs = self.info = None

    def observation_space(self):
        return _observation_space(self.dim, self.history_len, self.table.capacity,
                                  self.feature_row, self.id_high)

    def begin(self, seed):
        """reset: the first tick of an episode with requests (or the episode's end)."""
        obs, infos = self.penv.reset(seed=seed)
        self.obs, self.info = obs[self.name], infos[self.name]
        return self.skip_empty()

    def skip_empty(self):
        """Passes over ticks without requests; returns (tick reward, done)."""
        reward, done = 0.0, False
        while len(self.obs["user_ids"]) == 0:
            obs, rewards, terms, _, infos = self.penv.step({})
            self.obs, self.info = obs[self.name], infos[self.name]
            reward += rewards[self.name]
            if terms[self.name]:
                done = True
                break
        return reward, done

    def play(self, slates):
        """ACT for the current tick; returns (tick reward, per-request
        rewards and clicked positions in request order, done)."""
        users = self.obs["user_ids"]
        obs, rewards, terms, _, infos = self.penv.step({self.name: slates})
        self.obs, self.info = obs[self.name], infos[self.name]
        fb = self.info["feedback"]
        order = np.argsort(fb["user_ids"], kind="stable")
        pos = np.searchsorted(fb["user_ids"], users, sorter=order)
        pos = order[np.minimum(pos, len(order) - 1)] if len(order) else np.zeros(len(users), int)
        found = (fb["user_ids"][pos] == users) if len(order) else np.zeros(len(users), bool)
        req_rewards = np.where(found, fb["reward"][pos] if len(order) else 0.0, 0.0)
        req_clicked = np.where(found, fb["clicked"][pos] if len(order) else -1, -1)
        reward, done = rewards[self.name], bool(terms[self.name])
        if not done:
            more, done = self.skip_empty()
            reward += more
        return reward, req_rewards.astype(np.float32), req_clicked.astype(np.int32), done

    def fill_table(self, rng):
        self.table.fill(self.penv.catalog(self.name), rng)


class RecommendEnv(gymnasium.Env):
    """One request per step (see the module's documentation).

    RecommendEnv(scenario=None, *, agent=None, n_candidates=32,
                 render_mode=None, **ParallelEnv options: overrides,
                 recarena_bin, episodes, deadline_ms, timeout_s, keep_files)"""

    metadata = {"render_modes": ["human", "ansi"], "render_fps": 30}

    def __init__(self, scenario=None, *, agent=None, n_candidates=32, render_mode=None,
                 **kwargs):
        if render_mode not in (None, "human", "ansi"):
            raise ValueError(f"render_mode {render_mode!r}: expected None, 'human' or 'ansi'")
        self.render_mode = render_mode
        self._player = _Player(scenario, agent, n_candidates, kwargs)
        self.observation_space = self._player.observation_space()
        self.action_space = SlateRows(n_candidates, self._player.k)
        self._i = 0
        self._rows = None
        self._done = True
        self._last = ""

    def __repr__(self):
        return (f"RecommendEnv(agent={self._player.name!r}, k={self._player.k}, "
                f"candidates={self._player.table.capacity})")

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        _, done = self._player.begin(seed)
        self._done = done
        self._new_tick()
        return self._observation(), self._info()

    def step(self, action):
        if self._done:
            raise RuntimeError("step() after the episode ended: call reset()")
        p = self._player
        self._rows[self._i] = np.asarray(action, dtype=np.int64).reshape(p.k)
        self._i += 1
        if self._i < len(p.obs["user_ids"]):
            return self._observation(), 0.0, False, False, self._info()
        slates = slates_from_rows(self._rows, p.table)
        reward, req_rewards, req_clicked, done = p.play(slates)
        self._done = done
        self._last = (f"episode {p.info.get('episode_index')} tick {p.info.get('tick')}: "
                      f"reward {reward:.3f} over {len(req_rewards)} requests")
        if not done:
            self._new_tick()
        info = self._info()
        info["request_rewards"], info["request_clicked"] = req_rewards, req_clicked
        if self.render_mode == "human":
            print(self._last)
        return self._observation(), float(reward), done, False, info

    def render(self):
        if self.render_mode == "ansi":
            return self._last or "recarena: no tick played yet"
        if self.render_mode == "human":
            print(self._last or "recarena: no tick played yet")
        return None

    def close(self):
        self._player.penv.close()

    def _new_tick(self):
        p = self._player
        self._i = 0
        self._rows = np.zeros((len(p.obs["user_ids"]), p.k), dtype=np.int64)
        p.fill_table(self.np_random)

    def _observation(self):
        p = self._player
        if self._done or self._i >= len(p.obs["user_ids"]):
            return {"features": np.zeros(p.dim, dtype=np.float32),
                    "history": np.full(p.history_len, -1, dtype=np.int32),
                    "candidates": p.table.embeddings.copy(),
                    "candidate_mask": p.table.mask.copy()}
        return {"features": p.obs["features"][self._i].copy(),
                "history": p.obs["history"][self._i].copy(),
                "candidates": p.table.embeddings.copy(),
                "candidate_mask": p.table.mask.copy()}

    def _info(self):
        p = self._player
        live = not self._done and self._i < len(p.obs["user_ids"])
        return {"action_mask": p.table.mask.copy(), "candidate_ids": p.table.ids.copy(),
                "user_id": int(p.obs["user_ids"][self._i]) if live else -1,
                "episode_index": int(p.info.get("episode_index", -1)), "tick": int(p.info.get("tick", -1)),
                "request": self._i if live else -1}


def request_transitions(env, policy, *, seed=None, options=None):
    """Plays one episode of a RecommendEnv with policy(obs, info) -> action
    and yields, for every request in order, a tuple (obs, action, reward,
    next_obs, terminated, info) whose reward is that request's own reward.

    The env itself can only return a request's reward at the step that
    completes its tick (module documentation, "reward"); this generator
    holds a tick's transitions back until then and releases them with
    info["request_rewards"], for learners that store transitions (a
    replay buffer) and want each credited with its own click. What the
    step reward holds beyond the tick's request rewards (reward shared
    with this agent on ticks where it had no request) goes to the tick's
    last transition, so the rewards still add up to the episode's.
    info is the info that came with obs."""
    obs, info = env.reset(seed=seed, options=options)
    if getattr(env.unwrapped, "_done", False):     # an episode without requests
        return
    pending = []
    while True:
        action = policy(obs, info)
        next_obs, reward, terminated, truncated, next_info = env.step(action)
        pending.append([obs, action, 0.0, next_obs, False, info])
        if "request_rewards" in next_info:
            rewards = next_info["request_rewards"]
            if len(rewards) != len(pending):
                raise RuntimeError(f"recarena: {len(pending)} steps held for a tick of "
                                   f"{len(rewards)} requests")
            for t, r in zip(pending, rewards):
                t[2] = float(r)
            pending[-1][2] += float(reward) - float(np.sum(rewards, dtype=np.float64))
            pending[-1][4] = bool(terminated)
            for t in pending:
                yield tuple(t)
            pending = []
        if terminated or truncated:
            return
        obs, info = next_obs, next_info


class RecommendVectorEnv(gymnasium.vector.VectorEnv):
    """One tick per step, one row per request (see the module's documentation).

    RecommendVectorEnv(scenario=None, *, max_batch=None, agent=None,
                       n_candidates=32, **ParallelEnv options)
    max_batch: rows (num_envs); default WELCOME's limits.max_batch. A tick
    with more requests raises. Also made by gymnasium.make_vec(
    "recarena/Recommend-v0", num_envs=N, vectorization_mode="vector_entry_point")."""

    metadata = {"render_modes": [], "autoreset_mode": "SameStep"}

    def __init__(self, scenario=None, *, max_batch=None, num_envs=None, agent=None,
                 n_candidates=32, **kwargs):
        kwargs.pop("render_mode", None)
        self._player = p = _Player(scenario, agent, n_candidates, kwargs)
        batch = max_batch or num_envs or p.penv.welcome(p.name).limits["max_batch"]
        self.num_envs = int(batch)
        self.single_observation_space = p.observation_space()
        self.single_action_space = SlateRows(n_candidates, p.k)
        self.observation_space = gymnasium.vector.utils.batch_space(
            self.single_observation_space, self.num_envs)
        self.action_space = spaces.MultiDiscrete(np.full((self.num_envs, p.k), n_candidates))
        self._rng = np.random.default_rng()
        self._n = 0

    def __repr__(self):
        return (f"RecommendVectorEnv(agent={self._player.name!r}, num_envs={self.num_envs}, "
                f"k={self._player.k}, candidates={self._player.table.capacity})")

    def reset(self, *, seed=None, options=None):
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._player.begin(seed)
        return self._observation(), self._info()

    def step(self, actions):
        p = self._player
        rows = np.asarray(actions, dtype=np.int64).reshape(self.num_envs, p.k)[:self._n]
        reward, req_rewards, _, done = p.play(slates_from_rows(rows, p.table))
        rewards = np.zeros(self.num_envs, dtype=np.float32)
        rewards[:len(req_rewards)] = req_rewards
        terminations = np.full(self.num_envs, done)
        if done:
            p.begin(None)
        return (self._observation(), rewards, terminations,
                np.zeros(self.num_envs, dtype=bool), self._info())

    def close(self, **kwargs):
        self._player.penv.close()

    def _observation(self):
        p = self._player
        n = len(p.obs["user_ids"])
        if n > self.num_envs:
            raise RuntimeError(f"{n} requests in one tick, more than max_batch={self.num_envs}; "
                               "pass a larger max_batch")
        self._n = n
        p.fill_table(self._rng)
        features = np.zeros((self.num_envs, p.dim), dtype=np.float32)
        features[:n] = p.obs["features"]
        history = np.full((self.num_envs, p.history_len), -1, dtype=np.int32)
        history[:n] = p.obs["history"]
        # the table is the same for every row: read-only broadcast views of a copy
        self._emb, self._mask = p.table.embeddings.copy(), p.table.mask.copy()
        return {"features": features, "history": history,
                "candidates": np.broadcast_to(self._emb, (self.num_envs,) + self._emb.shape),
                "candidate_mask": np.broadcast_to(self._mask, (self.num_envs, len(self._mask)))}

    def _info(self):
        p = self._player
        valid = np.zeros(self.num_envs, dtype=bool)
        valid[:self._n] = True
        user_ids = np.full(self.num_envs, -1, dtype=np.int32)
        user_ids[:self._n] = p.obs["user_ids"]
        ids = p.table.ids.copy()
        return {"valid": valid, "user_ids": user_ids,
                "action_mask": np.broadcast_to(self._mask, (self.num_envs, len(self._mask))),
                "candidate_ids": np.broadcast_to(ids, (self.num_envs, len(ids)))}
