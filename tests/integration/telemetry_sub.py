#!/usr/bin/python3
"""Telemetry helpers for test_telemetry.sh, written from docs/protocol.md.

  telemetry_sub.py listen ENDPOINT OUT.json READY EPISODES
      subscribe to the server's PUB at ENDPOINT, create the file READY once
      connected, and save every telemetry message (typed arrays as lists)
      to OUT.json after the TELEMETRY_EPISODE of episode EPISODES-1
  telemetry_sub.py check OUT.json RUN_DIR SLATE_SIZE N_TOPICS
      check the saved messages against the run folder (summary.json,
      ticks.csv, agents.csv); prints each failure, exits 1 if any
  telemetry_sub.py intruder ENDPOINT NAME
      say HELLO as agent NAME and, once the run has started, answer the
      first STEP with a TELEMETRY_TICK; print the ERROR it gets, then say
      BYE (the run goes on with fallbacks)
"""
import csv
import json
import math
import sys
import time

import msgpack
import numpy as np
import zmq

HELLO, STEP, BYE, ERROR = 1, 4, 8, 11
TICK, EPISODE, EXPOSURE = 12, 13, 14
DTYPES = {"float32": "<f4", "float64": "<f8", "int32": "<i4", "uint8": "u1", "int64": "<i8"}


