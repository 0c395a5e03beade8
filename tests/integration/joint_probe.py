#!/usr/bin/python3
"""An agent for test_security.sh, written from docs/protocol.md: it asks
for the `joint` capability, plays random slates, and at the server's BYE
prints how many JOINT messages it got; every ERROR it is sent is printed.

  joint_probe.py ENDPOINT NAME [SERVER.pub AGENT.key]

With the two key files it connects with CURVE (pyzmq's CURVE client).
"""
import sys

import msgpack
import numpy as np
import zmq

HELLO, WELCOME, CATALOG, STEP, ACT, JOINT, EPISODE_END, BYE, PING, PONG, ERROR = range(1, 12)


def ids(t):
    return np.frombuffer(t["data"], "<i4")


def main():
    endpoint, name = sys.argv[1], sys.argv[2]
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    if len(sys.argv) > 4:
        secret = open(sys.argv[4]).read().strip().encode()
        sock.curve_serverkey = open(sys.argv[3]).read().strip().encode()
        sock.curve_secretkey = secret
        sock.curve_publickey = zmq.curve_public(secret)
    sock.connect(endpoint)
    seq = 0

    def send(msg_type, body):
        nonlocal seq
        sock.send(msgpack.packb([1, msg_type, seq, body], use_bin_type=True))
        seq += 1

    send(HELLO, {"minor": 0, "name": name, "role": "agent", "caps": ["joint"]})
    joints, live, k, rng = 0, set(), 0, None
    while True:
        if not sock.poll(30000):
            print("no message from the server for 30 s", flush=True)
            return 1
        _, msg_type, _, body = msgpack.unpackb(sock.recv())
        if msg_type == ERROR:
            print("error", body["code"], body["message"], flush=True)
            if body["fatal"]:
                return 1
        elif msg_type == WELCOME:
            k, rng = body["slate_size"], np.random.default_rng(body["seed"])
        elif msg_type == CATALOG:
            live = set(ids(body["items"]["ids"]).tolist())
        elif msg_type == STEP:
            live |= set(ids(body["born"]["ids"]).tolist())
            live -= set(ids(body["retired"]).tolist())
            users = ids(body["requests"]["user_ids"])
            pool = np.array(sorted(live), dtype=np.int32)
            slates = np.zeros((len(users), k), dtype=np.int32)
            for row in range(len(users)):
                slates[row] = rng.choice(pool, size=k, replace=False)
            send(ACT, {"episode": body["episode"], "tick": body["tick"],
                       "user_ids": {"dtype": "int32", "shape": [len(users)],
                                    "data": users.tobytes()},
                       "slates": {"dtype": "int32", "shape": [len(users), k],
                                  "data": slates.tobytes()}})
        elif msg_type == JOINT:
            joints += 1
        elif msg_type == PING:
            send(PONG, {"nonce": body["nonce"]})
        elif msg_type == BYE:
            print("joint", joints, flush=True)
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
