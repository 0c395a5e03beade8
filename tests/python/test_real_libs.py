#!/usr/bin/env python3
"""The recarena environments against the real libraries: PettingZoo's own
test functions, Gymnasium's env checker and vector API, a short
Stable-Baselines3 PPO run on the Gymnasium env and, through SuperSuit, on
the PettingZoo env. Run with the project's venv (scripts/python-venv.sh):

    build/venv/bin/python tests/python/test_real_libs.py

CTest: python_libs (exit 77, skipped, when the venv is missing)."""
import os
import pickle
import shutil
import sys
import tempfile
import unittest
import warnings

try:
    import gymnasium
    import pettingzoo  # noqa: F401
except ImportError as e:
    print(f"skipped: {e} (run scripts/python-venv.sh and use build/venv/bin/python)")
    raise SystemExit(77)

import numpy as np
from gymnasium.utils.env_checker import check_env, data_equivalence

import recarena
from recarena.gym_env import RecommendEnv, RecommendVectorEnv
from recarena.parallel import ParallelEnv

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.environ.get("RECARENA_BIN") or recarena.find_binary()

# two agents played by the environment beside the server's popularity
# recommender; small batches so the padded form stays small
SCENARIO = """
[run]
seed = 3
episodes = 2
ticks = 12
[world]
mode = market
n_users = 60
n_items = 30
dim = 4
slate_size = 2
history_len = 2
item_arrival_rate = 0.5
item_lifetime = 40
[agent.a]
command = /bin/false   ; played by the environment
[agent.pop]
policy = popularity
[agent.b]
command = {python} {agent}   ; a process when the env plays only a
"""


def setUpModule():
    global TMP, PATH
    TMP = tempfile.TemporaryDirectory(prefix="recarena-libs-")
    PATH = os.path.join(TMP.name, "two.ini")
    with open(PATH, "w") as f:
        # a copy of the random agent, so that test_python.sh's check for stray
        # agents/python agents never sees this test's, when both run at once
        agent = os.path.join(TMP.name, "player_b.py")   # not random.py: that is a stdlib name
        shutil.copy(os.path.join(HERE, "..", "..", "agents", "python", "random_agent.py"), agent)
        f.write(SCENARIO.format(python=sys.executable, agent=agent))


def tearDownModule():
    TMP.cleanup()


def parallel(**kw):
    return ParallelEnv(PATH, recarena_bin=BIN, **kw)


def padded(**kw):
    return parallel(padded=True, max_batch=32, n_candidates=16, **kw)


class PettingZooSuite(unittest.TestCase):
    """PettingZoo's own tests, on both forms."""

    def test_parallel_api(self):
        from pettingzoo.test import parallel_api_test
        for make in (parallel, padded):
            env = make()
            self.addCleanup(env.close)
            parallel_api_test(env, num_cycles=30)

    def test_parallel_seed(self):
        from pettingzoo.test import parallel_seed_test
        for make in (parallel, padded):
            parallel_seed_test(make, num_cycles=20)

    def test_aec_api_and_seed(self):
        from pettingzoo.test import api_test, seed_test
        from pettingzoo.utils import parallel_to_aec
        for make in (parallel, padded):
            env = parallel_to_aec(make())
            self.addCleanup(env.close)
            api_test(env, num_cycles=20)
            seed_test(lambda: parallel_to_aec(make()), num_cycles=20)

    def test_state(self):
        from pettingzoo.test import state_test
        from pettingzoo.utils import parallel_to_aec
        for make in (parallel, padded):
            p, q = make(), make()
            self.addCleanup(p.close)
            self.addCleanup(q.close)
            state_test(parallel_to_aec(p), q, num_cycles=10)

    def test_render(self):
        from pettingzoo.test import render_test
        from pettingzoo.utils import parallel_to_aec
        render_test(lambda render_mode=None: parallel_to_aec(parallel(render_mode=render_mode)))

    def test_spaces_pickle(self):
        for make in (parallel, padded):
            env = make()
            self.addCleanup(env.close)
            for a in env.possible_agents:
                for space in (env.observation_space(a), env.action_space(a), env.state_space):
                    self.assertEqual(pickle.loads(pickle.dumps(space)), space)
            self.assertIsInstance(env.action_space("a"), gymnasium.spaces.Space)

    def test_padded_flattens(self):
        env = padded()
        self.addCleanup(env.close)
        space = env.observation_space("a")
        self.assertTrue(space.is_np_flattenable)
        obs, _ = env.reset(seed=1)
        flat = gymnasium.spaces.flatten(space, obs["a"])
        self.assertEqual(flat.shape, (gymnasium.spaces.flatdim(space),))
        self.assertIsInstance(env.action_space("a"), gymnasium.spaces.MultiDiscrete)


