// The monitor's line editor: the bytes a terminal sends go in, the line and what to echo come
// out. Hardware-independent: the host tests drive it with keystrokes (test/lib/line-editor.test.ts).
//
//   printable (0x20-0x7E)     appended while there is room, and echoed
//   Backspace (0x08, 0x7F)    the last character erased: "\b \b"
//   Ctrl-U (0x15)             the whole line erased
//   Ctrl-C (0x03)             the line abandoned: "^C", and the caller prints a new prompt
//                             (a newline is echoed as "\n": the console sends it as CR LF)
//   Enter (CR or LF)          the line is done; a CR LF pair counts once
//   ESC [ A, ESC [ B          up and down the history: the line on screen is replaced
//   any other byte or escape  ignored (an escape sequence is read to its end)
//
// The history keeps the last HISTORY_LINES distinct non-empty lines, newest last. Up walks
// back from the newest, down forward; down past the newest gives the line being typed back.
//
//   LineEditor   +0 the fields below   then the line (LINE_MAX), the line saved while walking
//                the history (LINE_MAX), the echo (ECHO_MAX), and HISTORY_LINES x (length u32,
//                bytes LINE_MAX)

/** The longest line. */
export const LINE_MAX: u32 = 120;
/** Lines the history keeps. */
export const HISTORY_LINES: u32 = 16;
const ECHO_MAX: u32 = 3 * LINE_MAX + 8;
const HISTORY_ENTRY: u32 = 4 + LINE_MAX;

export const enum EditResult { Continue = 0, Done = 1, Cancelled = 2 }

const enum Escape { None = 0, Started = 1, Bracket = 2 }

@unmanaged export class LineEditor {
  length: u32;        // bytes in the line
  echoLength: u32;    // bytes to echo after the last feed
  escape: u32;        // Escape: where in an escape sequence the input is
  lastWasCr: u32;     // 1 after a CR (an LF right after it is not a second Enter)
  historyCount: u32;  // lines in the history (up to HISTORY_LINES)
  historyNext: u32;   // the slot the next line goes to (a ring)
  browse: u32;        // 0: editing; n: showing the nth newest history line
  savedLength: u32;   // the line being typed, kept while browsing
  finished: u32;      // 1 after Done: the next feed starts a new line
}
const LINE: u32 = (offsetof<LineEditor>() + 3) & ~3;
const SAVED: u32 = LINE + LINE_MAX;
const ECHO: u32 = SAVED + LINE_MAX;
const HISTORY: u32 = (ECHO + ECHO_MAX + 3) & ~3;
/** Bytes of a line editor with its buffers. */
export const LINE_EDITOR_BYTES: u32 = HISTORY + HISTORY_LINES * HISTORY_ENTRY;

@inline function lineAt(ed: LineEditor): usize { return changetype<usize>(ed) + LINE; }
@inline function savedAt(ed: LineEditor): usize { return changetype<usize>(ed) + SAVED; }
@inline function echoAt(ed: LineEditor): usize { return changetype<usize>(ed) + ECHO; }
@inline function historyAt(ed: LineEditor, slot: u32): usize { return changetype<usize>(ed) + HISTORY + slot * HISTORY_ENTRY; }

/** An empty editor with an empty history at `at` (LINE_EDITOR_BYTES). */
export function lineEditorInit(at: usize): LineEditor {
  memory.fill(at, 0, LINE_EDITOR_BYTES);
  return changetype<LineEditor>(at);
}

/** The line's bytes (valid after Done, until the next feed) and its length. */
export function lineText(ed: LineEditor): usize { return lineAt(ed); }
export function lineLength(ed: LineEditor): u32 { return ed.length; }
/** What the last feed asks to be echoed, and how many bytes. */
export function echoText(ed: LineEditor): usize { return echoAt(ed); }
export function echoLength(ed: LineEditor): u32 { return ed.echoLength; }
/** Lines in the history now. */
export function historyCount(ed: LineEditor): u32 { return ed.historyCount; }

function echo(ed: LineEditor, byte: u32): void {
  if (ed.echoLength < ECHO_MAX) store<u8>(echoAt(ed) + ed.echoLength++, <u8>byte);
}

/** Erases `n` characters on screen: "\b \b" each. */
function eraseOnScreen(ed: LineEditor, n: u32): void {
  for (let i: u32 = 0; i < n; i++) { echo(ed, 8); echo(ed, 32); echo(ed, 8); }
}

