// SPDX-License-Identifier: GPL-2.0
/*
 * dynswiotlbctl: status, buffers and top.
 *
 * A snapshot is the debugfs devices file (every selected device and its
 * state), and for each attached device its counters and its mode knob from
 * sysfs.  Every file read is one that lockdown leaves readable.  status prints one snapshot as a table, top prints one
 * every few seconds with the mapping rates since the previous one.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <getopt.h>

#include "ctl.h"

/* Every counter of statistics/, by its DSW_STAT_* name (status --json). */
enum {
	CTL_S_MAPS, CTL_S_DIRECT, CTL_S_STATIC, CTL_S_DYNAMIC, CTL_S_FAILURES,
	CTL_S_LIVE_BUFFERS, CTL_S_LIVE_BYTES, CTL_S_POOL_BYTES,
	CTL_S_FREE_BYTES, CTL_S_FAIL_TOO_LARGE, CTL_S_FAIL_CAP,
	CTL_S_FAIL_NOMEM, CTL_S_BYTES_TO_DEV, CTL_S_BYTES_FROM_DEV,
	CTL_S_CHUNK_ALLOCS, CTL_S_CHUNK_FREES, CTL_S_LIVE_HIWATER,
	CTL_S_POOL_HIWATER, CTL_S_DYNAMIC_NS, CTL_S_DYNAMIC_TASK,
	CTL_S_DYNAMIC_ATOMIC, CTL_S_DYNAMIC_IRQ, CTL_S_LOCK_CONTENDED, CTL_S_NR
};

static const char *const ctl_stat_keys[CTL_S_NR] = {
	[CTL_S_MAPS] = DSW_STAT_MAPS,
	[CTL_S_DIRECT] = DSW_STAT_DIRECT,
	[CTL_S_STATIC] = DSW_STAT_STATIC,
	[CTL_S_DYNAMIC] = DSW_STAT_DYNAMIC,
	[CTL_S_FAILURES] = DSW_STAT_FAILURES,
	[CTL_S_LIVE_BUFFERS] = DSW_STAT_LIVE_BUFFERS,
	[CTL_S_LIVE_BYTES] = DSW_STAT_LIVE_BYTES,
	[CTL_S_POOL_BYTES] = DSW_STAT_POOL_BYTES,
	[CTL_S_FREE_BYTES] = DSW_STAT_FREE_BYTES,
	[CTL_S_FAIL_TOO_LARGE] = DSW_STAT_FAIL_TOO_LARGE,
	[CTL_S_FAIL_CAP] = DSW_STAT_FAIL_CAP,
	[CTL_S_FAIL_NOMEM] = DSW_STAT_FAIL_NOMEM,
	[CTL_S_BYTES_TO_DEV] = DSW_STAT_BYTES_TO_DEV,
	[CTL_S_BYTES_FROM_DEV] = DSW_STAT_BYTES_FROM_DEV,
	[CTL_S_CHUNK_ALLOCS] = DSW_STAT_CHUNK_ALLOCS,
	[CTL_S_CHUNK_FREES] = DSW_STAT_CHUNK_FREES,
	[CTL_S_LIVE_HIWATER] = DSW_STAT_LIVE_HIWATER,
	[CTL_S_POOL_HIWATER] = DSW_STAT_POOL_HIWATER,
	[CTL_S_DYNAMIC_NS] = DSW_STAT_DYNAMIC_NS,
	[CTL_S_DYNAMIC_TASK] = DSW_STAT_DYNAMIC_TASK,
	[CTL_S_DYNAMIC_ATOMIC] = DSW_STAT_DYNAMIC_ATOMIC,
	[CTL_S_DYNAMIC_IRQ] = DSW_STAT_DYNAMIC_IRQ,
	[CTL_S_LOCK_CONTENDED] = DSW_STAT_LOCK_CONTENDED,
};

struct ctl_dev {
	char name[DSW_DEV_NAME_MAX + 1];
	char state[16];
	char mode[16];
	bool have[CTL_S_NR];
	unsigned long long val[CTL_S_NR];
};

struct ctl_snap {
	int n;
	struct ctl_dev dev[DSW_MAX_DEVICES];
	struct timespec time;	/* CLOCK_MONOTONIC */
};

