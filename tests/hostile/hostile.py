"""Checks shared by the hostile tests: what the host says it left open, what
the journal recorded, what its exit snapshot shows and what bpfleak-report
concludes, compared exactly.

    python3 hostile.py journal JOURNAL HOST_OUT [--pid PID] [--allow-drops]
        [--any-double-close]
    python3 hostile.py report REPORT_JSON HOST_OUT [--pid PID]
        [--allow-class CLASS ...]
    python3 hostile.py integrity JOURNAL
    python3 hostile.py forks JOURNAL HOST_OUT EXEC_PATH
    python3 hostile.py killrun DIR HOST SHIM REPORT KILLS MAX_LOSS_MS SEED
    python3 hostile.py lies DIR JOURNAL HOST_OUT REPORT MODULE_PATH ALT_BINARY

HOST_OUT is the stdout of host_hostile: "open FD ID" lines (the bpf FDs the
program knows it leaves open), "double_close FD" lines (closes of an FD
number whose bpf FD it had already closed) and "sweep_close FD" lines (those
of them the shim takes for a close-everything sweep: in the journal, not in
the report).

The journal check replays the events on its own, independently of the
analyzer, so a disagreement says which side is wrong.  Exit 0 when
everything matches, 1 with one line per problem.
"""
import json
import os
import sqlite3
import sys

# The file of host_hostile's leak mode, where hostile_leak_site is.
LEAK_SOURCE = "mode_leak.c"
# event.flags bits (include/bpfleak/journal.h; the journal has no table of them)
EF_CLOEXEC = 1
EF_RACED = 8
EF_SWEEP = 16   # an EBADF close inside a close-everything sweep

problems = []


def bad(msg):
    problems.append(msg)


def finish(what):
    if problems:
        for p in problems[:40]:
            print("FAIL: " + p)
        if len(problems) > 40:
            print("FAIL: ... %d more" % (len(problems) - 40))
        sys.exit(1)
    print("ok: " + what)
    sys.exit(0)


