#!/bin/sh
# The Debian package, from the outside: builds build/deb/bpfleak_VERSION_ARCH.deb
# with `make deb` when it is missing or older than a source file, then checks
# its contents (dpkg-deb -c, and the files themselves) and its control fields
# (dpkg-deb -I / -f).  Installing it is tests/package/install.sh's job.
#
# Exit 77 where this is no Debian system, or where the packaging tools are
# missing and cannot be installed (not root).
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/build

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

command -v dpkg-deb >/dev/null 2>&1 || skip "no dpkg-deb: not a Debian system"
VERSION=$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
[ -n "$VERSION" ] || fail "no VERSION in the Makefile"
ARCH=$(dpkg --print-architecture)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -dumpmachine)
DEB=$B/deb/bpfleak_${VERSION}_${ARCH}.deb

# ---- build it if needed -------------------------------------------------
stale=
if [ -f "$DEB" ]; then
	stale=$(cd "$ROOT" && find . -path ./build -prune -o -path ./.git -prune -o \
		-type f -newer "$DEB" -print | head -1)
fi
if [ ! -f "$DEB" ] || [ -n "$stale" ]; then
	if [ "$(id -u)" != 0 ]; then
		for t in dpkg-buildpackage dh lintian; do
			command -v "$t" >/dev/null 2>&1 ||
				skip "$t is missing and only root can install it (sudo sh scripts/deps.sh deb)"
		done
	fi
	echo "-- make deb (${stale:-there is no .deb yet}${stale:+ is newer than the .deb})"
	make -C "$ROOT" -s deb || fail "make deb failed"
fi
[ -f "$DEB" ] || fail "make deb made no $DEB"

T=$(mktemp -d "${TMPDIR:-/tmp}/bpfleak-deb.XXXXXX")
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP PIPE

# ---- contents ------------------------------------------------------------
dpkg-deb -c "$DEB" >"$T/listing" || fail "dpkg-deb -c $DEB"
# "-rwxr-xr-x root/root 26944 2026-12-03 10:00 ./usr/bin/bpfleak" -> mode path
awk '{ p = $6; for (i = 7; i <= NF; i++) p = p " " $i; print $1, $2, p }' "$T/listing" \
	>"$T/files"
has() { # MODE PATH: the package has PATH, owned by root, with MODE
	grep -qx -- "$1 root/root $2" "$T/files" ||
		fail "no $2 with mode $1 in the package ($(grep -F -- "$2" "$T/files" || echo absent))"
}
has_doc() { # PATH without .gz: dh_compress may have compressed it
	grep -Eq -- "^-rw-r--r-- root/root $1(\.gz)?\$" "$T/files" || fail "no $1 in the package"
}
L=./usr/lib/$MA/bpfleak
has -rwxr-xr-x ./usr/bin/bpfleak
has -rwxr-xr-x ./usr/bin/bpfleak-report
has -rw-r--r-- "$L/libbpfleak.so"
has -rw-r--r-- "$L/libbpfleak-journal.so"
has -rwxr-xr-x "$L/samples/gateway"
has -rw-r--r-- "$L/samples/gateway.bpf.o"
has -rw-r--r-- ./usr/include/bpfleak/journal.h
has -rw-r--r-- ./usr/share/man/man1/bpfleak.1.gz
has -rw-r--r-- ./usr/share/man/man1/bpfleak-report.1.gz
has -rw-r--r-- ./usr/share/man/man7/libbpfleak.7.gz
has -rw-r--r-- ./usr/share/doc/bpfleak/copyright
has -rw-r--r-- ./usr/share/doc/bpfleak/changelog.gz
for d in README.md deploy.md report.md overhead.md; do has_doc "./usr/share/doc/bpfleak/$d"; done
has -rw-r--r-- ./usr/share/doc/bpfleak/examples/bpfleak-preload.conf
has -rw-r--r-- "./usr/share/doc/bpfleak/examples/bpfleak-attach@.service"
ok "dpkg-deb -c: binaries, the shim in /usr/lib/$MA/bpfleak, the sample, journal.h, man pages, docs, examples ($(grep -c '^-' "$T/files") files)"

# Only the public header; nothing outside the FHS places a package uses.
hdrs=$(grep ' ./usr/include/' "$T/files" | grep -v '/$' | awk '{ print $3 }')
[ "$hdrs" = ./usr/include/bpfleak/journal.h ] ||
	fail "headers other than journal.h are packaged: $(echo $hdrs)"
