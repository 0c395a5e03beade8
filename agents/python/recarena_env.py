"""recarena_env: a recarena server as a multi-agent environment for Python
training code, with the semantics of PettingZoo's Parallel API.

    import recarena_env

    env = recarena_env.ParallelEnv("scenarios/processes.ini")
    observations, infos = env.reset(seed=42)
    while env.agents:
        actions = {a: env.action_space(a).sample() for a in env.agents}
        observations, rewards, terminations, truncations, infos = env.step(actions)
    env.close()

The environment starts `recarena serve SCENARIO` itself on an ipc://
endpoint in a private temporary directory (the binary: the argument
recarena_bin, else $RECARENA_BIN, else ./build/sim/recarena), or connects
to a server already running (endpoint=..., agents=[...]). It opens one
protocol connection per agent (recarena_client.Connection).

Agents: the scenario's agents that have a `command`: in serve mode those
are the slots for external agents, and this environment fills them. The
agents with a built-in `policy` keep playing inside the server.

One env.step(actions) is one tick: one ACT per live agent, then the next
STEP of each. Per agent:

  observation   {"user_ids": int32 (n,), "features": float32 (n, dim),
                 "history": int32 (n, history_len)}: the users to serve
                 this tick (STEP.requests); n changes every tick and may
                 be 0 (in market mode an agent serves only its users)
  action        int (n, k): one slate of k distinct live item ids per
                 request, row i for user_ids[i]; an agent with n = 0 may be
                 left out of the actions dict
  reward        the agent's reward for the tick just played (STEP.tick_reward,
                 after reward sharing; EPISODE_END.tick_reward for the last)
  termination   True after the episode's last tick (then the agent leaves
                 env.agents, and its observation has n = 0)
  truncation    always False
  info          "episode", "tick" (of the observation), "feedback" (the
                 previous tick's, recarena_client.Feedback: user_ids,
                 clicked, reward, session_end), "catalog" (the live items
                 the next action may use, recarena_client.Catalog: ids,
                 topics, providers, embeddings), "born", "retired" (this
                 tick's catalog changes), "errors" (non-fatal ERRORs from
                 the server since the last call, e.g. an invalid slate:
                 [(code, message)]), "resync" (True when the catalog was
                 re-sent mid-episode), "joint" (recarena_client.Joint of
                 the tick just played, with joint=True), and at the end
                 "episode_end" (recarena_client.EpisodeEnd: totals).

Variable batch. Gymnasium's Box has a fixed shape, but the number of
requests changes every tick. So each part of the observation is a
BatchBox: a Box whose first dimension is the batch, shape (None, ...):
`low`, `high` are those of one row, `row_space` is the Box of one row,
`batch_space(n)` the fixed Box of a batch of n. The action space is a
Slate(n, k) space of shape (None, k): k distinct ids per row, ids below n
(n = 0: no bound; the valid ids are the live items, info["catalog"].ids).
Where gymnasium is importable these are gymnasium.spaces.Space subclasses
inside a gymnasium.spaces.Dict; otherwise small stand-ins with the same
fields (shape, dtype, low, high, n, k, spaces, contains, sample, seed).
env.action_space(agent).sample() gives a valid random action for the
agent's current batch and live items.

reset(seed=N) always starts a fresh run with run seed N (a new server
process), so the same seed gives the same episode. reset() without a seed
goes on to the next episode of the current run, or starts a new run (with
a seed derived from the last one) when the run is over or an episode is
still under way. Connected to an external server (endpoint=...), reset()
can only go on to the next episode.

state() is the concatenation of every agent's current observation, with
an "agent" column (index into possible_agents): a dict of the same four
keys, described by env.state_space.
"""
import configparser
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recarena_client as rc  # noqa: E402

try:
    import gymnasium
    from gymnasium import spaces as _gym_spaces
except ImportError:          # the stand-ins below take over
    gymnasium = None
    _gym_spaces = None

try:
    from pettingzoo import ParallelEnv as _ParallelEnvBase
except ImportError:
    _ParallelEnvBase = object


# ---- spaces ------------------------------------------------------------------

def _np_random(seed=None):
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


