"""recarena.client: write recarena agents in Python.

A client of the recarena wire protocol (docs/protocol.md), written from
that document alone, using only pyzmq, msgpack and numpy (Debian's
python3-zmq, python3-msgpack, python3-numpy; run with /usr/bin/python3).

It does what the C SDK (agents/sdk/agent.h) does: the handshake, the
catalog view (born and retired items applied), STEP -> ACT, JOINT,
EPISODE_END, PING/PONG, ERRORs, BYE, and reconnection after a silent
server. An agent is a subclass of Agent with the same two callbacks:

    import recarena.client as rc

    class MyAgent(rc.Agent):
        def on_reset(self, catalog):         # each CATALOG (optional)
            ...
        def on_step(self, step):             # each STEP (required)
            return slates                    # (n, k) ints: k distinct live item ids per request

    if __name__ == "__main__":
        raise SystemExit(rc.run(MyAgent()))

`run` parses the command line (--endpoint, --name, --server-key, --agent-key,
--idle-timeout, --ping-timeout, the agent's own options), serves until the
server's BYE and returns the exit status (0 after BYE, 1 after a fatal
ERROR or a failed callback, 2 for a bad command line), as the C agents do.
docs/agents.md has a walkthrough.

Feedback arrives one tick late, for the users of the previous STEP; the
client keeps the slates it sent (agent.shown, a ShownSlates), so
`self.shown.match(step.feedback)` gives each feedback row with the slate
that user was shown and the item clicked.

Lower level: Connection (one DEALER, framing, typed arrays) and the
message classes (Welcome, Catalog, Step, Joint, EpisodeEnd) are usable on
their own; recarena.parallel and recarena.gym_env build the PettingZoo
and Gymnasium environments on them. Every message class has a readable
repr and an as_dict() of plain data (copies).
"""
import os
import sys
import time
import traceback

import msgpack
import numpy as np
import zmq

PROTOCOL_MAJOR = 1
PROTOCOL_MINOR = 2

# message types (docs/protocol.md, Messages)
HELLO, WELCOME, CATALOG, STEP, ACT, JOINT, EPISODE_END, BYE, PING, PONG, ERROR = range(1, 12)
TELEMETRY_TICK, TELEMETRY_EPISODE, TELEMETRY_EXPOSURE = 12, 13, 14
TYPE_NAMES = {HELLO: "HELLO", WELCOME: "WELCOME", CATALOG: "CATALOG", STEP: "STEP", ACT: "ACT",
              JOINT: "JOINT", EPISODE_END: "EPISODE_END", BYE: "BYE", PING: "PING", PONG: "PONG",
              ERROR: "ERROR", TELEMETRY_TICK: "TELEMETRY_TICK",
              TELEMETRY_EPISODE: "TELEMETRY_EPISODE", TELEMETRY_EXPOSURE: "TELEMETRY_EXPOSURE"}

# error codes (docs/protocol.md, Error codes)
ENOMEM, EMALFORMED, ETOOBIG, EDEPTH, EENVELOPE, EVERSION, ETYPE, EFIELD = range(-1, -9, -1)
ENONFINITE, EINVAL, ESTATE, EDEADLINE, EACTION, EAUTH, EFULL = range(-9, -16, -1)

MAX_MESSAGE_BYTES = 64 * 1024 * 1024

DTYPES = {"float32": "<f4", "float64": "<f8", "int32": "<i4", "uint8": "u1", "int64": "<i8"}


class ProtocolError(Exception):
    """A message that breaks the protocol, or an ERROR that ends a session."""

    def __init__(self, code, message, fatal=True):
        super().__init__(f"{message} (code {code})")
        self.code = code
        self.message = message
        self.fatal = fatal


# ---- typed arrays ----------------------------------------------------------

def to_numpy(t, dtype=None, ndim=None, field="array"):
    """A typed array {dtype, shape, data} -> numpy array (a read-only view).

    dtype and ndim, when given, are checked (ProtocolError EFIELD naming field)."""
    try:
        kind, shape, data = t["dtype"], t["shape"], t["data"]
    except (TypeError, KeyError):
        raise ProtocolError(EFIELD, f"{field}: expected a typed array {{dtype, shape, data}}")
    if kind not in DTYPES or (dtype is not None and kind != dtype):
        raise ProtocolError(EFIELD, f"{field}: expected dtype {dtype or 'of ' + str(list(DTYPES))},"
                                    f" got {kind!r}")
    if (not isinstance(shape, list) or not 1 <= len(shape) <= 4
            or not all(isinstance(s, int) and 0 <= s < 2 ** 32 for s in shape)
            or (ndim is not None and len(shape) != ndim)):
        raise ProtocolError(EFIELD, f"{field}: bad shape {shape!r}")
    if not isinstance(data, bytes) or len(data) != int(np.prod(shape)) * np.dtype(DTYPES[kind]).itemsize:
        raise ProtocolError(EFIELD, f"{field}: data does not hold shape {shape} of {kind}")
    a = np.frombuffer(data, dtype=DTYPES[kind]).reshape(shape)
    if a.dtype.kind == "f" and a.size and not np.isfinite(a).all():
        raise ProtocolError(ENONFINITE, f"{field}: NaN or infinity")
    return a


