"""Check a `bpfleak-report --format json` document (DESIGN.md section 4)
against the leaks the sample gateway is known to have.

usage: python3 check_report.py REPORT.json --none
       python3 check_report.py REPORT.json SITE [SITE...]

SITE is LINE:COUNT:NAME=N[,NAME=N...]: the findings attributed to
samples/gateway.c:LINE hold COUNT distinct FDs, all maps, N of them
referencing the map called NAME.  A finding is attributed to the first
frame of its stack that lies in gateway.c (the frames inside libbpf come
first).  Every finding must belong to one of the SITEs, and the SITEs'
FDs must be all the FDs the process still had open at exit.

Exit 0 when the report matches, 1 (with the reasons) when it does not.
"""
import collections
import json
import os
import sys

SOURCE = "gateway.c"
problems = []


def bad(msg):
    problems.append(msg)


def site_of(finding):
    for fr in finding.get("stack") or []:
        if os.path.basename(fr.get("file") or "") == SOURCE:
            return fr.get("line"), fr.get("function")
    return None, None


def describe(f):
    line, fn = site_of(f)
    names = collections.Counter(d.get("name") for d in f.get("fds") or [])
    return "%s count=%s site=%s:%s (%s) fds=%d %s" % (
        f.get("class"), f.get("count"), SOURCE, line, fn,
        len(f.get("fds") or []), dict(names))


def parse_site(arg):
    line, count, names = arg.split(":", 2)
    want = collections.Counter()
    for item in names.split(","):
        name, n = item.split("=")
        want[name] = int(n)
    assert sum(want.values()) == int(count), arg
    return int(line), int(count), want


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    with open(argv[1]) as fh:
        doc = json.load(fh)

    if doc.get("bpfleak_report") != 1:
        bad("bpfleak_report is %r, not 1" % doc.get("bpfleak_report"))
    procs = [p for p in doc.get("processes") or []
             if os.path.basename(p.get("exe") or "") == "gateway"]
    if len(procs) != 1:
        bad("expected one gateway process, got %r" % doc.get("processes"))
    elif procs[0].get("snapshot") != "exit":
        bad("the gateway's snapshot is %r, not 'exit'" % procs[0].get("snapshot"))
    findings = doc.get("findings")
    summary = doc.get("summary") or {}
    if not isinstance(findings, list):
        bad("no findings list")
        findings = []
    for f in findings:
        print("finding:", describe(f))
    print("summary:", summary)

    if argv[2] == "--none":
        if findings:
            bad("expected no findings, got %d" % len(findings))
        for key in ("findings", "leaked_fds", "open_bpf_fds"):
            if summary.get(key) != 0:
                bad("summary.%s is %r, not 0" % (key, summary.get(key)))
        return finish()

    sites = [parse_site(a) for a in argv[2:]]
    expected_lines = {s[0] for s in sites}
    by_site = collections.defaultdict(list)
    for f in findings:
        line, _ = site_of(f)
        if line not in expected_lines:
            bad("finding at an unexpected site: " + describe(f))
            continue
        by_site[line].append(f)
        if f.get("count") != len(f.get("fds") or []):
            bad("count %r != %d FDs listed: %s"
                % (f.get("count"), len(f.get("fds") or []), describe(f)))

    owner = {}
    for line, count, want in sites:
        fs = by_site.get(line)
        if not fs:
            bad("no finding at %s:%d" % (SOURCE, line))
            continue
        fds = {}
        for f in fs:
            for d in f.get("fds") or []:
                fds[d.get("fd")] = d
        for fd in fds:
            if fd in owner:
                bad("fd %r is attributed to both %s:%d and %s:%d"
                    % (fd, SOURCE, owner[fd], SOURCE, line))
            owner[fd] = line
        kinds = {d.get("kind") for d in fds.values()}
        names = collections.Counter(d.get("name") for d in fds.values())
        if len(fds) != count:
            bad("%s:%d: %d distinct FDs, expected %d" % (SOURCE, line, len(fds), count))
        if kinds != {"map"}:
            bad("%s:%d: FD kinds %r, expected only maps" % (SOURCE, line, kinds))
        if names != want:
            bad("%s:%d: maps %r, expected %r" % (SOURCE, line, dict(names), dict(want)))
        # The leak is named once with its full size: the finding that holds
        # every FD of the site carries count == COUNT.
        if not any(f.get("count") == count for f in fs):
            bad("%s:%d: no finding with count %d (counts: %r)"
                % (SOURCE, line, count, [f.get("count") for f in fs]))

    total = sum(s[1] for s in sites)
    if summary.get("leaked_fds") != total:
        bad("summary.leaked_fds is %r, expected %d" % (summary.get("leaked_fds"), total))
    if summary.get("open_bpf_fds") != total:
        bad("summary.open_bpf_fds is %r, expected %d (only the leaks stay open at exit)"
            % (summary.get("open_bpf_fds"), total))
    return finish()


def finish():
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