class _StandInSpace:
    """What this module needs of gymnasium.spaces.Space."""

    def __init__(self, shape=None, dtype=None, seed=None):
        self._shape = None if shape is None else tuple(shape)
        self.dtype = None if dtype is None else np.dtype(dtype)
        self._np_random = None if seed is None else _np_random(seed)

    @property
    def shape(self):
        return self._shape

    @property
    def np_random(self):
        if self._np_random is None:
            self._np_random = _np_random()
        return self._np_random

    def seed(self, seed=None):
        self._np_random = _np_random(seed)
        return [seed]

    def contains(self, x):
        raise NotImplementedError

    def __contains__(self, x):
        return self.contains(x)

    is_np_flattenable = False


_SpaceBase = _gym_spaces.Space if _gym_spaces else _StandInSpace


def _in_bounds(x, low, high):
    with np.errstate(invalid="ignore"):
        return bool(np.all(x >= low) and np.all(x <= high))


def _castable(x, dtype):
    return np.can_cast(x.dtype, dtype) or (x.dtype.kind in "iu" and dtype.kind in "iu") or (
        x.dtype.kind == "f" and dtype.kind == "f")


class _Box(_StandInSpace):
    """Stand-in for gymnasium.spaces.Box (fixed shape)."""

    def __init__(self, low, high, shape=None, dtype=np.float32, seed=None):
        if shape is None:
            shape = np.shape(low)
        super().__init__(shape, dtype, seed)
        self.low = np.full(self._shape, low, dtype=self.dtype)
        self.high = np.full(self._shape, high, dtype=self.dtype)

    def contains(self, x):
        if not isinstance(x, np.ndarray):
            try:
                x = np.asarray(x, dtype=self.dtype)
            except (ValueError, TypeError):
                return False
        return x.shape == self._shape and _castable(x, self.dtype) and _in_bounds(x, self.low, self.high)

    def sample(self, mask=None, **kwargs):
        return _sample_box(self.np_random, self.low, self.high, self._shape, self.dtype)

    def __repr__(self):
        return f"Box({self.low.min() if self.low.size else ''}, " \
               f"{self.high.max() if self.high.size else ''}, {self._shape}, {self.dtype})"

    def __eq__(self, other):
        return (isinstance(other, _Box) and self._shape == other._shape and self.dtype == other.dtype
                and np.array_equal(self.low, other.low) and np.array_equal(self.high, other.high))


class _Discrete(_StandInSpace):
    """Stand-in for gymnasium.spaces.Discrete."""

    def __init__(self, n, seed=None):
        super().__init__((), np.int64, seed)
        self.n, self.start = int(n), 0

    def contains(self, x):
        return isinstance(x, (int, np.integer)) and 0 <= int(x) < self.n

    def sample(self, mask=None, **kwargs):
        return np.int64(self.np_random.integers(self.n))

    def __repr__(self):
        return f"Discrete({self.n})"

    def __eq__(self, other):
        return isinstance(other, _Discrete) and self.n == other.n


class _MultiDiscrete(_StandInSpace):
    """Stand-in for gymnasium.spaces.MultiDiscrete."""

    def __init__(self, nvec, seed=None):
        self.nvec = np.asarray(nvec, dtype=np.int64)
        super().__init__(self.nvec.shape, np.int64, seed)

    def contains(self, x):
        x = np.asarray(x)
        return x.shape == self.nvec.shape and x.dtype.kind in "iu" and bool(
            np.all(x >= 0) and np.all(x < self.nvec))

    def sample(self, mask=None, **kwargs):
        return (self.np_random.random(self.nvec.shape) * self.nvec).astype(np.int64)

    def __repr__(self):
        return f"MultiDiscrete({self.nvec.tolist()})"

    def __eq__(self, other):
        return isinstance(other, _MultiDiscrete) and np.array_equal(self.nvec, other.nvec)


