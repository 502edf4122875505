#define _GNU_SOURCE
#include "CLinuxThread.h"
#include <errno.h>
#include <sched.h>

_Static_assert(sizeof(ferry_cpu_mask) == sizeof(cpu_set_t), "ferry_cpu_mask is a cpu_set_t");

int ferry_pin_thread(int cpu, ferry_cpu_mask *saved) {
    if (sched_getaffinity(0, sizeof(cpu_set_t), (cpu_set_t *)saved) != 0) return errno;
    cpu_set_t only;
    CPU_ZERO(&only);
    CPU_SET(cpu, &only);
    return sched_setaffinity(0, sizeof only, &only) == 0 ? 0 : errno;
}

int ferry_restore_thread(const ferry_cpu_mask *saved) {
    return sched_setaffinity(0, sizeof(cpu_set_t), (const cpu_set_t *)saved) == 0 ? 0 : errno;
}
