/* threads [MODE]: a process with several threads.
 *   (none)  four threads add to a shared counter with lock xadd and end with thread_exit; the
 *           first thread waits (yielding) until all have ended; exits 0 when the count is right
 *   fault   a thread dereferences null while the first one waits: the whole process dies (139)
 *   exit    a thread calls exit(5) while the others spin: the whole process ends with 5
 *   exec    three threads spin; the first calls execve("hello"): the others end, hello runs (1)
 *   wait    CHILDREN children end one after another while four threads wait for any child at
 *           once: each child must be reaped exactly once (a child two threads took would be
 *           freed twice); exits 0 when every child and every status came back once
 *   touch   four threads write to the same untouched pages at once, each its own word of every
 *           page: the first touch of a page is a fault one thread serves while the others may
 *           already write there; exits 0 when every word holds what its thread wrote */
#include "lib/askern.h"

#define THREADS 4
#define STACK 16384
static char stacks[THREADS][STACK] __attribute__((aligned(16)));
static volatile int counter, done;

static int adder(void *arg) {
  for (int i = 0; i < 1000; i++) atomic_add(&counter, 1);
  atomic_add(&done, 1);
  return (int)(u32)arg;
}
static int spinner(void *arg) { (void)arg; for (;;) yield(); }
static int faulter(void *arg) { (void)arg; return *(volatile int *)0; }
static int exiter(void *arg) { (void)arg; exit(5); }

#define CHILDREN 48
static volatile int reaped, statuses, ended[THREADS], mine[THREADS];
static int waiter(void *arg) {
  int status, pid, n = 0;
  while ((pid = waitpid(-1, &status, 0)) > 0) { n++; atomic_add(&reaped, 1); atomic_add(&statuses, status); }
  ended[(u32)arg] = pid;   /* what ended its loop (-ECHILD), and how many it reaped */
  mine[(u32)arg] = n;
  atomic_add(&done, 1);
  return 0;
}
static int wait_together(void) {
  int expected = 0;
  for (int i = 0; i < CHILDREN; i++) {
    int child = fork();
    if (child < 0) { print("threads: fork failed\n"); return 1; }
    if (child == 0) { sleep_ms(2 + (u32)i % 7); exit(i & 7); }
    expected += i & 7;
  }
  for (int i = 1; i < THREADS; i++) if (thread_create(waiter, (void *)i, stacks[i - 1], STACK) < 0) return 1;
  waiter(0);
  while (done < THREADS) sleep_ms(1);   /* (not yield: see docs/smp.md "Known problems", -icount) */
  if (reaped != CHILDREN || statuses != expected) {
    print("threads: reaped "); print_dec(reaped); print(" children, statuses "); print_dec(statuses);
    print("; each waiter's last answer / children:");
    for (int i = 0; i < THREADS; i++) { print(" "); print_dec(ended[i]); print(" / "); print_dec(mine[i]); }
    print("\n");
    return 1;
  }
  print("threads: 4 threads waiting at once reaped 48 children, each once\n");
  return 0;
}

#define TOUCH_PAGES 1024
static char *touched;
static volatile int ready;
static int toucher(void *arg) {
  u32 me = (u32)arg;
  atomic_add(&ready, 1);
  while (ready < THREADS) {}   /* (all start together: the first touches must race) */
  for (u32 p = 0; p < TOUCH_PAGES; p++) *(volatile u32 *)(touched + p * 4096 + me * 1024) = p + 1;
  atomic_add(&done, 1);
  return 0;
}
static int touch_together(void) {
  int at = mmap(0, TOUCH_PAGES * 4096, PROT_READ | PROT_WRITE);
  if (is_error(at)) { print("threads: mmap failed\n"); return 1; }
  touched = (char *)at;
  for (int i = 1; i < THREADS; i++) if (thread_create(toucher, (void *)i, stacks[i - 1], STACK) < 0) return 1;
  toucher(0);
  while (done < THREADS) sleep_ms(1);
  int lost = 0;
  for (u32 p = 0; p < TOUCH_PAGES; p++)
    for (u32 t = 0; t < THREADS; t++) if (*(u32 *)(touched + p * 4096 + t * 1024) != p + 1) lost++;
  if (lost != 0) { print("threads: "); print_dec(lost); print(" words lost of pages touched at once\n"); return 1; }
  print("threads: 4 threads wrote to 1024 untouched pages at once, nothing lost\n");
  return 0;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "";
  if (streq(mode, "fault") || streq(mode, "exit")) {
    for (int i = 0; i < 2; i++) thread_create(spinner, 0, stacks[i], STACK);
    if (thread_create(streq(mode, "fault") ? faulter : exiter, 0, stacks[2], STACK) < 0) return 1;
    for (;;) sleep_ms(10);   /* the whole process must end without this thread's help */
  }
  if (streq(mode, "wait")) return wait_together();
  if (streq(mode, "touch")) return touch_together();
  if (streq(mode, "exec")) {
    for (int i = 0; i < 3; i++) if (thread_create(spinner, 0, stacks[i], STACK) < 0) return 1;
    char *args[] = { "hello", 0 };
    execve("hello", args);
    return 2;
  }
  for (int i = 0; i < THREADS; i++) {
    int tid = thread_create(adder, (void *)(u32)i, stacks[i], STACK);
    if (tid < 0) { print("threads: thread_create: "); print_dec(tid); print("\n"); return 1; }
  }
  while (done < THREADS) yield();
  if (counter != THREADS * 1000) { print("threads: counter "); print_dec(counter); print("\n"); return 1; }
  print("threads: 4 threads added 4000\n");
  return 0;
}
