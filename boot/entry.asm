; askern boot stub: multiboot header, magic check, boot page tables, jump to the higher half.
;
; The loader (GRUB or QEMU -kernel) enters _start with paging off, EAX = 0x2BADB002 and EBX =
; the physical address of the multiboot information structure. _start and the header live in
; .boot, linked at virtual == physical: GRUB maps ELF's e_entry through the segments' virtual
; addresses, QEMU's loader jumps to it as a physical address, and only this satisfies both.
; The rest of the kernel is linked at 0xC0000000 + phys, so until paging is on this code
; writes every address of it as (symbol - KERNEL_VMA_OFFSET).
;
; Boot address space (replaced by the VMM later):
;
;   virtual                      physical        how
;   0x00000000-0x007FFFFF   ->   0-8 MiB         identity, only until the jump; then removed
;   0xC0000000-0xC07FFFFF   ->   0-8 MiB         two 4 KiB page tables (so single pages can be
;                                                left unmapped: the stack guard page)
;   0xC0800000-0xF7FFFFFF   ->   8-896 MiB       4 MiB PSE pages (the early linear map)
;
; Virtual page 0 is not mapped once the kernel runs: a null dereference faults.

bits 32

MB_MAGIC        equ 0x1BADB002
MB_FLAG_ALIGN   equ 1 << 0            ; page-align modules
MB_FLAG_MEMINFO equ 1 << 1            ; we want mem_lower/mem_upper and the memory map
MB_FLAGS        equ MB_FLAG_ALIGN | MB_FLAG_MEMINFO
MB_BOOT_MAGIC   equ 0x2BADB002        ; what a multiboot loader leaves in EAX

KERNEL_VMA_OFFSET equ 0xC0000000
PDE_KERNEL_BASE   equ KERNEL_VMA_OFFSET >> 22   ; 768
LOW_TABLES        equ 2                          ; 4 KiB-page tables for the first 8 MiB
LINEAR_MAP_PDES   equ 224                        ; 224 * 4 MiB = 896 MiB

PTE_PRESENT  equ 1 << 0
PTE_WRITABLE equ 1 << 1
PDE_4MIB     equ 1 << 7
CR0_WP       equ 1 << 16
CR0_PG       equ 1 << 31
CR4_PSE      equ 1 << 4

COM1 equ 0x3F8
VGA_TEXT        equ 0xB8000
DEBUG_EXIT_PORT equ 0xF4              ; QEMU's isa-debug-exit (kernel/arch/qemu.ts)
EXIT_FAIL       equ 0x11              ; ExitCode.Fail: QEMU exits with status 35

; The least RAM askern runs with (README "Requirements"): every self-test passes or skips from
; here up. Checked first of all, before paging and before the AssemblyScript data is touched.
MIN_RAM_MIB     equ 8
MB_INFO_MEM     equ 1 << 0            ; multiboot info flags: mem_lower/mem_upper valid
MB_INFO_CMDLINE equ 1 << 2            ; cmdline valid

section .multiboot
align 4
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)

section .boot
global _start
extern kernel_entry
_start:
    cli
    cld
    cmp eax, MB_BOOT_MAGIC
    jne not_multiboot
    mov esi, ebx                                   ; keep the multiboot info address
    mov esp, boot_stack_top - KERNEL_VMA_OFFSET    ; (physical until paging is on)

    ; --- enough RAM? RAM = 1 MiB + mem_upper KiB, in MiB rounded up (GRUB's mem_upper stops
    ; below the ACPI tables QEMU puts at the top of RAM, a little under the -m size). A loader
    ; that gives no mem_upper is left to the PMM, which reads the memory map and says what it finds.
    test dword [esi], MB_INFO_MEM
    jz .ram_checked
    mov eax, [esi + 8]
    add eax, 1024 + 1023
    shr eax, 10
    cmp eax, MIN_RAM_MIB
    jb too_little_ram
.ram_checked:

    rdtsc                                          ; instruction count at entry (under -icount)
    mov [boot_entry_tsc - KERNEL_VMA_OFFSET], eax
    mov [boot_entry_tsc - KERNEL_VMA_OFFSET + 4], edx

    ; --- the two low page tables: 2048 entries, phys 0 .. 8 MiB, present + writable
    mov edi, boot_page_tables - KERNEL_VMA_OFFSET
    mov eax, PTE_PRESENT | PTE_WRITABLE
    mov ecx, 1024 * LOW_TABLES
.fill_pte:
    stosd
    add eax, 4096
    loop .fill_pte
    ; leave the page below the boot stack unmapped: a stack overflow then faults, and the
    ; double-fault task (on its own stack) reports it
    mov eax, boot_stack_guard - KERNEL_VMA_OFFSET
    shr eax, 12
    mov dword [boot_page_tables - KERNEL_VMA_OFFSET + eax * 4], 0

    ; --- page directory
    mov edi, boot_page_directory - KERNEL_VMA_OFFSET
    mov eax, boot_page_tables - KERNEL_VMA_OFFSET + (PTE_PRESENT | PTE_WRITABLE)
    mov [edi + 0 * 4], eax                          ; identity, for the jump only
    mov [edi + PDE_KERNEL_BASE * 4], eax
    add eax, 4096
    mov [edi + 1 * 4], eax
    mov [edi + (PDE_KERNEL_BASE + 1) * 4], eax
    mov eax, (LOW_TABLES * 0x400000) | PDE_4MIB | PTE_PRESENT | PTE_WRITABLE
    mov ecx, LINEAR_MAP_PDES - LOW_TABLES
    lea edi, [edi + (PDE_KERNEL_BASE + LOW_TABLES) * 4]
