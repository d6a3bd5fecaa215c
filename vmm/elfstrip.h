/* What the guest needs of an ELF program or library: its segments only.
 * nook is built with -g, and its debug info and symbol tables would be most
 * of the initramfs the guest kernel unpacks at every boot, although neither
 * the kernel's loader nor ld.so ever reads a section. */
#ifndef NOOK_VMM_ELFSTRIP_H
#define NOOK_VMM_ELFSTRIP_H

#include <stddef.h>

#include "../base/error.h"

/* The contents of `path` cut after the last byte a program header covers,
 * with the section header table dropped from the ELF header; any other file
 * (not a 64-bit ELF, or a layout this does not know) whole. */
int elf_strip_read(const char *path, char **out, size_t *len, nook_error_t *err);

#endif
