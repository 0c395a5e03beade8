"""Compatibility name of recarena.client (the package agents/python/recarena):
`import recarena_client as rc` keeps working for agents written before
the package. New code: `import recarena.client as rc`."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recarena.client import *  # noqa: E402,F401,F403
from recarena.client import _pairs_to_dict, _clip  # noqa: E402,F401