def typed(a, dtype):
    """A numpy array (or anything np.asarray takes) -> typed array map."""
    a = np.ascontiguousarray(a, dtype=DTYPES[dtype])
    return {"dtype": dtype, "shape": list(a.shape), "data": a.tobytes()}


# ---- messages --------------------------------------------------------------

MAX_TITLE = 4095   # CATALOG.items.titles: bytes of one title (protocol.h PROTO_MAX_TITLE)


def _titles(raw, n, field):
    """CATALOG.items.titles (1.2): one bin of n NUL-terminated UTF-8 strings
    -> a numpy object array of n str."""
    if not isinstance(raw, (bytes, bytearray)):
        raise ProtocolError(EFIELD, f"{field}: expected bin (NUL-terminated UTF-8 strings), "
                                    f"got {type(raw).__name__}")
    parts = bytes(raw).split(b"\0")
    if len(parts) != n + 1 or parts[-1] != b"":
        raise ProtocolError(EFIELD, f"{field}: expected {n} NUL-terminated strings, got "
                                    f"{raw.count(0)} NULs in {len(raw)} bytes")
    out = np.empty(n, dtype=object)
    for i, p in enumerate(parts[:-1]):
        if len(p) > MAX_TITLE:
            raise ProtocolError(EFIELD, f"{field}: entry {i} has {len(p)} bytes, more than "
                                        f"{MAX_TITLE}")
        try:
            out[i] = p.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(EFIELD, f"{field}: entry {i} is not valid UTF-8") from None
    return out


class Items:
    """Item columns, rows sorted by id: ids (n,), topics (n,), providers (n,),
    embeddings (n, dim); as in CATALOG.items and STEP.born. titles: None, or
    (protocol 1.2, a catalog from a file with titles or texts) a numpy
    object array (n,) of str aligned with ids, "" for an item without one."""

    def __init__(self, ids, topics, providers, embeddings, titles=None):
        self.ids, self.topics, self.providers, self.embeddings = ids, topics, providers, embeddings
        self.titles = titles

    @classmethod
    def from_wire(cls, m, field="items"):
        ids = to_numpy(m["ids"], "int32", 1, field + ".ids")
        topics = to_numpy(m["topics"], "int32", 1, field + ".topics")
        providers = to_numpy(m["providers"], "int32", 1, field + ".providers")
        emb = to_numpy(m["embeddings"], "float32", 2, field + ".embeddings")
        if not len(ids) == len(topics) == len(providers) == emb.shape[0]:
            raise ProtocolError(EFIELD, f"{field}: columns of different lengths")
        titles = _titles(m["titles"], len(ids), field + ".titles") if "titles" in m else None
        return cls(ids, topics, providers, emb, titles)

    @property
    def n(self):
        return len(self.ids)

    def __len__(self):
        return len(self.ids)

    def rows(self, ids):
        """Rows of the given item ids (any shape); -1 for ids that are not here."""
        ids = np.asarray(ids)
        if len(self.ids) == 0:
            return np.full(ids.shape, -1, dtype=np.intp)
        pos = np.minimum(np.searchsorted(self.ids, ids), len(self.ids) - 1)
        return np.where(self.ids[pos] == ids, pos, -1)

    def as_dict(self):
        """Plain data (copies): ids, topics, providers, embeddings (and titles,
        a list of str, when the items have them)."""
        d = {"ids": self.ids.copy(), "topics": self.topics.copy(),
             "providers": self.providers.copy(), "embeddings": self.embeddings.copy()}
        if self.titles is not None:
            d["titles"] = list(self.titles)
        return d

    def _titles_text(self):
        return "" if self.titles is None else ", with titles"

    def __repr__(self):
        dim = self.embeddings.shape[1] if self.embeddings.ndim == 2 else 0
        return f"{type(self).__name__}({_ids_text(self.ids)}, dim={dim}{self._titles_text()})"

    def title(self, item_id):
        """One live item's title ("" if it has none), or None (not live, or no titles)."""
        row = int(self.rows(item_id))
        return None if row < 0 or self.titles is None else self.titles[row]

    def embedding(self, item_id):
        """One live item's embedding, or None."""
        row = int(self.rows(item_id))
        return None if row < 0 else self.embeddings[row]

    def topic(self, item_id):
        """One live item's topic, or -1."""
        row = int(self.rows(item_id))
        return -1 if row < 0 else int(self.topics[row])


