#!/usr/bin/python3
"""Tests of the Python package recarena (agents/python/recarena): the
client, the spaces (here Debian's /usr/bin/python3 has no gymnasium: the
stand-ins), the candidate table and the PettingZoo-style environment,
against the real server. tests/python/test_real_libs.py runs the real
Gymnasium, PettingZoo, SuperSuit and Stable-Baselines3 on them.

    RECARENA_BIN=build/sim/recarena /usr/bin/python3 tests/integration/test_python_env.py

Run by tests/integration/test_python.sh (CTest: python)."""
import os
import subprocess
import sys
import tempfile
import unittest

import pickle

import msgpack
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "agents", "python"))
import recarena  # noqa: E402
import recarena.client as rc  # noqa: E402
import recarena.parallel as recarena_env  # noqa: E402
import recarena.spaces as spaces  # noqa: E402
from recarena.candidates import CandidateTable, slates_from_rows  # noqa: E402

BIN = os.environ.get("RECARENA_BIN", "build/sim/recarena")

# two external agents (a, b) around an in-process one, market mode, items
# born and retired; small enough for many episodes in a few seconds
SCENARIO = """
[run]
seed = 9
episodes = 2
ticks = 15
[world]
n_users = 300
n_items = 80
item_arrival_rate = 2
item_lifetime = 30
[agent.a]
command = /bin/false   ; played by the environment
[agent.pop]
policy = popularity
[agent.b]
command = /bin/false
"""


def play(env, rng, episodes=1, seed=None, check=None):
    """Plays episodes with random valid actions from rng; returns a list of
    (observations, rewards, terminations) per step, reset included."""
    trace = []
    for e in range(episodes):
        obs, infos = env.reset(seed=seed if e == 0 else None)
        trace.append((obs, None, None))
        if check:
            check("reset", obs, infos, None, None, list(env.agents))
        while env.agents:
            live = list(env.agents)
            actions = {}
            for a in live:
                items = infos[a]["catalog"]["ids"]
                keys = rng.random((len(obs[a]["user_ids"]), len(items)))
                actions[a] = items[np.argsort(keys, axis=1)[:, :env.welcome(a).slate_size]]
            obs, rewards, terms, truncs, infos = env.step(actions)
            trace.append((obs, rewards, terms))
            if check:
                check("step", obs, infos, rewards, (terms, truncs), live)
    return trace


class Scenario:
    def __init__(self, text=SCENARIO):
        self.dir = tempfile.TemporaryDirectory(prefix="recarena-pytest-")
        self.path = os.path.join(self.dir.name, "env.ini")
        with open(self.path, "w") as f:
            f.write(text)

    def close(self):
        self.dir.cleanup()


