"""Walks a TID 1500 SR with pydicom and prints its measurement groups as JSON (test helper).

For SCOORD3D items it also prints numpy's affine · (i, j, k, 1) for the voxel points given on
stdin, so that the test compares the writer's LPS with an independent computation."""
import json
import sys

import numpy as np
import pydicom


def code(seq):
    c = seq[0]
    return [c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning]


def coords(item):
    out = {"valueType": item.ValueType, "graphicType": item.GraphicType, "data": [float(v) for v in item.GraphicData]}
    if item.ValueType == "SCOORD":
        img = item.ContentSequence[0]
        ref = img.ReferencedSOPSequence[0]
        out["relationship"] = img.RelationshipType
        out["sop"] = ref.ReferencedSOPInstanceUID
        out["sopClass"] = ref.ReferencedSOPClassUID
    else:
        out["frameOfReference"] = item.ReferencedFrameOfReferenceUID
    if "ConceptNameCodeSequence" in item:
        out["concept"] = code(item.ConceptNameCodeSequence)
    return out


def main():
    ds = pydicom.dcmread(sys.argv[1])
    expected = json.load(sys.stdin)
    affine = np.array(expected["affine"], dtype=float)
    lps = [(affine @ np.array([*v, 1.0]))[:3].tolist() for v in expected["voxels"]]
    root = {
        "sopClass": ds.SOPClassUID,
        "modality": ds.Modality,
        "completion": ds.CompletionFlag,
        "verification": ds.VerificationFlag,
        "title": code(ds.ConceptNameCodeSequence),
        "template": ds.ContentTemplateSequence[0].TemplateIdentifier,
        "evidence": [r.ReferencedSOPInstanceUID for s in ds.CurrentRequestedProcedureEvidenceSequence for se in s.ReferencedSeriesSequence for r in se.ReferencedSOPSequence],
        "rootItems": [code(i.ConceptNameCodeSequence) for i in ds.ContentSequence],
        "groups": [],
        "lps": lps,
    }
    measurements = [i for i in ds.ContentSequence if code(i.ConceptNameCodeSequence)[0] == "126010"][0]
    for g in measurements.ContentSequence:
        group = {"concept": code(g.ConceptNameCodeSequence), "nums": [], "texts": {}, "uids": {}, "codes": {}, "regions": []}
        for it in g.ContentSequence:
            name = code(it.ConceptNameCodeSequence)
            if it.ValueType == "TEXT":
                group["texts"][name[0]] = it.TextValue
            elif it.ValueType == "UIDREF":
                group["uids"][name[0]] = it.UID
            elif it.ValueType == "CODE":
                group["codes"][name[0]] = code(it.ConceptCodeSequence)
            elif it.ValueType == "NUM":
                mv = it.MeasuredValueSequence[0]
                group["nums"].append({
                    "concept": name,
                    "value": float(mv.NumericValue),
                    "unit": code(mv.MeasurementUnitsCodeSequence),
                    "coords": [coords(c) for c in getattr(it, "ContentSequence", []) if c.RelationshipType == "INFERRED FROM"],
                })
            elif it.ValueType in ("SCOORD", "SCOORD3D"):
                group["regions"].append(coords(it))
        root["groups"].append(group)
    print(json.dumps(root))


main()
