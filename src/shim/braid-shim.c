/*
 * braid-shim: the CNI binary of braid's daemon mode. It forwards CNI_* and stdin to the daemon
 * (POST /cni over a unix socket, body {"env":{...},"stdin":"..."}), prints the body of the
 * answer and exits with its X-CNI-Exit header. libc only: it is on the path of every CNI call
 * and starts in about a millisecond, where a Node.js process takes over a hundred.
 * Socket: the top-level "daemonSocket" of the stdin config, else /run/braid/braid.sock.
 * Unreachable daemon or no answer in time: CNI error 11 (try again later); a malformed answer
 * 999; stdin over 4 MiB 7. Always exactly one JSON line on stdout.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_STDIN (4 * 1024 * 1024)
#define MAX_ANSWER (64 * 1024 * 1024)
#define DEFAULT_SOCKET "/run/braid/braid.sock"
#define DEFAULT_TIMEOUT_S 300 /* an ADD of many networks may be slow; the daemon times delegates */

struct buf { char *p; size_t len, cap; };
static char version[16] = "1.1.0";

static void fail(int code, const char *fmt, ...);

static void put(struct buf *b, const char *s, size_t n) {
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1) cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) fail(11, "braid-shim: out of memory; try again later");
		b->p = p, b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}
static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }

static void put_json(struct buf *b, const char *s, size_t n) { /* a JSON string literal */
	put(b, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		if (c == '"' || c == '\\') esc[0] = '\\', esc[1] = (char)c, put(b, esc, 2);
		else if (c < 0x20) snprintf(esc, sizeof esc, "\\u%04x", c), put(b, esc, 6);
		else put(b, (const char *)&s[i], 1);
	}
	put(b, "\"", 1);
}

static void fail(int code, const char *fmt, ...) {
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	static struct buf out; /* static: fail() may run from put() on a failed realloc */
	out.len = 0;
	char head[64];
	snprintf(head, sizeof head, "{\"cniVersion\":\"%s\",\"code\":%d,\"msg\":", version, code);
	puts_(&out, head), put_json(&out, msg, strlen(msg)), puts_(&out, "}\n");
	if (write(1, out.p, out.len) < 0) { /* nothing left to tell anyone */ }
	exit(1);
}

