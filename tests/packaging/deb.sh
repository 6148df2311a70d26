#!/usr/bin/env bash
# The Debian package and `cmake --install` of a configured, built tree.
# Usage: deb.sh BUILD_DIR VERSION
#   - cpack makes shortcut_VERSION-1_ARCH.deb: its control fields, its
#     files (programs, units, configuration, schema, dashboard, man pages,
#     copyright, changelog), its conffiles; the changelog's top entry is
#     the package's version;
#   - lintian reports no error (warnings are printed);
#   - the man pages format without a warning;
#   - the units pass `systemd-analyze verify` against the unpacked package;
#   - the unpacked programs answer --help and --version; the database's
#     start script creates and serves Shortcut_Northbound; shortcut-managerd
#     and shortcut-gatewayd run from the example configuration (addresses
#     moved to the temp dir) and exit 0 on SIGTERM;
#   - `cmake --install` into a DESTDIR lays out the same files, with
#     another prefix the units name that prefix, and a second install keeps
#     an edited configuration file.
# Everything happens in a temp dir, removed whatever happens.
set -euo pipefail

BUILD=${1:?usage: $0 BUILD_DIR VERSION}
VERSION=${2:?usage: $0 BUILD_DIR VERSION}
BUILD=$(cd "$BUILD" && pwd)
TMP=$(mktemp -d /tmp/shortcut-deb-test.XXXXXX)
PIDS=()

fail() { echo "FAIL [deb]: $*" >&2; exit 1; }
ok() { echo "ok [deb]: $*"; }

