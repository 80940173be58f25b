#include "CImageShims.h"
int zoo_image_shims_version(void) { return 1; }
