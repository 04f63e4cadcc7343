#!/bin/sh
# make deb: build bpfleak's Debian package with Debian's own tooling.
#
#   sh scripts/build-deb.sh OUTDIR VERSION
#
# Copies the work tree (the files git tracks or would track, as they are
# now; everything when this is no git checkout) to OUTDIR/bpfleak-VERSION,
# runs `dpkg-buildpackage -us -uc -b` there, so the .deb, .buildinfo and
# .changes land in OUTDIR and the work tree gets no debian/bpfleak/ or
# ../*.deb, then runs lintian on the result.  Lintian errors and warnings
# fail the build; info and pedantic tags are shown (the reasons for those
# that remain are in debian/bpfleak.lintian-overrides or docs/deploy.md).
set -eu

out=${1:?usage: build-deb.sh OUTDIR VERSION}
version=${2:?usage: build-deb.sh OUTDIR VERSION}

cl=$(dpkg-parsechangelog -S Version)
if [ "$cl" != "$version" ]; then
	echo "build-deb: debian/changelog is at $cl, the Makefile's VERSION is $version:" >&2
	echo "build-deb: add a debian/changelog entry for $version" >&2
	exit 1
fi
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
base="bpfleak_${version}_${arch}"
tree="$out/bpfleak-$version"

rm -rf "$out"
mkdir -p "$tree"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Tracked and untracked-but-not-ignored files that exist (a file
	# deleted in the work tree is still in the index).
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -f "$f" ] && printf "%s\0" "$f"; done; exit 0' sh |
		tar --null -T - -cf - | tar -xf - -C "$tree"
else
	tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$tree"
fi

nproc=$(nproc 2>/dev/null || echo 1)
log="$out/$base.build"
echo "build-deb: dpkg-buildpackage -us -uc -b in $tree (log: $log)"
# Nothing of the calling make reaches the package build: a B=... given to
# it would travel in MAKEFLAGS to debian/rules clean, and `make clean` would
# remove that directory.
if ! (cd "$tree" && unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES &&
	DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=$nproc}" \
	dpkg-buildpackage -us -uc -b) >"$log" 2>&1; then
	tail -40 "$log" >&2
	echo "build-deb: dpkg-buildpackage failed; the whole log is $log" >&2
	exit 1
fi
rm -rf "$tree"

echo "build-deb: lintian $out/$base.changes"
lintian --info --display-info --pedantic --fail-on error,warning "$out/$base.changes"
echo "build-deb: $out/$base.deb"
