// The lock checker's graph (sched/lockdep.ts): lock classes, and which class was taken while
// which other was held. Hardware-independent: host tests check it against a model.
//
//   classes   up to LOCK_CLASSES names (a lock's name literal is its class: every lock made
//             with the same literal is one class)
//   edges     adjacency[a] bit b: class b was taken while class a was held, first at sites[a][b]
//
// Taking B while holding A would close a cycle (a possible deadlock: A then B somewhere, B then
// A elsewhere) exactly when B already reaches A: lockGraphReaches, a search over at most
// LOCK_CLASSES nodes, made only while the checker is on.

/** Classes the graph can hold (a bit each in a u64 row). */
export const LOCK_CLASSES: u32 = 64;
/** No class (the table is full, or no such name). */
export const NO_CLASS: u32 = 0xFFFFFFFF;

@unmanaged export class LockGraph {
  classCount: u32;
  pad: u32;
}
const NAMES: u32 = 8;                                   // usize[LOCK_CLASSES]
const ADJACENCY: u32 = NAMES + LOCK_CLASSES * 4;        // u64[LOCK_CLASSES]
const SITES: u32 = ADJACENCY + LOCK_CLASSES * 8;        // u32[LOCK_CLASSES][LOCK_CLASSES]
/** Bytes of a LockGraph with its tables. */
export const LOCK_GRAPH_BYTES: u32 = SITES + LOCK_CLASSES * LOCK_CLASSES * 4;

@inline function nameAt(g: LockGraph, c: u32): usize { return changetype<usize>(g) + NAMES + (c << 2); }
@inline function rowAt(g: LockGraph, c: u32): usize { return changetype<usize>(g) + ADJACENCY + (c << 3); }
@inline function siteAt(g: LockGraph, from: u32, to: u32): usize { return changetype<usize>(g) + SITES + ((from * LOCK_CLASSES + to) << 2); }

/** An empty graph at `at` (LOCK_GRAPH_BYTES). */
export function lockGraphInit(at: usize): LockGraph {
  memory.fill(at, 0, LOCK_GRAPH_BYTES);
  return changetype<LockGraph>(at);
}

/** The class of locks named `name` (a nonzero key: the name literal's address), made on first use; NO_CLASS when the table is full. */
export function lockGraphClass(g: LockGraph, name: usize): u32 {
  for (let c: u32 = 0; c < g.classCount; c++) if (load<usize>(nameAt(g, c)) == name) return c;
  if (g.classCount == LOCK_CLASSES) return NO_CLASS;
  const c = g.classCount++;
  store<usize>(nameAt(g, c), name);
  return c;
}

/** The key class `c` was made for. */
export function lockGraphName(g: LockGraph, c: u32): usize { return load<usize>(nameAt(g, c)); }

/** Records that `to` was taken while `from` was held, at `site` (kept from the first time). True if the edge is new. */
export function lockGraphAddEdge(g: LockGraph, from: u32, to: u32, site: u32): bool {
  const row = load<u64>(rowAt(g, from)), bit = <u64>1 << to;
  if ((row & bit) != 0) return false;
  store<u64>(rowAt(g, from), row | bit);
  store<u32>(siteAt(g, from, to), site);
  return true;
}

/** Whether the edge from `from` to `to` exists. */
export function lockGraphHasEdge(g: LockGraph, from: u32, to: u32): bool {
  return (load<u64>(rowAt(g, from)) & (<u64>1 << to)) != 0;
}

/** Where the edge from `from` to `to` was first recorded (0 if it was not). */
export function lockGraphSite(g: LockGraph, from: u32, to: u32): u32 { return lockGraphHasEdge(g, from, to) ? load<u32>(siteAt(g, from, to)) : 0; }

/**
 * Whether a path of one or more edges leads from `from` to `to`. Breadth-first over the rows:
 * at most LOCK_CLASSES rounds of ORs.
 */
export function lockGraphReaches(g: LockGraph, from: u32, to: u32): bool {
  let seen: u64 = 0;
  let frontier = load<u64>(rowAt(g, from));
  const target = <u64>1 << to;
  while (frontier != 0) {
    if ((frontier & target) != 0) return true;
    seen |= frontier;
    let next: u64 = 0;
    for (let rest = frontier; rest != 0; rest &= rest - 1) next |= load<u64>(rowAt(g, <u32>ctz(rest)));
    frontier = next & ~seen;
  }
  return false;
}

/**
 * The first class after `from` on a path from `from` to `to` (for a report's chain), or NO_CLASS
 * if there is none.
 */
export function lockGraphNextHop(g: LockGraph, from: u32, to: u32): u32 {
  if (lockGraphHasEdge(g, from, to)) return to;
  for (let rest = load<u64>(rowAt(g, from)); rest != 0; rest &= rest - 1) {
    const c = <u32>ctz(rest);
    if (lockGraphReaches(g, c, to)) return c;
  }
  return NO_CLASS;
}
