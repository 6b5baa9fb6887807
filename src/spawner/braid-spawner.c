/*
 * braid-spawner: starts delegate plugins for the braid daemon, so the daemon never forks.
 * fork() copies the page tables of the process that calls it, and until the child execs every
 * page the parent writes takes a fault: from the daemon (~100 MB of V8 heap) that is 2-4 ms of
 * CPU per plugin with its event loop stopped; from this process (a few hundred KB) ~0.1 ms.
 * libc only, like braid-shim. The daemon starts one and sends it every plugin run over its
 * stdin; answers come back on stdout in any order, so runs overlap (the daemon limits them).
 *
 * Frames both ways: u32 length of the rest, then fields. u32 is little-endian; a string is a
 * u32 length and that many bytes.
 *   to the spawner:   u32 id, 'R', string path, u32 n, n strings "K=V" (the whole env), string stdin
 *                     u32 id, 'K'   SIGKILL the run's process group (a timeout)
 *   from the spawner: u32 id, kind, u32 code, u32 pid, u32 cpu, string stdout, string stderr
 *                     kind 'X' exited with status code, 'S' killed by signal code, 'E' exec
 *                     failed with errno code, 'O' killed for printing more than MAX_OUTPUT;
 *                     cpu: microseconds of CPU (user + system) the plugin and the processes it
 *                     waited for used, from wait4(), for the daemon's per-plugin CPU metric.
 * Each plugin runs in a new session (its own process group), so a kill reaches whatever it
 * started that still holds its stdout. When stdin closes (the daemon stopped or died), running
 * plugins get GRACE_S seconds to finish, then their groups are killed, then the spawner exits.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_OUTPUT (16u * 1024 * 1024) /* per stream, as the daemon's execa path */
#define MAX_FRAME (64u * 1024 * 1024)
#define GRACE_S 60

struct buf { char *p; size_t len, cap, off; };
struct job {
	uint32_t id;
	pid_t pid;
	int in, out, err; /* -1 once closed */
	struct buf stdin_data, o, e;
	int exited, status, overflow;
	uint32_t cpu_us;
	struct job *next;
};

static struct job *jobs;
static struct buf req, reply;
static int sigpipe_fds[2];
static int input_open = 1, output_open = 1;

static void die(const char *what) {
	fprintf(stderr, "braid-spawner: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void put(struct buf *b, const void *s, size_t n) {
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n) cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) die("out of memory");
		b->p = p, b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}
static void put32(struct buf *b, uint32_t v) {
	unsigned char c[4] = { v & 255, (v >> 8) & 255, (v >> 16) & 255, v >> 24 };
	put(b, c, 4);
}
static uint32_t get32(const char *p) {
	const unsigned char *c = (const unsigned char *)p;
	return c[0] | c[1] << 8 | c[2] << 16 | (uint32_t)c[3] << 24;
}
static void nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }
static void close_fd(int *fd) { if (*fd >= 0) close(*fd), *fd = -1; }

static void on_sigchld(int sig) {
	(void)sig;
	int saved = errno;
	(void)!write(sigpipe_fds[1], "c", 1);
	errno = saved;
}

static void send_reply(uint32_t id, char kind, uint32_t code, pid_t pid, uint32_t cpu_us, const struct buf *o, const struct buf *e) {
	if (!output_open) return;
	size_t olen = o ? o->len : 0, elen = e ? e->len : 0;
	put32(&reply, (uint32_t)(4 + 1 + 4 + 4 + 4 + 4 + olen + 4 + elen));
	put32(&reply, id);
	put(&reply, &kind, 1);
	put32(&reply, code);
	put32(&reply, (uint32_t)pid);
	put32(&reply, cpu_us);
	put32(&reply, (uint32_t)olen);
	if (olen) put(&reply, o->p, olen);
	put32(&reply, (uint32_t)elen);
	if (elen) put(&reply, e->p, elen);
}

static void free_job(struct job *j) {
	free(j->stdin_data.p), free(j->o.p), free(j->e.p), free(j);
}

/* A field reader over one frame; any overrun marks the frame bad. */
struct reader { const char *p; size_t left; int bad; };
static uint32_t r32(struct reader *r) {
	if (r->left < 4) { r->bad = 1; return 0; }
	uint32_t v = get32(r->p);
	r->p += 4, r->left -= 4;
	return v;
}
static char *rstr(struct reader *r, uint32_t *len) {
	uint32_t n = r32(r);
	if (r->bad || r->left < n) { r->bad = 1; return NULL; }
	char *s = malloc((size_t)n + 1);
	if (!s) die("out of memory");
	memcpy(s, r->p, n);
	s[n] = 0;
	r->p += n, r->left -= n;
	if (len) *len = n;
	return s;
}

