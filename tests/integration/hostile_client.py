#!/usr/bin/env python3
"""A hostile client written from docs/protocol.md alone (issue 11 item 3
and the escaping of item 7): each case sends what a careless or hostile
peer would and checks the server answers as the spec says. Starts its own
`recarena serve` with one agent slot, x.
usage: hostile_client.py PATH/TO/recarena TMPDIR"""
import os, subprocess, sys, time
import msgpack, zmq

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
# 9. the real agent: HELLO, then an ERROR and a BYE full of escape sequences;
#    the operator's terminal (the server's stderr) must show none of them
a = dealer(); a.send(hello())
m = reply(a)
result("good HELLO: WELCOME", isinstance(m, list) and m[1] == 2, m)
a.send(msgpack.packb([1, 11, 1, {"code": -1, "fatal": False,
                                 "message": "\x1b]0;owned\x07\nrecarena: FORGED run complete"}]))
a.send(msgpack.packb([1, 8, 2, {"reason": "\x1b[2K\rrecarena: FORGED"}]))
# Not yet fixed (issue 11 item 3): a HELLO then BYE before the run starts
# leaves the server waiting; reported, not counted, until it is.
try:
    server.wait(timeout=10)
except subprocess.TimeoutExpired:
    print("KNOWN: HELLO then BYE before the run starts still blocks the run", file=sys.stderr)
    server.terminate()
    server.wait(timeout=10)
log.close()
err = open(os.path.join(tmp, "serve.err"), "rb").read()
result("server stderr: no ESC or BEL from the agent", b"\x1b" not in err and b"\x07" not in err,
       err[:400])
result("server stderr: no forged line", not any(l.lstrip(b"\r").startswith(b"recarena: FORGED")
                                                  for l in err.split(b"\n")), err[:400])
print("hostile: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
