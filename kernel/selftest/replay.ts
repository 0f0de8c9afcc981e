// Self-tests of the trace replay (bench/replay.ts), the instrument that `make bench` and
// `make replay` measure the heap with: a good trace replays and gives back every frame, a bad one
// is refused before anything runs. (The self-tests sit above bench/: they may test its tools.)
import { registerTest, check, checkEqual } from "./harness";
import { pmmFreeFrames } from "../mm/phys/pmm";
import { kmalloc, kzalloc, kfree } from "../mm/alloc/kmalloc";
import { replayTrace, ReplayOutcome, ReplayStats } from "../bench/replay";

/** Copies the ASCII string `text` into a new kmalloc'd buffer (the caller frees it). */
function asciiBuffer(text: string): usize {
  const buffer = kmalloc(<u32>text.length + 1);
  for (let i = 0; i < text.length; i++) store<u8>(buffer + i, <u8>text.charCodeAt(i));
  return buffer;
}

registerTest("heap.replay", () => {
  const stats = changetype<ReplayStats>(kzalloc(offsetof<ReplayStats>()));
  const name = asciiBuffer("test");
  // sparse ids (2-8 unused): the replay's table must not read them as blocks
  const good = "# a small trace\na 0 100\na 9 5000 4096\nr 0 20000\nf 9\na 1 70000\nr 1 100\nf 0\n";
  const text = asciiBuffer(good);
  const freeBefore = pmmFreeFrames();
  checkEqual(replayTrace(text, good.length, name, 4, stats), ReplayOutcome.Done, "a good trace replays");
  checkEqual(stats.ops, 7, "seven operations");
  checkEqual(stats.peakLive, 70000 + 20000, "peak live: the 70,000 B block and the 20,000 B one");
  check(stats.instructions > 0 && stats.worst > 0, "it was timed");
  check(stats.peakFootprint >= stats.peakLive, "the footprint covers the live bytes");
  checkEqual(pmmFreeFrames(), freeBefore, "the replay returned every frame (its heap and its tables)");
  kfree(text);
  // A bad line: reported, nothing replayed, nothing held.
  const bad = "a 0 100\nf 0\nf 0\na 2 16\n";
  const badText = asciiBuffer(bad);
  memory.fill(changetype<usize>(stats), 0, offsetof<ReplayStats>());
  checkEqual(replayTrace(badText, bad.length, name, 4, stats), ReplayOutcome.BadTrace, "a double free in a trace is refused");
  checkEqual(stats.ops, 0, "nothing was replayed");
  checkEqual(pmmFreeFrames(), freeBefore, "nothing is held");
  kfree(badText);
  kfree(name);
  kfree(changetype<usize>(stats));
});
