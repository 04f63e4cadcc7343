// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/* Parsers for fdinfo, readlink targets and mountinfo (common/). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>
#include <bpfleak/journal.h>
#include <bpfleak/snapshot.h>

static const char map_info[] =
	"pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t17\nmap_type:\t1\nkey_size:\t4\n"
	"value_size:\t8\nmax_entries:\t16\nmap_flags:\t0x5\nmap_extra:\t0x0\nmemlock:\t2320\n"
	"map_id:\t37\nfrozen:\t0\n";
static const char prog_info[] =
	"pos:\t0\nflags:\t02\nmnt_id:\t17\nino:\t17\nprog_type:\t6\nprog_jited:\t1\n"
	"prog_tag:\t62efe59b7d4f5ea1\nmemlock:\t4096\nprog_id:\t123\nrun_time_ns:\t0\n"
	"run_cnt:\t0\nrecursion_misses:\t0\nverified_insns:\t2\n";
static const char link_info[] =
	"pos:\t0\nflags:\t02000000\nmnt_id:\t17\nino:\t17\nlink_type:\txdp\nlink_id:\t9\n"
	"prog_tag:\t62efe59b7d4f5ea1\nprog_id:\t123\nifindex:\t1\n";
static const char btf_info[] = "pos:\t0\nflags:\t02000002\nmnt_id:\t17\nino:\t17\nbtf_id:\t77\n";
static const char file_info[] = "pos:\t0\nflags:\t0100002\nmnt_id:\t28\nino:\t1234\n";

static void test_fdinfo_map(void **state)
{
	(void)state;
	struct bpfleak_fdinfo fi;
	assert_int_equal(bpfleak_fdinfo_parse(map_info, strlen(map_info), &fi), BPFLEAK_KIND_MAP);
	assert_int_equal(fi.obj_id, 37);
	assert_int_equal(fi.map_type, 1);
	assert_int_equal(fi.value_size, 8);
	assert_int_equal(fi.max_entries, 16);
	assert_int_equal(fi.map_flags, 5);
	assert_true(fi.cloexec);
}

static void test_fdinfo_prog_link_btf(void **state)
{
	(void)state;
	struct bpfleak_fdinfo fi;
	assert_int_equal(bpfleak_fdinfo_parse(prog_info, strlen(prog_info), &fi), BPFLEAK_KIND_PROG);
	assert_int_equal(fi.obj_id, 123);
	assert_int_equal(fi.prog_type, 6);
	assert_string_equal(fi.prog_tag, "62efe59b7d4f5ea1");
	assert_false(fi.cloexec);

	/* A link names its program too; the link id must win. */
	assert_int_equal(bpfleak_fdinfo_parse(link_info, strlen(link_info), &fi), BPFLEAK_KIND_LINK);
	assert_int_equal(fi.obj_id, 9);
	assert_int_equal(fi.prog_id, 123);
	assert_string_equal(fi.link_type_name, "xdp");

	assert_int_equal(bpfleak_fdinfo_parse(btf_info, strlen(btf_info), &fi), BPFLEAK_KIND_BTF);
	assert_int_equal(fi.obj_id, 77);

	assert_int_equal(bpfleak_fdinfo_parse(file_info, strlen(file_info), &fi), BPFLEAK_KIND_UNKNOWN);
}

static void test_fdinfo_garbage(void **state)
{
	(void)state;
	struct bpfleak_fdinfo fi;
	char junk[600];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 37 + 11);
	bpfleak_fdinfo_parse(junk, sizeof(junk), &fi);   /* must not crash */
	assert_int_equal(bpfleak_fdinfo_parse("", 0, &fi), BPFLEAK_KIND_UNKNOWN);
	/* Truncated in the middle of a key. */
	assert_int_equal(bpfleak_fdinfo_parse(map_info, 60, &fi), BPFLEAK_KIND_UNKNOWN);
}

static void test_kind_from_target(void **state)
{
	(void)state;
	assert_int_equal(bpfleak_kind_from_target("anon_inode:bpf-map"), BPFLEAK_KIND_MAP);
	assert_int_equal(bpfleak_kind_from_target("anon_inode:bpf-prog"), BPFLEAK_KIND_PROG);
	assert_int_equal(bpfleak_kind_from_target("anon_inode:bpf_link"), BPFLEAK_KIND_LINK);
	assert_int_equal(bpfleak_kind_from_target("anon_inode:bpf-link"), BPFLEAK_KIND_LINK);
	assert_int_equal(bpfleak_kind_from_target("anon_inode:btf"), BPFLEAK_KIND_BTF);
	assert_int_equal(bpfleak_kind_from_target("anon_inode:bpf_iter"), BPFLEAK_KIND_ITER);
	assert_int_equal(bpfleak_kind_from_target("anon_inode:bpf-stats"), BPFLEAK_KIND_STATS);
	assert_int_equal(bpfleak_kind_from_target("/bpf-token (deleted)"), BPFLEAK_KIND_TOKEN);
	assert_int_equal(bpfleak_kind_from_target("socket:[1234]"), BPFLEAK_KIND_UNKNOWN);
	assert_int_equal(bpfleak_kind_from_target("anon_inode:[eventfd]"), BPFLEAK_KIND_UNKNOWN);
}

struct mounts {
	char seen[4][128];
	int n;
};

static int on_mount(const char *mp, void *ctx)
{
	struct mounts *m = ctx;
	if (m->n < 4)
		strncpy(m->seen[m->n++], mp, 127);
	return 0;
}

static void test_mountinfo(void **state)
{
	(void)state;
	static const char text[] =
		"22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw\n"
		"25 22 0:22 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:9 - bpf bpf rw,mode=700\n"
		"90 22 0:40 / /tmp/with\\040space rw,relatime - bpf none rw\n"
		"91 22 0:41 / /proc rw - proc proc rw\n";
	struct mounts m = { .n = 0 };
	assert_int_equal(bpfleak_mountinfo_bpffs(text, strlen(text), on_mount, &m), 2);
	assert_string_equal(m.seen[0], "/sys/fs/bpf");
	assert_string_equal(m.seen[1], "/tmp/with space");   /* \040 decoded */

	struct mounts none = { .n = 0 };
	assert_int_equal(bpfleak_mountinfo_bpffs("hello world\n", 12, on_mount, &none), -1);
	assert_int_equal(none.n, 0);
	/* A line cut before the fstype is skipped, not misread. */
	assert_int_equal(bpfleak_mountinfo_bpffs("25 22 0:22 / /x rw - ", 21, on_mount, &none), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fdinfo_map),
		cmocka_unit_test(test_fdinfo_prog_link_btf),
		cmocka_unit_test(test_fdinfo_garbage),
		cmocka_unit_test(test_kind_from_target),
		cmocka_unit_test(test_mountinfo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
