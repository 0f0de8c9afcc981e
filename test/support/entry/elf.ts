// Host build of kernel/proc/elf.ts (reading an executable), exported for test/proc/elf.test.ts.
import { ElfImage, ELF_IMAGE_BYTES, elfRead, elfSegmentAddress, elfSegmentMemBytes, elfSegmentOffset, elfSegmentFileBytes, elfSegmentFlags } from "../../../kernel/proc/elf";

const FILE_MAX: u32 = 1 << 20;
const file = memory.data(<i32>FILE_MAX, 16);
const image = changetype<ElfImage>(memory.data(<i32>ELF_IMAGE_BYTES, 8));

/** Where the test writes the file (at most FILE_MAX bytes). */
export function fileAddress(): usize { return file; }
export function read(bytes: u32, low: u32, high: u32): u32 { return <u32>elfRead(file, bytes, low, high, image); }
export function entry(): u32 { return image.entry; }
export function count(): u32 { return image.count; }
export function address(i: u32): u32 { return elfSegmentAddress(image, i); }
export function memBytes(i: u32): u32 { return elfSegmentMemBytes(image, i); }
export function offset(i: u32): u32 { return elfSegmentOffset(image, i); }
export function fileBytes(i: u32): u32 { return elfSegmentFileBytes(image, i); }
export function flags(i: u32): u32 { return elfSegmentFlags(image, i); }
