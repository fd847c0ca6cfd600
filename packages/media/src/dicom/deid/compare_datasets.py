# Compares pairs of DICOM files attribute by attribute (used by fast-path.test.ts).
# argv[1]: JSON list of [a, b] paths. b (the byte-level output) is read without force.
# Differences ignored: group length elements (gggg,0000) and the top-level Specific Character Set.
# Prints JSON: one entry per pair {"diffs": [...], "readable": bool}; diffs name tags only.
import json
import sys

import pydicom
from pydicom.sequence import Sequence


def norm(elem):
    v = elem.value
    if isinstance(v, bytes):
        return v.rstrip(b"\0 ")
    if isinstance(v, (list, pydicom.multival.MultiValue)):
        return [norm_scalar(x) for x in v]
    return norm_scalar(v)


def norm_scalar(x):
    if isinstance(x, bytes):
        return x.rstrip(b"\0 ")
    if isinstance(x, str):
        return x.rstrip("\0 ").strip()
    if x is None:
        return ""
    return str(x).strip()


def compare(a, b, path, diffs):
    ta = {e.tag for e in a if e.tag.element != 0}
    tb = {e.tag for e in b if e.tag.element != 0}
    for t in sorted(ta ^ tb):
        diffs.append(f"{path}{t} only in {'dcmjs' if t in ta else 'bytes'}")
    for t in sorted(ta & tb):
        ea, eb = a[t], b[t]
        if path == "" and t == 0x00080005:
            continue  # Specific Character Set: dcmjs always writes ISO_IR 192 (checked separately)
        if ea.VR == "SQ" or eb.VR == "SQ":
            # pydicom gives a zero-length sequence of explicit length as a plain empty list
            if not all(isinstance(e.value, (Sequence, list)) for e in (ea, eb)):
                diffs.append(f"{path}{t} sequence vs non-sequence")
                continue
            if len(ea.value) != len(eb.value):
                diffs.append(f"{path}{t} item count {len(ea.value)} vs {len(eb.value)}")
                continue
            for i, (ia, ib) in enumerate(zip(ea.value, eb.value)):
                compare(ia, ib, f"{path}{t}[{i}].", diffs)
            continue
        if norm(ea) != norm(eb):
            diffs.append(f"{path}{t} value differs")


out = []
for a_path, b_path in json.load(open(sys.argv[1])):
    diffs = []
    try:
        b = pydicom.dcmread(b_path)
    except Exception as e:  # noqa: BLE001
        out.append({"readable": False, "diffs": [type(e).__name__]})
        continue
    a = pydicom.dcmread(a_path, force=True)
    compare(a.file_meta, b.file_meta, "meta.", diffs)
    compare(a, b, "", diffs)
    if "PixelData" in a and "PixelData" in b and a.PixelData != b.PixelData:
        diffs.append("PixelData bytes differ")
    out.append({"readable": True, "diffs": diffs, "charset": [str(x.get("SpecificCharacterSet", "")) for x in (a, b)]})
print(json.dumps(out))
