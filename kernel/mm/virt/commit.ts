// Committing range pages outside the fault handler's own path: the page commit both share
// (commitRangePage: the fault handler calls it with interrupts off), populate (commit part of a
// range now) and decommit (give part of a range's frames back, so the next touch reads zeros).
// The ranges themselves, their counts and the VMM's section are vmm.ts's. See docs/vmm.md.
import { tlbBatchBegin, tlbBatchEnd } from "../../arch/tlb";
import { mightSleep } from "../../diag/context";
import { panic } from "../../diag/panic";
import { LogLevel, logBegin } from "../../console/log";
import { puts, putHex, putDec } from "../../console/console";
import { AddressSpace, mapAt, pteSlot, entryFor, park, takeEntry, PagingError, PAGE_SIZE, PAGE_PRESENT, PAGE_WRITABLE, ENTRY_FRAME_MASK, PTE_PARKED } from "./paging";
import { allocFrame, freeFrame } from "../phys/pmm";
import { vrangeFind, vrangeAddress, NONE } from "../core/vrange";
import { vrangeAreaStart } from "../layout";
import { windowFill } from "./window";
import {
  vmmEnter, vmmLeave, kernelAddressSpace, kernelRanges, rangeFlags, rangePages, countCommitted, countDecommitted,
  pageFlagsOf, RANGE_WRITABLE, RANGE_PROMISED, RANGE_RETIRED, RANGE_DEVICE,
} from "./vmm";

/**
 * Maps a zeroed frame at `virt`, a page of the range starting at page `start` with `flags`,
 * whose entry is at `at` (pteSlot: the caller's one walk for the page; 0 when no table covers it
 * yet) and reads `entry` (not present: 0, or a frame parked there for a promised range): the
 * parked frame or a new one (high memory first). False if the PMM has none. For the fault
 * handler (interrupts off) and rangePopulate (the VMM's section); never sleeps.
 */
@inline export function commitRangePage(space: AddressSpace, start: u32, virt: u32, flags: u32, at: usize, entry: u32): bool {
  const parked = (entry & PTE_PARKED) != 0;
  const frame = parked ? entry & ENTRY_FRAME_MASK : allocFrame();
  if (frame == 0) return false;
  if (parked) store<u32>(at, 0);   // (not present: no TLB holds it)
  // Zeroed before it is mapped: a thread on another CPU may use the page the moment its entry
  // is written, and a zeroing after that would wipe out what it wrote.
  windowFill(frame, 0, 0);
  const pageFlags = pageFlagsOf(flags) | ((flags & RANGE_WRITABLE) != 0 ? PAGE_WRITABLE : 0);
  if (mapAt(space, at, virt, frame, pageFlags) != PagingError.Ok) panic("vmm: broken invariant: a range page's table is missing or its entry is in use");
  countCommitted(start, parked);
  return true;
}

/** The first page of the live range holding all of [virt, virt + bytes) (page-aligned `virt`), or NONE (logged) when there is none, or it is retired or a device's. */
function rangeHolding(what: string, virt: u32, bytes: u32): u32 {
  let start = NONE;
  if ((virt & (PAGE_SIZE - 1)) == 0 && bytes != 0 && virt >= vrangeAreaStart()) {
    start = vrangeFind(kernelRanges(), (virt - vrangeAreaStart()) >> 12);
    if (start != NONE) {
      const first = vrangeAddress(kernelRanges(), start), flags = rangeFlags(start);
      const end = <u64>first + (<u64>rangePages(start) << 12);
      if (<u64>virt + bytes > end || (flags & (RANGE_RETIRED | RANGE_DEVICE)) != 0) start = NONE;
    }
  }
  if (start == NONE && logBegin(LogLevel.Error, "vmm")) {
    puts(what); puts("("); putHex(virt); puts(", "); putDec(bytes); puts("): not inside one live range (unaligned, empty, past its end, retired or a device's); nothing changed\n");
  }
  return start;
}

/**
 * Commits every page of [virt, virt + bytes) (inside one live range, `virt` page-aligned) that
 * is not committed yet, zeroed, as first touches would: the pages committed now, or -1 (logged)
 * for a bad range, or -2 when the PMM ran out (the pages committed so far stay). Thread context
 * only.
 */
export function rangePopulate(virt: u32, bytes: u32): i32 {
  if (!mightSleep("rangePopulate")) return -1;
  vmmEnter();
  const start = rangeHolding("rangePopulate", virt, bytes);
  let done: i32 = start == NONE ? -1 : 0;
  if (start != NONE) {
    const flags = rangeFlags(start);
    for (let page = virt; <u64>page < <u64>virt + bytes; page += PAGE_SIZE) {
      const at = pteSlot(kernelAddressSpace(), page, false), entry = at != 0 ? load<u32>(at) : 0;
      if ((entry & PAGE_PRESENT) != 0) continue;
      if (!commitRangePage(kernelAddressSpace(), start, page, flags, at, entry)) { done = -2; break; }
      done++;
    }
  }
  vmmLeave();
  return done;
}

/**
 * Gives back the frames of the committed pages of [virt, virt + bytes) (inside one live range,
 * `virt` page-aligned): the next touch of each commits a zeroed page again. An overcommitted
 * range's frames go back to the PMM; a promised range's stay parked for it (the promise holds).
 * The pages given back, or -1 (logged) for a bad range. Thread context only.
 */
export function rangeDecommit(virt: u32, bytes: u32): i32 {
  if (!mightSleep("rangeDecommit")) return -1;
  vmmEnter();
  const start = rangeHolding("rangeDecommit", virt, bytes);
  const done = start == NONE ? -1 : decommitPages(start, virt, virt + bytes);
  vmmLeave();
  return done;
}

/**
 * rangeDecommit of the pages of [virt, virt + bytes) that lie wholly above the address stored at
 * `markAt`, read inside the VMM's section: for an arena whose owner moves that mark (its top) in
 * a thread of its own, which cannot run while the pages go (one CPU: the section has preemption
 * off). The pages given back, or -1 (logged) for a bad range. Thread context only.
 */
export function rangeDecommitAbove(virt: u32, bytes: u32, markAt: usize): i32 {
  if (!mightSleep("rangeDecommitAbove")) return -1;
  vmmEnter();
  const start = rangeHolding("rangeDecommitAbove", virt, bytes);
  const from = max<u32>(virt, (<u32>load<usize>(markAt) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1));
  const done = start == NONE ? -1 : decommitPages(start, from, virt + bytes);
  vmmLeave();
  return done;
}

/** Decommits the committed pages of [from, to) of the range at page `start` (the VMM's section held): how many. */
function decommitPages(start: u32, from: u32, to: u32): i32 {
  let done: i32 = 0;
  const promised = (rangeFlags(start) & RANGE_PROMISED) != 0;
  const batch = tlbBatchBegin();   // (one shootdown at the end: arch/tlb.ts)
  for (let page = from; <u64>page < <u64>to; page += PAGE_SIZE) {
    if ((entryFor(kernelAddressSpace(), page) & PAGE_PRESENT) == 0) continue;
    const frame = takeEntry(kernelAddressSpace(), page) & ENTRY_FRAME_MASK;   // (flushed from the TLB)
    if (promised) park(kernelAddressSpace(), page, frame); else freeFrame(frame);
    countDecommitted(start, promised);
    done++;
  }
  tlbBatchEnd(batch);
  return done;
}
