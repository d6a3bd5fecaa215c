#include "container.h"

#include <errno.h>

#include <fcntl.h>
#include <string.h>

#include "../base/utils.h"
#include "../libcontainer/state.h"
#include "../oci/config.h"
#include "mode.h"
#include "vmm.h"

int vmm_bundle_wants_vm(const char *bundle, bool invoked_as_vm, char **text, size_t *len,
                        nook_error_t *err)
{
  cleanup_free char *path = NULL;
  *text = NULL;
  *len = 0;
  xasprintf(&path, "%s/config.json", bundle);
  /* An unreadable config is the normal path's error to report. */
  if (read_file_at(AT_FDCWD, path, text, len, NULL) < 0)
    return 0;
  if (!invoked_as_vm && strstr(*text, "\"" VMM_ANNOTATION "\"") == NULL &&
      strstr(*text, "\"vm\"") == NULL)
    return 0;
  struct oci_config *c = NULL;
  if (oci_config_parse(*text, *len, "config.json", &c, NULL) < 0)
    return 0;
  struct vmm_mode m;
  int r = vmm_mode_select(c, invoked_as_vm, &m, err);
  oci_config_free(c);
  return r;
}

int vmm_container_is_vm(const char *root, const char *id)
{
  cleanup_close int dirfd = -1;
  if (nook_validate_id(id, NULL) < 0 || state_dir_open(root, id, &dirfd, NULL) < 0)
    return 0;
  struct nook_state st;
  if (state_read(dirfd, &st, NULL) < 0)
    return 0;
  int r = st.vm != NULL;
  state_clear(&st);
  return r;
}
