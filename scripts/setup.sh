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

# make test runs test=all at -smp 2 under -icount, where QEMU 7.2 (Debian 12's) stops giving a
# CPU instructions (docs/smp.md, "Known problems"); QEMU 10 runs it. On Debian 12 it comes from
# Debian's bookworm-backports.
qemu_major() { qemu-system-i386 --version | sed -n 's/^QEMU emulator version \([0-9]*\).*/\1/p'; }
if [[ $profile == test ]] && (( $(qemu_major) < 10 )); then
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if [[ $codename != bookworm ]]; then
    echo "setup: make test needs QEMU 10 or newer (this is $(qemu_major)); install it from your distribution" >&2
    exit 1
  fi
  list=/etc/apt/sources.list.d/askern-bookworm-backports.list
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: make test needs QEMU 10 or newer (this is $(qemu_major)), from Debian's bookworm-backports" >&2
    echo "setup: run as root:  echo 'deb http://deb.debian.org/debian bookworm-backports main' > $list && apt-get update && apt-get install -y -t bookworm-backports qemu-system-x86" >&2
    exit 1
  fi
  echo "setup: installing QEMU 10 from Debian's bookworm-backports (this is QEMU $(qemu_major)): qemu-system-x86"
  echo "deb http://deb.debian.org/debian bookworm-backports main" > "$list"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -t bookworm-backports qemu-system-x86 >/dev/null
  echo "setup: $(qemu-system-i386 --version | head -1)"
fi

# npm packages, pinned by package-lock.json; reinstalled when the lock file changes
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi
