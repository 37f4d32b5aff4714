/*
 * libFuzzer harness: the rule-file loader and the template engine on
 * arbitrary bytes. Input starting with 'T' is a template (compiled, then
 * expanded against sample labels; its queries get the one-sample vector); anything else is a rule file, which,
 * when it loads, is evaluated once against a fixed one-sample vector (so
 * every label and annotation template of every rule is expanded) and
 * rendered as /api/v1/rules JSON. Input starting with 'J' is a MSG_ALERTS
 * payload: parsed, checked, and rendered as webhook, email and Alertmanager
 * bodies (the notifier's input from another process). Input starting with
 * 'C' is a vigil config whose rule_files/alerting sections are parsed.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alert/alert.h"
#include "alert/json.h"
#include "alert/notify_fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct labels *sample_labels(void)
{
	struct label v[] = { { "__name__", "up" }, { "instance", "web1:9100" }, { "job", "node" } };
	return labels_new(v, 3);
}

static int one_sample(void *ctx, const char *expr, int64_t ts, struct alert_vector *out, char *err, size_t errsz)
{
	(void)ctx; (void)expr; (void)ts; (void)err; (void)errsz;
	struct labels *ls = sample_labels();
	alert_vector_add(out, ls, 0.875);
	labels_free(ls);
	return 0;
}

static int discard(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	(void)ctx; (void)ls; (void)ts; (void)v;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ALERT_ERR_MAX];
	if (size > 0 && data[0] == 'T') {
		struct template *t;
		if (template_compile((const char *)data + 1, size - 1, &t, err, sizeof(err)) == 0) {
			struct labels *ls = sample_labels();
			struct template_data d = { .labels = ls, .value = 12345.678, .external_labels = ls,
				.external_url = "http://x/p", .query = one_sample };
			struct buf b;
			buf_init(&b, TEMPLATE_MAX_OUTPUT);
			template_expand(t, "", &d, &b, err, sizeof(err));
			buf_free(&b);
			labels_free(ls);
			template_free(t);
		}
		return 0;
	}
	if (size > 0 && data[0] == 'C') {
		struct alert_config c;
		if (alert_config_parse("fuzz.yml", (const char *)data + 1, size - 1, &c, err, sizeof(err)) == 0) {
			for (size_t i = 0; i < c.nwindows; i++)
				maint_active(&c.windows[i], 1700000000000LL);
			alert_config_free(&c);
		}
		return 0;
	}
	if (size > 0 && data[0] == 'J') {
		struct ajson *j;
		if (ajson_parse((const char *)data + 1, size - 1, &j, err, sizeof(err)) < 0)
			return 0;
		struct notify_batch nb = { 0 };
		struct buf one, out;
		buf_init(&one, AJSON_MAX_BYTES);
		buf_init(&out, 1u << 26);
		for (size_t i = 0; j->t == AJSON_ARR && i < j->n; i++) {
			if (notify_alert_check(j->v[i], err, sizeof(err)) < 0)
				continue;
			buf_reset(&one);
			if (ajson_write(j->v[i], &one) == 0)
				notify_batch_add(&nb, one.data, one.len);
		}
		char *to[] = { "ops@example.com" };
		struct receiver_config r = { .kind = RECV_EMAIL, .name = "m", .from = "v@example.com", .to = to, .nto = 1 };
		notify_format_webhook(&nb, "hook", "http://x", 1700000000000LL, &out);
		buf_reset(&out);
		notify_format_email(&nb, &r, 1700000000000LL, &out);
		buf_reset(&out);
		notify_format_alertmanager(&nb, &out);
		notify_batch_free(&nb);
		buf_free(&one);
		buf_free(&out);
		ajson_free(j);
		return 0;
	}
	struct rule_set *rs = rule_set_new();
	if (rules_parse(rs, "fuzz.yml", (const char *)data, size, NULL, NULL, err, sizeof(err)) < 0) {
		rule_set_free(rs);
		return 0;
	}
	struct alert_engine *e = alert_engine_new(rs, NULL);
	struct sample_sink sink = { .add = discard };
	struct buf b;
	buf_init(&b, 1u << 24);
	for (size_t g = 0; g < e->ngroups && g < 8; g++)
		alert_engine_eval_group(e, g, 1700000000000LL, one_sample, NULL, &sink, &b);
	buf_reset(&b);
	alert_api_rules(e, NULL, &b);
	buf_reset(&b);
	if (alert_engine_save(e, &b) == 0)
		alert_engine_restore(e, b.data, b.len);
	buf_free(&b);
	alert_engine_free(e);
	return 0;
}
