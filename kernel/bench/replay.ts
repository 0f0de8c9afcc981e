// Trace replay: runs a heap trace (the format: lib/trace.ts, docs/heap.md "Traces") through the
// allocator of this build (bench/allocator.ts: ours, or AssemblyScript's TLSF in the benchmark
// variant) and measures it. The benchmark `trace` replays every multiboot module as a trace
// (`make replay TRACE=file`, and `make bench` with test/traces/*.trace) and prints, for a
// trace file T.trace (the module's name without directories and extension), in instructions
// under -icount shift=0:
//
//   trace.T.instr_per_op         the allocator's instructions per operation (each call timed
//                                on its own by the stopwatch)
//   trace.T.op_worst             the most expensive single operation
//   trace.T.footprint_ratio      peak footprint / peak live
//   trace.T.peak_live            the largest sum of requested sizes of live blocks (bytes)
//   trace.T.peak_footprint       the most memory the allocator held (bytes): ours, from its
//                                page provider; the TLSF, the wasm memory it grew
//
// and in the TLSF variant the same with `tlsf_` before the last part (trace.T.tlsf_instr_per_op),
// except peak_live, which is a property of the trace.
//
// The trace is decoded completely before anything is replayed (two passes), into tables taken
// from the PMM, so a bad line is reported with its line, column and text, and nothing runs.
// Allocation failure stops the replay cleanly too: the live blocks are freed, the tables
// returned. Both count as a failed benchmark (the boot ends with a failure status).
import { registerBench, benchReportNamed, benchReportNamedRatio, benchFail } from "./bench";
import { stopwatchStart, stopwatchStop, stamp, lapEnd } from "./stopwatch";
import {
  MEASURING_TLSF, allocatorBegin, allocatorEnd, allocatorAlloc, allocatorFree, allocatorRealloc,
  allocatorPeakFootprint, allocatorHeap,
} from "./allocator";
import {
  TraceResult, TraceOp, traceScan, traceDecode, traceErrorText, traceOpAddress, traceOpId, traceOpSize,
  traceOpKind, traceOpAlign, TRACE_OP_BYTES, TRACE_LIVE_BYTES_PER_ID, TraceError,
} from "../lib/trace";
import { bootModuleCount, bootModulesRefused, bootModuleStart, bootModuleBytes, bootModuleName, bootModuleNameLength } from "../boot/modules";
import { allocFrames, freeFrames } from "../mm/phys/pmm";
import { lowMemoryEnd, linearVirt } from "../mm/layout";
import { heapPrintStats } from "../mm/core/heap/heap";
import { puts, putDec, putBytes, newline } from "../console/console";

/** What a replay ended with. */
export const enum ReplayOutcome {
  Done = 0,
  BadTrace = 1,      // a malformed line: reported, nothing replayed
  NoTables = 2,      // no memory for the decoded operations or the id table
  OutOfMemory = 3,   // the allocator returned 0: stopped, live blocks freed
  Inconsistent = 4,  // our heap's checker failed, or it still held memory, after the replay
}

/** A replay's measurements. */
@unmanaged export class ReplayStats {
  ops: u32;
  instructions: u64;   // sum over the operations
  worst: u64;          // the most expensive operation
  peakLive: u64;       // requested bytes
  peakFootprint: u64;
}

const PAGE: u32 = 4096;
// The replay's id table: per id, the block as allocatorAlloc returned it, its size and align.
const ID_BYTES: u32 = 12;

/** A run of `bytes` from the PMM's low memory through the linear map (physical 0 if none). */
function tablePages(bytes: u64): u32 { return <u32>((bytes + PAGE - 1) / PAGE); }
function takeTable(bytes: u64): u32 {
  if (bytes > 0x40000000) return 0;
  return allocFrames(max<u32>(tablePages(bytes), 1), 1, lowMemoryEnd());
}
function giveTable(phys: u32, bytes: u64): void { if (phys != 0) freeFrames(phys, max<u32>(tablePages(bytes), 1)); }

