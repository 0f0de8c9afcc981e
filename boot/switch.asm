; The kernel threads' context switch (kernel/sched/scheduler.ts). cdecl, interrupts off.
;
;   switch_context(u32 *save_sp, u32 new_sp)
;     pushes the callee-saved registers on the running thread's stack, stores its ESP in
;     *save_sp, loads new_sp and pops the next thread's registers, then returns into the next
;     thread: where it called switch_context, or thread_start for a thread never run.
;
; A switched-out thread's stack, from its saved ESP up:
;
;   +0 edi   +4 esi   +8 ebx   +12 ebp   +16 return address (into switch's caller, or thread_start)
;
; The caller-saved registers (eax, ecx, edx) and EFLAGS are the caller's business: the scheduler
; saves and restores the interrupt flag around the switch.
bits 32
section .text
global switch_context, thread_start
extern thread_start_c

switch_context:
    mov eax, [esp + 4]            ; save_sp
    mov edx, [esp + 8]            ; new_sp
    push ebp
    push ebx
    push esi
    push edi
    mov [eax], esp
    mov esp, edx
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; A new thread's first switch returns here (kernel/sched/thread.ts builds the frame above with
; zeroed registers). Interrupts on, then into the kernel's thread start, which never returns.
thread_start:
    xor ebp, ebp                  ; the end of the thread's backtrace
    sti
    call thread_start_c
.halt:
    cli
    hlt
    jmp .halt
