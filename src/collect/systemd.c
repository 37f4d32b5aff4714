/*
 * systemd.c — node_systemd_* unit states from the systemd manager over D-Bus,
 * with node_exporter 1.5's names, labels and unit filter:
 *
 *   node_systemd_version{version}             manager's Version, value its number
 *   node_systemd_units{state}                 units per ActiveState (every unit)
 *   node_systemd_unit_state{name,state,type}  1 for the unit's ActiveState of the
 *                                             five states, 0 for the others; type
 *                                             is Service.Type (services), Mount.Type
 *   node_systemd_system_running               SystemState == "running"
 *   node_systemd_timer_last_trigger_seconds{name}
 *   node_systemd_socket_{accepted_connections_total,current_connections,
 *                        refused_connections_total}{name}
 *
 * Units listed per unit are those loaded and not named *.automount, *.device,
 * *.mount, *.scope, *.slice or *.target: the default unit-exclude of Debian's
 * prometheus-node-exporter 1.5 (upstream's default does not list target).
 *
 * libsystemd's sd-bus is the D-Bus client. It is loaded with dlopen the
 * first time the collector runs, so vigil neither links it nor maps it in a
 * process that never asks for unit states (vigil agent's RSS), and a host
 * without libsystemd0 just reports this collector as failed. The bus is the
 * system bus unless collect_config.systemd_bus names a D-Bus address
 * ("unix:path=/run/user/1000/bus"): a test points it at a private bus
 * where a `systemd --user` manager runs. The connection is kept between
 * runs and made again after an error. Without a manager on the bus the
 * collector fails (node_scrape_collector_success 0), as node_exporter's
 * does on hosts without systemd.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-bus.h>

#include "collect/collect.h"
#include "core/clock.h"

#define SYSTEMD_UNITS_MAX 4096		/* units listed per run */
#define SYSTEMD_NAME_MAX 256		/* bytes of a unit name */
#define SYSTEMD_CALL_TIMEOUT_US 2000000	/* one D-Bus call waits at most this long */
#define SYSTEMD_RETRY_MS 30000		/* after a failed connect, try again this much later */
#define SYSTEMD_SYSTEM_BUS "/run/dbus/system_bus_socket"	/* where sd_bus_open_system connects */

static const char sd_dest[] = "org.freedesktop.systemd1";
static const char sd_path[] = "/org/freedesktop/systemd1";
static const char sd_manager[] = "org.freedesktop.systemd1.Manager";

/* The sd-bus functions used, resolved from libsystemd.so.0. */
static struct {
	int tried;	/* dlopen attempted */
	void *lib;	/* the library, or NULL */
	__typeof__(sd_bus_open_system) *open_system;
	__typeof__(sd_bus_new) *new_bus;
	__typeof__(sd_bus_set_address) *set_address;
	__typeof__(sd_bus_set_bus_client) *set_bus_client;
	__typeof__(sd_bus_start) *start;
	__typeof__(sd_bus_flush_close_unref) *close_unref;
	__typeof__(sd_bus_set_method_call_timeout) *set_timeout;
	__typeof__(sd_bus_call_method) *call_method;
	__typeof__(sd_bus_get_property_trivial) *get_trivial;
	__typeof__(sd_bus_get_property_string) *get_string;
	__typeof__(sd_bus_message_enter_container) *enter;
	__typeof__(sd_bus_message_exit_container) *exit_container;
	__typeof__(sd_bus_message_read) *read;
	__typeof__(sd_bus_message_unref) *msg_unref;
	__typeof__(sd_bus_error_free) *error_free;
} sd;

static sd_bus *sd_conn;		/* kept between runs */
static char sd_conn_addr[512];	/* address it was made for ("" = system bus) */
static int64_t sd_retry_ms;	/* monotonic ms before which no new connect is tried */
static int sd_retry_err;	/* the error of the failed connect, reported meanwhile */