.fill_pde:
    stosd
    add eax, 0x400000
    loop .fill_pde

    mov eax, cr4
    or eax, CR4_PSE
    mov cr4, eax
    mov eax, boot_page_directory - KERNEL_VMA_OFFSET
    mov cr3, eax
    mov eax, cr0
    or eax, CR0_PG | CR0_WP
    mov cr0, eax
    mov eax, higher_half                            ; an absolute (virtual) address
    jmp eax

section .text
higher_half:
    mov dword [boot_page_directory + 0], 0          ; drop the identity map
    mov dword [boot_page_directory + 4], 0
    mov eax, cr3
    mov cr3, eax
    mov esp, boot_stack_top
    xor ebp, ebp                                    ; the end of every backtrace
    push esi
    call kernel_entry                               ; never returns
.halt:
    cli
    hlt
    jmp .halt

section .boot
; --- the refusals before paging: a line on COM1 and on the VGA text screen, then halt ---------
; (these run at physical addresses, with the boot stack's physical address in ESP when set)

; Booted without a multiboot loader.
not_multiboot:
    mov esp, boot_stack_top - KERNEL_VMA_OFFSET
    mov edi, VGA_TEXT
    mov esi, not_multiboot_msg
    call early_puts
    jmp early_halt

; Less RAM than MIN_RAM_MIB (EAX: what was found, in MiB). One line; then, in test mode (the
; command line asks for test= or bench), QEMU exits with the failure status; otherwise halt.
; Below 5 MiB QEMU's loader puts the command line past the end of RAM (after the image, whose
; AssemblyScript data ends at 5 MiB), so it cannot be read: then the kernel exits as in test
; mode (under the launcher, the only place with the debug-exit device, that is what a test
; needs; a person has read the line).
too_little_ram:
    mov edi, VGA_TEXT
    push eax
    mov esi, ram_msg_1
    call early_puts
    pop eax
    call early_putdec
    mov esi, ram_msg_2
    call early_puts
    mov eax, MIN_RAM_MIB
    call early_putdec
    mov esi, ram_msg_3
    call early_puts
    test dword [ebx], MB_INFO_CMDLINE
    jz early_halt
    mov esi, [ebx + 16]
    mov eax, [ebx + 8]                              ; the command line must lie in RAM
    add eax, 1024
    shl eax, 10
    cmp esi, eax
    jae .test_mode
.scan:
    mov eax, [esi]                                  ; (may read 3 bytes past the NUL: in RAM or harmless)
    test al, al
    jz early_halt
    cmp eax, 'test'
    jne .not_test
    cmp byte [esi + 4], '='
    je .test_mode
.not_test:
    cmp eax, 'benc'
    jne .next
    cmp byte [esi + 4], 'h'
    je .test_mode
.next:
    inc esi
    jmp .scan
.test_mode:
    mov al, EXIT_FAIL
    out DEBUG_EXIT_PORT, al
    ; (no debug-exit device: fall through and halt)

early_halt:
    cli
    hlt
    jmp early_halt

; Prints the NUL-terminated string at ESI on COM1 and at EDI on the VGA screen (advanced).
; A newline moves EDI to the start of the next screen row.
early_puts:
    lodsb
    test al, al
    jz .done
    call early_putc
    jmp early_puts
.done:
    ret

; Prints EAX in decimal (a `div` per digit: this path runs once, to refuse the boot).
early_putdec:
    mov ecx, 10
    push 0                                          ; the end marker
.divide:
    xor edx, edx
    div ecx
    add dl, '0'
    push edx
    test eax, eax
    jnz .divide
.print:
    pop eax
    test eax, eax
    jz .done
    call early_putc
    jmp .print
.done:
    ret

; Prints the character in AL on COM1 (waiting for the transmitter) and on the VGA screen at EDI.
early_putc:
    push edx
    mov ah, 0x4F                                    ; white on red
    cmp al, 10
    je .serial
    cmp al, 13
    je .serial
    mov [edi], ax
    add edi, 2
.serial:
    push eax
    mov dx, COM1 + 5
.wait_tx:
    in al, dx
    test al, 0x20
    jz .wait_tx
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret

not_multiboot_msg:
    db "askern: not started by a multiboot loader (EAX != 0x2BADB002); halting.", 13, 10, 0
ram_msg_1:
    db "askern: ", 0
ram_msg_2:
    db " MiB of RAM found; askern needs at least ", 0
ram_msg_3:
    db " MiB. Halting.", 13, 10, 0

section .data
global boot_entry_tsc
align 8
boot_entry_tsc: dq 0

section .bss
global boot_page_directory, boot_page_tables, boot_stack_guard, boot_stack_bottom, boot_stack_top
align 4096
boot_page_directory: resb 4096
boot_page_tables:    resb 4096 * LOW_TABLES
boot_stack_guard:    resb 4096
boot_stack_bottom:   resb 32768
boot_stack_top:
