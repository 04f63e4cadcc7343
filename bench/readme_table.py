#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
"""Write README.md's overhead table from bench/results.json (make bench runs this).

usage: readme_table.py RESULTS.json README.md

The table sits between the two marker lines below; everything else in the
README is left as it is.  A results file from --short or --only runs lacks
rows: the table is then left alone, with a one-line note, so a partial run
never replaces a full one.
"""
import json
import math
import sys

BEGIN = "<!-- bench table: written by make bench from bench/results.json (bench/readme_table.py) -->"
END = "<!-- end of bench table -->"


def num(v):
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def ns(v):
    if not num(v):
        return ""
    return f"{v / 1000:.2f} us" if v >= 1000 else f"{v:.0f} ns"


def us(v):
    if not num(v):
        return ""
    return f"{v / 1000:.2f} ms" if v >= 1000 else f"{v:.0f} us"


def ratio(a, b):
    return f"{b / a:.2f}x" if num(a) and num(b) and a else ""


def cell(value, r):
    return f"{value} ({r})" if value and r else value


def peer_cells(peers, loop):
    for p in peers or []:
        if p.get("loop") == loop:
            return [cell(ns(p.get(f"{t}_ns_op")), ratio(p.get("without_ns_op"), p.get(f"{t}_ns_op")))
                    for t in ("valgrind", "strace")]
    return ["", ""]


def rows(r):
    out = []
    loops = {(x["loop"], x["threads"]): x for x in r.get("loops") or []}
    peers = r.get("peers")
    for (loop, threads), x in sorted(loops.items(), key=lambda kv: (kv[1]["figure"], kv[0][1])):
        if x["method"] == "in-process":
            added = x.get("added_ns_op")
            what = f"{x['title']}, added per call"
            with_ = f"+{added:.0f} ns ({x['ratio']:.3f}x)" if num(added) else ""
            out.append([what, ns(x["without_ns_op"]), with_, budget(x.get("budget")), "", ""])
            continue
        what = f"{x['title']}, {threads} thread{'s' if threads > 1 else ''}"
        with_ = cell(ns(x["with_ns_op"]), f"{x['ratio']:.2f}x")
        if num(x.get("thread_cpu_ratio")):
            with_ += f"; calling thread's CPU {x['thread_cpu_ratio']:.2f}x"
        out.append([what, ns(x["without_ns_op"]), with_, budget(x.get("budget"))]
                   + (peer_cells(peers, loop) if threads == 1 else ["", ""]))
    for s in r.get("startup") or []:
        out.append([f"start-up to exit: {s['program']}", us(s["without_us"]),
                    cell(us(s["with_us"]), ratio(s["without_us"], s["with_us"])),
                    budget(s.get("budget_ratio")),
                    cell(us(s.get("valgrind_us")), ratio(s["without_us"], s.get("valgrind_us"))),
                    cell(us(s.get("strace_us")), ratio(s["without_us"], s.get("strace_us")))])
    # The peers of figures 1-2 are timed in runs of their own (figure 7): their
    # ratios are to those runs' own time without a tool.
    for j in (r.get("journal") or [])[:1]:
        out.append([f"journal size, {j['pairs']:,.0f} create/close pairs, one call site", "",
                    f"{j['bytes_per_event']:.1f} B/event", f"{j['budget']:.0f} B" if num(j.get("budget")) else "",
                    "", ""])
    a = r.get("analyzer") or {}
    for run in a.get("runs") or []:
        # The rows a budget applies to: us per event at 1M, seconds at 10M.
        if not num(run.get("report_wall_s")):
            continue
        if num(run.get("budget_us_per_event")):
            budget_text = f"{run['budget_us_per_event']:g} us/event"
        elif num(run.get("budget_s")):
            budget_text = f"{run['budget_s']:.0f} s"
        else:
            continue
        out.append([f"`bpfleak-report` on {run['events']:,.0f} events, {run['open_fds']:,.0f} open FDs, "
                    f"{run['call_sites']:,.0f} call sites", "",
                    f"{run['report_wall_s']:.2f} s ({run['report_us_per_event']:.2f} us/event), "
                    f"{run['report_peak_rss_mib']:.0f} MiB peak", budget_text, "", ""])
    return out


def budget(b):
    return f"{b:g}x" if num(b) else ""


def table(r):
    head = ["what", "without", "with bpfleak", "budget", "valgrind --track-fds", "strace -f"]
    lines = [f"Figures of one `make bench` run, {r['date']} ({r.get('label') or 'unlabelled'}), "
             f"{r['host']['cpus']:.0f} CPUs, kernel {r['host']['kernel']}; medians of "
             f"{r['reps']:.0f} interleaved runs.", "",
             "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows(r)]
    return lines


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: readme_table.py RESULTS.json README.md")
    try:
        with open(sys.argv[1]) as f:
            r = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"readme_table: {sys.argv[1]}: {e}")
    if r.get("short") or not r.get("loops") or not r.get("startup") or not r.get("peers"):
        print(f"readme_table: {sys.argv[1]} is a partial run (--short, --only or --no-peers); "
              "README.md left as it is")
        return
    with open(sys.argv[2]) as f:
        text = f.read().split("\n")
    try:
        b, e = text.index(BEGIN), text.index(END)
    except ValueError:
        sys.exit(f"readme_table: {sys.argv[2]} has no bench table markers")
    text[b + 1:e] = table(r)
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(text))
    print(f"readme_table: {sys.argv[2]}'s bench table written from {sys.argv[1]}")


if __name__ == "__main__":
    main()
