"""recarena.parallel: a recarena server as a multi-agent environment for
Python training code: a PettingZoo Parallel environment (a subclass of
pettingzoo.ParallelEnv where pettingzoo is importable; the same API
without it).

    import recarena

    env = recarena.parallel_env("scenarios/processes.ini")
    observations, infos = env.reset(seed=42)
    while env.agents:
        actions = {a: env.action_space(a).sample() for a in env.agents}
        observations, rewards, terminations, truncations, infos = env.step(actions)
    env.close()

The environment starts `recarena serve SCENARIO` itself on an ipc://
endpoint in a private temporary directory (the binary: the argument
recarena_bin, else recarena.find_binary()), or connects to a server
already running (endpoint=..., agents=[...]). It opens one protocol
connection per agent (recarena.client.Connection). The scenario is
resolved by the binary (recarena.scenario), never parsed here.

Agents: the scenario's agents that have a `command`: in serve mode those
are the slots for external agents, and this environment fills them (or
those named in agents=[...]; the others with a command then run as their
own processes, started with the scenario's command). The agents with a
built-in `policy` keep playing inside the server.

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
  info          plain data, copied each step (numbers, strings, numpy
                 arrays, dicts and lists of them): "episode_index" (not
                 "episode": Gymnasium's and Stable-Baselines3's episode
                 statistics use that key), "tick" (of
                 the observation), "feedback" (the previous tick's:
                 user_ids, clicked, reward, session_end, and matched to
                 what was shown: slates, clicked_item, features),
                 "catalog" (the live items the next action may use: ids,
                 topics, providers, embeddings), "action_mask" (int8 over
                 item ids, 1 = live; padded form: over candidate rows),
                 "born", "retired" (this tick's catalog changes),
                 "errors" (non-fatal ERRORs from the server since the last
                 call, e.g. an invalid slate: [(code, message)]),
                 "resync" (True when the catalog was re-sent
                 mid-episode), "joint" (the tick just played, with
                 joint=True: episode, tick, agents [{agent_index,
                 user_ids, features, slates, clicked, reward}]), and at
                 the end "episode_end" (totals: episode, ticks, reward,
                 requests, clicks, tick_reward).

Variable batch. Gymnasium's Box has a fixed shape, but the number of
requests changes every tick. So each part of the observation is a
BatchBox: a Box whose first dimension is the batch, shape (None, ...):
`low`, `high` are those of one row, `row_space` is the Box of one row,
`batch_space(n)` the fixed Box of a batch of n. The action space is a
Slate(n, k) space of shape (None, k): k distinct ids per row, ids below n
(n = 0: no bound; the valid ids are the live items, info["catalog"].ids).
Where gymnasium is importable these are gymnasium.spaces.Space subclasses
inside a gymnasium.spaces.Dict; otherwise small stand-ins with the same
fields (shape, dtype, low, high, n, k, spaces, contains, sample, seed)
(recarena.spaces). env.action_space(agent).sample() gives a valid random
action for the agent's current batch and live items; every space pickles.

Fixed shape (padded=True), for flattening wrappers and standard learners:
the observation is {"user_ids" (B,) (-1 = padding), "features" (B, dim),
"history" (B, history_len), "valid" int8 (B,) (1 = a real request),
"candidates" float32 (C, dim) (the embeddings of up to C live items),
"candidate_mask" int8 (C,)}, B = max_batch, C = n_candidates; the action
is a SlateRows: B x k candidate rows, flattened, turned into distinct live
items by recarena.candidates (valid by construction); rows past the batch
are ignored. info["candidate_ids"] maps rows to item ids.

reset(seed=N) always starts a fresh run with run seed N (a new server
process), so the same seed gives the same episode. reset() without a seed
goes on to the next episode of the current run, or starts a new run (with
a seed derived from the last one) when the run is over or an episode is
still under way. Connected to an external server (endpoint=...), reset()
can only go on to the next episode.

state() is the concatenation of every agent's current observation, with
an "agent" column (index into possible_agents): a dict of the same four
keys, described by env.state_space (padded: each key stacked over
possible_agents).

render_mode "human" prints a line per render(), "ansi" returns it.
"""
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

