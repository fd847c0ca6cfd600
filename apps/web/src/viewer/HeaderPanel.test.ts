import { describe, expect, it } from 'vitest';
import { type DicomHeaderElement, filterHeader } from './HeaderPanel';

const el = (tag: string, name: string, value: string | null, items?: DicomHeaderElement[][]): DicomHeaderElement => ({ tag, vr: items ? 'SQ' : 'LO', name, value, ...(items ? { items } : {}) });

const HEADER: DicomHeaderElement[] = [
  el('(0008,0060)', 'Modality', 'CT'),
  el('(0010,0010)', 'PatientName', 'PSEUDO^A1B2'),
  el('(5200,9230)', 'PerFrameFunctionalGroupsSequence', null, [
    [el('(0020,9113)', 'PlanePositionSequence', null, [[el('(0020,0032)', 'ImagePositionPatient', '99.5\\-301.5\\-159')]])],
    [el('(0020,9113)', 'PlanePositionSequence', null, [[el('(0020,0032)', 'ImagePositionPatient', '99.5\\-301.5\\-149')]])],
  ]),
];

describe('filterHeader', () => {
  it('keeps everything for an empty query', () => {
    expect(filterHeader(HEADER, '  ')).toBe(HEADER);
  });

  it('matches names and values case-insensitively', () => {
    expect(filterHeader(HEADER, 'patientname').map((e) => e.tag)).toEqual(['(0010,0010)']);
    expect(filterHeader(HEADER, 'pseudo^').map((e) => e.tag)).toEqual(['(0010,0010)']);
  });

  it('matches tags with or without punctuation', () => {
    expect(filterHeader(HEADER, '(0008,0060)').map((e) => e.name)).toEqual(['Modality']);
    expect(filterHeader(HEADER, '00080060').map((e) => e.name)).toEqual(['Modality']);
    expect(filterHeader(HEADER, '0008,0060').map((e) => e.name)).toEqual(['Modality']);
  });

  it('keeps a sequence with only its matching descendants', () => {
    const out = filterHeader(HEADER, '-149');
    expect(out.map((e) => e.tag)).toEqual(['(5200,9230)']);
    expect(out[0]!.items![0]).toEqual([]);
    expect(out[0]!.items![1]![0]!.items![0]![0]!.value).toBe('99.5\\-301.5\\-149');
  });

  it('keeps all items of a sequence that matches itself', () => {
    const out = filterHeader(HEADER, 'PerFrame');
    expect(out[0]).toBe(HEADER[2]);
  });

  it('finds nothing for a query nothing holds', () => {
    expect(filterHeader(HEADER, 'Doe^Peter')).toEqual([]);
  });
});
