// SPDX-License-Identifier: GPL-3.0-or-later
//
// px-dicom: the thin C++ shim over DCMTK behind px_dicom_load. It registers the JPEG,
// JPEG-LS and RLE decoders once, reads a file with or without preamble and meta header
// (auto-detected transfer syntax), refuses what it cannot decode (absurd sizes, missing
// or short pixel data, codestreams the codec rejects) with a message naming the file,
// decodes the first frame to modality units (rescale slope/intercept applied here in
// float, a Modality LUT sequence through DCMTK), keeps MONOCHROME1 as stored with a flag
// for the renderer, and fills the PxImage metadata, the decoder's name and the tag list.
// JPEG 2000, which Debian's DCMTK cannot decode, goes through OpenJPEG
// (px-dicom-j2k.c): the first frame's fragments are joined, decoded and put back as
// uncompressed pixel data, so DCMTK applies the same pixel transforms to it as to every
// other transfer syntax. No C++ exception ever leaves this file.
#include "px-dicom.h"
#include "px-dicom-j2k.h"
#include "px-image-private.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmimage/diregist.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmimgle/dipixel.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/oflog/oflog.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

namespace {

// Longest value shown in the tag list before it is cut with an ellipsis.
constexpr size_t kMaxTagValue = 80;

struct DicomCodecs
{
  DicomCodecs ()
  {
    // DCMTK logs to stderr by default; errors reach the caller through GError instead.
    OFLog::configure (OFLogger::OFF_LOG_LEVEL);
    DJDecoderRegistration::registerCodecs ();
    DJLSDecoderRegistration::registerCodecs ();
    DcmRLEDecoderRegistration::registerCodecs ();
  }
  // At exit (DCMTK's own globals were built before this and go after it): frees the codec
  // objects its list holds, which leak checkers otherwise report as definitely lost.
  ~DicomCodecs ()
  {
    DcmRLEDecoderRegistration::cleanup ();
    DJLSDecoderRegistration::cleanup ();
    DJDecoderRegistration::cleanup ();
  }
};

void
ensure_codecs ()
{
  static DicomCodecs codecs; // C++11 guarantees a thread-safe one-time initialisation
  (void) codecs;
}

char *
dup_string (DcmItem *item, const DcmTagKey &key)
{
  OFString value;
  if (item->findAndGetOFStringArray (key, value).bad () || value.empty ())
    return nullptr;
  return g_strstrip (g_strdup (value.c_str ()));
}

bool
is_jpeg2000 (E_TransferSyntax xfer)
{
  return xfer == EXS_JPEG2000LosslessOnly || xfer == EXS_JPEG2000
         || xfer == EXS_JPEG2000MulticomponentLosslessOnly
         || xfer == EXS_JPEG2000Multicomponent;
}

// DCMTK 3.6.7 reads the bit depth of the first JPEG fragment with a marker walk
// (DJCodecDecoder::scanJpegDataForBitDepth) that never ends on some malformed marker
// sequences (fuzz/regressions/dicom/). The same walk is done here first, strictly: SOI,
// then only table and application segments with sane lengths, up to a frame header
// (SOFn) inside the fragment. Streams that do not pass are refused; those that do follow
// the same path through DCMTK's walk, which then stops at the same frame header.
bool
jpeg_fragment_reaches_sof (const Uint8 *d, Uint32 n)
{
  if (d == nullptr || n < 4 || d[0] != 0xff || d[1] != 0xd8)
    return false;
  Uint32 off = 2;
  while (off + 4 < n)
    {
      if (d[off] != 0xff)
        return false;
      Uint8 m = d[off + 1];
      if (m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc)
        return true; // SOF0…SOF15
      bool segment = m == 0xc4 || m == 0xcc || (m >= 0xdb && m <= 0xdf)
                     || (m >= 0xe0 && m <= 0xef) || m == 0xfe;
      Uint32 len = (Uint32) d[off + 2] << 8 | d[off + 3];
      if (!segment || len < 2 || len > 0xfffd)
        return false;
      off += 2 + len;
    }
  return false;
}

bool
is_dcmjpeg_syntax (E_TransferSyntax xfer)
{
  return xfer >= EXS_JPEGProcess1 && xfer <= EXS_JPEGProcess14SV1;
}

// The encapsulated pixel sequence (item 0 the offset table, then the fragments).
DcmPixelSequence *
pixel_sequence (DcmElement *pixel_elem, E_TransferSyntax xfer)
{
  DcmPixelData *pd = dynamic_cast<DcmPixelData *> (pixel_elem);
  DcmPixelSequence *seq = nullptr;
  if (pd == nullptr || pd->getEncapsulatedRepresentation (xfer, nullptr, seq).bad ())
    return nullptr;
  return seq;
}

bool
fragment_bytes (DcmPixelSequence *seq, unsigned long i, const Uint8 *&data, Uint32 &len)
{
  DcmPixelItem *item = nullptr;
  Uint8 *bytes = nullptr;
  if (seq == nullptr || seq->getItem (item, i).bad () || item == nullptr)
    return false;
  len = item->getLength ();
  if (len == 0)
    {
      data = nullptr;
      return true;
    }
  if (item->getUint8Array (bytes).bad () || bytes == nullptr)
    return false;
  data = bytes;
  return true;
}

// The first fragment (item 1) of encapsulated pixel data.
bool
first_fragment (DcmElement *pixel_elem, E_TransferSyntax xfer, const Uint8 *&data, Uint32 &len)
{
  return fragment_bytes (pixel_sequence (pixel_elem, xfer), 1, data, len) && data != nullptr;
}

// Joins the fragments of the first frame. One frame: all of them. Several: those before
// the second frame's offset in the Basic Offset Table; without a table, the first fragment
// if there is one per frame, else fragments up to the one that ends with the JPEG 2000
// end-of-codestream marker (FF D9, maybe followed by the pad byte of an odd length).
bool
first_frame_bytes (DcmElement *pixel_elem, E_TransferSyntax xfer, long frames,
                   std::vector<Uint8> &out)
{
  DcmPixelSequence *seq = pixel_sequence (pixel_elem, xfer);
  const Uint8 *d = nullptr;
  Uint32 len = 0;
  if (seq == nullptr || seq->card () < 2)
    return false;
  unsigned long nfrag = seq->card () - 1;
  Uint64 second = 0; // offset of frame 2 from the first fragment's item tag; 0 = unknown
  if (frames > 1 && fragment_bytes (seq, 0, d, len) && len >= 8 && d != nullptr)
    second = (Uint32) d[4] | (Uint32) d[5] << 8 | (Uint32) d[6] << 16 | (Uint32) d[7] << 24;
  Uint64 pos = 0;
  for (unsigned long i = 1; i <= nfrag; i++)
    {
      if (!fragment_bytes (seq, i, d, len))
        return false;
      if (second > 0 && pos >= second)
        break;
      out.insert (out.end (), d, d + len);
      pos += 8 + (Uint64) len;
      if (frames > 1 && second == 0)
        {
          if ((unsigned long) frames == nfrag)
            break;
          size_t n = out.size ();
          bool eoc = (n >= 2 && out[n - 2] == 0xff && out[n - 1] == 0xd9)
                     || (n >= 3 && out[n - 3] == 0xff && out[n - 2] == 0xd9 && out[n - 1] == 0);
          if (eoc)
            break;
        }
    }
  return !out.empty ();
}

// Decodes the first frame of JPEG 2000 pixel data with OpenJPEG and puts it back into the
// dataset as uncompressed pixel data of that one frame, with the photometric
// interpretation of what OpenJPEG returns (its inverse component transform gives RGB).
bool
decode_jpeg2000 (const char *path, DcmDataset *ds, DcmElement *pixel_elem,
                 E_TransferSyntax xfer, long frames, const PxJ2kFrame &frame, GError **error)
{
  std::vector<Uint8> codestream;
  if (!first_frame_bytes (pixel_elem, xfer, frames, codestream))
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                          "JPEG 2000 pixel data without any fragment");
      return false;
    }
  gsize n = 0;
  gboolean mct = FALSE;
  guint8 *samples = px_j2k_decode (path, codestream.data (), codestream.size (), &frame,
                                   &n, &mct, error);
  if (samples == nullptr)
    return false;
  codestream = std::vector<Uint8> ();
  DcmPixelData *native = new DcmPixelData (DcmTag (DCM_PixelData,
                                                   frame.bits_allocated == 8 ? EVR_OB : EVR_OW));
  OFCondition st = frame.bits_allocated == 8
                     ? native->putUint8Array (samples, (unsigned long) n)
                     : native->putUint16Array (reinterpret_cast<Uint16 *> (samples),
                                               (unsigned long) (n / 2));
  g_free (samples);
  if (st.good ())
    st = ds->insert (native, OFTrue); // replaces (and deletes) the encapsulated element
  else
    delete native;
  if (st.good () && frames > 1)
    st = ds->putAndInsertString (DCM_NumberOfFrames, "1");
  if (st.good () && frame.samples > 1)
    {
      st = ds->putAndInsertUint16 (DCM_PlanarConfiguration, 0);
      OFString pi;
      ds->findAndGetOFString (DCM_PhotometricInterpretation, pi);
      if (st.good () && (mct || pi == "YBR_RCT" || pi == "YBR_ICT"))
        st = ds->putAndInsertString (DCM_PhotometricInterpretation, "RGB");
    }
  if (st.bad ())
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                          "cannot store the decoded JPEG 2000 frame: %s", st.text ());
      return false;
    }
  return true;
}

