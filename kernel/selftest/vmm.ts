// Self-tests of the kernel's page tables (kernel/mm/virt/paging.ts through kernel/mm/virt/vmm.ts).
import { registerTest, registerPanicTest, check, checkEqual } from "./harness";
import { linkerAddress, LinkerSymbol } from "../arch/x86";
import { allocFrame, freeFrame, pmmFreeFrames } from "../mm/phys/pmm";
import { FrameError } from "../mm/core/frames";
import { kernelMap, kernelUnmap, kernelProtect, kernelTranslate, kernelEntry, kernelAddressSpace, vmmLinearMapEnd } from "../mm/virt/vmm";
import { PagingError, PAGE_WRITABLE, PAGE_PRESENT, NOT_MAPPED } from "../mm/virt/paging";
import { fixmapAddress, FixmapSlot } from "../mm/layout";
import { puts } from "../console/console";

/** A fixed-mapping page the tests may map and unmap (outside the range allocator's area). */
const TEST_PAGE: u32 = fixmapAddress(FixmapSlot.TestScratch);
/** Where the boot stub's 4 KiB-page tables end and its 4 MiB pages begin (boot/entry.asm). */
const SMALL_PAGES_END: u32 = 8 << 20;
/** The least RAM the kernel boots with (boot/entry.asm's MIN_RAM_MIB). */
const MIN_RAM: u32 = 8 << 20;

registerTest("vmm.kernel_image_readonly", () => {
  const text = <u32>linkerAddress(LinkerSymbol.TextStart);
  const rodataLast = <u32>linkerAddress(LinkerSymbol.RodataEnd) - 1;
  check((kernelEntry(text) & PAGE_PRESENT) != 0 && (kernelEntry(text) & PAGE_WRITABLE) == 0, ".text is present and read-only");
  check((kernelEntry(rodataLast & ~4095) & PAGE_WRITABLE) == 0, ".rodata's last page is read-only");
  check((kernelEntry(<u32>linkerAddress(LinkerSymbol.BootStackBottom)) & PAGE_WRITABLE) != 0, "the boot stack is writable");
  checkEqual(kernelTranslate(text), <u64>(text - 0xC0000000), "translate in the 4 KiB part of the kernel map");
  const end = vmmLinearMapEnd();
  // (with 8 MiB of RAM the linear map has no 4 MiB page: it is all the boot stub's page tables)
  if (end > SMALL_PAGES_END) checkEqual(kernelTranslate(0xC0800123), 0x00800123, "translate in a 4 MiB page of the linear map");
  else puts("# the linear map ends at 8 MiB: it has no 4 MiB page to translate in\n");
  checkEqual(kernelTranslate(0x00000000), NOT_MAPPED, "page 0 is not mapped");
  checkEqual(kernelTranslate(0xC0000000), NOT_MAPPED, "physical page 0 is not in the linear map");
  check(end >= MIN_RAM && (end & 0x3FFFFF) == 0, "the linear map ends on a 4 MiB boundary, at least at the least RAM");
  checkEqual(kernelTranslate(0xC0000000 + end - 4), <u64>(end - 4), "the linear map's last word is mapped");
  if (end < (896 << 20)) checkEqual(kernelTranslate(0xC0000000 + end), NOT_MAPPED, "past the memory map, nothing is mapped");
});

registerTest("vmm.map_unmap", () => {
  const freeBefore = pmmFreeFrames(), tablesBefore = kernelAddressSpace().tablesAllocated;
  const frame = allocFrame();
  if (!check(frame != 0, "a frame")) return;
  checkEqual(kernelTranslate(TEST_PAGE), NOT_MAPPED, "the test page starts unmapped");
  checkEqual(kernelMap(TEST_PAGE, frame, PAGE_WRITABLE), PagingError.Ok, "map");
  checkEqual(kernelTranslate(TEST_PAGE + 8), <u64>frame + 8, "translate");
  store<u32>(TEST_PAGE, 0x600DF00D);
  store<u32>(TEST_PAGE + 4092, 0xFEEDFACE);
  checkEqual(load<u32>(TEST_PAGE), 0x600DF00D, "read back through the mapping");
  checkEqual(kernelMap(TEST_PAGE, frame, PAGE_WRITABLE), PagingError.AlreadyMapped, "no silent remap");
  checkEqual(kernelProtect(TEST_PAGE, 0), PagingError.Ok, "protect read-only");
  checkEqual(kernelEntry(TEST_PAGE) & PAGE_WRITABLE, 0, "the entry lost its writable bit");
  checkEqual(kernelUnmap(TEST_PAGE), frame, "unmap returns the frame");
  checkEqual(kernelTranslate(TEST_PAGE), NOT_MAPPED, "unmapped");
  checkEqual(kernelUnmap(TEST_PAGE), 0, "unmapping again is refused");
  if (vmmLinearMapEnd() > SMALL_PAGES_END) {
    checkEqual(kernelMap(0xC0800000, frame, PAGE_WRITABLE), PagingError.LargePage, "the linear map is not remapped page-wise");
  }
  // Map the same frame again: what was written is still in the frame.
  checkEqual(kernelMap(TEST_PAGE, frame, 0), PagingError.Ok, "map again, read-only");
  checkEqual(load<u32>(TEST_PAGE + 4092), 0xFEEDFACE, "the frame kept its contents");
  checkEqual(kernelUnmap(TEST_PAGE), frame, "unmap");
  checkEqual(freeFrame(frame), FrameError.Ok, "free the frame");
  const newTables = kernelAddressSpace().tablesAllocated - tablesBefore;
  check(newTables <= 1, "at most one page table was created");
  checkEqual(pmmFreeFrames(), freeBefore - newTables, "no frame leaked (page tables are kept)");
});

registerPanicTest("panic.write_kernel_text", "#PF page fault|protection violation on a present page, write", () => {
  store<u32>(linkerAddress(LinkerSymbol.TextStart), 0);
});
