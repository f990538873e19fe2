// SPDX-License-Identifier: GPL-2.0
/*
 * dynswiotlbctl: diagnose, which devices run out of the kernel's swiotlb
 * pool, and what to do about it.  It needs no module, and reads what it can:
 *
 *   - the kernel log (/dev/kmsg, without blocking): the swiotlb's
 *     "swiotlb buffer is full (sz: N bytes), total T (slots), used U (slots)"
 *     lines, printed by dev_printk(), so with the device: in the record's
 *     "DEVICE=+pci:BDF" (or +platform:NAME) dictionary line, and in the
 *     "<driver> <device>: " prefix of the message;
 *   - the swiotlb's debugfs files (swiotlb/io_tlb_*, 2 KiB slots): the size
 *     and use of the pool (5.10 has the first two only);
 *   - with --watch, the tracepoint swiotlb:swiotlb_bounced, sampled for a
 *     few seconds through a tracefs instance of its own, which is removed
 *     afterwards, on SIGINT, SIGTERM, SIGHUP and SIGPIPE too (then the exit
 *     status is 128 + the signal); instances of runs that were killed are
 *     removed first.
 *
 * For each device seen, it says what it is (sysfs), whether the module has
 * it, and the commands that attach it now and at every boot (persist.c says
 * what persist would write for it).  Attaching rebinds a bound driver: for a
 * device that holds something in use (ctl_device_holds()), it says not to
 * attach it now.
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <mntent.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libkmod.h>

#include "ctl.h"

/* One record of /dev/kmsg is at most this long (8 KiB up to 5.x). */
#define CTL_KMSG_MAX		16384
/* The swiotlb's slot: IO_TLB_SHIFT is 11. */
#define CTL_SLOT_BYTES		2048ULL
#define CTL_FULL_TEXT		"swiotlb buffer is full"
#define CTL_EVENT		"swiotlb/swiotlb_bounced"

/* A device seen in the log or in the trace. */
struct ctl_seen {
	char name[DSW_DEV_NAME_MAX + 1];	/* "" if the log line named none */
	char bus[16];				/* from DEVICE=+BUS:..., or "" */
	char logdrv[CTL_MOD_NAME_MAX];		/* the log prefix's driver */
	unsigned long full;			/* "buffer is full" lines */
	unsigned long long max_sz;		/* largest size refused */
	unsigned long long total, used;		/* slots, of the last line */
	bool slots;
	unsigned long long bounces, bytes;	/* --watch */
};

struct ctl_diag {
	struct ctl_seen *dev;
	int n;
	unsigned long records, full, suppressed;
	char boot_pool[160];		/* "software IO TLB: mapped ..." */
	bool watched;
	int sig, signals;		/* the first signal of --watch, and how many */
	double seconds;			/* watched for */
	unsigned long long bounces, lost;
	char modstates[CTL_FILE_MAX];	/* the module's debugfs devices file */
};

/* The device @name of @d, added if new; NULL if out of memory. */
static struct ctl_seen *ctl_seen_get(struct ctl_diag *d, const char *name)
{
	struct ctl_seen *nv;
	int i;

