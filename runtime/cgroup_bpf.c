/* cgroup v2 device control: a dev_policy compiled into a BPF_PROG_TYPE_CGROUP_DEVICE program,
 * loaded and attached with bpf(2) (no libbpf: the program is a few instructions per rule).
 *
 * The kernel calls the program with struct bpf_cgroup_dev_ctx { u32 access_type; u32 major;
 * u32 minor; }, access_type = (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*. The program is:
 *
 *	r2 = type; r3 = access; r4 = major; r5 = minor
 *	for each exception:   if (matches) return !default
 *	return default
 *
 * where "matches" has the v1 meaning (dev_policy_allows): for an allow-list the exception must
 * cover every requested access bit, for a deny-list any one. */
#include "cgroup_devices.h"
#include "cleanup.h"
#include "xalloc.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

struct prog {
	struct bpf_insn *v;
	size_t n, cap;
};

static size_t
emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 64;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n] = (struct bpf_insn){
		.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm
	};
	return p->n++;
}

static unsigned
bpf_access(unsigned spec_access)
{
	unsigned a = 0;

	if (spec_access & SPEC_DEV_ACC_READ)
		a |= BPF_DEVCG_ACC_READ;
	if (spec_access & SPEC_DEV_ACC_WRITE)
		a |= BPF_DEVCG_ACC_WRITE;
	if (spec_access & SPEC_DEV_ACC_MKNOD)
		a |= BPF_DEVCG_ACC_MKNOD;
	return a;
}

/* One exception: jumps to the end of the block when it does not match. JMP32 compares the low
 * 32 bits, so device numbers above INT32_MAX compare right too. */
static void
emit_exception(struct prog *p, const struct spec_dev_rule *e, bool default_allow)
{
	const uint8_t jne = BPF_JMP32 | BPF_JNE | BPF_K;
	size_t jumps[4], nj = 0, i;
	unsigned acc = bpf_access(e->access);
	int32_t type = e->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;

	jumps[nj++] = emit(p, jne, BPF_REG_2, 0, 0, type);
	if (e->access != SPEC_DEV_ACC_ALL) {
		emit(p, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_3, 0, 0);
		if (default_allow) {
			/* deny-list: no requested bit in the entry → no match */
			emit(p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0, (int32_t)acc);
			jumps[nj++] = emit(p, BPF_JMP32 | BPF_JEQ | BPF_K, BPF_REG_1, 0, 0, 0);
		} else {
			/* allow-list: a requested bit outside the entry → no match */
			emit(p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_1, 0, 0,
			     (int32_t)(~acc & 0xffff));
			jumps[nj++] = emit(p, jne, BPF_REG_1, 0, 0, 0);
		}
	}
	if (e->major >= 0)
		jumps[nj++] = emit(p, jne, BPF_REG_4, 0, 0, (int32_t)(uint32_t)e->major);
	if (e->minor >= 0)
		jumps[nj++] = emit(p, jne, BPF_REG_5, 0, 0, (int32_t)(uint32_t)e->minor);
	emit(p, BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, default_allow ? 0 : 1);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	/* The next block starts at p->n; offsets count from the instruction after the jump. */
	for (i = 0; i < nj; i++)
		p->v[jumps[i]].off = (int16_t)(p->n - jumps[i] - 1);
}