// The library and codec that decode @xfer, as `peac info` shows it.
std::string
decoder_name (E_TransferSyntax xfer, const DcmXfer &xf)
{
  std::string dcmtk = std::string ("DCMTK ") + OFFIS_DCMTK_VERSION_STRING;
  if (is_jpeg2000 (xfer))
    return std::string (px_j2k_decoder_name ()) + " (strict mode)";
  if (is_dcmjpeg_syntax (xfer))
    return dcmtk + " dcmjpeg (IJG libjpeg)";
  if (xfer == EXS_JPEGLSLossless || xfer == EXS_JPEGLSLossy)
    return dcmtk + " dcmjpls (CharLS)";
  if (xfer == EXS_RLELossless)
    return dcmtk + " RLE decoder";
  if (!xf.isEncapsulated ())
    return dcmtk + " (uncompressed pixel data)";
  return dcmtk;
}

// One "(gggg,eeee) Name: value" line; elements inside sequence items get one '>' per
// level of nesting. @card is the depth of the DcmStack: the dataset, then a sequence and
// an item per nesting level, then the element.
void
add_tag_line (GPtrArray *tags, DcmObject *obj, unsigned long card)
{
  DcmTag tag = obj->getTag ();
  std::string line (card >= 2 ? (card - 2) / 2 : 0, '>');
  char key[16];
  OFString value;
  DcmEVR vr = obj->ident ();

  g_snprintf (key, sizeof key, "(%04x,%04x)", tag.getGTag (), tag.getETag ());
  line += key;
  line += ' ';
  line += tag.getTagName ();
  line += ": ";
  if (vr == EVR_SQ)
    line += "sequence of "
            + std::to_string ((unsigned long) static_cast<DcmSequenceOfItems *> (obj)->card ())
            + " item(s)";
  else if (tag == DCM_PixelData || vr == EVR_OB || vr == EVR_OW || vr == EVR_OF
           || vr == EVR_OD || vr == EVR_OL || vr == EVR_OV || vr == EVR_UN
           || vr == EVR_pixelSQ || vr == EVR_ox)
    line += std::to_string ((unsigned long) obj->getLength ()) + " bytes of binary data";
  else if (static_cast<DcmElement *> (obj)->getOFStringArray (value).good ())
    {
      if (value.length () > kMaxTagValue)
        {
          std::string cut (value.c_str (), kMaxTagValue);
          // Do not cut a UTF-8 sequence in half.
          while (!cut.empty () && (static_cast<unsigned char> (cut.back ()) & 0xc0) == 0x80)
            cut.pop_back ();
          if (!cut.empty () && (static_cast<unsigned char> (cut.back ()) & 0x80))
            cut.pop_back ();
          line += cut + "…";
        }
      else
        line += value.c_str ();
    }
  g_ptr_array_add (tags, g_utf8_make_valid (line.c_str (), -1));
}

