// What Swift's Glibc module leaves out because glibc declares it only with _GNU_SOURCE:
// a thread's CPU affinity. Written by hand: no package wraps it.
#ifndef FERRY_CLINUXTHREAD_H
#define FERRY_CLINUXTHREAD_H

/// A thread's allowed CPUs, kept to put them back (a cpu_set_t: 1024 CPUs).
typedef struct {
    unsigned long bits[16];
} ferry_cpu_mask;

/// Runs the calling thread on `cpu` only, keeping what it was allowed in `saved`.
/// Returns 0, or the errno (EINVAL: that CPU is offline or does not exist).
int ferry_pin_thread(int cpu, ferry_cpu_mask *saved);

/// Puts back what `ferry_pin_thread` saved. Returns 0 or the errno.
int ferry_restore_thread(const ferry_cpu_mask *saved);

#endif