class Catalog(Items):
    """The live items (CATALOG, then every STEP's born and retired applied):
    episode, tick (of the last CATALOG), and the Items columns."""

    def __init__(self, episode, tick, items):
        super().__init__(items.ids, items.topics, items.providers, items.embeddings, items.titles)
        self.episode, self.tick = episode, tick

    def __repr__(self):
        dim = self.embeddings.shape[1] if self.embeddings.ndim == 2 else 0
        return (f"Catalog(episode={self.episode}, tick={self.tick}, {_ids_text(self.ids)}, "
                f"dim={dim}{self._titles_text()})")

    def apply(self, born, retired):
        """Adds born (appended: ids only grow; born items have no title: ""),
        then removes retired."""
        if born.n:
            self.ids = np.concatenate([self.ids, born.ids])
            self.topics = np.concatenate([self.topics, born.topics])
            self.providers = np.concatenate([self.providers, born.providers])
            self.embeddings = np.concatenate([self.embeddings, born.embeddings])
            if self.titles is not None:
                none = np.empty(born.n, dtype=object)
                none[:] = ""
                self.titles = np.concatenate([self.titles, none])
            if born.ids.size and np.any(np.diff(self.ids) <= 0):   # keep the id order anyway
                self._take(np.argsort(self.ids, kind="stable"))
        if len(retired):
            self._take(~np.isin(self.ids, retired))

    def _take(self, rows):
        self.ids, self.topics = self.ids[rows], self.topics[rows]
        self.providers, self.embeddings = self.providers[rows], self.embeddings[rows]
        if self.titles is not None:
            self.titles = self.titles[rows]


class Feedback:
    """What happened to an agent's requests of the previous tick, m rows:
    user_ids, clicked (position, -1 none), reward (float32), session_end (uint8)."""

    def __init__(self, m, field="feedback"):
        self.user_ids = to_numpy(m["user_ids"], "int32", 1, field + ".user_ids")
        self.clicked = to_numpy(m["clicked"], "int32", 1, field + ".clicked")
        self.reward = to_numpy(m["reward"], "float32", 1, field + ".reward")
        self.session_end = to_numpy(m["session_end"], "uint8", 1, field + ".session_end")

    @property
    def n(self):
        return len(self.user_ids)

    def as_dict(self):
        """Plain data (copies): user_ids, clicked, reward, session_end."""
        return {"user_ids": self.user_ids.copy(), "clicked": self.clicked.copy(),
                "reward": self.reward.copy(), "session_end": self.session_end.copy()}

    def __repr__(self):
        return (f"Feedback({self.n} users, {int(np.sum(self.clicked >= 0))} clicks, "
                f"reward {float(np.sum(self.reward)):.4g})")


class Requests:
    """The users to serve, n rows: user_ids (n,), features (n, dim), history (n, history_len)."""

    def __init__(self, m, field="requests"):
        self.user_ids = to_numpy(m["user_ids"], "int32", 1, field + ".user_ids")
        self.features = to_numpy(m["features"], "float32", 2, field + ".features")
        self.history = to_numpy(m["history"], "int32", 2, field + ".history")

    @property
    def n(self):
        return len(self.user_ids)

    def __repr__(self):
        return (f"Requests({self.n} users, features {self.features.shape[1]}, "
                f"history {self.history.shape[1]})")


class Welcome:
    """WELCOME: agent_index, n_agents, agents, seed, mode, slate_size, dim,
    n_topics, history_len, ticks, episodes, observation_space,
    action_space (space maps as on the wire), limits (a dict)."""

    KEYS = ("agent_index", "n_agents", "agents", "seed", "mode", "slate_size", "dim", "n_topics",
            "history_len", "ticks", "episodes", "observation_space", "action_space", "limits")

    def __init__(self, body):
        for key in self.KEYS:
            if key not in body:
                raise ProtocolError(EFIELD, f"WELCOME.{key}: missing")
            setattr(self, key, body[key])

    def __repr__(self):
        return (f"Welcome(agent {self.agent_index} of {self.n_agents}, mode={self.mode!r}, "
                f"k={self.slate_size}, dim={self.dim}, ticks={self.ticks}, "
                f"episodes={self.episodes}, seed={self.seed})")


class Step:
    """STEP: episode, tick, deadline_ms, feedback (Feedback), tick_reward,
    requests (Requests), born (Items), retired (int32 ids), seq (the
    message's seq)."""

    def __init__(self, body, seq=0):
        self.seq = seq
        self.episode, self.tick = body["episode"], body["tick"]
        self.deadline_ms = body["deadline_ms"]
        self.feedback = Feedback(body["feedback"], "STEP.feedback")
        self.tick_reward = float(body["tick_reward"])
        self.requests = Requests(body["requests"], "STEP.requests")
        self.born = Items.from_wire(body["born"], "STEP.born")
        self.retired = to_numpy(body["retired"], "int32", 1, "STEP.retired")

    def __repr__(self):
        return (f"Step(episode={self.episode}, tick={self.tick}, {self.requests.n} requests, "
                f"{self.feedback!r}, tick_reward={self.tick_reward:.4g}, born={self.born.n}, "
                f"retired={len(self.retired)})")


class JointAgent:
    """One agent's part of a JOINT: agent_index, user_ids, features, slates, clicked, reward."""

    def __init__(self, m):
        self.agent_index = m["agent_index"]
        self.user_ids = to_numpy(m["user_ids"], "int32", 1, "JOINT.agents.user_ids")
        self.features = to_numpy(m["features"], "float32", 2, "JOINT.agents.features")
        self.slates = to_numpy(m["slates"], "int32", 2, "JOINT.agents.slates")
        self.clicked = to_numpy(m["clicked"], "int32", 1, "JOINT.agents.clicked")
        self.reward = float(m["reward"])

    def as_dict(self):
        return {"agent_index": int(self.agent_index), "user_ids": self.user_ids.copy(),
                "features": self.features.copy(), "slates": self.slates.copy(),
                "clicked": self.clicked.copy(), "reward": self.reward}

    def __repr__(self):
        return (f"JointAgent({self.agent_index}: {len(self.user_ids)} users, "
                f"reward {self.reward:.4g})")


class Joint:
    """JOINT: episode, tick (just resolved), agents (JointAgent by agent index)."""

    def __init__(self, body):
        self.episode, self.tick = body["episode"], body["tick"]
        self.agents = [JointAgent(a) for a in body["agents"]]

    def as_dict(self):
        return {"episode": int(self.episode), "tick": int(self.tick),
                "agents": [a.as_dict() for a in self.agents]}

    def __repr__(self):
        return f"Joint(episode={self.episode}, tick={self.tick}, {len(self.agents)} agents)"


class EpisodeEnd:
    """EPISODE_END: episode, ticks, reward, requests, clicks, feedback of
    the last tick (Feedback), tick_reward of the last tick."""

    def __init__(self, body):
        self.episode, self.ticks = body["episode"], body["ticks"]
        self.reward = float(body["reward"])
        self.requests, self.clicks = body["requests"], body["clicks"]
        self.feedback = Feedback(body["feedback"], "EPISODE_END.feedback")
        self.tick_reward = float(body["tick_reward"])

    def as_dict(self):
        """Plain data: episode, ticks, reward, requests, clicks, tick_reward."""
        return {"episode": int(self.episode), "ticks": int(self.ticks), "reward": self.reward,
                "requests": int(self.requests), "clicks": int(self.clicks),
                "tick_reward": self.tick_reward}

    def __repr__(self):
        return (f"EpisodeEnd(episode={self.episode}, ticks={self.ticks}, reward={self.reward:.4g}, "
                f"requests={self.requests}, clicks={self.clicks})")


def _ids_text(ids):
    if len(ids) == 0:
        return "0 items"
    return f"{len(ids)} items, ids {int(ids[0])}..{int(ids[-1])}"


# ---- feedback matched to the slates shown ------------------------------------

class MatchedFeedback:
    """Feedback rows with what each user was shown, m rows: user_ids,
    clicked (position, -1 none), reward, session_end (as in Feedback), and
    slates int32 (m, k) (the slate sent to that user; -1 where unknown),
    clicked_item int32 (m,) (the item at the clicked position, -1 none),
    features float32 (m, dim) (the user's features in that request)."""

    def __init__(self, feedback, slates, features):
        self.user_ids, self.clicked = feedback.user_ids, feedback.clicked
        self.reward, self.session_end = feedback.reward, feedback.session_end
        self.slates, self.features = slates, features
        k = slates.shape[1]
        ok = (self.clicked >= 0) & (self.clicked < k)
        pos = np.where(ok, self.clicked, 0)
        picked = slates[np.arange(len(pos)), pos] if len(pos) else np.zeros(0, dtype=np.int32)
        self.clicked_item = np.where(ok, picked, -1).astype(np.int32)

    @property
    def n(self):
        return len(self.user_ids)

    def as_dict(self):
        return {"user_ids": self.user_ids.copy(), "clicked": self.clicked.copy(),
                "reward": self.reward.copy(), "session_end": self.session_end.copy(),
                "slates": self.slates.copy(), "clicked_item": self.clicked_item.copy(),
                "features": self.features.copy()}

    def __repr__(self):
        return (f"MatchedFeedback({self.n} users, {int(np.sum(self.clicked_item >= 0))} clicks, "
                f"reward {float(np.sum(self.reward)):.4g})")


class ShownSlates:
    """The slates an agent sent for its last STEP, to match the next
    feedback with: record(step, slates) after each ACT (the client's run
    loop and the environments do it), match(feedback) -> MatchedFeedback.
    Users are matched by id, so the feedback's order does not matter."""

    def __init__(self):
        self.clear()

    def clear(self):
        self.user_ids = np.zeros(0, dtype=np.int32)
        self.slates = None
        self.features = None

    def record(self, step, slates):
        self.user_ids = step.requests.user_ids.copy()
        slates = np.array(slates, dtype=np.int32)
        if slates.ndim != 2:
            slates = slates.reshape(len(self.user_ids), -1) if slates.size else np.zeros(
                (len(self.user_ids), 0), dtype=np.int32)
        self.slates = slates
        self.features = step.requests.features.copy()

    def match(self, feedback):
        m = feedback.n
        if self.slates is None:
            k, dim = 0, 0
        else:
            k, dim = self.slates.shape[1], self.features.shape[1]
        slates = np.full((m, k), -1, dtype=np.int32)
        features = np.zeros((m, dim), dtype=np.float32)
        if m and len(self.user_ids):
            order = np.argsort(self.user_ids, kind="stable")
            pos = np.minimum(np.searchsorted(self.user_ids[order], feedback.user_ids),
                             len(order) - 1)
            rows = order[pos]
            found = self.user_ids[rows] == feedback.user_ids
            slates[found] = self.slates[rows[found]]
            features[found] = self.features[rows[found]]
        return MatchedFeedback(feedback, slates, features)

    def __repr__(self):
        return f"ShownSlates({len(self.user_ids)} users)"