class ClientCodec(unittest.TestCase):
    """The client's decoder and typed arrays, without a server."""

    def test_typed_round_trip(self):
        a = np.arange(6, dtype=np.float32).reshape(2, 3)
        t = rc.typed(a, "float32")
        self.assertEqual(t["shape"], [2, 3])
        self.assertTrue(np.array_equal(rc.to_numpy(t, "float32", 2), a))
        empty = rc.to_numpy({"dtype": "int32", "shape": [0, 4], "data": b""}, "int32", 2)
        self.assertEqual(empty.shape, (0, 4))

    def test_typed_errors(self):
        with self.assertRaises(rc.ProtocolError) as e:
            rc.to_numpy({"dtype": "int32", "shape": [3], "data": b"\0" * 8}, "int32", 1, "x")
        self.assertEqual(e.exception.code, rc.EFIELD)
        with self.assertRaises(rc.ProtocolError):
            rc.to_numpy({"dtype": "float32", "shape": [2], "data": b"\0" * 8}, "int32", 1)
        nan = np.array([np.nan], dtype=np.float32).tobytes()
        with self.assertRaises(rc.ProtocolError) as e:
            rc.to_numpy({"dtype": "float32", "shape": [1], "data": nan})
        self.assertEqual(e.exception.code, rc.ENONFINITE)

    def test_decode(self):
        m = rc.decode(msgpack.packb([1, rc.PING, 3, {"nonce": 7, 5: "non-string key"}]))
        self.assertEqual((m.major, m.type, m.seq, m.body), (1, rc.PING, 3, {"nonce": 7}))
        cases = [(b"\x94\x01\x05", rc.EMALFORMED),
                 (msgpack.packb([1, 9, 0, {}]) + b"\x00", rc.EMALFORMED),
                 (msgpack.packb({"a": 1}), rc.EENVELOPE),
                 (msgpack.packb([1, 9, 0, "body"]), rc.EENVELOPE),
                 (b"\x94\x01\x09\x00\x82\xa1a\x01\xa1a\x02", rc.EFIELD)]   # key twice
        for frame, code in cases:
            with self.assertRaises(rc.ProtocolError, msg=frame) as e:
                rc.decode(frame)
            self.assertEqual(e.exception.code, code, frame)

    def test_hello_bytes(self):
        """The HELLO of docs/protocol.md's byte-by-byte example."""
        sent = []

        class Fake(rc.Connection):
            def __init__(self):
                self.seq = 0
                self.socket = type("S", (), {"send": lambda _s, b: sent.append(b)})()
        Fake().hello("ucb", ["joint"])
        self.assertEqual(sent[0].hex(), "94010100" "84a56d696e6f7202a46e616d65a3756362a4726f6c65"
                                        "a56167656e74a463617073" "91a56a6f696e74")

    def test_catalog_apply(self):
        items = rc.Items(np.array([1, 3, 5], np.int32), np.zeros(3, np.int32),
                         np.zeros(3, np.int32), np.eye(3, dtype=np.float32))
        cat = rc.Catalog(0, 0, items)
        born = rc.Items(np.array([7], np.int32), np.ones(1, np.int32), np.ones(1, np.int32),
                        np.ones((1, 3), np.float32))
        cat.apply(born, np.array([3, 7], np.int32))
        self.assertEqual(cat.ids.tolist(), [1, 5])
        self.assertEqual(cat.rows([5, 3, 1]).tolist(), [1, -1, 0])
        self.assertEqual(cat.embeddings.shape, (2, 3))
        self.assertIsNone(cat.titles)
        self.assertIsNone(cat.title(5))

    def test_catalog_titles(self):
        """CATALOG.items.titles (1.2): one bin of NUL-terminated UTF-8 strings."""
        wire = {"ids": rc.typed([1, 3, 5], "int32"), "topics": rc.typed([0, 0, 1], "int32"),
                "providers": rc.typed([0, 0, 0], "int32"),
                "embeddings": rc.typed(np.eye(3), "float32"),
                "titles": "caf\u00e9\0\0a, b\0".encode()}
        cat = rc.Catalog(0, 0, rc.Items.from_wire(wire, "CATALOG.items"))
        self.assertEqual(list(cat.titles), ["caf\u00e9", "", "a, b"])
        self.assertEqual(cat.title(5), "a, b")
        self.assertIsNone(cat.title(4))
        self.assertEqual(repr(cat), "Catalog(episode=0, tick=0, 3 items, ids 1..5, dim=3, "
                                    "with titles)")
        born = rc.Items(np.array([7], np.int32), np.ones(1, np.int32), np.ones(1, np.int32),
                        np.ones((1, 3), np.float32))
        cat.apply(born, np.array([3], np.int32))
        self.assertEqual(list(cat.titles), ["caf\u00e9", "a, b", ""])   # born: none
        self.assertEqual(cat.as_dict()["titles"], ["caf\u00e9", "a, b", ""])
        for raw, why in ((b"a\0b\0", "expected 3 NUL-terminated strings"),
                         (b"a\0b\0c", "expected 3 NUL-terminated strings"),
                         (b"a\0\xff\0c\0", "entry 1 is not valid UTF-8"),
                         ("a\0b\0c\0", "expected bin")):
            with self.assertRaises(rc.ProtocolError) as e:
                rc.Items.from_wire(dict(wire, titles=raw), "CATALOG.items")
            self.assertIn(why, e.exception.message)

    def test_act_propensity(self):
        """ACT.propensity (1.2): checked before sending, float64 on the wire."""
        sent = []

        class Fake(rc.Connection):
            def __init__(self):
                self.seq = 0
                self.socket = type("S", (), {"send": lambda _s, b: sent.append(b)})()
        step = type("Step", (), {"episode": 0, "tick": 2, "requests": type(
            "R", (), {"n": 2, "user_ids": np.array([4, 9], np.int32)})()})()
        conn = Fake()
        conn.act(step, [[1, 2], [3, 4]], 2, propensity=[0.5, 1.0])
        body = rc.decode(sent[-1]).body
        self.assertEqual(rc.to_numpy(body["propensity"], "float64", 1).tolist(), [0.5, 1.0])
        conn.act(step, [[1, 2], [3, 4]], 2)
        self.assertNotIn("propensity", rc.decode(sent[-1]).body)
        for bad in ([0.5], [0.5, 0.0], [float("nan"), 1.0], [1.5, 1.0]):
            with self.assertRaises(ValueError):
                conn.act(step, [[1, 2], [3, 4]], 2, propensity=bad)


