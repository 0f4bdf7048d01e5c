#!/usr/bin/env bash
# Installs Debian's redis-server, project-locally and idempotently, for the
# approval replay store's tests (runtime/src/stores/redis.rs; issue 18):
#   target/adapters/redis/            (under $CARGO_TARGET_DIR if set)
#     usr/bin/redis-server, usr/bin/redis-cli     redis-server + redis-tools (bookworm, pinned)
#     usr/lib/x86_64-linux-gnu/                   libjemalloc2, liblzf1 (not on a base Debian 12;
#                                                 libc6, libssl3, libsystemd0, libatomic1 are)
#     bin/redis-server, bin/redis-cli             wrappers that find those libraries
#                                                 (LD_LIBRARY_PATH), `exec` the real binary
# `apt-get download` + `dpkg-deb -x`: nothing is installed system-wide, no
# maintainer script runs, no service starts. A stamp file records the pinned
# versions; a second run with nothing changed is a no-op. Root is needed only
# to refresh missing apt lists.
#
# Prints, as its last line on stdout, the path of the redis-server to run
# (the tests take it from $GAIT_REDIS_SERVER, or look in this folder).
#
# The pins follow Debian's security archive for bookworm: when it publishes a
# newer redis, `apt-get download` of the old pin fails; update the pins here
# (`apt-cache policy redis-server redis-tools`). Elsewhere (an Ubuntu CI
# runner), GAIT_REDIS_UNPINNED=1 takes the same packages at the versions apt
# offers (said loudly; the stamp records it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
DIR="$TARGET/adapters/redis"
PINS=(
  "redis-server=5:7.0.15-1~deb12u10"
  "redis-tools=5:7.0.15-1~deb12u10"
  "libjemalloc2=5.3.0-1"
  "liblzf1=3.6-3"
)
LIBDIR="usr/lib/x86_64-linux-gnu"
want="${PINS[*]}"
if [ "${GAIT_REDIS_UNPINNED:-}" = "1" ]; then
  PINS=("${PINS[@]%%=*}")
  want="unpinned: ${PINS[*]}"
fi

say() { echo "setup_redis: $*" >&2; }

runs() { # $1: the install folder; the wrapper answers --version with the pinned server
  local pattern='^Redis server v=7\.0\.15 '
  [ "${GAIT_REDIS_UNPINNED:-}" = "1" ] && pattern='^Redis server v=([7-9]|6\.2)'
  "$1/bin/redis-server" --version 2>/dev/null | grep -Eq "$pattern"
}

if [ -f "$DIR/.gait-stamp" ] && [ "$(cat "$DIR/.gait-stamp")" = "$want" ] && runs "$DIR"; then
  say "redis up to date in $DIR"
  echo "$DIR/bin/redis-server"
  exit 0
fi

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) say "only linux x86_64 is supported (Debian amd64 packages)"; exit 1 ;;
esac
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
  || { say "apt-get and dpkg-deb are needed (redis-server comes from Debian's packages)"; exit 1; }

debs="$(mktemp -d)"
# A folder of this run's own: two runs on one target folder (several
# checkouts sharing CARGO_TARGET_DIR) must not unpack into each other's.
mkdir -p "$(dirname "$DIR")"
new="$(mktemp -d "$DIR.tmp.XXXXXX")"
trap 'rm -rf "$debs" "$new"' EXIT
chmod 755 "$debs" # apt-get download drops privileges to _apt when root
if ! (cd "$debs" && apt-get download -qq "${PINS[@]}" >/dev/null 2>&1); then
  # The package lists may be missing or stale on a fresh machine.
  if [ "$(id -u)" -eq 0 ]; then apt-get update -qq >/dev/null 2>&1 || true; fi
  if ! (cd "$debs" && apt-get download -qq "${PINS[@]}"); then
    say "cannot download the pinned packages (${PINS[*]})."
    say "If Debian published a newer redis, update the pins in $0; apt-cache policy says:"
    apt-cache policy redis-server redis-tools libjemalloc2 liblzf1 >&2 || true
    exit 1
  fi
fi

mkdir -p "$new/bin"
for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$new"; done
for tool in redis-server redis-cli; do
  cat > "$new/bin/$tool" <<WRAP
#!/bin/sh
# Debian's $tool with its libraries from this folder (scripts/setup_redis.sh).
d="\$(cd "\$(dirname "\$0")/.." && pwd)"
LD_LIBRARY_PATH="\$d/$LIBDIR\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "\$d/usr/bin/$tool" "\$@"
WRAP
  chmod 755 "$new/bin/$tool"
done

# Every library the server links must be found: the base system's or ours.
missing="$(LD_LIBRARY_PATH="$new/$LIBDIR" ldd "$new/usr/bin/redis-check-rdb" | grep 'not found' || true)"
if [ -n "$missing" ]; then
  say "redis-server needs libraries this system lacks (add their packages to PINS):"
  echo "$missing" >&2
  exit 1
fi
runs "$new" || { say "the unpacked redis-server does not run"; "$new/bin/redis-server" --version >&2 || true; exit 1; }

[ "${GAIT_REDIS_UNPINNED:-}" = "1" ] && say "WARNING: GAIT_REDIS_UNPINNED=1: installed the versions apt offered, not the pins"
echo "$want" > "$new/.gait-stamp"
chmod 755 "$new"
# Replace the old install; when another run put its own in place meanwhile
# (mv -T refuses a non-empty folder), keep that one if it is as wanted.
rm -rf "$DIR"
if ! mv -T "$new" "$DIR" 2>/dev/null; then
  [ "$(cat "$DIR/.gait-stamp" 2>/dev/null)" = "$want" ] && runs "$DIR" ||
    { say "cannot install into $DIR (another run is writing it?)"; exit 1; }
fi
say "installed $("$DIR/bin/redis-server" --version) into $DIR"
echo "$DIR/bin/redis-server"
