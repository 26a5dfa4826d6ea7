// mcp-warden-launcher: runs a stdio MCP server once per connection on a Unix socket, in
// the server's own container (docs/adr/0012-stdio-servers-through-a-launcher.md).
//
//   mcp-warden-launcher --socket PATH -- COMMAND [ARG...]
//   mcp-warden-launcher --install DEST
//
// The injector makes it the server container's command. Each connection from the
// mcp-warden sidecar gets a new process of COMMAND, in a process group of its own, whose
// stdin and stdout ARE the connection (no copying in between); its stderr is the
// container's, so the server's log is the container's log. Before the command runs, the
// process writes one line to the connection: "mcp-warden-launcher/1 pid=N".
//
// The sidecar ends a session by shutting down its side of the connection: the process
// reads end-of-file on stdin (a stdio server's cue to exit); if it has not exited 2 s
// later its group gets SIGTERM, 2 s after that SIGKILL (the standalone bridge's timings).
// When the process exits (on its own, killed, crashed) its group gets SIGTERM and the
// connection is shut down, so the sidecar sees the end at once even if a child of the
// server still holds the socket. SIGTERM to the launcher ends every session the same way
// and then the launcher.
//
// --install copies the launcher (/proc/self/exe) to DEST: the injected init container
// runs it from the sidecar image, so the server's image needs no cp, no shell and no libc
// (the binary is static).
//
// Logs are JSON lines on stderr in the format of mcp-warden's other processes.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HEADER_PREFIX "mcp-warden-launcher/1 pid="
#define TERM_AFTER_MS 2000
#define KILL_AFTER_MS 4000
#define SHUTDOWN_KILL_AFTER_MS 5000

struct session {
  pid_t pid;
  int fd;              // the launcher's copy of the connection; -1 once shut down
  long long hangup_at; // ms when the sidecar ended its side; 0 while it has not
  int signalled;       // 0, SIGTERM or SIGKILL: the last signal sent to the group
};

static struct session *sessions;
static size_t session_count, session_capacity;
static int signal_pipe[2];
static volatile sig_atomic_t stop_requested;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void json_string(FILE *out, const char *text) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
    else if (*p < 0x20) fprintf(out, "\\u%04x", *p);
    else fputc(*p, out);
  }
  fputc('"', out);
}

// One JSON line: level, time, app, then "key":value pairs given as preformatted JSON, then msg.
static void log_line(const char *level, const char *fields, const char *format, ...) {
  char message[1024];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char when[32];
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  fprintf(stderr, "{\"level\":\"%s\",\"time\":\"%s.%03ldZ\",\"app\":\"mcp-warden-launcher\"%s%s,\"msg\":", level, when, ts.tv_nsec / 1000000,
          fields[0] ? "," : "", fields);
  json_string(stderr, message);
  fputs("}\n", stderr);
  fflush(stderr);
}

static void on_signal(int signo) {
  int saved = errno;
  if (signo == SIGTERM || signo == SIGINT) stop_requested = 1;
  char byte = (char)signo;
  (void)!write(signal_pipe[1], &byte, 1);
  errno = saved;
}

static int usage(void) {
  fputs("usage: mcp-warden-launcher --socket PATH -- COMMAND [ARG...]\n       mcp-warden-launcher --install DEST\n", stderr);
  return 2;
}

// COMMAND as execv needs it: a path with a slash as given, else the first match on PATH.
static int resolve_command(const char *command, char *resolved, size_t size) {
  if (strchr(command, '/') != NULL) {
    if (access(command, X_OK) != 0) return -1;
    snprintf(resolved, size, "%s", command);
    return 0;
  }
  const char *path = getenv("PATH");
  if (path == NULL || *path == '\0') path = "/usr/local/bin:/usr/bin:/bin";
  while (*path) {
    const char *end = strchr(path, ':');
    size_t length = end == NULL ? strlen(path) : (size_t)(end - path);
    if (length > 0 && length + strlen(command) + 2 <= size) {
      snprintf(resolved, size, "%.*s/%s", (int)length, path, command);
      struct stat st;
      if (stat(resolved, &st) == 0 && S_ISREG(st.st_mode) && access(resolved, X_OK) == 0) return 0;
    }
    if (end == NULL) break;
    path = end + 1;
  }
  return -1;
}

