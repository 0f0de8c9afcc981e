#!/usr/bin/env bash
# Installs what askern needs on a Debian machine, saying what it installs; does nothing when
# everything is there. Called by every Makefile target that builds or boots.
# (A shell script, not TypeScript: it runs before node_modules exist.)
set -euo pipefail
cd "$(dirname "$0")/.."

# tool or file -> Debian package
declare -A NEED=(
  [nasm]=nasm [qemu-system-i386]=qemu-system-x86 [grub-mkrescue]=grub-common
  [/usr/lib/grub/i386-pc/modinfo.sh]=grub-pc-bin [xorriso]=xorriso [mformat]=mtools
  [wasm2c]=wabt [/usr/include/wasm-rt.h]=wabt [clang]=clang [ld.lld]=lld [gdb]=gdb
  [node]=nodejs [npm]=npm
  [valgrind]=valgrind [/usr/include/jemalloc/jemalloc.h]=libjemalloc-dev [/usr/include/mimalloc.h]=libmimalloc-dev
  [chromium]=chromium
)
missing=()
for what in "${!NEED[@]}"; do
  if [[ $what == /* ]]; then [[ -e $what ]] || missing+=("${NEED[$what]}")
  else command -v "$what" >/dev/null 2>&1 || missing+=("${NEED[$what]}"); fi
done
if ((${#missing[@]})); then
  packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: $packages" >&2
    echo "setup: run as root:  apt-get update && apt-get install -y $packages" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: $packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $packages >/dev/null
  echo "setup: Debian packages installed"
fi

# npm packages, pinned by package-lock.json; reinstalled when the lock file changes
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm packages (npm ci)"
  if ! npm ci --no-audit --no-fund --loglevel=error 2>/tmp/askern-npm-ci.log; then
    # npm 11 here leaves other platforms' optional packages (rollup's) out of the lock file and
    # then refuses `npm ci`; `npm install --no-save` installs the same locked versions
    echo "setup: npm ci refused the lock file ($(grep -m1 -o 'Missing: [^ ]*' /tmp/askern-npm-ci.log || echo 'see /tmp/askern-npm-ci.log'));"
    echo "setup: installing the locked versions with npm install --no-save"
    npm install --no-audit --no-fund --loglevel=error --no-save
  fi
fi
