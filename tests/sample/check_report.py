"""Check a `bpfleak-report --format json` document (docs/report.md, "JSON output")
against the leaks the sample gateway is known to have.

usage: python3 check_report.py REPORT.json --none
       python3 check_report.py REPORT.json SITE [SITE...]

SITE is LINE:OPEN:NAME=N[,NAME=N...]:DUP.  A finding belongs to the site
of the first frame of its stack that lies in gateway.c (libbpf's frames
come first).  For each SITE, at samples/gateway.c:LINE:

  - the findings there name OPEN distinct FDs, all maps, N of them on the
    map called NAME (an FD may appear in several classes: counted once);
  - one `outstanding` finding holds all OPEN FDs (open at exit);
  - one `duplicate` finding, a leak, holds DUP FDs: every FD there beyond
    the oldest on its object (docs/report.md, "Classes": "each younger one
    is charged to the site that made it"); DUP 0 means none;
  - a `growth` finding, if the analyzer saw one, is a leak of all OPEN FDs;
  - every finding's count is the number of FDs it lists.

Every finding must belong to one of the SITEs and no FD to two of them;
the SITEs' FDs are all the FDs the process still had open at exit, and
summary.leaked_fds counts the distinct FDs of the leak findings.

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
    line, count, names, dup = arg.split(":")
    want = collections.Counter()
    for item in names.split(","):
        name, n = item.split("=")
        want[name] = int(n)
    assert sum(want.values()) == int(count), arg
    return int(line), int(count), want, int(dup)


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
        for key in ("findings", "leaks", "leaked_fds", "open_bpf_fds"):
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
    leaked = {}
    for f in findings:
        if f.get("leak") is True:
            for d in f.get("fds") or []:
                leaked[d.get("fd")] = d
    for line, count, want, dup in sites:
        where = "%s:%d" % (SOURCE, line)
        fs = by_site.get(line)
        if not fs:
            bad("no finding at " + where)
            continue
        fds = {}
        for f in fs:
            for d in f.get("fds") or []:
                fds[d.get("fd")] = d
        for fd in fds:
            if fd in owner:
                bad("fd %r is attributed to both %s:%d and %s" % (fd, SOURCE, owner[fd], where))
            owner[fd] = line
        kinds = {d.get("kind") for d in fds.values()}
        names = collections.Counter(d.get("name") for d in fds.values())
        if len(fds) != count:
            bad("%s: %d distinct FDs, expected %d" % (where, len(fds), count))
        if kinds != {"map"}:
            bad("%s: FD kinds %r, expected only maps" % (where, kinds))
        if names != want:
            bad("%s: maps %r, expected %r" % (where, dict(names), dict(want)))

        def of_class(cls):
            return [f for f in fs if f.get("class") == cls]
        outst = of_class("outstanding")
        if [f.get("count") for f in outst] != [count]:
            bad("%s: outstanding counts %r, expected [%d]"
                % (where, [f.get("count") for f in outst], count))
        dups = of_class("duplicate")
        if [f.get("count") for f in dups] != ([dup] if dup else []):
            bad("%s: duplicate counts %r, expected %r"
                % (where, [f.get("count") for f in dups], [dup] if dup else []))
        if any(f.get("leak") is not True for f in dups):
            bad("%s: a duplicate finding is not marked as a leak" % where)
        for f in of_class("growth"):
            if f.get("count") != count or f.get("leak") is not True:
                bad("%s: growth finding of %r FDs (leak %r), expected a leak of %d"
                    % (where, f.get("count"), f.get("leak"), count))
        if not any(f.get("leak") is True for f in fs):
            bad("%s: no leak among the findings there (%r)"
                % (where, [f.get("class") for f in fs]))

    total = sum(s[1] for s in sites)
    if summary.get("open_bpf_fds") != total:
        bad("summary.open_bpf_fds is %r, expected %d (only the leaks stay open at exit)"
            % (summary.get("open_bpf_fds"), total))
    if summary.get("leaked_fds") != len(leaked):
        bad("summary.leaked_fds is %r, but the leak findings list %d distinct FDs"
            % (summary.get("leaked_fds"), len(leaked)))
    if not summary.get("leaks"):
        bad("summary.leaks is %r" % summary.get("leaks"))
    return finish()


def finish():
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