	for (i = 0; i < d->n; i++)
		if (!strcmp(d->dev[i].name, name))
			return &d->dev[i];
	nv = realloc(d->dev, (d->n + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	d->dev = nv;
	memset(&nv[d->n], 0, sizeof(*nv));
	snprintf(nv[d->n].name, sizeof(nv[d->n].name), "%s", name);
	return &nv[d->n++];
}

/* The number after @key in @s, if @key is there. */
static bool ctl_number_after(const char *s, const char *key,
			     unsigned long long *v)
{
	const char *p = strstr(s, key);
	char *end;

	if (!p)
		return false;
	p += strlen(key);
	*v = strtoull(p, &end, 10);
	return end != p;
}

/*
 * A "swiotlb buffer is full" message @msg (@at is where that text starts),
 * from the device of @dict ("pci:0000:00:03.0") if the record said.
 */
static void ctl_kmsg_full(struct ctl_diag *d, char *msg, char *at,
			  const char *dict)
{
	char name[DSW_DEV_NAME_MAX + 1] = "", drv[CTL_MOD_NAME_MAX] = "";
	char bus[16] = "";
	unsigned long long v;
	struct ctl_seen *s;
	const char *colon;
	char *sp, *p;

	/* The prefix of dev_printk(): "<driver> <device>: ", or "<device>: ". */
	if (at - msg >= 2 && at[-2] == ':' && at[-1] == ' ') {
		at[-2] = '\0';
		p = msg + strspn(msg, " ");
		sp = strrchr(p, ' ');
		if (sp)
			snprintf(drv, sizeof(drv), "%.*s", (int)(sp - p), p);
		snprintf(name, sizeof(name), "%s", sp ? sp + 1 : p);
	}
	colon = dict ? strchr(dict, ':') : NULL;
	if (colon && colon - dict < (long)sizeof(bus)) {
		snprintf(bus, sizeof(bus), "%.*s", (int)(colon - dict), dict);
		snprintf(name, sizeof(name), "%s", colon + 1);
	}
	if (!ctl_name_valid(name))
		name[0] = '\0';
	s = ctl_seen_get(d, name);
	if (!s)
		return;
	d->full++;
	s->full++;
	if (*bus)
		snprintf(s->bus, sizeof(s->bus), "%s", bus);
	if (*drv && ctl_name_valid(drv))
		snprintf(s->logdrv, sizeof(s->logdrv), "%s", drv);
	if (ctl_number_after(at, "(sz: ", &v) && v > s->max_sz)
		s->max_sz = v;
	if (ctl_number_after(at, "total ", &s->total) &&
	    ctl_number_after(at, "used ", &s->used))
		s->slots = true;
}

/*
 * One record of /dev/kmsg: "PRIO,SEQ,TIME,FLAGS[,...];MESSAGE\n", then
 * dictionary lines " KEY=VALUE\n".
 */
static void ctl_kmsg_record(struct ctl_diag *d, char *rec)
{
	char *msg, *end, *line, *p;
	const char *dict = NULL;
	unsigned long long v;

	msg = strchr(rec, ';');
	if (!msg)
		return;
	msg++;
	end = strchr(msg, '\n');
	if (end)
		*end = '\0';
	d->records++;
	for (line = end ? end + 1 : NULL; line && *line == ' ';
	     line = end ? end + 1 : NULL) {
		end = strchr(line, '\n');
		if (end)
			*end = '\0';
		if (!strncmp(line, " DEVICE=+", 9))
			dict = line + 9;
	}

	p = strstr(msg, CTL_FULL_TEXT);
	if (p) {
		ctl_kmsg_full(d, msg, p, dict);
		return;
	}
	/* ___ratelimit(): "swiotlb_tbl_map_single: 42 callbacks suppressed" */
	p = strstr(msg, ": ");
	if (!strncmp(msg, "swiotlb", 7) && p &&
	    strstr(msg, " callbacks suppressed") &&
	    ctl_number_after(p, ": ", &v)) {
		d->suppressed += v;
		return;
	}
	/* "software IO TLB: mapped [mem ...] (64MB)", or why there is none */
	p = strstr(msg, "software IO TLB: ");
	if (p && (!*d->boot_pool || strstr(p, " mapped ")))
		snprintf(d->boot_pool, sizeof(d->boot_pool), "%s",
			 p + strlen("software IO TLB: "));
}

/* Read the kernel log without waiting: 0 or a negative errno (of open). */
static int ctl_kmsg_scan(struct ctl_diag *d)
{
	char *rec;
	ssize_t n;
	int fd, err = 0;

	rec = malloc(CTL_KMSG_MAX + 1);
	if (!rec)
		return -ENOMEM;
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		free(rec);
		return -errno;
	}
	for (;;) {
		n = read(fd, rec, CTL_KMSG_MAX);
		if (n < 0 && (errno == EINTR || errno == EPIPE))
			continue;	/* EPIPE: records overwritten meanwhile */
		if (n < 0 && errno != EAGAIN)
			err = -errno;
		if (n <= 0)
			break;
		rec[n] = '\0';
		ctl_kmsg_record(d, rec);
	}
	close(fd);
	free(rec);
	if (err)
		ctl_fail(-err, "diagnose: reading /dev/kmsg");
	return 0;
}

/* The mount point of the first file system of @type, into @dir. */
static int ctl_find_mount(const char *type, char *dir)
{
	struct mntent *m;
	int ret = -ENOENT;
	FILE *f;

	f = setmntent("/proc/self/mounts", "re");
	if (!f)
		return -errno;
	while ((m = getmntent(f))) {
		if (!strcmp(m->mnt_type, type)) {
			ret = ctl_path(dir, "%s", m->mnt_dir);
			break;
		}
	}
	endmntent(f);
	return ret;
}

static double ctl_slots_mib(unsigned long long slots)
{
	return slots * CTL_SLOT_BYTES / 1048576.0;
}

/*
 * Print the swiotlb pool's line from debugfs (@dbg its mount point, or
 * NULL).  Returns 0 if debugfs could be read, or a negative errno.
 */
static int ctl_pool(const struct ctl_diag *d, const char *dbg)
{
	static const char *const files[] = {
		"io_tlb_nslabs", "io_tlb_used", "io_tlb_used_hiwater",
		"io_tlb_transient_nslabs",
	};
	static const char *const labels[] = {
		"slots", "used", "used at most", "in transient pools",
	};
	unsigned long long v[ARRAY_SIZE(files)];
	bool have[ARRAY_SIZE(files)] = { false };
	char path[CTL_PATH_MAX], buf[64], *end;
	struct stat st;
	size_t i;
	int err;

	if (!dbg) {
		ctl_msg(0, "debugfs is not mounted, so the pool's use is unknown; mount it with: mount -t debugfs none /sys/kernel/debug");
		err = -ENOENT;
		goto boot;
	}
	if (ctl_path(path, "%s/swiotlb", dbg) || stat(path, &st)) {
		err = errno == ENOENT ? 0 : -errno;
		if (!err)
			printf("swiotlb pool: not in debugfs (no %s/swiotlb)\n", dbg);
		goto boot;
	}
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		if (ctl_path(path, "%s/swiotlb/%s", dbg, files[i]))
			continue;
		err = ctl_read(path, buf, sizeof(buf));
		if (err == -ENOENT)
			continue;	/* older kernels: fewer files */
		if (err == -EPERM && geteuid() == 0) {
			ctl_msg(0, "debugfs refuses reads of %s (kernel lockdown?): the pool's use is unknown",
				path);
			goto boot;
		}
		if (err)
			goto boot;
		v[i] = strtoull(buf, &end, 10);
		have[i] = end != buf;
	}
	err = 0;
	if (!have[0]) {
		printf("swiotlb pool: none in debugfs (no %s/swiotlb/io_tlb_nslabs: no default pool)\n",
		       dbg);
		goto boot;
	}
	printf("swiotlb pool:");
	for (i = 0; i < ARRAY_SIZE(files); i++)
		if (have[i])
			printf("%s %llu %s (%.1f MiB)", i ? "," : "", v[i],
			       labels[i], ctl_slots_mib(v[i]));
	printf("; a slot is 2 KiB\n");
	return 0;
boot:
	if (*d->boot_pool)
		printf("boot log: software IO TLB: %s\n", d->boot_pool);
	return err;
}

