// Heap traces: a text format for allocation workloads, and its decoder. Hardware-independent
// (host-tested in test/lib/trace.test.ts); the replay itself is kernel/bench/replay.ts. The
// format is documented in docs/heap.md ("Traces"):
//
//   a <id> <size> [align]    allocate size bytes (1 .. 2^30), aligned to align (0 = default, or
//                            a power of two up to 4096)
//   f <id>                   free
//   r <id> <newsize>         reallocate: contents kept up to the smaller size
//   # ...                    comment to the end of the line (also after an operation)
//
// Fields are separated by spaces or tabs; blank lines are allowed; a CR before the LF is
// ignored. Ids are decimal integers below TRACE_MAX_ID, unique among the live blocks (an id may
// be reused once its block is freed).
//
// Decoding takes two passes so that nothing is replayed from a bad trace: traceScan checks the
// syntax and counts operations and the largest id (to size the tables), traceDecode fills the
// operation array and checks that every id is used in order (allocated before it is freed or
// reallocated, not allocated twice). Both stop at the first bad line and say which and why.
//
// A decoded operation (TRACE_OP_BYTES):
//
//   +0 id (u32)   +4 size (u32; 0 for a free)   +8 kind (u8)   +9 align: 0 = default, else 1 + log2   +10 unused
//
// The live table traceDecode needs has TRACE_LIVE_BYTES_PER_ID bytes per id: the line that
// allocated the block (0 while the id is not live) and its size.

/** Ids are below this (the live table of the replay is indexed by id). */
export const TRACE_MAX_ID: u32 = 1 << 22;
/** Sizes are at most this (the heap refuses larger requests; see MAX_REQUEST in heap.ts). */
export const TRACE_MAX_SIZE: u32 = 1 << 30;
/** The largest alignment a trace may ask for. */
export const TRACE_MAX_ALIGN: u32 = 4096;
export const TRACE_OP_BYTES: u32 = 12;
export const TRACE_LIVE_BYTES_PER_ID: u32 = 8;

export const enum TraceOp { Alloc = 1, Free = 2, Realloc = 3 }

export const enum TraceError {
  None = 0,
  UnknownOperation,    // the first field is not a, f or r
  MissingField,        // too few fields for the operation
  NotANumber,          // a field that should be a decimal integer is not
  NumberTooLarge,      // does not fit 32 bits
  ExtraField,          // more fields than the operation takes
  IdTooLarge,          // id >= TRACE_MAX_ID
  SizeZero,            // a size of 0
  SizeTooLarge,        // a size above TRACE_MAX_SIZE
  BadAlign,            // not 0 and not a power of two up to TRACE_MAX_ALIGN
  AlreadyLive,         // `a` of an id that is live
  NotLive,             // `f` or `r` of an id that is not live
  TooManyLines,        // more operations than the decoder was given room for
}

/** What a pass found. Fields after `error*` are valid only when error is None. */
@unmanaged export class TraceResult {
  error: TraceError;
  errorLine: u32;      // 1-based line of the first error
  errorColumn: u32;    // 1-based column where the bad field starts
  errorOther: u32;     // AlreadyLive: the line that allocated the live block
  lines: u32;          // lines read
  ops: u32;            // operations
  maxId: u32;          // the largest id (traceScan)
  liveAtEnd: u32;      // blocks still live after the last line (traceDecode)
  peakLiveBytes: u64;  // the largest sum of requested sizes of live blocks (traceDecode)
  // the operation of the line just parsed
  kind: u32;
  id: u32;
  size: u32;
  alignLog2: u32;     // 0 = default, else 1 + log2(align)
  fieldEnd: usize;     // parser cursor: the end of the field just read
}

/** The text of an error, for the log. */
export function traceErrorText(error: TraceError): string {
  switch (error) {
    case TraceError.UnknownOperation: return "unknown operation (expected a, f or r)";
    case TraceError.MissingField: return "missing field (a <id> <size> [align] | f <id> | r <id> <newsize>)";
    case TraceError.NotANumber: return "not a decimal number";
    case TraceError.NumberTooLarge: return "number does not fit 32 bits";
    case TraceError.ExtraField: return "unexpected extra field";
    case TraceError.IdTooLarge: return "id too large (ids are below 4194304)";
    case TraceError.SizeZero: return "size 0";
    case TraceError.SizeTooLarge: return "size above 1 GiB";
    case TraceError.BadAlign: return "align must be 0 or a power of two up to 4096";
    case TraceError.AlreadyLive: return "id is already live";
    case TraceError.NotLive: return "id is not live";
    case TraceError.TooManyLines: return "more operations than the first pass counted";
    default: return "no error";
  }
}

