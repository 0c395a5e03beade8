#!/usr/bin/env python3
"""Nothing outlives a stop (issue 11 item 5), at the process level:
- `recarena run` SIGKILLed: its agent process (a simple command, run by
  the shell as `exec COMMAND`, so it holds PR_SET_PDEATHSIG itself) is
  gone within 5 s;
- the killed run's private ipc directory is left behind (nobody could
  remove it) and the next run removes it, because its marker names a pid
  that is gone; a marked folder of a live pid and an unmarked one stay.
usage: stop_test.py PATH/TO/recarena TMPDIR"""
import os, signal, subprocess, sys, time

recarena, tmp = sys.argv[1], sys.argv[2]
os.makedirs(tmp, exist_ok=True)
here = os.path.dirname(os.path.abspath(__file__))
agent = os.path.join(here, "..", "..", "agents", "python", "random_agent.py")
command = "%s %s" % (sys.executable, agent)
failed = 0


def check(name, ok, detail=""):
    global failed
    if not ok:
        failed += 1
        print("FAIL: %s %s" % (name, detail), file=sys.stderr)


def children(pid):
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            stat = open("/proc/%s/stat" % p).read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(p))
    return out


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        kids = children(todo.pop())
        out += kids
        todo += kids
    return out


def alive(pid):
    try:
        stat = open("/proc/%d/stat" % pid).read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def private_dirs_of(pid):
    found = []
    for name in os.listdir("/tmp"):
        marker = os.path.join("/tmp", name, ".recarena-private")
        if name.startswith("recarena-") and os.path.isfile(marker):
            try:
                if open(marker).read() == "recarena private directory, pid %d\n" % pid:
                    found.append(os.path.join("/tmp", name))
            except OSError:
                pass
    return found


# folders the sweep must leave alone: a live pid's, and one with no marker
live = os.path.join("/tmp", "recarena-stoptest%d-live" % os.getpid())
bare = os.path.join("/tmp", "recarena-stoptest%d-bare" % os.getpid())
for d in (live, bare):
    os.makedirs(d, exist_ok=True)
open(os.path.join(live, ".recarena-private"), "w").write(
    "recarena private directory, pid %d\n" % os.getpid())

run = subprocess.Popen([recarena, "run", "--agent", "x=" + command, "--ticks", "100000",
                        "--set", "world.n_users=50", "--quiet", "--out",
                        os.path.join(tmp, "killed")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
agent_pid, ipc, tree = None, [], []
deadline = time.monotonic() + 20
while time.monotonic() < deadline and not (agent_pid and ipc):
    time.sleep(0.1)
    kids = children(run.pid)
    agent_pid = kids[0] if kids else None
    ipc = private_dirs_of(run.pid)
check("the agent started", agent_pid is not None)
check("the run's private directory holds its marker", len(ipc) == 1, ipc)
if agent_pid:
    comm = open("/proc/%d/comm" % agent_pid).read().strip()
    check("the agent is the server's child itself (exec), not a shell", comm != "sh", comm)
time.sleep(1.0)  # into the run
tree = descendants(run.pid)  # the agent, and whatever it started
os.kill(run.pid, signal.SIGKILL)
run.wait()
gone_after = None
start = time.monotonic()
while tree and time.monotonic() - start < 5:
    if not any(alive(p) for p in tree):
        gone_after = time.monotonic() - start
        break
    time.sleep(0.05)
check("the agent exits within 5 s of the server's SIGKILL", gone_after is not None, tree)
for p in tree:
    if alive(p):
        os.kill(p, signal.SIGKILL)
check("the killed run's private directory is left behind", all(os.path.isdir(d) for d in ipc))

# the next run sweeps it
again = subprocess.run([recarena, "run", "--agent", "x=" + command, "--ticks", "2",
                        "--set", "world.n_users=50", "--quiet", "--out",
                        os.path.join(tmp, "next")],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
check("the next run completes", again.returncode == 0, again.stderr[-300:])
check("the next run removed the stale directory", ipc and not any(os.path.exists(d) for d in ipc),
      ipc)
check("a live pid's directory stays", os.path.isdir(live))
check("an unmarked directory stays", os.path.isdir(bare))
# agents the server did not start (no death signal): after a SIGKILLed
# server they give up on their own, once no server answered for --give-up
c_agent = os.path.join(os.path.dirname(os.path.abspath(recarena)), "..", "agents",
                       "recarena-agent-random")
ep = "ipc://" + os.path.join(tmp, "giveup.sock")
serve = subprocess.Popen([recarena, "serve", "--agent", "c=true", "--agent", "py=true",
                          "--ticks", "100000", "--set", "world.n_users=50", "--bind", ep,
                          "--quiet", "--out", os.path.join(tmp, "giveup-run")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
quick = ["--idle-timeout", "200", "--ping-timeout", "200", "--give-up", "1000"]
agents = {
    "C SDK": subprocess.Popen([c_agent, "--endpoint", ep, "--name", "c"] + quick,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    "Python client": subprocess.Popen([sys.executable, agent, "--endpoint", ep, "--name", "py"]
                                      + quick, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL),
}
time.sleep(3.0)  # both connected and playing
for name, p in agents.items():
    check("%s agent runs while the server does" % name, p.poll() is None, p.poll())
os.kill(serve.pid, signal.SIGKILL)
serve.wait()
start = time.monotonic()
for name, p in agents.items():
    try:
        p.wait(timeout=max(0.1, 15 - (time.monotonic() - start)))
    except subprocess.TimeoutExpired:
        check("%s agent gives up on a killed server within 15 s" % name, False)
        p.kill(); p.wait()
gave_up_after = time.monotonic() - start
for d in (live, bare):
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    os.rmdir(d)
print("stop: agent gone %.2f s after SIGKILL; unrelated agents gave up after %.1f s; %d failed"
      % (gone_after if gone_after is not None else -1, gave_up_after, failed))
sys.exit(1 if failed else 0)