static void start(uint32_t id, struct reader *r) {
	uint32_t stdin_len = 0;
	char *path = rstr(r, NULL);
	uint32_t n = r32(r);
	char **env = NULL;
	if (!r->bad && n <= r->left / 4) env = calloc((size_t)n + 1, sizeof *env);
	else r->bad = 1;
	for (uint32_t i = 0; env && i < n && !r->bad; i++) env[i] = rstr(r, NULL);
	char *input = r->bad ? NULL : rstr(r, &stdin_len);
	if (r->bad) {
		fprintf(stderr, "braid-spawner: malformed run request %u\n", id);
		send_reply(id, 'E', EINVAL, 0, 0, NULL, NULL);
		goto out;
	}

	int pin[2], pout[2], perr[2], pex[2];
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC) || pipe2(pex, O_CLOEXEC)) die("pipe");
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(pin[0]), close(pin[1]), close(pout[0]), close(pout[1]), close(perr[0]), close(perr[1]), close(pex[0]), close(pex[1]);
		send_reply(id, 'E', (uint32_t)err, 0, 0, NULL, NULL);
		goto out;
	}
	if (pid == 0) {
		/* The plugin gets default signal handling (an ignored SIGPIPE would survive exec). */
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		setsid();
		if (dup2(pin[0], 0) < 0 || dup2(pout[1], 1) < 0 || dup2(perr[1], 2) < 0) _exit(127);
		char *argv[] = { path, NULL };
		execve(path, argv, env);
		int err = errno;
		(void)!write(pex[1], &err, sizeof err);
		_exit(127);
	}
	close(pin[0]), close(pout[1]), close(perr[1]), close(pex[1]);
	int err = 0;
	ssize_t got;
	do got = read(pex[0], &err, sizeof err); while (got < 0 && errno == EINTR);
	close(pex[0]);
	if (got == sizeof err) { /* exec failed: the child is exiting already */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {}
		close(pin[1]), close(pout[0]), close(perr[0]);
		send_reply(id, 'E', (uint32_t)err, (uint32_t)pid, 0, NULL, NULL);
		goto out;
	}
	struct job *j = calloc(1, sizeof *j);
	if (!j) die("out of memory");
	j->id = id, j->pid = pid, j->in = pin[1], j->out = pout[0], j->err = perr[0];
	j->stdin_data.p = input, j->stdin_data.len = stdin_len;
	input = NULL;
	nonblock(j->in), nonblock(j->out), nonblock(j->err);
	if (!stdin_len) close_fd(&j->in);
	j->next = jobs;
	jobs = j;
out:
	free(path);
	free(input);
	for (uint32_t i = 0; env && env[i]; i++) free(env[i]);
	free(env);
}

static void kill_job(uint32_t id) {
	for (struct job *j = jobs; j; j = j->next)
		if (j->id == id) kill(-j->pid, SIGKILL);
}

/* Handles every complete frame in req. */
static void handle_requests(void) {
	size_t off = 0;
	while (req.len - off >= 4) {
		uint32_t len = get32(req.p + off);
		if (len > MAX_FRAME || len < 5) { errno = EPROTO; die("bad frame from the daemon"); }
		if (req.len - off - 4 < len) break;
		struct reader r = { req.p + off + 4, len, 0 };
		uint32_t id = r32(&r);
		char op = *r.p;
		r.p++, r.left--;
		if (op == 'R') start(id, &r);
		else if (op == 'K') kill_job(id);
		else fprintf(stderr, "braid-spawner: unknown request '%c'\n", op);
		off += 4 + len;
	}
	memmove(req.p, req.p + off, req.len - off);
	req.len -= off;
}

