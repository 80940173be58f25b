#include "CImageShims.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

int zoo_image_shims_version(void) { return 2; }

void zoo_image_free(void *pointer) { free(pointer); }

static void set_message(char *dst, const char *src) {
    snprintf(dst, 200, "%s", src);
}

// MARK: - EXIF

static unsigned read16(const uint8_t *p, int little) {
    return little ? (unsigned)(p[0] | (p[1] << 8)) : (unsigned)((p[0] << 8) | p[1]);
}

static uint32_t read32(const uint8_t *p, int little) {
    return little ? ((uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24))
                  : (((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3]);
}

int zoo_exif_orientation(const uint8_t *tiff, size_t size) {
    if (!tiff || size < 8) return 1;
    int little;
    if (tiff[0] == 'I' && tiff[1] == 'I') little = 1;
    else if (tiff[0] == 'M' && tiff[1] == 'M') little = 0;
    else return 1;
    uint32_t ifd = read32(tiff + 4, little);
    if ((size_t)ifd + 2 > size) return 1;
    unsigned count = read16(tiff + ifd, little);
    for (unsigned i = 0; i < count; i++) {
        size_t entry = (size_t)ifd + 2 + (size_t)i * 12;
        if (entry + 12 > size) return 1;
        if (read16(tiff + entry, little) == 0x0112) {
            unsigned type = read16(tiff + entry + 2, little);
            unsigned value = type == 3 ? read16(tiff + entry + 8, little) : read32(tiff + entry + 8, little);
            return (value >= 1 && value <= 8) ? (int)value : 1;
        }
    }
    return 1;
}

// MARK: - JPEG decode

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    int truncated;
    char message[JMSG_LENGTH_MAX];
} zoo_jpeg_error;

static void zoo_jpeg_error_exit(j_common_ptr cinfo) {
    zoo_jpeg_error *err = (zoo_jpeg_error *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, err->message);
    longjmp(err->jump, 1);
}

static void zoo_jpeg_emit_message(j_common_ptr cinfo, int level) {
    zoo_jpeg_error *err = (zoo_jpeg_error *)cinfo->err;
    if (level >= 0) return;
    // Pillow refuses truncated files by default ("image file is truncated"); so do we.
    if (err->pub.msg_code == JWRN_JPEG_EOF) {
        err->truncated = 1;
        (*cinfo->err->format_message)(cinfo, err->message);
        longjmp(err->jump, 1);
    }
    // Other warnings (corrupt entropy data, extraneous bytes) are ignored like Pillow does,
    // but a flood of them is a damaged file, not a photo.
    if (++err->pub.num_warnings > 10000) {
        set_message(err->message, "too many JPEG warnings");
        longjmp(err->jump, 1);
    }
}

typedef struct {
    struct jpeg_progress_mgr pub;
    zoo_jpeg_error *err;
} zoo_jpeg_progress;

// Progressive files with thousands of tiny scans decode in quadratic time (a known DoS).
static void zoo_jpeg_progress_monitor(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > 1000) {
        zoo_jpeg_progress *p = (zoo_jpeg_progress *)cinfo->progress;
        set_message(p->err->message, "JPEG has more than 1000 scans");
        longjmp(p->err->jump, 1);
    }
}

typedef struct {
    struct jpeg_decompress_struct cinfo;
    zoo_jpeg_error err;
    zoo_jpeg_progress progress;
    uint8_t *pixels;
    uint8_t *row;
} zoo_jpeg_state;

