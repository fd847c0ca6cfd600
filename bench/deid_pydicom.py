#!/usr/bin/python3
"""Reference DICOM de-identifier in plain pydicom, for bench/deid.mjs.

Applies the PS3.15 Annex E Basic Application Level Confidentiality Profile from
confidentiality_profile_attributes.json with the same conservative rules as
packages/media/src/dicom/deid/deidentify.ts (see its header comment):

  * code contains U (X/Z/U*)              -> keep, remap UIDs (inside sequences too)
  * sequence with a combined code          -> Z (zero-length sequence)
  * otherwise code contains D              -> D (dummy value of the VR; UIDs remapped)
  * otherwise combined code (X/Z)          -> Z
  * single codes X / Z / D / K; C as D; D/U/K on a sequence recurse into its items
  * attributes absent from the table are kept (sequences cleaned inside)
  * private (odd-group) attributes removed
  * PatientID -> HMAC pseudonym (also used as PatientName); elements after Pixel Data removed
  * UID remap: 2.25.<int of first 128 bits of HMAC-SHA256(secret, projectId + ':' + uid)>

It is a straightforward pydicom implementation (read, walk, write), not tuned.

usage: deid_pydicom.py <in_dir> <out_dir> --secret S --project P [--table path.json]
Prints one JSON line: {"files": n, "bytes": n, "seconds": s} (seconds = the processing loop).
"""
import argparse
import hashlib
import hmac
import json
import os
import re
import sys
import time

import pydicom
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag

DICOM_ROOT = "1.2.840.10008."
PIXEL_DATA = Tag(0x7FE0, 0x0010)
PATIENT_ID = Tag(0x0010, 0x0020)
PATIENT_NAME = Tag(0x0010, 0x0010)
DEID_METHOD = "DICOM PS3.15 E.1 Basic Application Confidentiality Profile"
META_REMOVE = [0x00020016, 0x00020017, 0x00020018, 0x00020100, 0x00020102]
TEXT_DUMMY = "ANONYMIZED"
DUMMY_BY_VR = {
    "AE": TEXT_DUMMY, "AS": "000Y", "CS": TEXT_DUMMY, "DA": "19000101", "DS": "0", "DT": "19000101000000",
    "IS": "0", "LO": TEXT_DUMMY, "LT": TEXT_DUMMY, "SH": TEXT_DUMMY, "ST": TEXT_DUMMY, "TM": "000000",
    "UC": TEXT_DUMMY, "UR": TEXT_DUMMY, "UT": TEXT_DUMMY, "FL": 0.0, "FD": 0.0, "SL": 0, "SS": 0, "UL": 0,
    "US": 0, "SV": 0, "UV": 0, "PN": "ANONYMOUS", "OB": b"\0\0", "OW": b"\0\0", "UN": b"\0\0",
}


def load_table(path):
    exact, patterns, private_action = {}, [], None
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)
    for row in rows:
        tag_text, action = row["tag"].strip(), row["basicProfile"].strip()
        if re.search(r"gggg is odd", tag_text, re.I):
            private_action = action
            continue
        m = re.fullmatch(r"\(([0-9A-Fa-fXx]{4}),([0-9A-Fa-fXx]{4})\)", tag_text)
        if not m:
            raise ValueError("unexpected tag in profile table")
        hex8 = (m.group(1) + m.group(2)).upper()
        if "X" in hex8:
            patterns.append((re.compile("^" + hex8.replace("X", "[0-9A-F]") + "$"), action))
        else:
            exact[int(hex8, 16)] = action
    return exact, patterns, private_action


def effective_action(action, vr):
    parts = action.replace("*", "").split("/")
    if "U" in parts:
        return "U"
    if len(parts) == 1:
        return "D" if parts[0] == "C" else parts[0]
    if vr == "SQ":
        return "Z"
    if "D" in parts:
        return "D"
    if "Z" in parts:
        return "Z"
    return "X"


