/* poweroff: the whole userspace of VM mode's floor in bench/run.
 *
 * bench/run packs this program alone (static) as /init of an initramfs and
 * boots it with the QEMU argv that nook's VM mode uses: kernel boot, one
 * exec, ACPI power-off, QEMU's exit -- the least any VM-mode `run` can cost
 * with that VMM, kernel and machine. */
#include <sys/reboot.h>
#include <unistd.h>

int main(void)
{
  reboot(RB_POWER_OFF);
  /* Only reached if the power-off failed: PID 1 exiting panics the guest,
   * and the panic=-1 -no-reboot pair ends QEMU anyway. */
  return 1;
}
