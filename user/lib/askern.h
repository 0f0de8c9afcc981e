/* askern's user-space library: the system calls (docs/processes.md has the ABI and each call's
 * errors) and a few string and printing helpers. Freestanding: no libc, no headers but this.
 *
 *   int 0x80   eax = number (in) / result or -errno (out), ebx ecx edx = arguments */
#ifndef ASKERN_H
#define ASKERN_H

typedef unsigned int u32;
typedef unsigned long long u64;

enum {
  SYS_EXIT = 0, SYS_WRITE = 1, SYS_GETPID = 2, SYS_YIELD = 3, SYS_SLEEP = 4, SYS_MMAP = 5,
  SYS_MUNMAP = 6, SYS_MPROTECT = 7, SYS_BRK = 8, SYS_FORK = 9, SYS_WAITPID = 10, SYS_EXECVE = 11,
  SYS_MEMSTATS = 12, SYS_THREAD_CREATE = 13, SYS_THREAD_EXIT = 14,
};
enum { EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, E2BIG = 7, ENOEXEC = 8, ECHILD = 10, EAGAIN = 11,
       ENOMEM = 12, EFAULT = 14, EEXIST = 17, EINVAL = 22, ENOSYS = 38 };
enum { PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4 };
enum { WNOHANG = 1 };
#define PAGE_SIZE 4096u
/* where mmap places mappings it chooses: [MMAP_BASE, MMAP_END) (docs/memory-layout.md) */
#define MMAP_BASE 0x40000000u
#define MMAP_END  0xBFFFF000u

/* memstats: the calling process's memory, and the system's */
struct memstats {
  u32 resident_pages;    /* pages mapped to a frame of its own or shared (zero page excluded) */
  u32 committed_pages;   /* pages promised to it (commit accounting) */
  u32 regions;
  u32 faults;            /* page faults served */
  u32 cow_copies;        /* write faults that copied a shared page */
  u32 zero_maps;         /* read faults that mapped the shared zero page */
  u32 free_frames;       /* the system's free frames */
  u32 commit_limit;      /* pages every process together may commit (strict mode) */
  u32 committed_total;   /* pages committed by every process */
  u32 strict;            /* 1: strict commit accounting, 0: overcommit */
};

static inline int syscall3(int n, u32 a, u32 b, u32 c) {
  int r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory");
  return r;
}
static inline __attribute__((noreturn)) void exit(int code) {
  syscall3(SYS_EXIT, (u32)code, 0, 0);
  __builtin_unreachable();
}
static inline int write(const void *buf, u32 n) { return syscall3(SYS_WRITE, (u32)buf, n, 0); }
static inline int getpid(void) { return syscall3(SYS_GETPID, 0, 0, 0); }
static inline int yield(void) { return syscall3(SYS_YIELD, 0, 0, 0); }
static inline int sleep_ms(u32 ms) { return syscall3(SYS_SLEEP, ms, 0, 0); }
/* anonymous private memory, lazily committed; addr 0: anywhere, else exactly there (-EEXIST if taken) */
static inline int mmap(void *addr, u32 length, u32 prot) { return syscall3(SYS_MMAP, (u32)addr, length, prot); }
static inline int munmap(void *addr, u32 length) { return syscall3(SYS_MUNMAP, (u32)addr, length, 0); }
static inline int mprotect(void *addr, u32 length, u32 prot) { return syscall3(SYS_MPROTECT, (u32)addr, length, prot); }
/* sets the break (0: just asks); returns the break, unchanged when it could not move */
static inline u32 brk(u32 end) { return (u32)syscall3(SYS_BRK, end, 0, 0); }
static inline int fork(void) { return syscall3(SYS_FORK, 0, 0, 0); }
static inline int waitpid(int pid, int *status, u32 options) { return syscall3(SYS_WAITPID, (u32)pid, (u32)status, options); }
static inline int execve(const char *name, char *const argv[]) { return syscall3(SYS_EXECVE, (u32)name, (u32)argv, 0); }
static inline int memstats(struct memstats *out) { return syscall3(SYS_MEMSTATS, (u32)out, 0, 0); }
/* ends the calling thread (the process, if it is the last) */
static inline __attribute__((noreturn)) void thread_exit(int code) {
  syscall3(SYS_THREAD_EXIT, (u32)code, 0, 0);
  __builtin_unreachable();
}
/* a new thread running fn(arg) on the `size` bytes at `stack`; it ends with thread_exit(fn's
 * result). Its id, or -errno. (lib.c: the trampoline) */
int thread_create(int (*fn)(void *), void *arg, void *stack, u32 size);
static inline int atomic_add(volatile int *at, int n) {
  __asm__ volatile("lock xaddl %0, %1" : "+r"(n), "+m"(*at) : : "memory");
  return n;
}
static inline u32 rdtsc32(void) { u32 lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return lo; }
static inline int is_error(int r) { return r < 0 && r > -4096; }

/* lib.c */
u32 strlen(const char *s);
int streq(const char *a, const char *b);
u32 parse_u32(const char *s);
void print(const char *s);
void print_dec(int n);
void print_hex(u32 n);
/* print the words, a name and value pair per call: "name=value " */
void say(const char *what, int value);
void *memset(void *d, int c, u32 n);
void *memcpy(void *d, const void *s, u32 n);

#endif