class Spaces(unittest.TestCase):
    def test_from_wire(self):
        """The WELCOME spaces of docs/protocol.md's example."""
        inf = float("inf")
        obs = spaces.space_from_wire({"type": "Dict", "spaces": {
            "user_ids": {"type": "Box", "low": 0.0, "high": 999.0, "shape": [-1], "dtype": "int32"},
            "features": {"type": "Box", "low": -inf, "high": inf, "shape": [-1, 3],
                         "dtype": "float32"},
            "history": {"type": "Box", "low": -1.0, "high": 2147483647.0, "shape": [-1, 2],
                        "dtype": "int32"}}})
        self.assertEqual(obs["features"].shape, (None, 3))
        self.assertEqual(obs["features"].row_space.shape, (3,))
        self.assertEqual(obs["features"].batch_space(4).shape, (4, 3))
        self.assertEqual(int(obs["history"].high[0]), 2147483647)
        good = {"user_ids": np.array([7], np.int32), "features": np.zeros((1, 3), np.float32),
                "history": np.array([[12, -1]], np.int32)}
        self.assertTrue(obs.contains(good))
        self.assertTrue(obs.contains({k: v[:0] for k, v in good.items()}))   # empty batch
        self.assertFalse(obs.contains(dict(good, user_ids=np.array([1000], np.int32))))
        self.assertFalse(obs.contains(dict(good, features=np.zeros((1, 4), np.float32))))
        self.assertTrue(obs.contains(obs.sample()))
        slate = spaces.space_from_wire({"type": "Slate", "n": 0, "k": 2})
        self.assertEqual((slate.n, slate.k, slate.shape), (0, 2, (None, 2)))
        self.assertTrue(slate.contains(np.array([[4, 9]])))
        self.assertFalse(slate.contains(np.array([[4, 4]])))
        self.assertFalse(slate.contains(np.array([[4, 9, 1]])))
        s = slate.sample(batch=3, items=np.array([2, 4, 6, 8]))
        self.assertEqual(s.shape, (3, 2))
        self.assertTrue(slate.contains(s) and np.isin(s, [2, 4, 6, 8]).all())
        self.assertEqual(spaces.space_from_wire({"type": "Discrete", "n": 4}).n, 4)
        md = spaces.space_from_wire({"type": "MultiDiscrete", "nvec": [2, 3]})
        self.assertTrue(md.contains(np.array([1, 2])))
        if spaces.gymnasium is not None:
            self.assertIsInstance(obs, spaces.gymnasium.spaces.Dict)
            self.assertIsInstance(slate, spaces.gymnasium.spaces.Space)
        for space in (obs, slate, md):                           # plain data: they pickle
            again = pickle.loads(pickle.dumps(space))
            self.assertEqual(again, space)

    def test_slate_rows(self):
        rows = spaces.SlateRows(6, 3, slates=2)
        self.assertEqual(rows.shape, (6,))
        self.assertEqual(rows.nvec.tolist(), [6] * 6)
        rows.seed(1)
        mask = np.array([0, 1, 1, 0, 1, 1], np.int8)
        for _ in range(20):
            a = rows.sample(mask).reshape(2, 3)
            self.assertTrue(mask[a].all())
            self.assertTrue(all(len(set(r)) == 3 for r in a.tolist()))
            self.assertTrue(rows.contains(a.reshape(-1)))
        self.assertEqual(pickle.loads(pickle.dumps(rows)), rows)


