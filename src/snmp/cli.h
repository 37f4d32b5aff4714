/*
 * cli.h — `vigil snmpwalk`, a net-snmp-style walk/get tool built on vigil's
 * own engine (for troubleshooting a device and for the integration tests).
 */
#ifndef VIGIL_SNMP_CLI_H
#define VIGIL_SNMP_CLI_H

#include "core/buf.h"
#include "snmp/pdu.h"

/* Append v the way net-snmp prints it with -Ob and no MIBs
 * ("Counter64: 5", "Timeticks: (100) 0:00:01.00", "Hex-STRING: 00 1A "). */
void snmp_format_value(const struct snmp_value *v, struct buf *out);

/* The subcommand; argv[0] is "snmpwalk". Returns the process exit code:
 * 0 ok, 1 the device failed (reason on stderr), 2 usage. */
int snmpwalk_main(int argc, char **argv);

/* `vigil snmppoll [--profiles DIR] name=..,addr=..,v=2c,c=..  ...`: poll each
 * device once through the poll engine, print its samples (Prometheus text)
 * on stdout and a per-device status table on stderr. 0 if every device was
 * up, 1 if one was not, 2 usage. */
int snmppoll_main(int argc, char **argv);

#endif
