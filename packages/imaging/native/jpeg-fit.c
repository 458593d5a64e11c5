// JPEG -> model-sized RGB in one native call: libjpeg-turbo decodes (scaled in the DCT by
// 1/2, 1/4 or 1/8 where the picture is that much larger than its target, as libvips'
// shrink-on-load does), a separable triangle filter resizes (libvips' `linear` reduce: the
// kernel widened by the shrink factor, so every source pixel counts), and the EXIF
// orientation is applied to the small result. Runs on libuv's thread pool like sharp.
//
// decode(jpeg: Buffer, width: number, height: number, orientation: 1..8) -> Promise<Buffer | null>
//   width x height is the target in the stored (not yet rotated) frame. null means "not for
//   this path" (CMYK/YCCK, unusual components, a picture smaller than its target, a
//   libjpeg warning on damaged data): the caller
//   decodes with sharp, which then decides. A libjpeg error rejects with its message.
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <node_api.h>

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  int warned;
  char message[JMSG_LENGTH_MAX];
} ErrorManager;

static void on_error(j_common_ptr cinfo) {
  ErrorManager* err = (ErrorManager*)cinfo->err;
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level) {
  // Level -1 is a warning about damaged data: the picture is left to libvips' judgement.
  if (level < 0) ((ErrorManager*)cinfo->err)->warned = 1;
}

// Fixed-point weights, as libvips' reduce uses for 8-bit pictures: 12 fractional bits.
#define SHIFT 12
#define ONE (1 << SHIFT)

// One axis' taps, every output pixel with the same count (the widest, padded with zero
// weights) so that the inner loops have a fixed length.
typedef struct {
  int count;
  int* first;
  int* weights;  // count per output pixel
} Axis;

static void free_axis(Axis* a) {
  free(a->first);
  free(a->weights);
}

// Triangle taps for in -> out pixels, centres aligned, support widened when shrinking, edges
// clamped (taps outside fold onto the border pixel), weights normalised to sum exactly ONE
// (packages/vision resizeLinear is the same filter in TypeScript, in floats). 0 when out of
// memory or the picture is narrower than the kernel.
static int make_axis(int in, int out, Axis* a) {
  const double scale = (double)in / out;
  const double support = scale > 1 ? scale : 1;
  const int count = (int)ceil(2 * support) + 1;
  a->count = count;
  a->first = malloc(sizeof(int) * (size_t)out);
  a->weights = calloc((size_t)out * count, sizeof(int));
  if (!a->first || !a->weights || in < count) return 0;
  double raw[count];
  for (int o = 0; o < out; o++) {
    const double centre = (o + 0.5) * scale - 0.5;
    const int lo = (int)floor(centre - support) + 1;
    int first = lo < 0 ? 0 : lo + count > in ? in - count : lo;
    double sum = 0;
    for (int k = 0; k < count; k++) raw[k] = 0;
    for (int j = lo; j < (int)ceil(centre + support); j++) {
      const double v = 1 - fabs(j - centre) / support;
      if (v <= 0) continue;
      const int at = (j < 0 ? 0 : j >= in ? in - 1 : j) - first;
      raw[at] += v;
      sum += v;
    }
    int* w = a->weights + (size_t)o * count;
    int total = 0, biggest = 0;
    for (int k = 0; k < count; k++) {
      w[k] = (int)lrint(raw[k] / sum * ONE);
      total += w[k];
      if (w[k] > w[biggest]) biggest = k;
    }
    w[biggest] += ONE - total;
    a->first[o] = first;
  }
  return 1;
}

// Triangle weights are never negative and sum to ONE, so a result is always 0..255: rounding
// needs no clamp (and the loops below vectorise).
static inline unsigned char round_u8(int v) { return (unsigned char)((v + ONE / 2) >> SHIFT); }

typedef int v4si __attribute__((vector_size(16)));

