// Default SNOMED CT codes for a segment's Segmented Property Category and Type when the label
// schema gives none. Every code here is taken from the DICOM context groups CID 7150
// (Segmentation Property Categories) and CID 7151 (Segmentation Property Types); the unit
// tests check each value and meaning against pydicom's copy of the DICOM code tables.
import type { CodedConcept } from '../write/source.js';

const sct = (value: string, meaning: string): CodedConcept => ({ value, scheme: 'SCT', meaning });

/** CID 7150 categories used by the defaults. */
export const SEG_CATEGORIES = {
  anatomicalStructure: sct('123037004', 'Anatomical Structure'),
  morphologicallyAbnormalStructure: sct('49755003', 'Morphologically Abnormal Structure'),
  tissue: sct('85756007', 'Tissue'),
} as const;

/** Words (lower case, whole words) → property type, for abnormal structures. Checked first, so "liver tumour" is a neoplasm. */
const ABNORMAL: readonly (readonly [readonly string[], CodedConcept])[] = [
  [['tumour', 'tumor', 'tumours', 'tumors', 'neoplasm', 'cancer', 'carcinoma', 'metastasis', 'metastases'], sct('108369006', 'Neoplasm')],
  [['nodule', 'nodules'], sct('27925004', 'Nodule')],
  [['cyst', 'cysts'], sct('367643001', 'Cyst')],
  [['mass', 'masses', 'lesion', 'lesions'], sct('4147007', 'Mass')],
];

/** Words → property type, for anatomical structures. */
const ANATOMY: readonly (readonly [readonly string[], CodedConcept])[] = [
  [['liver'], sct('10200004', 'Liver')],
  [['kidney', 'kidneys'], sct('64033007', 'Kidney')],
  [['lung', 'lungs'], sct('39607008', 'Lung')],
  [['heart'], sct('80891009', 'Heart')],
  [['spleen'], sct('78961009', 'Spleen')],
  [['brain'], sct('12738006', 'Brain')],
  [['pancreas'], sct('15776009', 'Pancreas')],
  [['prostate'], sct('41216001', 'Prostate')],
  [['aorta'], sct('15825003', 'Aorta')],
  [['stomach'], sct('69695003', 'Stomach')],
  [['gallbladder'], sct('28231008', 'Gallbladder')],
  [['esophagus', 'oesophagus'], sct('32849002', 'Esophagus')],
  [['trachea'], sct('44567001', 'Trachea')],
  [['bladder'], sct('89837001', 'Bladder')],
  [['colon'], sct('71854001', 'Colon')],
  [['vertebra', 'vertebrae'], sct('51282000', 'Vertebra')],
  [['artery', 'arteries'], sct('51114001', 'Artery')],
  [['vein', 'veins'], sct('29092000', 'Vein')],
  [['vessel', 'vessels'], sct('59820001', 'Blood vessel')],
];

/** Words → property type, for tissues (category Tissue). */
const TISSUE: readonly (readonly [readonly string[], CodedConcept])[] = [
  [['bone', 'bones'], sct('272673000', 'Bone')],
  [['muscle', 'muscles'], sct('71616004', 'Muscle')],
];

function lookup(words: Set<string>, table: typeof ANATOMY): CodedConcept | null {
  for (const [keys, concept] of table) if (keys.some((k) => words.has(k))) return concept;
  return null;
}

/**
 * Default Segmented Property Category and Type for a segment label: abnormal-structure words
 * (tumour, nodule, cyst, mass, lesion…) give Morphologically Abnormal Structure; organ names from a
 * small table give Anatomical Structure; bone and muscle give Tissue; anything else is Tissue/Tissue.
 */
export function defaultSegmentCodes(label: string): { category: CodedConcept; type: CodedConcept } {
  const words = new Set(label.toLowerCase().split(/[^a-z]+/).filter(Boolean));
  const abnormal = lookup(words, ABNORMAL);
  if (abnormal) return { category: SEG_CATEGORIES.morphologicallyAbnormalStructure, type: abnormal };
  const organ = lookup(words, ANATOMY);
  if (organ) return { category: SEG_CATEGORIES.anatomicalStructure, type: organ };
  const tissue = lookup(words, TISSUE);
  if (tissue) return { category: SEG_CATEGORIES.tissue, type: tissue };
  return { category: SEG_CATEGORIES.tissue, type: sct('85756007', 'Tissue') };
}

/** Every concept the defaults can produce, with the context group it is taken from (for tests). */
export function allDefaultCodes(): { concept: CodedConcept; cid: 7150 | 7151 }[] {
  const types = [...ABNORMAL, ...ANATOMY, ...TISSUE].map(([, c]) => c);
  return [
    ...Object.values(SEG_CATEGORIES).map((concept) => ({ concept, cid: 7150 as const })),
    ...types.map((concept) => ({ concept, cid: 7151 as const })),
    { concept: sct('85756007', 'Tissue'), cid: 7151 as const },
  ];
}