class _Dict(_StandInSpace):
    """Stand-in for gymnasium.spaces.Dict: spaces, keys(), [name], contains, sample."""

    def __init__(self, spaces, seed=None):
        super().__init__(None, None, seed)
        self.spaces = dict(spaces)

    def __getitem__(self, key):
        return self.spaces[key]

    def keys(self):
        return self.spaces.keys()

    def items(self):
        return self.spaces.items()

    def __iter__(self):
        return iter(self.spaces)

    def __len__(self):
        return len(self.spaces)

    def seed(self, seed=None):
        rng = _np_random(seed)
        for space in self.spaces.values():
            space.seed(int(rng.integers(2 ** 63)))
        return [seed]

    def contains(self, x):
        return (isinstance(x, dict) and x.keys() == self.spaces.keys()
                and all(space.contains(x[k]) for k, space in self.spaces.items()))

    def sample(self, mask=None, **kwargs):
        return {k: space.sample() for k, space in self.spaces.items()}

    def __repr__(self):
        return "Dict(" + ", ".join(f"{k!r}: {v}" for k, v in self.spaces.items()) + ")"

    def __eq__(self, other):
        return isinstance(other, _Dict) and self.spaces == other.spaces


if _gym_spaces:
    Box, Discrete, MultiDiscrete, Dict = (_gym_spaces.Box, _gym_spaces.Discrete,
                                          _gym_spaces.MultiDiscrete, _gym_spaces.Dict)
else:
    Box, Discrete, MultiDiscrete, Dict = _Box, _Discrete, _MultiDiscrete, _Dict


def _sample_box(rng, low, high, shape, dtype):
    if dtype.kind in "iu":
        return rng.integers(low.astype(np.int64), high.astype(np.int64) + 1, size=shape).astype(dtype)
    lo = np.where(np.isfinite(low), low, -1.0)
    hi = np.where(np.isfinite(high), high, 1.0)
    return rng.uniform(lo, hi, size=shape).astype(dtype)


class BatchBox(_SpaceBase):
    """A Box whose first dimension is the variable batch (the requests of a
    tick): shape (None, *row). low and high are those of one row; row_space
    is the Box of one row, batch_space(n) the Box of a batch of n rows."""

    def __init__(self, low, high, row_shape, dtype, seed=None):
        super().__init__(None, dtype, seed)
        self.row_shape = tuple(int(s) for s in row_shape)
        self._shape = (None,) + self.row_shape
        self.low = np.full(self.row_shape, low, dtype=self.dtype)
        self.high = np.full(self.row_shape, high, dtype=self.dtype)
        self.row_space = Box(low=low, high=high, shape=self.row_shape, dtype=self.dtype)

    @property
    def shape(self):
        return self._shape

    @property
    def is_np_flattenable(self):
        return False

    def batch_space(self, n):
        """The fixed-shape Box of a batch of n rows."""
        return Box(low=np.broadcast_to(self.low, (n,) + self.row_shape).copy(),
                   high=np.broadcast_to(self.high, (n,) + self.row_shape).copy(),
                   dtype=self.dtype)

    def contains(self, x):
        if not isinstance(x, np.ndarray):
            return False
        return (x.ndim == len(self._shape) and x.shape[1:] == self.row_shape
                and _castable(x, self.dtype) and _in_bounds(x, self.low, self.high))

    def sample(self, mask=None, batch=1, **kwargs):
        """A random batch of `batch` rows (default 1)."""
        return _sample_box(self.np_random, np.broadcast_to(self.low, (batch,) + self.row_shape),
                           np.broadcast_to(self.high, (batch,) + self.row_shape),
                           (batch,) + self.row_shape, self.dtype)

    def __repr__(self):
        lo = self.low.min() if self.low.size else self.low
        hi = self.high.max() if self.high.size else self.high
        return f"BatchBox({lo}, {hi}, {self._shape}, {self.dtype})"

    def __eq__(self, other):
        return (isinstance(other, BatchBox) and self.row_shape == other.row_shape
                and self.dtype == other.dtype and np.array_equal(self.low, other.low)
                and np.array_equal(self.high, other.high))