/* Read the counters (sysfs statistics/) and the mode of an attached device. */
static void ctl_read_dev(struct ctl_dev *d)
{
	char path[CTL_PATH_MAX], buf[64], *end;
	int i;

	snprintf(d->mode, sizeof(d->mode), "-");
	if (strcmp(d->state, DSW_STATE_ATTACHED))
		return;
	for (i = 0; i < CTL_S_NR; i++) {
		if (ctl_path(path, "%s/%s/%s/%s", CTL_SYSFS_DEVICES, d->name,
			     DSW_SYSFS_STATISTICS, ctl_stat_keys[i]) ||
		    ctl_read(path, buf, sizeof(buf)))
			continue;
		errno = 0;
		d->val[i] = strtoull(buf, &end, 10);
		d->have[i] = !errno && end != buf && (*end == '\n' || !*end);
	}
	if (ctl_path(path, "%s/%s/%s", CTL_SYSFS_DEVICES, d->name,
		     DSW_KNOB_MODE) || ctl_read(path, d->mode, sizeof(d->mode)))
		snprintf(d->mode, sizeof(d->mode), "?");
	ctl_chomp(d->mode);
}

/* Take a snapshot: 0 or a negative errno (of the devices file). */
static int ctl_snap_read(const char *dbg, struct ctl_snap *s)
{
	char path[CTL_PATH_MAX], buf[CTL_FILE_MAX], *line;
	struct ctl_dev *d;
	int err;

	memset(s, 0, sizeof(*s));
	clock_gettime(CLOCK_MONOTONIC, &s->time);
	err = ctl_path(path, "%s/%s", dbg, DSW_DEBUGFS_DEVICES);
	if (!err)
		err = ctl_read(path, buf, sizeof(buf));
	if (err)
		return err;
	for (line = strtok(buf, "\n"); line && s->n < DSW_MAX_DEVICES;
	     line = strtok(NULL, "\n")) {
		d = &s->dev[s->n];
		if (sscanf(line, "%63s %15s", d->name, d->state) == 2)
			s->n++;
	}
	for (d = s->dev; d < s->dev + s->n; d++)
		ctl_read_dev(d);
	return 0;
}

/* A byte count for a table: exact, or like "512K", "4.0M". */
static const char *ctl_bytes(char *buf, size_t size, unsigned long long v,
			     bool exact)
{
	static const char units[] = "KMGTP";
	double x = v;
	int u = -1;

	if (exact || v < 1024) {
		snprintf(buf, size, exact ? "%llu" : "%lluB", v);
		return buf;
	}
	while (x >= 1024 && units[u + 1]) {
		x /= 1024;
		u++;
	}
	snprintf(buf, size, x < 10 ? "%.1f%c" : "%.0f%c", x, units[u]);
	return buf;
}

/* Column @i of a device: a counter, as bytes if @bytes; "-" if unknown. */
static const char *ctl_cell(char *buf, size_t size, const struct ctl_dev *d,
			    int i, bool bytes, bool exact)
{
	if (!d->have[i])
		return "-";
	if (bytes)
		return ctl_bytes(buf, size, d->val[i], exact);
	snprintf(buf, size, "%llu", d->val[i]);
	return buf;
}

/* The rate of counter @i between @prev and @d, per second, or "-". */
static const char *ctl_rate(char *buf, size_t size, const struct ctl_dev *d,
			    const struct ctl_snap *prev, double dt, int i)
{
	int j;

	for (j = 0; prev && dt > 0 && j < prev->n; j++) {
		const struct ctl_dev *p = &prev->dev[j];

		if (strcmp(p->name, d->name) || !p->have[i] || !d->have[i] ||
		    d->val[i] < p->val[i])
			continue;
		snprintf(buf, size, "%.0f", (d->val[i] - p->val[i]) / dt);
		return buf;
	}
	return "-";
}

/*
 * Print @s as a table.  With @rates (top), two columns of mappings per
 * second since @prev (NULL: none yet).
 */