class GymnasiumEnv(unittest.TestCase):
    def test_make_default_and_check_env(self):
        env = gymnasium.make("recarena/Recommend-v0", recarena_bin=BIN)
        self.addCleanup(env.close)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # the unbounded feature Boxes are meant
            check_env(env.unwrapped)
        self.assertEqual(env.unwrapped._player.name, "learner")

    def test_given_scenario_and_agent(self):
        env = gymnasium.make("recarena/Recommend-v0", scenario=PATH, agent="a", recarena_bin=BIN)
        self.addCleanup(env.close)
        obs, info = env.reset(seed=2)
        self.assertEqual(obs["features"].shape, (4,))
        self.assertEqual(env.action_space.shape, (2,))
        self.assertTrue(env.observation_space.contains(obs))

    def play(self, env, seed, steps):
        obs, info = env.reset(seed=seed)
        env.action_space.seed(seed)
        trace = [(obs, 0.0, info)]
        for _ in range(steps):
            obs, r, term, trunc, info = env.step(env.action_space.sample(info["action_mask"]))
            trace.append((obs, r, info))
            if term:
                obs, info = env.reset()
        return trace

    def test_deterministic_under_seed(self):
        env = RecommendEnv(recarena_bin=BIN)
        self.addCleanup(env.close)
        a = self.play(env, 11, 300)
        b = self.play(env, 11, 300)
        c = self.play(env, 12, 300)
        self.assertTrue(data_equivalence(a, b))
        self.assertFalse(data_equivalence(a, c))
        self.assertGreater(sum(r for _, r, _ in a), 0)

    def test_rewards_are_the_ticks(self):
        """Over an episode the steps' rewards add up to the episode's reward,
        and each tick's request rewards to that step's reward."""
        env = RecommendEnv(scenario=PATH, agent="a", recarena_bin=BIN)
        self.addCleanup(env.close)
        obs, info = env.reset(seed=5)
        total, term = 0.0, False
        while not term:
            obs, r, term, _, info = env.step(env.action_space.sample(info["action_mask"]))
            total += r
            if "request_rewards" in info:
                self.assertAlmostEqual(r, float(info["request_rewards"].sum()), places=4)
        self.assertGreater(total, 0)

    def test_request_transitions(self):
        """request_transitions gives each request its own reward: the same
        episode, seed and actions as playing the env by hand, the rewards
        moved from the tick's last step to their requests."""
        from recarena.gym_env import request_transitions

        def policy_for(env):
            env.action_space.seed(7)
            return lambda obs, info: env.action_space.sample(info["action_mask"])

        env = RecommendEnv(scenario=PATH, agent="a", recarena_bin=BIN)
        self.addCleanup(env.close)
        policy = policy_for(env)
        obs, info = env.reset(seed=6)
        steps, expected, term = [], [], False
        while not term:
            action = policy(obs, info)
            obs, r, term, _, info = env.step(action)
            steps.append((action, r))
            if "request_rewards" in info:
                expected.extend(float(x) for x in info["request_rewards"])
        policy = policy_for(env)
        got = list(request_transitions(env, policy, seed=6))
        self.assertEqual(len(got), len(steps))
        self.assertEqual([bool(t[4]) for t in got], [False] * (len(got) - 1) + [True])
        for (action, _), t in zip(steps, got):
            self.assertTrue(np.array_equal(action, t[1]))
        for a, b in zip(got, got[1:]):
            self.assertTrue(data_equivalence(a[3], b[0]))     # next_obs is the next obs
        rewards = [t[2] for t in got]
        self.assertAlmostEqual(sum(rewards), sum(r for _, r in steps), places=4)
        self.assertEqual(rewards[:-1], expected[:-1])
        # clicks on requests that did not complete their tick keep their reward
        ends = {i for i, (_, r) in enumerate(steps) if r != 0.0}
        self.assertTrue(any(r > 0 for i, r in enumerate(rewards) if i not in ends))

    def test_failed_agent_process(self):
        """An agent the env starts that dies is reported, not waited for."""
        with self.assertRaisesRegex(RuntimeError, r"agent 'a' \(/bin/false\) exited with status 1"):
            RecommendEnv(scenario=PATH, agent="b", recarena_bin=BIN, timeout_s=20).reset(seed=1)

    def test_spaces_pickle(self):
        env = RecommendEnv(recarena_bin=BIN)
        self.addCleanup(env.close)
        for space in (env.observation_space, env.action_space):
            self.assertEqual(pickle.loads(pickle.dumps(space)), space)

    def test_vector_env(self):
        venv = gymnasium.make_vec("recarena/Recommend-v0", num_envs=64,
                                  vectorization_mode="vector_entry_point", recarena_bin=BIN)
        self.addCleanup(venv.close)
        self.assertIsInstance(venv.unwrapped, RecommendVectorEnv)
        self.assertIsInstance(venv.unwrapped, gymnasium.vector.VectorEnv)
        obs, info = venv.reset(seed=3)
        served, ended = 0, 0
        for _ in range(60):
            self.assertTrue(venv.observation_space.contains(obs))
            n = int(info["valid"].sum())
            self.assertGreater(n, 0)
            served += n
            obs, rewards, term, trunc, info2 = venv.step(venv.action_space.sample())
            self.assertEqual(rewards.shape, (64,))
            self.assertTrue((rewards[n:] == 0).all())
            ended += int(term.all())
            info = info2
        self.assertEqual(ended, 1)       # 50 ticks an episode: one autoreset in 60 steps
        self.assertGreater(served, 60)

    def test_vector_matches_single(self):
        """The same seed and slates: a tick's rewards in the vector env are
        the single env's request rewards."""
        single = RecommendEnv(recarena_bin=BIN)
        vec = RecommendVectorEnv(max_batch=128, recarena_bin=BIN)
        self.addCleanup(single.close)
        self.addCleanup(vec.close)
        _, sinfo = single.reset(seed=8)
        vobs, vinfo = vec.reset(seed=8)
        for _ in range(3):
            n = int(vinfo["valid"].sum())
            rows = np.tile(np.arange(3), (128, 1))         # the first three candidates
            for i in range(n):
                _, _, _, _, sinfo = single.step(rows[i])
            vobs, rewards, _, _, vinfo = vec.step(rows)
            self.assertTrue(np.array_equal(rewards[:n], sinfo["request_rewards"]))