/* One listed unit. */
struct sd_unit {
	char name[SYSTEMD_NAME_MAX];	/* unit name */
	char active[32];		/* ActiveState */
	char path[SYSTEMD_NAME_MAX + 64];	/* its object path */
	int listed;			/* passes the filter: gets per-unit series */
};

static int sd_load(void)
{
	if (sd.tried)
		return sd.lib ? 0 : -ENOENT;
	sd.tried = 1;
	sd.lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
	if (!sd.lib)
		return -ENOENT;
	/* Each pointer gets the symbol of its own name; one missing: unusable. */
#define SYM(field, name) ((*(void **)&sd.field = dlsym(sd.lib, name)) != NULL)
	int ok = SYM(open_system, "sd_bus_open_system") && SYM(new_bus, "sd_bus_new") &&
	    SYM(set_address, "sd_bus_set_address") && SYM(set_bus_client, "sd_bus_set_bus_client") &&
	    SYM(start, "sd_bus_start") && SYM(close_unref, "sd_bus_flush_close_unref") &&
	    SYM(set_timeout, "sd_bus_set_method_call_timeout") && SYM(call_method, "sd_bus_call_method") &&
	    SYM(get_trivial, "sd_bus_get_property_trivial") && SYM(get_string, "sd_bus_get_property_string") &&
	    SYM(enter, "sd_bus_message_enter_container") && SYM(exit_container, "sd_bus_message_exit_container") &&
	    SYM(read, "sd_bus_message_read") && SYM(msg_unref, "sd_bus_message_unref") &&
	    SYM(error_free, "sd_bus_error_free");
#undef SYM
	if (!ok) {
		dlclose(sd.lib);
		sd.lib = NULL;
		return -ENOENT;
	}
	return 0;
}

static void sd_disconnect(void)
{
	if (sd_conn)
		sd.close_unref(sd_conn);
	sd_conn = NULL;
}

/* The connection to addr (NULL or "": the system bus), made if needed. 0 or -errno. */
static int sd_connect(const char *addr)
{
	if (!addr)
		addr = "";
	if (sd_conn && strcmp(sd_conn_addr, addr) != 0)
		sd_disconnect();
	if (sd_conn)
		return 0;
	/* A host without a bus would pay a connect (and libsystemd's setup)
	 * every run: a failure is reported again without retrying for a while. */
	if (sd_retry_ms && clock_mono_ms() < sd_retry_ms)
		return sd_retry_err;
	int r;
	sd_bus *b = NULL;
	if (!addr[0]) {
		r = sd.open_system(&b);
	} else {
		r = sd.new_bus(&b);
		if (r >= 0)
			r = sd.set_address(b, addr);
		if (r >= 0)
			r = sd.set_bus_client(b, 1);
		if (r >= 0)
			r = sd.start(b);
	}
	if (r < 0) {
		if (b)
			sd.close_unref(b);
		sd_retry_ms = clock_mono_ms() + SYSTEMD_RETRY_MS;
		sd_retry_err = r;
		return r;
	}
	sd_retry_ms = 0;
	sd.set_timeout(b, SYSTEMD_CALL_TIMEOUT_US);
	sd_conn = b;
	snprintf(sd_conn_addr, sizeof(sd_conn_addr), "%s", addr);
	return 0;
}

/* A string property of the manager or of a unit's interface; 0 or -errno. */
static int get_str(const char *path, const char *iface, const char *member, char *out, size_t outsz)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *s = NULL;
	int r = sd.get_string(sd_conn, sd_dest, path, iface, member, &e, &s);
	sd.error_free(&e);
	if (r < 0)
		return r;
	snprintf(out, outsz, "%s", s);
	free(s);
	return 0;
}

/* A 'u' or 't' property as a double; 0 or -errno. */
static int get_num(const char *path, const char *iface, const char *member, char type, double *v)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	uint64_t t = 0;
	uint32_t u = 0;
	int r = sd.get_trivial(sd_conn, sd_dest, path, iface, member, &e, type, type == 't' ? (void *)&t : (void *)&u);
	sd.error_free(&e);
	if (r < 0)
		return r;
	*v = type == 't' ? (double)t : (double)u;
	return 0;
}

