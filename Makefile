# askern — the one front door. `make run` and `make test` set up a fresh Debian machine first.
#
#   make / make kernel   build/askern.elf            make iso     build/askern.iso (GRUB)
#   make run             boot in QEMU, serial on this terminal (quit: Ctrl-A X)
#   make test            host unit tests + in-kernel self-tests under QEMU (vitest)
#   make bench           benchmarks (3584 MiB) under -icount shift=0 -> table + build/bench.json
#   make replay TRACE=f  replay a heap trace through our heap and AssemblyScript's TLSF (-icount)
#   make record CMD="cmd" OUT=f.trace.gz  a program's malloc calls as a heap trace (docs/traces.md)
#   make compare [TRACE=f]  the traces through askern's heap and kmalloc, glibc, jemalloc,
#                        mimalloc and the TLSF, natively (valgrind counts the instructions)
#   make profile BENCH=n  a benchmark's instructions by function (QEMU's translation log)
#   make sweep           the PMM/VMM/heap/slab benchmarks at 16, 128, 1024, 3584 MiB (-icount)
#   make report          build/report/index.html: charts of bench, compare, sweep and physmap
#   make debug           QEMU halted with its gdb stub + gdb attached with symbols
#   make release         build/release/askern.elf and .iso: no self-tests, no benchmarks
#   make typecheck       tsc --noEmit over scripts/ and test/ (part of make test)
#   make clean
#
# Variables: MEM=<MiB> (default 128), CPUS=<n> (QEMU -smp, default 1), APPEND="kernel command line" (run/debug), V=1 (show every
# command), RELEASE=1 (any target, on the release build).
# Each target installs only what it needs first (scripts/setup.sh kernel|debug|compare|test).

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DELETE_ON_ERROR:
.SUFFIXES:
MAKEFLAGS += --no-builtin-rules

# One short line per step; V=1 shows every command in full.
V ?= 0
ifeq ($(V),1)
Q :=
else
Q := @
endif
# a tool's summary line (stdout) only with V=1; its errors (stderr) always
QUIET_OUT := $(if $(filter 1,$(V)),,>/dev/null)

# RELEASE=1: the kernel without its self-tests and benchmarks (the entry is kernel/main.ts
# alone), in build/release. Otherwise the entry is kernel/all.ts: the kernel with all of them.
RELEASE ?= 0
RELEASE_BUILD := build/release
ifeq ($(RELEASE),1)
BUILD ?= $(RELEASE_BUILD)
KERNEL_ENTRY := kernel/main.ts
else
BUILD ?= build
KERNEL_ENTRY := kernel/all.ts
endif
ELF := $(BUILD)/askern.elf
ISO := $(BUILD)/askern.iso
BOOT_ELF := $(BUILD)/askern.boot.elf
MEM ?= 128
CPUS ?= 1
APPEND ?=
TSX := node_modules/.bin/tsx