# ---- the connection --------------------------------------------------------

def _pairs_to_dict(pairs):
    """Map decoding: string keys only (others ignored), no key twice."""
    d = {}
    for key, value in pairs:
        if not isinstance(key, str):
            continue
        if key in d:
            raise ProtocolError(EFIELD, f"key {key!r} given twice in one map")
        d[key] = value
    return d


class Message:
    """One decoded message: major, type, seq, body (a dict)."""
    __slots__ = ("major", "type", "seq", "body")

    def __init__(self, major, type_, seq, body):
        self.major, self.type, self.seq, self.body = major, type_, seq, body

    def __repr__(self):
        return (f"Message({TYPE_NAMES.get(self.type, self.type)}, major={self.major}, "
                f"seq={self.seq}, keys={sorted(self.body)})")


def decode(frame):
    """One frame -> Message. Raises ProtocolError (EMALFORMED, EENVELOPE, ...)."""
    try:
        msg = msgpack.unpackb(frame, raw=False, strict_map_key=False,
                              object_pairs_hook=_pairs_to_dict)
    except ProtocolError:
        raise
    except msgpack.ExtraData:
        raise ProtocolError(EMALFORMED, "trailing bytes after the message", fatal=False)
    except msgpack.StackError:
        raise ProtocolError(EDEPTH, "nested too deep", fatal=False)
    except Exception as e:   # ValueError (truncated), FormatError, UnicodeDecodeError, ...
        raise ProtocolError(EMALFORMED, f"not one well-formed MessagePack value: {e}", fatal=False)
    if (not isinstance(msg, list) or len(msg) != 4
            or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in msg[:3])
            or not isinstance(msg[3], dict)):
        raise ProtocolError(EENVELOPE, "not [major, type, seq, body-map]", fatal=False)
    return Message(*msg)


def _clip(text, limit=1023):
    """text cut to at most limit bytes of UTF-8 (the protocol's string limit)."""
    return text.encode("utf-8")[:limit].decode("utf-8", "ignore")


class Connection:
    """One DEALER connection to the server's control endpoint.

    send(type, body) frames and numbers the messages (seq from 0);
    recv(timeout_ms) returns a Message or None on timeout, and raises
    ProtocolError for a frame that does not decode (the caller answers it
    with an ERROR). reopen() starts a new connection (seq from 0 again)."""

    def __init__(self, endpoint, context=None, server_key=None, agent_key=None):
        self.endpoint = endpoint
        self.context = context or zmq.Context.instance()
        self.curve = read_curve_keys(server_key, agent_key)
        self.socket = None
        self.seq = 0
        self.reopen()

    def __repr__(self):
        state = "open" if self.socket is not None else "closed"
        return f"Connection({self.endpoint!r}, {state}, next seq {self.seq})"

    def reopen(self):
        if self.socket is not None:
            self.socket.close(linger=0)
        self.socket = self.context.socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        self.socket.setsockopt(zmq.RECONNECT_IVL, 20)
        if self.curve:
            server_public, secret = self.curve
            self.socket.curve_serverkey = server_public
            self.socket.curve_secretkey = secret
            self.socket.curve_publickey = zmq.curve_public(secret)
        self.socket.connect(self.endpoint)
        self.seq = 0

    def send(self, msg_type, body, major=PROTOCOL_MAJOR):
        seq = self.seq
        self.socket.send(msgpack.packb([major, msg_type, seq, body], use_bin_type=True))
        self.seq += 1
        return seq

    def poll(self, timeout_ms):
        return bool(self.socket.poll(timeout_ms))

    def recv(self, timeout_ms=None):
        if timeout_ms is not None and not self.socket.poll(timeout_ms):
            return None
        frames = self.socket.recv_multipart()
        if len(frames) != 1:
            raise ProtocolError(EENVELOPE, f"a message of {len(frames)} frames", fatal=False)
        return decode(frames[0])

    def hello(self, name, caps=(), token=None):
        body = {"minor": PROTOCOL_MINOR, "name": name, "role": "agent", "caps": list(caps)}
        if token:
            body["token"] = token
        return self.send(HELLO, body)

    def act(self, step, slates, k=None, propensity=None):
        """Answers a Step with slates (n, k), checking the shape first (and
        k, when given); with no requests, any empty array will do.
        propensity (protocol 1.2, optional): (n,) the probability of each
        slate under the agent's policy, finite, in (0, 1]; the run log
        records it (docs/logging.md)."""
        slates = np.asarray(slates)
        n = step.requests.n
        if n == 0 and slates.size == 0 and k is not None:
            slates = np.zeros((0, k), dtype=np.int32)
        if (slates.ndim != 2 or slates.shape[0] != n or (k is not None and slates.shape[1] != k)
                or (n and not np.issubdtype(slates.dtype, np.integer))):
            raise ValueError(f"slates: expected integers of shape ({n}, {k or 'k'}), got "
                             f"{slates.dtype} {slates.shape}")
        body = {"episode": step.episode, "tick": step.tick,
                "user_ids": typed(step.requests.user_ids, "int32"),
                "slates": typed(slates, "int32")}
        if propensity is not None:
            p = np.asarray(propensity, dtype=np.float64)
            if p.shape != (n,):
                raise ValueError(f"propensity: expected shape ({n},), got {p.shape}")
            bad = ~(np.isfinite(p) & (p > 0) & (p <= 1))
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(f"propensity: element {i} is {p[i]!r}, outside (0, 1]")
            body["propensity"] = typed(p, "float64")
        return self.send(ACT, body)

    def error(self, code, message, fatal=False, ref_seq=None):
        body = {"code": int(code), "message": _clip(message) or "error", "fatal": bool(fatal)}
        if ref_seq is not None:
            body["ref_seq"] = ref_seq
        return self.send(ERROR, body)

    def bye(self, reason):
        return self.send(BYE, {"reason": _clip(reason) or "bye"})

    def close(self):
        if self.socket is not None:
            self.socket.close(linger=0)
            self.socket = None


