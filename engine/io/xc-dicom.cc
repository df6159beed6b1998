/* SPDX-License-Identifier: MIT
 *
 * DICOM through DCMTK: the only C++ in the project, kept to what DCMTK must
 * do (parse the file, decode one frame with its registered codecs: RLE, the
 * JPEG processes of dcmjpeg and JPEG-LS of dcmjpls) and returning plain
 * numbers to C. Every DCMTK call's condition is checked; C++ exceptions
 * (an allocation in DCMTK) are caught here and become a GError, so nothing
 * crosses into C. The stored values are unpacked by the DICOM rules (PS3.5
 * 8.1.1: BitsStored bits ending at HighBit, two's complement when
 * PixelRepresentation is 1) and rescaled in double precision.
 */
#define G_LOG_DOMAIN "xc-dicom"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <cmath>
#include <new>
#include <string.h>
#include <glib/gstdio.h>

#include "xc-dicom.h"
#include "xc-error.h"
#include "xc-guard.h"

#define MAX_PIXELS 100000000  /* as XC_IMAGE_MAX_PIXELS */

extern "C" gboolean
xc_dicom_probe (const char *path)
{
  char head[132];
  FILE *f;
  size_t n = 0;

  if (g_str_has_suffix (path, ".dcm") || g_str_has_suffix (path, ".DCM") ||
      g_str_has_suffix (path, ".dicom") || g_str_has_suffix (path, ".DICOM"))
    return TRUE;
  if ((f = fopen (path, "rb")) == NULL)
    return FALSE;
  n = fread (head, 1, sizeof head, f);
  fclose (f);
  return n == sizeof head && memcmp (head + 128, "DICM", 4) == 0;
}

static void
register_codecs (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      /* DCMTK's log goes to stderr; our errors say what went wrong */
      OFLog::configure (OFLogger::OFF_LOG_LEVEL);
      DcmRLEDecoderRegistration::registerCodecs ();
      DJDecoderRegistration::registerCodecs ();
      DJLSDecoderRegistration::registerCodecs ();
      g_once_init_leave (&once, 1);
    }
}

static void
get_string (DcmItem *ds, const DcmTagKey &tag, char *dst, size_t size)
{
  OFString s;

  dst[0] = '\0';
  if (ds->findAndGetOFString (tag, s).good ())
    g_strlcpy (dst, s.c_str (), size);
  g_strstrip (dst);
}

static int
get_u16 (DcmItem *ds, const DcmTagKey &tag, int fallback, gboolean *present)
{
  Uint16 v = 0;

  if (ds->findAndGetUint16 (tag, v).good ())
    {
      if (present)
        *present = TRUE;
      return v;
    }
  if (present)
    *present = FALSE;
  return fallback;
}

/* One sample of a decoded frame, unpacked to its stored value */
static double
stored_value (const guint8 *buf, size_t i, const XcDicomInfo *info)
{
  guint32 raw;
  int shift = info->high_bit + 1 - info->bits_stored;
  guint32 mask = info->bits_stored >= 32 ? 0xffffffffu : (1u << info->bits_stored) - 1;

  switch (info->bits_allocated)
    {
    case 8:
      raw = buf[i];
      break;
    case 16:
      {
        guint16 v;
        memcpy (&v, buf + 2 * i, 2);
        raw = v;
        break;
      }
    default:
      memcpy (&raw, buf + 4 * i, 4);
      break;
    }
  raw = (raw >> shift) & mask;
  if (info->pixel_representation == 1 && info->bits_stored < 32 &&
      (raw & (1u << (info->bits_stored - 1))))
    return (double) raw - (double) (1ull << info->bits_stored);
  if (info->pixel_representation == 1 && info->bits_stored == 32)
    return (double) (gint32) raw;
  return raw;
}

/* One frame's bytes: decoded by DCMTK's codecs, or (native) copied in host
 * order; under the fault guard, in a frame of its own so that no caller
 * variable lives across the sigsetjmp. Returns the signal caught, or 0. */
static int
decode_frame (DcmDataset *ds, DcmElement *el, gboolean encapsulated, int frame, guint8 *buf,
              size_t frame_bytes, OFCondition *cond, OFString &color_model)
{
  XcGuard g;

  XC_GUARD_BEGIN (g)
    if (encapsulated)
      {
        Uint32 start_fragment = 0;
        DcmPixelData *pixels = OFstatic_cast (DcmPixelData *, el);
        *cond = pixels->getUncompressedFrame (ds, frame, start_fragment, buf,
                                              (Uint32) (frame_bytes + (frame_bytes & 1)),
                                              color_model);
      }
    else
      *cond = el->getPartialValue (buf, (Uint32) (frame * frame_bytes), (Uint32) frame_bytes);
  XC_GUARD_END (g)
  return g.faulted;
}