cleanup() {
  local rc=$? pid
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2> /dev/null || true; done
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT

for tool in cpack dpkg-deb dpkg-parsechangelog lintian man python3 ovsdb-tool ovsdb-client; do
  command -v "$tool" > /dev/null || fail "$tool is missing (scripts/deps installs it)"
done
for prog in shortcutctl shortcut-managerd shortcut-gatewayd; do
  [ -x "$BUILD/bin/$prog" ] || fail "no $BUILD/bin/$prog: build the tree first"
done

# ---- The package.
cpack --config "$BUILD/CPackConfig.cmake" -B "$TMP/out" > "$TMP/cpack.log" 2>&1 ||
  { cat "$TMP/cpack.log" >&2; fail "cpack failed"; }
debs=("$TMP"/out/shortcut_*.deb)
if [ "${#debs[@]}" -ne 1 ] || [ ! -f "${debs[0]}" ]; then
  fail "cpack made no single shortcut_*.deb"
fi
DEB=${debs[0]}
ARCH=$(dpkg --print-architecture)
[ "$(basename "$DEB")" = "shortcut_${VERSION}-1_${ARCH}.deb" ] ||
  fail "package named $(basename "$DEB"), not shortcut_${VERSION}-1_${ARCH}.deb"
ok "cpack made $(basename "$DEB") ($(du -k "$DEB" | cut -f1) KiB)"

field() { dpkg-deb -f "$DEB" "$1"; }
[ "$(field Package)" = shortcut ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$VERSION-1" ] || fail "Version: $(field Version), not $VERSION-1"
[ "$(field Section)" = net ] || fail "Section: $(field Section)"
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
depends=$(field Depends)
for dep in openvswitch-common libc6 libgrpc++ libprotobuf libstdc++6; do
  [[ ", $depends" == *", $dep"* ]] || fail "Depends lacks $dep: $depends"
done
[[ "$(field Recommends)" == *openvswitch-switch* ]] || fail "Recommends lacks openvswitch-switch"
ok "control: shortcut $VERSION-1, section net, Depends $(echo "$depends" | tr ',' '\n' | wc -l) packages"

dpkg-deb -c "$DEB" | awk '{print $1, $6}' | sed 's|^\([^ ]*\) \./|\1 /|' > "$TMP/contents"
expect_file() {  # expect_file MODE PATH: a file of that mode in the package.
  grep -qxF -- "$1 $2" "$TMP/contents" ||
    fail "the package has no $2 of mode $1: $(grep -F -- " $2" "$TMP/contents" || echo missing)"
}
for f in /usr/bin/shortcutctl /usr/sbin/shortcut-managerd /usr/sbin/shortcut-gatewayd \
    /usr/libexec/shortcut/shortcut-nb-ovsdb /usr/lib/cni/shortcut-cni; do
  expect_file -rwxr-xr-x "$f"
done
for f in /etc/shortcut/managerd.json /etc/shortcut/gatewayd.json /etc/default/shortcut-nb-ovsdb \
    /lib/systemd/system/shortcut-managerd.service /lib/systemd/system/shortcut-gatewayd.service \
    /lib/systemd/system/shortcut-nb-ovsdb.service \
    /usr/share/shortcut/shortcut_nb.ovsschema /usr/share/shortcut/shortcut.json \
    /usr/share/shortcut/shortcut.conflist \
    /usr/share/man/man1/shortcutctl.1.gz /usr/share/man/man8/shortcut-managerd.8.gz \
    /usr/share/man/man8/shortcut-gatewayd.8.gz \
    /usr/share/doc/shortcut/copyright /usr/share/doc/shortcut/changelog.Debian.gz; do
  expect_file -rw-r--r-- "$f"
done
if grep -E 'shortcut-lab|/usr/local|/tmp/' "$TMP/contents"; then
  fail "the package holds files it should not"
fi
ok "files: $(grep -vc '^d' "$TMP/contents") (programs, units, configuration, schema, dashboard, man pages, doc)"

dpkg-deb -e "$DEB" "$TMP/control"
printf '%s\n' /etc/shortcut/managerd.json /etc/shortcut/gatewayd.json \
  /etc/default/shortcut-nb-ovsdb > "$TMP/conffiles.want"
diff -u <(sort "$TMP/conffiles.want") <(sort "$TMP/control/conffiles") || fail "conffiles differ"
for s in postinst prerm postrm; do
  [ -x "$TMP/control/$s" ] || fail "no executable $s"
  sh -n "$TMP/control/$s" || fail "$s: not valid sh"
done
ok "conffiles: $(tr '\n' ' ' < "$TMP/control/conffiles")"

mkdir "$TMP/root"
dpkg -x "$DEB" "$TMP/root"
R=$TMP/root
zcat "$R/usr/share/doc/shortcut/changelog.Debian.gz" > "$TMP/changelog"
top=$(dpkg-parsechangelog -l "$TMP/changelog" -S Version)
[ "$top" = "$VERSION-1" ] ||
  fail "packaging/debian/changelog's top entry is $top, the package $VERSION-1: add an entry"
ok "changelog: top entry $top"

# ---- lintian: no error.
rc=0
lintian --no-cfg --display-level '>=warning' "$DEB" > "$TMP/lintian.log" 2>&1 || rc=$?
sed -n 's/^W: /lintian warning: /p' "$TMP/lintian.log"
if grep -E '^[EX]: ' "$TMP/lintian.log"; then
  fail "lintian reports errors"
fi
[ "$rc" -eq 0 ] || { cat "$TMP/lintian.log" >&2; fail "lintian exited $rc"; }
ok "lintian: no error, $(grep -c '^W: ' "$TMP/lintian.log" || true) warning(s)"

# ---- Man pages: groff has nothing to say.
for page in "$R"/usr/share/man/man*/*.gz; do
  out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 > /dev/null)
  [ -z "$out" ] || fail "$(basename "$page"): $out"
  zcat "$page" | grep -q "shortcut $VERSION" || fail "$(basename "$page") does not say version $VERSION"
done
ok "man pages format cleanly"

# ---- Units.
if command -v systemd-analyze > /dev/null; then
  # The unpacked package plus this machine's targets (sysinit.target...).
  cp -a /lib/systemd/system/*.target "$R/lib/systemd/system/"
  for unit in shortcut-managerd shortcut-gatewayd shortcut-nb-ovsdb; do
    out=$(systemd-analyze verify --man=no --root="$R" "/lib/systemd/system/$unit.service" 2>&1) ||
      fail "$unit.service: $out"
    [ -z "$out" ] || fail "$unit.service: $out"
  done
  ok "systemd-analyze verify: the 3 units are clean"
else
  echo "skip [deb]: systemd-analyze is not installed (scripts/deps installs systemd)"
fi
grep -qx 'ExecStart=/usr/sbin/shortcut-managerd --config /etc/shortcut/managerd.json' \
  "$R/lib/systemd/system/shortcut-managerd.service" || fail "shortcut-managerd.service: ExecStart"
grep -qx 'ExecStart=/usr/sbin/shortcut-gatewayd --config /etc/shortcut/gatewayd.json' \
  "$R/lib/systemd/system/shortcut-gatewayd.service" || fail "shortcut-gatewayd.service: ExecStart"

# ---- The unpacked programs run.
for prog in usr/bin/shortcutctl usr/sbin/shortcut-managerd usr/sbin/shortcut-gatewayd \
    usr/lib/cni/shortcut-cni; do
  "$R/$prog" --help > "$TMP/help" 2>&1 || fail "$prog --help exits $?"
  grep -q 'Usage:' "$TMP/help" || fail "$prog --help prints no usage"
  v=$("$R/$prog" --version) || fail "$prog --version exits $?"
  [ "$v" = "$(basename "$prog") $VERSION" ] || fail "$prog --version says '$v'"
done
ok "the 4 programs answer --help and --version"

# wait_socket PATH PID: until PATH is a socket (PID still alive), 10 s at most.
wait_socket() {
  local _
  for _ in $(seq 100); do
    [ -S "$1" ] && return 0
    kill -0 "$2" 2> /dev/null || return 1
    sleep 0.1
  done
  return 1
}
# stop PID NAME: SIGTERM, then it must exit 0 within 10 s.
stop() {
  local _ rc
  kill -TERM "$1"
  for _ in $(seq 100); do
    kill -0 "$1" 2> /dev/null || break
    sleep 0.1
  done
  kill -0 "$1" 2> /dev/null && fail "$2 still runs 10 s after SIGTERM"
  rc=0
  wait "$1" || rc=$?
  [ "$rc" -eq 0 ] || fail "$2 exited $rc after SIGTERM"
}

run=$TMP/run
mkdir -p "$run"
SHORTCUT_NB_DB=$TMP/db/nb.db SHORTCUT_NB_SCHEMA=$R/usr/share/shortcut/shortcut_nb.ovsschema \
  SHORTCUT_NB_RUNDIR=$run "$R/usr/libexec/shortcut/shortcut-nb-ovsdb" > "$TMP/nb.log" 2>&1 &
nb_pid=$!
PIDS+=("$nb_pid")
wait_socket "$run/nb.sock" "$nb_pid" || { cat "$TMP/nb.log" >&2; fail "shortcut-nb-ovsdb did not start"; }
ovsdb-client list-dbs "unix:$run/nb.sock" | grep -qx Shortcut_Northbound ||
  fail "the database server does not serve Shortcut_Northbound"
ok "shortcut-nb-ovsdb created $TMP/db/nb.db and serves Shortcut_Northbound"

# The example configurations, their addresses moved into the temp dir.
python3 - "$R/etc/shortcut" "$run" <<'PY'
import json, sys
etc, run = sys.argv[1], sys.argv[2]
m = json.load(open(etc + "/managerd.json"))
m.update(listen="unix:%s/managerd.sock" % run, nb="unix:%s/nb.sock" % run)
json.dump(m, open(run + "/managerd.json", "w"))
g = json.load(open(etc + "/gatewayd.json"))
g["listen"] = "unix:%s/gatewayd.sock" % run
g["bridge"].update(openflow="unix:%s/br-int.mgmt" % run, ovsdb="unix:%s/db.sock" % run)
json.dump(g, open(run + "/gatewayd.json", "w"))
PY
for d in managerd gatewayd; do
  "$R/usr/sbin/shortcut-$d" --config "$run/$d.json" > "$TMP/$d.log" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  wait_socket "$run/$d.sock" "$pid" || { cat "$TMP/$d.log" >&2; fail "shortcut-$d did not start"; }
  if [ "$d" = managerd ]; then
    "$R/usr/bin/shortcutctl" --server "unix:$run/managerd.sock" --timeout 10 host list > /dev/null ||
      fail "shortcutctl host list against the packaged managerd failed"
  fi
  stop "$pid" "shortcut-$d"
done
kill -TERM "$nb_pid"
wait "$nb_pid" || true
ok "shortcut-managerd and shortcut-gatewayd run from the example configuration, exit 0 on SIGTERM"

# ---- cmake --install.
DESTDIR=$TMP/dest cmake --install "$BUILD" --prefix /usr --strip > "$TMP/install.log" 2>&1 ||
  { cat "$TMP/install.log" >&2; fail "cmake --install failed"; }
(cd "$TMP/dest" && find . ! -type d | sed 's|^\.||' | sort) > "$TMP/installed"
sed -n 's/^-[^ ]* //p' "$TMP/contents" | sort > "$TMP/packaged"
diff -u "$TMP/packaged" "$TMP/installed" || fail "cmake --install and the package differ"
ok "cmake --install (prefix /usr) lays out the package's $(wc -l < "$TMP/installed") files"

echo '{"listen": "unix:/run/edited.sock", "nb": "unix:/run/nb.sock"}' > "$TMP/edited.json"
cp "$TMP/edited.json" "$TMP/dest/etc/shortcut/managerd.json"
DESTDIR=$TMP/dest cmake --install "$BUILD" --prefix /usr --strip > "$TMP/install.log" 2>&1 || fail "second install failed"
cmp -s "$TMP/edited.json" "$TMP/dest/etc/shortcut/managerd.json" ||
  fail "a second cmake --install overwrote /etc/shortcut/managerd.json"
ok "a second install keeps an edited configuration"

cmake --install "$BUILD" --strip --prefix "$TMP/local" > "$TMP/install.log" 2>&1 ||
  { cat "$TMP/install.log" >&2; fail "cmake --install --prefix failed"; }
unit=$TMP/local/lib/systemd/system/shortcut-managerd.service
[ -f "$unit" ] || fail "no $unit"
grep -qx "ExecStart=$TMP/local/sbin/shortcut-managerd --config $TMP/local/etc/shortcut/managerd.json" "$unit" ||
  fail "$unit does not name its prefix: $(grep ExecStart "$unit")"
[ -f "$TMP/local/etc/shortcut/gatewayd.json" ] || fail "no PREFIX/etc/shortcut/gatewayd.json"
ok "cmake --install --prefix DIR: units name DIR's paths"
