#ifndef ASKERN_MATH_H
#define ASKERN_MATH_H
/* Declared for the float helpers wasm2c always emits. The kernel uses no floating point, so
   these are never called and never linked (the helpers are static and dropped). */
double floor(double); float floorf(float); double ceil(double); float ceilf(float);
double trunc(double); float truncf(float); double nearbyint(double); float nearbyintf(float);
double fabs(double); float fabsf(float); double sqrt(double); float sqrtf(float);
double fmin(double, double); float fminf(float, float); double fmax(double, double); float fmaxf(float, float);
double copysign(double, double); float copysignf(float, float);
#define INFINITY __builtin_inff()
#define NAN __builtin_nanf("")
#define isnan(x) __builtin_isnan(x)
#define signbit(x) __builtin_signbit(x)
#endif
