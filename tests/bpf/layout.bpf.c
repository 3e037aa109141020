// SPDX-License-Identifier: GPL-2.0
// Layout fixture: every C layout feature the generated Rust must reproduce
// byte for byte: padding, bitfields (signed, unsigned, straddling storage
// units, _Bool and enum bitfields), packed and aligned structs, unions,
// anonymous structs and unions (as named and unnamed members), signed
// enums and ENUM64, __int128, float/double, _Bool, char arrays, pointers and
// function pointers, typedefs of anonymous structs, keyword member names and
// a flexible array member.
//
// Programs: `write_values` fills bits_map[0] and holder_map[0] with the
// constants below; `check_values` compares bits_map[1] (written by user
// space) with the same constants and stores 1 in `check_ok` when all match.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum color { RED = 0, GREEN = 1, BLUE = 7, NEG = -2 };
enum big { BIG_SMALL = 1, BIG_LARGE = 0x123456789ULL };

struct bits {
	unsigned int a : 3;
	int s : 5;
	unsigned long long wide : 40;
	unsigned char flag : 1;
	_Bool b : 1;
	enum color c : 4;
	unsigned long long straddle : 30; /* crosses the 8-byte storage boundary */
	unsigned short tail;
};

struct __attribute__((packed)) packed_s {
	char a;
	unsigned int b;
	unsigned short c;
};

struct aligned_s {
	int x;
} __attribute__((aligned(16)));

typedef struct {
	int a;
	short b;
} anon_typedef_t;

struct holder {
	char tag;
	struct aligned_s al;
	union {
		unsigned int u32v;
		unsigned char bytes[4];
		float f;
	};
	struct {
		int inner_x;
		short inner_y;
	} peer;
	__int128 big;
	double d;
	_Bool ok;
	char name[16];
	int type;
	enum color col;
	enum big bigv;
	void *ptr;
	int (*fnp)(int);
	anon_typedef_t td;
	struct packed_s pk;
	struct bits bf;
	int flex[];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct bits);
} bits_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct holder);
} holder_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, struct packed_s);
	__type(value, anon_typedef_t);
} packed_map SEC(".maps");

__u32 check_ok = 0;
enum color g_color = GREEN;

static __always_inline void fill_bits(struct bits *v)
{
	v->a = 5;
	v->s = -3;
	v->wide = 0xABCDE12345ULL;
	v->flag = 1;
	v->b = 1;
	v->c = BLUE;
	v->straddle = 0x2AAAAAAA;
	v->tail = 0xBEEF;
}

SEC("xdp")
int write_values(struct xdp_md *ctx)
{
	__u32 k = 0;
	struct bits *b = bpf_map_lookup_elem(&bits_map, &k);
	struct holder *h = bpf_map_lookup_elem(&holder_map, &k);
	if (!b || !h)
		return XDP_ABORTED;
	fill_bits(b);
	h->tag = 'T';
	h->al.x = -42;
	h->u32v = 0xDEADBEEF;
	h->peer.inner_x = 1234;
	h->peer.inner_y = -5;
	h->big = ((__int128)0x0102030405060708LL << 64) | 0x1112131415161718ULL;
	h->d = 2.5;
	h->ok = 1;
	h->name[0] = 'b';
	h->name[1] = 'p';
	h->name[2] = 'f';
	h->type = 77;
	h->col = NEG;
	h->bigv = BIG_LARGE;
	h->ptr = (void *)0x1000;
	h->td.a = 9;
	h->td.b = 10;
	h->pk.a = 'p';
	h->pk.b = 0x01020304;
	h->pk.c = 0x0506;
	fill_bits(&h->bf);
	return XDP_PASS;
}

SEC("xdp")
int check_values(struct xdp_md *ctx)
{
	__u32 k = 1;
	struct bits *b = bpf_map_lookup_elem(&bits_map, &k);
	if (!b)
		return XDP_ABORTED;
	check_ok = b->a == 5 && b->s == -3 && b->wide == 0xABCDE12345ULL && b->flag == 1 &&
		   b->b == 1 && b->c == BLUE && b->straddle == 0x2AAAAAAA && b->tail == 0xBEEF;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
