// librecord.so: records a program's heap calls for `make record` (docs/traces.md).
//
//   LD_PRELOAD=build/record/librecord.so ASKERN_RECORD=/tmp/rec/run <program> ...
//
// Every malloc, calloc, realloc, free, memalign, posix_memalign, aligned_alloc, valloc and
// pvalloc of the program (and of the C library inside it: glibc lets a preloaded library replace
// malloc, and calls the replacement itself) is passed on to glibc's own allocator and written,
// with its result, as one fixed-size record to ASKERN_RECORD.<pid>.rec. A child made by fork gets
// a file of its own; a program started by exec gets the library again through LD_PRELOAD, and the
// file of its process afresh (the records before the exec were of another program).
// scripts/record.ts turns the records into a trace.
//
// A record (little-endian, 32 bytes; struct record below):
//
//   +------+------+------------------+------------------+------------------+
//   | op   | 0    | arg0             | arg1             | result           |
//   | u8   | 7 B  | u64              | u64              | u64              |
//   +------+------+------------------+------------------+------------------+
//
//   op        arg0           arg1           result
//   'm'       size           0              pointer        malloc
//   'c'       count          size           pointer        calloc
//   'r'       old pointer    size           pointer        realloc
//   'f'       pointer        0              0              free
//   'a'       alignment      size           pointer        memalign, posix_memalign, aligned_alloc,
//                                                          valloc (4096), pvalloc (4096, rounded)
//
// Records go through a buffer under a spin lock (threads record in the order they took it) and
// reach the file with write(2) when it fills and at exit (exit, or _exit, which the library
// replaces too). The library allocates nothing itself.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_memalign(size_t alignment, size_t size);

struct record {
  uint8_t op;
  uint8_t pad[7];
  uint64_t arg0, arg1, result;
};
_Static_assert(sizeof(struct record) == 32, "the converter reads 32-byte records");

#define BUFFER_RECORDS 4096
static struct record buffer[BUFFER_RECORDS];
static unsigned used;
static int fd = -1;          // -1: not open yet; -2: recording is off (no ASKERN_RECORD, or no file)
static pid_t owner;          // the process the file belongs to (a forked child opens its own)
static volatile int lock;

static void take(void) { while (__atomic_exchange_n(&lock, 1, __ATOMIC_ACQUIRE)) { } }
static void give(void) { __atomic_store_n(&lock, 0, __ATOMIC_RELEASE); }

/** Writes the buffer out; the lock is held. A failed write stops the recording (and says so). */
static void flush(void) {
  const char *p = (const char *)buffer;
  size_t left = used * sizeof(struct record);
  while (left > 0 && fd >= 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      static const char msg[] = "librecord: write failed; the recording is cut short here\n";
      (void)!write(2, msg, sizeof msg - 1);
      close(fd);
      fd = -2;
      break;
    }
    p += n;
    left -= (size_t)n;
  }
  used = 0;
}

/** Opens ASKERN_RECORD.<pid>.rec for this process; the lock is held. getenv and snprintf do not
 *  allocate in glibc. */
static void open_file(pid_t pid) {
  const char *prefix = getenv("ASKERN_RECORD");
  if (prefix == NULL || prefix[0] == 0) { fd = -2; return; }
  char path[4096];
  int n = snprintf(path, sizeof path, "%s.%d.rec", prefix, (int)pid);
  if (n < 0 || (size_t)n >= sizeof path) { fd = -2; return; }
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    static const char msg[] = "librecord: cannot create the record file; nothing is recorded\n";
    (void)!write(2, msg, sizeof msg - 1);
    fd = -2;
  }
  owner = pid;
}

static void record(uint8_t op, uint64_t arg0, uint64_t arg1, uint64_t result) {
  take();
  pid_t pid = getpid();
  if (fd != -2 && pid != owner) {
    // the first call, or the first in a forked child: the buffer holds the parent's records,
    // which the parent writes itself
    used = 0;
    fd = -1;
    open_file(pid);
  }
  if (fd >= 0) {
    buffer[used++] = (struct record){ .op = op, .arg0 = arg0, .arg1 = arg1, .result = result };
    if (used == BUFFER_RECORDS) flush();
  }
  give();
}

__attribute__((destructor)) static void finish(void) {
  take();
  if (fd >= 0 && getpid() == owner) flush();
  give();
}

// A forked child often ends with _exit, which runs no destructor: flush first.
void _exit(int status) {
  finish();
  syscall(SYS_exit_group, status);
  __builtin_unreachable();
}

void _Exit(int status) { _exit(status); }

void *malloc(size_t size) {
  void *p = __libc_malloc(size);
  record('m', size, 0, (uintptr_t)p);
  return p;
}

void *calloc(size_t count, size_t size) {
  void *p = __libc_calloc(count, size);
  record('c', count, size, (uintptr_t)p);
  return p;
}

void *realloc(void *old, size_t size) {
  void *p = __libc_realloc(old, size);
  record('r', (uintptr_t)old, size, (uintptr_t)p);
  return p;
}

void free(void *p) {
  if (p == NULL) return;
  // recorded before glibc may hand the block to another thread
  record('f', (uintptr_t)p, 0, 0);
  __libc_free(p);
}

void *memalign(size_t alignment, size_t size) {
  void *p = __libc_memalign(alignment, size);
  record('a', alignment, size, (uintptr_t)p);
  return p;
}

void *aligned_alloc(size_t alignment, size_t size) { return memalign(alignment, size); }

int posix_memalign(void **out, size_t alignment, size_t size) {
  if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
  void *p = memalign(alignment, size);
  if (p == NULL && size != 0) return ENOMEM;
  *out = p;
  return 0;
}

void *valloc(size_t size) { return memalign(4096, size); }

void *pvalloc(size_t size) { return memalign(4096, (size + 4095) & ~(size_t)4095); }
