; Interrupt entry stubs. Every one of the 256 vectors gets a stub that pushes a dummy error code
; (when the CPU pushes none) and the vector number, then joins isr_common, which saves the
; registers and calls the AssemblyScript dispatcher with a pointer to this frame:
;
;   offset  field            pushed by
;   +0      gs               isr_common
;   +4      fs
;   +8      es
;   +12     ds
;   +16     edi              pusha
;   +20     esi
;   +24     ebp
;   +28     esp (ignored)
;   +32     ebx
;   +36     edx
;   +40     ecx
;   +44     eax
;   +48     vector           stub
;   +52     error code       CPU (vectors 8, 10-14, 17, 21, 29, 30) or stub (0)
;   +56     eip              CPU
;   +60     cs
;   +64     eflags
;
; kernel/arch/frame.ts mirrors this layout; keep the two in step.

bits 32
extern isr_dispatch_c
extern double_fault_c

%macro ISR_NOERR 1
isr_%1:
    push dword 0
    push dword %1
    jmp isr_common
%endmacro
%macro ISR_ERR 1
isr_%1:
    push dword %1
    jmp isr_common
%endmacro

section .text
%assign v 0
%rep 256
  %if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30
    ISR_ERR v
  %else
    ISR_NOERR v
  %endif
  %assign v v + 1
%endrep

; The common part: save the registers, load the kernel's data segments, call `%1` with a pointer
; to the frame, restore, return. One body for interrupts and exceptions (isr_dispatch_c) and one
; for system calls (syscall_dispatch_c: the int 0x80 gate's own stub, so that no interrupt pays
; a test for it).
%macro COMMON 2
%1:
    pusha
    push ds
    push es
    push fs
    push gs
    ; the kernel's segments, each loaded straight from memory (one instruction each), through
    ; CS: DS may be anything ring 3 left in it
    mov ds, [cs:kernel_data_selector]
    mov es, [cs:kernel_data_selector]
    mov gs, [cs:percpu_selector]  ; this CPU's record (kernel/arch/percpu.ts): a return to ring 3
                                  ; empties GS, and ring 3 may load anything there
    mov eax, esp
    push dword [eax + 56]       ; a fake frame so backtraces walk through the interrupt
    push ebp
    mov ebp, esp
    push eax
    call %2
    add esp, 12
%1_return:
    pop gs
    pop fs
    pop es
    pop ds
    popa
    add esp, 8                  ; vector and error code
    iret
%endmacro

extern syscall_dispatch_c
COMMON isr_common, isr_dispatch_c
COMMON syscall_common, syscall_dispatch_c

; int 0x80 (kernel/arch/idt.ts points its gate here)
global syscall_entry
syscall_entry:
    push dword 0
    push dword 0x80
    jmp syscall_common

; resume_user_frame(frame, top): a thread's first return to ring 3 (kernel/proc/process.ts). Copies
; the 76-byte ring-3 frame in the kmalloc'd block `frame` (the layout above, then the user ESP and
; SS) to the top of the thread's kernel stack, `top`, where every later entry from ring 3 puts its
; frame too; gives the block back (user_frame_free_c, called below the copied frame); and leaves
; through the common exit: registers, segments and the iret all come from the frame.
extern user_frame_free_c
global resume_user_frame
resume_user_frame:
    mov ebx, [esp + 4]
    mov edi, [esp + 8]
    sub edi, 76
    mov esi, ebx
    mov esp, edi
    mov ecx, 19
    cld
    rep movsd
    push ebx
    call user_frame_free_c
    add esp, 4
    jmp syscall_common_return

; The double-fault handler runs as its own task (an IDT task gate), with its own stack, so a
; kernel stack overflow reaches it even though the faulting stack is unusable.
global double_fault_task_entry
double_fault_task_entry:
    xor ebp, ebp
    call double_fault_c
.halt:
    cli
    hlt
    jmp .halt

section .rodata
kernel_data_selector: dw 0x10     ; (kernel/arch/gdt.ts)
percpu_selector:      dw 0x38
align 4
global isr_stub_table
align 4
isr_stub_table:
%assign v 0
%rep 256
    dd isr_ %+ v
  %assign v v + 1
%endrep