/*
 * During --watch, SIGINT, SIGTERM, SIGHUP and SIGPIPE are blocked and
 * read from a signalfd, which is polled with the trace: one ends the wait,
 * and the instance is removed; one that arrives while it is removed waits
 * until it is.
 */
static const char *ctl_signame(int sig)
{
	switch (sig) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	case SIGPIPE:
		return "SIGPIPE";
	default:
		return "a signal";
	}
}

/* One line of trace_pipe. */
static void ctl_trace_line(struct ctl_diag *d, const char *line)
{
	char name[DSW_DEV_NAME_MAX + 1];
	unsigned long long v;
	struct ctl_seen *s;
	const char *p;
	size_t len;

	p = strstr(line, "[LOST ");	/* "CPU:1 [LOST 42 EVENTS]" */
	if (p) {
		if (ctl_number_after(p, "[LOST ", &v))
			d->lost += v;
		return;
	}
	/* "<task>-<pid> [cpu] flags ts: swiotlb_bounced: dev_name: NAME ..." */
	p = strstr(line, "swiotlb_bounced:");
	p = p ? strstr(p, "dev_name: ") : NULL;
	if (!p)
		return;
	p += strlen("dev_name: ");
	len = strcspn(p, " \t");
	if (!len || len > DSW_DEV_NAME_MAX)
		return;
	memcpy(name, p, len);
	name[len] = '\0';
	if (!ctl_name_valid(name))
		return;
	s = ctl_seen_get(d, name);
	if (!s)
		return;
	d->bounces++;
	s->bounces++;
	if (ctl_number_after(p + len, " size=", &v))
		s->bytes += v;
}

static double ctl_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The signals of the signalfd @sfd (-1: none), counted into @d. */
static bool ctl_watch_signals(struct ctl_diag *d, int sfd)
{
	struct signalfd_siginfo si;
	bool any = false;

	while (sfd >= 0 && read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (!d->sig)
			d->sig = si.ssi_signo;
		d->signals++;
		any = true;
	}
	return any;
}