static void ctl_table(const struct ctl_snap *s, bool exact, bool rates,
		      const struct ctl_snap *prev)
{
	char c[8][24];
	double dt = 0;
	int i, w = 6;

	for (i = 0; i < s->n; i++)
		if ((int)strlen(s->dev[i].name) > w)
			w = strlen(s->dev[i].name);
	if (prev)
		dt = (s->time.tv_sec - prev->time.tv_sec) +
			(s->time.tv_nsec - prev->time.tv_nsec) / 1e9;
	printf("%-*s %-9s %-12s %8s %9s %9s %9s %9s %8s", w, "DEVICE",
	       "STATE", "MODE", "BUFFERS", "LIVE", "POOL", "LIVE-PEAK",
	       "POOL-PEAK", "FAILURES");
	printf(rates ? " %8s %8s\n" : "\n", "MAPS/s", "DYN/s");
	for (i = 0; i < s->n; i++) {
		const struct ctl_dev *d = &s->dev[i];

		printf("%-*s %-9s %-12s %8s %9s %9s %9s %9s %8s", w, d->name,
		       d->state, d->mode,
		       ctl_cell(c[0], 24, d, CTL_S_LIVE_BUFFERS, false, exact),
		       ctl_cell(c[1], 24, d, CTL_S_LIVE_BYTES, true, exact),
		       ctl_cell(c[2], 24, d, CTL_S_POOL_BYTES, true, exact),
		       ctl_cell(c[3], 24, d, CTL_S_LIVE_HIWATER, true, exact),
		       ctl_cell(c[4], 24, d, CTL_S_POOL_HIWATER, true, exact),
		       ctl_cell(c[5], 24, d, CTL_S_FAILURES, false, exact));
		if (rates)
			printf(" %8s %8s", ctl_rate(c[6], 24, d, prev, dt, CTL_S_MAPS),
			       ctl_rate(c[7], 24, d, prev, dt, CTL_S_DYNAMIC));
		putchar('\n');
	}
}

/* @v as a JSON string (names and words of the module: no control bytes). */
static void ctl_json_str(const char *v)
{
	putchar('"');
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			putchar('\\');
		if ((unsigned char)*v >= 0x20)
			putchar(*v);
	}
	putchar('"');
}

/* A module file's contents for JSON: a number, a string, or null. */
static void ctl_json_file(const char *path, bool number)
{
	char buf[64], *end;

	if (ctl_read(path, buf, sizeof(buf))) {
		fputs("null", stdout);
		return;
	}
	ctl_chomp(buf);
	strtoull(buf, &end, 10);
	if (number && end != buf && !*end)
		fputs(buf, stdout);
	else if (number)
		fputs("null", stdout);
	else
		ctl_json_str(buf);
}

/*
 * Print @s as one JSON object (status --json): the keys are stable and
 * documented in dynswiotlbctl(8); counters are the statistics/ files.
 */
static void ctl_json(const struct ctl_snap *s)
{
	int i, j;

	printf("{\"schema\": 1, \"module\": \"%s\", \"version\": ",
	       DSW_MODULE_NAME);
	ctl_json_file(CTL_SYSFS_MODULE "/version", false);
	printf(", \"%s\": ", DSW_PARAM_MAX_TOTAL_KB);
	ctl_json_file(CTL_SYSFS_MODULE "/parameters/" DSW_PARAM_MAX_TOTAL_KB,
		      true);
	fputs(", \"devices\": [", stdout);
	for (i = 0; i < s->n; i++) {
		const struct ctl_dev *d = &s->dev[i];
		bool attached = !strcmp(d->state, DSW_STATE_ATTACHED);
		const char *sep = "";

		fputs(i ? ", {\"name\": " : "{\"name\": ", stdout);
		ctl_json_str(d->name);
		fputs(", \"state\": ", stdout);
		ctl_json_str(d->state);
		fputs(", \"mode\": ", stdout);
		if (attached)
			ctl_json_str(d->mode);
		else
			fputs("null", stdout);
		fputs(", \"statistics\": {", stdout);
		for (j = 0; j < CTL_S_NR; j++) {
			if (!d->have[j])
				continue;
			printf("%s\"%s\": %llu", sep, ctl_stat_keys[j], d->val[j]);
			sep = ", ";
		}
		fputs("}}", stdout);
	}
	fputs("]}\n", stdout);
}

/* The checks of status, buffers and top; the debugfs directory into @dbg. */
static int ctl_view_setup(const char *cmd, char *dbg)
{
	int ret = ctl_need_root(cmd);

	if (!ret)
		ret = ctl_need_loaded();
	if (!ret)
		ret = ctl_debugfs(dbg);
	return ret;
}

/* Options of status (the first one) and top (all). */
static const struct option ctl_view_opts[] = {
	{ "bytes", no_argument, NULL, 'b' },
	{ "delay", required_argument, NULL, 'd' },
	{ "iterations", required_argument, NULL, 'n' },
	{ NULL, 0, NULL, 0 }
};

static const struct option ctl_status_opts[] = {
	{ "bytes", no_argument, NULL, 'b' },
	{ "json", no_argument, NULL, 'j' },
	{ NULL, 0, NULL, 0 }
};

