/* Seed for the `usdt` fuzz target: a small program with USDT probes
 * written the way <sys/sdt.h> writes them (a nop and a .note.stapsdt
 * entry; one probe with a semaphore), built by seed.sh with gcc, PIE and
 * non-PIE. */
#define PROBE(name, sem, args, ...)                                             \
	__asm__ __volatile__("990: nop\n"                                       \
			     ".pushsection .note.stapsdt,\"?\",\"note\"\n"      \
			     ".balign 4\n"                                      \
			     ".4byte 992f-991f, 994f-993f, 3\n"                 \
			     "991: .asciz \"stapsdt\"\n"                        \
			     "992: .balign 4\n"                                 \
			     "993: .8byte 990b\n"                               \
			     ".8byte _.stapsdt.base\n"                          \
			     ".8byte " sem "\n"                                 \
			     ".asciz \"seed\"\n"                                \
			     ".asciz \"" name "\"\n"                            \
			     ".asciz \"" args "\"\n"                            \
			     "994: .balign 4\n"                                 \
			     ".popsection\n"                                    \
			     ".ifndef _.stapsdt.base\n"                         \
			     ".pushsection .stapsdt.base,\"aG\",\"progbits\",.stapsdt.base,comdat\n" \
			     ".weak _.stapsdt.base\n"                           \
			     ".hidden _.stapsdt.base\n"                         \
			     "_.stapsdt.base: .space 1\n"                       \
			     ".size _.stapsdt.base, 1\n"                        \
			     ".popsection\n"                                    \
			     ".endif\n" ::__VA_ARGS__)

unsigned short seed_semaphore __attribute__((section(".probes"), used));

int main(int argc, char **argv)
{
	long x = argc;

	PROBE("plain", "0", "-4@%0 8@%1 -1@$-7", "r"(argc), "r"(x));
	PROBE("guarded", "seed_semaphore", "8@8(%0) 2@%w1", "r"(argv), "r"(argc));
	return 0;
}
