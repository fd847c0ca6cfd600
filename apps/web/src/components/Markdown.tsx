import type { ReactNode } from 'react';

// A deliberately tiny Markdown renderer: headings, bullet and numbered lists, bold, italic,
// inline code, fenced code blocks and paragraphs. It builds React elements, never HTML
// strings, so any HTML in the source is shown as text.

type Block =
  | { type: 'heading'; level: number; text: string }
  | { type: 'list'; ordered: boolean; items: string[] }
  | { type: 'code'; text: string }
  | { type: 'para'; text: string };

export function parseBlocks(src: string): Block[] {
  const lines = src.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let para: string[] = [];
  const flush = () => {
    if (para.length) blocks.push({ type: 'para', text: para.join(' ') });
    para = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (/^\s*```/.test(line)) {
      flush();
      const code: string[] = [];
      i++;
      while (i < lines.length && !/^\s*```/.test(lines[i] ?? '')) code.push(lines[i++] ?? '');
      blocks.push({ type: 'code', text: code.join('\n') });
      continue;
    }
    const h = /^(#{1,6})\s+(.*)$/.exec(line);
    if (h) {
      flush();
      blocks.push({ type: 'heading', level: h[1]!.length, text: h[2]!.replace(/\s+#+\s*$/, '') });
      continue;
    }
    const li = /^\s*([-*+]|\d+[.)])\s+(.*)$/.exec(line);
    if (li) {
      flush();
      const ordered = /\d/.test(li[1]!);
      const last = blocks[blocks.length - 1];
      if (last && last.type === 'list' && last.ordered === ordered) last.items.push(li[2]!);
      else blocks.push({ type: 'list', ordered, items: [li[2]!] });
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    // A continuation line directly after a list item belongs to that item.
    const last = blocks[blocks.length - 1];
    if (!para.length && last && last.type === 'list' && /^\s{2,}\S/.test(line)) {
      last.items[last.items.length - 1] += ' ' + line.trim();
      continue;
    }
    para.push(line.trim());
  }
  flush();
  return blocks;
}

export function renderInline(text: string, keyPrefix = 'i'): ReactNode[] {
  const out: ReactNode[] = [];
  // Order matters: code first (its content is literal), then bold, then italic.
  const re = /(`+)([^`]+?)\1|\*\*([^*]+?)\*\*|__([^_]+?)__|\*([^*\s][^*]*?)\*|(?<![\w])_([^_\s][^_]*?)_(?![\w])/g;
  let last = 0;
  let m: RegExpExecArray | null;
  let n = 0;
  while ((m = re.exec(text))) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const key = `${keyPrefix}-${n++}`;
    if (m[2] !== undefined) out.push(<code key={key}>{m[2]}</code>);
    else if (m[3] !== undefined || m[4] !== undefined) out.push(<strong key={key}>{renderInline(m[3] ?? m[4]!, key)}</strong>);
    else out.push(<em key={key}>{renderInline(m[5] ?? m[6]!, key)}</em>);
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function Markdown({ source, testId }: { source: string; testId?: string }) {
  const blocks = parseBlocks(source);
  return (
    <div className="markdown" data-testid={testId}>
      {blocks.map((b, i) => {
        switch (b.type) {
          case 'heading': {
            const level = Math.min(b.level + 1, 4);
            const Tag = `h${level}` as 'h2' | 'h3' | 'h4';
            return <Tag key={i}>{renderInline(b.text, `h${i}`)}</Tag>;
          }
          case 'list': {
            const items = b.items.map((it, j) => <li key={j}>{renderInline(it, `l${i}-${j}`)}</li>);
            return b.ordered ? <ol key={i}>{items}</ol> : <ul key={i}>{items}</ul>;
          }
          case 'code':
            return (
              <pre key={i}>
                <code>{b.text}</code>
              </pre>
            );
          default:
            return <p key={i}>{renderInline(b.text, `p${i}`)}</p>;
        }
      })}
    </div>
  );
}
