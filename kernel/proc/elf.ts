// Reading an ELF32 i386 executable (a multiboot module) for execve: the header and the program
// headers are checked before anything is mapped, so a bad file makes execve fail with a reason
// and never reaches the page tables. Hardware-independent: host tests feed it broken files
// (test/proc/elf.test.ts). Pure: any context (the caller owns the ElfImage it fills).
//
//   ELF header (52 bytes)                       program header (32 bytes, e_phnum of them)
//   +0  e_ident: 7F 'E' 'L' 'F', class, data    +0  p_type (1: PT_LOAD)   +4  p_offset
//   +16 e_type (2: executable)                  +8  p_vaddr               +12 p_paddr
//   +18 e_machine (3: i386)                     +16 p_filesz              +20 p_memsz
//   +24 e_entry   +28 e_phoff                   +24 p_flags (4 R, 2 W, 1 X)  +28 p_align
//   +42 e_phentsize  +44 e_phnum
//
// What it accepts: class 32-bit, little-endian, an executable for i386, at most ELF_MAX_SEGMENTS
// loadable segments, each inside the file, below its memory size, in [low, high) (the program
// area the caller gives), with p_vaddr and p_offset equal modulo the page size, no two sharing
// a page, and the entry point in an executable segment.

export const ELF_MAX_SEGMENTS: u32 = 8;
const HEADER_BYTES: u32 = 52;
const PHDR_BYTES: u32 = 32;
const PT_LOAD: u32 = 1;
export const ELF_FLAG_X: u32 = 1;
export const ELF_FLAG_W: u32 = 2;
export const ELF_FLAG_R: u32 = 4;

export const enum ElfError {
  Ok = 0,
  Truncated = 1,      // the file ends inside a header or a segment's bytes
  NotElf = 2,         // no ELF magic
  WrongClass = 3,     // not 32-bit little-endian
  NotExecutable = 4,  // not ET_EXEC
  WrongMachine = 5,   // not i386
  NoSegments = 6,     // no loadable segment, or more than ELF_MAX_SEGMENTS
  Misaligned = 7,     // p_vaddr and p_offset differ modulo 4096, or p_filesz > p_memsz
  OutsideArea = 8,    // a segment below the program area, in the kernel half, past it, or absurdly large
  Overlap = 9,        // two segments share a page
  BadEntry = 10,      // the entry point is in no executable segment
}

/** Why an executable was refused, in words (for the log). */
export function elfErrorText(error: ElfError): string {
  switch (error) {
    case ElfError.Ok: return "ok";
    case ElfError.Truncated: return "truncated (a header or a segment runs past the file's end)";
    case ElfError.NotElf: return "not an ELF file";
    case ElfError.WrongClass: return "not 32-bit little-endian ELF";
    case ElfError.NotExecutable: return "not an executable (ET_EXEC)";
    case ElfError.WrongMachine: return "not for i386";
    case ElfError.NoSegments: return "no loadable segment, or too many";
    case ElfError.Misaligned: return "a segment's address and file offset disagree modulo the page size, or its file size exceeds its memory size";
    case ElfError.OutsideArea: return "a segment outside the program area (page 0, the kernel half, or absurdly large)";
    case ElfError.Overlap: return "two segments share a page";
    default: return "the entry point is in no executable segment";
  }
}

// What elfRead found: { entry, count } then `count` segments of { vaddr, memsz, offset, filesz, flags }.
@unmanaged export class ElfImage {
  entry: u32;
  count: u32;
}
const SEGMENT_BYTES: u32 = 20;
/** Bytes of an ElfImage with room for every segment. */
export const ELF_IMAGE_BYTES: u32 = offsetof<ElfImage>() + ELF_MAX_SEGMENTS * SEGMENT_BYTES;