/*
 * Parse the options of status (@delay and @count NULL, @json set) or top
 * (@json NULL); returns 0 or an exit code.
 */
static int ctl_view_args(int argc, char **argv, bool *exact, double *delay,
			 long *count, bool *json)
{
	const struct option *opts = delay ? ctl_view_opts : ctl_status_opts;
	const char *optstring = delay ? "+bd:n:" : "+bj";
	char *end;
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, optstring, opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			*exact = true;
			break;
		case 'j':
			*json = true;
			break;
		case 'd':
			*delay = strtod(optarg, &end);
			if (*end || !(*delay >= 0.1 && *delay <= 86400))
				return ctl_usage_error(argv[0], "-d '%s': not 0.1 to 86400 s",
						       optarg);
			break;
		case 'n':
			errno = 0;
			*count = strtol(optarg, &end, 10);
			if (*end || errno || *count < 1)
				return ctl_usage_error(argv[0], "-n: '%s' is not a positive number",
						       optarg);
			break;
		default:
			return ctl_usage_error(argv[0], "unknown option or missing value: '%s'",
					       argv[optind - 1]);
		}
	}
	if (optind < argc)
		return ctl_usage_error(argv[0], "unexpected '%s'", argv[optind]);
	return 0;
}

/**
 * ctl_cmd_status() - dynswiotlbctl status [--bytes | --json]
 * @argc: number of words, the command included
 * @argv: the words
 *
 * Return: an exit code.
 */
int ctl_cmd_status(int argc, char **argv)
{
	char dbg[CTL_PATH_MAX];
	struct ctl_snap *s;
	bool exact = false, json = false;
	int ret, err;

	ret = ctl_view_args(argc, argv, &exact, NULL, NULL, &json);
	if (!ret)
		ret = ctl_view_setup("status", dbg);
	if (ret)
		return ret;
	s = malloc(sizeof(*s));
	if (!s)
		return ctl_fail(ENOMEM, "status");
	err = ctl_snap_read(dbg, s);
	if (err)
		ret = ctl_fail(-err, "%s/%s", dbg, DSW_DEBUGFS_DEVICES);
	else if (json)
		ctl_json(s);
	else
		ctl_table(s, exact, false, NULL);
	free(s);
	return ret;
}

/**
 * ctl_cmd_buffers() - dynswiotlbctl buffers DEV
 * @argc: number of words, the command included
 * @argv: the words
 *
 * Return: an exit code.
 */
int ctl_cmd_buffers(int argc, char **argv)
{
	char dbg[CTL_PATH_MAX], path[CTL_PATH_MAX], line[256];
	char dma[32], dir[8], ctx[16];
	unsigned long long size, age;
	int ret;
	FILE *f;

	if (argc != 2)
		return ctl_usage_error("buffers", "%s", argc < 2 ?
				       "no device given" : "one device at a time");
	ret = ctl_check_name(argv[1]);
	if (!ret)
		ret = ctl_view_setup("buffers", dbg);
	if (ret)
		return ret;
	if (ctl_path(path, "%s/%s/%s", dbg, argv[1], DSW_DEBUGFS_BUFFERS))
		return ctl_msg(CTL_EXIT_USAGE, "'%s': name too long", argv[1]);
	f = fopen(path, "re");
	if (!f && errno == ENOENT)
		return ctl_msg(CTL_EXIT_NODEV,
			       "%s: not attached (dynswiotlbctl status lists the selected devices)",
			       argv[1]);
	if (!f)
		return ctl_fail(errno, "%s", path);
	printf("%-18s %10s %-4s %10s %s\n", "DMA", "SIZE", "DIR", "AGE_MS",
	       "CONTEXT");
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%31s %llu %7s %llu %15s", dma, &size, dir,
			   &age, ctx) == 5)
			printf("%-18s %10llu %-4s %10llu %s\n", dma, size, dir,
			       age, ctx);
		else
			fputs(line, stdout);
	}
	if (ferror(f))
		ret = ctl_fail(errno, "%s", path);
	fclose(f);
	return ret;
}

/*
 * SIGINT and SIGTERM are blocked but while top waits (ppoll), so that they
 * end the wait, wherever they arrive; the handler has nothing to do.
 */
static sigset_t ctl_wait_mask;

static void ctl_on_signal(int sig __maybe_unused)
{
}