# ---- agents ----------------------------------------------------------------

class Action:
    """What on_step may return instead of bare slates: slates (n, k) and
    propensity (n,), the probability of each slate under the agent's
    policy (finite, in (0, 1]; protocol 1.2), or None."""

    def __init__(self, slates, propensity=None):
        self.slates, self.propensity = slates, propensity

    def __repr__(self):
        n = len(self.slates)
        return f"Action({n} slates, propensity={'yes' if self.propensity is not None else 'no'})"


class Agent:
    """Base class of a Python agent; override on_step (required) and any of
    the others. While it runs, the agent has these attributes:

      name        its name in the scenario
      welcome     the Welcome (slate_size, dim, ticks, seed, limits, ...)
      catalog     the live items (Catalog: ids ascending, topics,
                  providers, embeddings, titles (None, or str per item
                  when the catalog has them); rows(ids) finds rows)
      rng         a numpy Generator seeded from WELCOME.seed and the agent
                  index: draw from it and a run replays exactly
      connection  the Connection
      shown       the slates sent for the last STEP (ShownSlates):
                  self.shown.match(step.feedback) pairs each feedback row
                  with its slate and clicked item

    options: a dict {name: default} of the agent's own command-line
    options; `--name VALUE` is converted to the default's type and stored
    as the attribute of that name ('-' read as '_'). caps: capabilities
    for HELLO, e.g. ("joint",)."""

    caps = ()
    options = {}
    name = welcome = catalog = rng = connection = shown = None

    def __repr__(self):
        where = f", agent {self.welcome.agent_index}" if self.welcome is not None else ""
        return f"{type(self).__name__}(name={self.name!r}{where})"

    def on_option(self, name, value):
        """--NAME VALUE not known to the client. Returns True to accept."""
        key = name.replace("-", "_")
        if key not in self.options:
            return False
        default = self.options[key]
        try:
            if isinstance(default, bool):
                if value.lower() not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
                    return False
                value = value.lower() in ("1", "true", "yes", "on")
            elif default is not None:
                value = type(default)(value)
        except ValueError:
            return False
        setattr(self, key, value)
        return True

    def on_welcome(self, welcome):
        """Each WELCOME (the first, and after a reconnection)."""

    def on_reset(self, catalog):
        """Each CATALOG: a new episode (catalog.tick == 0) or a resync (tick > 0).
        self.catalog is already the new one."""

    def on_step(self, step):
        """Each STEP (also with no requests): return slates, (n, k) integers,
        row i for step.requests.user_ids[i], k distinct live item ids, best first;
        or Action(slates, propensity) to report each slate's probability under
        the policy (ACT.propensity, for the run log).
        step.born and step.retired are already applied to self.catalog."""
        raise NotImplementedError("an agent must define on_step")

    def on_joint(self, joint):
        """Each JOINT (only with caps = ("joint",))."""

    def on_episode_end(self, end):
        """Each EPISODE_END: totals and the last tick's feedback."""

    def on_error(self, code, message, fatal):
        """Each ERROR from the server; the default prints it on stderr."""
        print(f"{self.name}: server error {code}: {message}", file=sys.stderr, flush=True)