GPtrArray *
collect_tags (DcmItem *item)
{
  GPtrArray *tags = g_ptr_array_new_with_free_func (g_free);
  DcmStack stack;

  while (item->nextObject (stack, OFTrue).good ())
    {
      DcmObject *obj = stack.top ();
      if (obj->ident () == EVR_item || obj->ident () == EVR_dirRecord)
        continue;
      add_tag_line (tags, obj, stack.card ());
    }
  return tags;
}

void
read_windows (DcmDataset *ds, PxImage *image)
{
  unsigned long nc = 0, nw = 0;
  DcmElement *ec = nullptr, *ew = nullptr;

  if (ds->findAndGetElement (DCM_WindowCenter, ec).good ())
    nc = ec->getVM ();
  if (ds->findAndGetElement (DCM_WindowWidth, ew).good ())
    nw = ew->getVM ();
  unsigned long n = nc < nw ? nc : nw;
  unsigned long nlut = 0;
  DcmSequenceOfItems *luts = nullptr;
  if (ds->findAndGetSequence (DCM_VOILUTSequence, luts).good () && luts)
    nlut = luts->card ();
  if (n + nlut == 0)
    return;

  image->windows = g_new0 (PxWindowPreset, n + nlut);
  for (unsigned long i = 0; i < n; i++)
    {
      Float64 c = 0, w = 0;
      OFString explanation;
      if (ds->findAndGetFloat64 (DCM_WindowCenter, c, i).bad ()
          || ds->findAndGetFloat64 (DCM_WindowWidth, w, i).bad () || !(w > 0)
          || !std::isfinite (c) || !std::isfinite (w))
        continue; // DS accepts "nan" and "inf"; such a window cannot be drawn
      PxWindowPreset *p = &image->windows[image->n_windows++];
      p->center = c;
      p->width = w;
      if (ds->findAndGetOFString (DCM_WindowCenterWidthExplanation, explanation, i).good ()
          && !explanation.empty ())
        p->explanation = g_strdup (explanation.c_str ());
    }
  // A VOI LUT is offered as the window that spans its input range (first mapped value,
  // number of entries), which is what a linear viewer can do with it.
  for (unsigned long i = 0; i < nlut; i++)
    {
      DcmItem *lut = luts->getItem (i);
      Uint16 entries = 0;
      Sint32 first = 0;
      Uint16 ufirst = 0;
      OFString explanation;
      if (lut == nullptr || lut->findAndGetUint16 (DCM_LUTDescriptor, entries, 0).bad ())
        continue;
      if (lut->findAndGetSint32 (DCM_LUTDescriptor, first, 1).bad ())
        {
          if (lut->findAndGetUint16 (DCM_LUTDescriptor, ufirst, 1).bad ())
            continue;
          first = ufirst;
        }
      double count = entries == 0 ? 65536.0 : entries;
      PxWindowPreset *p = &image->windows[image->n_windows++];
      p->center = first + count / 2.0;
      p->width = count;
      lut->findAndGetOFString (DCM_LUTExplanation, explanation);
      p->explanation = g_strdup_printf ("VOI LUT%s%s", explanation.empty () ? "" : ": ",
                                        explanation.c_str ());
    }
}

