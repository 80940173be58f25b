#ifndef CIMAGESHIMS_H
#define CIMAGESHIMS_H
// Wrappers that turn libjpeg / libpng longjmp errors into return codes.
// Nothing here ever longjmps across a Swift frame: every setjmp lives inside this target.

#include <stddef.h>
#include <stdint.h>

int zoo_image_shims_version(void);

typedef enum {
    ZOO_IMAGE_OK = 0,
    ZOO_IMAGE_CORRUPT = 1,      // the codec rejected the data
    ZOO_IMAGE_TRUNCATED = 2,    // data ended before the image did
    ZOO_IMAGE_TOO_LARGE = 3,    // header announces more pixels than allowed
    ZOO_IMAGE_UNSUPPORTED = 4,  // valid file, but a layout we do not decode
    ZOO_IMAGE_NO_MEMORY = 5,
} zoo_image_status;

typedef struct {
    uint8_t *pixels;       // width * height * 3 bytes, RGB, row-major; free with zoo_image_free
    int width;
    int height;
    int orientation;       // EXIF orientation 1...8 (1 when absent or unreadable)
    uint64_t pixel_count;  // the header's width * height (set even when TOO_LARGE)
    char message[200];     // codec's reason when status != OK
} zoo_decoded_image;

typedef struct {
    uint8_t *bytes;        // free with zoo_image_free
    size_t count;
    char message[200];
} zoo_encoded_image;

// Decodes to 8-bit RGB the way Pillow's `Image.open(f).convert("RGB")` does.
int zoo_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, zoo_decoded_image *out);
int zoo_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels, zoo_decoded_image *out);

int zoo_png_encode_rgb(const uint8_t *rgb, int width, int height, zoo_encoded_image *out);
int zoo_jpeg_encode_rgb(const uint8_t *rgb, int width, int height, int quality, zoo_encoded_image *out);

// Orientation tag (0x0112) from a TIFF-structured EXIF block; 1 when absent or malformed.
int zoo_exif_orientation(const uint8_t *tiff, size_t size);

void zoo_image_free(void *pointer);

#endif
