/* SPDX-License-Identifier: MIT
 *
 * Counter-based random numbers: a pure function of (seed, tensor, element),
 * so seeded weights, dropout masks and shuffles are the same whatever the
 * order or the thread that asks. The bottom of the engine: it calls nothing.
 */
#define G_LOG_DOMAIN "xc-random"

#include "xc-random.h"

#define GOLDEN 0x9E3779B97F4A7C15ull
#define MIX2   0xD1B54A32D192ED03ull

/**
 * xc_seeded_uniform:
 *
 * Returns: a uniform number in [0, 1) for element @i of tensor @tensor:
 *   the top 24 bits of splitmix64's finaliser applied to
 *   seed * GOLDEN + tensor * MIX2 + i * GOLDEN (mod 2^64)
 */
float
xc_seeded_uniform (guint64 seed, guint64 tensor, guint64 i)
{
  guint64 z = seed * GOLDEN + tensor * MIX2 + i * GOLDEN;

  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return (float) (z >> 40) * (1.0f / 16777216.0f);
}
