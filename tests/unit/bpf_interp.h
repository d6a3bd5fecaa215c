/* The seccomp tests' oracle (test_seccomp_enosys.c): runs a compiled
 * filter on a seccomp_data without installing it. */
#ifndef NOOK_BPF_INTERP_H
#define NOOK_BPF_INTERP_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A classic-BPF interpreter for the instructions seccomp programs use, so
 * that programs for foreign architectures can be run too.  Returns the
 * SECCOMP_RET_* value, or BAD_PROGRAM for an instruction it does not know,
 * a jump out of the program or a fall off its end. */
#define BAD_PROGRAM 0xbadbadbaU

__attribute__((unused)) static uint32_t run_bpf(const struct sock_filter *f, size_t len,
                                                uint32_t arch, uint32_t nr, const uint64_t args[6])
{
  struct seccomp_data d = {.nr = (int)nr, .arch = arch};
  if (args != NULL)
    memcpy(d.args, args, sizeof(d.args));
  uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0};
  for (size_t pc = 0; pc < len; pc++) {
    const struct sock_filter *i = &f[pc];
    uint32_t src = BPF_SRC(i->code) == BPF_X ? x : i->k;
    switch (BPF_CLASS(i->code)) {
    case BPF_LD:
    case BPF_LDX: {
      uint32_t v;
      if (BPF_MODE(i->code) == BPF_ABS && BPF_SIZE(i->code) == BPF_W && i->k % 4 == 0 &&
          i->k < sizeof(d))
        memcpy(&v, (const char *)&d + i->k, 4);
      else if (BPF_MODE(i->code) == BPF_IMM)
        v = i->k;
      else if (BPF_MODE(i->code) == BPF_MEM && i->k < BPF_MEMWORDS)
        v = mem[i->k];
      else
        return BAD_PROGRAM;
      if (BPF_CLASS(i->code) == BPF_LD)
        a = v;
      else
        x = v;
      break;
    }
    case BPF_ST:
    case BPF_STX:
      if (i->k >= BPF_MEMWORDS)
        return BAD_PROGRAM;
      mem[i->k] = BPF_CLASS(i->code) == BPF_ST ? a : x;
      break;
    case BPF_ALU:
      switch (BPF_OP(i->code)) {
      case BPF_AND:
        a &= src;
        break;
      case BPF_OR:
        a |= src;
        break;
      case BPF_ADD:
        a += src;
        break;
      case BPF_SUB:
        a -= src;
        break;
      default:
        return BAD_PROGRAM;
      }
      break;
    case BPF_JMP: {
      bool t;
      switch (BPF_OP(i->code)) {
      case BPF_JA:
        pc += i->k;
        continue;
      case BPF_JEQ:
        t = a == src;
        break;
      case BPF_JGT:
        t = a > src;
        break;
      case BPF_JGE:
        t = a >= src;
        break;
      case BPF_JSET:
        t = (a & src) != 0;
        break;
      default:
        return BAD_PROGRAM;
      }
      pc += t ? i->jt : i->jf;
      break;
    }
    case BPF_RET:
      return BPF_RVAL(i->code) == BPF_A ? a : i->k;
    case BPF_MISC:
      if (BPF_MISCOP(i->code) == BPF_TAX)
        x = a;
      else
        a = x;
      break;
    default:
      return BAD_PROGRAM;
    }
  }
  return BAD_PROGRAM;
}

#endif