def host_pins(path):
    pins = {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if len(w) == 3 and w[0] == "pin":
                pins.setdefault(int(w[2]), []).append(w[1])
    return pins


def host_facts(path):
    opened, dbl, facts = {}, [], {}
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if w[0] == "open" and len(w) == 3:
                opened[int(w[1])] = int(w[2])
            elif w[0] == "double_close" and len(w) == 2:
                dbl.append(int(w[1]))
            elif len(w) == 2:
                facts[w[0]] = w[1]
    return opened, dbl, facts


def connect(path, writable=False):
    # Read-only through the URI so a check never changes the evidence;
    # a journal whose writer was killed needs its WAL recovered (writable).
    db = sqlite3.connect("file:%s?mode=%s" % (path, "rw" if writable else "ro"), uri=True)
    db.row_factory = sqlite3.Row
    return db


def codes(db):
    """The journal's own names for its codes (its op_name, kind_name and
    cmd_name tables): op["create"], kind["map"], cmd["BPF_MAP_CREATE"]."""
    class Codes:
        pass
    c = Codes()
    c.op = {r[1]: r[0] for r in db.execute("SELECT op, name FROM op_name")}
    c.kind = {r[1]: r[0] for r in db.execute("SELECT kind, name FROM kind_name")}
    c.cmd = {r[1]: r[0] for r in db.execute("SELECT cmd, name FROM cmd_name")}
    return c


def integrity(db):
    rows = [r[0] for r in db.execute("PRAGMA integrity_check")]
    return rows == ["ok"], rows


def replay(db, op_code, pid):
    """The open FDs of pid after its events, and what was odd on the way."""
    opens = (op_code["create"], op_code["dup"], op_code["inherited"])
    open_fds, odd, dbl = {}, [], []
    evs = db.execute("SELECT seq, ts_ns, op, fd, fd2, obj_id, result, flags FROM event"
                     " WHERE pid = ? ORDER BY ts_ns, seq", (pid,)).fetchall()
    for e in evs:
        op, fd = e["op"], e["fd"]
        if op in opens:
            if fd in open_fds:
                odd.append("seq %d: %s onto fd %d, which the journal has open"
                           % (e["seq"], op, fd))
            open_fds[fd] = e["obj_id"] or 0
        elif op == op_code["close"]:
            if e["result"] == 0:
                if fd not in open_fds:
                    odd.append("seq %d: close of fd %d, not open in the journal" % (e["seq"], fd))
                open_fds.pop(fd, None)
            else:
                dbl.append(fd)
                if fd in open_fds:
                    odd.append("seq %d: close of fd %d said %d, journal has it open"
                               % (e["seq"], fd, e["result"]))
                    open_fds.pop(fd, None)
    return open_fds, odd, dbl, len(evs)


def exit_snapshot(db, pid):
    snaps = db.execute("SELECT id FROM snapshot WHERE pid = ? AND reason = 'exit'"
                       " ORDER BY id", (pid,)).fetchall()
    if not snaps:
        return None
    sid = snaps[-1]["id"]
    return {r["fd"]: r["obj_id"] or 0 for r in
            db.execute("SELECT fd, obj_id FROM snapshot_fd WHERE snapshot_id = ?", (sid,))}


def diff_sets(label_a, a, label_b, b, what):
    for fd in sorted(set(a) | set(b)):
        if fd not in a:
            bad("%s: fd %d (id %s) in %s, not in %s" % (what, fd, b[fd], label_b, label_a))
        elif fd not in b:
            bad("%s: fd %d (id %s) in %s, not in %s" % (what, fd, a[fd], label_a, label_b))
        elif a[fd] != b[fd]:
            bad("%s: fd %d is id %s in %s, id %s in %s" % (what, fd, a[fd], label_a, b[fd], label_b))


def the_pid(db, facts, pid):
    if pid:
        return pid
    pids = [r[0] for r in db.execute("SELECT DISTINCT pid FROM event")]
    if len(pids) != 1:
        bad("expected events of one process, found pids %s" % pids)
        finish("")
    return pids[0]


def cmd_journal(args):
    journal, host_out = args[0], args[1]
    pid = int(args[args.index("--pid") + 1]) if "--pid" in args else 0
    expected, dbl_expected, facts = host_facts(host_out)
    db = connect(journal)
    ok, rows = integrity(db)
    if not ok:
        bad("integrity_check: %s" % rows[:5])
    pid = the_pid(db, facts, pid)
    c = codes(db)
    dropped = db.execute("SELECT coalesce(sum(fd2), 0) FROM event WHERE op = ? AND pid = ?",
                         (c.op["drop"], pid)).fetchone()[0]
    if dropped and "--allow-drops" not in args:
        bad("the shim dropped %d events (queue full)" % dropped)
    snap = exit_snapshot(db, pid)
    if snap is None:
        bad("no exit snapshot for pid %d" % pid)
        snap = {}
    final, odd, dbl, n = replay(db, c.op, pid)
    for o in odd[:20]:
        bad("replay: " + o)
    diff_sets("host", expected, "exit snapshot", snap, "snapshot vs host")
    diff_sets("host", expected, "journal replay", final, "replay vs host")
    # --any-double-close: a host that closes every number (the daemon's
    # close loop) closes numbers whose bpf FD it closed before: by the
    # design those are double closes, and it cannot list them itself.
    if "--any-double-close" not in args and sorted(dbl) != sorted(dbl_expected):
        bad("double closes: journal has %d %s, host did %d %s"
            % (len(dbl), sorted(dbl)[:10], len(dbl_expected), sorted(dbl_expected)[:10]))
    if "--any-double-close" not in args:
        sweep_j = sorted(r[0] for r in db.execute(
            "SELECT fd FROM event WHERE pid = ? AND op = ? AND result != 0 AND flags & ?",
            (pid, c.op["close"], EF_SWEEP)))
        with open(host_out) as f:
            sweep_h = sorted(int(l.split()[1]) for l in f if l.startswith("sweep_close "))
        if sweep_j != sweep_h:
            bad("sweep-flagged double closes: journal %s, host predicts %s"
                % (sweep_j[:10], sweep_h[:10]))
    raced = db.execute("SELECT count(*) FROM event WHERE pid = ? AND op = ? AND flags & ?",
                       (pid, c.op["close"], EF_RACED)).fetchone()[0]
    print("journal: %d events, %d open at exit, %d double closes, %d raced closes, %d dropped"
          % (n, len(snap), len(dbl), raced, dropped))
    finish("journal of pid %d agrees with the host and its exit snapshot" % pid)


def cmd_report(args):
    report_path, host_out = args[0], args[1]
    pid = int(args[args.index("--pid") + 1]) if "--pid" in args else 0
    allowed = {"outstanding", "duplicate", "growth", "unpinned"}
    # Events were lost (the shim's queue was full): the journal cannot
    # explain everything, but every open FD must still be accounted for
    # exactly once, as outstanding or as unknown_origin.
    dropped_mode = "--dropped" in args
    if dropped_mode:
        allowed |= {"stale", "unknown_origin", "double_close"}
    i = 0
    while i < len(args):
        if args[i] == "--allow-class":
            allowed.add(args[i + 1])
            i += 1
        i += 1
    expected, dbl_expected, facts = host_facts(host_out)
    if dbl_expected:
        allowed.add("double_close")
    with open(report_path) as f:
        try:
            rep = json.load(f)
        except ValueError as e:
            bad("report is not JSON: %s" % e)
            finish("")
    if rep.get("bpfleak_report") != 1:
        bad("bpfleak_report is %r, not 1" % rep.get("bpfleak_report"))
    procs = rep.get("processes") or []
    if not pid:
        pids = [p.get("pid") for p in procs]
        if len(pids) != 1:
            bad("expected one process in the report, found %s" % pids)
            finish("")
        pid = pids[0]
    me = [p for p in procs if p.get("pid") == pid]
    if not me:
        bad("pid %d not in the report's processes" % pid)
    elif me[0].get("snapshot") != "exit":
        bad("pid %d: snapshot is %r, not exit" % (pid, me[0].get("snapshot")))
    jd = rep.get("journal") or {}
    if jd.get("dropped") and not dropped_mode:
        bad("report says %s events dropped" % jd.get("dropped"))
    if dropped_mode and not jd.get("dropped"):
        bad("the journal has dropped events, the report says dropped=%r" % jd.get("dropped"))
    findings = [fi for fi in rep.get("findings") or [] if fi.get("pid") == pid]
    by_class = {}
    for fi in findings:
        by_class.setdefault(fi.get("class"), []).append(fi)
        if fi.get("class") not in allowed:
            fds = [(x.get("fd"), x.get("id")) for x in fi.get("fds") or []]
            bad("unexpected %s finding, count %s, fds %s" % (fi.get("class"), fi.get("count"),
                                                            fds[:8]))
        if fi.get("count") != len(fi.get("fds") or []):
            bad("%s finding: count %s but %d fds listed" % (fi.get("class"), fi.get("count"),
                                                           len(fi.get("fds") or [])))
    summary = rep.get("summary") or {}
    # Reports with several processes sum their open FDs; ours is checked per pid.
    if len(procs) == 1 and summary.get("open_bpf_fds") != len(expected):
        bad("summary.open_bpf_fds is %s, the host left %d open"
            % (summary.get("open_bpf_fds"), len(expected)))

    outstanding = {}
    for fi in by_class.get("outstanding", []) + (by_class.get("unknown_origin", [])
                                                 if dropped_mode else []):
        for x in fi.get("fds") or []:
            if x.get("fd") in outstanding:
                bad("outstanding: fd %s listed twice" % x.get("fd"))
            outstanding[x.get("fd")] = x.get("id")
    diff_sets("host", expected, "report outstanding", outstanding, "report vs host")
    pins = host_pins(host_out)
    for fi in by_class.get("outstanding", []):
        for x in fi.get("fds") or []:
            want = sorted(pins.get(x.get("id"), []))
            if sorted(x.get("pins") or []) != want:
                bad("fd %s (map %s): report pins %s, host pinned %s"
                    % (x.get("fd"), x.get("id"), x.get("pins"), want))
    if dropped_mode:
        print("report: events were dropped; checked only that every open FD is accounted for")
        finish("report of pid %d accounts for every open FD" % pid)

    # duplicate: every open FD beyond the first on one object.
    per_obj = {}
    for fd, oid in expected.items():
        per_obj.setdefault(oid, []).append(fd)
    want_dups = sum(len(v) - 1 for v in per_obj.values())
    got_dups = []
    for fi in by_class.get("duplicate", []):
        for x in fi.get("fds") or []:
            got_dups.append(x.get("fd"))
            if x.get("fd") not in expected:
                bad("duplicate: fd %s is not open" % x.get("fd"))
            elif len(per_obj.get(expected[x.get("fd")], [])) < 2:
                bad("duplicate: fd %s is the only FD on map %s" % (x.get("fd"), x.get("id")))
    if len(got_dups) != want_dups or len(set(got_dups)) != len(got_dups):
        bad("duplicate: report lists %d FDs, the host holds %d extra FDs on shared maps"
            % (len(got_dups), want_dups))

    got_dbl = []
    for fi in by_class.get("double_close", []):
        got_dbl += [x.get("fd") for x in fi.get("fds") or []]
    # Double closes the shim flags as part of a close-everything sweep
    # (BPFLEAK_EF_SWEEP) are in the journal but not reported; the host
    # lists them as "sweep_close FD".
    import collections
    sweeps = collections.Counter()
    with open(host_out) as f:
        for line in f:
            w = line.split()
            if len(w) == 2 and w[0] == "sweep_close":
                sweeps[int(w[1])] += 1
    dbl_expected = list((collections.Counter(dbl_expected) - sweeps).elements())
    if sorted(got_dbl) != sorted(dbl_expected):
        bad("double_close: report has %d %s, host did %d %s"
            % (len(got_dbl), sorted(got_dbl)[:10], len(dbl_expected), sorted(dbl_expected)[:10]))
    print("report: %s" % ", ".join("%s %d" % (k, sum(len(f.get("fds") or []) for f in v))
                                   for k, v in sorted(by_class.items())))
    finish("report of pid %d agrees with the host" % pid)


def cmd_integrity(args):
    db = connect(args[0])
    ok, rows = integrity(db)
    if not ok:
        bad("integrity_check: %s" % rows[:5])
    finish("integrity_check ok")


def cmd_forks(args):
    journal, host_out, exec_path = args[0], args[1], args[2]
    parent = None
    children = {}
    n_children = -1
    with open(host_out) as f:
        for line in f:
            w = line.split()
            if w and w[0] == "parent":
                parent = int(w[1])
            elif w and w[0] == "child":
                children[int(w[1])] = (int(w[2]), w[3], [int(x) for x in w[4:6] if x.isdigit()])
            elif w and w[0] == "children":
                n_children = int(w[1])
    if parent is None:
        bad("host printed no parent line")
        finish("")
    if len(children) != n_children:
        bad("host forked %d children, %d reported back" % (n_children, len(children)))
    db = connect(journal)
    ok, rows = integrity(db)
    if not ok:
        bad("integrity_check: %s" % rows[:5])
    c = codes(db)
    name_of = {r["id"]: r["name"] for r in db.execute("SELECT id, name FROM object WHERE kind = ?",
                                                      (c.kind["map"],))}
    # Attribution: every create of a map named for a process is in that process.
    owner = {"hl_p": parent}
    for idx, (cpid, how, ids) in children.items():
        owner[("hl_x%d" if how == "exec" else "hl_c%d") % idx] = cpid
    creates = db.execute("SELECT pid, obj_id FROM event WHERE op = ? AND obj_kind = ?",
                         (c.op["create"], c.kind["map"])).fetchall()
    per_name = {}
    for r in creates:
        name = name_of.get(r["obj_id"])
        if name in owner:
            per_name[name] = per_name.get(name, 0) + 1
            if r["pid"] != owner[name]:
                bad("create of map %s (id %d) attributed to pid %d, made by pid %d"
                    % (name, r["obj_id"], r["pid"], owner[name]))
    if not per_name.get("hl_p"):
        bad("no creates of the parent's threads in the journal")
    for idx, (cpid, how, ids) in sorted(children.items()):
        name = ("hl_x%d" if how == "exec" else "hl_c%d") % idx
        want = 2 if how == "exec" else 1
        if per_name.get(name, 0) != want:
            bad("child %d (pid %d, %s): %d creates of %s in the journal, expected %d"
                % (idx, cpid, how, per_name.get(name, 0), name, want))
        for oid in ids:
            row = db.execute("SELECT pid FROM event WHERE op = ? AND obj_kind = ? AND obj_id = ?",
                             (c.op["create"], c.kind["map"], oid)).fetchall()
            if [r[0] for r in row] != [cpid]:
                bad("child %d: map %d created in pids %s, expected [%d]"
                    % (idx, oid, [r[0] for r in row], cpid))
        rows = db.execute("SELECT origin, exe, ppid FROM process WHERE pid = ? ORDER BY id",
                          (cpid,)).fetchall()
        origins = [r["origin"] for r in rows]
        # A child that execs without touching a bpf FD first is journaled by
        # its new image alone (a fork child is recorded once it does
        # something with a bpf FD): one row, its parent named.
        if how == "exec":
            if origins != ["start"]:
                bad("child %d (pid %d): process rows %s, expected the exec'd image's only"
                    % (idx, cpid, origins))
            elif os.path.realpath(rows[0]["exe"]) != os.path.realpath(exec_path):
                bad("child %d: exec'd image is %s, expected %s" % (idx, rows[0]["exe"], exec_path))
        elif origins != ["fork"]:
            bad("child %d (pid %d): process rows %s, expected one fork row" % (idx, cpid, origins))
        if rows and any(r["ppid"] != parent for r in rows[:1]):
            bad("child %d (pid %d): ppid %s, expected %d" % (idx, cpid, rows[0]["ppid"], parent))
        # Children that left through exit() have an exit snapshot with their map.
        snap = exit_snapshot(db, cpid)
        if how == "exec" or idx % 2 == 0:
            if snap is None:
                bad("child %d (pid %d, %s): no exit snapshot" % (idx, cpid, how))
            elif ids[0] not in snap.values():
                bad("child %d (pid %d): map %d not in its exit snapshot %s"
                    % (idx, cpid, ids[0], sorted(snap.values())))
        fk = db.execute("SELECT fd2 FROM event WHERE pid = ? AND op = ?",
                        (cpid, c.op["fork"])).fetchall()
        if [r[0] for r in fk] != ([] if how == "exec" else [parent]):
            bad("child %d (pid %d): fork events %s, expected one naming parent %d"
                % (idx, cpid, [r[0] for r in fk], parent))
    # No event belongs to a pid that is neither the parent nor a child.
    known = {parent} | {c[0] for c in children.values()}
    for r in db.execute("SELECT DISTINCT pid FROM event"):
        if r[0] not in known:
            bad("events of pid %d, which the host never had" % r[0])
    dropped = db.execute("SELECT coalesce(sum(fd2), 0) FROM event WHERE op = ? AND pid != ?",
                         (c.op["drop"], parent)).fetchone()[0]
    if dropped:
        bad("%d events of children dropped" % dropped)
    pdropped = db.execute("SELECT coalesce(sum(fd2), 0) FROM event WHERE op = ? AND pid = ?",
                          (c.op["drop"], parent)).fetchone()[0]
    if pdropped and "--allow-parent-drops" not in args:
        bad("%d events of the parent dropped" % pdropped)
    print("forks: parent %d, %d children (%d exec), parent creates in journal %d, parent drops %d"
          % (parent, len(children), sum(1 for c in children.values() if c[1] == "exec"),
             per_name.get("hl_p", 0), pdropped))
    finish("every process's events present and attributed")


def check_killed(journal, progress, kill_ns, max_loss_ms):
    """One killed run: returns (made, recorded, lost, oldest lost ms) or None."""
    done = []
    with open(progress) as f:
        for line in f:
            if not line.endswith("\n"):
                break   # the line being written when the kill came
            w = line.split()
            done.append((int(w[0]), int(w[1])))
    if not os.path.exists(journal) or os.path.getsize(journal) == 0:
        # Killed before the shim created its schema: nothing to lose yet.
        if done:
            bad("%s: journal missing or empty but the host had made %d maps" % (journal, len(done)))
        return (len(done), 0, 0, 0.0)
    db = connect(journal, writable=True)
    ok, rows = integrity(db)
    if not ok:
        bad("%s: integrity_check: %s" % (journal, rows[:5]))
        return None
    try:
        c = codes(db)
        got = [r[0] for r in db.execute(
            "SELECT e.obj_id FROM event e JOIN object o ON o.kind = ?1 AND o.id = e.obj_id"
            " WHERE e.op = ?2 AND e.obj_kind = ?1 AND o.name = 'hl_k' ORDER BY e.seq",
            (c.kind["map"], c.op["create"]))]
    except sqlite3.DatabaseError as e:
        if done:
            bad("%s: unreadable (%s) after %d creates" % (journal, e, len(done)))
        return (len(done), 0, 0, 0.0)
    ids = [d[0] for d in done]
    # The journal may hold one create more than the log: the one the kill
    # caught after the shim recorded it, before the host logged it.
    n = min(len(got), len(ids))
    if got[:n] != ids[:n] or len(got) > len(ids) + 1:
        first = next((i for i in range(n) if got[i] != ids[i]), n)
        bad("%s: journal creates are not a prefix of the host's: differ at #%d (%s vs %s)"
            % (journal, first, got[first:first + 3], ids[first:first + 3]))
    lost = done[len(got):]
    old = [d for d in lost if d[1] < kill_ns - max_loss_ms * 1e6]
    if old:
        bad("%s: %d creates made more than %.0f ms before the kill are missing"
            " (oldest %.1f ms before)" % (journal, len(old), max_loss_ms,
                                         (kill_ns - old[0][1]) / 1e6))
    loss_ms = (kill_ns - lost[0][1]) / 1e6 if lost else 0.0
    db.close()
    return (len(done), len(got), len(lost), loss_ms)


def cmd_killrun(args):
    """KILLS runs of host_hostile killloop under the shim, each SIGKILLed at
    a random moment; every journal must pass integrity_check, hold a prefix
    of the host's creates without holes, miss only creates younger than
    MAX_LOSS_MS, and be readable by bpfleak-report."""
    import random
    import signal
    import subprocess
    import time
    d, host, shim, report = args[0], args[1], args[2], args[3]
    kills, max_loss_ms, seed = int(args[4]), float(args[5]), int(args[6])
    rnd = random.Random(seed)
    worst = (0, 0.0)
    for i in range(kills):
        j = os.path.join(d, "kill.%d.db" % i)
        prog = os.path.join(d, "kill.%d.progress" % i)
        env = dict(os.environ, BPFLEAK_JOURNAL=j, LD_PRELOAD=shim, BPFLEAK_QUIET="1")
        pace = "0" if i % 2 == 0 else "20"
        p = subprocess.Popen([host, "killloop", prog, pace], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Early kills land in the shim's start-up and first schema write.
        delay = rnd.choice([rnd.uniform(0.0, 0.03), rnd.uniform(0.03, 0.4)])
        time.sleep(delay)
        kill_ns = time.monotonic_ns()
        p.send_signal(signal.SIGKILL)
        _, err = p.communicate()
        if p.returncode != -signal.SIGKILL:
            bad("run %d: host ended with %s before the kill: %s" % (i, p.returncode, err[-300:]))
            continue
        if not os.path.exists(prog):
            open(prog, "w").close()
        # The report reads the journal as the kill left it (WAL not yet
        # recovered by anyone), before the checks below open it.
        rc = None
        if os.path.exists(j) and os.path.getsize(j) > 0:
            rp = subprocess.run([report, "--format", "json", j], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
            rc = rp.returncode
            rep = None
            if rc in (0, 1, 3):   # 3: no leak, but a blind spot (a killed process)
                try:
                    rep = json.loads(rp.stdout)
                except ValueError as e:
                    bad("run %d: report output is not JSON: %s" % (i, e))
        r = check_killed(j, prog, kill_ns, max_loss_ms)
        if r is None:
            continue
        made, rec, lost, loss_ms = r
        # Every journal that holds a create must be readable by the report.
        if rec and rc not in (0, 1, 3):
            bad("run %d: bpfleak-report exited %s on the killed journal: %s"
                % (i, rc, rp.stderr.decode(errors="replace")[-300:]))
        elif rec and rep is not None:
            snaps = [x.get("snapshot") for x in rep.get("processes") or []]
            if snaps != ["none"]:
                bad("run %d: report says snapshot %s for a killed process" % (i, snaps))
        if lost > worst[0]:
            worst = (lost, loss_ms)
        print("kill %2d after %5.1f ms (pace %sus): host made %6d, journal has %6d, lost %5d"
              " (oldest %.1f ms before the kill), report rc %s"
              % (i, delay * 1000, pace, made, rec, lost, loss_ms, rc))
        for f in (j, j + "-wal", j + "-shm", prog):
            if os.path.exists(f):
                os.unlink(f)
    print("worst loss: %d creates, the oldest %.1f ms before the kill" % worst)
    finish("%d kills: every journal intact, only the tail lost" % kills)

def run_report(report, journal, fmt="json", timeout=30):
    import subprocess
    try:
        rp = subprocess.run([report, "--format", fmt, journal], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "", "timed out after %ds" % timeout
    return rp.returncode, rp.stdout.decode(errors="replace"), rp.stderr.decode(errors="replace")


def all_frames(rep, module=None):
    for fi in rep.get("findings") or []:
        for fr in fi.get("stack") or []:
            if module is None or fr.get("module") == module:
                yield fi, fr


def all_warnings(rep):
    w = list((rep.get("journal") or {}).get("warnings") or [])
    for p in rep.get("processes") or []:
        w += list(p.get("warnings") or [])
    return w


def fds_of(rep, classes):
    out = set()
    for fi in rep.get("findings") or []:
        if fi.get("class") in classes:
            out |= {x.get("fd") for x in fi.get("fds") or []}
    return out


def cmd_lies(args):
    """Journals that lie: copies of a real journal, each changed one way,
    read by bpfleak-report.  Every one must end in clear findings or a
    clear error (exit 2 with a message), never a crash or a hang, and no
    frame may carry a line number that the recorded binary does not give."""
    import shutil
    d, journal, host_out, report, module_path, alt = args[:6]
    facts = {}
    with open(host_out) as f:
        for line in f:
            w = line.split()
            if len(w) == 2:
                facts[w[0]] = int(w[1]) if w[1].lstrip("-").isdigit() else w[1]
    expected, _, _ = host_facts(host_out)
    c = codes(connect(journal))
    # The sql below says {create}, {map}... for the journal's own codes.
    names = dict(create=c.op["create"], dup=c.op["dup"], close=c.op["close"], map=c.kind["map"],
                 map_create=c.cmd["BPF_MAP_CREATE"], cloexec=EF_CLOEXEC)
    leak_line = facts["leak_line"]
    closed_fd = facts["closed_fd"]
    dup_fd = max(expected)          # the GET_FD_BY_ID copy, made second

    def crashed(label, rc, err):
        if rc is None:
            bad("%s: bpfleak-report did not finish (%s)" % (label, err))
            return True
        if rc < 0 or rc > 2 or "AddressSanitizer" in err or "runtime error" in err:
            bad("%s: bpfleak-report crashed (exit %s): %s" % (label, rc, err[-400:]))
            return True
        if rc == 2 and not err.strip():
            bad("%s: exit 2 without saying why" % label)
            return True
        return False

    def json_of(label, out):
        try:
            return json.loads(out)
        except ValueError as e:
            bad("%s: output is not JSON: %s" % (label, e))
            return None

    # The truth: the real journal, the recorded binary in place.
    rc, out, err = run_report(report, journal)
    if crashed("control", rc, err):
        finish("")
    rep = json_of("control", out)
    if rc != 1 or rep is None:
        bad("control: exit %s, expected 1 (a duplicate leak)" % rc)
        finish("")
    truth = {}
    for fi, fr in all_frames(rep):
        truth[(fr.get("module"), fr.get("ip"))] = (fr.get("function"), fr.get("file"), fr.get("line"))
    site = [fr for fi, fr in all_frames(rep, module_path) if fr.get("function") == "hostile_leak_site"]
    if not site or site[0].get("line") != leak_line or \
            os.path.basename(site[0].get("file") or "") != LEAK_SOURCE:
        bad("control: the duplicate is not attributed to hostile_leak_site at %s:%d"
            " (got %s)" % (LEAK_SOURCE, leak_line, site[:1]))
    dups = fds_of(rep, {"duplicate"})
    if dups != {dup_fd}:
        bad("control: duplicate FDs %s, expected {%d}" % (sorted(dups), dup_fd))
    print("lies: control ok (duplicate fd %d at %s:%d)" % (dup_fd, LEAK_SOURCE, leak_line))

    n = [0]

    def variant(label, sql=None, fn=None, timeout=30):
        n[0] += 1
        j = os.path.join(d, "lie%02d.db" % n[0])
        shutil.copyfile(journal, j)
        db = sqlite3.connect(j)
        if sql:
            db.executescript(sql)
        if fn:
            fn(db)
        db.commit()
        db.close()
        rc, out, err = run_report(report, j, timeout=timeout)
        if crashed(label, rc, err):
            return None, None, None
        rct, outt, errt = run_report(report, j, "text", timeout=timeout)
        if crashed(label + " (text)", rct, errt):
            return None, None, None
        rep = json_of(label, out) if rc in (0, 1, 3) else None
        print("lies: %-26s exit %s%s" % (label, rc, (": " + err.strip().splitlines()[0][:100])
                                         if rc == 2 and err.strip() else ""))
        return rc, rep, outt + errt

    pid_sql = "(SELECT pid FROM event LIMIT 1)"

    # 1. Events out of order: the close of closed_fd stamped before its create.
    rc, rep, text = variant("close stamped before create", """
        UPDATE event SET ts_ns = (SELECT min(ts_ns) - 1000 FROM event e2
                                  WHERE e2.op = {create} AND e2.fd = {fd})
         WHERE op = {close} AND fd = {fd};""".format(fd=closed_fd, **names))
    if rep is not None and closed_fd not in fds_of(rep, {"double_close", "stale"}) and \
            not any("fd %d " % closed_fd in w + " " for w in all_warnings(rep)):
        bad("close stamped before create: no finding or warning names fd %d" % closed_fd)

    # 2. A close of an FD no event ever made, before anything else happened.
    rc, rep, text = variant("close before any create", """
        INSERT INTO event(ts_ns, pid, tid, op, fd, obj_kind, obj_id, result)
        SELECT min(ts_ns) - 5000, {pid}, {pid}, {close}, 77, {map}, 424242, 0 FROM event;"""
                            .format(pid=pid_sql, **names))
    if rep is not None and 77 not in fds_of(rep, {"double_close", "stale"}) and \
            not any("fd 77 " in w + " " for w in all_warnings(rep)):
        bad("close before any create: no finding or warning names fd 77")

    # 3. Duplicate sequence numbers: an event table without its primary key.
    def dup_seq(db):
        cols = "seq, ts_ns, pid, tid, op, fd, fd2, cmd, obj_kind, obj_id, stack_id, result, flags, detail"
        db.executescript("""
            DROP VIEW IF EXISTS event_v;
            CREATE TABLE ev2 AS SELECT %s FROM event;
            DROP TABLE event;
            CREATE TABLE event(seq INTEGER, ts_ns INTEGER NOT NULL, pid INTEGER NOT NULL,
              tid INTEGER, op INTEGER NOT NULL, fd INTEGER, fd2 INTEGER, cmd INTEGER,
              obj_kind INTEGER, obj_id INTEGER, stack_id INTEGER, result INTEGER,
              flags INTEGER, detail TEXT);
            INSERT INTO event SELECT * FROM ev2;
            INSERT INTO event SELECT * FROM ev2;
            DROP TABLE ev2;""" % cols)
    rc, rep, text = variant("duplicate sequence numbers", fn=dup_seq)
    if rc == 0:
        bad("duplicate sequence numbers: exit 0, as if the journal were sound")
    if rep is not None:
        if not all_warnings(rep) and not fds_of(rep, {"stale", "double_close"}):
            bad("duplicate sequence numbers: neither a warning nor a stale/double_close finding")
        got = (rep.get("summary") or {}).get("open_bpf_fds")
        if got != len(expected):
            bad("duplicate sequence numbers: %s FDs open, the snapshot says %d" % (got, len(expected)))

    # 4. An op this analyzer does not know.
    assert 42 not in c.op.values()
    rc, rep, text = variant("unknown op 42", """
        INSERT INTO event(ts_ns, pid, tid, op, fd, result)
        SELECT max(ts_ns) - 1, %s, %s, 42, 5, 0 FROM event;""" % (pid_sql, pid_sql))
    if rep is not None and not any("42" in w for w in all_warnings(rep)):
        bad("unknown op 42: no warning names op 42 (warnings: %s)" % all_warnings(rep)[:3])

    # 5. A stack id that does not exist: the duplicate's create points nowhere.
    rc, rep, text = variant("stack id that does not exist", """
        UPDATE event SET stack_id = 999999 WHERE op = {create} AND fd = {fd};"""
                            .format(fd=dup_fd, **names))
    if rep is not None:
        f = [fi for fi in rep.get("findings") or [] if fi.get("class") == "duplicate"]
        if not f:
            bad("missing stack: the duplicate finding is gone")
        elif f[0].get("stack"):
            bad("missing stack: the finding shows frames %s for a stack that does not exist"
                % [(x.get("function"), x.get("line")) for x in f[0]["stack"]][:3])
        elif not f[0].get("no_stack"):
            bad("missing stack: no no_stack explanation")

    # 6. Stack blobs that lie about their size.
    rc, rep, text = variant("stack blob shorter than depth", """
        UPDATE stack SET depth = 100000, ips = x'00112233445566778899aabbcc';""")

    # 7. FD numbers at the edge.
    rc, rep, text = variant("fd 2^31-1 and negative fds", """
        INSERT INTO event(ts_ns, pid, tid, op, fd, obj_kind, obj_id, result)
        SELECT max(ts_ns) - 3, {pid}, {pid}, {create}, 2147483647, {map}, 5, 2147483647 FROM event;
        INSERT INTO event(ts_ns, pid, tid, op, fd, fd2, obj_kind, obj_id, result)
        SELECT max(ts_ns) - 2, {pid}, {pid}, {dup}, -5, -7, {map}, 5, -5 FROM event;"""
                            .format(pid=pid_sql, **names))

    # 8/9. The module path is now a different binary: with the build-id the
    # journal recorded, and with that build-id erased.
    saved = module_path + ".orig"
    shutil.copyfile(module_path, saved)
    shutil.copyfile(alt, module_path)

    def check_lines(label, rep):
        seen = set()
        for fi, fr in all_frames(rep, module_path):
            if fr.get("line") is None or fr.get("ip") in seen:
                continue
            seen.add(fr.get("ip"))
            want = truth.get((fr.get("module"), fr.get("ip")))
            got = (fr.get("function"), fr.get("file"), fr.get("line"))
            if want != got:
                bad("%s: frame %s shows %s:%s (%s); the recorded binary says %s"
                    % (label, fr.get("ip"), got[1], got[2], got[0], want))
    rc, rep, text = variant("module replaced (build-id)")
    if rep is not None:
        check_lines("module replaced (build-id)", rep)
        if not any("build-id" in w for w in all_warnings(rep)):
            bad("module replaced (build-id): no warning about the build-id mismatch")
    rc, rep, text = variant("module replaced (no build-id)",
                            "UPDATE module SET build_id = NULL;")
    if rep is not None:
        check_lines("module replaced (no build-id)", rep)
    shutil.copyfile(saved, module_path)

    # 10. A module path that is a FIFO: opening it must not hang the report.
    fifo = os.path.join(d, "fifo-module")
    os.mkfifo(fifo)
    rc, rep, text = variant("module path is a FIFO",
                            "UPDATE module SET path = '%s', build_id = NULL;" % fifo, timeout=10)
    if rep is not None:
        for fi, fr in all_frames(rep, fifo):
            if fr.get("line") is not None:
                bad("module path is a FIFO: frame with a line from a FIFO: %s" % fr)

    # 11. Not a lie but a hostile size: a per-request leak of 100,000 FDs on
    # distinct maps from one call site.  Every format within 10 s.
    big = os.path.join(d, "big.db")
    shutil.copyfile(journal, big)
    db = sqlite3.connect(big)
    pid, sid = db.execute("SELECT pid, stack_id FROM event WHERE op = ? AND stack_id IS NOT NULL"
                          " LIMIT 1", (names["create"],)).fetchone()
    t0 = db.execute("SELECT max(ts_ns) FROM event").fetchone()[0]
    db.execute("DELETE FROM snapshot_fd")
    db.execute("DELETE FROM snapshot")
    db.executemany("INSERT INTO event(ts_ns, pid, tid, op, fd, cmd, obj_kind, obj_id, stack_id,"
                   " result, flags) VALUES (?,?,?,{create},?,{map_create},{map},?,?,?,{cloexec})"
                   .format(**names),
                   [(t0 + 1000 * (i + 1), pid, pid, 100 + i, 50000000 + i, sid, 100 + i)
                    for i in range(100000)])
    db.commit()
    db.close()
    import time
    for fmt in ("json", "text", "folded"):
        t = time.monotonic()
        rc, out, err = run_report(report, big, fmt, timeout=10)
        if not crashed("100,000 leaked FDs (%s)" % fmt, rc, err):
            print("lies: %-26s exit %s in %.1f s" % ("100,000 leaked FDs (%s)" % fmt, rc,
                                                     time.monotonic() - t))

    # 12. Truncated, empty and foreign files: a clear error, exit 2.
    for label, data in (("truncated to half", open(journal, "rb").read()[: os.path.getsize(journal) // 2]),
                        ("empty file", b""),
                        ("not sqlite", b"hello, I am not a journal\n" * 100)):
        j = os.path.join(d, "bad-%s.db" % label.replace(" ", "-"))
        with open(j, "wb") as f:
            f.write(data)
        rc, out, err = run_report(report, j)
        if crashed(label, rc, err):
            continue
        if rc != 2:
            bad("%s: exit %s, expected 2 (bad input)" % (label, rc))
        elif len(err.strip().splitlines()) != 1:
            bad("%s: the error is not one line: %r" % (label, err[:300]))
        print("lies: %-26s exit %s: %s" % (label, rc, err.strip()[:100]))
    finish("journals that lie: clear findings or clear errors")


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    cmd, args = sys.argv[1], sys.argv[2:]
    {"journal": cmd_journal, "report": cmd_report, "integrity": cmd_integrity,
     "forks": cmd_forks, "killrun": cmd_killrun, "lies": cmd_lies}[cmd](args)


if __name__ == "__main__":
    main()
