"""recarena.scenario: a scenario file as the server will run it.

Python never parses scenario files itself: the recarena binary resolves
them (`recarena scenario FILE --set ... --json`: defaults filled in,
overrides applied, checked), so Python and C can never disagree.
"""
import json
import subprocess

from . import find_binary


class ScenarioError(ValueError):
    """A scenario the binary refused; the message is its error (file, line, key)."""


def resolve(path, overrides=(), seed=None, episodes=None, ticks=None, recarena_bin=None):
    """The resolved scenario as a dict: {"file", "run": {name, seed,
    episodes, ticks, ...}, "world": {...}, "server": {...}, "agents":
    [{"name", "policy", "command", ...}, ...]}. overrides: "section.key=value"
    strings. Raises ScenarioError for a bad scenario."""
    cmd = [find_binary(recarena_bin), "scenario", str(path)]
    for o in overrides:
        cmd += ["--set", str(o)]
    for flag, value in (("--seed", seed), ("--episodes", episodes), ("--ticks", ticks)):
        if value is not None:
            cmd += [flag, str(int(value))]
    cmd.append("--json")
    try:
        done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    except OSError as e:
        raise FileNotFoundError(f"cannot run the recarena binary {cmd[0]!r}: {e}") from e
    if done.returncode != 0:
        text = done.stderr.decode("utf-8", "replace").strip()
        raise ScenarioError(text or f"{path}: recarena scenario exited with status "
                                    f"{done.returncode}")
    try:
        return json.loads(done.stdout)
    except ValueError as e:
        raise ScenarioError(f"{path}: recarena scenario printed no JSON ({e}); is the binary "
                            "older than this package?") from e


def external_agents(resolved):
    """Names of the agents with a command (serve mode's external slots), in file order."""
    return [a["name"] for a in resolved["agents"] if a.get("command")]
