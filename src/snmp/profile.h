/*
 * profile.h — SNMP device profiles: YAML data (profiles/NAME.yml) saying which
 * OIDs to poll on which devices and what to call the samples.
 *
 *   profile: if_mib                 # unique name
 *   match:                          # omitted: every device
 *     sysObjectID: [1.3.6.1.4.1.9]  # any of these prefixes, or
 *     sysDescr: "Cisco IOS"         # a PCRE2 regex on sysDescr
 *   scalars:
 *     - {name: sysUpTime, oid: 1.3.6.1.2.1.1.3.0, type: gauge}
 *   tables:
 *     - name: ifTable
 *       index: [ifIndex]            # labels for the index sub-identifiers
 *       labels:                     # string columns of the same index, cached
 *         ifName: 1.3.6.1.2.1.31.1.1.1.1
 *         portName: {oid: 1.0.8802.1.1.2.1.3.7.1.3, index: localPort}  # lookup
 *       metrics:
 *         - {name: ifHCInOctets, oid: 1.3.6.1.2.1.31.1.1.1.6, type: counter}
 *
 * Metric types: gauge, counter (stored raw, as Prometheus does), info (the
 * string value becomes a label named after the metric, value 1). A metric
 * with `unsigned: true` reads a negative INTEGER as its unsigned 32-bit
 * value (agents whose Integer32 counts wrapped past 2^31).
 * A label written {oid, index: LABEL} is a lookup: its column belongs to
 * another table whose index is the value of this table's index label LABEL
 * (LLDP's lldpRemLocalPortNum -> lldpLocPortId); walked with the labels.
 * An index entry may give a type: {name: ipAddressAddr, type: InetAddress}
 * (Integer, IpAddress, InetAddress, String; see enum prof_index).
 * If an index does not split into the labels `index` names, the whole
 * dotted suffix goes to the first index label.
 */
#ifndef VIGIL_SNMP_PROFILE_H
#define VIGIL_SNMP_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "snmp/ber.h"

#define PROFILE_FILE_MAX     (1u << 20)	/* bytes in one profile file */
#define PROFILE_ITEMS_MAX    512	/* metrics, labels, tables or prefixes in one list */
#define PROFILE_INDEX_MAX    8		/* index labels of one table */
#define PROFILES_MAX         256	/* profile files loaded */

enum prof_type { PROF_GAUGE, PROF_COUNTER, PROF_INFO };

/* How an index label is read from the row's OID suffix. */
enum prof_index {
	PROF_IX_INT,		/* one sub-identifier (the default) */
	PROF_IX_IPADDR,		/* IpAddress: four sub-identifiers, shown dotted */
	PROF_IX_INETADDR,	/* InetAddress: a length, then that many bytes; 4 shown as
				 * IPv4, 16 as IPv6 text */
	PROF_IX_STRING,		/* OCTET STRING: a length, then that many bytes, shown as
				 * text (0x-hex if not printable) */
};

struct prof_metric {
	char *name;		/* sample name (valid metric name) */
	struct snmp_oid oid;	/* column OID (tables) or instance OID (scalars) */
	enum prof_type type;	/* how the value is turned into a sample */
	int unsigned32;		/* a negative INTEGER is read as 2^32 + value (agents that
				 * overflow Integer32 columns such as hrStorageUsed) */
};

struct prof_label {
	char *name;		/* label name */
	struct snmp_oid oid;	/* string column indexed like the table */
	int by_index;		/* -1; else the column belongs to another table and is
				 * indexed by the value of index label by_index (a lookup) */
};

struct prof_table {
	char *name;			/* for logs */
	char *index[PROFILE_INDEX_MAX];	/* index label names */
	uint8_t index_type[PROFILE_INDEX_MAX]; /* enum prof_index per index label */
	size_t nindex;			/* used entries in index */
	struct prof_label *labels;	/* label columns */
	size_t nlabels;			/* entries in labels */
	struct prof_metric *metrics;	/* value columns */
	size_t nmetrics;		/* entries in metrics */
};

struct snmp_profile {
	char *name;			/* profile name */
	struct snmp_oid *prefixes;	/* sysObjectID prefixes that select it */
	size_t nprefixes;		/* entries in prefixes */
	char *descr_re;			/* sysDescr regex source, or NULL */
	void *descr_code;		/* compiled pcre2_code, or NULL */
	int always;			/* no match section: every device */
	struct prof_metric *scalars;	/* scalar OIDs */
	size_t nscalars;		/* entries in scalars */
	struct prof_table *tables;	/* tables */
	size_t ntables;			/* entries in tables */
};

struct snmp_profiles {
	struct snmp_profile *v;		/* loaded profiles, sorted by name */
	size_t n;			/* entries in v */
};

/* Parse one profile from YAML text; fname is used in errors. 0, or -EINVAL
 * with "fname:line:col: reason" in err (p is then empty). */
int snmp_profile_parse(const char *text, size_t len, const char *fname,
    struct snmp_profile *p /* out */, char *err, size_t errsz);
/* Free a parsed profile's contents (p itself is the caller's); NULL is fine. */
void snmp_profile_free(struct snmp_profile *p);
/* Load every *.yml / *.yaml in dir. 0, or -errno with the first error in err. */
int snmp_profiles_load_dir(const char *dir, struct snmp_profiles *out /* out */,
    char *err, size_t errsz);
/* Free every loaded profile; NULL is fine. */
void snmp_profiles_free(struct snmp_profiles *ps);
/* The profile called name, or NULL. */
const struct snmp_profile *snmp_profiles_find(const struct snmp_profiles *ps, const char *name);
/* 1 if p applies to a device with this sysObjectID (may be NULL) and sysDescr. */
int snmp_profile_matches(const struct snmp_profile *p, const struct snmp_oid *sysobjectid,
    const char *sysdescr);

#endif
