; The application processors' way in (kernel/smp/start.ts; docs/smp.md, "Bring-up").
;
; ap_trampoline_start..ap_trampoline_end is copied to a free page below 1 MiB; a STARTUP IPI
; whose vector is that page's number starts an AP there in real mode, with CS = page >> 4 and
; IP = 0. The code finds its own physical base from CS, so it runs from any page:
;
;   real mode      a stack at the top of the page, the GDT below made the current one
;   protected      flat 0x08/0x10 segments; CR4, then CR3 from the parameters (a page
;                  directory with the kernel's half and this page identity-mapped); paging on
;   higher half    ESP and EAX from the parameters, then ap_entry (absolute), which calls
;                  ap_entry_c (boot/runtime.c) and so the kernel's apMain
;
; The page (offsets from its start):
;
;   0x000  code                          (at most TRAMPOLINE_PARAMS bytes)
;   0x100  cr3        the directory to run on until apMain loads the kernel's
;   0x104  cr4        the bootstrap processor's (PSE for the directory's 4 MiB pages, PGE)
;   0x108  stack      the AP's stack top (virtual)
;   0x10C  cpu        the AP's record (virtual: kernel/arch/percpu.ts), passed to apMain
;   0x110  gdt pointer u16 limit, u32 base (the base is written here by the code above)
;   0x118  gdt        null, flat ring-0 code (0x08), flat ring-0 data (0x10)
;   ...    the real-mode stack, down from 0xFF0
;
; kernel/smp/start.ts writes the four parameters before each STARTUP and keeps the offsets in
; step with these.

bits 16

TRAMPOLINE_PARAMS equ 0x100
TR_CR3          equ TRAMPOLINE_PARAMS + 0
TR_CR4          equ TRAMPOLINE_PARAMS + 4
TR_STACK        equ TRAMPOLINE_PARAMS + 8
TR_CPU          equ TRAMPOLINE_PARAMS + 12
TR_GDT_POINTER  equ TRAMPOLINE_PARAMS + 16
TR_GDT          equ TRAMPOLINE_PARAMS + 24
REAL_MODE_STACK equ 0xFF0

CR0_PE equ 1 << 0
CR0_WP equ 1 << 16
CR0_PG equ 1 << 31

section .rodata
global ap_trampoline_start, ap_trampoline_end

align 16
ap_trampoline_start:
    cli
    cld
    mov ax, cs
    mov ds, ax
    mov ss, ax
    mov sp, REAL_MODE_STACK
    xor ebx, ebx
    mov bx, ax
    shl ebx, 4                                   ; EBX: this page's physical address
    lea eax, [ebx + TR_GDT]
    mov [TR_GDT_POINTER + 2], eax
    o32 lgdt [TR_GDT_POINTER]
    mov eax, cr0
    or eax, CR0_PE
    mov cr0, eax
    lea eax, [ebx + (.protected - ap_trampoline_start)]
    push dword 0x08
    push eax
    o32 retf                                     ; into 32-bit code at EBX + .protected

bits 32
.protected:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov eax, [ebx + TR_CR4]
    mov cr4, eax
    mov eax, [ebx + TR_CR3]
    mov cr3, eax
    mov eax, cr0
    or eax, CR0_PG | CR0_WP
    mov cr0, eax                                 ; the next fetch is identity-mapped
    mov esp, [ebx + TR_STACK]
    mov eax, [ebx + TR_CPU]
    mov ecx, ap_entry
    jmp ecx

    times TRAMPOLINE_PARAMS - ($ - ap_trampoline_start) db 0
    dd 0, 0, 0, 0                                ; cr3, cr4, stack, cpu
    dw 3 * 8 - 1                                 ; the GDT pointer: limit
    dd 0                                         ;   and base (written above)
    dw 0                                         ; (to 8-byte alignment)
    dq 0                                         ; the GDT: null,
    dq 0x00CF9A000000FFFF                        ;   flat ring-0 code,
    dq 0x00CF92000000FFFF                        ;   flat ring-0 data
ap_trampoline_end:

section .text
; From the trampoline: paging on (its directory), interrupts off, ESP the AP's stack, EAX its
; record. ap_entry_c never returns.
global ap_entry
extern ap_entry_c
ap_entry:
    xor ebp, ebp                                 ; the end of the AP's backtraces
    push eax
    call ap_entry_c
.halt:
    cli
    hlt
    jmp .halt
