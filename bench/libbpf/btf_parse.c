// libbpf peer of `cargo bench -p bpf2rs --bench btf`: parses raw BTF with the
// system libbpf and prints one JSON line per workload, same format as ours.
//
//   gcc -O2 btf_parse.c -lbpf -o btf_parse   (or: make -C bench/libbpf)
//   ./btf_parse [/sys/kernel/btf/vmlinux] [runs]
//
// btf-parse-vmlinux:      btf__new() over bytes already in memory.
// btf-parse-vmlinux-file: btf__parse_raw(), the file read included.
// Each workload reports the median of `runs` timed calls (after 3 warm-ups);
// freeing the result is outside the timed region, as in the Rust bench.
#include <bpf/btf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 20, n = 0, got;
	char *buf = malloc(cap);

	if (!f || !buf) {
		free(buf);
		if (f)
			fclose(f);
		return NULL;
	}
	while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *bigger = realloc(buf, cap *= 2);

			if (!bigger) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = bigger;
		}
	}
	fclose(f);
	*len = n;
	return buf;
}

static void report(const char *workload, uint64_t *samples, int runs)
{
	qsort(samples, runs, sizeof(*samples), cmp_u64);
	printf("{\"peer\":\"libbpf-c\",\"workload\":\"%s\",\"ns_per_op\":%llu,\"ops\":%d}\n",
	       workload, (unsigned long long)samples[runs / 2], runs);
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/sys/kernel/btf/vmlinux";
	int runs = argc > 2 ? atoi(argv[2]) : 50;
	uint64_t *samples;
	size_t len = 0;
	void *raw;
	int i;

	if (runs < 1)
		runs = 1;
	samples = calloc(runs, sizeof(*samples));
	raw = read_all(path, &len);
	if (!raw || !samples) {
		fprintf(stderr, "btf_parse: reading %s: %s\n", path, strerror(errno));
		return 1;
	}

	for (i = -3; i < runs; i++) {
		uint64_t t0 = now_ns();
		struct btf *btf = btf__new(raw, len);
		uint64_t t1 = now_ns();

		if (!btf) {
			fprintf(stderr, "btf_parse: btf__new: %s\n", strerror(errno));
			return 1;
		}
		if (i >= 0)
			samples[i] = t1 - t0;
		btf__free(btf);
	}
	report("btf-parse-vmlinux", samples, runs);

	for (i = -3; i < runs; i++) {
		uint64_t t0 = now_ns();
		struct btf *btf = btf__parse_raw(path);
		uint64_t t1 = now_ns();

		if (!btf) {
			fprintf(stderr, "btf_parse: btf__parse_raw %s: %s\n", path, strerror(errno));
			return 1;
		}
		if (i >= 0)
			samples[i] = t1 - t0;
		btf__free(btf);
	}
	report("btf-parse-vmlinux-file", samples, runs);

	free(samples);
	free(raw);
	return 0;
}
