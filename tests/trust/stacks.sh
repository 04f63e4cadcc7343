#!/bin/sh
# Where a stack comes from (issue 15 items 7, 11):
#  - two plugins loaded one after the other at the same address, the first
#    dlclose'd: each leak is named in its own plugin's function;
#  - a create 300 calls deep: the stack is marked cut, and its outermost
#    frames (main) are kept;
#  - a map made in a plugin's constructor (the loader's lock held) while
#    another thread makes the process's first bpf FD: no deadlock (recording
#    loads libraries of its own when it starts), both maps journaled.
. "$(dirname "$0")/lib.sh"
trust_setup

j=$T/plugins.db
shim "$j" "$TRUST" plugins "$B/tests/trust/plugin_a.so" "$B/tests/trust/plugin_b.so" >"$T/out" 2>"$T/err" ||
	problem "plugins: exit $?"
report_json "$j" "$T/plugins.json"
for x in a b; do
	fns=$(json_query "$T/plugins.json" "sorted({fr['function'] for f in d['findings'] for r in f['fds'] if r.get('name') == 'tr_plugin_$x' for fr in f['stack'] if fr['function'] and 'plugin_' in fr['function'] and fr['function'] != 'plugin_create'})")
	[ "$fns" = "['plugin_${x}_create_map']" ] || problem "plugin $x's map is charged to $fns"
done

j=$T/deep.db
shim "$j" "$TRUST" deep 300 >"$T/out" 2>"$T/err" || problem "deep: exit $?"
report_json "$j" "$T/deep.json"
json_query "$T/deep.json" "[f.get('truncated') for f in d['findings'] if any(r.get('name') == 'tr_deep' for r in f['fds'])]" >"$T/trunc"
grep -q True "$T/trunc" || problem "deep: the stack is not marked cut: $(cat "$T/trunc")"
fns=$(json_query "$T/deep.json" "[fr['function'] for f in d['findings'] for fr in f['stack']]")
case $fns in
*"'main'"*) ;;
*) problem "deep: main is not among the frames kept: $fns" ;;
esac
j=$T/ctor.db
shim "$j" timeout -k 1 20 "$TRUST" ctor-race "$B/tests/trust/plugin_ctor.so" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] || problem "ctor-race: exit $rc (124: hung)"
maps=$(sqlite3 "file:$j?mode=ro" "SELECT group_concat(name) FROM (SELECT o.name FROM event e
	JOIN object o ON o.kind = e.obj_kind AND o.id = e.obj_id JOIN op_name n ON n.op = e.op
	WHERE n.name = 'create' AND o.name LIKE 'tr_%' ORDER BY o.name)" 2>&1)
[ "$maps" = "tr_ctor,tr_thread" ] || problem "ctor-race: maps journaled: $maps, want tr_ctor,tr_thread"
exit $status
