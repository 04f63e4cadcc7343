#!/bin/sh
# Pins made by a program that holds no bpf FD at exit are listed (issue 9
# item 13): `bpftool map create PIN` under bpfleak run.
. "$(dirname "$0")/lib.sh"
trust_setup
command -v bpftool >/dev/null || skip "no bpftool"
mount_bpffs "$T/bpffs"
j=$T/pins.db
"$RUN" run -q -o "$j" -- bpftool map create "$T/bpffs/trust_pin" type hash key 4 value 8 entries 16 \
	name trust_pin >"$T/out" 2>"$T/err" || problem "bpftool map create: exit $? $(cat "$T/err")"
report_json "$j" "$T/pins.json"
pins=$(json_query "$T/pins.json" "[q for f in d['findings'] for r in f['fds'] for q in r['pins']] + [p for pr in d['processes'] for p in pr.get('pins', [])]")
case $pins in
*trust_pin*) ;;
*) problem "the pin is not listed: $pins" ;;
esac
"$REPORT" "$j" >"$T/pins.txt" 2>&1
grep -q "0 pins" "$T/pins.txt" && problem "the text report says 0 pins: $(grep pins "$T/pins.txt")"
rm -f "$T/bpffs/trust_pin"
exit $status
