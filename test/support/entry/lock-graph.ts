// Host build of kernel/lib/lock-graph.ts (the lock checker's graph), exported for
// test/lib/lock-graph.test.ts.
import {
  LockGraph, LOCK_GRAPH_BYTES, lockGraphInit, lockGraphClass, lockGraphAddEdge, lockGraphHasEdge, lockGraphSite,
  lockGraphReaches, lockGraphNextHop,
} from "../../../kernel/lib/lock-graph";

const block = memory.data(LOCK_GRAPH_BYTES, 8);
let graph = changetype<LockGraph>(block);

export function init(): void { graph = lockGraphInit(block); }
export function classOf(name: u32): u32 { return lockGraphClass(graph, name); }
export function addEdge(from: u32, to: u32, site: u32): bool { return lockGraphAddEdge(graph, from, to, site); }
export function hasEdge(from: u32, to: u32): bool { return lockGraphHasEdge(graph, from, to); }
export function site(from: u32, to: u32): u32 { return lockGraphSite(graph, from, to); }
export function reaches(from: u32, to: u32): bool { return lockGraphReaches(graph, from, to); }
export function nextHop(from: u32, to: u32): u32 { return lockGraphNextHop(graph, from, to); }
