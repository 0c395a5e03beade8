"""recarena: the Python side of the recarena testbed.

    import recarena
    env = recarena.parallel_env("scenarios/processes.ini")   # PettingZoo Parallel API
    import gymnasium
    env = gymnasium.make("recarena/Recommend-v0")           # one request per step

Modules: recarena.client (the wire protocol, Agent, run), recarena.spaces
(the spaces, real Gymnasium ones where importable, stand-ins otherwise),
recarena.scenario (scenario files, resolved by the recarena binary),
recarena.parallel (ParallelEnv), recarena.gym_env (RecommendEnv,
RecommendVectorEnv), recarena.ope (off-policy estimates from a run's
log.npz: IPS, SNIPS, doubly robust; numpy only). Importing recarena registers the Gymnasium
environments when gymnasium is installed.

The version is the wire protocol's (proto/protocol.h): MAJOR.MINOR.PATCH.
"""
import importlib.util
import os
import shutil

__version__ = "1.2.0"

_HERE = os.path.dirname(os.path.abspath(__file__))
#: the build folder's binary, for a checkout: REPO/build/sim/recarena
BUILD_BINARY = os.path.normpath(os.path.join(_HERE, "..", "..", "..", "build", "sim", "recarena"))
#: the scenarios shipped in the package (agents/python/recarena/data):
#: "small" (one learner against popularity: gymnasium.make's default) and
#: "duel" (two learners and popularity, for the PettingZoo env)
SCENARIOS = {name: os.path.join(_HERE, "data", name + ".ini") for name in ("small", "duel")}
DEFAULT_SCENARIO = SCENARIOS["small"]


def find_binary(explicit=None):
    """The recarena binary: explicit (a path), else $RECARENA_BIN, else
    `recarena` on PATH, else the checkout's build folder (BUILD_BINARY).
    Raises FileNotFoundError naming every place looked at."""
    if explicit:
        return os.fspath(explicit)
    env = os.environ.get("RECARENA_BIN")
    if env:
        return env
    on_path = shutil.which("recarena")
    if on_path:
        return on_path
    if os.access(BUILD_BINARY, os.X_OK):
        return BUILD_BINARY
    raise FileNotFoundError("no recarena binary: not given, RECARENA_BIN unset, no 'recarena' on "
                            f"PATH, and no {BUILD_BINARY} (build the repository first, or set "
                            "RECARENA_BIN)")


def parallel_env(scenario=None, **kwargs):
    """The PettingZoo Parallel environment (recarena.parallel.ParallelEnv)."""
    from .parallel import ParallelEnv
    return ParallelEnv(scenario, **kwargs)


if importlib.util.find_spec("gymnasium") is not None:
    from .gym_env import register_envs as _register_envs
    _register_envs()