class Candidates(unittest.TestCase):
    """recarena.candidates on hand-worked tables."""

    def table(self, ids, capacity):
        ids = np.array(ids, np.int32)
        items = rc.Items(ids, ids % 3, np.zeros(len(ids), np.int32),
                         np.arange(len(ids) * 2, dtype=np.float32).reshape(-1, 2))
        t = CandidateTable(capacity, 2)
        t.fill(rc.Catalog(0, 0, items), np.random.default_rng(0))
        return t

    def test_padding(self):
        t = self.table([3, 5, 7, 9], 6)
        self.assertEqual(t.ids.tolist(), [3, 5, 7, 9, -1, -1])
        self.assertEqual(t.mask.tolist(), [1, 1, 1, 1, 0, 0])
        self.assertEqual(t.embeddings[3].tolist(), [6.0, 7.0])
        self.assertEqual(t.embeddings[4].tolist(), [0.0, 0.0])

    def test_subset(self):
        t = self.table(list(range(10, 30)), 8)
        self.assertEqual(int(t.mask.sum()), 8)
        self.assertEqual(len(set(t.ids.tolist())), 8)
        self.assertTrue(np.all(np.diff(t.ids) > 0))             # id order
        self.assertEqual(t.ids.tolist(), self.table(list(range(10, 30)), 8).ids.tolist())

    def test_slates_from_rows(self):
        t = self.table([3, 5, 7, 9], 6)
        # good row kept; a repeat and padding replaced by the lowest unused
        # live rows, left to right; out of range likewise
        got = slates_from_rows(np.array([[3, 2, 1], [0, 0, 5], [-1, 9, 0]]), t)
        self.assertEqual(got.tolist(), [[9, 7, 5], [3, 5, 7], [5, 7, 3]])
        self.assertEqual(slates_from_rows(np.zeros((0, 3), int), t).shape, (0, 3))
        with self.assertRaises(ValueError):
            slates_from_rows(np.zeros((1, 5), int), t)         # 4 live items, k = 5


class Package(unittest.TestCase):
    def test_version_is_the_protocols(self):
        with open(os.path.join(HERE, "..", "..", "proto", "protocol.h")) as f:
            text = f.read()
        import re
        major = re.search(r"#define PROTO_VERSION_MAJOR (\d+)", text).group(1)
        minor = re.search(r"#define PROTO_VERSION_MINOR (\d+)", text).group(1)
        self.assertEqual(recarena.__version__.split(".")[:2], [major, minor])
        self.assertEqual((rc.PROTOCOL_MAJOR, rc.PROTOCOL_MINOR), (int(major), int(minor)))

    def test_import_from_any_folder(self):
        """PYTHONPATH=agents/python, from /: the package and its binary."""
        pkg = os.path.abspath(os.path.join(HERE, "..", "..", "agents", "python"))
        env = {k: v for k, v in os.environ.items() if k != "RECARENA_BIN"}
        env["PYTHONPATH"] = pkg
        env["PATH"] = "/usr/bin:/bin"
        out = subprocess.run([sys.executable, "-c", "import recarena, recarena_client; "
                              "print(recarena.find_binary()); print(recarena.__file__)"],
                             cwd="/", env=env, capture_output=True, text=True, check=True)
        binary, init = out.stdout.split()
        self.assertEqual(init, os.path.join(pkg, "recarena", "__init__.py"))
        self.assertEqual(binary, recarena.BUILD_BINARY)
        self.assertEqual(recarena.find_binary("/x/recarena"), "/x/recarena")

    def test_scenario_resolved_by_the_binary(self):
        s = Scenario(SCENARIO)
        self.addCleanup(s.close)
        from recarena import scenario
        got = scenario.resolve(s.path, ["run.seed=12", "world.n_users=77"], recarena_bin=BIN)
        self.assertEqual(got["run"]["seed"], 12)
        self.assertEqual(got["world"]["n_users"], 77)
        self.assertEqual(scenario.external_agents(got), ["a", "b"])
        with self.assertRaises(scenario.ScenarioError) as e:
            scenario.resolve(s.path, ["world.n_users=lots"], recarena_bin=BIN)
        self.assertIn("n_users", str(e.exception))


