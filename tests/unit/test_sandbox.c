/*
 * Unit tests of decoder/sandbox: a thread that entered the sandbox cannot
 * open, connect, fork, exec or map code, still reads the fds it was given,
 * allocates and starts (filtered) threads, FFmpeg's frame threads included;
 * the main thread stays unfiltered.  The sandboxed thread's Seccomp: mode is
 * read by the main thread, since the thread itself cannot open /proc.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>

#include "../../decoder/media/sandbox.h"
#include "unit.h"

static const char content[] = "framefs sandbox test\n";
static char tmp_path[] = "/tmp/framefs-sandbox-XXXXXX";
static char new_path[sizeof(tmp_path) + 4];  /* creat's target: must not appear */
static int given_fd = -1;                   /* opened by main before the sandbox */
static pid_t sandboxed_tid;
static sem_t to_main, to_thread;            /* the sandboxed thread's handshakes */

/* The errno of a call that should fail, or 0 when it succeeded. */
#define FAILS_WITH(call) (errno = 0, (call) < 0 ? errno : 0)

static void *inner_thread(void *arg)
{
    int fd = open(tmp_path, O_RDONLY);

    *(int *)arg = fd < 0 ? errno : 0;
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* A raw clone that passes the filter fails with EINVAL: CLONE_THREAD without
 * CLONE_SIGHAND.  A refused one fails with EPERM before the kernel looks. */
static int clone_errno(unsigned long flags)
{
    long rc = syscall(SYS_clone, flags, NULL, NULL, NULL, 0);

    if (rc == 0)
        _exit(0);                           /* not reached unless the filter is broken */
    if (rc > 0)
        waitpid((pid_t)rc, NULL, 0);
    return rc < 0 ? errno : 0;
}

static void check_ffmpeg_threads(void)
{
    const AVCodec *codec = avcodec_find_decoder(AV_CODEC_ID_H264);
    AVCodecContext *c = codec ? avcodec_alloc_context3(codec) : NULL;
    int ret = -1;

    if (c) {
        c->thread_count = 3;
        c->thread_type = FF_THREAD_FRAME;
        ret = avcodec_open2(c, codec, NULL);
    }
    CHECK(ret == 0, "in the sandbox: an H.264 decoder with 3 frame threads opens (ret %d)", ret);
    avcodec_free_context(&c);
}

static void *sandboxed_thread(void *arg)
{
    char err[256] = "", buf[64] = "", status[64];
    int rc = sandbox_enter(err, sizeof(err)), inner_errno = -1;
    pthread_t inner;
    pid_t pid;

    (void)arg;
    sandboxed_tid = (pid_t)syscall(SYS_gettid);
    CHECK(rc == 0 && err[0] == '\0', "sandbox_enter in a thread -> 0 (%d: %s)", rc, err);
    sem_post(&to_main);                     /* main lists our children (a sanitizer's */
    sem_wait(&to_thread);                   /* symbolizer may be one) */

    CHECK(FAILS_WITH(open("/etc/hostname", O_RDONLY)) == EPERM, "open(/etc/hostname) -> EPERM");
    CHECK(FAILS_WITH(openat(AT_FDCWD, tmp_path, O_RDONLY)) == EPERM, "openat -> EPERM");
    CHECK(FAILS_WITH(syscall(SYS_open, tmp_path, O_RDONLY)) == EPERM, "raw open syscall -> EPERM");
    CHECK(FAILS_WITH(creat(new_path, 0600)) == EPERM, "creat -> EPERM");
    CHECK(FAILS_WITH(unlink(tmp_path)) == EPERM, "unlink -> EPERM");
    snprintf(status, sizeof(status), "/proc/self/task/%d/status", (int)sandboxed_tid);
    CHECK(FAILS_WITH(open(status, O_RDONLY)) == EPERM, "open(own /proc status) -> EPERM");
    CHECK(FAILS_WITH(socket(AF_INET, SOCK_STREAM, 0)) == EPERM, "socket(AF_INET) -> EPERM");
    CHECK(FAILS_WITH(socket(AF_UNIX, SOCK_DGRAM, 0)) == EPERM, "socket(AF_UNIX) -> EPERM");

    errno = 0;
    pid = fork();                           /* a child would stay a zombie until the end */
    if (pid == 0)
        _exit(0);
    CHECK(pid < 0 && errno == EPERM, "fork -> EPERM (pid %d, %s)", (int)pid, strerror(errno));
    CHECK(clone_errno(SIGCHLD) == EPERM, "clone without CLONE_THREAD (a fork) -> EPERM");
    CHECK(clone_errno(CLONE_THREAD) == EINVAL, "clone with CLONE_THREAD passes the filter");
    {
        static const struct { unsigned long flag; const char *name; } ns[] = {
            { CLONE_NEWNS, "NEWNS" }, { CLONE_NEWUSER, "NEWUSER" }, { CLONE_NEWPID, "NEWPID" },
            { CLONE_NEWNET, "NEWNET" }, { CLONE_NEWIPC, "NEWIPC" }, { CLONE_NEWUTS, "NEWUTS" },
            { CLONE_NEWCGROUP, "NEWCGROUP" },
        };
        for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++)
            CHECK(clone_errno(CLONE_THREAD | ns[i].flag) == EPERM,
                  "clone(CLONE_THREAD|CLONE_%s) -> EPERM", ns[i].name);
    }
    CHECK(FAILS_WITH(syscall(SYS_clone3, NULL, 0)) == ENOSYS, "clone3 -> ENOSYS");
    {
        /* Unfiltered, a missing program fails with ENOENT (and nothing runs). */
        char *const argv[] = { "framefs-none", NULL }, *const envp[] = { NULL };
        CHECK(FAILS_WITH(execve("/nonexistent/framefs-none", argv, envp)) == EPERM,
              "execve -> EPERM");
    }
    {
        struct iovec local = { buf, 4 }, remote = { (void *)content, 4 };
        CHECK(FAILS_WITH(process_vm_readv(getpid(), &local, 1, &remote, 1, 0)) == EPERM,
              "process_vm_readv -> EPERM");
    }
    CHECK(FAILS_WITH(syscall(SYS_io_uring_setup, 1, NULL)) == EPERM, "io_uring_setup -> EPERM");
    {
        void *x = (errno = 0, mmap(NULL, 4096, PROT_READ | PROT_EXEC,
                                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        int e = errno;
        void *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        CHECK(x == MAP_FAILED && e == EPERM, "mmap(PROT_EXEC) -> EPERM");
        CHECK(w != MAP_FAILED, "mmap(PROT_READ|PROT_WRITE) works");
        if (w != MAP_FAILED) {
            CHECK(FAILS_WITH(mprotect(w, 4096, PROT_READ | PROT_EXEC)) == EPERM,
                  "mprotect(PROT_EXEC) -> EPERM");
            munmap(w, 4096);
        }
        if (x != MAP_FAILED)
            munmap(x, 4096);
    }

    memset(buf, 0, sizeof(buf));
    CHECK(pread(given_fd, buf, sizeof(buf), 0) == (ssize_t)strlen(content) &&
          strcmp(buf, content) == 0, "pread on an fd opened before the sandbox");
    memset(buf, 0, sizeof(buf));
    CHECK(lseek(given_fd, 8, SEEK_SET) == 8 && read(given_fd, buf, 7) == 7 &&
          strcmp(buf, "sandbox") == 0, "lseek + read on that fd");
    {
        char *big = malloc(64 << 20);
        if (big)
            memset(big, 0x5a, 64 << 20);
        CHECK(big && big[(64 << 20) - 1] == 0x5a, "malloc(64 MB) works");
        free(big);
    }
    rc = pthread_create(&inner, NULL, inner_thread, &inner_errno);
    if (rc == 0)
        pthread_join(inner, NULL);
    CHECK(rc == 0, "pthread_create inside the sandbox (%s)", strerror(rc));
    CHECK(inner_errno == EPERM, "open in a thread created inside -> EPERM (inherited; %s)",
          inner_errno > 0 ? strerror(inner_errno) : "no error");
    check_ffmpeg_threads();

    sem_post(&to_main);                     /* main reads our status and children */
    sem_wait(&to_thread);
    if (pid > 0)
        waitpid(pid, NULL, 0);
    return NULL;
}

/* The first line of path starting with prefix (all of it: ""), newline
 * stripped, or "?" when path cannot be read. */
static void read_line(const char *path, const char *prefix, char *out, size_t len)
{
    char line[256];
    FILE *f = fopen(path, "r");

    snprintf(out, len, "%s", f ? "" : "?");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            line[strcspn(line, "\n")] = '\0';
            snprintf(out, len, "%s", line);
            break;
        }
    fclose(f);
}

int main(void)
{
    char path[64], line[256], children[256];
    pthread_t t;
    int fd;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if ((given_fd = mkstemp(tmp_path)) < 0 ||
        write(given_fd, content, strlen(content)) != (ssize_t)strlen(content)) {
        perror("mkstemp");
        return 1;
    }
    snprintf(new_path, sizeof(new_path), "%s.new", tmp_path);
    sem_init(&to_main, 0, 0);
    sem_init(&to_thread, 0, 0);
    if (pthread_create(&t, NULL, sandboxed_thread, NULL) != 0) {
        CHECK(0, "start the sandboxed thread");
        unlink(tmp_path);
        return unit_done();
    }
    sem_wait(&to_main);
    snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)sandboxed_tid);
    read_line(path, "", children, sizeof(children));
    sem_post(&to_thread);
    sem_wait(&to_main);
    read_line(path, "", line, sizeof(line));
    CHECK(strcmp(children, "?") != 0 && strcmp(line, children) == 0,
          "fork created no child (children \"%s\", before \"%s\")", line, children);
    snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)sandboxed_tid);
    read_line(path, "Seccomp:", line, sizeof(line));
    CHECK(strcmp(line, "Seccomp:\t2") == 0, "sandboxed thread's status says Seccomp: 2 (\"%s\")",
          line);
    sem_post(&to_thread);
    pthread_join(t, NULL);

    read_line("/proc/thread-self/status", "Seccomp:", line, sizeof(line));
    CHECK(strcmp(line, "Seccomp:\t0") == 0, "main thread unfiltered: Seccomp: 0 (\"%s\")", line);
    fd = open(tmp_path, O_RDONLY);
    CHECK(fd >= 0, "main thread can still open files (%s)", fd < 0 ? strerror(errno) : "ok");
    if (fd >= 0)
        close(fd);
    CHECK(access(new_path, F_OK) < 0, "no file was created by the sandboxed thread");
    close(given_fd);
    unlink(tmp_path);
    unlink(new_path);
    sem_destroy(&to_main);
    sem_destroy(&to_thread);
    return unit_done();
}
