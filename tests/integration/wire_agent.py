#!/usr/bin/python3
"""A scriptable agent for the server's process-level tests.

It plays a random recommender, written from docs/protocol.md alone, and
misbehaves on request, so the tests can check that the server survives:

  wire_agent.py MODE [TICK] [--tag=ANYTHING]

  ok            play the whole run
  kill TICK     SIGKILL itself when the STEP of TICK (episode 0) arrives
  stop TICK     SIGSTOP itself at that STEP (the server must not wait forever)
  slow TICK     answer the STEP of TICK 1.5 s late, then go on
  reconnect TICK  at that STEP drop the connection, open a new one, HELLO again
  garbage TICK  at that STEP send a battery of malformed frames first, then the ACT
  badact TICK   at that STEP answer with invalid slates (duplicates, bad ids)
  badprop TICK  send ACT.propensity (protocol 1.2) with every ACT, 1 / (N (N-1) ...)
                for the random slates; at that STEP a NaN in it, at the next one
                the wrong length
  version       first say HELLO with major 2 and print the ERROR, then play ok
  broken DEFECTS  play with the listed defects (comma-separated), for the
                conformance checker's own test: nopong (never answers PING),
                retired (ignores retirements), joint (crashes on JOINT),
                bye (ignores BYE), empty (crashes on an empty batch),
                reset (ignores a new CATALOG)

Every ERROR it receives is printed to stdout (the run's agent-NAME.log).
"""
import os
import signal
import sys
import time

import msgpack
import numpy as np
import zmq

HELLO, WELCOME, CATALOG, STEP, ACT, JOINT, EPISODE_END, BYE, PING, PONG, ERROR = range(1, 12)
DTYPES = {"float32": "<f4", "float64": "<f8", "int32": "<i4", "uint8": "u1", "int64": "<i8"}


def to_numpy(t):
    return np.frombuffer(t["data"], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])


def typed(a, dtype):
    a = np.ascontiguousarray(a, dtype=DTYPES[dtype])
    return {"dtype": dtype, "shape": list(a.shape), "data": a.tobytes()}


class Connection:
    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.socket = None
        self.seq = 0
        self.open()

    def open(self):
        if self.socket is not None:
            self.socket.close(linger=0)
        self.socket = zmq.Context.instance().socket(zmq.DEALER)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.connect(self.endpoint)

    def send(self, msg_type, body, major=1):
        self.raw(msgpack.packb([major, msg_type, self.seq, body], use_bin_type=True))
        self.seq += 1

    def raw(self, frame):
        self.socket.send(frame)

    def recv(self, timeout_ms=30000):
        if not self.socket.poll(timeout_ms):
            raise SystemExit("no message from the server for %d ms" % timeout_ms)
        return msgpack.unpackb(self.socket.recv())


def hello(conn, name, major=1):
    conn.send(HELLO, {"minor": 0, "name": name, "role": "agent", "caps": []}, major=major)


def garbage(conn, body):
    """Malformed frames; the server must answer each with an ERROR."""
    frames = [
        b"\x94\x01\x05",                                   # truncated array
        b"\xdd\xff\xff\xff\xff",                           # array32 of 4 billion
        b"\xdf\xff\xff\xff\xff",                           # map32 of 4 billion
        b"\xdb\xff\xff\xff\xff",                           # str32 of 4 GB
        b"\xc6\xff\xff\xff\xff",                           # bin32 of 4 GB
        b"\x91" * 40 + b"\xc0",                            # nested 40 deep
        msgpack.packb([1, 99, 0, {}]),                     # unknown type
        msgpack.packb([1, ACT, 0, "not a map"]),           # body not a map
        msgpack.packb([1, ACT, 0, {"episode": body["episode"], "tick": body["tick"]}]),
        msgpack.packb({"a": 1}),                           # not an array
        msgpack.packb([1, ACT, 0, {}]) + b"\x00",          # trailing bytes
    ]
    for frame in frames:
        conn.raw(frame)


def main():
    # --tag=... arguments only mark the process for the tests' pgrep
    sys.argv = [a for a in sys.argv if not a.startswith("--tag=")]
    mode = sys.argv[1] if len(sys.argv) > 1 else "ok"
    defects = set(sys.argv[2].split(",")) if mode == "broken" else set()
    at_tick = int(sys.argv[2]) if len(sys.argv) > 2 and mode != "broken" else -1
    name = os.environ["RECARENA_AGENT_NAME"]
    conn = Connection(os.environ["RECARENA_ENDPOINT"])
    if mode == "version":
        hello(conn, name, major=2)
        major, msg_type, seq, body = conn.recv()
        print("refused:", msg_type, body.get("code"), body.get("message"), flush=True)
        conn.open()
    hello(conn, name)
    live, k, rng = set(), 0, None
    while True:
        major, msg_type, seq, body = conn.recv()
        if msg_type == ERROR:
            print("error", body["code"], body["message"], flush=True)
            if body["fatal"]:
                return 1
        elif msg_type == WELCOME:
            k, rng = body["slate_size"], np.random.default_rng(body["seed"])
        elif msg_type == CATALOG:
            if "reset" not in defects or not live:
                live = set(to_numpy(body["items"]["ids"]).tolist())
        elif msg_type == STEP:
            live.update(to_numpy(body["born"]["ids"]).tolist())
            if "retired" not in defects:
                live.difference_update(to_numpy(body["retired"]).tolist())
            users = to_numpy(body["requests"]["user_ids"])
            if "empty" in defects and len(users) == 0:
                raise SystemExit("broken agent: cannot handle an empty batch")
            pool = np.array(sorted(live), dtype=np.int32)
            slates = np.zeros((len(users), k), dtype=np.int32)
            for row in range(len(users)):
                slates[row] = rng.choice(pool, size=k, replace=False)
            trigger = body["episode"] == 0 and body["tick"] == at_tick
            if trigger and mode == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            if trigger and mode == "stop":
                os.kill(os.getpid(), signal.SIGSTOP)
            if trigger and mode == "slow":
                time.sleep(1.5)
            if trigger and mode == "reconnect":
                conn.open()
                hello(conn, name)
                continue
            if trigger and mode == "garbage":
                garbage(conn, body)
            if trigger and mode == "badact" and len(users) > 0:
                slates[0, 1] = slates[0, 0]       # a duplicate
                if len(users) > 1:
                    slates[1, 0] = 10 ** 8        # an id out of range
            act = {"episode": body["episode"], "tick": body["tick"],
                   "user_ids": typed(users, "int32"), "slates": typed(slates, "int32")}
            if mode == "badprop":
                p = np.full(len(users), 1.0 / np.prod(len(pool) - np.arange(k), dtype=float))
                if trigger and len(users) > 0:
                    p[0] = np.nan
                if body["episode"] == 0 and body["tick"] == at_tick + 1:
                    p = p[:-1] if len(p) else np.ones(1)
                act["propensity"] = typed(p, "float64")
            conn.send(ACT, act)
        elif msg_type == PING and "nopong" not in defects:
            conn.send(PONG, {"nonce": body["nonce"]})
        elif msg_type == JOINT and "joint" in defects:
            raise SystemExit("broken agent: cannot handle JOINT")
        elif msg_type == BYE and "bye" not in defects:
            print("bye:", body.get("reason"), flush=True)
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