/** Prints where and why the trace is bad, with the offending line. */
function reportBadTrace(name: usize, nameLength: u32, text: usize, length: u32, result: TraceResult): void {
  puts("replay: "); putBytes(name, nameLength); puts(": line "); putDec(result.errorLine); puts(", column ");
  putDec(result.errorColumn); puts(": "); puts(traceErrorText(result.error));
  if (result.error == TraceError.AlreadyLive) { puts(" (allocated on line "); putDec(result.errorOther); puts(")"); }
  newline();
  // the line itself
  let p = text, line: u32 = 1;
  const end = text + length;
  while (p < end && line < result.errorLine) { if (load<u8>(p) == 10) line++; p++; }
  let e = p;
  while (e < end && load<u8>(e) != 10 && e - p < 200) e++;
  puts("replay:   | "); putBytes(p, <u32>(e - p)); newline();
  puts("replay: stopped; nothing was replayed\n");
}

/**
 * Replays the trace [text, text + length) named [name, name + nameLength) through this build's
 * allocator, filling `stats`. Reports a malformed trace or a failure on the console.
 */
export function replayTrace(text: usize, length: u32, name: usize, nameLength: u32, stats: ReplayStats): ReplayOutcome {
  const result = changetype<TraceResult>(memory.data(offsetof<TraceResult>(), 8));
  if (!traceScan(text, length, result)) { reportBadTrace(name, nameLength, text, length, result); return ReplayOutcome.BadTrace; }
  const count = result.ops, maxId = result.maxId;
  const opsBytes = <u64>count * TRACE_OP_BYTES, liveBytes = (<u64>maxId + 1) * TRACE_LIVE_BYTES_PER_ID;
  const idBytes = (<u64>maxId + 1) * ID_BYTES;
  const opsPhys = takeTable(opsBytes), livePhys = takeTable(liveBytes), idPhys = takeTable(idBytes);
  if (opsPhys == 0 || livePhys == 0 || idPhys == 0) {
    giveTable(opsPhys, opsBytes); giveTable(livePhys, liveBytes); giveTable(idPhys, idBytes);
    puts("replay: "); putBytes(name, nameLength); puts(": no memory for the tables of "); putDec(count);
    puts(" operations and "); putDec(<u64>maxId + 1); puts(" ids\n");
    return ReplayOutcome.NoTables;
  }
  const ops = linearVirt(opsPhys), live = linearVirt(livePhys), ids = linearVirt(idPhys);
  memory.fill(live, 0, <usize>liveBytes);
  memory.fill(ids, 0, <usize>idBytes);   // ids may be sparse: every entry must read "no block"
  let outcome = ReplayOutcome.Done;
  if (!traceDecode(text, length, ops, count, live, maxId, result)) {
    reportBadTrace(name, nameLength, text, length, result);
    outcome = ReplayOutcome.BadTrace;
  } else if (!allocatorBegin()) {
    outcome = ReplayOutcome.NoTables;
  } else {
    stats.ops = count;
    stats.peakLive = result.peakLiveBytes;
    outcome = run(ops, count, ids, stats);
    // free what the trace left live (untimed), then check our heap
    for (let i: u32 = 0; i <= maxId; i++) {
      const slot = ids + <usize>i * ID_BYTES;
      if (load<usize>(slot) != 0) { allocatorFree(load<usize>(slot)); store<usize>(slot, 0); }
    }
    stats.peakFootprint = allocatorPeakFootprint();
    if (!MEASURING_TLSF) heapPrintStats(allocatorHeap(), "replay heap");
    if (allocatorEnd() != 0 && outcome == ReplayOutcome.Done) {
      puts("replay: "); putBytes(name, nameLength); puts(": the heap checker failed after the replay\n");
      outcome = ReplayOutcome.Inconsistent;
    }
  }
  giveTable(opsPhys, opsBytes); giveTable(livePhys, liveBytes); giveTable(idPhys, idBytes);
  return outcome;
}