// Copies the decoded first frame (DCMTK's intermediate representation) to floats.
template <typename T>
void
copy_samples (const void *data, float *out, size_t n, double slope, double intercept)
{
  const T *in = static_cast<const T *> (data);
  for (size_t i = 0; i < n; i++)
    out[i] = static_cast<float> (static_cast<double> (in[i]) * slope + intercept);
}

bool
copy_inter_data (const DiPixel *px, PxImage *image, double slope, double intercept)
{
  size_t n = static_cast<size_t> (image->width) * static_cast<size_t> (image->height);
  if (px == nullptr || px->getData () == nullptr || px->getCount () < n)
    return false;
  const void *d = px->getData ();
  switch (px->getRepresentation ())
    {
    case EPR_Uint8:  copy_samples<Uint8> (d, image->pixels, n, slope, intercept); break;
    case EPR_Sint8:  copy_samples<Sint8> (d, image->pixels, n, slope, intercept); break;
    case EPR_Uint16: copy_samples<Uint16> (d, image->pixels, n, slope, intercept); break;
    case EPR_Sint16: copy_samples<Sint16> (d, image->pixels, n, slope, intercept); break;
    case EPR_Uint32: copy_samples<Uint32> (d, image->pixels, n, slope, intercept); break;
    case EPR_Sint32: copy_samples<Sint32> (d, image->pixels, n, slope, intercept); break;
    default: return false;
    }
  return true;
}

