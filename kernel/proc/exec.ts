// Loading a program: an ELF32 executable from a multiboot module (named by the module's file
// name: "hello" for `-initrd build/user/hello` or GRUB's `module /boot/hello hello`) becomes a
// process's memory. Nothing is read into memory here: each segment becomes a region whose pages
// are loaded from the module on first touch (proc/memory.ts), the bss reads zeros, and the stack
// gets a guard page below it. The arguments go on the stack when the program first enters ring 3:
//
//   STACK_TOP ->  the strings, NUL-terminated, packed
//                 (padding to 4 bytes)
//                 0                     argv's end
//                 argv[argc-1] ... argv[0]
//        esp ->   argc
//
// A bad executable (elf.ts says why) or an unknown name fails with an error code and changes
// nothing. Thread context.
import { bootModuleCount, bootModuleStart, bootModuleBytes, bootModuleName, bootModuleNameLength } from "../boot/modules";
import { kmalloc, kfree } from "../mm/alloc/kmalloc";
import { RegionKind, RegionError, REGION_READ, REGION_WRITE, REGION_EXEC } from "../mm/core/regions";
import { ElfImage, ELF_IMAGE_BYTES, ElfError, elfRead, elfErrorText, elfSegmentAddress, elfSegmentMemBytes, elfSegmentOffset, elfSegmentFileBytes, elfSegmentFlags, ELF_FLAG_W, ELF_FLAG_X } from "./elf";
import {
  UserMemory, memoryAddRegion, Access,
  PROGRAM_LOW, PROGRAM_HIGH, STACK_TOP, STACK_BOTTOM, STACK_GUARD,
} from "./memory";
import { memorySetBrkStart } from "./memory-calls";
import { Process, processMemory, processSetFirstEntry, processCreate, processDiscard, processStart, processCount, MAX_PROCESSES } from "./process";
import { userFrameNew } from "./user-frame";
import { UserFrame } from "../arch/frame";
import { LogLevel, logBegin } from "../console/log";
import { faultResolve } from "./oom";
import { mutexLock, mutexUnlock } from "../sched/sync";
import { currentThread } from "../sched/scheduler";
import { processLock } from "./process";
import { puts, putBytes, newline } from "../console/console";

/** The most arguments, and the most bytes of argument strings (their NULs included). */
export const ARGS_MAX: u32 = 32;
export const ARGS_BYTES_MAX: u32 = 2048;
/** The errors exec reports (negated errno values). */
export const ENOENT: i32 = 2, E2BIG: i32 = 7, ENOEXEC: i32 = 8, EAGAIN: i32 = 11, ENOMEM: i32 = 12;

// An arguments block (kmalloc'd): +0 count  +4 bytes used  then the strings, NUL-terminated.
const ARGS_HEADER: u32 = 8;
/** Bytes of an arguments block. */
export const ARGS_BLOCK_BYTES: u32 = ARGS_HEADER + ARGS_BYTES_MAX;

/** An empty arguments block, or 0. Thread context. */
export function argsCreate(): usize {
  const block = kmalloc(ARGS_BLOCK_BYTES);
  if (block != 0) { store<u32>(block, 0); store<u32>(block, 0, 4); }
  return block;
}

/** Appends the `length` bytes at `text` as one argument; false when the block is full (E2BIG). Any context. */
export function argsAdd(block: usize, text: usize, length: u32): bool {
  const n = load<u32>(block), used = load<u32>(block, 4);
  if (n >= ARGS_MAX || used + length + 1 > ARGS_BYTES_MAX) return false;
  memory.copy(block + ARGS_HEADER + used, text, length);
  store<u8>(block + ARGS_HEADER + used + length, 0);
  store<u32>(block, n + 1);
  store<u32>(block, used + length + 1, 4);
  return true;
}

/** The accepted module named `name` (`length` bytes): its index, or -1. Any context. */
export function findProgram(name: usize, length: u32): i32 {
  for (let i: u32 = 0; i < bootModuleCount(); i++) {
    const full = bootModuleName(i), fullLength = bootModuleNameLength(i);
    if (full == 0) continue;
    // the first word's last path component
    let end: u32 = 0;
    while (end < fullLength && load<u8>(full + end) != 32) end++;
    let start = end;
    while (start > 0 && load<u8>(full + start - 1) != 47) start--;
    if (end - start != length) continue;
    let same = true;
    for (let j: u32 = 0; j < length && same; j++) same = load<u8>(full + start + j) == load<u8>(name + j);
    if (same) return <i32>i;
  }
  return -1;
}

const image = changetype<ElfImage>(memory.data(<i32>ELF_IMAGE_BYTES, 8));

/**
 * Builds the memory of module `index`'s program in `m` (empty: from memoryCreate): a region per
 * segment, the stack and its guard, the heap's start. Returns the entry point, or -errno
 * (-ENOEXEC with a log line saying why, -ENOMEM); `m` may be partly built then (the caller
 * releases it). Thread context.
 */
