/* Device cgroup rules: the replay of a rule list into a policy (v1 semantics), the BPF program
 * compiled from it for cgroup v2, and — as root, where a cgroup2 hierarchy is mounted (the
 * hybrid /sys/fs/cgroup/unified here) — that program loaded, attached to a scratch cgroup and
 * judged by the kernel: a child in the cgroup opens and mknods real devices and must get
 * exactly what dev_policy_allows() predicts. */
#include "cgroup.h"
#include "cgroup_devices.h"
#include "cleanup.h"
#include "fs.h"
#include "tap.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#define R SPEC_DEV_ACC_READ
#define W SPEC_DEV_ACC_WRITE
#define M SPEC_DEV_ACC_MKNOD
#define RWM SPEC_DEV_ACC_ALL

static struct spec_dev_rule
rule(bool allow, char type, int64_t major, int64_t minor, unsigned access)
{
	return (struct spec_dev_rule){ allow, type, major, minor, access };
}

static void
test_policy(void)
{
	struct spec_dev_rule rules[8];
	struct dev_policy p;

	rules[0] = rule(true, 'c', 1, 3, R);
	rules[1] = rule(true, 'c', 1, 3, W);
	rules[2] = rule(true, 'c', 1, -1, M);
	dev_policy_build(rules, 3, &p);
	ok(!p.default_allow && p.n == 2, "allow-list: same-key rules merge (%zu entries)", p.n);
	ok(dev_policy_allows(&p, 'c', 1, 3, R | W), "c 1:3 rw allowed (merged r + w)");
	ok(!dev_policy_allows(&p, 'c', 1, 3, R | W | M), "rwm is more than one entry grants");
	ok(!dev_policy_allows(&p, 'c', 1, 5, R), "c 1:5 r denied");
	ok(dev_policy_allows(&p, 'c', 1, 5, M), "c 1:* m allows mknod of 1:5");
	ok(!dev_policy_allows(&p, 'b', 1, 3, R), "type matters");
	dev_policy_clear(&p);

	rules[0] = rule(true, 'a', -1, -1, RWM);
	rules[1] = rule(false, 'c', 1, 5, W);
	dev_policy_build(rules, 2, &p);
	ok(p.default_allow && p.n == 1, "deny-list after allow a");
	ok(dev_policy_allows(&p, 'c', 1, 5, R), "c 1:5 r still allowed");
	ok(!dev_policy_allows(&p, 'c', 1, 5, R | W), "deny-list: rw denied by a w entry (v1)");
	ok(dev_policy_allows(&p, 'b', 8, 0, RWM), "anything else allowed");
	dev_policy_clear(&p);

	rules[0] = rule(true, 'c', 1, 3, RWM);
	rules[1] = rule(false, 'c', 1, 3, W);
	rules[2] = rule(true, 'c', 1, 9, R);
	rules[3] = rule(false, 'c', 1, 9, R);
	dev_policy_build(rules, 4, &p);
	ok(p.n == 1 && p.exc[0].access == (R | M), "deny narrows an exact entry, empty ones go");
	dev_policy_clear(&p);

	rules[0] = rule(true, 'c', 1, 3, RWM);
	rules[1] = rule(false, 'a', -1, -1, RWM);
	rules[2] = rule(true, 'b', 7, -1, R);
	dev_policy_build(rules, 3, &p);
	ok(!p.default_allow && p.n == 1 && p.exc[0].type == 'b', "'a' resets the list");
	dev_policy_clear(&p);
}

static void
test_program_shape(void)
{
	struct spec_dev_rule rules[2] = { rule(true, 'c', 1, 3, RWM), rule(true, 'c', 136, -1, R) };
	_cleanup_free_ struct bpf_insn *insns = NULL;
	struct dev_policy p;
	size_t n = 0;

	dev_policy_build(rules, 2, &p);
	dev_bpf_program(&p, &insns, &n);
	/* 6 loads, block 1 (type, major, minor, ret 2) = 5, block 2 (type, access 3, major,
	 * ret 2) = 7, default 2 */
	is_int(n, 20, "program length");
	is_int(insns[n - 2].imm, 0, "default: deny");
	is_int(insns[n - 1].code, BPF_JMP | BPF_EXIT, "ends with exit");
	is_int(insns[6].off, 4, "a failed type check skips to the next block");
	is_int(insns[9].imm, 1, "a matching exception allows");
	dev_policy_clear(&p);
}

/* --- the kernel's verdict --- */

