// Small SVG charts for the quality dashboard: a confusion-matrix heatmap, a histogram and a
// line chart of daily means. Plain SVG keeps the bundle small and the pixels testable.

const W = 560;

/** Rows: reference label; columns: the annotator's label. Cell shade ∝ the share of its row. */
export function ConfusionHeatmap({ labels, matrix }: { labels: string[]; matrix: number[][] }) {
  if (labels.length === 0) return <p className="muted">No tag labels compared yet.</p>;
  const cell = Math.max(28, Math.min(56, Math.floor(360 / labels.length)));
  const left = 120;
  const top = 90;
  const size = labels.length * cell;
  return (
    <svg className="chart" width={left + size + 10} height={top + size + 10} role="img" aria-label="Confusion matrix" data-testid="quality-confusion">
      {labels.map((l, i) => (
        <g key={`c${l}`}>
          <text x={left + i * cell + cell / 2} y={top - 8} transform={`rotate(-40 ${left + i * cell + cell / 2} ${top - 8})`} className="chart-label">
            {l}
          </text>
          <text x={left - 8} y={top + i * cell + cell / 2 + 4} textAnchor="end" className="chart-label">
            {l}
          </text>
        </g>
      ))}
      {matrix.map((row, r) => {
        const total = row.reduce((a, b) => a + b, 0) || 1;
        return row.map((v, c) => {
          const share = v / total;
          return (
            <g key={`${r}-${c}`}>
              <rect x={left + c * cell} y={top + r * cell} width={cell - 2} height={cell - 2} rx={3} fill={r === c ? `rgba(46,125,50,${0.12 + 0.88 * share})` : `rgba(198,40,40,${share === 0 ? 0.04 : 0.15 + 0.85 * share})`}>
                <title>{`reference ${labels[r]} → annotator ${labels[c]}: ${v}`}</title>
              </rect>
              <text x={left + c * cell + cell / 2 - 1} y={top + r * cell + cell / 2 + 4} textAnchor="middle" className={share > 0.55 ? 'chart-value on-dark' : 'chart-value'}>
                {v}
              </text>
            </g>
          );
        });
      })}
      <text x={left + size / 2} y={12} textAnchor="middle" className="chart-axis">
        annotator →
      </text>
      <text x={12} y={top + size / 2} transform={`rotate(-90 12 ${top + size / 2})`} textAnchor="middle" className="chart-axis">
        reference →
      </text>
    </svg>
  );
}

/** Histogram of values in [0, 1] (Dice) in `bins` equal bins. */
export function Histogram({ values, bins = 20, label }: { values: number[]; bins?: number; label: string }) {
  if (values.length === 0) return <p className="muted">No {label} values yet.</p>;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.max(0, Math.floor(v * bins)))]!++;
  const max = Math.max(...counts);
  const h = 160;
  const bw = (W - 50) / bins;
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return (
    <svg className="chart" width={W} height={h + 40} role="img" aria-label={`${label} histogram`} data-testid="quality-histogram">
      {counts.map((c, i) => (
        <rect key={i} x={40 + i * bw} y={10 + h - (c / max) * h} width={bw - 2} height={(c / max) * h} className="chart-bar">
          <title>{`${(i / bins).toFixed(2)}–${((i + 1) / bins).toFixed(2)}: ${c}`}</title>
        </rect>
      ))}
      <line x1={40 + median * (W - 50)} x2={40 + median * (W - 50)} y1={6} y2={h + 12} className="chart-median" />
      <text x={40 + median * (W - 50) + 4} y={18} className="chart-label">
        median {median.toFixed(3)}
      </text>
      {[0, 0.25, 0.5, 0.75, 1].map((t) => (
        <text key={t} x={40 + t * (W - 50)} y={h + 30} textAnchor="middle" className="chart-label">
          {t}
        </text>
      ))}
      <text x={4} y={18} className="chart-label">
        {max}
      </text>
    </svg>
  );
}

const PALETTE = ['#1e88e5', '#e53935', '#43a047', '#fb8c00', '#8e24aa', '#00897b', '#6d4c41', '#3949ab'];

/** One line per series (e.g. annotator) over days, values in [0, 1]. */
export function TrendChart({ series }: { series: { name: string; points: { day: string; value: number }[] }[] }) {
  const days = [...new Set(series.flatMap((s) => s.points.map((p) => p.day)))].sort();
  if (days.length === 0) return <p className="muted">No scores over time yet.</p>;
  const h = 160;
  const x = (d: string) => 40 + (days.length === 1 ? (W - 60) / 2 : (days.indexOf(d) / (days.length - 1)) * (W - 60));
  const y = (v: number) => 10 + (1 - v) * h;
  return (
    <div>
      <svg className="chart" width={W} height={h + 40} role="img" aria-label="Trend over time" data-testid="quality-trend">
        {[0, 0.5, 1].map((t) => (
          <g key={t}>
            <line x1={40} x2={W - 20} y1={y(t)} y2={y(t)} className="chart-grid" />
            <text x={34} y={y(t) + 4} textAnchor="end" className="chart-label">
              {t}
            </text>
          </g>
        ))}
        {series.map((s, i) => (
          <g key={s.name}>
            <polyline fill="none" stroke={PALETTE[i % PALETTE.length]} strokeWidth={2} points={s.points.map((p) => `${x(p.day)},${y(p.value)}`).join(' ')} />
            {s.points.map((p) => (
              <circle key={p.day} cx={x(p.day)} cy={y(p.value)} r={3.5} fill={PALETTE[i % PALETTE.length]}>
                <title>{`${s.name} ${p.day}: ${p.value.toFixed(3)}`}</title>
              </circle>
            ))}
          </g>
        ))}
        {[days[0]!, days[days.length - 1]!].map((d) => (
          <text key={d} x={x(d)} y={h + 30} textAnchor="middle" className="chart-label">
            {d}
          </text>
        ))}
      </svg>
      <div className="chart-legend">
        {series.map((s, i) => (
          <span key={s.name}>
            <i style={{ background: PALETTE[i % PALETTE.length] }} /> {s.name}
          </span>
        ))}
      </div>
    </div>
  );
}
