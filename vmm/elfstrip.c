#include "elfstrip.h"

#include <elf.h>
#include <fcntl.h>
#include <string.h>

#include "../base/utils.h"

/* The end of the bytes the program headers cover, or 0 when the file is not
 * an ELF64 whose headers lie inside it (then it is kept whole). */
static size_t segments_end(const char *data, size_t len)
{
  Elf64_Ehdr eh;
  if (len < sizeof(eh))
    return 0;
  memcpy(&eh, data, sizeof(eh));
  if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phoff > len ||
      (len - eh.e_phoff) / sizeof(Elf64_Phdr) < eh.e_phnum)
    return 0;
  size_t end = eh.e_phoff + eh.e_phnum * sizeof(Elf64_Phdr);
  for (unsigned i = 0; i < eh.e_phnum; i++) {
    Elf64_Phdr ph;
    memcpy(&ph, data + eh.e_phoff + i * sizeof(ph), sizeof(ph));
    if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
      return 0;
    if (ph.p_offset + ph.p_filesz > end)
      end = ph.p_offset + ph.p_filesz;
  }
  return end;
}

int elf_strip_read(const char *path, char **out, size_t *len, nook_error_t *err)
{
  cleanup_free char *data = NULL;
  size_t n;
  if (read_file_at(AT_FDCWD, path, &data, &n, err) < 0)
    return -1;
  size_t end = segments_end(data, n);
  if (end != 0 && end < n) {
    /* The section headers were past the cut: a loader never reads them, a
     * debugger or `file` sees a stripped binary. */
    Elf64_Ehdr eh;
    memcpy(&eh, data, sizeof(eh));
    eh.e_shoff = 0;
    eh.e_shnum = 0;
    eh.e_shstrndx = SHN_UNDEF;
    memcpy(data, &eh, sizeof(eh));
    n = end;
  }
  *out = steal_pointer(&data);
  *len = n;
  return 0;
}
