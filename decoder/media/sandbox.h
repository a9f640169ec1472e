/*
 * decoder/media/sandbox — the seccomp filter a decoder worker thread puts on itself
 * before it touches any media.  A worker needs no path at all: every file it
 * reads comes as an fd opened by the FUSE thread that checked it, so the
 * filter refuses every call that names or creates a file, reaches the network,
 * starts a program or a process, or hands a hostile-media exploit more of the
 * kernel than decoding needs.
 *
 * Allowed: everything not listed below — read/pread/lseek/fstat/close on the
 * fds handed over, mmap/munmap/mremap/brk/madvise for memory, futex and
 * sched_* for locks, thread-style clone for FFmpeg's frame and slice threads,
 * clock_gettime/nanosleep, write (stderr, pipes), tgkill (abort).  Path-taking
 * stat calls stay allowed: glibc's fstat(fd) is newfstatat(fd, "",
 * AT_EMPTY_PATH).  Refused with EPERM:
 *   files      open, openat, openat2, creat, open_by_handle_at,
 *              name_to_handle_at, uselib, mknod*, mkdir*, link*, symlink*,
 *              rename*, unlink*, rmdir, truncate, ftruncate, fallocate,
 *              memfd_create, memfd_secret, chmod/chown/utime families,
 *              *setxattr, *removexattr, chdir, fchdir, fanotify_init, acct,
 *              quotactl*, swapon, swapoff: a worker opens, creates and
 *              changes nothing by name (and chdir would move the whole
 *              process's cwd);
 *   network    socket, socketpair, socketcall, connect, bind, listen,
 *              accept, accept4: no exfiltration, no talking to local daemons;
 *   programs   execve, execveat, fork, vfork, and clone without CLONE_THREAD
 *              (a fork) or with any CLONE_NEW* flag; clone3 fails with ENOSYS
 *              instead (its flags sit in memory a filter cannot read) so
 *              glibc's pthread_create falls back to clone;
 *   other processes  ptrace, process_vm_readv/writev, process_madvise, kcmp,
 *              pidfd_open, pidfd_getfd;
 *   mounts and namespaces  mount, umount, umount2, pivot_root, chroot,
 *              unshare, setns, move_mount, open_tree, fsopen, fsconfig,
 *              fsmount, fspick, mount_setattr;
 *   kernel attack surface  kexec_*, init_module, finit_module,
 *              delete_module, bpf, perf_event_open, userfaultfd, io_uring_*
 *              (which would open files without a syscall), keyctl, add_key,
 *              request_key, modify_ldt, iopl, ioperm, personality,
 *              move_pages, migrate_pages, remap_file_pages, syslog, reboot,
 *              clock/time setting, sethostname, setdomainname, vhangup;
 *   code       mmap, mprotect, pkey_mprotect with PROT_EXEC: decoding maps
 *              no new code, an exploit staging shellcode would;
 *   terminal   ioctl TIOCSTI and TIOCLINUX (typing into a terminal held by a
 *              foreground daemon).
 * Calls libseccomp does not know on this architecture are skipped.  Other
 * ABIs (int 0x80 and x32 on x86_64) kill the process.  setuid and friends
 * stay allowed: glibc runs them on every thread and aborts if one refuses.
 * In a sanitizer build the runtime first caches /proc/self/maps, starts
 * llvm-symbolizer and opens its log_path file (created empty), so a report
 * from a filtered thread is still symbolized and written.
 *
 * This is attack-surface reduction, not isolation: the worker still shares
 * memory and the fd table with the FUSE threads.  The filter is the calling
 * thread's own (no TSYNC) and NO_NEW_PRIVS is set on it; threads it creates
 * afterwards inherit both, and nothing can remove them.  Only worker threads
 * may call this: the process must exit from an unfiltered thread, since
 * LeakSanitizer forks its tracer at exit.  Keeps no state and takes no lock;
 * does not block, but in a sanitizer build the first call starts a process.
 */
#ifndef FRAMEFS_SANDBOX_H
#define FRAMEFS_SANDBOX_H

#include <stddef.h>

/* Install the decoder's seccomp filter on the calling thread only (no TSYNC);
 * threads it creates afterwards inherit it.  0, or a negative errno with err
 * filled with a readable reason. */
int sandbox_enter(char *err, size_t errlen);

#endif