/*
 * Read trace_pipe of the instance @inst for @seconds, or until a signal
 * comes on @sfd: 0 or a negative errno.
 */
static int ctl_watch_pipe(struct ctl_diag *d, const char *inst, int seconds,
			  int sfd)
{
	char path[CTL_PATH_MAX], buf[16384], *nl, *line;
	struct pollfd p[2] = { { .events = POLLIN }, { .events = POLLIN } };
	bool done, stop = false;
	struct timespec t0;
	size_t have = 0;
	double left;
	int i, err = 0;
	ssize_t n;

	if (ctl_path(path, "%s/trace_pipe", inst))
		return -ENAMETOOLONG;
	p[0].fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (p[0].fd < 0)
		return -errno;
	p[1].fd = sfd;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		left = seconds - ctl_since(&t0);
		done = stop || left <= 0;
		/* What is there; the clock is checked every 64 reads. */
		for (i = 0, n = 0; i < 64; i++) {
			n = read(p[0].fd, buf + have, sizeof(buf) - 1 - have);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			have += n;
			buf[have] = '\0';
			for (line = buf; (nl = strchr(line, '\n')); line = nl + 1) {
				*nl = '\0';
				ctl_trace_line(d, line);
			}
			have = strlen(line);
			memmove(buf, line, have);
			if (have == sizeof(buf) - 1)
				have = 0;	/* no line is that long */
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			err = -errno;
			break;
		}
		if (done)
			break;
		/* At most 250 ms: trace_pipe may not wake pollers at once. */
		left = left > 0.25 ? 0.25 : left;
		if (poll(p, 2, (int)(left * 1000) + 1) < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		/* A signal: read what is left, stop. */
		stop = ctl_watch_signals(d, sfd) || stop;
	}
	d->seconds = ctl_since(&t0);
	close(p[0].fd);
	return err;
}

/* The tracefs mount point, or debugfs's tracing/, into @dir. */
static int ctl_tracefs(char *dir)
{
	char dbg[CTL_PATH_MAX];
	struct stat st;

	if (!ctl_find_mount("tracefs", dir))
		return 0;
	if (ctl_find_mount("debugfs", dbg) || ctl_path(dir, "%s/tracing", dbg))
		return -ENOENT;
	/* debugfs mounts tracefs there when it is first looked at. */
	return stat(dir, &st) ? -errno : 0;
}

/*
 * Remove the instances "dynswiotlbctl-PID" of runs that were killed
 * (SIGKILL, a crash), whose PID runs no more.  One that is still in use
 * (EBUSY: a run in another PID namespace) is left.
 */
static void ctl_watch_stale(const char *tr)
{
	static const char prefix[] = "dynswiotlbctl-";
	char dir[CTL_PATH_MAX], path[CTL_PATH_MAX], *end;
	struct dirent *de;
	long pid;
	DIR *dd;

	if (ctl_path(dir, "%s/instances", tr))
		return;
	dd = opendir(dir);
	while (dd && (de = readdir(dd))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		errno = 0;
		pid = strtol(de->d_name + strlen(prefix), &end, 10);
		if (*end || errno || pid <= 0 || pid > INT_MAX ||
		    pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH ||
		    ctl_path(path, "%s/%s", dir, de->d_name))
			continue;
		if (!rmdir(path))
			ctl_msg(0, "--watch: removed %s, left by a run that was killed",
				path);
		else if (errno != EBUSY && errno != ENOENT)
			ctl_fail(errno, "--watch: could not remove %s, left by a run that was killed",
				 path);
	}
	if (dd)
		closedir(dd);
}

/* Explain a failure of --watch; returns @err. */
static int ctl_watch_failed(int err, const char *what)
{
	if ((err == -EACCES || err == -EPERM) && geteuid())
		ctl_msg(0, "--watch: run as root to use tracefs (%s: %s)", what,
			strerror(-err));
	else
		ctl_fail(-err, "--watch: %s", what);
	return err;
}

/*
 * Count the swiotlb's bounces per device for @seconds, through a tracefs
 * instance of our own.  Returns 0 or a negative errno.
 */
