#!/usr/bin/env python3
"""Short runs of the training examples (agents/python/examples): the
CleanRL-style PPO on the Gymnasium env's vector form and the PettingZoo
loop with two learners. Exit 77 (CTest: skipped) without torch.

    build/venv/bin/python tests/python/test_examples.py"""
import os
import re
import subprocess
import sys
import unittest

try:
    import torch  # noqa: F401
    import gymnasium  # noqa: F401
except ImportError as e:
    print(f"skipped: {e} (Debian's python3-torch and the venv of scripts/python-venv.sh)")
    raise SystemExit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "agents", "python", "examples")


def run(script, *args):
    done = subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args], cwd="/",
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise AssertionError(f"{script} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


class Examples(unittest.TestCase):
    def test_ppo_short(self):
        """Runs from any folder (cwd /), trains, evaluates against the
        popularity recommender, draws the curve."""
        png = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"ppo-test-{os.getpid()}.png")
        self.addCleanup(lambda: os.path.exists(png) and os.remove(png))
        out = run("ppo_recommend.py", "--updates", "4", "--eval-episodes", "1", "--plot", png)
        self.assertRegex(out, r"update +\d+ +episode reward")
        found = dict(re.findall(r"eval (\w+) +reward per episode +([\d.]+)", out))
        self.assertEqual(set(found), {"learner", "popular"})
        self.assertGreater(float(found["learner"]), 0)
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_two_learners_short(self):
        out = run("pettingzoo_two_learners.py", "--episodes", "2")
        rows = re.findall(r"episode +(\d+) +first +(\d+) +second +(\d+)", out)
        self.assertEqual([r[0] for r in rows], ["0", "1"])
        self.assertTrue(all(int(r[1]) + int(r[2]) > 0 for r in rows))


if __name__ == "__main__":
    unittest.main(verbosity=2)
