#include "container.h"

#include <fcntl.h>
#include <string.h>

#include "../base/utils.h"
#include "../libcontainer/state.h"
#include "../oci/config.h"
#include "vmm.h"

const char *vmm_config_backend(const struct oci_config *c)
{
  for (size_t i = 0; i < c->n_annotations; i++) {
    if (strcmp(c->annotations[i].key, VMM_ANNOTATION) == 0)
      return c->annotations[i].value;
  }
  return NULL;
}

int vmm_config_wants_vm(const struct oci_config *c, nook_error_t *err)
{
  const char *v = vmm_config_backend(c);
  if (v == NULL)
    return 0;
  if (vmm_backend_find(v) == NULL)
    return nook_error(err, 0, "annotation %s=\"%s\": the VM backends are: qemu", VMM_ANNOTATION, v);
  return 1;
}

int vmm_bundle_wants_vm(const char *bundle, nook_error_t *err)
{
  cleanup_free char *path = NULL, *text = NULL;
  size_t len;
  xasprintf(&path, "%s/config.json", bundle);
  /* An unreadable config is the normal path's error to report. */
  if (read_file_at(AT_FDCWD, path, &text, &len, NULL) < 0)
    return 0;
  if (strstr(text, "\"" VMM_ANNOTATION "\"") == NULL)
    return 0;
  struct oci_config *c = NULL;
  if (oci_config_parse(text, len, "config.json", &c, NULL) < 0)
    return 0;
  int r = vmm_config_wants_vm(c, err);
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