static int ctl_watch(struct ctl_diag *d, int seconds)
{
	/* SIGPIPE too: with the output gone, stop and clean up. */
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	char tr[CTL_PATH_MAX], inst[CTL_PATH_MAX], en[CTL_PATH_MAX];
	struct timespec now = { 0 };
	char path[CTL_PATH_MAX];
	int err, tries, sig, sfd, rm = 0;
	sigset_t block, saved;
	size_t i;

	err = ctl_tracefs(tr);
	if (err == -ENOENT) {
		ctl_msg(0, "--watch: tracefs is not mounted; mount it with: mount -t tracefs none /sys/kernel/tracing");
		return err;
	}
	if (err)
		return ctl_watch_failed(err, "tracefs");
	if (ctl_path(inst, "%s/instances/dynswiotlbctl-%d", tr, (int)getpid()) ||
	    ctl_path(en, "%s/events/" CTL_EVENT "/enable", inst) ||
	    ctl_path(path, "%s/buffer_size_kb", inst))
		return ctl_watch_failed(-ENAMETOOLONG, tr);
	ctl_watch_stale(tr);

	sigemptyset(&block);
	for (i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, &saved);
	/* Without one, a signal waits for the end of the watch. */
	sfd = signalfd(-1, &block, SFD_NONBLOCK | SFD_CLOEXEC);
	/* One left by a run of ours killed with SIGKILL under the same pid. */
	err = mkdir(inst, 0700) ? -errno : 0;
	if (err == -EEXIST && !rmdir(inst))
		err = mkdir(inst, 0700) ? -errno : 0;
	if (err) {
		if (err == -ENOENT)
			ctl_msg(0, "--watch: %s has no instances/ directory (a kernel without tracefs instances)",
				tr);
		else
			ctl_watch_failed(err, inst);
		goto out;
	}
	/* Per CPU; a new instance has the size of the top-level buffer. */
	ctl_write(path, "256");
	err = ctl_write(en, "1");
	if (err == -ENOENT)
		ctl_msg(0, "--watch: this kernel has no tracepoint swiotlb:swiotlb_bounced (no %s in %s/events)",
			CTL_EVENT, tr);
	else if (err)
		ctl_watch_failed(err, en);
	if (!err) {
		printf("watching swiotlb:swiotlb_bounced for %d s...\n", seconds);
		fflush(stdout);
		err = ctl_watch_pipe(d, inst, seconds, sfd);
		if (err)
			ctl_watch_failed(err, "trace_pipe");
		else
			d->watched = true;
		ctl_write(en, "0");
	}
	/* The instance may be busy for a moment after trace_pipe is closed. */
	for (tries = 0; tries < 20; tries++) {
		rm = rmdir(inst) ? errno : 0;
		if (rm != EBUSY)
			break;
		usleep(50000);
	}
	if (rm) {
		ctl_fail(rm, "--watch: could not remove %s (remove it with: rmdir %s)",
			 inst, inst);
		if (!err)
			err = -rm;
	}
out:
	/* The signals that came while the instance was removed. */
	ctl_watch_signals(d, sfd);
	while ((sig = sigtimedwait(&block, NULL, &now)) > 0) {
		if (!d->sig)
			d->sig = sig;
		d->signals++;
	}
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	if (d->sig && d->signals > 1)
		ctl_msg(0, "--watch: interrupted (%s, then another signal) after %.1f s: exiting",
			ctl_signame(d->sig), d->seconds);
	else if (d->sig == SIGHUP || d->sig == SIGPIPE)
		ctl_msg(0, "--watch: interrupted (%s) after %.1f s: exiting",
			ctl_signame(d->sig), d->seconds);
	else if (d->sig)
		ctl_msg(0, "--watch: interrupted (%s) after %.1f s%s",
			ctl_signame(d->sig), d->seconds,
			d->watched ? ": the counts so far follow" : "");
	return err;
}

/* A byte count for a sentence: "512 bytes", "4.7 MiB". */
static const char *ctl_size(char *buf, size_t size, unsigned long long v)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double x = v;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, size, "%llu bytes", v);
		return buf;
	}
	while (x >= 1024 && u + 1 < (int)ARRAY_SIZE(units)) {
		x /= 1024;
		u++;
	}
	snprintf(buf, size, "%.1f %s", x, units[u]);
	return buf;
}

/* The module's state of @name: "attached", "present", ... or NULL. */
static const char *ctl_mod_state(const struct ctl_diag *d, const char *name,
				 char *buf, size_t size)
{
	char path[CTL_PATH_MAX], n[DSW_DEV_NAME_MAX + 1], st[16];
	const char *line = d->modstates;
	struct stat sb;

	if (!ctl_path(path, "%s/%s", CTL_SYSFS_DEVICES, name) && !stat(path, &sb))
		return DSW_STATE_ATTACHED;
	while (*line) {
		if (sscanf(line, "%63s %15s", n, st) == 2 && !strcmp(n, name)) {
			snprintf(buf, size, "%s", st);
			return buf;
		}
		line = strchrnul(line, '\n');
		if (*line)
			line++;
	}
	return NULL;
}