class Slate(_SpaceBase):
    """One slate per request: int arrays of shape (None, k), each row k
    distinct ids in 0..n-1 (n = 0: no fixed bound). Whether an id is a live
    item is not part of the space: the server checks it (an invalid row is
    replaced by its fallback and reported in info["errors"]).

    sample(batch=..., items=...) draws k distinct ids per row from items;
    without them, the environment's current batch and live items (or
    batch 1 over 0..n-1)."""

    def __init__(self, n, k, seed=None, current=None):
        super().__init__(None, np.int32, seed)
        self.n, self.k = int(n), int(k)
        self._shape = (None, self.k)
        self._current = current     # () -> (batch, live ids), set by the environment

    @property
    def shape(self):
        return self._shape

    @property
    def is_np_flattenable(self):
        return False

    def contains(self, x):
        if not isinstance(x, np.ndarray):
            try:
                x = np.asarray(x)
            except (ValueError, TypeError):
                return False
        if x.ndim != 2 or x.shape[1] != self.k or (x.size and x.dtype.kind not in "iu"):
            return False
        if x.size == 0:
            return True
        if np.any(x < 0) or (self.n > 0 and np.any(x >= self.n)):
            return False
        s = np.sort(x, axis=1)
        return not np.any(s[:, 1:] == s[:, :-1])

    def sample(self, mask=None, batch=None, items=None, **kwargs):
        if (batch is None or items is None) and self._current is not None:
            cur_batch, cur_items = self._current()
            batch = cur_batch if batch is None else batch
            items = cur_items if items is None else items
        batch = 1 if batch is None else int(batch)
        items = np.arange(max(self.n, self.k)) if items is None else np.asarray(items)
        if batch == 0:
            return np.zeros((0, self.k), dtype=np.int32)
        keys = self.np_random.random((batch, len(items)))
        return items[np.argpartition(keys, self.k - 1, axis=1)[:, :self.k]].astype(np.int32)

    def __repr__(self):
        return f"Slate(n={self.n}, k={self.k})"

    def __eq__(self, other):
        return isinstance(other, Slate) and (self.n, self.k) == (other.n, other.k)


def space_from_wire(m, depth=1):
    """A space map of WELCOME (docs/protocol.md, Spaces) -> a space object."""
    if depth > 4:
        raise ValueError("spaces nest at most 4 deep")
    kind = m.get("type")
    if kind == "Box":
        shape = [int(s) for s in m["shape"]]
        dtype = np.dtype(rc.DTYPES[m["dtype"]]).newbyteorder("=")
        low, high = float(m["low"]), float(m["high"])
        if dtype.kind in "iu":   # integer bounds: keep them integers
            info = np.iinfo(dtype)
            low = int(max(low, info.min)) if np.isfinite(low) else info.min
            high = int(min(high, info.max)) if np.isfinite(high) else info.max
        if shape and shape[0] == -1:
            return BatchBox(low, high, shape[1:], dtype)
        if -1 in shape:
            raise ValueError(f"Box shape {shape}: only the first dimension may be variable here")
        return Box(low=low, high=high, shape=tuple(shape), dtype=dtype)
    if kind == "Discrete":
        return Discrete(int(m["n"]))
    if kind == "MultiDiscrete":
        return MultiDiscrete([int(v) for v in m["nvec"]])
    if kind == "Dict":
        return Dict({name: space_from_wire(sub, depth + 1) for name, sub in m["spaces"].items()})
    if kind == "Slate":
        return Slate(int(m["n"]), int(m["k"]))
    raise ValueError(f"unknown space type {kind!r}")


# ---- the scenario's external agents -----------------------------------------

def _overrides_list(overrides):
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        return [f"{k}={v}" for k, v in overrides.items()]
    return [str(o) for o in overrides]


def scenario_info(path, overrides=()):
    """(names of the agents with a command, run seed) of a scenario file,
    after --set style overrides ("section.key=value")."""
    parser = configparser.ConfigParser(delimiters=("=", ":"), comment_prefixes=("#", ";"),
                                       inline_comment_prefixes=(";",), strict=False,
                                       interpolation=None, empty_lines_in_values=False)
    parser.optionxform = str
    with open(path, encoding="utf-8-sig") as f:
        parser.read_file(f)
    agents = {}            # name -> "command" / "policy", in file order
    for section in parser.sections():
        if section.startswith("agent."):
            name = section[len("agent."):]
            for key in ("command", "policy"):
                if parser.has_option(section, key):
                    agents[name] = key
    seed = int(parser.get("run", "seed", fallback="1"))
    for o in overrides:
        key, _, value = o.partition("=")
        section, _, name = key.strip().rpartition(".")
        if section == "run" and name == "seed":
            seed = int(value.strip())
        if section.startswith("agent.") and name in ("command", "policy"):
            agents[section[len("agent."):]] = name
    return [a for a, kind in agents.items() if kind == "command"], seed