PxImage *
load (const char *path, GError **error)
{
  ensure_codecs ();

  DcmFileFormat ff;
  OFCondition st = ff.loadFile (path, EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                                ERM_autoDetect);
  if (st.bad ())
    {
      // DCMTK says "I/O suspension or premature end of stream" for a file that stops
      // early: said in plain words here.
      if (st == EC_StreamNotifyClient)
        px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                            "cannot read DICOM: the file ends before its data does "
                            "(truncated, or an incomplete copy)");
      else
        px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path, "cannot read DICOM: %s", st.text ());
      return nullptr;
    }
  DcmDataset *ds = ff.getDataset ();
  E_TransferSyntax xfer = ds->getOriginalXfer ();
  DcmXfer xf (xfer);

  Uint16 rows = 0, cols = 0, alloc = 0, stored = 0, spp = 1, pixrep = 0;
  if (ds->findAndGetUint16 (DCM_Rows, rows).bad ()
      || ds->findAndGetUint16 (DCM_Columns, cols).bad ())
    {
      px_image_set_error (error, PX_IMAGE_ERROR_FORMAT, path,
                          "DICOM file without an image (no Rows/Columns)");
      return nullptr;
    }
  if (!px_image_check_size (cols, rows, path, error))
    return nullptr;
  ds->findAndGetUint16 (DCM_BitsAllocated, alloc);
  ds->findAndGetUint16 (DCM_BitsStored, stored);
  ds->findAndGetUint16 (DCM_SamplesPerPixel, spp);
  ds->findAndGetUint16 (DCM_PixelRepresentation, pixrep);
  if (alloc == 0 || alloc > 32 || stored == 0 || stored > alloc || spp == 0 || spp > 4)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                          "invalid pixel description (bits allocated %u, stored %u, "
                          "samples per pixel %u)", alloc, stored, spp);
      return nullptr;
    }

  DcmElement *pixel_elem = nullptr;
  if (ds->findAndGetElement (DCM_PixelData, pixel_elem).bad () || pixel_elem == nullptr)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_FORMAT, path, "DICOM file has no pixel data");
      return nullptr;
    }

  // The header's description and frame count before a JPEG 2000 frame replaces them.
  // The tag list shows the file as it is, so it is taken first.
  g_autofree char *photometric = dup_string (ds, DCM_PhotometricInterpretation);
  Sint32 frames_declared = 1;
  if (ds->findAndGetSint32 (DCM_NumberOfFrames, frames_declared).bad () || frames_declared < 1)
    frames_declared = 1;
  g_autoptr (GPtrArray) tags = collect_tags (ff.getMetaInfo ());
  {
    GPtrArray *body = collect_tags (ds);
    for (guint i = 0; i < body->len; i++)
      g_ptr_array_add (tags, g_strdup (static_cast<char *> (body->pdata[i])));
    g_ptr_array_unref (body);
  }
  E_TransferSyntax image_xfer = EXS_Unknown;

  // Decompress (or just byte-swap) into explicit little endian; the codec's own message
  // is the most useful reason when that fails.
  if (is_jpeg2000 (xfer))
    {
      PxJ2kFrame frame = { cols, rows, spp, alloc };
      if (!decode_jpeg2000 (path, ds, pixel_elem, xfer, frames_declared, frame, error))
        return nullptr;
      pixel_elem = nullptr; // deleted: the dataset holds the decoded frame now
      image_xfer = EXS_LittleEndianExplicit;
    }
  else if (xf.isEncapsulated ())
    {
      const Uint8 *frag = nullptr;
      Uint32 frag_len = 0;
      if (is_dcmjpeg_syntax (xfer)
          && !(first_fragment (pixel_elem, xfer, frag, frag_len)
               && jpeg_fragment_reaches_sof (frag, frag_len)))
        {
          px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                              "cannot decode %s pixel data: the first fragment is not a "
                              "JPEG stream (SOI, tables, frame header)", xf.getXferName ());
          return nullptr;
        }
      st = ds->chooseRepresentation (EXS_LittleEndianExplicit, nullptr);
      if (st.bad () || !ds->canWriteXfer (EXS_LittleEndianExplicit))
        {
          px_image_set_error (error, st.bad () ? PX_IMAGE_ERROR_CORRUPT
                                               : PX_IMAGE_ERROR_UNSUPPORTED,
                              path, "cannot decode %s pixel data: %s", xf.getXferName (),
                              st.bad () ? st.text () : "no decoder for this transfer syntax");
          return nullptr;
        }
    }
  else
    {
      // Uncompressed: the declared size must be there (first frame at least).
      unsigned long long need = (unsigned long long) rows * cols * spp * alloc;
      need = (need + 7) / 8;
      Uint32 have = pixel_elem->getLength ();
      if (have < need)
        {
          px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                              "truncated pixel data: %lu bytes, the header declares "
                              "%llu for one frame", (unsigned long) have, need);
          return nullptr;
        }
    }

  // Rescale slope/intercept are applied here in float precision; DCMTK only applies a
  // Modality LUT sequence (its integer intermediate would round fractional rescales).
  DcmSequenceOfItems *mlut = nullptr;
  bool has_mlut = ds->findAndGetSequence (DCM_ModalityLUTSequence, mlut).good ()
                  && mlut != nullptr && mlut->card () > 0;
  double slope = 1.0, intercept = 0.0;
  if (!has_mlut)
    {
      Float64 v;
      if (ds->findAndGetFloat64 (DCM_RescaleSlope, v).good () && v != 0.0 && std::isfinite (v))
        slope = v;
      if (ds->findAndGetFloat64 (DCM_RescaleIntercept, v).good () && std::isfinite (v))
        intercept = v;
    }
  unsigned long flags = has_mlut ? 0 : CIF_IgnoreModalityTransformation;
  if (image_xfer == EXS_Unknown)
    image_xfer = ds->getCurrentXfer ();
  std::unique_ptr<DicomImage> dimg (new DicomImage (ds, image_xfer, flags, 0, 1));
  if (dimg->getStatus () != EIS_Normal)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path, "cannot decode the image: %s",
                          DicomImage::getString (dimg->getStatus ()));
      return nullptr;
    }
  if (!dimg->isMonochrome ())
    {
      std::unique_ptr<DicomImage> mono (dimg->createMonochromeImage ());
      if (!mono || mono->getStatus () != EIS_Normal)
        {
          px_image_set_error (error, PX_IMAGE_ERROR_UNSUPPORTED, path,
                              "cannot convert the colour image to grey");
          return nullptr;
        }
      dimg = std::move (mono);
      slope = 1.0;
      intercept = 0.0;
    }
  if (dimg->getWidth () != cols || dimg->getHeight () != rows)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                          "decoded size %lu×%lu does not match the header %u×%u",
                          dimg->getWidth (), dimg->getHeight (), cols, rows);
      return nullptr;
    }

  PxImage *image = px_image_new_sized (path, PX_FORMAT_DICOM, cols, rows, error);
  if (image == nullptr)
    return nullptr;
  if (!copy_inter_data (dimg->getInterData (), image, slope, intercept))
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                          "decoded pixel data is missing or short");
      px_image_free (image);
      return nullptr;
    }
  // A finite but huge slope or intercept (DS "1e300") overflows float: refuse it rather
  // than hand infinities to every consumer of modality units.
  for (size_t i = 0, n = (size_t) cols * rows; i < n; i++)
    if (!std::isfinite (image->pixels[i]))
      {
        px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path,
                            "rescale slope %g and intercept %g take pixel values beyond "
                            "the float range", slope, intercept);
        px_image_free (image);
        return nullptr;
      }

  unsigned long frames = std::max (dimg->getNumberOfFrames (), (unsigned long) frames_declared);
  image->bits_allocated = alloc;
  image->bits_stored = stored;
  image->photometric = g_steal_pointer (&photometric);
  image->monochrome1 = image->photometric && strcmp (image->photometric, "MONOCHROME1") == 0;
  image->transfer_syntax = g_strdup (xf.getXferID ());
  image->decoder = g_strdup (decoder_name (xfer, xf).c_str ());
  image->format_detail = g_strdup_printf ("DICOM %s%s", xf.getXferName (),
                                          frames > 1 ? " (first frame of several)" : "");
  Float64 v;
  for (int i = 0; i < 2; i++)
    {
      if (ds->findAndGetFloat64 (DCM_PixelSpacing, v, i).good () && v > 0)
        image->pixel_spacing[i] = v;
      if (ds->findAndGetFloat64 (DCM_ImagerPixelSpacing, v, i).good () && v > 0)
        image->imager_pixel_spacing[i] = v;
    }
  image->patient_id = dup_string (ds, DCM_PatientID);
  image->patient_name = dup_string (ds, DCM_PatientName);
  image->patient_sex = dup_string (ds, DCM_PatientSex);
  image->patient_age = dup_string (ds, DCM_PatientAge);
  image->study_date = dup_string (ds, DCM_StudyDate);
  image->view_position = dup_string (ds, DCM_ViewPosition);
  image->modality = dup_string (ds, DCM_Modality);
  read_windows (ds, image);
  image->tags = static_cast<GPtrArray *> (g_steal_pointer (&tags));
  px_image_update_range (image);
  return image;
}

} // namespace

extern "C" PxImage *
px_dicom_load (const char *path, GError **error)
{
  try
    {
      return load (path, error);
    }
  catch (const std::bad_alloc &)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_TOO_LARGE, path, "out of memory while decoding");
    }
  catch (const std::exception &e)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path, "DICOM decoder failed: %s",
                          e.what ());
    }
  catch (...)
    {
      px_image_set_error (error, PX_IMAGE_ERROR_CORRUPT, path, "DICOM decoder failed");
    }
  return nullptr;
}
