/* SPDX-License-Identifier: MIT */
/* Monotonic time in milliseconds: every deadline and timer in stunt uses it. */
#ifndef STUNT_CLOCK_H
#define STUNT_CLOCK_H

#include <stdint.h>

uint64_t clock_ms(void);
uint64_t clock_us(void);

#endif