// One output row from an RGBX row: one pixel's channels per vector, `count` known to the
// compiler where it is inlined with a constant (unrolled).
static inline void horizontal(const unsigned char* row, unsigned char* out, const Axis* a, int dw, const int count) {
  for (int x = 0; x < dw; x++, out += 3) {
    const unsigned char* p = row + (size_t)a->first[x] * 4;
    const int* w = a->weights + (size_t)x * count;
    v4si sum = {ONE / 2, ONE / 2, ONE / 2, ONE / 2};
    for (int k = 0; k < count; k++, p += 4) {
      const v4si px = {p[0], p[1], p[2], p[3]};
      sum += w[k] * px;
    }
    sum >>= SHIFT;
    out[0] = (unsigned char)sum[0];
    out[1] = (unsigned char)sum[1];
    out[2] = (unsigned char)sum[2];
  }
}

// src is RGBX (4 bytes a pixel: one vector lane each), dst RGB. Vertical pass first (whole
// rows: the compiler vectorises it), then horizontal on the fewer rows left; rounded to
// bytes after each pass as libvips' reducev and reduceh do (libvips goes horizontal first:
// the order moves some pixels by one level).
// vips_resize's integer pre-shrink (its `gap` of 2): a box average by floor(residual / 2)
// on each axis, the last box short at the far edge (libvips' "ceil"), rounded to bytes.
static unsigned char* box_shrink(const unsigned char* src, int sw, int sh, int bx, int by, int* ow, int* oh) {
  const int w = (sw + bx - 1) / bx, h = (sh + by - 1) / by;
  unsigned char* out = malloc((size_t)w * h * 4);
  if (!out) return NULL;
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++) {
      int sum[4] = {0, 0, 0, 0};
      for (int j = 0; j < by; j++) {
        const int sy = y * by + j < sh ? y * by + j : sh - 1;
        for (int i = 0; i < bx; i++) {
          const int sx = x * bx + i < sw ? x * bx + i : sw - 1;
          const unsigned char* p = src + ((size_t)sy * sw + sx) * 4;
          for (int c = 0; c < 4; c++) sum[c] += p[c];
        }
      }
      const int n = bx * by;
      for (int c = 0; c < 4; c++) out[((size_t)y * w + x) * 4 + c] = (unsigned char)((sum[c] + n / 2) / n);
    }
  }
  *ow = w;
  *oh = h;
  return out;
}

__attribute__((target_clones("avx2", "default"))) static int resize_rgbx(const unsigned char* src, int sw, int sh, unsigned char* dst, int dw, int dh) {
  Axis tx = {0}, ty = {0};
  const int line = sw * 4;
  unsigned char* rows = malloc((size_t)line * dh);
  int* acc = malloc(sizeof(int) * (size_t)line);
  int ok = make_axis(sw, dw, &tx) && make_axis(sh, dh, &ty) && rows && acc;
  if (ok) {
    for (int y = 0; y < dh; y++) {
      const int* w = ty.weights + (size_t)y * ty.count;
      const unsigned char* in = src + (size_t)ty.first[y] * line;
      for (int i = 0; i < line; i++) acc[i] = w[0] * in[i];
      for (int k = 1; k < ty.count; k++) {
        in += line;
        if (!w[k]) continue;
        for (int i = 0; i < line; i++) acc[i] += w[k] * in[i];
      }
      unsigned char* out = rows + (size_t)y * line;
      for (int i = 0; i < line; i++) out[i] = round_u8(acc[i]);
    }
    for (int y = 0; y < dh; y++) {
      const unsigned char* row = rows + (size_t)y * line;
      unsigned char* out = dst + (size_t)y * dw * 3;
      switch (tx.count) {
        case 3: horizontal(row, out, &tx, dw, 3); break;
        case 4: horizontal(row, out, &tx, dw, 4); break;
        case 5: horizontal(row, out, &tx, dw, 5); break;
        default: horizontal(row, out, &tx, dw, tx.count); break;
      }
    }
  }
  free_axis(&tx);
  free_axis(&ty);
  free(rows);
  free(acc);
  return ok;
}

