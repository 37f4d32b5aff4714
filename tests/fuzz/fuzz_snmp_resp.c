/*
 * fuzz_snmp_resp — hostile datagrams into the async client's receive path, as
 * replies to a live GETBULK walk (v2c) and to SNMPv3 discovery and the
 * request after it: request matching, community/USM checks, report handling,
 * and the walker's loop/subtree logic. Egress refuses every send, so nothing
 * leaves the process; the pending requests stay until the input is fed in.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "sandbox/egress.h"
#include "snmp/client.h"
#include "snmp/walk.h"

static struct loop *loop;
static struct snmp_client *c;	/* one client for every input, like the daemon */
static uint8_t ku_auth[USM_KEY_MAX], ku_priv[USM_KEY_MAX];	/* hashed once */

static int on_vb(void *ctx, const struct snmp_varbind *vb)
{
	(void)ctx;
	(void)vb;
	return 0;
}

static void on_done(void *ctx, int status, const char *err)
{
	(void)ctx;
	(void)status;
	(void)err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!loop) {
		log_setup(LOG_FATAL, "fuzz");
		loop = loop_new();
		egress_reset();
		usm_password_to_key(USM_AUTH_SHA1, "fuzzpass1", 9, ku_auth);
		usm_password_to_key(USM_AUTH_SHA1, "fuzzpass2", 9, ku_priv);
		c = snmp_client_new(loop);
	}
	struct snmp_target_cfg cfg;
	struct snmp_target *t2 = NULL, *t3 = NULL;
	char err[128];
	memset(&cfg, 0, sizeof(cfg));
	snmp_parse_addr("127.0.0.1:161", &cfg.addr, &cfg.addrlen);
	cfg.name = "fuzz";
	cfg.version = SNMP_V2C;
	cfg.community = "public";
	snmp_client_testing_set_next_id(c, 1000);	/* first request-id: 1001 */
	snmp_target_new(c, &cfg, &t2, err, sizeof(err));
	struct snmp_oid root;
	snmp_oid_parse("1.3.6.1.2.1.2.2.1", &root);
	snmp_walk(t2, &root, 0, on_vb, on_done, NULL);
	snmp_client_testing_inject(c, data, size, &cfg.addr);
	snmp_target_free(t2);

	cfg.version = SNMP_V3;
	cfg.user = "fuzzuser";
	cfg.auth = USM_AUTH_SHA1;
	cfg.auth_ku = ku_auth;
	cfg.priv = USM_PRIV_AES128;
	cfg.priv_ku = ku_priv;
	snmp_client_testing_set_next_id(c, 1000);
	snmp_target_new(c, &cfg, &t3, err, sizeof(err));
	snmp_walk(t3, &root, 0, on_vb, on_done, NULL);
	snmp_client_testing_inject(c, data, size, &cfg.addr);	/* as discovery reply (1001) */
	snmp_client_testing_inject(c, data, size, &cfg.addr);	/* as the GETBULK reply (1002) */
	snmp_target_free(t3);
	return 0;
}