/** The timed loop. `ids` starts zeroed; it is left holding the live blocks. */
function run(ops: usize, count: u32, ids: usize, stats: ReplayStats): ReplayOutcome {
  const watch = stopwatchStart();
  for (let i: u32 = 0; i < count; i++) {
    const op = traceOpAddress(ops, i);
    const slot = ids + <usize>traceOpId(op) * ID_BYTES;
    const kind = traceOpKind(op);
    let block: usize = 0;
    if (kind == TraceOp.Alloc) {
      const size = traceOpSize(op), align = traceOpAlign(op);
      const t0 = stamp();
      block = allocatorAlloc(size, align);
      lapEnd(watch, t0);
      if (block != 0) { store<usize>(slot, block); store<u32>(slot, size, 4); store<u32>(slot, align, 8); }
    } else if (kind == TraceOp.Free) {
      block = load<usize>(slot);
      const t0 = stamp();
      allocatorFree(block);
      lapEnd(watch, t0);
      store<usize>(slot, 0);
    } else {
      const size = traceOpSize(op);
      const old = load<usize>(slot), align = load<u32>(slot, 8), oldSize = load<u32>(slot, 4);
      const t0 = stamp();
      block = allocatorRealloc(old, align, oldSize, size);
      lapEnd(watch, t0);
      if (block != 0) { store<usize>(slot, block); store<u32>(slot, size, 4); store<u32>(slot, 0, 8); }
    }
    if (block == 0) {
      stopwatchStop();
      puts("replay: operation "); putDec(i + 1); puts(" of "); putDec(count); puts(": the allocator is out of memory; stopped\n");
      stats.ops = i;
      return ReplayOutcome.OutOfMemory;
    }
  }
  stopwatchStop();
  stats.instructions = watch.total;
  stats.worst = watch.worst;
  return ReplayOutcome.Done;
}

/** The module's name without directories and without a final extension. */
function baseName(name: usize, length: u32): usize {
  let start = name;
  for (let p = name; p < name + length; p++) if (load<u8>(p) == 47) start = p + 1;   // '/'
  return start;
}
function baseNameLength(name: usize, length: u32): u32 {
  const start = baseName(name, length);
  let n = <u32>(name + length - start);
  for (let i: u32 = n; i > 0; i--) if (load<u8>(start + i - 1) == 46) { n = i - 1; break; }   // '.'
  // a GRUB module line may carry arguments after the file name: stop at a space
  for (let i: u32 = 0; i < n; i++) if (load<u8>(start + i) == 32) { n = i; break; }
  return n;
}

function report(name: usize, length: u32, stats: ReplayStats): void {
  const tlsf = MEASURING_TLSF;
  if (stats.ops == 0) { puts("# trace."); putBytes(name, length); puts(": no operations: the ratios are not applicable\n"); }
  benchReportNamedRatio("trace.", name, length, tlsf ? ".tlsf_instr_per_op" : ".instr_per_op", stats.instructions, stats.ops, "instr/op");
  benchReportNamed("trace.", name, length, tlsf ? ".tlsf_op_worst" : ".op_worst", stats.worst, "instr");
  benchReportNamedRatio("trace.", name, length, tlsf ? ".tlsf_footprint_ratio" : ".footprint_ratio", stats.peakFootprint, stats.peakLive, "ratio");
  if (!tlsf) benchReportNamed("trace.", name, length, ".peak_live", stats.peakLive, "B");   // the same in both builds
  benchReportNamed("trace.", name, length, tlsf ? ".tlsf_peak_footprint" : ".peak_footprint", stats.peakFootprint, "B");
}

registerBench("trace", () => {
  const stats = changetype<ReplayStats>(memory.data(offsetof<ReplayStats>(), 8));
  const count = bootModuleCount(), refused = bootModulesRefused();
  if (refused != 0) {
    // (each was named at boot; replaying the rest would report a run that is not the one asked for)
    puts("replay: "); putDec(refused); puts(" module(s) refused at boot (see the boot log: outside RAM or out of reach): nothing replayed\n");
    benchFail();
    return;
  }
  if (count == 0) { puts("replay: no trace given (boot with the trace as a multiboot module: make replay TRACE=file)\n"); return; }
  for (let i: u32 = 0; i < count; i++) {
    if (bootModuleBytes(i) >= 4 && load<u32>(bootModuleStart(i)) == 0x464C457F) continue;   // (a program for execve, not a trace)
    const full = bootModuleName(i), fullLength = bootModuleNameLength(i);
    const name = baseName(full, fullLength), nameLength = baseNameLength(full, fullLength);
    puts("replay: "); putBytes(full, fullLength); puts(", "); putDec(bootModuleBytes(i)); puts(" bytes\n");
    memory.fill(changetype<usize>(stats), 0, offsetof<ReplayStats>());
    const outcome = replayTrace(bootModuleStart(i), bootModuleBytes(i), name, nameLength, stats);
    if (outcome != ReplayOutcome.Done) { benchFail(); continue; }
    puts("replay: "); putDec(stats.ops); puts(" operations replayed\n");
    report(name, nameLength, stats);
  }
});
