#!/usr/bin/env python3
"""A hostile client written from docs/protocol.md alone (issue 11 items 3
and 4 and the escaping of item 7): each case sends what a careless or
hostile peer would and checks the server answers as the spec says. Starts
its own `recarena serve` with one agent slot, x; then, for the floods,
servers whose agent is agents/python/random_agent.py. Floods stay on ipc://
and are bounded; their runs are judged against the same run without the
flood with a generous bound (5x + 10 s), never a tight timing.
usage: hostile_client.py PATH/TO/recarena TMPDIR"""
import os, subprocess, sys, threading, time
import msgpack, zmq

here = os.path.dirname(os.path.abspath(__file__))
random_agent = os.path.join(here, "..", "..", "agents", "python", "random_agent.py")

recarena, tmp = sys.argv[1], sys.argv[2]
endpoint = "ipc://" + os.path.join(tmp, "hostile.sock")
log = open(os.path.join(tmp, "serve.err"), "wb")
server = subprocess.Popen([recarena, "serve", "--agent", "x=true", "--ticks", "5",
                           "--set", "world.n_users=50", "--bind", endpoint, "--quiet",
                           "--out", os.path.join(tmp, "run")], stderr=log)
ctx = zmq.Context()
passed = failed = 0


def result(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s %s" % (name, detail), file=sys.stderr)


def dealer():
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(endpoint)
    return s


def reply(s, timeout_ms=3000):
    """The next message, decoded strictly (str must be valid UTF-8), or None."""
    if not s.poll(timeout_ms):
        return None
    frames = s.recv_multipart()
    return msgpack.unpackb(frames[0], raw=False) if len(frames) == 1 else ("frames", frames)


def hello(name="x", **extra):
    body = {"minor": 0, "name": name, "role": "agent", "caps": []}
    body.update(extra)
    return msgpack.packb([1, 1, 0, body])


def is_error(m, code=None, fatal=None):
    return (isinstance(m, list) and m[1] == 11 and (code is None or m[3]["code"] == code)
            and (fatal is None or m[3]["fatal"] is fatal))


time.sleep(0.3)
# 1. a HELLO that does not decode (role is a number): a FATAL ERROR, so the
#    spec's own sample agent stops waiting
s = dealer(); s.send(msgpack.packb([1, 1, 7, {"minor": 0, "name": "x", "role": 5}]))
m = reply(s)
result("bad HELLO: fatal ERROR", is_error(m, fatal=True) and m[3].get("ref_seq") == 7, m)
# 2. a HELLO without its name: fatal too
s = dealer(); s.send(msgpack.packb([1, 1, 3, {"minor": 0, "role": "agent"}]))
m = reply(s)
result("HELLO missing name: fatal ERROR", is_error(m, fatal=True), m)
# 3. REQ-style envelope: an empty delimiter frame first -> PROTO_EENVELOPE
s = dealer(); s.send_multipart([b"", hello()])
m = reply(s)
result("REQ-style envelope: PROTO_EENVELOPE", is_error(m, code=-5), m)
# 4. two frames of content -> PROTO_EENVELOPE
s = dealer(); s.send_multipart([hello(), hello()])
m = reply(s)
result("two frames: PROTO_EENVELOPE", is_error(m, code=-5), m)
# 5. a major version beyond 32 bits: fatal PROTO_EVERSION naming it in full
s = dealer(); s.send(msgpack.packb([2**40, 1, 0, {"minor": 0, "name": "x", "role": "agent"}]))
m = reply(s)
result("major 2^40: fatal EVERSION, not cut to 32 bits",
       is_error(m, fatal=True) and str(2**40) in m[3]["message"], m)
# 6. a name with ESC and a newline: the ERROR (valid UTF-8 by reply()) has no
#    control characters
s = dealer(); s.send(hello(name="\x1b[2J\nrecarena: FORGED"))
m = reply(s)
result("escaped name in ERROR", is_error(m, fatal=True) and
       not any(ord(c) < 32 for c in m[3]["message"]), m)
# 7. a str that is not UTF-8 (0xa4 = str of 4 bytes, ff fe fd fc): whatever
#    the server answers decodes as UTF-8
raw = (b"\x94\x01\x01\x00\x84\xa5minor\x00\xa4name\xa4\xff\xfe\xfd\xfc\xa4role\xa5agent"
       b"\xa4caps\x90")
s = dealer(); s.send(raw)
try:
    m = reply(s)
    result("invalid UTF-8 name: ERROR is UTF-8", is_error(m, fatal=True), m)
except UnicodeDecodeError as e:
    result("invalid UTF-8 name: ERROR is UTF-8", False, e)
# 8. anything but HELLO first: non-fatal PROTO_ESTATE with ref_seq
s = dealer(); s.send(msgpack.packb([1, 9, 42, {"nonce": 1}]))
m = reply(s)
result("PING before HELLO: non-fatal ESTATE with ref_seq",
       is_error(m, fatal=False) and m[3].get("ref_seq") == 42, m)
# 8b. type 0 (no such type) with seq 5: the ERROR names seq 5, so it carries
#     ref_seq 5 (the server used to leave it out when the type was 0)
s = dealer(); s.send(msgpack.packb([1, 0, 5, {}]))
m = reply(s)
result("unknown type 0: ETYPE with ref_seq", is_error(m, code=-7) and m[3].get("ref_seq") == 5, m)
# 8c. several errors at once, a server-only type (WELCOME) whose body misses
#     its keys, from a peer without a slot: the body is checked before the
#     state (docs/protocol.md "Errors"), so PROTO_EFIELD, non-fatal, ref_seq
s = dealer(); s.send(msgpack.packb([1, 2, 9, {}]))
m = reply(s)
result("WELCOME with no keys before HELLO: EFIELD wins over ESTATE",
       is_error(m, code=-8, fatal=False) and m[3].get("ref_seq") == 9, m)
# 9. the real agent: HELLO, then an ERROR and a BYE full of escape sequences;
#    the operator's terminal (the server's stderr) must show none of them
a = dealer(); a.send(hello())
m = reply(a)
result("good HELLO: WELCOME", isinstance(m, list) and m[1] == 2, m)
# 9b. unknown keys are ignored (docs/protocol.md "Versioning"), here in a
#     PING's body: answered with a PONG of the same nonce
a.send(msgpack.packb([1, 9, 1, {"nonce": 77, "unknown": [1, 2]}]))
pong = None
for _ in range(50):
    m = reply(a, 2000)
    if m is None or (isinstance(m, list) and m[1] == 10):
        pong = m
        break
result("PING with an unknown key: PONG", pong is not None and pong[3].get("nonce") == 77, pong)
a.send(msgpack.packb([1, 11, 1, {"code": -1, "fatal": False,
                                 "message": "\x1b]0;owned\x07\nrecarena: FORGED run complete"}]))
a.send(msgpack.packb([1, 8, 2, {"reason": "\x1b[2K\rrecarena: FORGED"}]))
# 10. after its BYE the run goes on with fallbacks and completes
try:
    rc = server.wait(timeout=30)
    result("BYE during the run: the run completes", rc == 0, rc)
except subprocess.TimeoutExpired:
    result("BYE during the run: the run completes", False, "still running after 30 s")
    server.terminate()
    server.wait(timeout=10)
log.close()
err = open(os.path.join(tmp, "serve.err"), "rb").read()
result("server stderr: no ESC or BEL from the agent", b"\x1b" not in err and b"\x07" not in err,
       err[:400])
result("server stderr: no forged line", not any(l.lstrip(b"\r").startswith(b"recarena: FORGED")
                                                  for l in err.split(b"\n")), err[:400])


# ---- floods (issue 11 item 4) ------------------------------------------

def serve(name, agents, ticks, quiet=True, extra=()):
    ep = "ipc://" + os.path.join(tmp, name + ".sock")
    err = open(os.path.join(tmp, name + ".err"), "wb")
    args = [recarena, "serve", "--ticks", str(ticks), "--set", "world.n_users=50",
            "--bind", ep, "--out", os.path.join(tmp, name + "-run")] + list(extra)
    for a in agents:
        args += ["--agent", a + "=true"]
    if quiet:
        args.append("--quiet")
    return subprocess.Popen(args, stderr=err), ep, err


def random_agent_proc(ep, name):
    env = dict(os.environ, RECARENA_ENDPOINT=ep, RECARENA_AGENT_NAME=name)
    return subprocess.Popen([sys.executable, random_agent], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def flooder(ep, stop, payload):
    """Sends payload as fast as the socket takes it, never reads."""
    f = ctx.socket(zmq.DEALER)
    f.setsockopt(zmq.LINGER, 0)
    f.setsockopt(zmq.SNDHWM, 100000)
    f.connect(ep)
    while not stop.is_set():
        try:
            f.send(payload, zmq.NOBLOCK)
        except zmq.Again:
            time.sleep(0.0005)
    f.close()


def timed_run(name, n_flooders, payload=b"\xc1"):
    """Seconds a 200-tick run with one random agent takes while n_flooders
    peers without a slot send payload without pause; None if it did not
    end within 120 s or failed."""
    srv, ep, err = serve(name, ["x"], 200)
    stop = threading.Event()
    threads = [threading.Thread(target=flooder, args=(ep, stop, payload)) for _ in range(n_flooders)]
    start = time.monotonic()
    for t in threads:
        t.start()
    agent = random_agent_proc(ep, "x")
    try:
        rc = srv.wait(timeout=120)
    except subprocess.TimeoutExpired:
        srv.kill(); srv.wait(); rc = None
    took = time.monotonic() - start
    stop.set()
    for t in threads:
        t.join()
    try:
        agent.wait(timeout=10)
    except subprocess.TimeoutExpired:
        agent.kill(); agent.wait()
    err.close()
    return took if rc == 0 else None


# 11. four peers sending one-byte frames (0xc1, never valid) through a whole
#     run: the per-tick deadline holds, the run ends near its no-flood time
base = timed_run("quiet", 0)
flooded = timed_run("flood", 4)
bound = None if base is None else 5 * base + 10
result("4 one-byte flooders: the run completes within 5x + 10 s of its time without them",
       base is not None and flooded is not None and flooded < bound,
       "without %s s, with %s s" % (base, flooded))
print("floods: 200 ticks in %.2f s without, %.2f s with 4 one-byte flooders"
      % (base or -1, flooded or -1), file=sys.stderr)

# 12. a peer without a slot sending 2,000 PINGs at once: answered at most at
#     the server's rate (100 a second), the rest dropped, logged once
srv, ep, err = serve("burst", ["x", "y"], 20, quiet=False, extra=["--set", "server.deadline_ms=300"])
time.sleep(0.3)
st = ctx.socket(zmq.DEALER)
st.setsockopt(zmq.LINGER, 0)
st.connect(ep)
start = time.monotonic()
for i in range(2000):
    st.send(msgpack.packb([1, 9, i, {"nonce": i}]))
answers = 0
while st.poll(1500):
    st.recv()
    answers += 1
elapsed = time.monotonic() - start
result("stranger burst of 2,000: at most 100 answers a second, some answered",
       0 < answers <= 100 * (int(elapsed) + 2), "%d answers in %.1f s" % (answers, elapsed))
st.close()

# 13. a registered agent that bursts 5,000 PINGs during start-up without
#     reading (its queue fills: the server marks it gone) does not stop the
#     run from starting once y comes, and comes back when it speaks: PONG,
#     then a CATALOG and STEPs
x = ctx.socket(zmq.DEALER)
x.setsockopt(zmq.LINGER, 0)
x.setsockopt(zmq.RCVHWM, 10)
x.connect(ep)
x.send(hello("x"))
for i in range(5000):
    x.send(msgpack.packb([1, 9, i + 1, {"nonce": i}]))
time.sleep(1.0)
while x.poll(200):
    x.recv()
y = random_agent_proc(ep, "y")
x.send(msgpack.packb([1, 9, 6000, {"nonce": 424242}]))
seen, deadline = set(), time.monotonic() + 15
while time.monotonic() < deadline and not {"pong", "step"} <= seen:
    if not x.poll(500):
        continue
    m = msgpack.unpackb(x.recv(), raw=False)
    if m[1] == 10 and m[3].get("nonce") == 424242:
        seen.add("pong")
    if m[1] == 4:
        seen.add("step")
result("flooding agent: PONG when it speaks again, then STEPs", {"pong", "step"} <= seen, seen)
x.close()
try:
    rc = srv.wait(timeout=60)
except subprocess.TimeoutExpired:
    srv.kill(); srv.wait(); rc = None
try:
    y.wait(timeout=10)
except subprocess.TimeoutExpired:
    y.kill(); y.wait()
err.close()
text = open(os.path.join(tmp, "burst.err"), "rb").read()
result("flooding agent: the run completes", rc == 0, rc)
result("flooding agent: no 'no HELLO' for an agent that said HELLO", b"no HELLO" not in text, text[-400:])
result("stranger burst: the drop logged once",
       text.count(b"more than 100 messages a second") == 1, text[-400:])
print("burst: %s" % ("the agent was marked gone, then came back" if b"is gone" in text
                     else "the agent's queue did not fill this time"), file=sys.stderr)
# 14. HELLO then BYE before the run starts (slot y still empty): the slot
#     said HELLO, so once y comes the run starts and serves x with
#     fallbacks; it used to wait for x for ever
srv, ep, err = serve("byefirst", ["x", "y"], 5)
x = ctx.socket(zmq.DEALER)
x.setsockopt(zmq.LINGER, 0)
x.connect(ep)
x.send(hello("x"))
m = reply(x)
x.send(msgpack.packb([1, 8, 1, {"reason": "changed my mind"}]))
time.sleep(0.3)
y = random_agent_proc(ep, "y")
try:
    rc = srv.wait(timeout=30)
except subprocess.TimeoutExpired:
    srv.kill(); srv.wait(); rc = "still running after 30 s"
try:
    y.wait(timeout=10)
except subprocess.TimeoutExpired:
    y.kill(); y.wait()
err.close()
x.close()
result("HELLO then BYE before the start: the run completes",
       isinstance(m, list) and m[1] == 2 and rc == 0, (m, rc))
print("hostile: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
