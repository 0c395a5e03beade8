"""Compatibility name of recarena.parallel (the package agents/python/recarena):
`import recarena_env; recarena_env.ParallelEnv(...)` keeps working. New
code: `import recarena; recarena.parallel_env(...)`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recarena.parallel import *  # noqa: E402,F401,F403
from recarena.parallel import ParallelEnv, parallel_env, padded_observation_space  # noqa: E402,F401
from recarena.scenario import resolve as scenario_resolve  # noqa: E402,F401
from recarena.spaces import (BatchBox, Box, Dict, Discrete, MultiDiscrete, Slate,  # noqa: E402,F401
                             SlateRows, space_from_wire)
