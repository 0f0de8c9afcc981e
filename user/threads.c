/* threads [MODE]: a process with several threads.
 *   (none)  four threads add to a shared counter with lock xadd and end with thread_exit; the
 *           first thread waits (yielding) until all have ended; exits 0 when the count is right
 *   fault   a thread dereferences null while the first one waits: the whole process dies (139)
 *   exit    a thread calls exit(5) while the others spin: the whole process ends with 5
 *   exec    three threads spin; the first calls execve("hello"): the others end, hello runs (1)
 *   wait    CHILDREN children end one after another while four threads wait for any child at
 *           once: each child must be reaped exactly once (a child two threads took would be
 *           freed twice); exits 0 when every child and every status came back once */
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
static volatile int reaped, statuses;
static int waiter(void *arg) {
  (void)arg;
  int status;
  for (int pid; (pid = waitpid(-1, &status, 0)) > 0; ) { atomic_add(&reaped, 1); atomic_add(&statuses, status); }
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
  for (int i = 0; i < THREADS - 1; i++) if (thread_create(waiter, 0, stacks[i], STACK) < 0) return 1;
  waiter(0);
  while (done < THREADS) sleep_ms(1);   /* (not yield: see docs/smp.md "Known problems", -icount) */
  if (reaped != CHILDREN || statuses != expected) {
    print("threads: reaped "); print_dec(reaped); print(" children, statuses "); print_dec(statuses); print("\n");
    return 1;
  }
  print("threads: 4 threads waiting at once reaped 48 children, each once\n");
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
