"""Builds a small TID 1500 report the way other tools write them (test helper): a TID 1410
group with a group-level Image Region and two measurements, a length in inches and a group
with only an unsupported measurement. Usage: foreign_sr.py OUT IMAGE_SOP_UID"""
import sys

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid


def code(value, scheme, meaning):
    c = Dataset()
    c.CodeValue, c.CodingSchemeDesignator, c.CodeMeaning = value, scheme, meaning
    return Sequence([c])


def item(rel, vt, name=None, **kw):
    d = Dataset()
    d.RelationshipType, d.ValueType = rel, vt
    if name:
        d.ConceptNameCodeSequence = code(*name)
    for k, v in kw.items():
        setattr(d, k, v)
    return d


def num(name, value, unit):
    mv = Dataset()
    mv.NumericValue = value
    mv.MeasurementUnitsCodeSequence = code(*unit)
    return item("CONTAINS", "NUM", name, MeasuredValueSequence=Sequence([mv]))


def scoord(name, graphic, data, sop):
    ref = Dataset()
    ref.ReferencedSOPClassUID, ref.ReferencedSOPInstanceUID = "1.2.840.10008.5.1.4.1.1.2", sop
    img = item("SELECTED FROM", "IMAGE", ReferencedSOPSequence=Sequence([ref]))
    return item("CONTAINS", "SCOORD", name, GraphicType=graphic, GraphicData=data, ContentSequence=Sequence([img]))


def group(children):
    return item("CONTAINS", "CONTAINER", ("125007", "DCM", "Measurement Group"), ContinuityOfContent="SEPARATE", ContentSequence=Sequence(children))


out, sop = sys.argv[1], sys.argv[2]
g1 = group([
    item("HAS OBS CONTEXT", "TEXT", ("112039", "DCM", "Tracking Identifier"), TextValue="ROI 1"),
    item("CONTAINS", "CODE", ("121071", "DCM", "Finding"), ConceptCodeSequence=code("52988006", "SCT", "Lesion")),
    scoord(("111030", "DCM", "Image Region"), "POLYLINE", [1.0, 1.0, 9.0, 1.0, 9.0, 7.0, 1.0, 1.0], sop),
    num(("42798000", "SCT", "Area"), "12.5", ("mm2", "UCUM", "mm2")),
    num(("373098007", "SCT", "Mean"), "40", ("[hnsf'U]", "UCUM", "Hounsfield unit")),
])
g2 = group([num(("410668003", "SCT", "Length"), "2", ("[in_i]", "UCUM", "inch"))])
g3 = group([num(("81827009", "SCT", "Diameter"), "3", ("mm", "UCUM", "mm"))])
ds = Dataset()
ds.SOPClassUID, ds.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.88.22", generate_uid()
ds.Modality, ds.ValueType = "SR", "CONTAINER"
ds.ConceptNameCodeSequence = code("126000", "DCM", "Imaging Measurement Report")
ds.ContentSequence = Sequence([item("CONTAINS", "CONTAINER", ("126010", "DCM", "Imaging Measurements"), ContentSequence=Sequence([g1, g2, g3]))])
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds.file_meta = meta
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.save_as(out, write_like_original=False)
