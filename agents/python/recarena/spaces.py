"""recarena.spaces: the spaces of the recarena environments.

Where gymnasium is importable, Box, Discrete, MultiDiscrete and Dict are
gymnasium.spaces' own, and BatchBox and Slate are gymnasium.spaces.Space
subclasses; otherwise small stand-ins with the same fields (shape, dtype,
low, high, n, nvec, spaces, contains, sample, seed), so an agent needs
only numpy. Every space here is plain data: it pickles.

BatchBox: a Box whose first dimension is the variable batch (the requests
of a tick), shape (None, *row). Slate(n, k): one slate of k distinct ids
per request, shape (None, k). Neither is flattenable; the fixed-shape
forms of the environments (padded=True, the Gymnasium env) use only Box,
MultiDiscrete and Dict.
"""
import numpy as np

from . import client as rc

try:
    import gymnasium
    from gymnasium import spaces as _gym_spaces
except ImportError:          # the stand-ins below take over
    gymnasium = None
    _gym_spaces = None

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

    batch and items: the current batch size and the live item ids, which
    the environment keeps up to date (plain data, so the space pickles).
    sample(batch=..., items=...) draws k distinct ids per row from items;
    without them, from the current batch and live items (before any, one
    row over 0..max(n, k)-1)."""

    def __init__(self, n, k, seed=None):
        super().__init__(None, np.int32, seed)
        self.n, self.k = int(n), int(k)
        self._shape = (None, self.k)
        self.batch = None
        self.items = None

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
        """mask (info["action_mask"]): int8 over ids, 1 = a live item."""
        if mask is not None and items is None:
            items = np.flatnonzero(np.asarray(mask))
        batch = self.batch if batch is None else batch
        items = self.items if items is None else items
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


class SlateRows(MultiDiscrete):
    """The fixed-shape slate action: `slates` slates of k rows of a
    candidate table of n rows, flattened: a MultiDiscrete of shape
    (slates * k,), every entry below n (recarena.candidates: any action is
    turned into k distinct live items). sample(mask) draws k distinct rows
    per slate among those whose mask (int8 (n,), 1 = live; info["action_mask"])
    is set."""

    def __init__(self, n, k, slates=1, seed=None):
        self.rows, self.k, self.slates = int(n), int(k), int(slates)
        super().__init__(np.full(self.slates * self.k, self.rows, dtype=np.int64), seed=seed)

    def sample(self, mask=None, **kwargs):
        if mask is None or isinstance(mask, tuple):
            allowed = np.arange(self.rows)
        else:
            allowed = np.flatnonzero(np.asarray(mask)[:self.rows])
        if len(allowed) < self.k:
            allowed = np.arange(self.rows)
        keys = self.np_random.random((self.slates, len(allowed)))
        picks = allowed[np.argpartition(keys, self.k - 1, axis=1)[:, :self.k]]
        return picks.reshape(-1).astype(self.dtype)

    def __repr__(self):
        return f"SlateRows(rows={self.rows}, k={self.k}, slates={self.slates})"

    def __eq__(self, other):
        return isinstance(other, SlateRows) and (self.rows, self.k, self.slates) == (
            other.rows, other.k, other.slates)

    def __hash__(self):
        return hash((self.rows, self.k, self.slates))


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