// EXIF orientation: display pixel (dx, dy) takes stored pixel (sx, sy) of a sw x sh picture.
static void orient_rgb(const unsigned char* src, int sw, int sh, unsigned char* dst, int orientation) {
  const int swap = orientation >= 5;
  const int dw = swap ? sh : sw, dh = swap ? sw : sh;
  for (int dy = 0; dy < dh; dy++) {
    for (int dx = 0; dx < dw; dx++) {
      int sx, sy;
      switch (orientation) {
        case 2: sx = sw - 1 - dx; sy = dy; break;
        case 3: sx = sw - 1 - dx; sy = sh - 1 - dy; break;
        case 4: sx = dx; sy = sh - 1 - dy; break;
        case 5: sx = dy; sy = dx; break;
        case 6: sx = dy; sy = sh - 1 - dx; break;
        case 7: sx = sw - 1 - dy; sy = sh - 1 - dx; break;
        case 8: sx = sw - 1 - dy; sy = dx; break;
        default: sx = dx; sy = dy; break;
      }
      memcpy(dst + ((size_t)dy * dw + dx) * 3, src + ((size_t)sy * sw + sx) * 3, 3);
    }
  }
}

typedef enum { DONE, DECLINED, FAILED } Outcome;

typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  napi_ref input;
  const unsigned char* data;
  size_t length;
  int width, height, orientation;
  unsigned char* pixels;
  Outcome outcome;
  char message[JMSG_LENGTH_MAX];
} Task;

static void execute(napi_env env, void* arg) {
  (void)env;
  Task* task = arg;
  struct jpeg_decompress_struct cinfo;
  ErrorManager err;
  unsigned char* decoded = NULL;
  unsigned char* resized = NULL;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.emit_message = on_message;
  err.warned = 0;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    free(decoded);
    free(resized);
    snprintf(task->message, sizeof task->message, "%s", err.message);
    task->outcome = FAILED;
    return;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, task->data, (unsigned long)task->length);
  jpeg_read_header(&cinfo, TRUE);
  const J_COLOR_SPACE cs = cinfo.jpeg_color_space;
  if (!((cs == JCS_YCbCr && cinfo.num_components == 3) || (cs == JCS_RGB && cinfo.num_components == 3) ||
        (cs == JCS_GRAYSCALE && cinfo.num_components == 1))) {
    jpeg_destroy_decompress(&cinfo);
    task->outcome = DECLINED;
    return;
  }
  // Enlarging is libvips' affine interpolation, not this filter: small pictures go to sharp.
  if ((int)cinfo.image_width < task->width || (int)cinfo.image_height < task->height) {
    jpeg_destroy_decompress(&cinfo);
    task->outcome = DECLINED;
    return;
  }
  // libvips' shrink-on-load rule (sharp's pipeline.cc, fastShrinkOnLoad): the largest of 8, 4, 2 that the
  // smaller shrink factor reaches.
  const double shrink = fmin((double)cinfo.image_width / task->width, (double)cinfo.image_height / task->height);
  cinfo.scale_num = 1;
  int denom = shrink >= 8 ? 8 : shrink >= 4 ? 4 : shrink >= 2 ? 2 : 1;
  // sharp's "known libjpeg rounding errors" step: one notch less when the shrink is that integer.
  if (denom > 1 && (int)shrink == denom) denom /= 2;
  cinfo.scale_denom = (unsigned int)denom;
  cinfo.out_color_space = JCS_EXT_RGBX;
  jpeg_start_decompress(&cinfo);
  const int w = (int)cinfo.output_width, h = (int)cinfo.output_height;
  decoded = malloc((size_t)w * h * 4);
  if (!decoded) {
    snprintf(err.message, sizeof err.message, "out of memory for %dx%d pixels", w, h);
    longjmp(err.jump, 1);
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = decoded + (size_t)cinfo.output_scanline * w * 4;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  const int warned = err.warned;
  jpeg_destroy_decompress(&cinfo);
  if (warned) {
    free(decoded);
    task->outcome = DECLINED;
    return;
  }
  const int bx = (int)floor((double)w / task->width / 2), by = (int)floor((double)h / task->height / 2);
  int rw = w, rh = h;
  if (bx > 1 || by > 1) {
    unsigned char* boxed = box_shrink(decoded, w, h, bx > 1 ? bx : 1, by > 1 ? by : 1, &rw, &rh);
    free(decoded);
    decoded = boxed;
  }
  const size_t bytes = (size_t)task->width * task->height * 3;
  resized = malloc(bytes);
  if (!decoded || !resized || !resize_rgbx(decoded, rw, rh, resized, task->width, task->height)) {
    free(decoded);
    free(resized);
    snprintf(task->message, sizeof task->message, "out of memory resizing to %dx%d", task->width, task->height);
    task->outcome = FAILED;
    return;
  }
  free(decoded);
  if (task->orientation > 1 && task->orientation <= 8) {
    unsigned char* turned = malloc(bytes);
    if (!turned) {
      free(resized);
      snprintf(task->message, sizeof task->message, "out of memory rotating");
      task->outcome = FAILED;
      return;
    }
    orient_rgb(resized, task->width, task->height, turned, task->orientation);
    free(resized);
    resized = turned;
  }
  task->pixels = resized;
  task->outcome = DONE;
}