bad=
for p in $(awk '{ print $3 }' "$T/files"); do
	case $p in
	./ | ./usr/ | ./usr/lib/ | "./usr/lib/$MA/" | ./usr/share/) ;;
	./usr/bin/* | ./usr/include/bpfleak/* | ./usr/include/ | "./usr/lib/$MA/bpfleak/"*) ;;
	./usr/share/doc/bpfleak/* | ./usr/share/doc/ | ./usr/share/man/* | ./usr/share/lintian/*) ;;
	*) bad="$bad $p" ;;
	esac
done
[ -z "$bad" ] || fail "unexpected paths in the package: $(echo $bad)"
if grep -Eq ' \./usr/lib/bpfleak|/usr/local|build/' "$T/files"; then
	fail "a build or non-multiarch path is packaged: $(grep -E ' \./usr/lib/bpfleak|/usr/local|build/' "$T/files")"
fi
ok "only journal.h under /usr/include; no /usr/local, no /usr/lib/bpfleak, no build/ paths"

# ---- the files themselves ------------------------------------------------
dpkg-deb -x "$DEB" "$T/x" || fail "dpkg-deb -x"
# The build tree (build/deb/bpfleak-VERSION under the source tree) must not
# be named in any file: -ffile-prefix-map for C and BPF, no stamps.
if grep -rlF -e "$ROOT" -e "/deb/bpfleak-$VERSION" "$T/x" >"$T/leaks"; then
	fail "build paths in: $(sed "s|$T/x||" "$T/leaks" | tr '\n' ' ')"
fi
ok "no build path in any packaged file"
grep -aq "/usr/lib/$MA/bpfleak" "$T/x/usr/bin/bpfleak" ||
	fail "bpfleak was not built to look for the shim in /usr/lib/$MA/bpfleak"
zcat "$T/x/usr/share/man/man7/libbpfleak.7.gz" | grep -q "/usr/lib/$MA/bpfleak/libbpfleak.so" ||
	fail "libbpfleak(7) does not name /usr/lib/$MA/bpfleak/libbpfleak.so"
E=$T/x/usr/share/doc/bpfleak/examples
grep -qx "Environment=LD_PRELOAD=/usr/lib/$MA/bpfleak/libbpfleak.so" "$E/bpfleak-preload.conf" ||
	fail "the drop-in does not preload /usr/lib/$MA/bpfleak/libbpfleak.so"
for f in bpfleak-preload.conf bpfleak-attach@.service; do
	grep -q '/usr/bin/bpfleak report -o /var/lib/bpfleak/%[Ni].report.md' "$E/$f" ||
		fail "$f does not write its markdown report with /usr/bin/bpfleak report -o"
done
grep -q '/usr/bin/bpfleak attach -o /var/lib/bpfleak/%i.db' "$E/bpfleak-attach@.service" ||
	fail "the companion unit does not run /usr/bin/bpfleak attach"
if grep -n '@[A-Z]*@' "$E"/*; then fail "unfilled @PLACEHOLDERS@ in the examples"; fi
ok "bpfleak, libbpfleak(7) and the examples name the installed paths"
cmp -s "$T/x/usr/share/doc/bpfleak/copyright" "$ROOT/debian/copyright" ||
	fail "the packaged copyright is not debian/copyright"

# The copyright file says what LICENSE says: LGPL-2.1 OR BSD-2-Clause.
spdx=$(sed -n 's/^SPDX-License-Identifier: *//p' "$ROOT/LICENSE")
[ "$spdx" = "LGPL-2.1 OR BSD-2-Clause" ] || fail "LICENSE now says $spdx: update debian/copyright"
C=$ROOT/debian/copyright
head -1 "$C" | grep -qx 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' ||
	fail "debian/copyright is not DEP-5"
grep -qx 'License: LGPL-2.1 or BSD-2-clause' "$C" || fail "debian/copyright: Files: * is not LGPL-2.1 or BSD-2-clause"
grep -qx 'License: LGPL-2.1' "$C" && grep -qx 'License: BSD-2-clause' "$C" ||
	fail "debian/copyright lacks a License paragraph"
holder=$(sed -n 's/^Copyright (c) //p' "$ROOT/LICENSES/BSD-2-Clause.txt")
grep -qx "Copyright: $holder" "$C" || fail "debian/copyright does not name $holder (LICENSES/BSD-2-Clause.txt)"
ok "copyright: DEP-5, LGPL-2.1 or BSD-2-clause, $holder, as LICENSE and LICENSES/"

# ---- control fields ------------------------------------------------------
dpkg-deb -I "$DEB" >"$T/info" || fail "dpkg-deb -I"
field() { dpkg-deb -f "$DEB" "$1"; }
[ "$(field Package)" = bpfleak ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$VERSION" ] || fail "Version: $(field Version), the Makefile says $VERSION"
[ "$(field Architecture)" = "$ARCH" ] || fail "Architecture: $(field Architecture)"
[ "$(field Section)" = devel ] || fail "Section: $(field Section)"
[ "$(field Priority)" = optional ] || fail "Priority: $(field Priority)"
field Maintainer | grep -q '<.*@.*>' || fail "Maintainer: $(field Maintainer)"
field Description | head -1 | grep -q 'eBPF file descriptors' || fail "Description: $(field Description | head -1)"
[ "$(field Description | wc -l)" -ge 10 ] || fail "the long description is too short"
dep=$(field Depends)
# ${shlibs:Depends}: versioned dependencies on the libraries the binaries link.
for lib in libc6 libbpf1 libdw1 libelf1 libsqlite3-0 libunwind8; do
	echo "$dep" | grep -q "$lib" || fail "Depends lacks $lib: $dep"
done
echo "$dep" | grep -q 'libc6 (>= ' || fail "Depends is not from dpkg-shlibdeps: $dep"
if echo "$dep" | grep -q -- '-dev'; then fail "Depends names a -dev package: $dep"; fi
(cd "$ROOT" && [ "$(dpkg-parsechangelog -S Version)" = "$VERSION" ]) ||
	fail "debian/changelog is not at $VERSION"
ok "dpkg-deb -I: bpfleak $VERSION $ARCH, Depends: $dep"