def plain(value):
    """A message body as JSON: typed arrays become {"dtype", "shape", "list"}."""
    if isinstance(value, dict) and set(value) == {"dtype", "shape", "data"}:
        array = np.frombuffer(value["data"], dtype=DTYPES[value["dtype"]])
        return {"dtype": value["dtype"], "shape": value["shape"], "list": array.tolist()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def listen(endpoint, out, ready, episodes):
    sub = zmq.Context.instance().socket(zmq.SUB)
    sub.setsockopt(zmq.LINGER, 0)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(endpoint)
    time.sleep(0.5)  # a PUB drops what it sends before the subscription arrives
    open(ready, "w").close()
    messages = []
    while True:
        if not sub.poll(60000):
            raise SystemExit("no telemetry for 60 s (%d messages so far)" % len(messages))
        major, msg_type, seq, body = msgpack.unpackb(sub.recv())
        messages.append({"major": major, "type": msg_type, "seq": seq, "body": plain(body)})
        if msg_type == EPISODE and body["episode"] == episodes - 1:
            break
    with open(out, "w") as f:
        json.dump(messages, f)


class Checker:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def __call__(self, name, ok):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print("FAIL:", name)


def close(a, b):
    return math.isclose(float(a), float(b), rel_tol=1e-8, abs_tol=1e-12)


def gini(counts):
    """Gini of counts over all items (docs/metrics.md)."""
    x = sorted(counts)
    n, total = len(x), sum(x)
    if n == 0 or total == 0:
        return 0.0
    return sum((2 * i - n - 1) * v for i, v in enumerate(x, start=1)) / (n * total)


def check(out, run_dir, slate_size, n_topics):
    c = Checker()
    messages = json.load(open(out))
    summary = json.load(open(run_dir + "/summary.json"))
    ticks_csv = list(csv.DictReader(open(run_dir + "/ticks.csv")))
    agents_csv = list(csv.DictReader(open(run_dir + "/agents.csv")))
    names = [a["name"] for a in summary["episodes"][0]["agents"]]
    n_agents = len(names)
    n_ticks = summary["episodes"][0]["ticks"]

    c("envelopes: major 1, telemetry types only", all(
        m["major"] == 1 and m["type"] in (TICK, EPISODE, EXPOSURE) for m in messages))
    c("seq 0, 1, 2, ... with no gap", [m["seq"] for m in messages] == list(range(len(messages))))

    # the expected sequence: per episode, TICK t, then EXPOSURE t every 10th
    # tick and at the last tick, then EPISODE
    expected = []
    for e in range(len(summary["episodes"])):
        for t in range(n_ticks):
            expected.append((TICK, e, t))
            if (t + 1) % 10 == 0 or t + 1 == n_ticks:
                expected.append((EXPOSURE, e, t))
        expected.append((EPISODE, e, None))
    got = [(m["type"], m["body"]["episode"], m["body"].get("tick")) for m in messages]
    c("order: consecutive ticks, snapshots, episodes", got == expected)

    requests_by_tick = {}
    for m in (m for m in messages if m["type"] == TICK):
        b = m["body"]
        e, t = b["episode"], b["tick"]
        where = "TICK(%d, %d)" % (e, t)
        requests_by_tick[(e, t)] = b["requests"]
        c(where + " names", b["agents"] == names)
        for key, dtype in (("agent_requests", "int32"), ("agent_clicks", "int32"),
                           ("agent_reward", "float64"), ("agent_regret", "float64")):
            c(where + " " + key, b[key]["dtype"] == dtype and b[key]["shape"] == [n_agents])
        c(where + " requests add up", sum(b["agent_requests"]["list"]) == b["requests"])
        row = [r for r in ticks_csv if int(r["episode"]) == e and int(r["tick"]) == t]
        c(where + " in ticks.csv", len(row) == 1)
        if len(row) == 1:
            r = row[0]
            for key in ("active_users", "requests", "clicks"):
                c(where + " " + key, b[key] == int(r[key]))
            for key in ("welfare", "ild", "gini", "coverage", "entropy"):
                c(where + " " + key, close(b[key], r[key]))
        for i, name in enumerate(names):
            row = [r for r in agents_csv
                   if int(r["episode"]) == e and int(r["tick"]) == t and r["agent"] == name]
            c(where + " " + name + " in agents.csv", len(row) == 1)
            if len(row) == 1:
                r = row[0]
                c(where + " " + name + " requests", b["agent_requests"]["list"][i] == int(r["requests"]))
                c(where + " " + name + " clicks", b["agent_clicks"]["list"][i] == int(r["clicks"]))
                c(where + " " + name + " reward", close(b["agent_reward"]["list"][i], r["reward"]))
                c(where + " " + name + " regret", close(b["agent_regret"]["list"][i], r["regret"]))

    ticks = {(m["body"]["episode"], m["body"]["tick"]): m["body"]
             for m in messages if m["type"] == TICK}
    for m in (m for m in messages if m["type"] == EXPOSURE):
        b = m["body"]
        e, t = b["episode"], b["tick"]
        where = "EXPOSURE(%d, %d)" % (e, t)
        items, topics = b["items"]["list"], b["topics"]["list"]
        c(where + " dtypes", b["items"]["dtype"] == "int64" and b["topics"]["dtype"] == "int64")
        c(where + " one count per topic", len(topics) == n_topics)
        shown = slate_size * sum(requests_by_tick[(e, u)] for u in range(t + 1))
        c(where + " items sum to requests x slate_size", sum(items) == shown)
        c(where + " topics sum to the same", sum(topics) == shown)
        c(where + " no negative count", min(items) >= 0 and min(topics) >= 0)
        c(where + " gini as the TICK's", close(gini(items), ticks[(e, t)]["gini"]))
        coverage = sum(1 for v in items if v > 0) / len(items)
        c(where + " coverage as the TICK's", close(coverage, ticks[(e, t)]["coverage"]))

    for m in (m for m in messages if m["type"] == EPISODE):
        b = m["body"]
        e = b["episode"]
        where = "EPISODE(%d)" % e
        s = summary["episodes"][e]
        c(where + " names", b["agents"] == names)
        for key in ("ticks", "requests", "clicks"):
            c(where + " " + key, b[key] == s[key])
        for key in ("ctr", "welfare_per_request", "mean_active_users", "churn", "gini",
                    "coverage", "entropy_normalized", "ild", "jaccard", "interest_similarity",
                    "hhi"):
            c(where + " " + key, close(b[key], s[key]))
        for i, a in enumerate(s["agents"]):
            for key, exact in (("requests", True), ("clicks", True), ("reward", False),
                               ("regret", False), ("share", False), ("gini", False)):
                array = b["agent_" + key]
                c(where + " agent_%s dtype" % key,
                  array["dtype"] == ("int64" if exact else "float64") and array["shape"] == [n_agents])
                v = array["list"][i]
                c(where + " %s %s" % (a["name"], key), v == a[key] if exact else close(v, a[key]))

    print("telemetry: %d checks passed, %d failed (%d messages)" % (c.passed, c.failed, len(messages)))
    return 1 if c.failed else 0


def intruder(endpoint, name):
    dealer = zmq.Context.instance().socket(zmq.DEALER)
    dealer.setsockopt(zmq.LINGER, 0)
    dealer.connect(endpoint)
    seq = 0

    def send(msg_type, body):
        nonlocal seq
        dealer.send(msgpack.packb([1, msg_type, seq, body], use_bin_type=True))
        seq += 1

    def typed(values, dtype):
        a = np.asarray(values, dtype=DTYPES[dtype])
        return {"dtype": dtype, "shape": list(a.shape), "data": a.tobytes()}

    send(HELLO, {"minor": 0, "name": name, "role": "agent", "caps": []})
    tick = {"episode": 0, "tick": 0, "active_users": 1, "requests": 1, "clicks": 0,
            "welfare": 0.0, "ild": 0.0, "gini": 0.0, "coverage": 0.0, "entropy": 0.0,
            "agents": [name], "agent_requests": typed([1], "int32"),
            "agent_clicks": typed([0], "int32"), "agent_reward": typed([0.0], "float64"),
            "agent_regret": typed([0.0], "float64")}
    sent_seq = None
    while True:
        if not dealer.poll(30000):
            raise SystemExit("no message from the server for 30 s")
        major, msg_type, seq_in, body = msgpack.unpackb(dealer.recv())
        if msg_type == STEP and sent_seq is None:  # the run has started
            sent_seq = seq
            send(TICK, tick)
        elif msg_type == ERROR:
            print("error", body["code"], body["message"], "ref_seq", body.get("ref_seq"),
                  "fatal", body["fatal"], "sent", sent_seq, flush=True)
            send(BYE, {"reason": "seen enough"})
            return 0


def main():
    mode = sys.argv[1]
    if mode == "listen":
        listen(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return 0
    if mode == "check":
        return check(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    if mode == "intruder":
        return intruder(sys.argv[2], sys.argv[3])
    raise SystemExit("unknown mode " + mode)


if __name__ == "__main__":
    raise SystemExit(main())