/* The top-level string value of key in a JSON object, unescaped (\uXXXX up to U+FFFF). */
static char *top_level_string(const char *js, size_t n, const char *key) {
	int depth = 0;
	for (size_t i = 0; i < n; i++) {
		if (js[i] == '{' || js[i] == '[') depth++;
		else if (js[i] == '}' || js[i] == ']') depth--;
		if (js[i] != '"') continue;
		size_t start = ++i;
		while (i < n && js[i] != '"') i += js[i] == '\\' ? 2 : 1;
		if (i >= n) return NULL;
		size_t j = i + 1;
		while (j < n && strchr(" \t\r\n", js[j])) j++;
		if (depth != 1 || j >= n || js[j] != ':' || i - start != strlen(key) || memcmp(js + start, key, i - start)) continue;
		for (j++; j < n && strchr(" \t\r\n", js[j]); j++) {}
		if (j >= n || js[j] != '"') return NULL;
		char *out = malloc(n - j), *o = out;
		for (j++; out && j < n && js[j] != '"'; j++) {
			if (js[j] != '\\') { *o++ = js[j]; continue; }
			if (++j >= n) break;
			const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t", *k = strchr(from, js[j]);
			if (k && *k) { *o++ = to[k - from]; continue; }
			unsigned u;
			if (js[j] != 'u' || j + 4 >= n || sscanf(js + j + 1, "%4x", &u) != 1) break;
			j += 4;
			if (u < 0x80) *o++ = (char)u;
			else if (u < 0x800) *o++ = (char)(0xc0 | u >> 6), *o++ = (char)(0x80 | (u & 0x3f));
			else *o++ = (char)(0xe0 | u >> 12), *o++ = (char)(0x80 | ((u >> 6) & 0x3f)), *o++ = (char)(0x80 | (u & 0x3f));
		}
		if (!out || j >= n) { free(out); return NULL; }
		*o = 0;
		return out;
	}
	return NULL;
}

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void) {
	signal(SIGPIPE, SIG_IGN); /* a daemon that closes on us is an EPIPE, not a silent death */
	struct buf in = {0}, req = {0}, ans = {0};
	char chunk[65536];
	ssize_t r;
	while ((r = read(0, chunk, sizeof chunk)) != 0) {
		if (r < 0) { if (errno == EINTR) continue; fail(5, "braid-shim: reading stdin: %s", strerror(errno)); }
		put(&in, chunk, (size_t)r);
		if (in.len > MAX_STDIN) fail(7, "stdin exceeds %d bytes", MAX_STDIN);
	}
	char *v = top_level_string(in.p ? in.p : "", in.len, "cniVersion");
	if (v && *v && strlen(v) < sizeof version && strspn(v, "0123456789.") == strlen(v)) strcpy(version, v);
	char *path = top_level_string(in.p ? in.p : "", in.len, "daemonSocket");
	if (!path || !*path) path = DEFAULT_SOCKET;
	const char *t = getenv("BRAID_SHIM_TIMEOUT");
	int timeout_s = t && atoi(t) > 0 ? atoi(t) : DEFAULT_TIMEOUT_S;

	static const char *vars[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH"};
	struct buf body = {0};
	puts_(&body, "{\"env\":{");
	for (size_t i = 0, first = 1; i < sizeof vars / sizeof *vars; i++) {
		const char *val = getenv(vars[i]);
		if (!val) continue;
		if (!first) puts_(&body, ",");
		first = 0;
		put_json(&body, vars[i], strlen(vars[i])), puts_(&body, ":"), put_json(&body, val, strlen(val));
	}
	puts_(&body, "},\"stdin\":"), put_json(&body, in.p ? in.p : "", in.len), puts_(&body, "}");
	snprintf(chunk, sizeof chunk, "POST /cni HTTP/1.0\r\nHost: braid\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n", body.len);
	puts_(&req, chunk), put(&req, body.p, body.len);

	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof addr.sun_path) fail(11, "braid daemon not reachable at %s: %s; try again later", path, strerror(ENAMETOOLONG));
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0)
		fail(11, "braid daemon not reachable at %s: %s; try again later", path, strerror(errno));
	for (size_t off = 0; off < req.len; off += (size_t)r) {
		while ((r = write(fd, req.p + off, req.len - off)) < 0 && errno == EINTR) {}
		if (r < 0) fail(11, "braid daemon not reachable at %s: %s; try again later", path, strerror(errno));
	}
	double deadline = now() + timeout_s;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int left = (int)((deadline - now()) * 1000);
		int ready = left > 0 ? poll(&p, 1, left) : 0;
		if (ready < 0 && errno == EINTR) continue;
		if (ready == 0) fail(11, "braid daemon at %s did not answer within %d s; try again later", path, timeout_s);
		r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0 && !ans.len) fail(11, "braid daemon not reachable at %s: %s; try again later", path, strerror(errno));
		if (r <= 0) break;
		put(&ans, chunk, (size_t)r);
		if (ans.len > MAX_ANSWER) fail(999, "braid daemon at %s gave a malformed answer: over %d bytes", path, MAX_ANSWER);
	}
	if (!ans.len) fail(11, "braid daemon not reachable at %s: connection closed without an answer; try again later", path);

	char *end = strstr(ans.p, "\r\n\r\n"), *h, *payload;
	int status = 0, exit_code = -1;
	long length = -1;
	if (!end || sscanf(ans.p, "HTTP/1.%*d %d", &status) != 1 || status != 200)
		fail(999, "braid daemon at %s gave a malformed answer: %.60s", path, ans.p);
	*end = 0, payload = end + 4;
	for (h = strstr(ans.p, "\r\n"); h; h = strstr(h + 2, "\r\n")) {
		if (!strncasecmp(h + 2, "X-CNI-Exit:", 11)) exit_code = atoi(h + 13);
		if (!strncasecmp(h + 2, "Content-Length:", 15)) length = atol(h + 17);
	}
	size_t got = ans.len - (size_t)(payload - ans.p);
	if (exit_code < 0 || exit_code > 255 || (length >= 0 && (size_t)length != got))
		fail(999, "braid daemon at %s gave a malformed answer: %s", path, exit_code < 0 || exit_code > 255 ? "no X-CNI-Exit" : "truncated body");
	for (size_t off = 0; off < got; off += (size_t)r) {
		while ((r = write(1, payload + off, got - off)) < 0 && errno == EINTR) {}
		if (r < 0) return 1;
	}
	return exit_code;
}