class Deidentifier:
    def __init__(self, table, secret, project):
        self.exact, self.patterns, self.private_action = table
        self.key = secret.encode()
        self.project = project
        self.uid_cache = {}

    def lookup(self, tag):
        action = self.exact.get(tag)
        if action is not None:
            return action
        hex8 = "%08X" % tag
        for regex, act in self.patterns:
            if regex.match(hex8):
                return act
        return None

    def remap_uid(self, uid):
        digest = hmac.new(self.key, f"{self.project}:{uid}".encode(), hashlib.sha256).digest()
        return "2.25." + str(int.from_bytes(digest[:16], "big"))

    def pseudonym(self, patient_id):
        msg = f"patient:{self.project}:{patient_id}".encode()
        return hmac.new(self.key, msg, hashlib.sha256).hexdigest()[:16]

    def remap_value(self, value):
        uid = str(value).rstrip("\0 ")
        if uid == "" or uid.startswith(DICOM_ROOT):
            return value
        return self.remap_uid(uid)

    def dataset(self, ds):
        for elem in list(ds):
            tag = int(elem.tag)
            if (tag >> 16) % 2 == 1:
                if effective_action(self.private_action, elem.VR) == "X":
                    del ds[elem.tag]
                continue
            if tag == PIXEL_DATA:
                continue
            if tag == PATIENT_ID:
                elem.value = self.pseudonym(str(elem.value or "").strip())
                continue
            action = self.lookup(tag)
            eff = effective_action(action, elem.VR) if action else "K"
            if eff == "X":
                del ds[elem.tag]
            elif eff == "Z":
                elem.value = Sequence([]) if elem.VR == "SQ" else None
            elif elem.VR == "SQ":
                for item in elem.value:
                    self.dataset(item)
            elif elem.VR == "UI" and eff in ("U", "D"):
                if elem.VM > 1:
                    elem.value = [self.remap_value(v) for v in elem.value]
                elif elem.VM == 1:
                    elem.value = self.remap_value(elem.value)
            elif eff in ("D", "U"):
                elem.value = DUMMY_BY_VR.get(elem.VR)

    def file(self, src, dst):
        ds = pydicom.dcmread(src)
        for elem in list(ds):
            if int(elem.tag) > PIXEL_DATA:
                del ds[elem.tag]
        pseudo = self.pseudonym(str(ds.get(PATIENT_ID).value if PATIENT_ID in ds else "").strip())
        for tag in (PATIENT_ID, PATIENT_NAME):
            if tag in ds:
                del ds[tag]
        self.dataset(ds)
        ds.add_new(PATIENT_ID, "LO", pseudo)
        ds.add_new(PATIENT_NAME, "PN", pseudo)
        ds.add_new(0x00120062, "CS", "YES")
        ds.add_new(0x00120063, "LO", DEID_METHOD)
        code = Dataset()
        code.add_new(0x00080100, "SH", "113100")
        code.add_new(0x00080102, "SH", "DCM")
        code.add_new(0x00080104, "LO", "Basic Application Confidentiality Profile")
        ds.add_new(0x00120064, "SQ", Sequence([code]))
        meta = ds.file_meta
        for tag in META_REMOVE:
            if tag in meta:
                del meta[tag]
        meta.ImplementationClassUID = self.remap_uid("caliper:pydicom-bench")
        meta.ImplementationVersionName = "PYDICOM_DEID"
        if "SOPInstanceUID" in ds:
            meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(dst, write_like_original=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("in_dir")
    ap.add_argument("out_dir")
    ap.add_argument("--secret", required=True)
    ap.add_argument("--project", required=True)
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument(
        "--table",
        default=os.path.join(here, "..", "..", "shared", "data", "standards", "confidentiality_profile_attributes.json"),
    )
    args = ap.parse_args()
    deid = Deidentifier(load_table(args.table), args.secret, args.project)
    os.makedirs(args.out_dir, exist_ok=True)
    names = sorted(n for n in os.listdir(args.in_dir) if n.endswith(".dcm"))
    t0 = time.perf_counter()
    total = 0
    for name in names:
        src = os.path.join(args.in_dir, name)
        total += os.path.getsize(src)
        deid.file(src, os.path.join(args.out_dir, name))
    print(json.dumps({"files": len(names), "bytes": total, "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    sys.exit(main())