/* 1 if name ends with suffix. */
static int ends_with(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);
	return n > s && !strcmp(name + n - s, suffix);
}

/* Debian node_exporter's default unit filter: include .+, exclude .+\.(automount|device|mount|scope|slice|target). */
static int unit_excluded(const char *name)
{
	static const char *const ex[] = { ".automount", ".device", ".mount", ".scope", ".slice", ".target", NULL };
	for (size_t i = 0; ex[i]; i++)
		if (ends_with(name, ex[i]))
			return 1;
	return !name[0];
}

/* ListUnits into u[0..*n); 0 or -errno. */
static int list_units(struct sd_unit *u, size_t *n)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL;
	*n = 0;
	int r = sd.call_method(sd_conn, sd_dest, sd_path, sd_manager, "ListUnits", &e, &m, "");
	sd.error_free(&e);
	if (r < 0)
		return r;
	r = sd.enter(m, 'a', "(ssssssouso)");
	while (r >= 0) {
		const char *name, *desc, *load, *active, *sub, *following, *path, *jtype, *jpath;
		uint32_t jid;
		r = sd.read(m, "(ssssssouso)", &name, &desc, &load, &active, &sub, &following, &path, &jid, &jtype, &jpath);
		if (r <= 0)
			break;
		if (*n == SYSTEMD_UNITS_MAX)
			continue;	/* counted no further; the reply is still read to its end */
		struct sd_unit *x = &u[*n];
		if (strlen(name) >= sizeof(x->name) || strlen(path) >= sizeof(x->path))
			continue;
		memcpy(x->name, name, strlen(name) + 1);
		snprintf(x->active, sizeof(x->active), "%s", active);
		memcpy(x->path, path, strlen(path) + 1);
		x->listed = !strcmp(load, "loaded") && !unit_excluded(name);
		(*n)++;
	}
	if (r >= 0)
		r = sd.exit_container(m);
	sd.msg_unref(m);
	return r < 0 ? r : 0;
}

/* The number in a version string as node_exporter finds it: the first run of
 * three or more digits, with an optional ".digits" ("252.38-1~deb12u1": 252.38). */
static double version_number(const char *v)
{
	for (const char *p = v; *p; p++) {
		size_t d = strspn(p, "0123456789");
		if (d >= 3) {
			char num[64];
			size_t k = d;
			if (p[k] == '.' && p[k + 1] >= '0' && p[k + 1] <= '9')
				k += 1 + strspn(p + k + 1, "0123456789");
			snprintf(num, sizeof(num), "%.*s", (int)(k < sizeof(num) ? k : sizeof(num) - 1), p);
			return strtod(num, NULL);
		}
		if (d)
			p += d - 1;
	}
	return 0;
}

static const char *const unit_states[] = { "active", "activating", "deactivating", "inactive", "failed" };
#define NSTATES 5

/* node_systemd_units: every unit, by ActiveState (other states get their own series). */
static void emit_summary(struct collect_ctx *c, const struct sd_unit *u, size_t n)
{
	char other[16][32];
	double count[NSTATES + 16] = { 0 };
	size_t nother = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k < NSTATES && strcmp(u[i].active, unit_states[k]))
			k++;
		if (k == NSTATES) {
			size_t j = 0;
			while (j < nother && strcmp(other[j], u[i].active))
				j++;
			if (j == nother && nother < 16)
				snprintf(other[nother++], sizeof(other[0]), "%s", u[i].active);
			if (j < 16)
				k = NSTATES + j;
			else
				continue;
		}
		count[k]++;
	}
	collect_family(c, "node_systemd_units", "Summary of systemd unit states", COLLECT_GAUGE);
	for (size_t k = 0; k < NSTATES + nother; k++)
		collect_add(c, count[k], "state", k < NSTATES ? unit_states[k] : other[k - NSTATES], NULL);
}

