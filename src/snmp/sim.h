/*
 * sim.h — `vigil snmpsim`: an SNMP agent simulator for tests and benchmarks.
 *
 *   vigil snmpsim DIR [--listen ADDR:PORT]... [--advance] [--quiet]
 *                 [--v3 AUTH:PASSWORD[:PRIV:PASSWORD]]
 *
 * Serves every DIR/NAME.snmprec (snmpsim's `OID|TAG|VALUE` format) from one
 * UDP port: the v1/v2c community selects the device (NAME); with --v3 the
 * SNMPv3 user NAME does, all users sharing the given protocols and
 * passwords. GET, GETNEXT and GETBULK. Listens on loopback addresses only. With --advance, counters and
 * sysUpTime-like TimeTicks grow with time, so rates are non-zero.
 *
 * The record store is usable on its own (the unit tests and the benchmark
 * load recordings with it).
 */
#ifndef VIGIL_SNMP_SIM_H
#define VIGIL_SNMP_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "snmp/pdu.h"

#define SIM_LINE_MAX      (64u << 10)	/* bytes in one .snmprec line */
#define SIM_FILE_MAX      (64u << 20)	/* bytes in one .snmprec file */
#define SIM_DEVICES_MAX   100000	/* recordings served at once */
#define SIM_RESPONSE_MAX  65000		/* bytes in one response we build */

struct sim_rec {
	uint32_t *sub;		/* OID sub-identifiers, owned */
	uint32_t n;		/* sub-identifiers */
	uint8_t type;		/* BER tag of the value */
	uint8_t *s;		/* string/OID-contents/opaque bytes, owned (may be NULL) */
	size_t len;		/* bytes at s */
	int64_t i;		/* INTEGER */
	uint64_t u;		/* unsigned types: the value at load time */
	double rate;		/* growth per second with --advance (0: constant) */
};

struct sim_dev {
	char *name;		/* community = file name without .snmprec */
	struct sim_rec *recs;	/* sorted by OID, unique */
	size_t n;		/* records */
};

/* Load one .snmprec file. Return 0, or -errno with a "file:line: reason" in err. */
int sim_dev_load(const char *path, const char *name, struct sim_dev *d /* out */,
    char *err, size_t errsz);
/* Free a loaded device's records and name; NULL is fine. */
void sim_dev_free(struct sim_dev *d);
/* The value of record r at elapsed_s seconds since start (advance: grow). */
void sim_rec_value(const struct sim_rec *r, double elapsed_s, int advance,
    struct snmp_value *v /* out; borrows r's bytes */);
/* Answer one request PDU for device d into resp (vb malloced; free with
 * snmp_pdu_free). version decides v1 vs v2 error semantics. */
void sim_answer(const struct sim_dev *d, int version, const struct snmp_pdu *req,
    double elapsed_s, int advance, struct snmp_pdu *resp /* out */);

/* The subcommand; argv[0] is "snmpsim". Returns the process exit code. */
int snmpsim_main(int argc, char **argv);

#endif