def _set_parent_death_signal():
    """In the server's process: SIGTERM when the process that started it dies."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


# ---- the environment ---------------------------------------------------------

class _Slot:
    """One agent's connection and what it last received."""

    def __init__(self, name, conn):
        self.name, self.conn = name, conn
        self.welcome = None
        self.catalog = None
        self.step = None          # the STEP awaiting an ACT
        self.errors = []
        self.joint = None
        self.resync = False


class ParallelEnv(_ParallelEnvBase):
    """A recarena run as a PettingZoo-style parallel environment (see the
    module's documentation).

    ParallelEnv(scenario, *, seed=None, overrides=(), recarena_bin=None,
                episodes=None, deadline_ms=600000, endpoint=None, agents=None,
                token=None, joint=False, timeout_s=300, keep_files=False)

    scenario      the scenario file (a path) the server runs
    seed          run seed of the first run (default: the scenario's)
    overrides     --set overrides: ["world.n_users=500", ...] or a dict
    recarena_bin  the recarena binary (default $RECARENA_BIN, else
                  ./build/sim/recarena)
    episodes      episodes per run (default: the scenario's)
    deadline_ms   the server's deadline for each ACT (server.deadline_ms);
                  long by default, since training code runs between steps
    endpoint      connect to this running server instead of starting one;
                  then agents (names) is required
    agents        the names of the agents to play (default: the scenario's
                  agents with a command)
    token         the run's token, if the server asks for one
    joint         ask for JOINT messages (info["joint"])
    timeout_s     longest wait for the server
    keep_files    keep the temporary directory (server.log, the run folders)
    """

    metadata = {"name": "recarena_v0", "render_modes": [], "is_parallelizable": True}
    render_mode = None

    def __init__(self, scenario=None, *, seed=None, overrides=(), recarena_bin=None, episodes=None,
                 deadline_ms=600000, endpoint=None, agents=None, token=None, joint=False,
                 timeout_s=300.0, keep_files=False):
        self._overrides = _overrides_list(overrides)
        self._scenario = scenario
        self._external = endpoint is not None
        self._bin = recarena_bin or os.environ.get("RECARENA_BIN") or "./build/sim/recarena"
        self._episodes, self._deadline_ms = episodes, deadline_ms
        self._token, self._joint, self._timeout_s = token, joint, float(timeout_s)
        self._keep = keep_files
        self._context = None
        self._server = None
        self._slots = {}
        self._tmp = None
        self._runs = 0
        self._closed = False
        self._fresh = False
        self._run_complete = False
        scenario_seed = 1
        if self._external:
            if not agents:
                raise ValueError("endpoint=... needs agents=[names of the slots to play]")
            names = list(agents)
        else:
            if scenario is None:
                raise ValueError("give a scenario file (or endpoint=... and agents=[...])")
            names, scenario_seed = scenario_info(scenario, self._overrides)
            if agents:
                names = list(agents)
            if not names:
                raise ValueError(f"{scenario}: no agent has a command: the environment plays "
                                 "the agents with 'command = ...' (serve mode's external slots)")
        self.possible_agents = names
        self.agents = []
        self._base_seed = scenario_seed if seed is None else int(seed)
        self._seed = None
        self._observation_spaces = None
        self._action_spaces = None
        self.state_space = None
        self.last_run_dir = None
        self._context = rc.zmq.Context()
        try:
            if self._external:
                self._connect(endpoint)
            else:
                self._start(self._base_seed)
        except BaseException:
            self.close()
            raise

    # -- the Parallel API --

    def observation_space(self, agent):
        return self._observation_spaces[agent]

    def action_space(self, agent):
        return self._action_spaces[agent]

    @property
    def observation_spaces(self):
        return dict(self._observation_spaces)

    @property
    def action_spaces(self):
        return dict(self._action_spaces)

    @property
    def num_agents(self):
        return len(self.agents)

    @property
    def max_num_agents(self):
        return len(self.possible_agents)

    @property
    def unwrapped(self):
        return self

    def reset(self, seed=None, options=None):
        self._check_open()
        if seed is not None:
            self._base_seed, self._runs = int(seed), 0
            if self._external:
                raise RuntimeError("connected to an external server: reset(seed=...) cannot "
                                   "start a new run; use reset() for its next episode")
            if not (self._fresh and seed == self._seed):
                self._start(self._base_seed)
        elif self.agents or self._server_done():
            if self._external:
                raise RuntimeError("connected to an external server: reset() can only go on "
                                   "to the next episode, once this one has ended")
            self._start(self._next_seed())
        for attempt in range(2):
            events = {name: self._next_event(self._slots[name]) for name in self.possible_agents}
            if all(isinstance(e, rc.Step) for e in events.values()):
                break
            if self._external or attempt == 1 or not all(e == "BYE" for e in events.values()):
                raise RuntimeError(f"reset: expected the first STEP of an episode, got {events}")
            self._start(self._next_seed())   # the run is over: a new one
        self._fresh = False
        self.agents = list(self.possible_agents)
        observations, infos = {}, {}
        for name in self.agents:
            slot = self._slots[name]
            slot.step = events[name]
            observations[name] = self._observation(slot.step)
            infos[name] = self._info(slot, slot.step)
        return observations, infos

    def step(self, actions):
        self._check_open()
        if not self.agents:
            raise RuntimeError("step() with no live agents: the episode has ended; call reset()")
        live = list(self.agents)
        unknown = set(actions) - set(live)
        if unknown:
            raise KeyError(f"actions for agents that are not live: {sorted(unknown)}")
        for name in live:
            slot = self._slots[name]
            n, k = slot.step.requests.n, slot.welcome.slate_size
            action = actions.get(name)
            if action is None:
                if n:
                    raise KeyError(f"no action for agent {name!r} ({n} requests)")
                action = np.zeros((0, k), dtype=np.int32)
            action = np.asarray(action)
            if action.shape != (n, k) or (n and action.dtype.kind not in "iu"):
                raise ValueError(f"action of {name!r}: expected integers of shape ({n}, {k}), "
                                 f"got {action.dtype} {action.shape}")
            slot.conn.act(slot.step, action)
        observations, rewards, terminations, truncations, infos = {}, {}, {}, {}, {}
        for name in live:
            slot = self._slots[name]
            event = self._next_event(slot)
            if isinstance(event, rc.Step):
                slot.step = event
                rewards[name] = event.tick_reward
                terminations[name] = False
                observations[name] = self._observation(event)
                infos[name] = self._info(slot, event)
            elif isinstance(event, rc.EpisodeEnd):
                rewards[name] = event.tick_reward
                terminations[name] = True
                observations[name] = self._empty_observation(slot)
                infos[name] = self._info(slot, None)
                infos[name].update(episode=event.episode, tick=event.ticks,
                                   feedback=event.feedback, episode_end=event)
                slot.step = None
            else:
                raise RuntimeError(f"agent {name!r}: the server ended the run in mid-episode "
                                   f"({event})")
            truncations[name] = False
        self.agents = [a for a in live if not terminations[a]]
        return observations, rewards, terminations, truncations, infos

    def state(self):
        """Every agent's current observation, concatenated, with an "agent"
        column (index into possible_agents)."""
        parts = []
        for i, name in enumerate(self.possible_agents):
            slot = self._slots[name]
            obs = (self._observation(slot.step) if slot.step is not None and name in self.agents
                   else self._empty_observation(slot))
            obs["agent"] = np.full(len(obs["user_ids"]), i, dtype=np.int32)
            parts.append(obs)
        return {key: np.concatenate([p[key] for p in parts]) for key in
                ("agent", "user_ids", "features", "history")}

    def render(self):
        return None

    def close(self):
        if self._closed:
            return
        self._closed = True
        for slot in self._slots.values():
            try:
                slot.conn.bye("environment closed")
            except rc.zmq.ZMQError:
                pass
            slot.conn.close()
        self._slots = {}
        self._stop_server()
        if self._context is not None:
            self._context.term()
            self._context = None
        if self._tmp and not self._keep:
            shutil.rmtree(self._tmp, ignore_errors=True)
        self.agents = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    # -- helpers for agents --

    def catalog(self, agent):
        """The live items agent's next action may use (recarena_client.Catalog)."""
        return self._slots[agent].catalog

    def welcome(self, agent):
        """agent's WELCOME (recarena_client.Welcome: slate_size, dim, ticks, seed, ...)."""
        return self._slots[agent].welcome

    @property
    def seed_in_use(self):
        """The run seed of the current server."""
        return self._seed

    # -- internals --

    def _check_open(self):
        if self._closed:
            raise RuntimeError("the environment is closed")

    def _next_seed(self):
        self._runs += 1
        ss = np.random.SeedSequence(entropy=self._base_seed % 2 ** 64, spawn_key=(self._runs,))
        return int(ss.generate_state(1, np.uint64)[0])

    def _server_done(self):
        return self._server is not None and self._server.poll() is not None

    def _start(self, seed):
        """(Re)starts the server with run seed `seed` and connects every agent."""
        for slot in self._slots.values():
            slot.conn.close()
        self._slots = {}
        self._stop_server()
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="recarena-env-")
        endpoint = f"ipc://{self._tmp}/control"
        self._run_dir = os.path.join(self._tmp, f"run-{seed}")
        shutil.rmtree(self._run_dir, ignore_errors=True)
        cmd = [self._bin, "serve", self._scenario, "--bind", endpoint, "--quiet", "--no-progress",
               "--out", self._run_dir, "--seed", str(seed),
               "--set", f"server.deadline_ms={int(self._deadline_ms)}"]
        if self._episodes:
            cmd += ["--episodes", str(int(self._episodes))]
        for o in self._overrides:
            cmd += ["--set", o]
        self._log_path = os.path.join(self._tmp, "server.log")
        log = open(self._log_path, "ab")
        try:
            self._server = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                preexec_fn=_set_parent_death_signal if sys.platform.startswith("linux") else None)
        except OSError as e:
            raise RuntimeError(f"cannot start the recarena server '{self._bin}': {e} (pass "
                               "recarena_bin=... or set RECARENA_BIN)") from e
        finally:
            log.close()
        self._seed = seed
        self._fresh = True
        self._run_complete = False
        self.agents = []
        self._connect(endpoint)

    def _stop_server(self):
        if self._server is None:
            return
        if self._run_complete and self._server.poll() is None:
            try:                                # it said BYE: let it finish its run folder
                self._server.wait(5)
            except subprocess.TimeoutExpired:
                pass
        if self._server.poll() is None:
            self._server.terminate()            # SIGTERM: the server stops, writes nothing
            try:
                self._server.wait(5)
            except subprocess.TimeoutExpired:
                self._server.kill()
                self._server.wait()
        elif self._server.returncode == 0:
            self.last_run_dir = self._run_dir
        self._server = None

    def _server_log_tail(self):
        try:
            with open(self._log_path, "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except (OSError, AttributeError):
            return ""

    def _connect(self, endpoint):
        """One connection per agent, HELLO, WELCOME; builds the spaces once."""
        for name in self.possible_agents:
            slot = _Slot(name, rc.Connection(endpoint, self._context))
            slot.conn.hello(name, ("joint",) if self._joint else (), self._token)
            self._slots[name] = slot
        for name in self.possible_agents:
            slot = self._slots[name]
            event = self._next_event(slot, until=(rc.WELCOME,))
            slot.welcome = event
        if self._observation_spaces is None:
            self._build_spaces()

    def _build_spaces(self):
        self._observation_spaces, self._action_spaces = {}, {}
        for name in self.possible_agents:
            w = self._slots[name].welcome
            self._observation_spaces[name] = space_from_wire(w.observation_space)
            self._action_spaces[name] = Slate(w.action_space["n"], w.action_space["k"],
                                              current=self._current_of(name))
        w = self._slots[self.possible_agents[0]].welcome
        state = dict(space_from_wire(w.observation_space).spaces)
        state = {"agent": BatchBox(0, len(self.possible_agents) - 1, (), np.int32), **state}
        self.state_space = Dict(state)

    def _current_of(self, name):
        def current():
            slot = self._slots.get(name)
            if slot is None or slot.step is None or slot.catalog is None:
                return 0, np.zeros(0, dtype=np.int32)
            return slot.step.requests.n, slot.catalog.ids
        return current

    def _next_event(self, slot, until=(rc.STEP, rc.EPISODE_END)):
        """Reads slot's messages until one of the types `until` (returned
        parsed), or BYE (returns "BYE"). Answers PINGs, keeps CATALOGs,
        JOINTs and non-fatal ERRORs; raises on fatal ones or a dead server."""
        deadline = time.monotonic() + self._timeout_s
        while True:
            if self._server is not None and self._server.poll() is not None and not slot.conn.poll(0):
                raise RuntimeError(f"the recarena server exited with status "
                                   f"{self._server.returncode}:\n{self._server_log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"agent {slot.name!r}: nothing from the server for "
                                   f"{self._timeout_s:g} s")
            try:
                msg = slot.conn.recv(200)
            except rc.ProtocolError as e:
                slot.conn.error(e.code, e.message)
                continue
            if msg is None:
                continue
            body = msg.body
            if msg.type == rc.ERROR:
                code, text = body.get("code"), str(body.get("message", ""))
                if body.get("fatal") is True:
                    raise RuntimeError(f"agent {slot.name!r}: the server refused it: {text} "
                                       f"(code {code})")
                slot.errors.append((code, text))
                continue
            if msg.major != rc.PROTOCOL_MAJOR:
                raise RuntimeError(f"the server speaks protocol {msg.major}, this client "
                                   f"{rc.PROTOCOL_MAJOR}")
            if msg.type == rc.BYE:
                self._run_complete = True
                return "BYE"
            if msg.type == rc.PING:
                slot.conn.send(rc.PONG, {"nonce": body["nonce"]})
                continue
            if msg.type == rc.PONG:
                continue
            parsed = rc.parse_message(msg)
            if msg.type == rc.CATALOG:
                slot.catalog = parsed
                slot.resync = parsed.tick > 0
                continue
            if msg.type == rc.JOINT:
                slot.joint = parsed
                continue
            if msg.type == rc.STEP:
                if slot.catalog is None:
                    raise RuntimeError(f"agent {slot.name!r}: STEP before any CATALOG")
                slot.catalog.apply(parsed.born, parsed.retired)
            if msg.type in until:
                return parsed
            if msg.type not in (rc.WELCOME, rc.STEP, rc.EPISODE_END):
                slot.conn.error(rc.ETYPE, f"unknown message type {msg.type}", ref_seq=msg.seq)

    @staticmethod
    def _observation(step):
        r = step.requests
        return {"user_ids": r.user_ids.copy(), "features": r.features.copy(),
                "history": r.history.copy()}

    @staticmethod
    def _empty_observation(slot):
        w = slot.welcome
        return {"user_ids": np.zeros(0, dtype=np.int32),
                "features": np.zeros((0, w.dim), dtype=np.float32),
                "history": np.zeros((0, w.history_len), dtype=np.int32)}

    def _info(self, slot, step):
        info = {"errors": slot.errors, "catalog": slot.catalog, "resync": slot.resync}
        if step is not None:
            info.update(episode=step.episode, tick=step.tick, feedback=step.feedback,
                        born=step.born, retired=step.retired)
        if self._joint:
            info["joint"] = slot.joint
        slot.errors, slot.resync, slot.joint = [], False, None
        return info


def parallel_env(scenario=None, **kwargs):
    """PettingZoo-style constructor: recarena_env.parallel_env("scenarios/x.ini", seed=1)."""
    return ParallelEnv(scenario, **kwargs)