static int jpeg_decode_inner(zoo_jpeg_state *s, const uint8_t *data, size_t size, uint64_t max_pixels,
                             zoo_decoded_image *out) {
    struct jpeg_decompress_struct *cinfo = &s->cinfo;
    if (setjmp(s->err.jump)) {
        set_message(out->message, s->err.message);
        return s->err.truncated ? ZOO_IMAGE_TRUNCATED : ZOO_IMAGE_CORRUPT;
    }
    jpeg_create_decompress(cinfo);
    s->progress.pub.progress_monitor = zoo_jpeg_progress_monitor;
    s->progress.err = &s->err;
    cinfo->progress = &s->progress.pub;
    jpeg_mem_src(cinfo, (const unsigned char *)data, (unsigned long)size);
    jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(cinfo, TRUE);

    out->orientation = 1;
    for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
        // Pillow keeps the first Exif APP1 block.
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && memcmp(m->data, "Exif\0\0", 6) == 0) {
            out->orientation = zoo_exif_orientation(m->data + 6, m->data_length - 6);
            break;
        }
    }

    out->pixel_count = (uint64_t)cinfo->image_width * (uint64_t)cinfo->image_height;
    if (out->pixel_count > max_pixels) {
        snprintf(out->message, 200, "%ux%u exceeds the pixel limit", cinfo->image_width, cinfo->image_height);
        return ZOO_IMAGE_TOO_LARGE;
    }

    int cmyk = 0;
    switch (cinfo->jpeg_color_space) {
    case JCS_GRAYSCALE: cinfo->out_color_space = JCS_GRAYSCALE; break;
    case JCS_YCbCr:
    case JCS_RGB: cinfo->out_color_space = JCS_RGB; break;
    case JCS_CMYK:
    case JCS_YCCK: cinfo->out_color_space = JCS_CMYK; cmyk = 1; break;
    default:
        set_message(out->message, "unsupported JPEG color space");
        return ZOO_IMAGE_UNSUPPORTED;
    }
    // Pillow's defaults: JDCT_ISLOW and fancy upsampling, i.e. libjpeg's own defaults.
    cinfo->dct_method = JDCT_ISLOW;
    cinfo->do_fancy_upsampling = TRUE;
    jpeg_start_decompress(cinfo);

    size_t width = cinfo->output_width, height = cinfo->output_height;
    int components = cinfo->output_components;
    s->pixels = malloc(width * height * 3 + 1);
    s->row = malloc(width * (size_t)components + 1);
    if (!s->pixels || !s->row) {
        set_message(out->message, "out of memory");
        return ZOO_IMAGE_NO_MEMORY;
    }
    while (cinfo->output_scanline < cinfo->output_height) {
        size_t y = cinfo->output_scanline;
        JSAMPROW rows[1] = {s->row};
        if (jpeg_read_scanlines(cinfo, rows, 1) != 1) {
            set_message(out->message, "JPEG scanline read failed");
            return ZOO_IMAGE_TRUNCATED;
        }
        uint8_t *dst = s->pixels + y * width * 3;
        const uint8_t *src = s->row;
        if (components == 3) {
            memcpy(dst, src, width * 3);
        } else if (components == 1) {
            for (size_t x = 0; x < width; x++) dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = src[x];
        } else if (components == 4 && cmyk) {
            // Pillow reads CMYK as "CMYK;I" (Adobe's inverted polarity), then cmyk2rgb:
            // out = clip(nk - nk * c / 255) with nk = 255 - k, using its rounding MULDIV255.
            for (size_t x = 0; x < width; x++) {
                int c = 255 - src[4 * x], m = 255 - src[4 * x + 1], yy = 255 - src[4 * x + 2];
                int nk = src[4 * x + 3];  // 255 - (255 - k)
                int v[3] = {c, m, yy};
                for (int ch = 0; ch < 3; ch++) {
                    int t = v[ch] * nk + 128;
                    int r = nk - (((t >> 8) + t) >> 8);
                    dst[3 * x + ch] = (uint8_t)(r <= 0 ? 0 : r < 256 ? r : 255);
                }
            }
        } else {
            set_message(out->message, "unexpected JPEG component count");
            return ZOO_IMAGE_UNSUPPORTED;
        }
    }
    jpeg_finish_decompress(cinfo);
    out->width = (int)width;
    out->height = (int)height;
    out->pixels = s->pixels;
    s->pixels = NULL;
    return ZOO_IMAGE_OK;
}

int zoo_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, zoo_decoded_image *out) {
    memset(out, 0, sizeof *out);
    out->orientation = 1;
    if (!data || size < 4) {
        set_message(out->message, "not a JPEG file");
        return ZOO_IMAGE_CORRUPT;
    }
    zoo_jpeg_state *s = calloc(1, sizeof *s);
    if (!s) return ZOO_IMAGE_NO_MEMORY;
    s->cinfo.err = jpeg_std_error(&s->err.pub);
    s->err.pub.error_exit = zoo_jpeg_error_exit;
    s->err.pub.emit_message = zoo_jpeg_emit_message;
    int status = jpeg_decode_inner(s, data, size, max_pixels, out);
    jpeg_destroy_decompress(&s->cinfo);
    free(s->pixels);
    free(s->row);
    free(s);
    return status;
}

// MARK: - PNG decode

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    int truncated;
    jmp_buf jump;
    char message[200];
    uint8_t *pixels;
    uint8_t *rows;
    png_bytep *row_pointers;
    int rows_done;
} zoo_png_state;

static void zoo_png_error(png_structp png, png_const_charp message) {
    zoo_png_state *s = (zoo_png_state *)png_get_error_ptr(png);
    set_message(s->message, message);
    longjmp(s->jump, 1);
}

static void zoo_png_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

