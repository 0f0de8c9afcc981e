// The monitor: a kernel thread that gives the serial console a prompt, `askern> `, where a user
// explores the memory subsystem, runs self-tests and benchmarks one by one, and watches the
// allocators change (docs/monitor.md). Its input comes from COM1's receive interrupt
// (input.ts: no polling), its line editing from lib/line-editor.ts, its commands from
// commands.ts. It is itself a user of the threads and of the interrupt-safe allocators.
import { puts, putDec, putBytes } from "../console/console";
import { LineEditor, LINE_EDITOR_BYTES, EditResult, lineEditorInit, lineEditorFeed, lineText, lineLength, echoText, echoLength } from "../lib/line-editor";
import { threadCreate, schedAddBootFrames } from "../sched/scheduler";
import { Semaphore, SEMAPHORE_BYTES, semaphoreInit, semaphoreDown, semaphoreUp } from "../sched/sync";
import { pmmFreeFrames } from "../mm/phys/pmm";
import { setTestStopCheck } from "../selftest/harness";
import { setBenchStopCheck } from "../bench/bench";
import { inputInit, inputRead, inputInterruptRequested, inputDropped } from "./input";
import { monitorExecute, setBootThreadRunner } from "./commands";

const PROMPT = "askern> ";
const editor = changetype<LineEditor>(memory.data(LINE_EDITOR_BYTES, 4));
let dropsSeen: u32 = 0;

function monitorMain(arg: usize): void {
  lineEditorInit(changetype<usize>(editor));
  puts(PROMPT);
  for (;;) {
    const result = lineEditorFeed(editor, inputRead());
    if (echoLength(editor) != 0) putBytes(echoText(editor), echoLength(editor));
    if (result == EditResult.Continue) continue;
    if (result == EditResult.Done) monitorExecute(lineText(editor), lineLength(editor));
    if (inputDropped() != dropsSeen) {
      dropsSeen = inputDropped();
      puts("(input: "); putDec(dropsSeen); puts(" bytes dropped so far: typed faster than the prompt reads)\n");
    }
    puts(PROMPT);
  }
}

// Self-tests and benchmarks run on the boot thread, as they do at boot (on its stack and in its
// transient arena): the monitor hands the work over and waits for it.
const requests = changetype<Semaphore>(memory.data(SEMAPHORE_BYTES, 4));
const finished = changetype<Semaphore>(memory.data(SEMAPHORE_BYTES, 4));
let work: usize = 0;

/** Runs `fn` on the boot thread and waits until it is done. The monitor's thread. */
function onBootThread(fn: () => void): void {
  work = changetype<usize>(fn);
  semaphoreUp(requests);
  semaphoreDown(finished);
}

/**
 * Starts the monitor: COM1's input interrupt and the monitor's thread, with a one-line hint.
 * False (reported) if the thread could not be made. Once, at the end of boot; thread context.
 */
export function monitorStart(): bool {
  const freeBefore = pmmFreeFrames();
  semaphoreInit(changetype<usize>(requests), 0);
  semaphoreInit(changetype<usize>(finished), 0);
  setBootThreadRunner(onBootThread);
  inputInit();
  setTestStopCheck(changetype<usize>(inputInterruptRequested));
  setBenchStopCheck(changetype<usize>(inputInterruptRequested));
  puts("\naskern monitor: 'help' lists the commands; Ctrl-A X quits QEMU\n");
  const made = threadCreate("monitor", monitorMain, 0) != null;
  schedAddBootFrames(freeBefore - pmmFreeFrames());   // (its stack and arena count as the boot's, for pmm.invariants)
  return made;
}

/** The boot thread's work once the monitor runs: the test and benchmark runs it is handed. Never returns. */
export function monitorServeBootThread(): void {
  for (;;) {
    semaphoreDown(requests);
    changetype<() => void>(work)();
    semaphoreUp(finished);
  }
}
