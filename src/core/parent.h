/*
 * parent.h — `vigil serve`: the supervising parent process.
 *
 * It reads the config and secrets, prepares the data directory, opens the
 * listening socket, then fork+execs itself once per worker (poller, store,
 * web, notifier), handing each only its channels. It restarts a crashed worker
 * with backoff, reloads on SIGHUP (an invalid config is rejected and the old
 * one keeps running), and shuts everything down on SIGTERM/SIGINT within 2 s.
 * Once a second it renders vigil's own metrics and hands them to the web worker.
 */
#ifndef VIGIL_PARENT_H
#define VIGIL_PARENT_H

/* Run `vigil serve`; config_path NULL means the embedded default. Returns the
 * process exit code: 0 clean shutdown, 1 runtime failure, 2 config error. */
int parent_run(const char *config_path);

#endif
