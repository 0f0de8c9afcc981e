// The frames a self-test accounts for: free in the PMM, plus those held by the parts reclaim can
// take memory from (kmalloc's heap, slab regions and guard objects; the transient arena's
// committed pages). A test compares the sum before and after: reclaim running meanwhile (the
// reclaimer thread, or a request's own) moves frames from a holder to the PMM and leaves it as
// it was; a leak does not.
import { pmmFreeFrames } from "../mm/phys/pmm";
import { kmallocHeldFrames } from "../mm/alloc/kmalloc";
import { arenaCommittedPages } from "../mm/alloc/arena";

export function framesNow(): u32 { return pmmFreeFrames() + kmallocHeldFrames() + arenaCommittedPages(); }
