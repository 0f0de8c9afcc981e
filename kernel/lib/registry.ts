// A registry: named entries added at module start (a self-test or a benchmark registers in one
// line of top-level code) and read back in order. The self-tests, the checks run after every
// test and the benchmarks are three registries. Static storage, so registering needs no
// allocator: the module's start function runs before the kernel has one.
//
//   Registry        +0 entries (address of the entry array)   +4 capacity   +8 count
//   RegistryEntry   +0 name: string   +4 fn: a function reference   +8 kind: u32   +12 detail: usize
//                   (kind and detail are the owner's: the harness's test kind and expected panic)
import { NameMatch, nameEntryEnd, nameEntryMatch } from "./names";

@unmanaged export class RegistryEntry {
  name: usize;
  fn: usize;
  kind: u32;
  detail: usize;
}

@unmanaged export class Registry {
  entries: usize;
  capacity: u32;
  count: u32;
}

/** Bytes of one entry: a registry of N entries needs N * REGISTRY_ENTRY_BYTES for them. */
export const REGISTRY_ENTRY_BYTES: u32 = offsetof<RegistryEntry>();

/**
 * An empty registry whose header is at `at` (offsetof<Registry>() bytes) and whose `capacity`
 * entries are at `entries`: static memory (memory.data) of its owner's.
 */
export function registryAt(at: usize, entries: usize, capacity: u32): Registry {
  const registry = changetype<Registry>(at);
  registry.entries = entries;
  registry.capacity = capacity;
  registry.count = 0;
  return registry;
}

/** Adds an entry. A full registry is a build-time mistake (raise its capacity): it traps. */
export function registryAdd(registry: Registry, name: string, fn: usize, kind: u32, detail: usize): void {
  if (registry.count >= registry.capacity) unreachable();
  const entry = registryEntry(registry, registry.count++);
  entry.name = changetype<usize>(name);
  entry.fn = fn;
  entry.kind = kind;
  entry.detail = detail;
}

/** Entry `index` (below registry.count). */
@inline export function registryEntry(registry: Registry, index: u32): RegistryEntry {
  return changetype<RegistryEntry>(registry.entries + index * offsetof<RegistryEntry>());
}

/** Entry `index`'s name. */
@inline export function registryName(registry: Registry, index: u32): string {
  return changetype<string>(registryEntry(registry, index).name);
}

/** Whether a list entry that names entry `index` of `registry` as `match` selects it. */
export type RegistrySelects = (registry: Registry, index: u32, match: NameMatch) => bool;
/** Told about a list entry [entry, entry + length) that selects nothing. */
export type UnmatchedEntry = (entry: usize, length: u32) => void;

/**
 * Checks every entry of the comma-separated name list [list, list + length) (`test=`, `bench=`)
 * against `registry`: each entry that `selects` finds no registry entry for goes to `report`.
 * Returns how many did. O(list entries x registry entries).
 */
export function registryUnmatched(registry: Registry, list: usize, length: u32, selects: RegistrySelects, report: UnmatchedEntry): u32 {
  const end = list + length;
  let unmatched: u32 = 0;
  for (let entry = list; entry <= end; ) {
    const entryEnd = nameEntryEnd(entry, end), entryLength = <u32>(entryEnd - entry);
    let any = false;
    for (let i: u32 = 0; i < registry.count && !any; i++) any = selects(registry, i, nameEntryMatch(entry, entryLength, registryName(registry, i)));
    if (!any) { report(entry, entryLength); unmatched++; }
    entry = entryEnd + 1;
  }
  return unmatched;
}
