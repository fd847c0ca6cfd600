"""Reads an RTSTRUCT with pydicom and compares each ContourData with numpy's
affine · (x − 0.5, y − 0.5, k, 1) for the pixel points given as JSON on stdin (test helper)."""
import json
import sys

import numpy as np
import pydicom


def main():
    ds = pydicom.dcmread(sys.argv[1])
    expected = json.load(sys.stdin)
    affine = np.array(expected["affine"], dtype=float)
    max_diff = 0.0
    contours = []
    by_number = {int(rc.ReferencedROINumber): rc for rc in ds.ROIContourSequence}
    for roi in expected["rois"]:
        rc = by_number[roi["number"]]
        seq = getattr(rc, "ContourSequence", [])
        if len(seq) != len(roi["contours"]):
            raise SystemExit("contour count differs")
        for item, want in zip(seq, roi["contours"]):
            pts = np.array(want["points"], dtype=float)
            vox = np.column_stack([pts[:, 0] - 0.5, pts[:, 1] - 0.5, np.full(len(pts), want["slice"]), np.ones(len(pts))])
            lps = (affine @ vox.T).T[:, :3]
            got = np.array([float(v) for v in item.ContourData]).reshape(-1, 3)
            if got.shape != lps.shape:
                raise SystemExit("point count differs")
            max_diff = max(max_diff, float(np.abs(got - lps).max()))
            contours.append({
                "type": item.ContourGeometricType,
                "count": int(item.NumberOfContourPoints),
                "image": item.ContourImageSequence[0].ReferencedSOPInstanceUID,
            })
    rfor = ds.ReferencedFrameOfReferenceSequence[0]
    study = rfor.RTReferencedStudySequence[0]
    series = study.RTReferencedSeriesSequence[0]
    print(json.dumps({
        "sopClass": ds.SOPClassUID,
        "modality": ds.Modality,
        "maxDiff": max_diff,
        "contours": contours,
        "frameOfReference": rfor.FrameOfReferenceUID,
        "roiFrameOfReference": [s.ReferencedFrameOfReferenceUID for s in ds.StructureSetROISequence],
        "study": study.ReferencedSOPInstanceUID,
        "series": series.SeriesInstanceUID,
        "images": [i.ReferencedSOPInstanceUID for i in series.ContourImageSequence],
        "names": [s.ROIName for s in ds.StructureSetROISequence],
        "colors": [[int(v) for v in rc.ROIDisplayColor] for rc in ds.ROIContourSequence],
        "types": [o.RTROIInterpretedType for o in ds.RTROIObservationsSequence],
    }))


main()
