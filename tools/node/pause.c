// The process of every pod sandbox (the image localhost/mcp-warden/pause) and the init
// of the local cluster's PID namespace: it sleeps, reaps every child that ends (orphans
// are re-parented to it), and exits 0 on SIGINT or SIGTERM. Built static by
// tools/build-node.sh, so the image needs nothing else.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int signal_number) {
  (void)signal_number;
  _exit(0);
}

static void reap(int signal_number) {
  (void)signal_number;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

static int on(int signal_number, void (*handler)(int)) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = handler;
  action.sa_flags = SA_NOCLDSTOP | SA_RESTART;
  sigemptyset(&action.sa_mask);
  return sigaction(signal_number, &action, NULL);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    puts("mcp-warden pause");
    return 0;
  }
  if (on(SIGINT, stop) || on(SIGTERM, stop) || on(SIGCHLD, reap)) {
    perror("pause: sigaction");
    return 1;
  }
  for (;;) pause();
}