static gboolean
read_dataset (DcmDataset *ds, const char *path, int frame, gboolean keep_patient_data,
              XcDicomInfo *info, float **values, GError **error)
{
  E_TransferSyntax xfer = ds->getOriginalXfer ();
  DcmXfer xf (xfer);
  DcmElement *el = NULL;
  gboolean present, ybr422;
  Sint32 frames = 1;
  int planar;
  size_t n_px, sample_bytes, frame_bytes, n_samples;
  OFString color_model;
  OFCondition cond;
  g_autofree guint8 *buf = NULL;
  float *out;

  memset (info, 0, sizeof *info);
  g_strlcpy (info->transfer_syntax, xf.getXferName (), sizeof info->transfer_syntax);
  if (ds->findAndGetElement (DCM_PixelData, el).bad () || el == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: a DICOM file without pixel data "
                   "(no (7FE0,0010) element): it holds no image", path);
      return FALSE;
    }
  if (xf.isEncapsulated () && !DcmCodecList::canChangeCoding (xfer, EXS_LittleEndianExplicit))
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: pixel data in %s, which this "
                   "build cannot decode (DCMTK decodes RLE, JPEG and JPEG-LS; convert it with "
                   "e.g. gdcmconv --raw)", path, xf.getXferName ());
      return FALSE;
    }

  info->rows = get_u16 (ds, DCM_Rows, 0, NULL);
  info->cols = get_u16 (ds, DCM_Columns, 0, NULL);
  info->samples = get_u16 (ds, DCM_SamplesPerPixel, 1, NULL);
  info->bits_allocated = get_u16 (ds, DCM_BitsAllocated, 0, NULL);
  info->bits_stored = get_u16 (ds, DCM_BitsStored, info->bits_allocated, NULL);
  info->high_bit = get_u16 (ds, DCM_HighBit, info->bits_stored - 1, &present);
  info->pixel_representation = get_u16 (ds, DCM_PixelRepresentation, 0, NULL);
  planar = get_u16 (ds, DCM_PlanarConfiguration, 0, NULL);
  get_string (ds, DCM_PhotometricInterpretation, info->photometric, sizeof info->photometric);
  if (ds->findAndGetSint32 (DCM_NumberOfFrames, frames).bad () || frames < 1)
    frames = 1;
  info->frames = frames;
  info->frame = frame;

  if (info->rows < 1 || info->cols < 1)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: %d x %d pixels (Rows, Columns): "
                   "no image", path, info->rows, info->cols);
      return FALSE;
    }
  if ((guint64) info->rows * info->cols > MAX_PIXELS)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "%s: %d x %d pixels is over the "
                   "100-megapixel limit", path, info->cols, info->rows);
      return FALSE;
    }
  if (info->samples != 1 && info->samples != 3)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: %d samples per pixel (1 or 3 "
                   "are read)", path, info->samples);
      return FALSE;
    }
  if (info->bits_allocated != 8 && info->bits_allocated != 16 && info->bits_allocated != 32)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: %d bits allocated per sample "
                   "(8, 16 or 32 are read)", path, info->bits_allocated);
      return FALSE;
    }
  if (info->bits_stored < 1 || info->bits_stored > info->bits_allocated ||
      info->high_bit < info->bits_stored - 1 || info->high_bit >= info->bits_allocated)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: BitsStored %d, HighBit %d do not fit "
                   "%d bits allocated", path, info->bits_stored, info->high_bit,
                   info->bits_allocated);
      return FALSE;
    }
  if (info->pixel_representation != 0 && info->pixel_representation != 1)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: PixelRepresentation %d (0 or 1)",
                   path, info->pixel_representation);
      return FALSE;
    }
  if (frame < 0 || frame >= frames)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_ARGUMENT, "%s: frame %d does not exist (the file "
                   "has %d frame%s, 0 to %d)", path, frame, frames, frames == 1 ? "" : "s",
                   frames - 1);
      return FALSE;
    }
  if (info->samples == 1 && strcmp (info->photometric, "MONOCHROME1") != 0 &&
      strcmp (info->photometric, "MONOCHROME2") != 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_UNSUPPORTED, "%s: photometric interpretation "
                   "'%s' with one sample (MONOCHROME1 and MONOCHROME2 are read; PALETTE COLOR "
                   "is not)", path, info->photometric);
      return FALSE;
    }

  n_px = (size_t) info->rows * info->cols;
  sample_bytes = info->bits_allocated / 8;
  ybr422 = !xf.isEncapsulated () && strcmp (info->photometric, "YBR_FULL_422") == 0;
  /* native YBR_FULL_422 stores two samples per pixel (Y1 Y2 Cb Cr) */
  frame_bytes = n_px * (ybr422 ? 2 : info->samples) * sample_bytes;
  if (ybr422 && info->cols % 2 != 0)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: YBR_FULL_422 with an odd number of "
                   "columns (%d)", path, info->cols);
      return FALSE;
    }
  if (!xf.isEncapsulated () &&
      (guint64) el->getLength () < (guint64) (frame + 1) * frame_bytes)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: truncated pixel data: %u bytes, "
                   "frame %d needs bytes up to %" G_GUINT64_FORMAT, path, el->getLength (),
                   frame, (guint64) (frame + 1) * frame_bytes);
      return FALSE;
    }
  if (frame_bytes > G_MAXUINT32 - 1 || (buf = (guint8 *) g_try_malloc0 (frame_bytes + 1)) == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "%s: out of memory for a frame of %"
                   G_GSIZE_FORMAT " bytes", path, frame_bytes);
      return FALSE;
    }
  if (xf.isEncapsulated () && el->ident () != EVR_PixelData)
    {
      /* (7FE0,0010) read with another VR (OL, say) is not pixel data */
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: (7FE0,0010) has VR %s, not OB/OW "
                   "pixel data", path, DcmVR (el->getVR ()).getVRName ());
      return FALSE;
    }
  /* DCMTK's RLE decoder reads past its buffer on corrupt runs (found by
   * tests/fuzz): the decode runs under the fault guard (xc-guard.h) */
  {
    int fault = decode_frame (ds, el, xf.isEncapsulated (), frame, buf, frame_bytes, &cond,
                              color_model);
    if (fault)
      {
        g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: corrupt %s pixel data crashed the "
                     "decoder (signal %d): refused", path, xf.getXferName (), fault);
        return FALSE;
      }
  }
  if (cond.bad ())
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: cannot decode frame %d (%s): %s",
                   path, frame, xf.getXferName (), cond.text ());
      return FALSE;
    }
  /* DCMTK swaps big-endian OW data by 16-bit words: put 32-bit samples'
   * halves back in order */
  if (!xf.isEncapsulated () && info->bits_allocated == 32 && xf.isBigEndian ())
    for (size_t i = 0; i + 4 <= frame_bytes; i += 4)
      {
        guint16 h[2];
        memcpy (h, buf + i, 4);
        memcpy (buf + i, h + 1, 2);
        memcpy (buf + i + 2, h, 2);
      }
  if (!color_model.empty ())
    g_strlcpy (info->photometric, color_model.c_str (), sizeof info->photometric);
  /* the JPEG decoders write colour frames interleaved; the RLE decoder
   * writes the layout PlanarConfiguration names */
  if (xf.isEncapsulated () && info->samples == 3 && xfer != EXS_RLELossless)
    planar = 0;

  n_samples = n_px * info->samples;
  if ((out = (float *) g_try_malloc (n_samples * sizeof (float))) == NULL)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "%s: out of memory", path);
      return FALSE;
    }
  if (info->samples == 1)
    {
      info->slope = 1.0, info->intercept = 0.0;
      if (ds->findAndGetFloat64 (DCM_RescaleSlope, info->slope).bad () || info->slope == 0 ||
          !std::isfinite (info->slope))
        info->slope = 1.0;
      if (ds->findAndGetFloat64 (DCM_RescaleIntercept, info->intercept).bad () ||
          !std::isfinite (info->intercept))
        info->intercept = 0.0;
      for (size_t i = 0; i < n_px; i++)
        out[i] = (float) (info->slope * stored_value (buf, i, info) + info->intercept);
    }
  else if (ybr422)
    {
      /* Y1 Y2 Cb Cr -> Y1 Cb Cr Y2 Cb Cr (PS3.3 C.7.6.3.1.2) */
      for (size_t p = 0; p < n_px; p += 2)
        {
          double cb = stored_value (buf, 2 * p + 2, info), cr = stored_value (buf, 2 * p + 3, info);
          out[3 * p + 0] = (float) stored_value (buf, 2 * p, info);
          out[3 * p + 1] = (float) cb, out[3 * p + 2] = (float) cr;
          out[3 * p + 3] = (float) stored_value (buf, 2 * p + 1, info);
          out[3 * p + 4] = (float) cb, out[3 * p + 5] = (float) cr;
        }
      g_strlcpy (info->photometric, "YBR_FULL", sizeof info->photometric);
    }
  else
    for (size_t p = 0; p < n_px; p++)
      for (int k = 0; k < 3; k++)
        out[3 * p + k] = (float) stored_value (buf, planar ? k * n_px + p : 3 * p + k, info);

  get_string (ds, DCM_Modality, info->modality, sizeof info->modality);
  get_string (ds, DCM_BodyPartExamined, info->body_part, sizeof info->body_part);
  get_string (ds, DCM_VOILUTFunction, info->voi_lut_function, sizeof info->voi_lut_function);
  if (info->voi_lut_function[0] == '\0')
    g_strlcpy (info->voi_lut_function, "LINEAR", sizeof info->voi_lut_function);
  for (int k = 0; k < XC_DICOM_MAX_WINDOWS; k++)
    {
      Float64 c, w;
      OFString name;
      if (ds->findAndGetFloat64 (DCM_WindowCenter, c, k).bad () ||
          ds->findAndGetFloat64 (DCM_WindowWidth, w, k).bad () || !std::isfinite (c) ||
          !std::isfinite (w) || w < 1.0)
        break;
      info->window_center[k] = c, info->window_width[k] = w;
      if (ds->findAndGetOFString (DCM_WindowCenterWidthExplanation, name, k).good ())
        g_strlcpy (info->window_name[k], name.c_str (), sizeof info->window_name[k]);
      info->n_windows = k + 1;
    }
  if (keep_patient_data)
    {
      get_string (ds, DCM_PatientName, info->patient_name, sizeof info->patient_name);
      get_string (ds, DCM_PatientID, info->patient_id, sizeof info->patient_id);
      get_string (ds, DCM_StudyDate, info->study_date, sizeof info->study_date);
    }
  *values = out;
  return TRUE;
}