static void zoo_png_read(png_structp png, png_bytep dst, size_t length) {
    zoo_png_state *s = (zoo_png_state *)png_get_io_ptr(png);
    if (length > s->size - s->offset) {
        s->truncated = 1;
        png_error(png, "PNG data ends early");
    }
    memcpy(dst, s->data + s->offset, length);
    s->offset += length;
}

static int png_decode_inner(zoo_png_state *s, png_structp png, png_infop info, uint64_t max_pixels,
                            zoo_decoded_image *out) {
    if (setjmp(s->jump)) {
        // Pillow stops reading once the pixels are complete, so damage after them is harmless.
        if (s->rows_done) return ZOO_IMAGE_OK;
        set_message(out->message, s->message);
        return s->truncated ? ZOO_IMAGE_TRUNCATED : ZOO_IMAGE_CORRUPT;
    }
    png_set_read_fn(png, s, zoo_png_read);
    png_read_info(png, info);

    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    int color_type = png_get_color_type(png, info), bit_depth = png_get_bit_depth(png, info);
    out->pixel_count = (uint64_t)width * (uint64_t)height;
    if (out->pixel_count > max_pixels) {
        snprintf(out->message, 200, "%ux%u exceeds the pixel limit", width, height);
        return ZOO_IMAGE_TOO_LARGE;
    }
    png_bytep exif = NULL;
    png_uint_32 exif_size = 0;
    if (png_get_eXIf_1(png, info, &exif_size, &exif) && exif) {
        out->orientation = zoo_exif_orientation(exif, exif_size);
    }

    // Pillow opens 16-bit grayscale as "I;16" and its I;16 -> RGB conversion clips at 255
    // instead of scaling; every other 16-bit layout keeps the high byte (strip_16).
    int gray16 = (color_type == PNG_COLOR_TYPE_GRAY && bit_depth == 16);
    if (gray16) {
        png_set_strip_alpha(png);
    } else {
        if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
        if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
        png_set_strip_16(png);
        // convert("RGB") discards alpha (file alpha or tRNS) without compositing.
        png_set_strip_alpha(png);
        if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    int channels = png_get_channels(png, info);
    int out_depth = png_get_bit_depth(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (gray16 ? (channels != 1 || out_depth != 16) : (channels != 3 || out_depth != 8)) {
        set_message(out->message, "unexpected PNG layout after transforms");
        return ZOO_IMAGE_UNSUPPORTED;
    }
    s->pixels = malloc((size_t)width * height * 3 + 1);
    s->rows = gray16 ? malloc(rowbytes * height + 1) : NULL;
    s->row_pointers = malloc(sizeof(png_bytep) * height + 1);
    if (!s->pixels || (gray16 && !s->rows) || !s->row_pointers) {
        set_message(out->message, "out of memory");
        return ZOO_IMAGE_NO_MEMORY;
    }
    for (png_uint_32 y = 0; y < height; y++) {
        s->row_pointers[y] = gray16 ? s->rows + y * rowbytes : s->pixels + (size_t)y * width * 3;
    }
    png_read_image(png, s->row_pointers);
    if (gray16) {
        for (png_uint_32 y = 0; y < height; y++) {
            const uint8_t *src = s->rows + y * rowbytes;  // big-endian samples
            uint8_t *dst = s->pixels + (size_t)y * width * 3;
            for (png_uint_32 x = 0; x < width; x++) {
                uint8_t v = src[2 * x] == 0 ? src[2 * x + 1] : 255;
                dst[3 * x] = dst[3 * x + 1] = dst[3 * x + 2] = v;
            }
        }
    }
    out->width = (int)width;
    out->height = (int)height;
    out->pixels = s->pixels;
    s->pixels = NULL;
    s->rows_done = 1;
    png_read_end(png, NULL);
    return ZOO_IMAGE_OK;
}

int zoo_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels, zoo_decoded_image *out) {
    memset(out, 0, sizeof *out);
    out->orientation = 1;
    if (!data || size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        set_message(out->message, "not a PNG file");
        return ZOO_IMAGE_CORRUPT;
    }
    zoo_png_state *s = calloc(1, sizeof *s);
    if (!s) return ZOO_IMAGE_NO_MEMORY;
    s->data = data;
    s->size = size;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, s, zoo_png_error, zoo_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int status;
    if (!png || !info) {
        set_message(out->message, "out of memory");
        status = ZOO_IMAGE_NO_MEMORY;
    } else {
        status = png_decode_inner(s, png, info, max_pixels, out);
    }
    png_destroy_read_struct(png ? &png : NULL, info ? &info : NULL, NULL);
    free(s->pixels);
    free(s->rows);
    free(s->row_pointers);
    free(s);
    return status;
}

// MARK: - Encoders

typedef struct {
    uint8_t *bytes;
    size_t count;
    size_t capacity;
    int failed;
    jmp_buf jump;
    char message[200];
} zoo_png_writer;

static void zoo_png_write(png_structp png, png_bytep src, size_t length) {
    zoo_png_writer *w = (zoo_png_writer *)png_get_io_ptr(png);
    if (w->count + length > w->capacity) {
        size_t capacity = w->capacity ? w->capacity : 4096;
        while (capacity < w->count + length) capacity *= 2;
        uint8_t *grown = realloc(w->bytes, capacity);
        if (!grown) png_error(png, "out of memory");
        w->bytes = grown;
        w->capacity = capacity;
    }
    memcpy(w->bytes + w->count, src, length);
    w->count += length;
}

static void zoo_png_flush(png_structp png) { (void)png; }

static void zoo_png_write_error(png_structp png, png_const_charp message) {
    zoo_png_writer *w = (zoo_png_writer *)png_get_error_ptr(png);
    set_message(w->message, message);
    longjmp(w->jump, 1);
}

static int png_encode_inner(zoo_png_writer *w, png_structp png, png_infop info, const uint8_t *rgb, int width,
                            int height) {
    if (setjmp(w->jump)) return ZOO_IMAGE_CORRUPT;
    png_set_write_fn(png, w, zoo_png_write, zoo_png_flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < height; y++) png_write_row(png, (png_const_bytep)(rgb + (size_t)y * width * 3));
    png_write_end(png, NULL);
    return ZOO_IMAGE_OK;
}

int zoo_png_encode_rgb(const uint8_t *rgb, int width, int height, zoo_encoded_image *out) {
    memset(out, 0, sizeof *out);
    if (!rgb || width <= 0 || height <= 0) {
        set_message(out->message, "empty image");
        return ZOO_IMAGE_UNSUPPORTED;
    }
    zoo_png_writer *w = calloc(1, sizeof *w);
    if (!w) return ZOO_IMAGE_NO_MEMORY;
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, w, zoo_png_write_error, zoo_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    int status = (png && info) ? png_encode_inner(w, png, info, rgb, width, height) : ZOO_IMAGE_NO_MEMORY;
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    if (status == ZOO_IMAGE_OK) {
        out->bytes = w->bytes;
        out->count = w->count;
    } else {
        set_message(out->message, w->message);
        free(w->bytes);
    }
    free(w);
    return status;
}

typedef struct {
    struct jpeg_compress_struct cinfo;
    zoo_jpeg_error err;
    unsigned char *buffer;
    unsigned long size;
} zoo_jpeg_writer;

static int jpeg_encode_inner(zoo_jpeg_writer *w, const uint8_t *rgb, int width, int height, int quality) {
    if (setjmp(w->err.jump)) return ZOO_IMAGE_CORRUPT;
    jpeg_create_compress(&w->cinfo);
    jpeg_mem_dest(&w->cinfo, &w->buffer, &w->size);
    w->cinfo.image_width = (JDIMENSION)width;
    w->cinfo.image_height = (JDIMENSION)height;
    w->cinfo.input_components = 3;
    w->cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&w->cinfo);
    jpeg_set_quality(&w->cinfo, quality, TRUE);
    jpeg_start_compress(&w->cinfo, TRUE);
    while (w->cinfo.next_scanline < w->cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)w->cinfo.next_scanline * width * 3);
        jpeg_write_scanlines(&w->cinfo, &row, 1);
    }
    jpeg_finish_compress(&w->cinfo);
    return ZOO_IMAGE_OK;
}

int zoo_jpeg_encode_rgb(const uint8_t *rgb, int width, int height, int quality, zoo_encoded_image *out) {
    memset(out, 0, sizeof *out);
    if (!rgb || width <= 0 || height <= 0 || width > 65500 || height > 65500) {
        set_message(out->message, "image size not encodable as JPEG");
        return ZOO_IMAGE_UNSUPPORTED;
    }
    zoo_jpeg_writer *w = calloc(1, sizeof *w);
    if (!w) return ZOO_IMAGE_NO_MEMORY;
    w->cinfo.err = jpeg_std_error(&w->err.pub);
    w->err.pub.error_exit = zoo_jpeg_error_exit;
    w->err.pub.emit_message = zoo_jpeg_emit_message;
    int status = jpeg_encode_inner(w, rgb, width, height, quality < 1 ? 1 : quality > 100 ? 100 : quality);
    jpeg_destroy_compress(&w->cinfo);
    if (status == ZOO_IMAGE_OK) {
        out->bytes = (uint8_t *)w->buffer;  // jpeg_mem_dest allocates with malloc
        out->count = w->size;
    } else {
        set_message(out->message, w->err.message);
        free(w->buffer);
    }
    free(w);
    return status;
}
