// Host build of kernel/lib/line-editor.ts (the monitor's line editor), exported for
// test/lib/line-editor.test.ts.
import {
  LineEditor, LINE_EDITOR_BYTES, lineEditorInit, lineEditorFeed, lineText, lineLength, echoText, echoLength, historyCount,
} from "../../../kernel/lib/line-editor";

const block = memory.data(LINE_EDITOR_BYTES, 8);
let ed = changetype<LineEditor>(block);

export function init(): void { ed = lineEditorInit(block); }
export function feed(byte: u32): u32 { return <u32>lineEditorFeed(ed, byte); }
export function line(): usize { return lineText(ed); }
export function length(): u32 { return lineLength(ed); }
export function echo(): usize { return echoText(ed); }
export function echoBytes(): u32 { return echoLength(ed); }
export function history(): u32 { return historyCount(ed); }