// --- one line -------------------------------------------------------------------------------

const SPACE: u32 = 32, TAB: u32 = 9, CR: u32 = 13, LF: u32 = 10, HASH: u32 = 35;
const FIELD_NONE: i64 = -1;        // no field here (end of line or comment)
const FIELD_BAD: i64 = -2;         // a field that is not a number
const FIELD_OVERFLOW: i64 = -3;    // a number that does not fit 32 bits

@inline function isBlank(c: u32): bool { return c == SPACE || c == TAB || c == CR; }

/** Skips blanks from `p`; returns the position of the next field, or `end` if none. */
function skipBlanks(p: usize, end: usize): usize {
  while (p < end && isBlank(load<u8>(p))) p++;
  if (p < end && load<u8>(p) == HASH) return end;
  return p;
}

/** Reads a decimal field at `p` (after skipBlanks); the field's end is left in result.fieldEnd. */
function readNumber(result: TraceResult, p: usize, end: usize): i64 {
  if (p >= end) { result.fieldEnd = p; return FIELD_NONE; }
  let value: u64 = 0;
  let q = p;
  while (q < end) {
    const c = <u32>load<u8>(q);
    if (isBlank(c) || c == HASH) break;
    if (c < 48 || c > 57) {
      while (q < end && !isBlank(load<u8>(q))) q++;
      result.fieldEnd = q;
      return FIELD_BAD;
    }
    value = value * 10 + (c - 48);
    if (value > 0xFFFFFFFF) {
      while (q < end && !isBlank(load<u8>(q))) q++;
      result.fieldEnd = q;
      return FIELD_OVERFLOW;
    }
    q++;
  }
  result.fieldEnd = q;
  return <i64>value;
}

function fail(result: TraceResult, error: TraceError, lineStart: usize, at: usize): bool {
  result.error = error;
  result.errorLine = result.lines;
  result.errorColumn = <u32>(at - lineStart) + 1;
  return false;
}

/** Reads a required number field; on failure records the error. Returns -1 on failure. */
function field(result: TraceResult, lineStart: usize, p: usize, end: usize): i64 {
  const at = skipBlanks(p, end);
  const v = readNumber(result, at, end);
  if (v == FIELD_NONE) { fail(result, TraceError.MissingField, lineStart, at); return -1; }
  if (v == FIELD_BAD) { fail(result, TraceError.NotANumber, lineStart, at); return -1; }
  if (v == FIELD_OVERFLOW) { fail(result, TraceError.NumberTooLarge, lineStart, at); return -1; }
  return v;
}

/**
 * Parses the line [start, end) (without its LF) into result.kind/id/size/alignLog2.
 * Returns true for an operation or an empty/comment line (kind 0), false with the error set.
 */
function parseLine(result: TraceResult, start: usize, end: usize): bool {
  result.kind = 0;
  let p = skipBlanks(start, end);
  if (p >= end) return true;
  const op = <u32>load<u8>(p);
  const opEnd = p + 1;
  let kind: u32 = 0;
  if (op == 97) kind = TraceOp.Alloc;          // a
  else if (op == 102) kind = TraceOp.Free;     // f
  else if (op == 114) kind = TraceOp.Realloc;  // r
  if (kind == 0 || (opEnd < end && !isBlank(load<u8>(opEnd)) && load<u8>(opEnd) != HASH)) {
    return fail(result, TraceError.UnknownOperation, start, p);
  }
  const idAt = skipBlanks(opEnd, end);
  const id = field(result, start, opEnd, end);
  if (id < 0) return false;
  if (<u64>id >= TRACE_MAX_ID) return fail(result, TraceError.IdTooLarge, start, idAt);
  p = result.fieldEnd;
  let size: i64 = 0, alignLog2: u32 = 0;
  if (kind != TraceOp.Free) {
    const sizeAt = skipBlanks(p, end);
    size = field(result, start, p, end);
    if (size < 0) return false;
    if (size == 0) return fail(result, TraceError.SizeZero, start, sizeAt);
    if (<u64>size > TRACE_MAX_SIZE) return fail(result, TraceError.SizeTooLarge, start, sizeAt);
    p = result.fieldEnd;
    if (kind == TraceOp.Alloc) {
      const alignAt = skipBlanks(p, end);
      const align = readNumber(result, alignAt, end);
      if (align == FIELD_BAD) return fail(result, TraceError.NotANumber, start, alignAt);
      if (align == FIELD_OVERFLOW) return fail(result, TraceError.NumberTooLarge, start, alignAt);
      if (align != FIELD_NONE) {
        const a = <u32>align;
        if (a != 0 && ((a & (a - 1)) != 0 || a > TRACE_MAX_ALIGN)) return fail(result, TraceError.BadAlign, start, alignAt);
        alignLog2 = a == 0 ? 0 : ctz(a) + 1;
        p = result.fieldEnd;
      }
    }
  }
  const extra = skipBlanks(p, end);
  if (extra < end) return fail(result, TraceError.ExtraField, start, extra);
  result.kind = kind;
  result.id = <u32>id;
  result.size = <u32>size;
  result.alignLog2 = alignLog2;
  return true;
}