/**
 * xc_dicom_read:
 * @frame: which frame of a multi-frame object, from 0
 * @values: (out) (transfer full): (rows, cols, samples) floats: modality
 *   values for one sample, the decoded R, G, B (or Y, Cb, Cr, see
 *   @info->photometric) samples for three
 *
 * Returns: %FALSE with @error for anything that is not a readable image
 */
extern "C" gboolean
xc_dicom_read (const char *path, int frame, gboolean keep_patient_data, XcDicomInfo *info,
               float **values, GError **error)
{
  register_codecs ();
  try
    {
      DcmFileFormat ff;
      OFCondition cond = ff.loadFile (OFFilename (path), EXS_Unknown, EGL_noChange,
                                      DCM_MaxReadLength, ERM_autoDetect);
      if (cond.bad ())
        {
          /* a bare dataset without preamble or meta header, which DCMTK's
           * guess can take for big endian: implicit little endian, the
           * default transfer syntax (PS3.5 10.1) */
          DcmFileFormat bare;
          if (bare.loadFile (OFFilename (path), EXS_LittleEndianImplicit, EGL_noChange,
                             DCM_MaxReadLength, ERM_dataset).good ())
            {
              ff = bare;
              cond = EC_Normal;
            }
        }
      if (cond.bad ())
        {
          g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: not a readable DICOM file: %s",
                       path, cond.text ());
          return FALSE;
        }
      /* an element may declare more bytes than the file holds; DCMTK would
       * allocate all of them when the value is first read */
      {
        GStatBuf st;
        DcmStack stack;
        guint64 file_size = g_stat (path, &st) == 0 ? (guint64) st.st_size : 0;
        /* a deflated dataset inflates up to zlib's 1032:1 */
        guint64 limit = file_size * (ff.getDataset ()->getOriginalXfer () ==
                                     EXS_DeflatedLittleEndianExplicit ? 1032 : 1);
        while (ff.getDataset ()->nextObject (stack, OFTrue).good ())
          {
            DcmObject *o = stack.top ();
            if (o->isLeaf () && (guint64) o->getLength () > limit)
              {
                DcmTag tag = o->getTag ();
                g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: element (%04X,%04X) "
                             "declares %u bytes, more than the file's %" G_GUINT64_FORMAT, path,
                             tag.getGTag (), tag.getETag (), o->getLength (), file_size);
                return FALSE;
              }
          }
      }
      return read_dataset (ff.getDataset (), path, frame, keep_patient_data, info, values,
                           error);
    }
  catch (const std::bad_alloc &)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_NO_MEMORY, "%s: out of memory reading DICOM",
                   path);
    }
  catch (...)
    {
      g_set_error (error, XC_ERROR, XC_ERROR_FORMAT, "%s: DCMTK failed reading the file", path);
    }
  return FALSE;
}
