/* askern's user-space library: strings and printing through write(2). */
#include "askern.h"

u32 strlen(const char *s) { u32 n = 0; while (s[n]) n++; return n; }
int streq(const char *a, const char *b) {
  while (*a && *a == *b) { a++; b++; }
  return *a == *b;
}
u32 parse_u32(const char *s) { u32 n = 0; while (*s >= '0' && *s <= '9') n = n * 10 + (u32)(*s++ - '0'); return n; }
void print(const char *s) { write(s, strlen(s)); }
void print_dec(int n) {
  char buf[12]; int i = 12; u32 v = n < 0 ? (u32)-n : (u32)n;
  do { buf[--i] = (char)('0' + v % 10); v /= 10; } while (v);
  if (n < 0) buf[--i] = '-';
  write(buf + i, (u32)(12 - i));
}
void print_hex(u32 n) {
  char buf[10] = { '0', 'x' };
  for (int i = 0; i < 8; i++) buf[2 + i] = "0123456789abcdef"[(n >> (28 - 4 * i)) & 15];
  write(buf, 10);
}
void say(const char *what, int value) { print(what); print("="); print_dec(value); print(" "); }
void *memset(void *d, int c, u32 n) { unsigned char *p = d; while (n--) *p++ = (unsigned char)c; return d; }
void *memcpy(void *d, const void *s, u32 n) { unsigned char *p = d; const unsigned char *q = s; while (n--) *p++ = *q++; return d; }

/* A new thread starts here with fn and arg on its stack: calls fn(arg), then thread_exit. */
__asm__(".globl thread_trampoline\nthread_trampoline:\n\tpop %eax\n\tcall *%eax\n\tpush %eax\n\tcall thread_trampoline_end\n");
void thread_trampoline(void);
__attribute__((noreturn, used)) void thread_trampoline_end(int code) { thread_exit(code); }

int thread_create(int (*fn)(void *), void *arg, void *stack, u32 size) {
  u32 *top = (u32 *)(((u32)stack + size) & ~15u);
  *--top = (u32)arg;   /* fn's argument, where it looks for it after the trampoline's call */
  *--top = (u32)fn;    /* popped by the trampoline */
  return syscall3(SYS_THREAD_CREATE, (u32)thread_trampoline, (u32)top, 0);
}
