/*
 * crc32c.h — CRC-32C (Castagnoli), the checksum on every WAL record and
 * every block section. Uses the SSE4.2 crc32 instruction when the CPU has
 * it, else a table-driven loop; both give the same values.
 *
 *   uint32_t c = tsdb_crc32c(0, p, n);   // continue with tsdb_crc32c(c, q, m)
 */
#ifndef VIGIL_TSDB_CRC32C_H
#define VIGIL_TSDB_CRC32C_H
#include <stddef.h>
#include <stdint.h>

/* Return the CRC-32C of n bytes at p, continuing from crc (0 to start). */
uint32_t tsdb_crc32c(uint32_t crc, const void *p, size_t n);

#endif
