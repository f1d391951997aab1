/* The lab's sandbox ("pause") process: PID 1 of every pod's shared namespaces. It
 * holds the namespaces open, reaps orphans (shareProcessNamespace pods), and exits
 * at once on SIGTERM/SIGINT so that stopping a pod sandbox takes no grace period.
 * Written for the lab; built static so the image needs nothing else. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_term(int sig) { (void)sig; _exit(0); }

static void on_child(int sig) {
  (void)sig;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(void) {
  struct sigaction term = {.sa_handler = on_term};
  struct sigaction child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP | SA_RESTART};
  sigaction(SIGTERM, &term, NULL);
  sigaction(SIGINT, &term, NULL);
  sigaction(SIGCHLD, &child, NULL);
  if (getpid() != 1) write(2, "pause: not PID 1; running anyway\n", 33);
  for (;;) pause();
}