void
dev_bpf_program(const struct dev_policy *pol, struct bpf_insn **out, size_t *n)
{
	const uint8_t ldx_w = BPF_LDX | BPF_MEM | BPF_W;
	struct prog p = { 0 };
	size_t i;

	emit(&p, ldx_w, BPF_REG_2, BPF_REG_1, 0, 0);
	emit(&p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_2, 0, 0, 0xffff);
	emit(&p, ldx_w, BPF_REG_3, BPF_REG_1, 0, 0);
	emit(&p, BPF_ALU | BPF_RSH | BPF_K, BPF_REG_3, 0, 0, 16);
	emit(&p, ldx_w, BPF_REG_4, BPF_REG_1, 4, 0);
	emit(&p, ldx_w, BPF_REG_5, BPF_REG_1, 8, 0);
	for (i = 0; i < pol->n; i++)
		emit_exception(&p, &pol->exc[i], pol->default_allow);
	emit(&p, BPF_ALU | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, pol->default_allow ? 1 : 0);
	emit(&p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	*out = p.v;
	*n = p.n;
}

static int
sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* Loads the program; on a verifier rejection the error carries the log's last line. */
static int
prog_load(const struct bpf_insn *insns, size_t n, struct mini_err **err)
{
	_cleanup_free_ char *log = NULL;
	union bpf_attr attr;
	int fd, e;
	char *last;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = (uint32_t)n;
	attr.license = (uint64_t)(uintptr_t) "GPL";
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	e = errno;
	if (e != EINVAL && e != EACCES)
		return mini_err_set(err, e, "load the device BPF program");
	log = xcalloc(1, 65536);
	attr.log_level = 1;
	attr.log_buf = (uint64_t)(uintptr_t)log;
	attr.log_size = 65536;
	fd = sys_bpf(BPF_PROG_LOAD, &attr);
	if (fd >= 0)
		return fd;
	log[65535] = '\0';
	while (strlen(log) > 0 && log[strlen(log) - 1] == '\n')
		log[strlen(log) - 1] = '\0';
	last = strrchr(log, '\n');
	return mini_err_set(err, e, "load the device BPF program: verifier: %s",
			    last ? last + 1 : log);
}

/* The ids of the device programs attached to the cgroup now. Caller owns *ids. */
static int
query_ids(int dir_fd, uint32_t **ids, uint32_t *n, struct mini_err **err)
{
	union bpf_attr attr;
	uint32_t cap = 64;

	*ids = xcalloc(cap, sizeof(uint32_t));
	memset(&attr, 0, sizeof(attr));
	attr.query.target_fd = (uint32_t)dir_fd;
	attr.query.attach_type = BPF_CGROUP_DEVICE;
	attr.query.prog_ids = (uint64_t)(uintptr_t)*ids;
	attr.query.prog_cnt = cap;
	if (sys_bpf(BPF_PROG_QUERY, &attr) < 0) {
		free(*ids);
		*ids = NULL;
		return mini_err_set(err, errno, "query the cgroup's device programs");
	}
	*n = attr.query.prog_cnt < cap ? attr.query.prog_cnt : cap;
	return 0;
}

static void
detach_id(int dir_fd, uint32_t id)
{
	_cleanup_close_ int fd = -1;
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_id = id;
	fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr);
	if (fd < 0)
		return;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)dir_fd;
	attr.attach_bpf_fd = (uint32_t)fd;
	attr.attach_type = BPF_CGROUP_DEVICE;
	sys_bpf(BPF_PROG_DETACH, &attr);
}

int
dev_bpf_attach(int dir_fd, const struct bpf_insn *insns, size_t n, struct mini_err **err)
{
	_cleanup_free_ uint32_t *old = NULL;
	_cleanup_close_ int prog = -1;
	union bpf_attr attr;
	uint32_t n_old = 0, i;
	int ret;

	ret = query_ids(dir_fd, &old, &n_old, err);
	if (ret < 0)
		return ret;
	prog = prog_load(insns, n, err);
	if (prog < 0)
		return prog;
	memset(&attr, 0, sizeof(attr));
	attr.target_fd = (uint32_t)dir_fd;
	attr.attach_bpf_fd = (uint32_t)prog;
	attr.attach_type = BPF_CGROUP_DEVICE;
	attr.attach_flags = BPF_F_ALLOW_MULTI;
	if (sys_bpf(BPF_PROG_ATTACH, &attr) < 0)
		return mini_err_set(err, errno, "attach the device BPF program");
	/* The new program is in place before the old ones go: no moment without a filter. */
	for (i = 0; i < n_old; i++)
		detach_id(dir_fd, old[i]);
	return 0;
}
