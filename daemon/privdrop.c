// SPDX-License-Identifier: MIT
/*
 * Dropping privileges (daemon/privdrop.h): capability sets through capset(2) and
 * prctl(2) (no libcap), the user switch, PR_SET_NO_NEW_PRIVS and a small
 * seccomp deny list written as classic BPF (no libseccomp).
 *
 * The seccomp filter is a deny list on purpose: the privileged process runs
 * stunt-rules (a shell script and iptables) at shutdown, and an allow list
 * would have to follow every syscall those make. It refuses what neither
 * process ever needs and what widens the kernel's attack surface: other
 * processes' memory, modules, kexec, BPF, perf, userfaultfd, io_uring,
 * keyrings, new namespaces (unshare, setns, clone with CLONE_NEW*; clone3
 * gets ENOSYS, so the C library falls back to clone), mounts (the old call
 * and the new mount API: fsopen, fsconfig, fsmount, fspick, move_mount,
 * open_tree, mount_setattr), other processes' descriptors and memory advice
 * (pidfd_getfd, process_madvise) and the clock. The newer calls are listed
 * when the headers know their numbers (#ifdef __NR_*).
 */
#include "daemon/privdrop.h"

#include "common/log.h"

#include <errno.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

int d_privdrop_caps(uint64_t bounding, uint64_t keep)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[2];
	int cap;

	/* the bounding set first (needs CAP_SETPCAP, still ours) */
	for (cap = 0; cap < 64; cap++) {
		int in = prctl(PR_CAPBSET_READ, (unsigned long)cap, 0, 0, 0);

		if (in < 0)
			break;		/* past the kernel's last capability */
		if (in == 1 && !(bounding & (1ull << cap)) &&
		    prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) < 0)
			return -errno;
	}
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	memset(c, 0, sizeof(c));
	c[0].effective = c[0].permitted = (uint32_t)keep;
	c[1].effective = c[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &h, c) < 0)
		return -errno;
	return 0;
}

int d_privdrop_lookup(const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw = NULL;

	errno = 0;
	if (user && user[0])
		pw = getpwnam(user);
	else if ((pw = getpwnam(D_PRIVDROP_USER)) == NULL)
		pw = getpwnam("nobody");
	if (pw == NULL)
		return errno ? -errno : -ENOENT;
	if (pw->pw_uid == 0)
		return -EPERM;		/* dropping to root is no drop */
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int d_privdrop_user(uid_t uid, gid_t gid)
{
	struct passwd *pw = getpwuid(uid);
	int err;

	/* no capability survives into an unprivileged uid, and none comes back */
	err = d_privdrop_caps(0, 1ull << CAP_SETUID | 1ull << CAP_SETGID);
	if (err < 0)
		return err;
	if ((pw ? initgroups(pw->pw_name, gid) : setgroups(1, &gid)) < 0 ||
	    setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -errno;
	if (setuid(0) == 0 || seteuid(0) == 0)
		return -EPERM;		/* must not be possible any more */
	err = d_privdrop_caps(0, 0);
	if (err < 0)
		return err;
	return d_privdrop_nnp();
}

int d_privdrop_nnp(void)
{
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
}

#if defined(__x86_64__)
#define D_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define D_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | \
		  CLONE_NEWNET | CLONE_NEWCGROUP)

#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
		 BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)

int d_privdrop_seccomp(void)
{
#ifdef D_AUDIT_ARCH
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, D_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __x86_64__
		/* the x32 ABI's numbers */
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
#endif
		DENY(SYS_ptrace), DENY(SYS_process_vm_readv), DENY(SYS_process_vm_writev),
		DENY(SYS_kexec_load), DENY(SYS_kexec_file_load), DENY(SYS_init_module),
		DENY(SYS_finit_module), DENY(SYS_delete_module), DENY(SYS_bpf),
		DENY(SYS_perf_event_open), DENY(SYS_userfaultfd), DENY(SYS_keyctl),
		DENY(SYS_add_key), DENY(SYS_request_key), DENY(SYS_unshare), DENY(SYS_setns),
		DENY(SYS_mount), DENY(SYS_umount2), DENY(SYS_pivot_root), DENY(SYS_chroot),
		DENY(SYS_swapon), DENY(SYS_swapoff), DENY(SYS_reboot), DENY(SYS_acct),
		DENY(SYS_settimeofday), DENY(SYS_clock_settime), DENY(SYS_clock_adjtime),
		DENY(SYS_adjtimex), DENY(SYS_open_by_handle_at), DENY(SYS_name_to_handle_at),
		DENY(SYS_quotactl), DENY(SYS_fanotify_init), DENY(SYS_syslog),
		DENY(SYS_io_uring_setup), DENY(SYS_io_uring_enter), DENY(SYS_io_uring_register),
#ifdef __NR_fsopen
		DENY(__NR_fsopen),
#endif
#ifdef __NR_fsconfig
		DENY(__NR_fsconfig),
#endif
#ifdef __NR_fsmount
		DENY(__NR_fsmount),
#endif
#ifdef __NR_fspick
		DENY(__NR_fspick),
#endif
#ifdef __NR_move_mount
		DENY(__NR_move_mount),
#endif
#ifdef __NR_open_tree
		DENY(__NR_open_tree),
#endif
#ifdef __NR_mount_setattr
		DENY(__NR_mount_setattr),
#endif
#ifdef __NR_pidfd_getfd
		DENY(__NR_pidfd_getfd),
#endif
#ifdef __NR_process_madvise
		DENY(__NR_process_madvise),
#endif
		/* clone3's flags are in memory BPF cannot read: make libc use clone */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		/* clone creating namespaces (x86_64 and arm64: flags are the first argument) */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, NS_FLAGS, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = (unsigned short)(sizeof(f) / sizeof(f[0])), .filter = f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return -errno;
	return 0;
#else
	return -ENOTSUP;
#endif
}
