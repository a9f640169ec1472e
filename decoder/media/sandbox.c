#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "sandbox.h"

/* Refused outright with EPERM (see sandbox.h for why, group by group). */
static const char *const refused[] = {
    /* files */
    "open", "openat", "openat2", "creat", "open_by_handle_at", "name_to_handle_at",
    "uselib", "mknod", "mknodat", "mkdir", "mkdirat", "link", "linkat", "symlink",
    "symlinkat", "rename", "renameat", "renameat2", "unlink", "unlinkat", "rmdir",
    "truncate", "ftruncate", "fallocate", "memfd_create", "memfd_secret",
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
    "utime", "utimes", "utimensat", "futimesat", "setxattr", "lsetxattr", "fsetxattr",
    "removexattr", "lremovexattr", "fremovexattr", "chdir", "fchdir",
    "fanotify_init", "acct", "quotactl", "quotactl_fd", "swapon", "swapoff",
    /* network */
    "socket", "socketpair", "socketcall", "connect", "bind", "listen", "accept", "accept4",
    /* programs */
    "execve", "execveat", "fork", "vfork",
    /* other processes */
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "kcmp",
    "pidfd_open", "pidfd_getfd",
    /* mounts and namespaces */
    "mount", "umount", "umount2", "pivot_root", "chroot", "unshare", "setns",
    "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    /* kernel attack surface */
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "keyctl", "add_key", "request_key", "modify_ldt", "iopl",
    "ioperm", "personality", "move_pages", "migrate_pages", "remap_file_pages",
    "syslog", "reboot", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    "sethostname", "setdomainname", "vhangup",
};

/* clone's flags argument: arg1 on s390 and cris, arg0 everywhere else. */
#if defined(__s390__) || defined(__CRIS__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif

/* Refused with EPERM when (arg & mask) == datum. */
struct masked_rule {
    const char *name;
    unsigned int arg;
    scmp_datum_t mask, datum;
};

static const struct masked_rule masked[] = {
    { "clone", CLONE_FLAGS_ARG, CLONE_THREAD, 0 },        /* a fork, not a thread */
    { "clone", CLONE_FLAGS_ARG, CLONE_NEWNS, CLONE_NEWNS },
    { "clone", CLONE_FLAGS_ARG, CLONE_NEWUSER, CLONE_NEWUSER },
    { "clone", CLONE_FLAGS_ARG, CLONE_NEWPID, CLONE_NEWPID },
    { "clone", CLONE_FLAGS_ARG, CLONE_NEWNET, CLONE_NEWNET },
    { "clone", CLONE_FLAGS_ARG, CLONE_NEWIPC, CLONE_NEWIPC },
    { "clone", CLONE_FLAGS_ARG, CLONE_NEWUTS, CLONE_NEWUTS },
    { "clone", CLONE_FLAGS_ARG, CLONE_NEWCGROUP, CLONE_NEWCGROUP },
    { "mmap", 2, PROT_EXEC, PROT_EXEC },
    { "mprotect", 2, PROT_EXEC, PROT_EXEC },
    { "pkey_mprotect", 2, PROT_EXEC, PROT_EXEC },
    /* ioctl's request is an unsigned int: the kernel ignores the high bits. */
    { "ioctl", 1, 0xffffffffu, TIOCSTI },
    { "ioctl", 1, 0xffffffffu, TIOCLINUX },
};

/* Sanitizer runtimes' hooks: NULL unless a sanitizer is linked in. */
struct sanitizer_sandbox_args {
    int coverage_sandboxed;
    long coverage_fd;
    unsigned int coverage_max_block_size;
};
void __sanitizer_sandbox_on_notify(struct sanitizer_sandbox_args *args) __attribute__((weak));
void __sanitizer_symbolize_pc(void *pc, const char *fmt, char *out, size_t len)
    __attribute__((weak));
const char *__sanitizer_get_report_path(void) __attribute__((weak));

/* A sanitizer report from a filtered thread could not read /proc/self/maps,
 * fork llvm-symbolizer or open its log_path file: have the runtime do all
 * three now, while this thread still may (the symbolizer and the log file are
 * the process's, kept open; the log file is created empty).  Once per
 * process: TSan's sandbox hook joins its background thread, and a second
 * call would wait for it forever. */
static void prepare_sanitizers_once(void)
{
    struct sanitizer_sandbox_args args = { 0, -1, 0 };
    char buf[256];

    if (__sanitizer_sandbox_on_notify)
        __sanitizer_sandbox_on_notify(&args);
    if (__sanitizer_symbolize_pc)
        __sanitizer_symbolize_pc(__builtin_return_address(0), "%F", buf, sizeof(buf));
    if (__sanitizer_get_report_path)
        __sanitizer_get_report_path();
}

static void prepare_sanitizers(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;

    pthread_once(&once, prepare_sanitizers_once);
}

static int fail(char *err, size_t errlen, int rc, const char *what, const char *name)
{
    snprintf(err, errlen, "seccomp: %s%s%s: %s", what, name ? " " : "", name ? name : "",
             strerror(-rc));
    return rc;
}

/* The native number of name, or -1 when libseccomp does not know it here
 * (negative pseudo numbers name calls of other architectures). */
static int resolve(const char *name)
{
    int nr = seccomp_syscall_resolve_name(name);

    return nr == __NR_SCMP_ERROR || nr < 0 ? -1 : nr;
}

static int add_rules(scmp_filter_ctx ctx, char *err, size_t errlen)
{
    int rc, nr;

    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if ((nr = resolve(refused[i])) < 0)
            continue;
        if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0)) < 0)
            return fail(err, errlen, rc, "cannot refuse", refused[i]);
    }
    for (size_t i = 0; i < sizeof(masked) / sizeof(masked[0]); i++) {
        const struct masked_rule *m = &masked[i];

        if ((nr = resolve(m->name)) < 0)
            continue;
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 1,
                              SCMP_CMP(m->arg, SCMP_CMP_MASKED_EQ, m->mask, m->datum));
        if (rc < 0)
            return fail(err, errlen, rc, "cannot restrict", m->name);
    }
    /* ENOSYS, not EPERM: glibc's pthread_create then falls back to clone. */
    if ((nr = resolve("clone3")) >= 0 &&
        (rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0)) < 0)
        return fail(err, errlen, rc, "cannot refuse", "clone3");
    return 0;
}

int sandbox_enter(char *err, size_t errlen)
{
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    int rc;

    if (!ctx)
        return fail(err, errlen, -ENOMEM, "cannot create the filter", NULL);
    if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) < 0 ||
        (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 0)) < 0 ||
        (rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS)) < 0 ||
        (rc = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1)) < 0 ||
        (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)) < 0) {
        seccomp_release(ctx);
        return fail(err, errlen, rc, "cannot set a filter attribute", NULL);
    }
    if ((rc = add_rules(ctx, err, errlen)) < 0) {
        seccomp_release(ctx);
        return rc;
    }
    prepare_sanitizers();
    rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc < 0)
        return fail(err, errlen, rc, "cannot load the filter", NULL);
    return 0;
}
