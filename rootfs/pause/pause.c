/*
 * pause: the process that holds a pod's namespaces open.
 *
 * Behaves like Kubernetes' build/pause/linux/pause.c: it sleeps forever,
 * reaps every child that is re-parented to it (it is PID 1 of the pod's PID
 * namespace, so orphans of every container land here), and exits 0 on
 * SIGINT or SIGTERM so that stopping a pod is an ordinary, clean exit.
 * It is C and static because it runs once per pod for the pod's whole life:
 * a Node or Deno process would cost ~40 MiB where this costs well under 1.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef VERSION
#define VERSION "minipod"
#endif

static void sigdown(int signo) {
  psignal(signo, "Shutting down, got signal");
  exit(0);
}

static void sigreap(int signo) {
  (void)signo;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0)
    ;
  errno = saved;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "-v")) {
      printf("pause.c %s\n", VERSION);
      return 0;
    }
  }

  /* Run from a sealed in-memory copy (/proc/<runtime>/fd/N), whose name
     the kernel would show; `ps` in a pod should say pause, as in Kubernetes. */
  prctl(PR_SET_NAME, "pause", 0, 0, 0);

  if (getpid() != 1)
    /* Not an error: it still holds the namespaces, it just cannot reap. */
    fprintf(stderr, "Warning: pause should be the first process\n");

  /* SA_RESTART is not wanted: pause() must return so the loop re-arms. */
  struct sigaction down = {.sa_handler = sigdown};
  if (sigaction(SIGINT, &down, NULL) < 0)
    return 1;
  if (sigaction(SIGTERM, &down, NULL) < 0)
    return 2;
  struct sigaction reap = {.sa_handler = sigreap, .sa_flags = SA_NOCLDSTOP};
  if (sigaction(SIGCHLD, &reap, NULL) < 0)
    return 3;

  for (;;)
    pause();
  fprintf(stderr, "Error: infinite loop terminated\n");
  return 42;
}