/*
 * The lines of what persist would write for @name, whose driver is @drv
 * and which holds @holds (ctl_device_holds()).
 */
static void ctl_report_persist(const char *name, const struct ctl_drv *drv,
			       int holds)
{
	const char *what = *drv->driver ? drv->driver : drv->module;

	if (ctl_persisted(name)) {
		printf("  every boot: already in %s\n", CTL_PERSIST_CONF);
		return;
	}
	printf("  every boot: dynswiotlbctl persist %s\n", name);
	printf("              (writes: options %s %s=%s\n", DSW_MODULE_NAME,
	       DSW_PARAM_DEVICES, name);
	if (drv->kind == CTL_MOD_LOADABLE)
		printf("                       softdep %s pre: %s)\n",
		       drv->module, DSW_MODULE_NAME);
	else if (drv->kind == CTL_MOD_BUILTIN)
		printf("                       and %s in %s:\n"
		       "                       %s is built into the kernel, so no softdep)\n",
		       DSW_MODULE_NAME, CTL_PERSIST_LOAD,
		       *what ? what : "its driver");
	else
		printf("                       and %s in %s:\n"
		       "                       no driver module is known, so no softdep)\n",
		       DSW_MODULE_NAME, CTL_PERSIST_LOAD);
	if (holds && *drv->driver && drv->kind == CTL_MOD_BUILTIN)
		printf("              but %s is built in: at boot too, %s could take the device\n"
		       "              over only by rebinding its driver under %s,\n"
		       "              so persist refuses it without --force\n",
		       drv->driver, DSW_MODULE_NAME, ctl_holds_under(holds));
	else if (holds && drv->kind == CTL_MOD_LOADABLE)
		printf("              then, if persist says %s is in the initramfs, update-initramfs -u\n"
		       "              (or dracut -f) is required, before the reboot\n", drv->module);
}

/* One device's block. */
static void ctl_report_dev(const struct ctl_diag *d, const struct ctl_seen *s,
			   struct kmod_ctx *ctx, bool loaded)
{
	char dir[CTL_PATH_MAX], path[CTL_PATH_MAX], id[2][16], sz[32];
	const char *bus, *state, *sep = "";
	char statebuf[16], holding[CTL_FILE_MAX];
	struct ctl_drv drv;
	int holds = 0;

	if (!*s->name) {
		printf("\nunknown device (the log lines name none): %lu \"%s\" message%s, largest %llu bytes\n",
		       s->full, CTL_FULL_TEXT, s->full == 1 ? "" : "s", s->max_sz);
		return;
	}
	memset(&drv, 0, sizeof(drv));
	bus = ctl_find_device(s->name, dir);
	if (bus) {
		ctl_device_driver(ctx, dir, &drv);
		holds = ctl_device_holds(dir, holding, sizeof(holding));
	}
	printf("\n%s (", s->name);
	if (bus && !strcmp(bus, "pci") &&
	    !ctl_path(path, "%s/vendor", dir) && !ctl_read(path, id[0], 16) &&
	    !ctl_path(path, "%s/device", dir) && !ctl_read(path, id[1], 16))
		printf("pci %04lx:%04lx", strtoul(id[0], NULL, 16),
		       strtoul(id[1], NULL, 16));
	else if (bus)
		printf("%s", bus);
	else
		printf("%s%snot present now", s->bus, *s->bus ? ", " : "");
	if (*drv.driver) {
		printf(", driver %s", drv.driver);
		if (drv.kind == CTL_MOD_LOADABLE)
			printf(", module %s", drv.module);
		else
			printf(", built in");
	} else if (bus) {
		printf(", no driver");
		if (drv.kind == CTL_MOD_LOADABLE)
			printf(" (its modalias: module %s)", drv.module);
		else if (drv.kind == CTL_MOD_BUILTIN)
			printf(" (its modalias: %s, built in)", drv.module);
	} else if (*s->logdrv) {
		printf(", driver %s (from the log)", s->logdrv);
	}
	state = loaded ? ctl_mod_state(d, s->name, statebuf, sizeof(statebuf)) :
		NULL;
	if (!state)
		printf(", not attached");
	else if (!strcmp(state, DSW_STATE_ATTACHED))
		printf(", attached");
	else
		printf(", selected: %s", state);
	printf("): ");
	if (s->full) {
		printf("%lu \"%s\" message%s, largest %llu bytes", s->full,
		       CTL_FULL_TEXT, s->full == 1 ? "" : "s", s->max_sz);
		if (s->slots)
			printf(" (pool: %llu of %llu slots used)", s->used,
			       s->total);
		sep = "; ";
	}
	if (d->watched && !s->bounces)
		printf("%sno bounce in %.0f s", sep, d->seconds);
	else if (d->watched)
		printf("%s%llu bounce%s, %s in %.0f s", sep, s->bounces,
		       s->bounces == 1 ? "" : "s",
		       ctl_size(sz, sizeof(sz), s->bytes), d->seconds);
	putchar('\n');

