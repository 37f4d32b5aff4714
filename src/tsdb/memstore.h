/*
 * memstore.h — the reference store: every series in a hash map, samples in
 * plain sorted arrays, no compression, no disk. It backs the PromQL
 * conformance runner and unit tests, and is the oracle the tsdb is checked
 * against (same workload, identical query results).
 */
#ifndef VIGIL_MEMSTORE_H
#define VIGIL_MEMSTORE_H

#include "tsdb/storage.h"

/* Make an empty in-memory store. Free it with s->ops->close(s->impl). */
void memstore_open(struct storage *s /* out */);
/* Drop every series (the PromQL test scripts' `clear`). */
void memstore_clear(struct storage *s);

#endif
