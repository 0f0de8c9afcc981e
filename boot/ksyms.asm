; The kernel's function-name table (kernel/diag/symbols.ts has its layout). The build links
; twice: first with an empty table, then with the table made from the first link's symbols.
; .ksyms comes after .text/.rodata/.data, so code addresses are the same in both links.
section .ksyms
align 4
    incbin KSYMS_FILE