/*
 * Wait @ms milliseconds, or until a key is pressed if @keys (stdin is a
 * terminal in non-canonical mode).  Returns true to quit ('q' or a
 * signal).
 */
static bool ctl_wait(int ms, bool keys)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000L };
	char key;
	int n;

	n = ppoll(&p, keys, &ts, &ctl_wait_mask);
	if (n < 0)
		return errno == EINTR;
	return n > 0 && (p.revents & POLLIN) &&
		read(STDIN_FILENO, &key, 1) == 1 && (key == 'q' || key == 'Q');
}

static void ctl_top_header(const struct ctl_snap *s, double delay, bool keys,
			   bool exact)
{
	unsigned long long pool = 0, live = 0, bufs = 0, fails = 0;
	char t[16], b1[24], b2[24];
	time_t now = time(NULL);
	int i, attached = 0;

	for (i = 0; i < s->n; i++) {
		const struct ctl_dev *d = &s->dev[i];

		attached += !strcmp(d->state, DSW_STATE_ATTACHED);
		pool += d->val[CTL_S_POOL_BYTES];
		live += d->val[CTL_S_LIVE_BYTES];
		bufs += d->val[CTL_S_LIVE_BUFFERS];
		fails += d->val[CTL_S_FAILURES];
	}
	strftime(t, sizeof(t), "%H:%M:%S", localtime(&now));
	printf("dynswiotlbctl top - %s, every %.1f s%s\n", t, delay,
	       keys ? " (q quits)" : "");
	printf("%d selected, %d attached; pool %s; live %llu buffers, %s; failures %llu\n\n",
	       s->n, attached, ctl_bytes(b1, sizeof(b1), pool, exact), bufs,
	       ctl_bytes(b2, sizeof(b2), live, exact), fails);
}

/* The top loop proper, once set up. */
static void ctl_top_loop(const char *dbg, double delay, long count,
			 bool keys, bool exact)
{
	struct ctl_snap *snap[2], *prev = NULL;
	bool tty = isatty(STDOUT_FILENO);
	long i;
	int err;

	snap[0] = malloc(sizeof(*snap[0]));
	snap[1] = malloc(sizeof(*snap[1]));
	for (i = 0; snap[0] && snap[1] && (!count || i < count); i++) {
		struct ctl_snap *s = snap[i & 1];

		if (i && ctl_wait((int)(delay * 1000), keys))
			break;
		err = ctl_snap_read(dbg, s);
		if (tty)
			fputs("\033[H\033[2J", stdout);
		else if (i)
			putchar('\n');
		ctl_top_header(err ? &(struct ctl_snap){ 0 } : s, delay, keys,
			       exact);
		if (err == -ENOENT)
			printf("%s is not loaded\n", DSW_MODULE_NAME);
		else if (err)
			printf("%s/%s: %s\n", dbg, DSW_DEBUGFS_DEVICES,
			       strerror(-err));
		else
			ctl_table(s, exact, true, prev);
		prev = err ? NULL : s;
		fflush(stdout);
	}
	if (!snap[0] || !snap[1])
		ctl_fail(ENOMEM, "top");
	free(snap[0]);
	free(snap[1]);
}

/**
 * ctl_cmd_top() - dynswiotlbctl top [-d SECONDS] [-n ITERATIONS] [--bytes]
 * @argc: number of words, the command included
 * @argv: the words
 *
 * On a terminal the screen is redrawn and 'q' quits; otherwise the
 * snapshots follow one another, separated by an empty line.  Stops after
 * ITERATIONS snapshots, on 'q', SIGINT or SIGTERM.
 *
 * Return: an exit code.
 */
int ctl_cmd_top(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = ctl_on_signal };
	char dbg[CTL_PATH_MAX];
	struct termios saved, raw;
	bool exact = false, keys;
	sigset_t stop;
	double delay = 1;
	long count = 0;
	int ret;

	ret = ctl_view_args(argc, argv, &exact, &delay, &count, NULL);
	if (!ret)
		ret = ctl_view_setup("top", dbg);
	if (ret)
		return ret;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, &ctl_wait_mask);
	sigdelset(&ctl_wait_mask, SIGINT);
	sigdelset(&ctl_wait_mask, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	keys = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO) &&
		!tcgetattr(STDIN_FILENO, &saved);
	if (keys) {
		raw = saved;
		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		keys = !tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	ctl_top_loop(dbg, delay, count, keys, exact);
	if (keys)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return CTL_EXIT_OK;
}