	if (*s->bus && strcmp(s->bus, "pci") && strcmp(s->bus, "platform")) {
		printf("  (a %s device: %s selects PCI and platform devices only)\n",
		       s->bus, DSW_MODULE_NAME);
		return;
	}
	if (state && !strcmp(state, DSW_STATE_ATTACHED))
		printf("  now:        already attached (dynswiotlbctl status shows it)\n");
	else if (state && !strcmp(state, DSW_STATE_REFUSED))
		printf("  now:        selected, but %s refused it: the kernel log says why (dmesg | grep %s)\n",
		       DSW_MODULE_NAME, DSW_MODULE_NAME);
	else if (state)
		printf("  now:        selected, not attached yet (%s): dynswiotlbctl status\n",
		       state);
	else if (holds)
		printf("  now:        do not attach it now: it holds %s; attaching rebinds its driver under %s.%s\n",
		       holding, ctl_holds_under(holds),
		       drv.kind == CTL_MOD_BUILTIN ? "" : " Persist it and reboot.");
	else if (loaded)
		printf("  now:        echo %s > %s   (or: dynswiotlbctl attach %s; rebinds its driver)\n",
		       s->name, CTL_SYSFS_ATTACH, s->name);
	else
		printf("  now:        modprobe %s %s=%s\n", DSW_MODULE_NAME,
		       DSW_PARAM_DEVICES, s->name);
	ctl_report_persist(s->name, &drv, holds);
}

static int ctl_cmp_seen(const void *a, const void *b)
{
	return strcmp(((const struct ctl_seen *)a)->name,
		      ((const struct ctl_seen *)b)->name);
}

/* The summary lines of the log and of the trace, then the devices. */
static void ctl_report(struct ctl_diag *d, bool log, bool watch, bool loaded)
{
	struct kmod_ctx *ctx;
	int i, full = 0, bounced = 0;

	for (i = 0; i < d->n; i++) {
		full += d->dev[i].full > 0;
		bounced += d->dev[i].bounces > 0;
	}
	if (log && !d->full)
		printf("kernel log: %lu records, no \"%s\" message\n",
		       d->records, CTL_FULL_TEXT);
	if (log && d->full) {
		printf("kernel log: %lu records, %lu \"%s\" message%s from %d device%s",
		       d->records, d->full, CTL_FULL_TEXT, d->full == 1 ? "" : "s",
		       full, full == 1 ? "" : "s");
		if (d->suppressed)
			printf(" (and %lu more that the kernel's rate limit suppressed)",
			       d->suppressed);
		putchar('\n');
	}
	if (d->watched) {
		printf("trace: %llu bounce%s in %.1f s from %d device%s",
		       d->bounces, d->bounces == 1 ? "" : "s", d->seconds,
		       bounced, bounced == 1 ? "" : "s");
		if (d->lost)
			printf(" (and %llu events lost: counts are low)", d->lost);
		putchar('\n');
	}
	if (!d->n) {
		if (!log && !d->watched)
			printf("\nno device seen: the kernel log could not be read%s\n",
			       watch ? ", nor the trace" : "");
		if (log || d->watched)
			printf("\nno device ran out of the swiotlb pool%s%s%s\n",
			       log ? " (no \"" CTL_FULL_TEXT "\" in the kernel log)" : "",
			       d->watched ? " or bounced through it" : "",
			       d->watched ? " while watched" : "");
		if (log && !watch)
			printf("to see which devices bounce, run: dynswiotlbctl diagnose --watch 10\n");
		return;
	}
	qsort(d->dev, d->n, sizeof(*d->dev), ctl_cmp_seen);
	ctx = ctl_kmod_new();
	for (i = 0; i < d->n; i++)
		ctl_report_dev(d, &d->dev[i], ctx, loaded);
	if (ctx)
		kmod_unref(ctx);
}

