/* walk.c — see walk.h. */
#include "snmp/walk.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct walk {
	struct snmp_target *t;		/* device */
	struct snmp_oid root;		/* subtree walked */
	struct snmp_oid last;		/* last OID delivered (root at start) */
	int reps;			/* current max-repetitions */
	int fixed;			/* caller fixed max-repetitions: do not grow */
	int shrunk_on_timeout;		/* already halved once after a timeout */
	size_t count;			/* varbinds delivered */
	snmp_walk_vb_cb vb_cb;		/* per varbind */
	snmp_walk_done_cb done_cb;	/* at the end */
	void *ctx;			/* callbacks' argument */
};

static void on_reply(void *ctx, int status, const struct snmp_pdu *resp);

static int issue(struct walk *w)
{
	if (snmp_target_version(w->t) == SNMP_V1)
		return snmp_request(w->t, SNMP_PDU_GETNEXT, &w->last, 1, 0, 0, on_reply, w);
	return snmp_request(w->t, SNMP_PDU_GETBULK, &w->last, 1, 0, w->reps, on_reply, w);
}

static void done(struct walk *w, int status, const char *err)
{
	w->done_cb(w->ctx, status, err ? err : "");
	free(w);
}

static void again(struct walk *w)
{
	int rc = issue(w);
	if (rc < 0)
		done(w, rc, "cannot queue the next request");
}

static void on_reply(void *ctx, int status, const struct snmp_pdu *resp)
{
	struct walk *w = ctx;
	char msg[SNMP_ERROR_MAX + 64];
	if (status == -ETIMEDOUT && !w->shrunk_on_timeout && w->reps > 4 && w->count > 0 &&
	    snmp_target_version(w->t) != SNMP_V1) {
		/* Some agents never answer a big GETBULK; try once with a small one. */
		w->shrunk_on_timeout = 1;
		w->reps = 4;
		again(w);
		return;
	}
	if (status < 0) {
		done(w, status, snmp_target_error(w->t));
		return;
	}
	if (resp->error_status == SNMP_ERR_TOOBIG && snmp_target_version(w->t) != SNMP_V1 &&
	    w->reps > 1) {
		w->reps /= 2;
		w->fixed = 1;
		again(w);
		return;
	}
	if (resp->error_status == SNMP_ERR_NOSUCHNAME && snmp_target_version(w->t) == SNMP_V1) {
		done(w, 0, NULL);	/* v1's way to say end of MIB */
		return;
	}
	if (resp->error_status != SNMP_ERR_NOERROR) {
		snprintf(msg, sizeof(msg), "%s: agent returned %s (index %d)",
		    snmp_target_name(w->t), snmp_err_name(resp->error_status), resp->error_index);
		done(w, -EIO, msg);
		return;
	}
	if (resp->nvb == 0) {
		done(w, 0, NULL);
		return;
	}
	for (size_t i = 0; i < resp->nvb; i++) {
		const struct snmp_varbind *vb = &resp->vb[i];
		if (vb->val.type == BER_ENDOFMIBVIEW || !snmp_oid_has_prefix(&vb->name, &w->root) ||
		    vb->name.n == w->root.n) {
			done(w, 0, NULL);
			return;
		}
		if (vb->val.type == BER_NOSUCHOBJECT || vb->val.type == BER_NOSUCHINSTANCE) {
			done(w, 0, NULL);
			return;
		}
		if (snmp_oid_cmp(&vb->name, &w->last) <= 0) {
			char a[SNMP_OID_STR_MAX];
			snprintf(msg, sizeof(msg), "%s: agent returned a non-increasing OID %s",
			    snmp_target_name(w->t), snmp_oid_str(&vb->name, a, sizeof(a)));
			done(w, -ELOOP, msg);
			return;
		}
		w->last = vb->name;
		if (++w->count > SNMP_WALK_MAX_VARBINDS) {
			done(w, -E2BIG, "walk returned too many varbinds");
			return;
		}
		if (w->vb_cb(w->ctx, vb) != 0) {
			done(w, 0, NULL);
			return;
		}
	}
	if (!w->fixed && (int)resp->nvb >= w->reps && w->reps < SNMP_WALK_REPS_MAX)
		w->reps = w->reps * 2 > SNMP_WALK_REPS_MAX ? SNMP_WALK_REPS_MAX : w->reps * 2;
	again(w);
}

int snmp_walk(struct snmp_target *t, const struct snmp_oid *root, int max_reps,
    snmp_walk_vb_cb vb_cb, snmp_walk_done_cb done_cb, void *ctx)
{
	struct walk *w = xcalloc(1, sizeof(*w));
	w->t = t;
	w->root = *root;
	w->last = *root;
	w->reps = max_reps > 0 ? max_reps : SNMP_WALK_REPS_START;
	w->fixed = max_reps > 0;
	w->vb_cb = vb_cb;
	w->done_cb = done_cb;
	w->ctx = ctx;
	int rc = issue(w);
	if (rc < 0)
		free(w);
	return rc;
}
