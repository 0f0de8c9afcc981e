/* The C library functions that the wasm2c output and clang's code generation call.
 * AssemblyScript's memory.copy / memory.fill (bulk memory) become memmove / memset. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Whole words when it can (see memset below): a 64 KiB copy is 16,384 movsl under -icount
 * instead of 65,536 movsb. Unaligned copies move bytes. */
void *memcpy(void *dst, const void *src, size_t n) {
  void *ret = dst;
  if ((((uintptr_t)dst | (uintptr_t)src) & 3) == 0) {
    size_t words = n >> 2;
    n &= 3;
    __asm__ volatile("rep movsl" : "+D"(dst), "+S"(src), "+c"(words) : : "memory");
  }
  __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
  return ret;
}

void *memmove(void *dst, const void *src, size_t n) {
  if ((uintptr_t)dst <= (uintptr_t)src || (uintptr_t)dst >= (uintptr_t)src + n)
    return memcpy(dst, src, n);
  /* overlapping with dst above src: copy backwards, whole words when the ends are aligned */
  if ((((uintptr_t)dst | (uintptr_t)src | n) & 3) == 0) {
    uint32_t *d = (uint32_t *)((unsigned char *)dst + n) - 1;
    const uint32_t *s = (const uint32_t *)((const unsigned char *)src + n) - 1;
    size_t words = n >> 2;
    __asm__ volatile("std\n\trep movsl\n\tcld" : "+D"(d), "+S"(s), "+c"(words) : : "memory");
    return dst;
  }
  unsigned char *d = (unsigned char *)dst + n - 1;
  const unsigned char *s = (const unsigned char *)src + n - 1;
  __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
  return dst;
}

/* Whole words when it can: under -icount each repetition of a string instruction counts as
 * one instruction, so zeroing a page is 1,024 of them with stosl instead of 4,096 with stosb. */
void *memset(void *dst, int value, size_t n) {
  void *ret = dst;
  if ((((uintptr_t)dst | n) & 3) == 0) {
    uint32_t word = (uint8_t)value * 0x01010101u;
    size_t words = n >> 2;
    __asm__ volatile("rep stosl" : "+D"(dst), "+c"(words) : "a"(word) : "memory");
  } else {
    __asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(value) : "memory");
  }
  return ret;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

/* 64-bit division on i386: clang calls these for u64 / and % (formatting, statistics).
 * Shift-and-subtract, one bit a step: a few hundred instructions at most, never on a fast path. */
static uint64_t udivmod64(uint64_t n, uint64_t d, uint64_t *remainder) {
  if (d == 0) { __asm__ volatile("ud2"); }  /* wasm2c traps on zero before calling us */
  uint64_t q = 0, r = 0;
  for (int bit = 63; bit >= 0; bit--) {
    r = (r << 1) | ((n >> bit) & 1);
    if (r >= d) { r -= d; q |= (uint64_t)1 << bit; }
  }
  if (remainder) *remainder = r;
  return q;
}
uint64_t __udivdi3(uint64_t n, uint64_t d) {
  if ((n >> 32) == 0 && (d >> 32) == 0) return (uint32_t)n / (uint32_t)d;
  return udivmod64(n, d, 0);
}
uint64_t __umoddi3(uint64_t n, uint64_t d) {
  if ((n >> 32) == 0 && (d >> 32) == 0) return (uint32_t)n % (uint32_t)d;
  uint64_t r; udivmod64(n, d, &r); return r;
}
int64_t __divdi3(int64_t n, int64_t d) {
  int negative = (n < 0) != (d < 0);
  uint64_t q = __udivdi3(n < 0 ? -(uint64_t)n : (uint64_t)n, d < 0 ? -(uint64_t)d : (uint64_t)d);
  return negative ? -(int64_t)q : (int64_t)q;
}
int64_t __moddi3(int64_t n, int64_t d) {
  uint64_t r = __umoddi3(n < 0 ? -(uint64_t)n : (uint64_t)n, d < 0 ? -(uint64_t)d : (uint64_t)d);
  return n < 0 ? -(int64_t)r : (int64_t)r;
}
