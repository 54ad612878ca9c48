/* stamp [WORDS...]: print WORDS then CLOCK_MONOTONIC in ns, e.g. "start 3 7 123456789".
 * The clock is read first thing in main, so a stamp marks the command's start as early as a
 * program can; CLOCK_MONOTONIC is one clock for every process on the machine, so stamps from
 * different processes (and from the bench via bun:ffi clock_gettime) can be subtracted. */
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  for (int i = 1; i < argc; i++) {
    fputs(argv[i], stdout);
    fputc(' ', stdout);
  }
  printf("%lld\n", (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
  return 0;
}