def read_curve_keys(server_key, agent_key):
    """CURVE key files -> (server public key, agent secret key) as Z85
    bytes, or None when neither is given (docs/security.md). server_key is
    the server's NAME.pub, agent_key this agent's NAME.key (recarena
    keygen); ValueError for one without the other or a bad file."""
    if not server_key and not agent_key:
        return None
    if not server_key or not agent_key:
        raise ValueError("CURVE needs both --server-key (the server's NAME.pub) and --agent-key "
                         "(this agent's NAME.key)")
    keys = []
    for path in (server_key, agent_key):
        try:
            with open(path, "rb") as f:
                key = f.read().strip()
        except OSError as e:
            raise ValueError(f"cannot read key {path}: {e.strerror}") from None
        if len(key) != 40:
            raise ValueError(f"key file {path}: expected one 40-character Z85 key (recarena keygen)")
        keys.append(key)
    return keys[0], keys[1]


USAGE = """usage: {prog} [--endpoint ENDPOINT] [--name NAME] [OPTIONS]

A recarena agent (docs/agents.md). Options:
  --endpoint ENDPOINT  the server's control endpoint (default $RECARENA_ENDPOINT)
  --name NAME          the agent's name in the scenario (default $RECARENA_AGENT_NAME)
  --server-key FILE    the server's CURVE public key, for a server with keys
                       (default $RECARENA_SERVER_KEY; docs/security.md)
  --agent-key FILE     this agent's CURVE secret key, NAME.key of recarena keygen
                       (default $RECARENA_AGENT_KEY)
  --idle-timeout MS    PING a server silent for MS ms (default 30000)
  --ping-timeout MS    reconnect if the PING gets no answer within MS ms (default 5000)
  --give-up MS         exit when no server has answered for MS ms (default 120000)
  --help               this text
"""


def parse_args(agent, argv, prog):
    """Command line -> settings dict; raises SystemExit(0) for --help,
    ValueError for a bad command line."""
    for key, default in agent.options.items():   # defaults of the agent's own options
        if key not in vars(agent):
            setattr(agent, key, default)
    settings = {"endpoint": os.environ.get("RECARENA_ENDPOINT", ""),
                "name": os.environ.get("RECARENA_AGENT_NAME", ""),
                "server-key": os.environ.get("RECARENA_SERVER_KEY", ""),
                "agent-key": os.environ.get("RECARENA_AGENT_KEY", ""),
                "idle-timeout": "30000", "ping-timeout": "5000",
                "give-up": "120000"}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("-h", "--help"):
            text = USAGE.format(prog=prog)
            if agent.options:
                text += "agent options (defaults):\n" + "".join(
                    f"  --{k.replace('_', '-')} VALUE  ({v})\n" for k, v in agent.options.items())
            print(text, end="")
            raise SystemExit(0)
        if not arg.startswith("--"):
            raise ValueError(f"unexpected argument '{arg}'")
        if "=" in arg:
            key, value = arg[2:].split("=", 1)
        else:
            if i + 1 >= len(argv):
                raise ValueError(f"{arg} needs a value")
            key, value = arg[2:], argv[i + 1]
            i += 1
        i += 1
        if key in settings:
            settings[key] = value
        elif not agent.on_option(key, value):
            raise ValueError(f"unknown option or bad value: --{key} {value}")
    if not settings["endpoint"]:
        raise ValueError("no server endpoint: pass --endpoint ENDPOINT or set RECARENA_ENDPOINT")
    if not settings["name"]:
        raise ValueError("no agent name: pass --name NAME or set RECARENA_AGENT_NAME")
    for key in ("idle-timeout", "ping-timeout", "give-up"):
        if not settings[key].isdigit() or int(settings[key]) == 0:
            raise ValueError(f"--{key}: expected a positive number of milliseconds")
    read_curve_keys(settings["server-key"], settings["agent-key"])   # fail before connecting
    return settings


def run(agent, argv=None, prog=None):
    """Runs agent until the server's BYE; returns the exit status (0 after
    BYE, 1 after a fatal ERROR or a failed callback, 2 for a bad command line)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    prog = prog or os.path.basename(sys.argv[0] or "agent")
    try:
        settings = parse_args(agent, argv, prog)
    except ValueError as e:
        print(f"{prog}: {e} (try --help)", file=sys.stderr)
        return 2
    agent.name = settings["name"]
    agent.shown = ShownSlates()
    conn = Connection(settings["endpoint"], zmq.Context(), settings["server-key"] or None,
                      settings["agent-key"] or None)
    agent.connection = conn
    try:
        return _serve(agent, conn, settings, prog)
    except KeyboardInterrupt:
        _safe_bye(conn, "interrupted")
        return 130
    finally:
        conn.close()
        conn.context.term()


def _safe_bye(conn, reason):
    try:
        conn.bye(reason)
    except zmq.ZMQError:
        pass


def parse_message(msg):
    """The message's body as an object (ProtocolError/KeyError when it is bad)."""
    body = msg.body
    if msg.type == WELCOME:
        return Welcome(body)
    if msg.type == CATALOG:
        return Catalog(body["episode"], body["tick"], Items.from_wire(body["items"], "CATALOG.items"))
    if msg.type == STEP:
        return Step(body, msg.seq)
    if msg.type == JOINT:
        return Joint(body)
    if msg.type == EPISODE_END:
        return EpisodeEnd(body)
    if msg.type in (PING, PONG):
        return int(body["nonce"])
    return body