class StableBaselines3(unittest.TestCase):
    def test_ppo_on_the_gymnasium_env(self):
        from stable_baselines3 import PPO
        env = RecommendEnv(recarena_bin=BIN)
        self.addCleanup(env.close)
        model = PPO("MultiInputPolicy", env, n_steps=512, batch_size=128, n_epochs=2, seed=1,
                    verbose=0, device="cpu")
        model.learn(total_timesteps=2048)
        obs, info = env.reset(seed=1)
        action, _ = model.predict(obs, deterministic=True)
        self.assertTrue(env.action_space.contains(action))

    def test_ppo_on_the_pettingzoo_env_through_supersuit(self):
        import supersuit as ss
        from stable_baselines3 import PPO
        env = padded()
        vec = ss.pettingzoo_env_to_vec_env_v1(env)
        vec = ss.concat_vec_envs_v1(vec, 1, num_cpus=0, base_class="stable_baselines3")
        self.addCleanup(vec.close)
        # no seed=: SuperSuit 3.10's ConcatVecEnv has no seed() for SB3 to call
        model = PPO("MultiInputPolicy", vec, n_steps=256, batch_size=128, n_epochs=1,
                    verbose=0, device="cpu")
        model.learn(total_timesteps=2048)
        self.assertGreaterEqual(model.num_timesteps, 2048)
        self.assertEqual(vec.num_envs, 2)                  # one per agent of the scenario


if __name__ == "__main__":
    unittest.main(verbosity=2)