/** Finds the end of the line starting at `p` (the LF or `end`). */
function lineEnd(p: usize, end: usize): usize {
  while (p < end && load<u8>(p) != LF) p++;
  return p;
}

function resetResult(result: TraceResult): void {
  result.error = TraceError.None;
  result.errorLine = 0; result.errorColumn = 0; result.errorOther = 0;
  result.lines = 0; result.ops = 0; result.maxId = 0; result.liveAtEnd = 0; result.peakLiveBytes = 0;
  result.kind = 0;
}

// --- the two passes -------------------------------------------------------------------------

/**
 * First pass over the trace text [text, text + length): checks every line's syntax and counts
 * operations and the largest id. Returns false at the first bad line (result.error*).
 */
export function traceScan(text: usize, length: u32, result: TraceResult): bool {
  resetResult(result);
  const end = text + length;
  let p = text;
  while (p < end) {
    const e = lineEnd(p, end);
    result.lines++;
    if (!parseLine(result, p, e)) return false;
    if (result.kind != 0) {
      result.ops++;
      if (result.id > result.maxId) result.maxId = result.id;
    }
    p = e + 1;
  }
  return true;
}

/**
 * Second pass: fills `ops` (room for `capacity` operations of TRACE_OP_BYTES) and checks the
 * order of ids with `live` ((maxId + 1) * TRACE_LIVE_BYTES_PER_ID bytes from traceScan, zeroed
 * by the caller). Computes peakLiveBytes and liveAtEnd. Returns false at the first bad line;
 * `ops` is then partial.
 */
export function traceDecode(text: usize, length: u32, ops: usize, capacity: u32, live: usize, maxId: u32, result: TraceResult): bool {
  resetResult(result);
  result.maxId = maxId;
  const end = text + length;
  let liveBytes: u64 = 0;
  let p = text;
  while (p < end) {
    const e = lineEnd(p, end);
    result.lines++;
    if (!parseLine(result, p, e)) return false;
    const kind = result.kind;
    if (kind != 0) {
      const id = result.id;
      if (id > maxId) return fail(result, TraceError.IdTooLarge, p, skipBlanks(p, e));
      if (result.ops >= capacity) return fail(result, TraceError.TooManyLines, p, skipBlanks(p, e));
      const slot = live + <usize>id * TRACE_LIVE_BYTES_PER_ID;
      const liveLine = load<u32>(slot);          // the line that allocated it, 0 if not live
      if (kind == TraceOp.Alloc) {
        if (liveLine != 0) {
          result.errorOther = liveLine;
          return fail(result, TraceError.AlreadyLive, p, skipBlanks(p, e));
        }
        store<u32>(slot, result.lines);
        store<u32>(slot, result.size, 4);
        liveBytes += result.size;
        result.liveAtEnd++;
      } else {
        if (liveLine == 0) return fail(result, TraceError.NotLive, p, skipBlanks(p, e));
        liveBytes -= load<u32>(slot, 4);
        if (kind == TraceOp.Free) {
          store<u32>(slot, 0);
          result.liveAtEnd--;
        } else {
          store<u32>(slot, result.size, 4);
          liveBytes += result.size;
        }
      }
      if (liveBytes > result.peakLiveBytes) result.peakLiveBytes = liveBytes;
      const op = ops + <usize>result.ops * TRACE_OP_BYTES;
      store<u32>(op, id);
      store<u32>(op, result.size, 4);
      store<u8>(op, <u8>kind, 8);
      store<u8>(op, <u8>result.alignLog2, 9);
      store<u16>(op, 0, 10);
      result.ops++;
    }
    p = e + 1;
  }
  return true;
}

/** The fields of decoded operation `index`. */
@inline export function traceOpAddress(ops: usize, index: u32): usize { return ops + <usize>index * TRACE_OP_BYTES; }
@inline export function traceOpId(op: usize): u32 { return load<u32>(op); }
@inline export function traceOpSize(op: usize): u32 { return load<u32>(op, 4); }
@inline export function traceOpKind(op: usize): u32 { return load<u8>(op, 8); }
@inline export function traceOpAlign(op: usize): u32 { const s = <u32>load<u8>(op, 9); return s == 0 ? 0 : 1 << (s - 1); }
