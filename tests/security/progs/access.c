/* access MODE PATH...: access(2) for each PATH, MODE being r, w or x.
 * busybox's `test -w` looks at the mode bits (root may write anything),
 * while access(2) also says EROFS for a read-only mount: what a write
 * would meet.  Prints one line per path:
 *   PATH ok | PATH errno=E */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  if (argc < 3 || strlen(argv[1]) != 1 || strchr("rwx", argv[1][0]) == NULL) {
    fprintf(stderr, "usage: access r|w|x PATH...\n");
    return 2;
  }
  int mode = argv[1][0] == 'r' ? R_OK : argv[1][0] == 'w' ? W_OK : X_OK;
  for (int i = 2; i < argc; i++) {
    if (access(argv[i], mode) == 0)
      printf("%s ok\n", argv[i]);
    else
      printf("%s errno=%d\n", argv[i], errno);
  }
  return 0;
}