static void free_pixels(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  free(data);
}

static void complete(napi_env env, napi_status status, void* arg) {
  Task* task = arg;
  napi_value result;
  if (status == napi_ok && task->outcome == DONE) {
    size_t bytes = (size_t)task->width * task->height * 3;
    if (napi_create_external_buffer(env, bytes, task->pixels, free_pixels, NULL, &result) != napi_ok) {
      free(task->pixels);
      napi_get_null(env, &result);
    }
    napi_resolve_deferred(env, task->deferred, result);
  } else if (status == napi_ok && task->outcome == DECLINED) {
    napi_get_null(env, &result);
    napi_resolve_deferred(env, task->deferred, result);
  } else {
    napi_value message;
    napi_create_string_utf8(env, status == napi_ok ? task->message : "decode cancelled", NAPI_AUTO_LENGTH, &message);
    napi_create_error(env, NULL, message, &result);
    napi_reject_deferred(env, task->deferred, result);
  }
  napi_delete_reference(env, task->input);
  napi_delete_async_work(env, task->work);
  free(task);
}

static napi_value throw_type(napi_env env, const char* message) {
  napi_throw_type_error(env, NULL, message);
  return NULL;
}

static napi_value decode(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  bool is_buffer = false;
  if (argc < 4 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer) return throw_type(env, "decode(jpeg: Buffer, width, height, orientation)");
  Task* task = calloc(1, sizeof(Task));
  if (!task) return throw_type(env, "out of memory");
  void* data;
  napi_get_buffer_info(env, argv[0], &data, &task->length);
  task->data = data;
  napi_get_value_int32(env, argv[1], &task->width);
  napi_get_value_int32(env, argv[2], &task->height);
  napi_get_value_int32(env, argv[3], &task->orientation);
  if (task->width < 1 || task->height < 1 || task->width > 65535 || task->height > 65535) {
    free(task);
    return throw_type(env, "width and height must be between 1 and 65535");
  }
  // The buffer must outlive the work on the thread pool.
  napi_create_reference(env, argv[0], 1, &task->input);
  napi_value promise, name;
  napi_create_promise(env, &task->deferred, &promise);
  napi_create_string_utf8(env, "spotter.jpegFit", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, task, &task->work);
  napi_queue_async_work(env, task->work);
  return promise;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "decode", NAPI_AUTO_LENGTH, decode, NULL, &fn);
  napi_set_named_property(env, exports, "decode", fn);
  return exports;
}