def _serve(agent, conn, settings, prog):
    idle_ms, ping_ms = int(settings["idle-timeout"]), int(settings["ping-timeout"])
    give_up_ms = int(settings["give-up"])
    name = settings["name"]
    conn.hello(name, agent.caps)
    ping_seq, ping_sent_at = None, 0.0
    alive_at = time.monotonic()              # any server last heard (kept across reconnects)
    while True:
        if ping_seq is None:
            wait = idle_ms
        else:
            wait = max(1, ping_ms - int((time.monotonic() - ping_sent_at) * 1000))
        try:
            msg = conn.recv(wait)
        except ProtocolError as e:           # a frame that does not decode
            conn.error(e.code, e.message, fatal=False)
            continue
        if msg is None:
            if ping_seq is None:             # a silent server: are you there?
                ping_seq = conn.send(PING, {"nonce": conn.seq})
                ping_sent_at = time.monotonic()
            elif (time.monotonic() - alive_at) * 1000 >= give_up_ms:
                print(f"{prog}: no answer from the server for {give_up_ms} ms; giving up",
                      file=sys.stderr, flush=True)
                return 1
            else:                            # no answer at all: reconnect
                print(f"{prog}: no answer from the server within {ping_ms} ms; reconnecting",
                      file=sys.stderr, flush=True)
                conn.reopen()
                conn.hello(name, agent.caps)
                ping_seq = None
            continue
        our_ping, ping_seq = ping_seq, None  # anything at all proves the server alive
        alive_at = time.monotonic()
        body = msg.body
        if msg.type == ERROR:                # readable whatever the major
            code, text = body.get("code", 0), str(body.get("message", ""))
            fatal = body.get("fatal") is True
            if code == ESTATE and our_ping is not None and body.get("ref_seq") == our_ping:
                conn.hello(name, agent.caps)   # the server restarted: greet it anew
                continue
            agent.on_error(code, text, fatal)
            if fatal:
                return 1
            continue
        if msg.major != PROTOCOL_MAJOR:
            conn.error(EVERSION, f"protocol major version {msg.major} received, this agent "
                                 f"speaks {PROTOCOL_MAJOR}.{PROTOCOL_MINOR}", fatal=True,
                       ref_seq=msg.seq)
            print(f"{prog}: the server speaks protocol {msg.major}, this agent "
                  f"{PROTOCOL_MAJOR}", file=sys.stderr)
            return 1
        if msg.type == BYE:
            return 0
        if msg.type not in (WELCOME, CATALOG, STEP, JOINT, EPISODE_END, PING, PONG):
            conn.error(ETYPE if msg.type not in TYPE_NAMES else ESTATE,
                       f"unknown message type {msg.type}" if msg.type not in TYPE_NAMES
                       else f"{TYPE_NAMES[msg.type]} is not for agents", ref_seq=msg.seq)
            continue
        what = TYPE_NAMES[msg.type]
        try:
            parsed = parse_message(msg)
            if msg.type in (CATALOG, STEP, JOINT, EPISODE_END) and agent.welcome is None:
                raise ProtocolError(ESTATE, "before WELCOME", fatal=False)
            if msg.type == STEP and agent.catalog is None:
                raise ProtocolError(ESTATE, "before any CATALOG", fatal=False)
        except ProtocolError as e:
            conn.error(e.code, f"{what}: {e.message}", ref_seq=msg.seq)
            continue
        except KeyError as e:
            conn.error(EFIELD, f"{what}.{e.args[0]}: missing", ref_seq=msg.seq)
            continue
        except (TypeError, ValueError) as e:
            conn.error(EFIELD, f"{what}: {e}", ref_seq=msg.seq)
            continue
        try:                                 # the agent's callbacks
            if msg.type == WELCOME:
                if agent.rng is None:
                    agent.rng = np.random.default_rng([parsed.seed, parsed.agent_index])
                agent.welcome = parsed
                agent.on_welcome(parsed)
            elif msg.type == CATALOG:
                agent.catalog = parsed
                agent.on_reset(parsed)
            elif msg.type == STEP:
                agent.catalog.apply(parsed.born, parsed.retired)
                slates, propensity = agent.on_step(parsed), None
                if isinstance(slates, Action):
                    slates, propensity = slates.slates, slates.propensity
                conn.act(parsed, slates, agent.welcome.slate_size, propensity)
                agent.shown.record(parsed, slates)
            elif msg.type == JOINT:
                agent.on_joint(parsed)
            elif msg.type == EPISODE_END:
                agent.on_episode_end(parsed)
            elif msg.type == PING:
                conn.send(PONG, {"nonce": parsed})
        except Exception as e:
            traceback.print_exc()
            _safe_bye(conn, f"agent failed in {what}: {type(e).__name__}: {e}")
            return 1
