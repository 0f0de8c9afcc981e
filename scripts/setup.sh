#!/usr/bin/env bash
# Installs what a Makefile target needs on a Debian machine, saying what it installs; does nothing
# when everything is there. (A shell script, not TypeScript: it runs before node_modules exist.)
#
#   scripts/setup.sh kernel    build and boot: make, make run, make iso, make bench, make sweep
#   scripts/setup.sh debug     the kernel's needs and gdb: make debug
#   scripts/setup.sh compare   the kernel's needs, valgrind, jemalloc and mimalloc: make compare, make report
#   scripts/setup.sh test      all of the above, chromium (the report test) and tmux (make run's test): make test
set -euo pipefail
cd "$(dirname "$0")/.."

# tool or file -> Debian package, by what needs it
declare -A KERNEL=(
  [nasm]=nasm [qemu-system-i386]=qemu-system-x86 [grub-mkrescue]=grub-common
  [/usr/lib/grub/i386-pc/modinfo.sh]=grub-pc-bin [xorriso]=xorriso [mformat]=mtools
  [wasm2c]=wabt [/usr/include/wasm-rt.h]=wabt [clang]=clang [ld.lld]=lld
  [node]=nodejs [npm]=npm
)
declare -A DEBUG=([gdb]=gdb)
declare -A COMPARE=(
  [valgrind]=valgrind [/usr/include/jemalloc/jemalloc.h]=libjemalloc-dev [/usr/include/mimalloc.h]=libmimalloc-dev
)
declare -A TEST=([chromium]=chromium [tmux]=tmux)

profile=${1:-kernel}
case $profile in
  kernel) sets=(KERNEL) ;;
  debug) sets=(KERNEL DEBUG) ;;
  compare) sets=(KERNEL COMPARE) ;;
  test) sets=(KERNEL DEBUG COMPARE TEST) ;;
  *) echo "setup: unknown profile '$profile' (kernel, debug, compare or test)" >&2; exit 2 ;;
esac

missing=()
for set in "${sets[@]}"; do
  declare -n need=$set
  for what in "${!need[@]}"; do
    if [[ $what == /* ]]; then [[ -e $what ]] || missing+=("${need[$what]}")
    else command -v "$what" >/dev/null 2>&1 || missing+=("${need[$what]}"); fi
  done
  unset -n need
done
if ((${#missing[@]})); then
  packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: $packages" >&2
    echo "setup: run as root:  apt-get update && apt-get install -y $packages" >&2
    exit 1
  fi
  echo "setup: installing Debian packages for '$profile': $packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $packages >/dev/null
  echo "setup: Debian packages installed"
fi

# npm packages, pinned by package-lock.json; reinstalled when the lock file changes
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
