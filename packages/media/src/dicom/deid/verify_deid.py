"""Independent check of a de-identified DICOM file with pydicom (used by deidentify.test.ts).

Usage: verify_deid.py ORIGINAL DEIDENTIFIED TABLE_JSON SECRET PROJECT_ID
Prints one JSON object. Reports tags and reasons only, never attribute values (no PHI).
"""
import hashlib
import hmac
import json
import re
import sys

import pydicom

orig_path, out_path, table_path, secret, project = sys.argv[1:6]
rows = json.load(open(table_path))
exact, patterns = {}, []
for r in rows:
    m = re.match(r"^\(([0-9A-Fa-fXx]{4}),([0-9A-Fa-fXx]{4})\)$", r["tag"].strip())
    if not m:
        continue
    t = (m.group(1) + m.group(2)).upper()
    if "X" in t:
        patterns.append((re.compile("^" + t.replace("X", "[0-9A-F]") + "$"), r["basicProfile"]))
    else:
        exact[t] = r["basicProfile"]


def action(tag):
    t = "%08X" % int(tag)
    if t in exact:
        return exact[t]
    for rx, a in patterns:
        if rx.match(t):
            return a
    return None


def new_uid(uid):
    d = hmac.new(secret.encode(), (project + ":" + uid).encode(), hashlib.sha256).digest()
    return "2.25." + str(int.from_bytes(d[:16], "big"))


def values(elem):
    v = elem.value
    if v is None:
        return []
    if isinstance(v, (list, pydicom.multival.MultiValue)):
        return [str(x) for x in v]
    return [str(v)]


def is_empty(elem):
    if elem.VR == "SQ":
        return len(elem.value) == 0
    v = elem.value
    return v is None or v == "" or v == b"" or (hasattr(v, "__len__") and len(v) == 0)


orig = pydicom.dcmread(orig_path, force=True)
out = pydicom.dcmread(out_path)

orig_uids = set()
for e in list(orig.iterall()) + list(orig.file_meta):
    a = action(e.tag)
    if e.VR == "UI" and a is not None and "U" in a:
        for v in values(e):
            if v and not v.startswith("1.2.840.10008."):
                orig_uids.add(v)

violations = []
uid_leaks = 0
remapped_ok = True
private = 0
for e in list(out.iterall()) + list(out.file_meta):
    tag = "%08X" % int(e.tag)
    if e.tag.is_private:
        private += 1
        continue
    for v in values(e):
        if v in orig_uids:
            uid_leaks += 1
    if e.VR == "UI":
        a = action(e.tag)
        if a is not None and "U" in a:
            for v in values(e):
                if v and not v.startswith("1.2.840.10008.") and not v.startswith("2.25."):
                    remapped_ok = False
    a = action(e.tag)
    if a is None or tag in ("00100010", "00100020"):
        continue
    if a == "X":
        violations.append(tag + " present (X)")
    elif a == "Z" and not is_empty(e):
        violations.append(tag + " not empty (Z)")
    elif a == "D" and e.VR not in ("SQ", "UI") and is_empty(e):
        violations.append(tag + " empty (D)")
    elif a == "X/Z" and not is_empty(e):
        violations.append(tag + " not empty (X/Z)")
    elif e.VR == "SQ" and "/" in a and "U" not in a and not is_empty(e):
        violations.append(tag + " sequence kept (" + a + ")")

# Top-level attributes that D (or a combined code with D) replaced must not keep their value.
for e in orig:
    a = action(e.tag)
    if a is None or "D" not in a or e.VR in ("SQ", "UI") or e.tag in out and False:
        continue
    tag = "%08X" % int(e.tag)
    if tag in ("00100020",) or e.tag not in out or is_empty(e):
        continue
    if values(out[e.tag]) == values(e) and values(e) not in (["ANONYMIZED"], ["19000101"], ["0"]):
        violations.append(tag + " kept its original value (" + a + ")")

expected_pseudonym = hmac.new(
    secret.encode(),
    ("patient:" + project + ":" + str(orig.get("PatientID", "") or "").strip()).encode(),
    hashlib.sha256,
).hexdigest()[:16]

has_px = "PixelData" in orig
print(
    json.dumps(
        {
            "violations": violations,
            "uidLeaks": uid_leaks,
            "origUidCount": len(orig_uids),
            "remappedOk": remapped_ok,
            "private": private,
            "patientIdentityRemoved": str(out.get("PatientIdentityRemoved", "")),
            "method": str(out.get("DeidentificationMethod", "")),
            "methodCode": [str(i.CodeValue) + "/" + str(i.CodingSchemeDesignator) for i in out.get("DeidentificationMethodCodeSequence", [])],
            "patientIdOk": str(out.get("PatientID", "")) == expected_pseudonym,
            "patientNameOk": str(out.get("PatientName", "")) == expected_pseudonym,
            "sopUidExpected": str(out.SOPInstanceUID) == new_uid(str(orig.SOPInstanceUID)),
            "metaSopMatches": str(out.file_meta.MediaStorageSOPInstanceUID) == str(out.SOPInstanceUID),
            "sopClassKept": str(out.SOPClassUID) == str(orig.SOPClassUID),
            "transferSyntaxKept": str(out.file_meta.TransferSyntaxUID) == str(orig.file_meta.TransferSyntaxUID),
            "hasPixelData": has_px,
            "pixelEqual": (not has_px) or (bytes(out.PixelData) == bytes(orig.PixelData)),
            "studyUid": str(out.get("StudyInstanceUID", "")),
            "seriesUid": str(out.get("SeriesInstanceUID", "")),
            "sopUid": str(out.SOPInstanceUID),
        }
    )
)