static int install(const char *destination) {
  char temporary[PATH_MAX];
  snprintf(temporary, sizeof temporary, "%s.tmp", destination);
  int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  int out = in < 0 ? -1 : open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (in < 0 || out < 0) {
    log_line("error", "", "cannot install the launcher at %s: %s", destination, strerror(errno));
    return 1;
  }
  char buffer[65536];
  ssize_t got;
  while ((got = read(in, buffer, sizeof buffer)) > 0) {
    for (ssize_t written = 0; written < got;) {
      ssize_t n = write(out, buffer + written, (size_t)(got - written));
      if (n < 0) {
        if (errno == EINTR) continue;
        log_line("error", "", "cannot install the launcher at %s: %s", destination, strerror(errno));
        return 1;
      }
      written += n;
    }
  }
  if (got < 0 || fchmod(out, 0755) != 0 || close(out) != 0 || rename(temporary, destination) != 0) {
    log_line("error", "", "cannot install the launcher at %s: %s", destination, strerror(errno));
    return 1;
  }
  close(in);
  log_line("info", "", "installed the launcher at %s", destination);
  return 0;
}

static void signal_group(struct session *session, int signo) {
  session->signalled = signo;
  if (kill(-session->pid, signo) != 0) kill(session->pid, signo);
}

static void shut_connection(struct session *session) {
  if (session->fd < 0) return;
  shutdown(session->fd, SHUT_RDWR);
  close(session->fd);
  session->fd = -1;
}

// The child: its own process group, the connection as stdin and stdout, the header, exec.
static void run_server(int connection, const char *resolved, char **argv) {
  setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
  signal(SIGCHLD, SIG_DFL);
  char header[64];
  int length = snprintf(header, sizeof header, HEADER_PREFIX "%ld\n", (long)getpid());
  if (write(connection, header, (size_t)length) != length || dup2(connection, 0) < 0 || dup2(connection, 1) < 0) _exit(127);
  if (connection > 1) close(connection);
  execv(resolved, argv);
  char fields[64];
  snprintf(fields, sizeof fields, "\"pid\":%ld", (long)getpid());
  log_line("error", fields, "cannot run %s: %s", resolved, strerror(errno));
  _exit(127);
}

static void accept_session(int listener, const char *resolved, char **argv) {
  int connection = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
  if (connection < 0) return;
  if (stop_requested) {
    close(connection);
    return;
  }
  if (session_count == session_capacity) {
    size_t capacity = session_capacity == 0 ? 16 : session_capacity * 2;
    struct session *grown = realloc(sessions, capacity * sizeof *sessions);
    if (grown == NULL) {
      log_line("error", "", "out of memory: refused a session");
      close(connection);
      return;
    }
    sessions = grown;
    session_capacity = capacity;
  }
  pid_t pid = fork();
  if (pid < 0) {
    log_line("error", "", "cannot start the MCP server for a session: fork: %s", strerror(errno));
    close(connection);
    return;
  }
  if (pid == 0) run_server(connection, resolved, argv);
  setpgid(pid, pid);
  sessions[session_count++] = (struct session){.pid = pid, .fd = connection, .hangup_at = 0, .signalled = 0};
  char fields[64];
  snprintf(fields, sizeof fields, "\"serverPid\":%ld,\"sessions\":%zu", (long)pid, session_count);
  log_line("info", fields, "started the MCP server for a session");
}