static const char *
cgroup2_root(void)
{
	static const char *const cands[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	struct statfs sfs;
	size_t i;

	for (i = 0; i < 2; i++)
		if (statfs(cands[i], &sfs) == 0 && sfs.f_type == 0x63677270)
			return cands[i];
	return NULL;
}

struct probe {
	const char *path;
	unsigned major, minor;
};

static const struct probe probes[] = {
	{ "/dev/null", 1, 3 },	 { "/dev/zero", 1, 5 },	   { "/dev/full", 1, 7 },
	{ "/dev/random", 1, 8 }, { "/dev/urandom", 1, 9 },
};

/* Runs in the child, inside the cgroup: one bit per probe and access kind, 1 = allowed. */
static unsigned long
child_probe(const char *scratch)
{
	static const int modes[] = { O_RDONLY, O_WRONLY, O_RDWR };
	unsigned long bits = 0;
	size_t i, m, b = 0;

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		_cleanup_free_ char *node = xasprintf("%s/n%zu", scratch, i);

		for (m = 0; m < 3; m++, b++) {
			int fd = open(probes[i].path, modes[m] | O_CLOEXEC);

			if (fd >= 0) {
				bits |= 1UL << b;
				close(fd);
			}
		}
		if (mknod(node, S_IFCHR | 0600, makedev(probes[i].major, probes[i].minor)) == 0) {
			bits |= 1UL << b;
			unlink(node);
		}
		b++;
	}
	return bits;
}

static unsigned long
predicted(const struct dev_policy *p)
{
	static const unsigned acc[] = { R, W, R | W, M };
	unsigned long bits = 0;
	size_t i, m, b = 0;

	for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		for (m = 0; m < 4; m++, b++)
			if (dev_policy_allows(p, 'c', probes[i].major, probes[i].minor, acc[m]))
				bits |= 1UL << b;
	return bits;
}

/* Attaches the policy's program to a new cgroup below root, and reports what a child there
 * could do. */
static int
kernel_verdict(const char *root, const struct dev_policy *p, unsigned long *bits)
{
	_cleanup_free_ char *dir = xasprintf("%s/minirt-devtest-%d", root, (int)getpid());
	_cleanup_free_ struct bpf_insn *insns = NULL;
	char scratch[] = "/tmp/minirt-devnodes-XXXXXX";
	struct mini_err *err = NULL;
	int pipefd[2], fd, status, ret;
	size_t n = 0;
	pid_t child;

	if (mkdir(dir, 0755) < 0 || mkdtemp(scratch) == NULL)
		return -errno;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dev_bpf_program(p, &insns, &n);
	ret = dev_bpf_attach(fd, insns, n, &err);
	close(fd);
	if (ret < 0) {
		printf("# %s\n", err->msg);
		mini_err_free(err);
		rmdir(dir);
		return ret;
	}
	if (pipe(pipefd) < 0)
		abort();
	child = fork();
	if (child == 0) {
		char pid[16];
		unsigned long b;

		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		if (cgroup_write(dir, "cgroup.procs", pid, NULL) < 0)
			_exit(2);
		b = child_probe(scratch);
		if (write(pipefd[1], &b, sizeof(b)) != sizeof(b))
			_exit(3);
		_exit(0);
	}
	close(pipefd[1]);
	ret = read(pipefd[0], bits, sizeof(*bits)) == sizeof(*bits) ? 0 : -EIO;
	close(pipefd[0]);
	waitpid(child, &status, 0);
	rmdir(scratch);
	cgroup_rmdir_tree(dir, NULL);
	return ret;
}

static void
test_kernel(void)
{
	struct {
		const char *what;
		struct spec_dev_rule rules[4];
		size_t n;
	} cases[] = {
		{ "deny all", { rule(false, 'a', -1, -1, RWM) }, 1 },
		{ "allow-list: null rw, zero r, mknod of 1:*",
		  { rule(true, 'c', 1, 3, R | W), rule(true, 'c', 1, 5, R),
		    rule(true, 'c', 1, -1, M) },
		  3 },
		{ "allow-list: urandom w only, every char device m",
		  { rule(true, 'c', 1, 9, W), rule(true, 'c', -1, -1, M) },
		  2 },
		{ "deny-list: no full, no w on zero, no mknod of random",
		  { rule(true, 'a', -1, -1, RWM), rule(false, 'c', 1, 7, RWM),
		    rule(false, 'c', 1, 5, W), rule(false, 'c', 1, 8, M) },
		  4 },
		{ "allow all", { rule(true, 'a', -1, -1, RWM) }, 1 },
	};
	const char *root = cgroup2_root();
	size_t i;

	if (geteuid() != 0 || root == NULL) {
		const char *why = geteuid() != 0 ? "needs root" : "no cgroup2 hierarchy mounted";

		if (getenv("MINI_TESTS_REQUIRE_ROOT") &&
		    strcmp(getenv("MINI_TESTS_REQUIRE_ROOT"), "1") == 0 && geteuid() != 0)
			ok(0, "kernel verdicts: %s (MINI_TESTS_REQUIRE_ROOT=1)", why);
		else
			printf("ok %d - kernel verdicts # SKIP %s\n", ++tap_n, why);
		return;
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct dev_policy p;
		unsigned long got = 0, want;
		int ret;

		dev_policy_build(cases[i].rules, cases[i].n, &p);
		want = predicted(&p);
		ret = kernel_verdict(root, &p, &got);
		ok(ret == 0 && got == want, "kernel runs the program as predicted: %s",
		   cases[i].what);
		if (ret != 0 || got != want)
			printf("#   ret %d, got %#lx, want %#lx\n", ret, got, want);
		dev_policy_clear(&p);
	}
}

int
main(void)
{
	test_policy();
	test_program_shape();
	test_kernel();
	return tap_done();
}
