#ifndef ASKERN_ASSERT_H
#define ASKERN_ASSERT_H
/* The generated code asserts only on embedder bugs; they end in the kernel panic. */
__attribute__((noreturn)) void askern_assert_failed(const char *expr, const char *file, int line);
#define assert(e) ((e) ? (void)0 : askern_assert_failed(#e, __FILE__, __LINE__))
#endif