static void drain(struct job *j, int *fd, struct buf *b) {
	char chunk[65536];
	for (;;) {
		ssize_t n = read(*fd, chunk, sizeof chunk);
		if (n > 0) {
			if (b->len + (size_t)n > MAX_OUTPUT) {
				if (!j->overflow) kill(-j->pid, SIGKILL);
				j->overflow = 1;
				continue;
			}
			put(b, chunk, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR) continue;
		if (n < 0 && errno == EAGAIN) return;
		close_fd(fd); /* EOF, or an error we can't recover from */
		return;
	}
}

static void feed(struct job *j) {
	struct buf *b = &j->stdin_data;
	while (b->off < b->len) {
		ssize_t n = write(j->in, b->p + b->off, b->len - b->off);
		if (n > 0) { b->off += (size_t)n; continue; }
		if (n < 0 && errno == EINTR) continue;
		if (n < 0 && errno == EAGAIN) return;
		break; /* EPIPE: the plugin exited without reading its config */
	}
	close_fd(&j->in);
}

static void reap(void) {
	int status;
	pid_t pid;
	struct rusage ru;
	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0)
		for (struct job *j = jobs; j; j = j->next)
			if (j->pid == pid) {
				long long us = (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
				j->exited = 1, j->status = status, j->cpu_us = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
			}
}

/* A run is answered when the plugin has exited and both its output pipes are at EOF. */
static void finish_jobs(void) {
	for (struct job **pj = &jobs; *pj;) {
		struct job *j = *pj;
		if (!j->exited || j->out >= 0 || j->err >= 0) { pj = &j->next; continue; }
		close_fd(&j->in);
		if (j->overflow) send_reply(j->id, 'O', MAX_OUTPUT, j->pid, j->cpu_us, NULL, &j->e);
		else if (WIFSIGNALED(j->status)) send_reply(j->id, 'S', (uint32_t)WTERMSIG(j->status), j->pid, j->cpu_us, &j->o, &j->e);
		else send_reply(j->id, 'X', (uint32_t)WEXITSTATUS(j->status), j->pid, j->cpu_us, &j->o, &j->e);
		*pj = j->next;
		free_job(j);
	}
}

static void flush_replies(void) {
	while (reply.off < reply.len) {
		ssize_t n = write(1, reply.p + reply.off, reply.len - reply.off);
		if (n > 0) { reply.off += (size_t)n; continue; }
		if (n < 0 && errno == EINTR) continue;
		if (n < 0 && errno == EAGAIN) break;
		output_open = 0; /* the daemon is gone; nobody to answer */
		reply.off = reply.len;
	}
	if (reply.off == reply.len) reply.off = reply.len = 0;
}

int main(void) {
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK)) die("pipe");
	struct sigaction sa = { 0 };
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	nonblock(0), nonblock(1);
	time_t grace_end = 0;

	for (;;) {
		size_t n = 0, cap = 3;
		for (struct job *j = jobs; j; j = j->next) cap += 3;
		struct pollfd *fds = calloc(cap, sizeof *fds);
		struct job **owner = calloc(cap, sizeof *owner);
		if (!fds || !owner) die("out of memory");
		fds[n++] = (struct pollfd){ .fd = sigpipe_fds[0], .events = POLLIN };
		if (input_open) fds[n++] = (struct pollfd){ .fd = 0, .events = POLLIN };
		if (reply.len > reply.off) fds[n++] = (struct pollfd){ .fd = 1, .events = POLLOUT };
		for (struct job *j = jobs; j; j = j->next) {
			if (j->in >= 0) owner[n] = j, fds[n++] = (struct pollfd){ .fd = j->in, .events = POLLOUT };
			if (j->out >= 0) owner[n] = j, fds[n++] = (struct pollfd){ .fd = j->out, .events = POLLIN };
			if (j->err >= 0) owner[n] = j, fds[n++] = (struct pollfd){ .fd = j->err, .events = POLLIN };
		}
		int timeout = -1;
		if (!input_open) {
			if (!jobs && reply.len == reply.off) return 0;
			if (!grace_end) grace_end = time(NULL) + GRACE_S;
			if (time(NULL) >= grace_end) for (struct job *j = jobs; j; j = j->next) kill(-j->pid, SIGKILL);
			timeout = 1000;
		}
		if (poll(fds, n, timeout) < 0 && errno != EINTR) die("poll");
		for (size_t i = 0; i < n; i++) {
			if (!fds[i].revents) continue;
			struct job *j = owner[i];
			if (fds[i].fd == sigpipe_fds[0]) {
				char c[64];
				while (read(sigpipe_fds[0], c, sizeof c) > 0) {}
			} else if (!j && fds[i].fd == 0) {
				char chunk[65536];
				ssize_t got = read(0, chunk, sizeof chunk);
				if (got > 0) put(&req, chunk, (size_t)got);
				else if (got == 0 || (errno != EAGAIN && errno != EINTR)) input_open = 0;
			} else if (j && fds[i].fd == j->in) feed(j);
			else if (j && fds[i].fd == j->out) drain(j, &j->out, &j->o);
			else if (j && fds[i].fd == j->err) drain(j, &j->err, &j->e);
		}
		free(fds);
		free(owner);
		handle_requests();
		reap();
		finish_jobs();
		flush_replies();
	}
}