/*
 * Whether the module is loaded and, if it is, what it selected: one
 * "<name> <state>" line of its devices file each.
 */
static void ctl_print_module(const struct ctl_diag *d, bool loaded)
{
	const char *line = d->modstates, *nl;

	if (!loaded) {
		printf("%s: not loaded\n", DSW_MODULE_NAME);
		return;
	}
	printf("%s: loaded, %s\n", DSW_MODULE_NAME,
	       *line ? "selected:" : "no device selected");
	for (; *line; line = nl + 1) {
		nl = strchrnul(line, '\n');
		if (nl > line)
			printf("  %.*s\n", (int)(nl - line), line);
		if (!*nl)
			break;
	}
}

static const struct option ctl_diag_opts[] = {
	{ "watch", required_argument, NULL, 'w' },
	{ NULL, 0, NULL, 0 }
};

/**
 * ctl_cmd_diagnose() - dynswiotlbctl diagnose [-w|--watch SECONDS]
 * @argc: number of words, the command included
 * @argv: the words
 *
 * Works without the module and without root, reading what it can.
 *
 * Return: CTL_EXIT_OK if anything could be read (whatever was found) and
 * --watch, if asked for, ran; CTL_EXIT_PERM if nothing could be read, or
 * --watch could not run, for want of permission; CTL_EXIT_OTHER if either
 * failed otherwise; 128 + the signal if --watch was interrupted by one.
 */
int ctl_cmd_diagnose(int argc, char **argv)
{
	char dbg[CTL_PATH_MAX], path[CTL_PATH_MAX];
	int c, watch = 0, kmsg, pool, trace = 0;
	struct ctl_diag d = { 0 };
	bool loaded, perm;
	struct stat st;
	char *end;
	long v;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+w:", ctl_diag_opts, NULL)) != -1) {
		if (c != 'w')
			return ctl_usage_error("diagnose", "unknown option or missing value: '%s'",
					       argv[optind - 1]);
		errno = 0;
		v = strtol(optarg, &end, 10);
		if (end == optarg || *end || errno || v < 1 || v > 86400)
			return ctl_usage_error("diagnose", "--watch '%s': not 1 to 86400 s",
					       optarg);
		watch = v;
	}
	if (optind < argc)
		return ctl_usage_error("diagnose", "unexpected '%s'", argv[optind]);

	kmsg = ctl_kmsg_scan(&d);
	if (kmsg == -EPERM || kmsg == -EACCES)
		ctl_msg(0, "the kernel log is not readable (%s): %s",
			ctl_errname(-kmsg), geteuid() ?
			"run as root to read the kernel log and debugfs" :
			"dmesg_restrict, or a security module, forbids it");
	else if (kmsg)
		ctl_fail(-kmsg, "diagnose: /dev/kmsg");

	pool = ctl_pool(&d, ctl_find_mount("debugfs", dbg) ? NULL : dbg);
	if ((pool == -EACCES || pool == -EPERM) && geteuid() && !kmsg)
		ctl_msg(0, "debugfs is not readable: run as root to read the swiotlb pool's use");

	loaded = !stat(CTL_SYSFS_ROOT, &st);
	if (loaded && pool != -ENOENT &&
	    !ctl_path(path, "%s/%s/%s", dbg, DSW_DEBUGFS_DIR, DSW_DEBUGFS_DEVICES) &&
	    ctl_read(path, d.modstates, sizeof(d.modstates)))
		d.modstates[0] = '\0';
	ctl_print_module(&d, loaded);
	fflush(stdout);

	if (watch)
		trace = ctl_watch(&d, watch);
	/* A second signal, or one that took the output away: stop now. */
	if (d.sig && (d.signals > 1 || d.sig == SIGPIPE || d.sig == SIGHUP)) {
		free(d.dev);
		return 128 + d.sig;
	}
	ctl_report(&d, !kmsg, watch, loaded);
	free(d.dev);

	if (d.sig)
		return 128 + d.sig;
	/* --watch was asked for: it failing is a failure, whatever was read. */
	if (watch && trace)
		return trace == -EPERM || trace == -EACCES ? CTL_EXIT_PERM :
			CTL_EXIT_OTHER;
	if (!kmsg || !pool || watch)
		return CTL_EXIT_OK;
	perm = kmsg == -EPERM || kmsg == -EACCES || pool == -EPERM ||
		pool == -EACCES;
	return perm ? CTL_EXIT_PERM : CTL_EXIT_OTHER;
}