# The AssemblyScript static data region (docs/memory-layout.md). asc wants --memoryBase in
# decimal (a hex value is silently read as 0), the linker in hex: keep the two equal.
ASDATA_BASE     := 0xC0400000
ASDATA_BASE_DEC := 3225419776
ASDATA_SIZE     ?= 0x100000
# The asconfig.json target, and extra flags for scripts/check-wasm.ts: the TLSF benchmark
# variant (below) overrides both, and the least count of lines the cold rewrite must mark
# (wasm2c_cold), which it sets to 0: its build keeps no names, so there are no *Slow to find.
ASC_TARGET      ?= kernel
CHECK_FLAGS     ?=
KERNEL_COLD_MIN ?= 12
# The TLSF benchmark variant: the same kernel built with AssemblyScript's own TLSF allocator
# (--runtime minimal, no --debug so its DEBUG asserts are out), which grows its heap with
# memory.grow inside a 96 MiB data region. `make bench` and `make replay` compare it with ours.
TLSF_BUILD := $(BUILD)/tlsf
TLSF_ELF := $(TLSF_BUILD)/askern.elf
TLSF_ASDATA_SIZE := 0x6000000
# The heap traces `make bench`, `make compare` and the report replay (TRACES=... to choose others):
# the generated ones, and the real programs' (docs/traces.md), shipped compressed and unpacked
# into $(BUILD)/traces
REAL_TRACES := $(patsubst test/traces/real/%.trace.gz,$(BUILD)/traces/%.trace,$(sort $(wildcard test/traces/real/*.trace.gz)))
TRACES ?= $(sort $(wildcard test/traces/*.trace)) $(REAL_TRACES)

AS_SOURCES := $(shell find kernel -name '*.ts' 2>/dev/null)
CFLAGS := --target=i386-pc-none-elf -m32 -march=i686 -O2 -g -std=c11 \
	-ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-builtin-printf \
	-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -fno-delete-null-pointer-checks \
	-mno-sse -mno-mmx -mno-80387 -nostdlibinc -Iboot/include -I$(BUILD)/include -I$(BUILD) \
	-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1 -DWASM_RT_SKIP_SIGNAL_RECOVERY=1 \
	-Wall -Wno-unused-function -Wno-unused-variable -Wno-unused-but-set-variable
LDFLAGS := -m elf_i386 -T linker.ld -nostdlib --no-pie \
	--defsym=ASDATA_BASE=$(ASDATA_BASE) --defsym=ASDATA_SIZE=$(ASDATA_SIZE)
NATIVE_OBJS := $(BUILD)/entry.o $(BUILD)/ap-start.o $(BUILD)/interrupts.o $(BUILD)/switch.o $(BUILD)/runtime.o $(BUILD)/wasm-rt-basics.o \
	$(BUILD)/arch.o $(BUILD)/libc.o $(BUILD)/kernel.o
# The C twins of the hot paths (twins/, docs/fidelity.md): in the kernel that runs the benchmarks,
# not in the release build (no benchmarks) nor the TLSF variant (whose fidelity benchmark does
# nothing: no twin is imported)
ifeq ($(RELEASE),1)
TWINS ?= 0
else
TWINS ?= 1
endif
CFLAGS += -DASKERN_TWINS=$(TWINS)
ifeq ($(TWINS),1)
NATIVE_OBJS += $(patsubst twins/%.c,$(BUILD)/twins/%.o,$(wildcard twins/*.c))
endif

.PHONY: all kernel iso run test typecheck bench debug clean release deps deps-debug deps-compare deps-test host-wasm test-artifacts replay tlsf-kernel $(TLSF_ELF) user-programs compare compare-programs sweep scaling report mutate record real-traces profile
all: kernel
kernel: $(ELF)
iso: $(ISO)

# make release: the kernel without its self-tests and benchmarks, in build/release
release:
	$(Q)$(MAKE) --no-print-directory RELEASE=1 kernel iso
	@echo "  SIZE    $(RELEASE_BUILD)/askern.elf $$(stat -c %s $(RELEASE_BUILD)/askern.elf) B, .text+.rodata+.data $$(size -A $(RELEASE_BUILD)/askern.elf | awk '/^\.(text|rodata|data) / {s+=$$2} END {print s}') B; askern.iso $$(stat -c %s $(RELEASE_BUILD)/askern.iso) B"

# What each target needs installed (scripts/setup.sh says what it installs): the kernel's tools
# for building and booting, gdb for debug, valgrind/jemalloc/mimalloc for compare, and all of
# them plus chromium for test.
deps:
	@scripts/setup.sh kernel
deps-debug:
	@scripts/setup.sh debug
deps-compare:
	@scripts/setup.sh compare
deps-test:
	@scripts/setup.sh test

# asc, failing on any diagnostic (error, warning or info): the build stays at zero.
# $(1): the arguments, $(2): the output (removed when asc says anything)
define asc_strict
	$(Q)node_modules/.bin/asc $(1) 2> $(2).diagnostics || { cat $(2).diagnostics >&2; rm -f $(2); exit 1; }
	@if grep -q 'AS[0-9][0-9][0-9]' $(2).diagnostics; then cat $(2).diagnostics >&2; rm -f $(2); \
	  echo "asc: the build allows no diagnostics; fix the ones above" >&2; exit 1; fi; rm -f $(2).diagnostics
endef

# --- AssemblyScript -> wasm (checked) -> C ---------------------------------------------------
$(BUILD)/kernel.wasm: $(AS_SOURCES) asconfig.json Makefile | deps
	@mkdir -p $(BUILD)
	@echo "  ASC     $@"
	$(call asc_strict,$(KERNEL_ENTRY) --config asconfig.json --target $(ASC_TARGET) --memoryBase $(ASDATA_BASE_DEC) -o $@ -t $(BUILD)/kernel.wat,$@)
	@echo "  CHECK   $@"
	$(Q)$(TSX) scripts/check-wasm.ts $@ $(BUILD)/kernel.wat $(ASDATA_BASE) $(ASDATA_SIZE) $(CHECK_FLAGS) $(QUIET_OUT)

# wasm2c for a module whose memory base is 0 (boot/runtime.c, scripts/compare/runtime.c), so a
# wasm address is the pointer: loads and stores need not fetch mem->data from the instance each
# time; and without the empty asm after every load, which kept clang from folding a load into
# the instruction that uses it (docs/runtime.md has the figures for both). $(1): the .wasm, $(2): the module name, $(3): the .c
define wasm2c_base0
	@echo "  WASM2C  $(3)"
	$(Q)wasm2c $(1) -n $(2) -o $(3) || { rm -f $(3) $(3:.c=.h); echo "wasm2c failed: wasm2c $(1) -n $(2) -o $(3)" >&2; exit 1; }
	@test "$$(grep -c '&mem->data\[addr\]' $(3))" = 2 || { rm -f $(3); echo "wasm2c's load/store helpers changed: update the base-0 rewrite in the Makefile" >&2; exit 1; }
	$(Q)sed -i 's/&mem->data\[addr\]/(u8*)(uintptr_t)addr/' $(3)
	@test "$$(grep -c 'wasm_asm("" ::"r"(result));' $(3))" = 2 || { rm -f $(3); echo "wasm2c's load helpers changed: update the load-barrier rewrite in the Makefile" >&2; exit 1; }
	$(Q)sed -i 's/wasm_asm("" ::"r"(result));/\/* (load barrier removed: docs\/runtime.md) *\//' $(3)
endef

# A module with one instance (the kernel: boot/runtime.c askern_kernel_instance): its wasm globals are read and written at fixed addresses
# instead of through the instance pointer every function is given, which the functions then no
# longer use, so clang drops it from the internal ones and i386 has one register more
# (docs/runtime.md has the figures; on x86-64, in make compare's program, it changed nothing
# measurable, so the host build does without). The parameter is renamed and `instance` becomes the one
# instance's address. $(1): the .c, $(2): the module name, $(3): the instance's C name
define wasm2c_one_instance
	@test "$$(grep -c 'Z_$(2)_instance_t \?\* \?instance\b' $(1))" -gt 10 || { rm -f $(1); echo "wasm2c's functions no longer take 'Z_$(2)_instance_t* instance': update the one-instance rewrite in the Makefile" >&2; exit 1; }
	$(Q)sed -i -e 's/Z_$(2)_instance_t *\* *instance\b/Z_$(2)_instance_t* instance_passed/g' \
	  -e 's|^#include "$(2).h"$$|#include "$(2).h"\nextern Z_$(2)_instance_t $(3);   /* (one instance: Makefile) */\n#define instance (\&$(3))|' $(1)
	@test "$$(grep -c '^#define instance (&$(3))$$' $(1))" = 1 || { rm -f $(1); echo "$(1) does not include $(2).h as expected: update the one-instance rewrite in the Makefile" >&2; exit 1; }
endef

# A function named *Slow is a fast path's slow half (slab/cache.ts allocSlow, ...): kept out of
# line and cold, so that clang neither inlines it into its one caller (whose fast path would
# then save and restore the registers the slow half needs) nor lays its call out on the fast
# path (docs/runtime.md has the figures). $(1): the .c, $(2): how many there must be at least
define wasm2c_cold
	$(Q)sed -i -E 's/^static ([a-z0-9]+) (w2c_[A-Za-z0-9_]+Slow)\(/static __attribute__((noinline, cold)) \1 \2(/' $(1)
	@test "$$(grep -c '^static __attribute__((noinline, cold))' $(1))" -ge $(2) || { rm -f $(1); echo "$(1): fewer than $(2) functions named *Slow: update the cold rewrite in the Makefile" >&2; exit 1; }
endef

$(BUILD)/kernel.c: $(BUILD)/kernel.wasm
	$(call wasm2c_base0,$<,kernel,$@)
	$(call wasm2c_cold,$@,$(KERNEL_COLD_MIN))
	$(call wasm2c_one_instance,$@,kernel,askern_kernel_instance)
$(BUILD)/kernel.h: $(BUILD)/kernel.c

# wasm-rt.h comes from Debian's wabt; copied so -nostdlibinc can still reach it
$(BUILD)/include/wasm-rt.h: /usr/include/wasm-rt.h
	@mkdir -p $(@D)
	$(Q)cp $< $@

# --- native objects ---------------------------------------------------------------------------
$(BUILD)/kernel.o: $(BUILD)/kernel.c $(BUILD)/include/wasm-rt.h $(wildcard boot/include/*.h) boot/arch-inline.h
	@echo "  CC      $@"
	$(Q)clang $(CFLAGS) -include boot/arch-inline.h -c $< -o $@
$(BUILD)/%.o: boot/%.c $(BUILD)/kernel.h $(BUILD)/include/wasm-rt.h $(wildcard boot/include/*.h) | deps
	@echo "  CC      $@"
	$(Q)clang $(CFLAGS) -c $< -o $@
$(BUILD)/twins/%.o: twins/%.c twins/twins.h $(BUILD)/kernel.h $(BUILD)/include/wasm-rt.h boot/arch-inline.h | deps
	@mkdir -p $(@D)
	@echo "  CC      $@ (C twin)"
	$(Q)clang $(CFLAGS) -include boot/arch-inline.h -c $< -o $@
$(BUILD)/%.o: boot/%.asm | deps
	@mkdir -p $(BUILD)
	@echo "  NASM    $@"
	$(Q)nasm -f elf32 -g -F dwarf $< -o $@

# --- two-pass link: the second embeds the function names of the first ------------------------
$(BUILD)/ksyms-empty.bin: scripts/gensyms.ts | deps
	@mkdir -p $(BUILD)
	$(Q)$(TSX) scripts/gensyms.ts --empty $@ $(QUIET_OUT)
$(BUILD)/ksyms-empty.o: boot/ksyms.asm $(BUILD)/ksyms-empty.bin
	$(Q)nasm -f elf32 -DKSYMS_FILE='"$(BUILD)/ksyms-empty.bin"' $< -o $@
$(BUILD)/askern.pass1.elf: $(NATIVE_OBJS) $(BUILD)/ksyms-empty.o linker.ld
	@echo "  LD      $@"
	$(Q)ld.lld $(LDFLAGS) $(NATIVE_OBJS) $(BUILD)/ksyms-empty.o -o $@
$(BUILD)/ksyms.bin: $(BUILD)/askern.pass1.elf scripts/gensyms.ts
	@echo "  KSYMS   $@"
	$(Q)$(TSX) scripts/gensyms.ts $< $@ $(QUIET_OUT)
$(BUILD)/ksyms.o: boot/ksyms.asm $(BUILD)/ksyms.bin
	$(Q)nasm -f elf32 -DKSYMS_FILE='"$(BUILD)/ksyms.bin"' $< -o $@
$(ELF): $(NATIVE_OBJS) $(BUILD)/ksyms.o linker.ld
	@echo "  LD      $@"
	$(Q)ld.lld $(LDFLAGS) $(NATIVE_OBJS) $(BUILD)/ksyms.o -o $@
	$(Q)$(TSX) scripts/gensyms.ts --verify $(BUILD)/askern.pass1.elf $@
	$(Q)grub-file --is-x86-multiboot $@ || { echo "$@ is not a multiboot kernel" >&2; exit 1; }

# The kernel that goes on the ISO: the same link without the debug sections (2.3 MB of them),
# which GRUB would otherwise read into memory: at 8 MiB of RAM it then runs out (gdb uses $(ELF)).
$(BOOT_ELF): $(NATIVE_OBJS) $(BUILD)/ksyms.o linker.ld
	@echo "  LD      $@"
	$(Q)ld.lld $(LDFLAGS) --strip-debug $(NATIVE_OBJS) $(BUILD)/ksyms.o -o $@

# --- user programs: freestanding C, one ELF32 i386 executable each (user/, docs/processes.md) --
# Booted as multiboot modules (QEMU -initrd, GRUB module lines) and run by name (execve, run,
# init=NAME). No libc: user/lib is the system-call library.
USER_PROGRAMS := $(patsubst user/%.c,$(BUILD)/user/%,$(wildcard user/*.c)) $(BUILD)/user/truncated
USER_LIB := $(BUILD)/user/lib/start.o $(BUILD)/user/lib/lib.o
USER_CFLAGS := --target=i386-pc-none-elf -m32 -march=i686 -O2 -g -std=c11 -ffreestanding -fno-builtin \
	-fno-pic -fno-pie -fno-stack-protector -nostdlibinc -mno-sse -mno-mmx -mno-80387 -Wall -Werror
$(BUILD)/user/lib/%.o: user/lib/%.c user/lib/askern.h | deps
	@mkdir -p $(@D)
	@echo "  CC      $@ (user)"
	$(Q)clang $(USER_CFLAGS) -c $< -o $@
$(BUILD)/user/%: user/%.c user/lib/askern.h $(USER_LIB) user/user.ld | deps
	@mkdir -p $(@D)
	@echo "  CC+LD   $@ (user program)"
	$(Q)clang $(USER_CFLAGS) -c $< -o $@.o
	$(Q)ld.lld -m elf_i386 -T user/user.ld -nostdlib --no-pie -z max-page-size=4096 $(USER_LIB) $@.o -o $@
	$(Q)rm -f $@.o
# a bad executable on purpose, for execve's error test (user/execer.c): hello cut inside its headers
$(BUILD)/user/truncated: $(BUILD)/user/hello
	$(Q)head -c 100 $< > $@
user-programs: $(USER_PROGRAMS)
.SECONDARY: $(USER_LIB)

# --- the TLSF benchmark variant: this Makefile again, in build/tlsf ----------------------------
tlsf-kernel: $(TLSF_ELF)
$(TLSF_ELF): | deps
	@echo "  MAKE    $@ (AssemblyScript's TLSF, for comparison)"
	$(Q)$(MAKE) --no-print-directory BUILD=$(TLSF_BUILD) ASC_TARGET=kernel-tlsf ASDATA_SIZE=$(TLSF_ASDATA_SIZE) TWINS=0 \
	  CHECK_FLAGS=--allow-tlsf KERNEL_COLD_MIN=0 $(TLSF_ELF)

# --- the real programs' traces, unpacked -----------------------------------------------------
$(BUILD)/traces/%.trace: test/traces/real/%.trace.gz
	@mkdir -p $(@D)
	$(Q)gzip -dc $< > $@
real-traces: $(REAL_TRACES)

# --- GRUB ISO -------------------------------------------------------------------------------
$(ISO): $(BOOT_ELF) scripts/mkiso.ts $(USER_PROGRAMS)
	@echo "  ISO     $@"
	$(Q)$(TSX) scripts/mkiso.ts $(BOOT_ELF) $@ "" $(addprefix --module ,$(USER_PROGRAMS))

# --- host builds of the hardware-independent modules (test/support/entry) -------------------
HOST_ENTRIES := $(wildcard test/support/entry/*.ts)
HOST_WASM := $(patsubst test/support/entry/%.ts,$(BUILD)/host/%.wasm,$(HOST_ENTRIES))
$(BUILD)/host/%.wasm: test/support/entry/%.ts $(wildcard test/support/host-lib/*.ts) $(AS_SOURCES) | deps
	@mkdir -p $(@D)
	@echo "  ASC     $@ (host)"
	$(call asc_strict,$< --runtime stub -O2 --debug --disable simd -o $@,$@)
host-wasm: $(HOST_WASM)

# --- make compare: the native comparison program (scripts/compare/, docs/compare.md) ----------
# askern's heap, slab caches and trace decoder, and AssemblyScript's TLSF, through asc + wasm2c +
# clang as the kernel is built (but for the host), linked with a replay driver three times: with
# glibc's malloc, with jemalloc and with mimalloc (both of which replace malloc in their program).
COMPARE := $(BUILD)/compare
COMPARE_CFLAGS := -O2 -gdwarf-4 -I$(COMPARE) -Iscripts/compare \
	-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1 -DWASM_RT_SKIP_SIGNAL_RECOVERY=1
# each module's memory base and runtime (the address map is in scripts/compare/runtime.c)
COMPARE_FLAGS_askern := --runtime stub --debug --memoryBase 2147483648
COMPARE_FLAGS_tlsf := --runtime minimal --memoryBase 2684354560
COMPARE_PROGRAMS := $(COMPARE)/compare-main $(COMPARE)/compare-jemalloc $(COMPARE)/compare-mimalloc
COMPARE_COMMON := $(addprefix $(COMPARE)/,driver.o runtime.o wasm-rt-basics.o alloc-wasm.o askern.o tlsf.o)
$(COMPARE)/%.wasm: scripts/compare/%.ts $(AS_SOURCES) | deps-compare
	@mkdir -p $(@D)
	@echo "  ASC     $@ (compare)"
	$(call asc_strict,$< $(COMPARE_FLAGS_$*) -O3 --disable simd --use abort= -o $@,$@)
$(COMPARE)/askern.c: $(COMPARE)/askern.wasm
	$(call wasm2c_base0,$<,askern,$@)
	$(call wasm2c_cold,$@,4)
$(COMPARE)/tlsf.c: $(COMPARE)/tlsf.wasm
	$(call wasm2c_base0,$<,tlsf,$@)
$(COMPARE)/askern.h: $(COMPARE)/askern.c
$(COMPARE)/tlsf.h: $(COMPARE)/tlsf.c
$(COMPARE)/askern.o $(COMPARE)/tlsf.o: $(COMPARE)/%.o: $(COMPARE)/%.c scripts/compare/section.h
	@echo "  CC      $@"
	$(Q)clang $(COMPARE_CFLAGS) $(if $(filter askern,$*),-include scripts/compare/section.h) -w -c $< -o $@
$(COMPARE)/wasm-rt-basics.o: boot/wasm-rt-basics.c
	@echo "  CC      $@"
	@mkdir -p $(@D)
	$(Q)clang $(COMPARE_CFLAGS) -Wall -c $< -o $@
$(COMPARE)/%.o: scripts/compare/%.c scripts/compare/compare.h scripts/compare/alloc-malloc.h $(COMPARE)/askern.h $(COMPARE)/tlsf.h
	@echo "  CC      $@"
	$(Q)clang $(COMPARE_CFLAGS) -Wall -c $< -o $@
$(COMPARE)/compare-main: $(COMPARE_COMMON) $(COMPARE)/alloc-glibc.o
	$(Q)clang -o $@ $^ -lm
$(COMPARE)/compare-jemalloc: $(COMPARE_COMMON) $(COMPARE)/alloc-jemalloc.o
	$(Q)clang -o $@ $^ -ljemalloc -lm
$(COMPARE)/compare-mimalloc: $(COMPARE_COMMON) $(COMPARE)/alloc-mimalloc.o
	$(Q)clang -o $@ $^ -lmimalloc -lm
compare-programs: $(COMPARE_PROGRAMS)

# make compare [TRACE=file]: the shipped traces (and TRACE) through all six allocators
compare: $(COMPARE_PROGRAMS) $(REAL_TRACES) | deps-compare
	$(Q)$(TSX) scripts/compare.ts --programs $(COMPARE) --out $(BUILD)/compare.json $(addprefix --trace ,$(TRACES) $(TRACE))

# make record CMD="command" OUT=file.trace.gz [MAX_OPS=n] [PROCESS=largest|first]: a program's heap
# calls, recorded by a preloaded library and turned into a trace (docs/traces.md)
RECORD_LIB := $(BUILD)/record/librecord.so
$(RECORD_LIB): scripts/record/record.c | deps
	@mkdir -p $(@D)
	@echo "  CC      $@ (host, preloadable)"
	$(Q)clang -O2 -g -shared -fPIC -Wall -Werror -o $@ $<
record: export RECORD_CMD = $(CMD)
record: $(RECORD_LIB) | deps
	@test -n "$(CMD)" -a -n "$(OUT)" || { echo 'usage: make record CMD="command" OUT=file.trace.gz [MAX_OPS=n] [PROCESS=largest|first] (docs/traces.md)' >&2; exit 2; }
	$(Q)$(TSX) scripts/record.ts --lib $(abspath $(RECORD_LIB)) --out $(OUT) --max-ops "$(MAX_OPS)" --process $(or $(PROCESS),largest)

# make profile BENCH=name [PER=n] [MEM=MiB]: where a benchmark's instructions go, by function: two
# boots under QEMU's translation log, the benchmark's less a baseline's (docs/testing.md)
profile: $(ELF) | deps
	@test -n "$(BENCH)" || { echo "usage: make profile BENCH=name [PER=operations] [MEM=MiB]" >&2; exit 2; }
	$(Q)$(TSX) scripts/profile.ts --kernel $(ELF) --bench $(BENCH) --mem $(if $(filter command line,$(origin MEM)),$(MEM),3584) --per $(or $(PER),1)

# make scaling: the stress's and the per-CPU caches' throughput at 1, 2 and 4 CPUs under MTTCG,
# one boot after another, and the ratios to one CPU (docs/smp.md "The stress on every CPU, and scaling")
scaling: $(ELF) $(USER_PROGRAMS) | deps
	$(Q)$(TSX) scripts/scaling.ts --kernel $(ELF) --out $(BUILD)/scaling.json

# make sweep: the PMM, VMM, heap and slab benchmarks at 16, 128, 1024 and 3584 MiB (-icount)
sweep: $(ELF) | deps
	$(Q)$(TSX) scripts/sweep.ts --kernel $(ELF) --out $(BUILD)/sweep.json

# make mutate: the deliberate bugs of scripts/mutate.ts, one at a time, and the kill rate (a few
# minutes; not part of make test). ONLY=name,prefix* picks some.
mutate: | deps-test
	$(Q)$(TSX) scripts/mutate.ts $(if $(ONLY),--only $(ONLY)) --out $(BUILD)/mutate.json

# make report: build/report/index.html from make bench, make compare and make sweep (each run
# first if its JSON is missing) and a physmap boot
$(BUILD)/bench.json: | $(ELF) $(TLSF_ELF)
	$(Q)$(MAKE) --no-print-directory bench
$(BUILD)/compare.json: | $(COMPARE_PROGRAMS)
	$(Q)$(MAKE) --no-print-directory compare
$(BUILD)/sweep.json: | $(ELF)
	$(Q)$(MAKE) --no-print-directory sweep
report: $(ELF) $(BUILD)/bench.json $(BUILD)/compare.json $(BUILD)/sweep.json | deps-compare
	$(Q)$(TSX) scripts/report.ts --out $(BUILD)/report --bench $(BUILD)/bench.json --compare $(BUILD)/compare.json \
	  --sweep $(BUILD)/sweep.json --kernel $(ELF)

# everything the vitest suites need (test/support/global-setup.ts calls this)
test-artifacts: $(ELF) $(BOOT_ELF) $(ISO) $(HOST_WASM) $(COMPARE_PROGRAMS) $(USER_PROGRAMS) $(RECORD_LIB)
	$(Q)$(MAKE) --no-print-directory RELEASE=1 kernel

# --- the verbs --------------------------------------------------------------------------------
run: $(ELF) $(USER_PROGRAMS) | deps
	$(Q)$(TSX) scripts/run.ts --kernel $(ELF) --mem $(MEM) --cpus $(CPUS) --append "$(APPEND)" --interactive

# tsc over the TypeScript that runs on node (tsconfig.json): scripts, tests, configs
typecheck: | deps
	@echo "  TSC     scripts/ test/ (--noEmit)"
	$(Q)node_modules/.bin/tsc -p tsconfig.json

test: | deps-test
	$(Q)$(MAKE) --no-print-directory test-artifacts typecheck
	$(Q)node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json=$(BUILD)/vitest.json || \
	  { $(TSX) scripts/test-summary.ts $(BUILD)/vitest.json || true; exit 1; }
	@$(TSX) scripts/test-summary.ts $(BUILD)/vitest.json

bench: $(ELF) $(TLSF_ELF) $(USER_PROGRAMS) $(REAL_TRACES) | deps
	$(Q)$(TSX) scripts/bench.ts --kernel $(ELF) --tlsf-kernel $(TLSF_ELF) --out $(BUILD)/bench.json $(addprefix --trace ,$(TRACES))

# make replay TRACE=file: one trace through our heap and through the TLSF variant (-icount)
replay: $(ELF) $(TLSF_ELF) | deps
	@test -n "$(TRACE)" || { echo "usage: make replay TRACE=file (the format: docs/heap.md, Traces)" >&2; exit 2; }
	$(Q)$(TSX) scripts/bench.ts --replay --kernel $(ELF) --tlsf-kernel $(TLSF_ELF) --trace $(TRACE)

debug: $(ELF) $(USER_PROGRAMS) | deps-debug
	$(Q)$(TSX) scripts/run.ts --kernel $(ELF) --mem $(MEM) --cpus $(CPUS) --append "$(APPEND)" --gdb

clean:
	$(Q)rm -rf $(BUILD)