export function execBuild(m: UserMemory, index: u32): i64 {
  const file = bootModuleStart(index), bytes = bootModuleBytes(index);
  const error = elfRead(file, bytes, PROGRAM_LOW, PROGRAM_HIGH, image);
  if (error != ElfError.Ok) {
    if (logBegin(LogLevel.Warn, "exec")) {
      puts("module '"); putBytes(bootModuleName(index), bootModuleNameLength(index)); puts("' refused: "); puts(elfErrorText(error)); newline();
    }
    return -ENOEXEC;
  }
  let top: u32 = 0;
  for (let i: u32 = 0; i < image.count; i++) {
    const vaddr = elfSegmentAddress(image, i), flags = elfSegmentFlags(image, i);
    const start = vaddr & ~0xFFF, end = (vaddr + elfSegmentMemBytes(image, i) + 0xFFF) & ~0xFFF;
    let regionFlags = REGION_READ;
    if ((flags & ELF_FLAG_W) != 0) regionFlags |= REGION_WRITE;
    if ((flags & ELF_FLAG_X) != 0) regionFlags |= REGION_EXEC;
    const lead = vaddr & 0xFFF;
    const source = <u32>file + elfSegmentOffset(image, i) - lead;
    const added = memoryAddRegion(m, start, end, regionFlags, (flags & ELF_FLAG_X) != 0 ? RegionKind.Code : RegionKind.Data, source, elfSegmentFileBytes(image, i) + lead);
    if (added != <u32>RegionError.Ok) return -ENOMEM;
    top = max<u32>(top, end);
  }
  if (memoryAddRegion(m, STACK_GUARD, STACK_BOTTOM, 0, RegionKind.Guard, 0, 0) != <u32>RegionError.Ok) return -ENOMEM;
  const stack = memoryAddRegion(m, STACK_BOTTOM, STACK_TOP, REGION_READ | REGION_WRITE, RegionKind.Stack, 0, 0);
  if (stack != <u32>RegionError.Ok) return -ENOMEM;
  memorySetBrkStart(m, top);
  return <i64>image.entry;
}

/**
 * Writes the arguments block `args` onto the stack of `p`'s memory (loaded now: the running
 * thread's) and returns the stack pointer (argc's address), or 0 when a stack page could not be
 * had (the out-of-memory killer ran first). Thread context, `p`'s memory lock held; may sleep.
 */
export function execPushArgs(p: Process, args: usize): u32 {
  const n = load<u32>(args), used = load<u32>(args, 4);
  const strings = STACK_TOP - used;
  const vector = (strings & ~3) - (n + 1) * 4;
  const sp = vector - 4;
  for (let page = sp & ~0xFFF; page < STACK_TOP; page += 4096) {
    if (faultResolve(p, page, true) != Access.Ok) return 0;
  }
  memory.copy(strings, args + ARGS_HEADER, used);
  store<u32>(sp, n);
  let at = strings;
  for (let i: u32 = 0; i < n; i++) {
    store<u32>(vector + i * 4, at);
    while (load<u8>(at) != 0) at++;
    at++;
  }
  store<u32>(vector + n * 4, 0);
  return sp;
}

/** A new process's first entry (process.ts calls it in its thread, its space loaded): the arguments onto its stack. */
function firstEntry(p: Process, frame: UserFrame): void {
  mutexLock(processLock(p));
  const sp = execPushArgs(p, p.args);
  mutexUnlock(processLock(p));
  kfree(p.args);
  p.args = 0;
  if (sp == 0) { p.killed = 137; currentThread().killed = 1; return; }   // (no frame for the stack: it ends before its first entry)
  frame.userEsp = sp;
}

/** Installs firstEntry. Once, at boot. */
export function execInit(): void { processSetFirstEntry(firstEntry); }

/**
 * Loads module `index` into `p` (created, not started), with `args` (a block it now owns) to go
 * on its stack: its first ring-3 frame (kmalloc'd), or -errno. Thread context.
 */
function execIntoNew(p: Process, index: u32, args: usize): i64 {
  const entry = execBuild(processMemory(p), index);
  if (entry < 0) { kfree(args); return entry; }
  p.args = args;
  const frame = userFrameNew(<u32>entry, STACK_TOP);
  return frame != 0 ? <i64>frame : -ENOMEM;
}

let spawnFailure: i32 = 0;
/** Why the last spawnProgram failed (-errno). Thread context (the caller of spawnProgram). */
export function spawnError(): i32 { return spawnFailure; }

/**
 * Starts the program named by the `length` bytes at `name` as a new process of the kernel's,
 * with `args` (an arguments block it now owns): the process (running; the caller waits for it
 * with processWaitKernel or leaves it with processDetach), or null, with spawnError() saying why
 * (-ENOENT, -ENOEXEC, -ENOMEM, -EAGAIN). Thread context.
 */
export function spawnProgram(name: usize, length: u32, args: usize): Process | null {
  const index = findProgram(name, length);
  if (index < 0) { kfree(args); spawnFailure = -ENOENT; return null; }
  const p = processCreate(name, length, null);
  if (p == null) { kfree(args); spawnFailure = processCount() >= MAX_PROCESSES ? -EAGAIN : -ENOMEM; return null; }
  const frame = execIntoNew(p, <u32>index, args);
  if (frame < 0) { processDiscard(p); spawnFailure = <i32>frame; return null; }
  if (!processStart(p, <usize>frame)) { kfree(<usize>frame); processDiscard(p); spawnFailure = -ENOMEM; return null; }
  return p;
}
