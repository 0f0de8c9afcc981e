// The refusal reasons (kernel/mm/core/alloc-error.ts) as exported globals, so the host tests read
// the kernel's own numbers instead of copies (test/support/wasm.ts allocErrors()).
import { AllocError } from "../../../kernel/mm/core/alloc-error";

export const ALLOC_OK: i32 = AllocError.Ok;
export const ALLOC_FOREIGN: i32 = AllocError.Foreign;
export const ALLOC_MISALIGNED: i32 = AllocError.Misaligned;
export const ALLOC_INTERIOR: i32 = AllocError.Interior;
export const ALLOC_DOUBLE_FREE: i32 = AllocError.DoubleFree;
export const ALLOC_WRONG_CACHE: i32 = AllocError.WrongCache;