from . import client as rc
from . import find_binary
from .candidates import CandidateTable, slates_from_rows
from .scenario import external_agents, resolve
from .spaces import BatchBox, Box, Dict, Slate, SlateRows, space_from_wire

try:
    from pettingzoo import ParallelEnv as _ParallelEnvBase
except ImportError:
    _ParallelEnvBase = object


def _overrides_list(overrides):
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        return [f"{k}={v}" for k, v in overrides.items()]
    return [str(o) for o in overrides]


def _set_parent_death_signal():
    """In a child process: SIGTERM when the process that started it dies."""
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
        self.shown = rc.ShownSlates()
        self.table = None         # padded form: the candidate table of the current step
        self.rng = None           # padded form: draws candidate subsets


class ParallelEnv(_ParallelEnvBase):
    """A recarena run as a PettingZoo Parallel environment (see the
    module's documentation).

    ParallelEnv(scenario, *, seed=None, overrides=(), recarena_bin=None,
                episodes=None, deadline_ms=600000, endpoint=None, agents=None,
                token=None, joint=False, timeout_s=300, keep_files=False,
                render_mode=None, padded=False, max_batch=None, n_candidates=64)

    scenario      the scenario file (a path) the server runs
    seed          run seed of the first run (default: the scenario's)
    overrides     --set overrides: ["world.n_users=500", ...] or a dict
    recarena_bin  the recarena binary (default: recarena.find_binary())
    episodes      episodes per run (default: the scenario's)
    deadline_ms   the server's deadline for each ACT (server.deadline_ms);
                  long by default, since training code runs between steps
    endpoint      connect to this running server instead of starting one;
                  then agents (names) is required
    agents        the names of the agents to play (default: the scenario's
                  agents with a command); the scenario's other agents with a
                  command are started as their own processes
    token         the run's token, if the server asks for one
    joint         ask for JOINT messages (info["joint"])
    timeout_s     longest wait for the server
    keep_files    keep the temporary directory (server.log, the run folders)
    render_mode   None, "human" (render() prints a line) or "ansi" (returns it)
    padded        the fixed-shape form: observations padded to max_batch
                  rows with a "valid" mask, the live items as a candidate
                  table of n_candidates rows, actions SlateRows
    max_batch     padded form: rows of an observation (default: WELCOME's
                  limits.max_batch)
    n_candidates  padded form: rows of the candidate table
    """

    metadata = {"name": "recarena_v0", "render_modes": ["human", "ansi"],
                "is_parallelizable": True}

    def __init__(self, scenario=None, *, seed=None, overrides=(), recarena_bin=None, episodes=None,
                 deadline_ms=600000, endpoint=None, agents=None, token=None, joint=False,
                 timeout_s=300.0, keep_files=False, render_mode=None, padded=False,
                 max_batch=None, n_candidates=64):
        self._init_args = (scenario, dict(
            seed=seed, overrides=overrides, recarena_bin=recarena_bin, episodes=episodes,
            deadline_ms=deadline_ms, endpoint=endpoint, agents=agents, token=token, joint=joint,
            timeout_s=timeout_s, keep_files=keep_files, render_mode=render_mode, padded=padded,
            max_batch=max_batch, n_candidates=n_candidates))
        if render_mode not in (None,) + tuple(self.metadata["render_modes"]):
            raise ValueError(f"render_mode {render_mode!r}: expected None or one of "
                             f"{self.metadata['render_modes']}")
        self.render_mode = render_mode
        self._overrides = _overrides_list(overrides)
        self._scenario = None if scenario is None else os.fspath(scenario)
        self._external = endpoint is not None
        self._bin = None if self._external and not recarena_bin else find_binary(recarena_bin)
        self._episodes, self._deadline_ms = episodes, deadline_ms
        self._token, self._joint, self._timeout_s = token, joint, float(timeout_s)
        self._keep = keep_files
        self._padded, self._max_batch, self._n_candidates = bool(padded), max_batch, n_candidates
        self._context = None
        self._server = None
        self._others = []          # (name, command) of the scenario agents started as processes
        self._procs = []
        self._slots = {}
        self._tmp = None
        self._runs = 0
        self._closed = False
        self._fresh = False
        self._run_complete = False
        self._last_rewards = {}
        scenario_seed = 1
        if self._external:
            if not agents:
                raise ValueError("endpoint=... needs agents=[names of the slots to play]")
            names = list(agents)
        else:
            if scenario is None:
                raise ValueError("give a scenario file (or endpoint=... and agents=[...])")
            self.scenario = resolve(self._scenario, self._overrides, recarena_bin=self._bin)
            scenario_seed = int(self.scenario["run"]["seed"])
            names = external_agents(self.scenario)
            if agents:
                unknown = [a for a in agents if a not in names]
                if unknown:
                    raise ValueError(f"{scenario}: no agent with a command named {unknown} "
                                     f"(those with a command: {names})")
                self._others = [(a["name"], a["command"]) for a in self.scenario["agents"]
                                if a.get("command") and a["name"] not in agents]
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

    def __reduce__(self):
        """Pickling gives the constructor's arguments: unpickled, it is a new
        environment with the same configuration and its own server (what
        SuperSuit's vector constructors do to copy an environment)."""
        return (_rebuild, self._init_args)

    def __repr__(self):
        where = "external server" if self._external else self._scenario
        form = "padded" if self._padded else "variable batch"
        return (f"ParallelEnv({where!r}, agents={self.possible_agents}, seed={self._seed}, "
                f"{form}, live={self.agents})")

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
        self._last_rewards = {}
        observations, infos = {}, {}
        for name in self.agents:
            slot = self._slots[name]
            slot.step = events[name]
            slot.shown.clear()
            observations[name] = self._observation(slot)
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
            slates = self._slates(name, slot, actions.get(name))
            slot.conn.act(slot.step, slates)
            slot.shown.record(slot.step, slates)
        observations, rewards, terminations, truncations, infos = {}, {}, {}, {}, {}
        for name in live:
            slot = self._slots[name]
            event = self._next_event(slot)
            if isinstance(event, rc.Step):
                slot.step = event
                rewards[name] = event.tick_reward
                terminations[name] = False
                observations[name] = self._observation(slot)
                infos[name] = self._info(slot, event)
            elif isinstance(event, rc.EpisodeEnd):
                rewards[name] = event.tick_reward
                terminations[name] = True
                slot.step = None
                observations[name] = self._observation(slot)
                infos[name] = self._info(slot, None)
                infos[name].update(episode_index=int(event.episode), tick=int(event.ticks),
                                   feedback=slot.shown.match(event.feedback).as_dict(),
                                   episode_end=event.as_dict())
            else:
                raise RuntimeError(f"agent {name!r}: the server ended the run in mid-episode "
                                   f"({event})")
            truncations[name] = False
        self.agents = [a for a in live if not terminations[a]]
        self._last_rewards = dict(rewards)
        return observations, rewards, terminations, truncations, infos

    def state(self):
        """Every agent's current observation. Variable batch: concatenated,
        with an "agent" column (index into possible_agents). Padded: each
        key stacked, shape (len(possible_agents), ...)."""
        obs = [self._observation(self._slots[name]) if name in self.agents
               else self._empty_observation(self._slots[name]) for name in self.possible_agents]
        if self._padded:
            return {key: np.stack([o[key] for o in obs]) for key in obs[0]}
        for i, o in enumerate(obs):
            o["agent"] = np.full(len(o["user_ids"]), i, dtype=np.int32)
        return {key: np.concatenate([o[key] for o in obs]) for key in
                ("agent", "user_ids", "features", "history")}

    def render(self):
        """"human": prints one line (tick, live agents, last rewards);
        "ansi": returns it; None: nothing."""
        if self.render_mode is None:
            return None
        slot = next((self._slots[a] for a in self.agents), None)
        where = (f"episode {slot.step.episode} tick {slot.step.tick}"
                 if slot is not None and slot.step is not None else "between episodes")
        rewards = ", ".join(f"{a} {r:.3f}" for a, r in self._last_rewards.items()) or "none yet"
        text = f"recarena {where}: {len(self.agents)} live agents; last rewards: {rewards}"
        if self.render_mode == "ansi":
            return text
        print(text)
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
        """The live items agent's next action may use (recarena.client.Catalog;
        the environment's own, updated in place: copy what you keep)."""
        return self._slots[agent].catalog

    def candidates(self, agent):
        """Padded form: agent's current candidate table (recarena.candidates.CandidateTable)."""
        return self._slots[agent].table

    def welcome(self, agent):
        """agent's WELCOME (recarena.client.Welcome: slate_size, dim, ticks, seed, ...)."""
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
        """(Re)starts the server with run seed `seed`, the scenario's other
        agents with a command, and connects every agent."""
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
        preexec = _set_parent_death_signal if sys.platform.startswith("linux") else None
        with open(self._log_path, "ab") as log:
            try:
                self._server = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                                stderr=subprocess.STDOUT, preexec_fn=preexec)
            except OSError as e:
                raise RuntimeError(f"cannot start the recarena server '{self._bin}': {e} (pass "
                                   "recarena_bin=... or set RECARENA_BIN)") from e
            for name, command in self._others:
                env = dict(os.environ, RECARENA_ENDPOINT=endpoint, RECARENA_AGENT_NAME=name)
                if self._token:
                    env["RECARENA_TOKEN"] = self._token
                self._procs.append(subprocess.Popen(   # its own process group: _stop ends it all
                    ["/bin/sh", "-c", command], stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, env=env, preexec_fn=_agent_preexec))
        self._seed = seed
        self._fresh = True
        self._run_complete = False
        self.agents = []
        self._connect(endpoint)

    def _stop_server(self):
        if self._server is not None:
            if self._run_complete and self._server.poll() is None:
                try:                                # it said BYE: let it finish its run folder
                    self._server.wait(5)
                except subprocess.TimeoutExpired:
                    pass
            _stop(self._server)
            if self._server.returncode == 0:
                self.last_run_dir = self._run_dir
            self._server = None
        for proc in self._procs:                    # the other agents end on BYE, or here
            try:
                proc.wait(2 if self._run_complete else 0.01)
            except subprocess.TimeoutExpired:
                pass
            _stop(proc, group=True)
        self._procs = []

    def _check_others(self):
        """Raises when an agent this environment started has failed before the run's end."""
        for (name, command), proc in zip(self._others, self._procs):
            if proc.poll() not in (None, 0) and not self._run_complete:
                raise RuntimeError(f"agent {name!r} ({command}) exited with status "
                                   f"{proc.returncode}:\n{self._server_log_tail()}")

    def _server_log_tail(self):
        try:
            with open(self._log_path, "rb") as f:
                return f.read()[-2000:].decode("utf-8", "replace")
        except (OSError, AttributeError):
            return ""

    def _connect(self, endpoint):
        """One connection per agent, HELLO, WELCOME; builds the spaces once."""
        for i, name in enumerate(self.possible_agents):
            slot = _Slot(name, rc.Connection(endpoint, self._context))
            slot.conn.hello(name, ("joint",) if self._joint else (), self._token)
            slot.rng = np.random.default_rng([self._seed or 0, i])
            self._slots[name] = slot
        for name in self.possible_agents:
            slot = self._slots[name]
            slot.welcome = self._next_event(slot, until=(rc.WELCOME,))
            if self._padded:
                slot.table = CandidateTable(self._n_candidates, slot.welcome.dim)
        if self._observation_spaces is None:
            self._build_spaces()

    def _build_spaces(self):
        self._observation_spaces, self._action_spaces = {}, {}
        w = self._slots[self.possible_agents[0]].welcome
        if self._padded:
            batch = int(self._max_batch or w.limits["max_batch"])
            self._max_batch = batch
        for name in self.possible_agents:
            w = self._slots[name].welcome
            wire = space_from_wire(w.observation_space)
            if self._padded:
                self._observation_spaces[name] = padded_observation_space(
                    wire, self._max_batch, self._n_candidates)
                self._action_spaces[name] = SlateRows(self._n_candidates, w.slate_size,
                                                      self._max_batch)
            else:
                self._observation_spaces[name] = wire
                self._action_spaces[name] = Slate(w.action_space["n"], w.action_space["k"])
        space = self._observation_spaces[self.possible_agents[0]]
        if self._padded:
            n = len(self.possible_agents)
            self.state_space = Dict({key: Box(low=np.broadcast_to(s.low, (n,) + s.shape).copy(),
                                              high=np.broadcast_to(s.high, (n,) + s.shape).copy(),
                                              dtype=s.dtype)
                                     for key, s in space.spaces.items()})
        else:
            self.state_space = Dict({"agent": BatchBox(0, len(self.possible_agents) - 1, (),
                                                       np.int32), **space.spaces})

    def _slates(self, name, slot, action):
        """The actions dict's entry for agent name -> int32 (n, k) item ids."""
        n, k = slot.step.requests.n, slot.welcome.slate_size
        if self._padded:
            if action is None:
                raise KeyError(f"no action for agent {name!r}")
            rows = np.asarray(action)
            if rows.size != self._max_batch * k or rows.dtype.kind not in "iu":
                raise ValueError(f"action of {name!r}: expected {self._max_batch * k} integers "
                                 f"(max_batch x k), got {rows.dtype} {rows.shape}")
            return slates_from_rows(rows.reshape(self._max_batch, k)[:n], slot.table)
        if action is None:
            if n:
                raise KeyError(f"no action for agent {name!r} ({n} requests)")
            return np.zeros((0, k), dtype=np.int32)
        action = np.asarray(action)
        if action.shape != (n, k) or (n and action.dtype.kind not in "iu"):
            raise ValueError(f"action of {name!r}: expected integers of shape ({n}, {k}), "
                             f"got {action.dtype} {action.shape}")
        return action

    def _next_event(self, slot, until=(rc.STEP, rc.EPISODE_END)):
        """Reads slot's messages until one of the types `until` (returned
        parsed), or BYE (returns "BYE"). Answers PINGs, keeps CATALOGs,
        JOINTs and non-fatal ERRORs; raises on fatal ones or a dead server."""
        deadline = time.monotonic() + self._timeout_s
        while True:
            # a server that exited may still have its last messages (the
            # BYE of a complete run) in flight to us: give them a second
            if (self._server is not None and self._server.poll() is not None
                    and not slot.conn.poll(1000)):
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
                self._check_others()
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

    def _observation(self, slot):
        """slot's current observation (copies), and the action space's
        batch and live items brought up to date."""
        step = slot.step
        if step is None:
            return self._empty_observation(slot)
        r = step.requests
        if not self._padded:
            space = self._action_spaces[slot.name]
            space.batch, space.items = r.n, slot.catalog.ids.copy()
            return {"user_ids": r.user_ids.copy(), "features": r.features.copy(),
                    "history": r.history.copy()}
        if r.n > self._max_batch:
            raise RuntimeError(f"agent {slot.name!r}: {r.n} requests in one tick, more than "
                               f"max_batch={self._max_batch}; pass a larger max_batch")
        slot.table.fill(slot.catalog, slot.rng)
        obs = self._empty_observation(slot)
        obs["user_ids"][:r.n] = r.user_ids
        obs["features"][:r.n] = r.features
        obs["history"][:r.n] = r.history
        obs["valid"][:r.n] = 1
        obs["candidates"][:] = slot.table.embeddings
        obs["candidate_mask"][:] = slot.table.mask
        return obs

    def _empty_observation(self, slot):
        w = slot.welcome
        if not self._padded:
            return {"user_ids": np.zeros(0, dtype=np.int32),
                    "features": np.zeros((0, w.dim), dtype=np.float32),
                    "history": np.zeros((0, w.history_len), dtype=np.int32)}
        b, c = self._max_batch, self._n_candidates
        return {"user_ids": np.full(b, -1, dtype=np.int32),
                "features": np.zeros((b, w.dim), dtype=np.float32),
                "history": np.full((b, w.history_len), -1, dtype=np.int32),
                "valid": np.zeros(b, dtype=np.int8),
                "candidates": np.zeros((c, w.dim), dtype=np.float32),
                "candidate_mask": np.zeros(c, dtype=np.int8)}

    def _info(self, slot, step):
        """Plain data, copied: numbers, strings, numpy arrays, dicts and lists of them."""
        info = {"errors": list(slot.errors), "resync": bool(slot.resync),
                "catalog": slot.catalog.as_dict() if slot.catalog is not None else {}}
        if step is not None:
            info.update(episode_index=int(step.episode), tick=int(step.tick),
                        feedback=slot.shown.match(step.feedback).as_dict(),
                        born=step.born.as_dict(), retired=step.retired.copy())
        if self._padded:
            info["action_mask"] = (slot.table.mask.copy() if step is not None
                                   else np.zeros(self._n_candidates, dtype=np.int8))
            info["candidate_ids"] = (slot.table.ids.copy() if step is not None
                                     else np.full(self._n_candidates, -1, dtype=np.int32))
        else:
            info["action_mask"] = _id_mask(slot)
        if self._joint:
            info["joint"] = slot.joint.as_dict() if slot.joint is not None else None
        slot.errors, slot.resync, slot.joint = [], False, None
        return info