/** Replaces the line (on screen too) with `length` bytes from `from`. */
function replaceLine(ed: LineEditor, from: usize, length: u32): void {
  eraseOnScreen(ed, ed.length);
  memory.copy(lineAt(ed), from, length);
  ed.length = length;
  for (let i: u32 = 0; i < length; i++) echo(ed, load<u8>(lineAt(ed) + i));
}

/** The history slot of the nth newest line (n from 1 to historyCount). */
@inline function nthNewest(ed: LineEditor, n: u32): u32 { return (ed.historyNext + HISTORY_LINES - n) % HISTORY_LINES; }

function historyUp(ed: LineEditor): void {
  if (ed.browse == ed.historyCount) return;   // (at the oldest, or none)
  if (ed.browse == 0) { memory.copy(savedAt(ed), lineAt(ed), ed.length); ed.savedLength = ed.length; }
  ed.browse++;
  const entry = historyAt(ed, nthNewest(ed, ed.browse));
  replaceLine(ed, entry + 4, load<u32>(entry));
}

function historyDown(ed: LineEditor): void {
  if (ed.browse == 0) return;
  ed.browse--;
  if (ed.browse == 0) { replaceLine(ed, savedAt(ed), ed.savedLength); return; }
  const entry = historyAt(ed, nthNewest(ed, ed.browse));
  replaceLine(ed, entry + 4, load<u32>(entry));
}

/** Keeps the finished line in the history, unless it is empty or repeats the newest. */
function remember(ed: LineEditor): void {
  if (ed.length == 0) return;
  if (ed.historyCount != 0) {
    const newest = historyAt(ed, nthNewest(ed, 1));
    if (load<u32>(newest) == ed.length && memory.compare(newest + 4, lineAt(ed), ed.length) == 0) return;
  }
  const entry = historyAt(ed, ed.historyNext);
  store<u32>(entry, ed.length);
  memory.copy(entry + 4, lineAt(ed), ed.length);
  ed.historyNext = (ed.historyNext + 1) % HISTORY_LINES;
  if (ed.historyCount < HISTORY_LINES) ed.historyCount++;
}

/**
 * Feeds one byte from the terminal. Returns Done when a line is finished (lineText and
 * lineLength hold it until the next feed, which starts a new line), Cancelled after Ctrl-C (the
 * line is gone), else Continue.
 * After every feed, echoText/echoLength say what to send back to the terminal.
 */
export function lineEditorFeed(ed: LineEditor, byte: u32): EditResult {
  ed.echoLength = 0;
  if (ed.finished != 0) { ed.finished = 0; ed.length = 0; }
  const afterCr = ed.lastWasCr != 0;
  ed.lastWasCr = 0;
  if (ed.escape == Escape.Started) { ed.escape = byte == 0x5B ? Escape.Bracket : Escape.None; return EditResult.Continue; }
  if (ed.escape == Escape.Bracket) {
    if (byte >= 0x40 && byte <= 0x7E) {   // the sequence's last byte
      ed.escape = Escape.None;
      if (byte == 0x41) historyUp(ed);
      else if (byte == 0x42) historyDown(ed);
    }
    return EditResult.Continue;
  }
  if (byte == 0x1B) { ed.escape = Escape.Started; return EditResult.Continue; }
  if (byte == 13 || byte == 10) {
    if (byte == 10 && afterCr) return EditResult.Continue;   // (the LF of a CR LF)
    ed.lastWasCr = byte == 13 ? 1 : 0;
    echo(ed, 10);   // (the console sends a newline as CR LF)
    remember(ed);
    ed.browse = 0;
    ed.finished = 1;
    return EditResult.Done;
  }
  if (byte == 3) {
    echo(ed, 0x5E); echo(ed, 0x43); echo(ed, 10);   // "^C" and a newline
    ed.length = 0; ed.browse = 0;
    return EditResult.Cancelled;
  }
  if (byte == 8 || byte == 0x7F) {
    if (ed.length > 0) { ed.length--; eraseOnScreen(ed, 1); }
    return EditResult.Continue;
  }
  if (byte == 0x15) { eraseOnScreen(ed, ed.length); ed.length = 0; return EditResult.Continue; }
  if (byte >= 0x20 && byte <= 0x7E && ed.length < LINE_MAX) {
    store<u8>(lineAt(ed) + ed.length++, <u8>byte);
    echo(ed, byte);
  }
  return EditResult.Continue;
}
