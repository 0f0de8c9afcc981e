// Host build of kernel/lib/trace.ts for test/lib/trace.test.ts: the test writes a trace into
// `textBuffer`, then runs the two passes over static buffers and reads the result fields.
import {
  TraceResult, traceScan, traceDecode, traceOpAddress, traceOpId, traceOpSize, traceOpKind, traceOpAlign,
  TRACE_OP_BYTES, TRACE_LIVE_BYTES_PER_ID,
} from "../../../kernel/lib/trace";

const TEXT_BYTES: u32 = 1 << 20;
const MAX_OPS: u32 = 1 << 16;
const MAX_IDS: u32 = 1 << 16;
const text = memory.data(TEXT_BYTES, 16);
const ops = memory.data(MAX_OPS * TRACE_OP_BYTES, 16);
const live = memory.data(MAX_IDS * TRACE_LIVE_BYTES_PER_ID, 16);
const result = changetype<TraceResult>(memory.data(offsetof<TraceResult>(), 8));

export function textBuffer(): usize { return text; }
export function textCapacity(): u32 { return TEXT_BYTES; }

/** traceScan, then (if it passed and the tables are big enough) traceDecode. 0 = scan failed, 1 = decode failed, 2 = ok, 3 = too big for the test tables. */
export function decode(length: u32): u32 {
  if (!traceScan(text, length, result)) return 0;
  if (result.ops > MAX_OPS || result.maxId >= MAX_IDS) return 3;
  const maxId = result.maxId, count = result.ops;
  memory.fill(live, 0, (maxId + 1) * TRACE_LIVE_BYTES_PER_ID);
  return traceDecode(text, length, ops, count, live, maxId, result) ? 2 : 1;
}

export function error(): u32 { return result.error; }
export function errorLine(): u32 { return result.errorLine; }
export function errorColumn(): u32 { return result.errorColumn; }
export function errorOther(): u32 { return result.errorOther; }
export function opCount(): u32 { return result.ops; }
export function maxId(): u32 { return result.maxId; }
export function liveAtEnd(): u32 { return result.liveAtEnd; }
export function peakLiveBytes(): f64 { return <f64>result.peakLiveBytes; }
export function opKind(i: u32): u32 { return traceOpKind(traceOpAddress(ops, i)); }
export function opId(i: u32): u32 { return traceOpId(traceOpAddress(ops, i)); }
export function opSize(i: u32): u32 { return traceOpSize(traceOpAddress(ops, i)); }
export function opAlign(i: u32): u32 { return traceOpAlign(traceOpAddress(ops, i)); }