static void reap_children(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (size_t i = 0; i < session_count; i++) {
      struct session *session = &sessions[i];
      if (session->pid != pid) continue;
      char fields[96];
      if (WIFSIGNALED(status)) {
        snprintf(fields, sizeof fields, "\"serverPid\":%ld,\"signal\":%d", (long)pid, WTERMSIG(status));
        log_line(session->hangup_at != 0 ? "info" : "warn", fields, "the MCP server of a session was ended by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
      } else {
        int code = WEXITSTATUS(status);
        snprintf(fields, sizeof fields, "\"serverPid\":%ld,\"exitCode\":%d", (long)pid, code);
        log_line(code == 0 || session->hangup_at != 0 ? "info" : "warn", fields, "the MCP server of a session exited with code %d", code);
      }
      // Whatever it started goes with it, and the sidecar sees the end even if one of those holds the socket.
      kill(-pid, SIGTERM);
      shut_connection(session);
      sessions[i] = sessions[--session_count];
      break;
    }
  }
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--install") == 0) return install(argv[2]);
  if (argc < 5 || strcmp(argv[1], "--socket") != 0 || strcmp(argv[3], "--") != 0) return usage();
  const char *socket_path = argv[2];
  char **command = &argv[4];

  char resolved[PATH_MAX];
  if (resolve_command(command[0], resolved, sizeof resolved) != 0) {
    // Exit: the container restarts with a back-off the kubelet reports as an Event.
    log_line("error", "", "cannot run the MCP server: %s is not an executable file%s", command[0],
             strchr(command[0], '/') == NULL ? " on PATH" : "");
    return 127;
  }

  if (pipe2(signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return 1;
  struct sigaction action = {0};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  sigaction(SIGCHLD, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
  sigaction(SIGINT, &action, NULL);
  signal(SIGPIPE, SIG_IGN);

  struct sockaddr_un address = {.sun_family = AF_UNIX};
  if (strlen(socket_path) >= sizeof address.sun_path) {
    log_line("error", "", "the socket path %s is too long", socket_path);
    return 2;
  }
  strcpy(address.sun_path, socket_path);
  unlink(socket_path);
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 64) != 0) {
    log_line("error", "", "cannot listen on %s: %s", socket_path, strerror(errno));
    return 1;
  }
  // The sidecar runs as another user; only this pod's containers mount the folder.
  chmod(socket_path, 0666);
  char fields[PATH_MAX + 64];
  snprintf(fields, sizeof fields, "\"socket\":");
  {
    char *cursor = fields + strlen(fields);
    FILE *out = fmemopen(cursor, sizeof fields - (size_t)(cursor - fields), "w");
    if (out != NULL) {
      json_string(out, socket_path);
      fclose(out);
    }
  }
  log_line("info", fields, "listening: every connection runs %s", resolved);

  long long stop_deadline = 0;
  for (;;) {
    if (stop_requested && stop_deadline == 0) {
      stop_deadline = now_ms() + SHUTDOWN_KILL_AFTER_MS;
      close(listener);
      unlink(socket_path);
      listener = -1;
      for (size_t i = 0; i < session_count; i++) signal_group(&sessions[i], SIGTERM);
    }
    if (stop_requested && session_count == 0) break;

    long long now = now_ms();
    long long next = -1;
    for (size_t i = 0; i < session_count; i++) {
      struct session *session = &sessions[i];
      if (session->hangup_at == 0) continue;
      long long elapsed = now - session->hangup_at;
      if (session->signalled == 0 && elapsed >= TERM_AFTER_MS) signal_group(session, SIGTERM);
      if (session->signalled == SIGTERM && elapsed >= KILL_AFTER_MS) signal_group(session, SIGKILL);
      long long due = session->signalled == 0 ? session->hangup_at + TERM_AFTER_MS : session->signalled == SIGTERM ? session->hangup_at + KILL_AFTER_MS : -1;
      if (due >= 0 && (next < 0 || due < next)) next = due;
    }
    if (stop_deadline != 0) {
      if (now >= stop_deadline)
        for (size_t i = 0; i < session_count; i++)
          if (sessions[i].signalled != SIGKILL) signal_group(&sessions[i], SIGKILL);
      if (next < 0 || stop_deadline < next) next = stop_deadline;
    }

    size_t count = 2 + session_count;
    struct pollfd fds[count];
    fds[0] = (struct pollfd){.fd = signal_pipe[0], .events = POLLIN};
    fds[1] = (struct pollfd){.fd = listener, .events = POLLIN};
    for (size_t i = 0; i < session_count; i++) {
      // Only the peer's hang-up: the connection's data is the server's to read.
      int watch = sessions[i].fd >= 0 && sessions[i].hangup_at == 0;
      fds[2 + i] = (struct pollfd){.fd = watch ? sessions[i].fd : -1, .events = POLLRDHUP};
    }
    int timeout = next < 0 ? -1 : (int)(next > now ? next - now : 0);
    if (poll(fds, (nfds_t)count, timeout) < 0 && errno != EINTR) {
      log_line("error", "", "poll: %s", strerror(errno));
      return 1;
    }
    for (size_t i = 0; i < session_count && 2 + i < count; i++) {
      if (fds[2 + i].fd >= 0 && (fds[2 + i].revents & (POLLRDHUP | POLLHUP | POLLERR)) && sessions[i].hangup_at == 0) sessions[i].hangup_at = now_ms();
    }
    if (fds[0].revents & POLLIN) {
      char drain[64];
      while (read(signal_pipe[0], drain, sizeof drain) > 0) continue;
      reap_children();
    }
    if (listener >= 0 && (fds[1].revents & POLLIN)) accept_session(listener, resolved, command);
  }
  log_line("info", "", "stopped");
  return 0;
}
