// The quality dashboard's data: GET /api/projects/:id/quality.

export interface QualityFigures {
  tags: number | null;
  boxF1: number | null;
  polygonF1: number | null;
  dice: number | null;
}

export interface QualityReport {
  annotators: { id: string; name: string; items: number; agreement: QualityFigures; accuracy: QualityFigures }[];
  labels: { label: string; agreement: QualityFigures; accuracy: QualityFigures; n: number }[];
  confusion: { labels: string[]; matrix: number[][] };
  dice: number[];
  /** metric: "agreement.tags", "accuracy.dice", ... */
  trend: { day: string; annotatorId: string; metric: string; mean: number; n: number }[];
  task: { fleissKappa: number | null; krippendorffAlpha: number | null; percentAgreement: number | null; items: number };
}