def _rebuild(scenario, kwargs):
    return ParallelEnv(scenario, **kwargs)


def _id_mask(slot):
    """int8 over item ids 0..bound-1, 1 = live (bound: the Slate's n, else the largest live id + 1)."""
    ids = slot.catalog.ids if slot.catalog is not None else np.zeros(0, dtype=np.int32)
    bound = int(slot.welcome.action_space.get("n") or 0) or (int(ids.max()) + 1 if len(ids) else 0)
    mask = np.zeros(bound, dtype=np.int8)
    mask[ids[ids < bound]] = 1
    return mask


def _agent_preexec():
    """In an agent process: a process group of its own (the shell and the
    agent it starts), SIGTERM when the environment's process dies."""
    os.setpgid(0, 0)
    _set_parent_death_signal()


def _stop(proc, group=False):
    """Ends a child process (group: its whole process group): SIGTERM, then
    SIGKILL after 5 s."""
    def send(sig):
        try:
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except ProcessLookupError:
            pass
    if proc.poll() is None or group:
        send(signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            proc.wait()


def padded_observation_space(wire, max_batch, n_candidates):
    """The padded form's observation space, from WELCOME's (a Dict of BatchBox)."""
    f, h = wire["features"], wire["history"]
    uid = wire["user_ids"]
    b, c = int(max_batch), int(n_candidates)

    def rows(space, n, low=None):
        lo = space.low if low is None else np.minimum(space.low, low)
        return Box(low=np.broadcast_to(lo, (n,) + space.row_shape).copy(),
                   high=np.broadcast_to(space.high, (n,) + space.row_shape).copy(),
                   dtype=space.dtype)

    return Dict({"user_ids": rows(uid, b, -1), "features": rows(f, b), "history": rows(h, b, -1),
                 "valid": Box(low=0, high=1, shape=(b,), dtype=np.int8),
                 "candidates": Box(low=-np.inf, high=np.inf, shape=(c, f.row_shape[0]),
                                   dtype=np.float32),
                 "candidate_mask": Box(low=0, high=1, shape=(c,), dtype=np.int8)})


def parallel_env(scenario=None, **kwargs):
    """PettingZoo-style constructor: recarena.parallel.parallel_env("scenarios/x.ini", seed=1)."""
    return ParallelEnv(scenario, **kwargs)