/* node_systemd_unit_state for the listed units. */
static void emit_states(struct collect_ctx *c, const struct sd_unit *u, size_t n)
{
	collect_family(c, "node_systemd_unit_state", "Systemd unit", COLLECT_GAUGE);
	for (size_t i = 0; i < n; i++) {
		if (!u[i].listed)
			continue;
		char type[64] = "";
		if (ends_with(u[i].name, ".service") &&
		    get_str(u[i].path, "org.freedesktop.systemd1.Service", "Type", type, sizeof(type)) < 0)
			type[0] = 0;
		else if (ends_with(u[i].name, ".mount") &&
		    get_str(u[i].path, "org.freedesktop.systemd1.Mount", "Type", type, sizeof(type)) < 0)
			type[0] = 0;
		for (size_t k = 0; k < NSTATES; k++)
			collect_add(c, !strcmp(u[i].active, unit_states[k]), "name", u[i].name, "state", unit_states[k],
			    "type", type, NULL);
	}
}

/* Timers' last trigger and sockets' connection counts. */
static void emit_timers_sockets(struct collect_ctx *c, const struct sd_unit *u, size_t n)
{
	collect_family(c, "node_systemd_timer_last_trigger_seconds", "Seconds since epoch of last trigger.", COLLECT_GAUGE);
	for (size_t i = 0; i < n; i++) {
		double v;
		if (u[i].listed && ends_with(u[i].name, ".timer") &&
		    get_num(u[i].path, "org.freedesktop.systemd1.Timer", "LastTriggerUSec", 't', &v) == 0)
			collect_add(c, v / 1e6, "name", u[i].name, NULL);
	}
	static const struct { const char *member, *metric, *help; enum collect_type t; } sock[] = {
		{ "NAccepted", "node_systemd_socket_accepted_connections_total", "Total number of accepted socket connections", COLLECT_COUNTER },
		{ "NConnections", "node_systemd_socket_current_connections", "Current number of socket connections", COLLECT_GAUGE },
		{ "NRefused", "node_systemd_socket_refused_connections_total", "Total number of refused socket connections", COLLECT_GAUGE },
	};
	for (size_t s = 0; s < 3; s++) {
		collect_family(c, sock[s].metric, sock[s].help, sock[s].t);
		for (size_t i = 0; i < n; i++) {
			double v;
			if (u[i].listed && ends_with(u[i].name, ".socket") &&
			    get_num(u[i].path, "org.freedesktop.systemd1.Socket", sock[s].member, 'u', &v) == 0)
				collect_add(c, v, "name", u[i].name, NULL);
		}
	}
}

int collect_systemd(struct collect_ctx *c)
{
	static struct sd_unit units[SYSTEMD_UNITS_MAX];
	size_t n = 0;
	const char *bus = collect_cfg(c)->systemd_bus;
	struct stat st;
	/* no system bus here (containers, hosts without systemd): do not even
	 * load libsystemd */
	if ((!bus || !bus[0]) && stat(SYSTEMD_SYSTEM_BUS, &st) != 0)
		return -ENOENT;
	if (sd_load() < 0)
		return -ENOENT;	/* no libsystemd0 on this host */
	int r = sd_connect(bus);
	if (r < 0)
		return r;	/* no bus here, or no permission */
	char version[128] = "", state[64] = "";
	r = get_str(sd_path, sd_manager, "Version", version, sizeof(version));
	if (r >= 0)
		r = list_units(units, &n);
	if (r >= 0)
		r = get_str(sd_path, sd_manager, "SystemState", state, sizeof(state));
	if (r < 0) {
		sd_disconnect();	/* a manager that restarted, or a bus that went away: connect again next run */
		return r;
	}
	collect_family(c, "node_systemd_version", "Detected systemd version", COLLECT_GAUGE);
	collect_add(c, version_number(version), "version", version, NULL);
	emit_summary(c, units, n);
	emit_states(c, units, n);
	emit_timers_sockets(c, units, n);
	collect_one(c, "node_systemd_system_running", "Whether the system is operational (see 'systemctl is-system-running')",
	    COLLECT_GAUGE, !strcmp(state, "running"));
	return 0;
}