@inline function segmentAt(image: ElfImage, i: u32): usize { return changetype<usize>(image) + offsetof<ElfImage>() + i * SEGMENT_BYTES; }
export function elfSegmentAddress(image: ElfImage, i: u32): u32 { return load<u32>(segmentAt(image, i)); }
export function elfSegmentMemBytes(image: ElfImage, i: u32): u32 { return load<u32>(segmentAt(image, i), 4); }
export function elfSegmentOffset(image: ElfImage, i: u32): u32 { return load<u32>(segmentAt(image, i), 8); }
export function elfSegmentFileBytes(image: ElfImage, i: u32): u32 { return load<u32>(segmentAt(image, i), 12); }
export function elfSegmentFlags(image: ElfImage, i: u32): u32 { return load<u32>(segmentAt(image, i), 16); }

@inline function pageDown(a: u64): u64 { return a & ~(<u64>0xFFF); }
@inline function pageUp(a: u64): u64 { return (a + 0xFFF) & ~(<u64>0xFFF); }

/**
 * Checks the `bytes` bytes at `file` as an executable whose segments must lie in [low, high),
 * filling `image`. Ok, or the first problem found; `image` means nothing then. Reads only
 * inside [file, file + bytes). Any context.
 */
export function elfRead(file: usize, bytes: u32, low: u32, high: u32, image: ElfImage): ElfError {
  if (bytes < HEADER_BYTES) return bytes >= 4 && load<u32>(file) != 0x464C457F ? ElfError.NotElf : ElfError.Truncated;
  if (load<u32>(file) != 0x464C457F) return ElfError.NotElf;
  if (load<u8>(file, 4) != 1 || load<u8>(file, 5) != 1) return ElfError.WrongClass;
  if (load<u16>(file, 16) != 2) return ElfError.NotExecutable;
  if (load<u16>(file, 18) != 3) return ElfError.WrongMachine;
  const entry = load<u32>(file, 24), phoff = load<u32>(file, 28);
  const phentsize = <u32>load<u16>(file, 42), phnum = <u32>load<u16>(file, 44);
  if (phnum != 0 && phentsize != PHDR_BYTES) return ElfError.WrongClass;
  if (<u64>phoff + <u64>phnum * PHDR_BYTES > <u64>bytes) return ElfError.Truncated;
  image.entry = entry;
  image.count = 0;
  let entryOk = false;
  for (let i: u32 = 0; i < phnum; i++) {
    const ph = file + phoff + i * PHDR_BYTES;
    if (load<u32>(ph) != PT_LOAD) continue;
    const offset = load<u32>(ph, 4), vaddr = load<u32>(ph, 8);
    const filesz = load<u32>(ph, 16), memsz = load<u32>(ph, 20), flags = load<u32>(ph, 24) & 7;
    if (memsz == 0) continue;
    if (image.count == ELF_MAX_SEGMENTS) return ElfError.NoSegments;
    if (<u64>offset + <u64>filesz > <u64>bytes) return ElfError.Truncated;
    if (filesz > memsz || ((vaddr ^ offset) & 0xFFF) != 0) return ElfError.Misaligned;
    const start = pageDown(vaddr), end = pageUp(<u64>vaddr + <u64>memsz);
    if (start < <u64>low || end > <u64>high) return ElfError.OutsideArea;
    for (let j: u32 = 0; j < image.count; j++) {
      const otherStart = pageDown(elfSegmentAddress(image, j));
      const otherEnd = pageUp(<u64>elfSegmentAddress(image, j) + elfSegmentMemBytes(image, j));
      if (start < otherEnd && otherStart < end) return ElfError.Overlap;
    }
    const at = segmentAt(image, image.count);
    store<u32>(at, vaddr); store<u32>(at, memsz, 4); store<u32>(at, offset, 8); store<u32>(at, filesz, 12); store<u32>(at, flags, 16);
    image.count++;
    if ((flags & ELF_FLAG_X) != 0 && entry >= vaddr && <u64>entry < <u64>vaddr + memsz) entryOk = true;
  }
  if (image.count == 0) return ElfError.NoSegments;
  return entryOk ? ElfError.Ok : ElfError.BadEntry;
}
