/* The guest side of VM mode: nook running as the VM's init.  It knows only
 * what every backend gives (virtio-mmio devices, a virtio-console port named
 * VMM_CHANNEL_NAME, virtio-9p shares by tag), never which VMM it runs under. */
#ifndef NOOK_VMM_GUEST_H
#define NOOK_VMM_GUEST_H

#include <errno.h>
#include <stdbool.h>

/* Where the guest mounts the share tagged TAG: /mnt/TAG. */
#define VMM_GUEST_SHARES_DIR "/mnt"

/* Where the guest mounts the container's root disk (vm.image) when it has
 * one: the whole disk, or its first partition when it is partitioned, as
 * ext4.  A share's tag never starts with a dot, so none lands here. */
#define VMM_GUEST_DISK_DIR VMM_GUEST_SHARES_DIR "/.disk"

/* The status of the guest init's error when the guest kernel has no
 * working timer (guest_init.c): the host boots again (session.c). */
#define VMM_GUEST_NO_TIMER ETIME

/* Whether this process is the guest's init: PID 1 started as /init (the
 * initramfs's /init is a link to nook). */
bool vmm_guest_is_init(const char *argv0);

/* The nook CLI's dispatcher: main() without the guest init's check.  The
 * guest init runs each container command (create, start, kill, ps,
 * events, ...) by forking and calling it, not by exec'ing /nook: under TCG
 * the exec alone costs tens of ms.  src/ hands it in, since vmm/ may not
 * call src/. */
typedef int vmm_nook_main_fn(int argc, char **argv);

/* Mount, load the modules, mount the shares and cgroup2, open the channel,
 * say ready, serve the host's requests, power off.  Never returns: on any
 * failure the error goes to the host over the channel (or to the console
 * when there is no channel yet) and the VM powers off. */
__attribute__((noreturn)) void vmm_guest_init(vmm_nook_main_fn *nook_main);

#endif
