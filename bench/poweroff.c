/* poweroff: the whole userspace of VM mode's floor in bench/run.
 *
 * bench/run packs this program alone (static, beside dev/console) as /init
 * of an initramfs and boots it with the QEMU argv that nook's VM mode uses:
 * kernel boot, one exec, ACPI power-off, QEMU's exit -- the least any
 * VM-mode `run` can cost with that VMM, kernel and machine.  The one line
 * it writes (when the kernel ran it, by the guest's clock) lets bench/run
 * compare the kernel's boot to /init with VM mode's (its initramfs is
 * larger). */
#include <stdio.h>
#include <sys/reboot.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
  struct timespec t;
  if (clock_gettime(CLOCK_BOOTTIME, &t) == 0) {
    char line[64];
    int n = snprintf(line, sizeof(line), "poweroff: /init at %.1f ms\n",
                     (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6);
    if (n > 0 && write(1, line, (size_t)n) < 0)
      n = 0; /* no console: nothing to say it on */
  }
  reboot(RB_POWER_OFF);
  /* Only reached if the power-off failed: PID 1 exiting panics the guest,
   * and the panic=-1 -no-reboot pair ends QEMU anyway. */
  return 1;
}
