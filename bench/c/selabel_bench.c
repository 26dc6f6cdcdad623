/*
 * selabel_bench: libselinux's file_contexts lookups, for comparison with
 * selinux-mcs's FileContexts (see selinux-mcs/benches/file_contexts.rs).
 *
 * Build (Debian: apt-get install libselinux1-dev):
 *   gcc -O2 -o target/selabel_bench bench/c/selabel_bench.c -lselinux
 *
 * Usage:
 *   selabel_bench lookup FILE_CONTEXTS < REQUESTS
 *       REQUESTS: lines "PATH<TAB>KIND", KIND one of file dir symlink chr
 *       blk fifo sock or "-" (no kind). Prints "PATH<TAB>KIND<TAB>CONTEXT",
 *       CONTEXT "<<none>>" when selabel_lookup fails with ENOENT.
 *   selabel_bench bench FILE_CONTEXTS REQUESTS_FILE ROUNDS
 *       Times selabel_open (once) and ROUNDS passes of selabel_lookup over
 *       every request; prints load ms and ns per lookup.
 *
 * FILE_CONTEXTS is opened with SELABEL_OPT_PATH, so libselinux also reads
 * FILE_CONTEXTS.homedirs, .local, .subs_dist and .subs, and prefers
 * FILE_CONTEXTS.bin when it exists and is newer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <selinux/label.h>
#include <selinux/selinux.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct request {
	char *path;
	char *kind;
	int mode;
};

static int kind_mode(const char *kind)
{
	if (!strcmp(kind, "file")) return S_IFREG;
	if (!strcmp(kind, "dir")) return S_IFDIR;
	if (!strcmp(kind, "symlink")) return S_IFLNK;
	if (!strcmp(kind, "chr")) return S_IFCHR;
	if (!strcmp(kind, "blk")) return S_IFBLK;
	if (!strcmp(kind, "fifo")) return S_IFIFO;
	if (!strcmp(kind, "sock")) return S_IFSOCK;
	return 0;
}

static size_t read_requests(FILE *in, struct request **out)
{
	size_t n = 0, cap = 0;
	char *line = NULL;
	size_t len = 0;
	ssize_t got;
	struct request *reqs = NULL;

	while ((got = getline(&line, &len, in)) > 0) {
		if (line[got - 1] == '\n')
			line[--got] = '\0';
		if (!got)
			continue;
		char *tab = strchr(line, '\t');
		const char *kind = "-";
		if (tab) {
			*tab = '\0';
			kind = tab + 1;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			reqs = realloc(reqs, cap * sizeof(*reqs));
			if (!reqs) {
				perror("realloc");
				exit(2);
			}
		}
		reqs[n].path = strdup(line);
		reqs[n].kind = strdup(kind);
		reqs[n].mode = kind_mode(kind);
		n++;
	}
	free(line);
	*out = reqs;
	return n;
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s lookup FILE_CONTEXTS < REQUESTS\n"
				"       %s bench FILE_CONTEXTS REQUESTS ROUNDS\n", argv[0], argv[0]);
		return 2;
	}
	struct selinux_opt opts[] = { { SELABEL_OPT_PATH, argv[2] } };
	double t0 = now_ns();
	struct selabel_handle *h = selabel_open(SELABEL_CTX_FILE, opts, 1);
	double t1 = now_ns();
	if (!h) {
		perror("selabel_open");
		return 1;
	}

	struct request *reqs;
	size_t n;
	if (!strcmp(argv[1], "lookup")) {
		n = read_requests(stdin, &reqs);
		for (size_t i = 0; i < n; i++) {
			char *con = NULL;
			if (selabel_lookup_raw(h, &con, reqs[i].path, reqs[i].mode) == 0) {
				printf("%s\t%s\t%s\n", reqs[i].path, reqs[i].kind, con);
				freecon(con);
			} else if (errno == ENOENT) {
				printf("%s\t%s\t<<none>>\n", reqs[i].path, reqs[i].kind);
			} else {
				perror(reqs[i].path);
				return 1;
			}
		}
	} else if (!strcmp(argv[1], "bench") && argc == 5) {
		FILE *in = fopen(argv[3], "r");
		if (!in) {
			perror(argv[3]);
			return 1;
		}
		n = read_requests(in, &reqs);
		fclose(in);
		long rounds = atol(argv[4]);
		/* One untimed pass: libselinux compiles each regex on first use. */
		size_t found = 0;
		for (size_t i = 0; i < n; i++) {
			char *con = NULL;
			if (selabel_lookup_raw(h, &con, reqs[i].path, reqs[i].mode) == 0)
				freecon(con);
		}
		double t2 = now_ns();
		for (long r = 0; r < rounds; r++) {
			for (size_t i = 0; i < n; i++) {
				char *con = NULL;
				if (selabel_lookup_raw(h, &con, reqs[i].path, reqs[i].mode) == 0) {
					found++;
					freecon(con);
				}
			}
		}
		double t3 = now_ns();
		printf("libselinux: selabel_open %.2f ms; %zu paths x %ld rounds: %.1f ns/lookup (%zu found)\n",
		       (t1 - t0) / 1e6, n, rounds,
		       (t3 - t2) / (double)(n * rounds), found);
	} else {
		fprintf(stderr, "unknown mode %s\n", argv[1]);
		return 2;
	}
	selabel_close(h);
	return 0;
}
