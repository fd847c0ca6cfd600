"""Compares decoded pixels of two DICOM files with pydicom (used by the de-identification tests).

Usage: compare_pixels.py A B [A2 B2 ...]
Prints one JSON object per pair: readable, transfer syntax of B, pixel equality (or why not),
and whether B is a Part-10 file with a preamble. Never prints attribute values.
"""
import json
import sys

import numpy as np
import pydicom

args = sys.argv[1:]
for a_path, b_path in zip(args[::2], args[1::2]):
    res = {"a": a_path.rsplit("/", 1)[-1]}
    try:
        a = pydicom.dcmread(a_path, force=True)
        if "TransferSyntaxUID" not in a.file_meta:
            a.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
        b = pydicom.dcmread(b_path)  # not forced: B must be a proper Part-10 file
        res["readable"] = True
        res["syntax"] = str(b.file_meta.TransferSyntaxUID)
        kws = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
        in_a = any(k in a for k in kws)
        in_b = any(k in b for k in kws)
        res["hasPixels"] = in_b
        if in_a and in_b:
            try:
                pa = a.pixel_array
            except Exception as e:  # noqa: BLE001
                res["pixels"] = "reference-undecodable:" + type(e).__name__
            else:
                pb = b.pixel_array
                res["pixels"] = "equal" if (pa.shape == pb.shape and np.array_equal(pa, pb)) else "DIFFERENT"
        else:
            res["pixels"] = "none" if not in_a and not in_b else "MISSING"
    except Exception as e:  # noqa: BLE001
        res["readable"] = False
        res["error"] = type(e).__name__
    print(json.dumps(res))