class ShownSlates(unittest.TestCase):
    def test_match(self):
        body = {"user_ids": rc.typed([4, 9, 2], "int32"),
                "features": rc.typed(np.arange(6).reshape(3, 2), "float32"),
                "history": rc.typed(np.zeros((3, 0)), "int32")}
        step = type("S", (), {"requests": rc.Requests(body)})()
        shown = rc.ShownSlates()
        shown.record(step, [[1, 2], [3, 4], [5, 6]])
        fb = rc.Feedback({"user_ids": rc.typed([2, 4, 7], "int32"),
                          "clicked": rc.typed([1, -1, 0], "int32"),
                          "reward": rc.typed([1, 0, 1], "float32"),
                          "session_end": rc.typed([0, 0, 1], "uint8")})
        m = shown.match(fb)
        self.assertEqual(m.slates.tolist(), [[5, 6], [1, 2], [-1, -1]])   # 7 was never shown
        self.assertEqual(m.clicked_item.tolist(), [6, -1, -1])
        self.assertEqual(m.features.tolist(), [[4, 5], [0, 1], [0, 0]])
        self.assertIn("3 users", repr(m))


class Env(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scenario = Scenario()

    @classmethod
    def tearDownClass(cls):
        cls.scenario.close()

    def make(self, **kw):
        env = recarena_env.ParallelEnv(self.scenario.path, recarena_bin=BIN, **kw)
        self.addCleanup(env.close)
        return env

    def test_agents_and_spaces(self):
        env = self.make()
        self.assertEqual(env.possible_agents, ["a", "b"])     # the agents with a command
        self.assertEqual(env.agents, [])
        for a in env.possible_agents:
            self.assertIs(env.observation_space(a), env.observation_space(a))
            self.assertIs(env.action_space(a), env.action_space(a))
            self.assertEqual(env.action_space(a).k, 5)
            self.assertEqual(env.observation_space(a)["features"].shape, (None, 16))
        spaces_before = {a: (env.observation_space(a), env.action_space(a))
                         for a in env.possible_agents}
        env.reset(seed=3)      # a new server: the same space objects
        for a, (o, s) in spaces_before.items():
            self.assertIs(env.observation_space(a), o)
            self.assertIs(env.action_space(a), s)

    def test_parallel_api_contract(self):
        """Keys equal the live agents, no agent comes back after it ends,
        observations lie in their spaces, through three episodes (the third
        in a new run: the scenario has two)."""
        env = self.make()
        ended = set()
        episodes = []

        def check(kind, obs, infos, rewards, done, live):
            if kind == "reset":
                ended.clear()
                self.assertEqual(set(obs), set(env.possible_agents))
                self.assertEqual(set(infos), set(obs))
                self.assertEqual(env.agents, env.possible_agents)
                episodes.append((env.seed_in_use, infos["a"]["episode_index"]))
                for a in obs:
                    self.assertEqual(infos[a]["tick"], 0)
                    self.assertEqual(len(infos[a]["feedback"]["user_ids"]), 0)
            else:
                terms, truncs = done
                for d in (obs, infos, rewards, terms, truncs):
                    self.assertEqual(set(d), set(live))
                for a in live:
                    self.assertIsInstance(rewards[a], float)
                    self.assertIsInstance(terms[a], bool)
                    self.assertFalse(truncs[a])
                ended.update(a for a in live if terms[a])
                self.assertEqual(env.agents, [a for a in live if not terms[a]])
                self.assertFalse(ended & set(env.agents))
                self.assertEqual(env.num_agents, len(env.agents))
            for a in obs:
                self.assertTrue(env.observation_space(a).contains(obs[a]), (a, obs[a]))
                self.assertEqual(infos[a]["errors"], [])
            state = env.state()
            self.assertTrue(env.state_space.contains(state))
            self.assertEqual(len(state["user_ids"]),
                             sum(len(obs[a]["user_ids"]) for a in env.agents))

        trace = play(env, np.random.default_rng(1), episodes=3, check=check)
        self.assertEqual(len(trace), 3 * 16)                     # reset + 15 ticks, 3 times
        self.assertEqual([e for _, e in episodes], [0, 1, 0])
        self.assertEqual(episodes[0][0], 9)                      # the scenario's seed
        self.assertEqual(episodes[1][0], 9)
        self.assertNotEqual(episodes[2][0], 9)                   # a new run, derived seed
        with self.assertRaises(RuntimeError):
            env.step({})
        served = sum(len(o["user_ids"]) for step in trace for o in step[0].values())
        self.assertGreater(served, 0)

    def test_same_seed_same_episodes(self):
        env = self.make()
        first = play(env, np.random.default_rng(5), episodes=2, seed=7)
        again = play(env, np.random.default_rng(5), episodes=2, seed=7)
        other = play(env, np.random.default_rng(5), episodes=1, seed=8)
        self.assertEqual(len(first), len(again))
        for (o1, r1, t1), (o2, r2, t2) in zip(first, again):
            self.assertEqual(r1, r2)
            self.assertEqual(t1, t2)
            for a in o1:
                for key in o1[a]:
                    self.assertTrue(np.array_equal(o1[a][key], o2[a][key]), (a, key))
        self.assertTrue(any(not np.array_equal(x[0]["a"]["user_ids"], y[0]["a"]["user_ids"])
                            for x, y in zip(first, other)))
        # a second environment, same seed: the same again
        env2 = self.make(seed=7)
        third = play(env2, np.random.default_rng(5), episodes=1)
        for (o1, r1, _), (o3, r3, _) in zip(first, third):
            self.assertEqual(r1, r3)
            self.assertTrue(np.array_equal(o1["b"]["features"], o3["b"]["features"]))

    def test_sample_and_invalid_actions(self):
        env = self.make()
        obs, infos = env.reset()
        actions = {a: env.action_space(a).sample() for a in env.agents}
        for a in env.agents:
            self.assertEqual(actions[a].shape, (len(obs[a]["user_ids"]), 5))
            self.assertTrue(np.isin(actions[a], infos[a]["catalog"]["ids"]).all())
            self.assertEqual(np.flatnonzero(infos[a]["action_mask"]).tolist(),
                             infos[a]["catalog"]["ids"].tolist())
        obs, rewards, _, _, infos = env.step(actions)
        self.assertEqual(infos["a"]["errors"], [])
        with self.assertRaises(ValueError):          # wrong shape: refused before sending
            env.step({a: np.zeros((len(obs[a]["user_ids"]), 4), np.int32) for a in env.agents})
        # duplicates: the server replaces the slates and says so
        while not len(obs["a"]["user_ids"]):
            obs, *_ = env.step({a: env.action_space(a).sample() for a in env.agents})
        bad = {a: env.action_space(a).sample() for a in env.agents}
        bad["a"][:, 1] = bad["a"][:, 0]
        obs, rewards, _, _, infos = env.step(bad)
        self.assertEqual([code for code, _ in infos["a"]["errors"]], [rc.EACTION])
        self.assertIn("repeats an item", infos["a"]["errors"][0][1])
        self.assertEqual(infos["b"]["errors"], [])

    def test_close(self):
        env = recarena_env.ParallelEnv(self.scenario.path, recarena_bin=BIN)
        server, tmp = env._server, env._tmp
        env.reset()
        env.close()
        self.assertIsNotNone(server.poll())
        self.assertFalse(os.path.exists(tmp))
        env.close()                                              # twice is fine
        with self.assertRaises(RuntimeError):
            env.reset()

    def test_connect_to_running_server(self):
        """endpoint=...: play a server started by hand; its run completes."""
        tmp = self.scenario.dir.name
        endpoint = f"ipc://{tmp}/serve.sock"
        out = os.path.join(tmp, "served")
        server = subprocess.Popen([BIN, "serve", self.scenario.path, "--bind", endpoint, "--quiet",
                                   "--no-progress", "--out", out, "--set", "run.episodes=1"],
                                  stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: server.poll() is None and server.kill())
        env = recarena_env.ParallelEnv(endpoint=endpoint, agents=["b", "a"])
        self.addCleanup(env.close)
        with self.assertRaises(RuntimeError):
            env.reset(seed=1)
        trace = play(env, np.random.default_rng(2))
        self.assertEqual(len(trace), 16)
        self.assertEqual(server.wait(30), 0)
        self.assertTrue(os.path.exists(os.path.join(out, "summary.json")))

    @unittest.skipUnless(recarena_env._ParallelEnvBase is not object, "pettingzoo not installed")
    def test_pettingzoo_api_test(self):
        from pettingzoo.test import parallel_api_test
        parallel_api_test(self.make(), num_cycles=20)

    def test_no_external_agent(self):
        s = Scenario("[agent.x]\npolicy = random\n")
        self.addCleanup(s.close)
        with self.assertRaises(ValueError):
            recarena_env.ParallelEnv(s.path, recarena_bin=BIN)

    def test_infos_are_copies(self):
        """An info kept (as a replay buffer keeps it) does not change with
        later steps; the feedback is matched to the slates that were sent."""
        env = self.make()
        obs, infos = env.reset(seed=4)
        kept, snapshot = infos, pickle.dumps(infos)
        sent, matched = {}, 0
        for _ in range(6):
            actions = {a: env.action_space(a).sample(infos[a]["action_mask"]) for a in env.agents}
            for a in env.agents:
                sent[a] = dict(zip(obs[a]["user_ids"].tolist(), actions[a].tolist()))
            obs, _, _, _, infos = env.step(actions)
            for a in env.agents:
                fb = infos[a]["feedback"]
                for u, slate, c, item in zip(fb["user_ids"].tolist(), fb["slates"].tolist(),
                                             fb["clicked"].tolist(), fb["clicked_item"].tolist()):
                    self.assertEqual(slate, sent[a][u])
                    self.assertEqual(item, slate[c] if c >= 0 else -1)
                    matched += 1
        self.assertGreater(matched, 0)
        self.assertEqual(pickle.dumps(kept), snapshot)

    def test_padded_form(self):
        env = self.make(padded=True, max_batch=64, n_candidates=40)
        obs, infos = env.reset(seed=2)
        a = "a"
        space = env.observation_space(a)
        self.assertEqual(space["features"].shape, (64, 16))
        self.assertEqual(env.action_space(a).shape, (64 * 5,))
        first = {k: v.copy() for k, v in obs[a].items()}
        for _ in range(5):
            for x in env.agents:
                self.assertTrue(env.observation_space(x).contains(obs[x]))
                n = int(obs[x]["valid"].sum())
                self.assertTrue((obs[x]["user_ids"][n:] == -1).all())
                self.assertTrue((infos[x]["candidate_ids"][infos[x]["action_mask"] == 1] >= 0).all())
            actions = {x: np.zeros(64 * 5, np.int64) for x in env.agents}   # all rows 0: repaired
            obs, _, _, _, infos = env.step(actions)
            self.assertEqual(infos[a]["errors"], [])
        fb = infos[a]["feedback"]
        for slate in fb["slates"].tolist():
            self.assertEqual(len(set(slate)), 5)
        self.assertTrue(env.state_space.contains(env.state()))
        env.reset(seed=2)
        again, _ = env.reset(seed=2)
        for k in first:
            self.assertTrue(np.array_equal(first[k], again[a][k]), k)

    def test_render(self):
        env = self.make(render_mode="ansi")
        env.reset(seed=1)
        env.step({a: env.action_space(a).sample() for a in env.agents})
        self.assertRegex(env.render(), r"episode 0 tick 1: 2 live agents; last rewards: a ")
        self.assertIsNone(self.make().render())
        with self.assertRaises(ValueError):
            self.make(render_mode="rgb_array")

    def test_bad_binary(self):
        with self.assertRaises(OSError):
            recarena_env.ParallelEnv(self.scenario.path, recarena_bin="/nonexistent/recarena")


if __name__ == "__main__":
    unittest.main(verbosity=2)
