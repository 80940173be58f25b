#ifndef CIMAGESHIMS_H
#define CIMAGESHIMS_H
// Wrappers that turn libjpeg / libpng longjmp errors into return codes.
int zoo_image_shims_version(void);
#endif
